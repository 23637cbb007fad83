//! # ee2e-spec — the executable specification of EE2E
//!
//! The protocol logic of EE2E, written once: message types, the [`Suite`] of cryptographic
//! primitives it needs, and sans-IO [`Client`] and [`Server`] state machines parameterised
//! by a [`Profile`] (`seed` or `hardened`). The model checker drives these machines with a
//! symbolic suite, the implementation with a concrete one. `SPEC.md` beside this crate is
//! the normative text; this code follows it section by section.
#![deny(missing_docs)]

pub mod client;
pub mod derive;
pub mod error;
pub mod message;
pub mod phone;
pub mod profile;
pub mod registration;
pub mod server;
pub mod session;
pub mod store;
pub mod suite;
pub mod transport;
pub mod window;

pub use client::{Client, ClientEvent, ClientOutput, ClientState, Persist, Registration, Saved};
pub use error::{
    CallError, ClientError, QueueBound, Rejection, RestoreError, ServerError, StoreError, UsageError,
};
pub use message::{
    Ack, DirectoryEntry, ErrorCode, Message, MessageType, RegistrationProof, Sealed, Transport,
};
pub use phone::{InvalidPhone, Phone};
pub use profile::{Fix, Params, Profile, UnknownProfile, Wire};
pub use server::{Confirmation, Delivery, Server, ServerEvent, ServerOutput};
pub use session::{Direction, Mode, Role, Session, SessionState};
pub use store::{MemoryStore, OtpCutoff, PendingOtp, QueueUsage, Store};
pub use suite::{CryptoError, Fresh, Input, SigScheme, Suite};
pub use transport::KeyTransport;
