//! # ee2e-spec — the executable specification of EE2E
//!
//! The protocol logic of EE2E, written once: message types, the [`Suite`] of cryptographic
//! primitives it needs, and sans-IO [`Client`] and [`Server`] state machines parameterised
//! by a [`Profile`] (`seed` or `hardened`). The model checker drives these machines with a
//! symbolic suite, the implementation with a concrete one. `SPEC.md` beside this crate is
//! the normative text; this code follows it section by section.
#![deny(missing_docs)]

mod client;
mod derive;
mod error;
mod message;
mod phone;
mod profile;
mod registration;
mod server;
mod session;
mod store;
mod suite;
mod transport;
mod window;

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
pub use session::{Direction, Mode, Opened, Outstanding, Role, Session, SessionState};
pub use store::{MemoryStore, OtpCutoff, PendingOtp, QueueUsage, Store};
pub use suite::{CryptoError, Fresh, Input, SigScheme, Suite};
pub use transport::KeyTransport;
pub use window::{ReplayWindow, WindowError};

/// The protocol's fixed limits and parameters, each stated in SPEC.md ("Limits").
pub mod limits {
    pub use crate::phone::{PHONE_MAX_DIGITS, PHONE_MIN_DIGITS};
    pub use crate::profile::{
        DELIVERY_BATCH_BYTES, DELIVERY_BATCH_MESSAGES, MAX_OTP_ATTEMPTS, MAX_OTP_PHONES, MAX_OTP_REQUESTS,
        MAX_PLAINTEXT, MAX_QUEUED_BYTES, MAX_QUEUED_BYTES_PER_SENDER, MAX_QUEUED_MESSAGES,
        MAX_QUEUED_PER_SENDER, MAX_SESSIONS_PER_PEER, MAX_TRANSPORTS_PER_PEER, OTP_REQUEST_WINDOW_MS,
        OTP_SWEEP_BATCH, OTP_TTL_MS, PBKDF2_ITERATIONS, REPLAY_WINDOW,
    };
}

/// The protocol's constructions one by one, below the [`Client`] and [`Server`] API:
/// labels, registration values, directory and transport inputs, session ids, message keys
/// and a session's key `K`.
///
/// For conformance runners, benchmarks, the model and tests that must compute or check an
/// intermediate value on its own. An application never needs it: the state machines apply
/// every construction and check in order, and a construction used alone checks nothing.
pub mod hazmat {
    pub use crate::derive::{
        RegistrationValues, labels, phone_value, registration_label, session_id, sig_scheme, sign_entry,
        transport_label, verify_entry, with_directory_input, with_possession_input, with_transport_input,
    };
    pub use crate::session::DirectionKeys;

    use crate::{Session, Suite};

    /// The session key `K` a key transport established (secret).
    pub fn session_key<S: Suite>(session: &Session<S>) -> &S::Value {
        &session.key
    }
}
