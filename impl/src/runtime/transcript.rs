//! The transcript: everything that happened at the nodes, in order, as typed records.

use ee2e_spec::{ClientError, ClientEvent, MessageType, Phone, ServerError, ServerEvent, StoreError};

use crate::codec::{DecodeError, EncodeError};
use crate::keystore::KeystoreError;
use crate::suite::ConcreteSuite;

use super::network::Address;

/// Something that went wrong outside the protocol's own checks: bytes that are not a
/// message, an envelope nobody could take, a keystore write that failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Incident {
    /// The bytes did not decode; the receiver ignored them (the server sends no reply).
    Undecodable {
        /// Log index of the envelope.
        envelope: usize,
        /// Why.
        error: DecodeError,
    },
    /// The envelope was for an offline or unknown client and was lost.
    Undeliverable {
        /// Log index of the envelope.
        envelope: usize,
    },
    /// The server got an envelope from a non-client address and ignored it.
    NotFromClient {
        /// Log index of the envelope.
        envelope: usize,
    },
    /// A node's output could not be encoded and was not sent.
    Unencodable {
        /// The message type.
        kind: MessageType,
        /// Why.
        error: EncodeError,
    },
    /// A client's keystore could not be written.
    Keystore(KeystoreError),
    /// A stored message was delivered but the server could not remove it from its queue; it
    /// will be delivered again at the next `Connect` (SPEC.md §9.2).
    Unconfirmed {
        /// Log index of the delivered envelope.
        envelope: usize,
        /// Why the removal failed.
        error: ServerError,
    },
    /// The server's sweep of expired OTP rows failed (the step still ran; SPEC.md §5.1).
    Sweep(ServerError),
    /// The group transaction of several server steps could not be opened or committed
    /// (SPEC.md §14, group commit): when it failed to commit, the steps' writes were rolled
    /// back and none of their outputs was sent.
    Commit {
        /// Server steps in the group (0: the group could not be opened).
        steps: usize,
        /// Why.
        error: StoreError,
    },
}

/// What a record says.
#[derive(Debug)]
#[non_exhaustive]
pub enum Entry {
    /// The node received an envelope that decoded (log index, sender, message type).
    Received {
        /// Log index of the envelope.
        envelope: usize,
        /// The network sender.
        from: Address,
        /// The decoded message's type.
        kind: MessageType,
    },
    /// A client event (contains plaintexts and keys: never log it as is).
    Client(ClientEvent<ConcreteSuite>),
    /// A client rejected a message of type `kind`.
    ClientError {
        /// The rejected message's type.
        kind: MessageType,
        /// The failed check.
        error: ClientError,
    },
    /// A server event.
    Server(ServerEvent),
    /// An OTP was handed to OTP delivery for this phone (the code is not recorded).
    SmsSent(Phone),
    /// Something went wrong outside the protocol checks.
    Incident(Incident),
}

/// One record: when, where, what.
#[derive(Debug)]
pub struct Record {
    /// Position in the transcript.
    pub index: usize,
    /// The runtime clock, in milliseconds.
    pub at_ms: u64,
    /// The node it happened at.
    pub node: Address,
    /// What happened.
    pub entry: Entry,
}

impl Record {
    /// Whether this record is a failure: a client error, a server rejection, an error reply
    /// received by a client, or an incident.
    pub fn is_failure(&self) -> bool {
        matches!(
            &self.entry,
            Entry::ClientError { .. }
                | Entry::Incident(_)
                | Entry::Client(ClientEvent::ServerError(_))
                | Entry::Server(ServerEvent::Rejected { .. } | ServerEvent::BatchFailed { .. })
        )
    }

    /// A one-line description without secrets (no plaintexts, keys or OTPs).
    pub fn describe(&self) -> String {
        match &self.entry {
            Entry::Received { envelope, from, kind } => {
                format!("received {kind:?} from {from} (envelope {envelope})")
            }
            Entry::Client(event) => describe_client_event(event),
            Entry::ClientError { kind, error } => format!("rejected {kind:?}: {error}"),
            Entry::Server(event) => describe_server_event(event),
            Entry::SmsSent(phone) => format!("OTP sent by SMS to {phone}"),
            Entry::Incident(incident) => match incident {
                Incident::Undecodable { envelope, error } => {
                    format!("ignored undecodable envelope {envelope}: {error}")
                }
                Incident::Undeliverable { envelope } => {
                    format!("envelope {envelope} undeliverable (offline)")
                }
                Incident::NotFromClient { envelope } => {
                    format!("ignored envelope {envelope}: not from a client")
                }
                Incident::Unencodable { kind, error } => format!("could not encode {kind:?}: {error}"),
                Incident::Keystore(error) => format!("keystore write failed: {error}"),
                Incident::Unconfirmed { envelope, error } => {
                    format!("stored envelope {envelope} delivered but not removed from the queue: {error}")
                }
                Incident::Sweep(error) => format!("could not sweep expired OTP rows: {error}"),
                Incident::Commit { steps: 0, error } => {
                    format!("could not open a group transaction (steps committed one by one): {error}")
                }
                Incident::Commit { steps, error } => {
                    format!(
                        "group commit of {steps} server steps failed, their outputs were not sent: {error}"
                    )
                }
            },
        }
    }
}

/// Describes a client event without its secrets.
pub fn describe_client_event(event: &ClientEvent<ConcreteSuite>) -> String {
    match event {
        ClientEvent::Registered => "registered".into(),
        ClientEvent::PeerKeyVerified(peer) => format!("verified the directory entry of {peer}"),
        ClientEvent::SessionEstablished { peer, role, .. } => {
            format!("session with {peer} established as {role:?}")
        }
        ClientEvent::MessageSent { peer, id, seq, plaintext } => {
            format!("sent message #{id} to {peer} ({} bytes, seq {seq:?})", plaintext.len())
        }
        ClientEvent::MessageAccepted { from, seq, plaintext } => {
            format!("accepted a message from {from} ({} bytes, seq {seq:?})", plaintext.len())
        }
        ClientEvent::AckAccepted { peer, id } => format!("ACK from {peer} verified for message #{id}"),
        ClientEvent::ServerError(code) => format!("server replied error {code:?}"),
    }
}

/// Describes a server event.
pub fn describe_server_event(event: &ServerEvent) -> String {
    match event {
        ServerEvent::OtpIssued(phone) => format!("issued an OTP for {phone}"),
        ServerEvent::Registered(phone) => format!("registered {phone}"),
        ServerEvent::KeyServed { from, peer } => format!("served {peer}'s signed entry to {from}"),
        ServerEvent::Relayed { from, to, kind } => format!("relayed {kind:?} from {from} to {to}"),
        ServerEvent::Stored { from, to, kind } => format!("stored {kind:?} from {from} for offline {to}"),
        ServerEvent::Online { phone, delivered } => format!("{phone} online; delivered {delivered} stored"),
        ServerEvent::NextBatch { phone, delivered } => {
            format!("delivered {delivered} more stored to {phone}")
        }
        ServerEvent::BatchFailed { phone, error } => {
            format!("could not read the next stored batch for {phone}: {error}")
        }
        ServerEvent::Offline(phone) => format!("{phone} offline"),
        ServerEvent::Rejected { from, error } => format!("rejected a message from {from}: {error}"),
    }
}
