//! # ee2e-model — the EE2E protocol under a Dolev-Yao attacker
//!
//! A stateright model whose clients and server are the `ee2e-spec` state machines
//! instantiated with [`SymbolicSuite`] (perfect cryptography over terms). The attacker is the
//! network: it sees every message, delivers, drops, reorders and replays them, and injects
//! messages it can build from what it knows, within a bound.
#![deny(missing_docs)]

pub mod check;
pub mod config;
pub mod describe;
mod knowledge;
pub mod mermaid;
pub mod model;
pub mod properties;
pub mod run;
pub mod spec_refs;
pub mod state;
pub mod story;
pub mod suite;
pub mod svg;
mod synth;
pub mod term;
pub mod trace;
pub mod view;

pub use config::{Bounds, Config, Scenario, Threat};
pub use model::{Action, Ee2eModel};
pub use suite::SymbolicSuite;
