//! # ee2e-model — the EE2E protocol under a Dolev-Yao attacker
//!
//! A stateright model whose clients and server are the `ee2e-spec` state machines
//! instantiated with [`SymbolicSuite`] (perfect cryptography over terms). The attacker is the
//! network: it sees every message, delivers, drops, reorders and replays them, and injects
//! messages it can build from what it knows, within a bound.
#![deny(missing_docs)]

pub mod check;
mod config;
mod describe;
mod knowledge;
mod mermaid;
mod model;
pub mod properties;
pub mod run;
mod spec_refs;
mod state;
mod story;
mod suite;
mod svg;
mod synth;
mod term;
mod trace;
pub mod view;

pub use config::{Bounds, Config, Scenario, Threat, UnknownName};
pub use model::{Action, Ee2eModel};
pub use suite::SymbolicSuite;

/// What a report shows of a run: a counterexample told as a [`Story`](report::Story), drawn
/// as a Mermaid or SVG sequence diagram, with the SPEC.md sections it cites.
pub mod report {
    pub use crate::describe::who;
    pub use crate::mermaid::render as mermaid;
    pub use crate::spec_refs::{
        Expected, LIMITS_HEADING, SpecRef, anchor, erratum_heading, erratum_ref, expectation, sentence,
    };
    pub use crate::story::*;
    pub use crate::svg::render as svg;
}

/// The symbolic vocabulary under the model: its state, packets and terms, the parties, and
/// the trace search. For code that translates a model trace into concrete messages (the
/// replay harness, the attack proxy) or inspects states in tests; a report needs none of it.
pub mod symbolic {
    pub use crate::config::{A, B, CLIENTS, E, HONEST, SERVER, TICK_MS, owner, party_name, phone};
    pub use crate::model::{params, start_time};
    pub use crate::state::{Ghost, Hop, Packet, Progress, State, Sym, SymClient, SymServer, Wire};
    pub use crate::suite::SymRng;
    pub use crate::term::{Name, Node, Party, Purpose, Term};
    pub use crate::trace::{Goal, shortest, shortest_until};
}
