//! Errors of the protocol core: one variant per check of SPEC.md.

use crate::message::{ErrorCode, MessageType};
use crate::phone::Phone;
use crate::suite::CryptoError;

/// A failed check on the server side. Each variant is named in SPEC.md where the check is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, strum::IntoStaticStr)]
#[non_exhaustive]
pub enum ServerError {
    /// The message has the other profile's layout.
    #[error("message of another profile")]
    WrongProfile,
    /// The server does not accept this message type.
    #[error("unexpected {0:?} message at the server")]
    UnexpectedMessage(MessageType),
    /// The submitted public key is malformed or of an unsupported size.
    #[error("invalid public key in registration")]
    InvalidPublicKey,
    /// No OTP is pending for the phone.
    #[error("no registration pending for {0}")]
    NoPendingRegistration(Phone),
    /// The OTP is older than its lifetime.
    #[error("OTP for {0} has expired")]
    OtpExpired(Phone),
    /// The OTP has used up its attempts.
    #[error("too many failed attempts for {0}; OTP voided")]
    TooManyAttempts(Phone),
    /// The proof of possession does not verify under the submitted key.
    #[error("proof of possession does not verify")]
    BadPossessionProof,
    /// The sealed tag does not decrypt under the server key and the phone's label.
    #[error("sealed registration tag does not decrypt")]
    BadSealedTag,
    /// The tag differs from the one recomputed from the pending OTP.
    #[error("registration tag mismatch")]
    BadRegistrationTag,
    /// A presence message names another phone than the sender's address.
    #[error("presence message for {0} from another address")]
    SenderMismatch(Phone),
    /// The sender is not in the directory.
    #[error("{0} is not registered")]
    NotRegistered(Phone),
    /// The requested peer is not in the directory.
    #[error("unknown peer {0}")]
    UnknownPeer(Phone),
    /// E8: the phone asked for more OTPs than the request limit allows (SPEC.md §5.1).
    #[error("too many OTP requests for {0}; try again later")]
    RateLimited(Phone),
    /// The OTP tables hold rows for `MAX_OTP_PHONES` phones and `phone` is not one of them
    /// (SPEC.md §5.1 check 2); the reply is `RateLimited`.
    #[error("the OTP tables are full; no OTP for {0}, try again later")]
    OtpTableFull(Phone),
    /// The offline recipient's queue, or the sender's share of it, is at a bound (SPEC.md
    /// §9.2); nothing was stored.
    #[error("the offline queue of {to} is full ({bound})")]
    QueueFull {
        /// The offline recipient.
        to: Phone,
        /// Which bound the message would cross.
        bound: QueueBound,
    },
    /// The server's own signing operation failed.
    #[error("server signing failed: {0}")]
    Crypto(CryptoError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServerError {
    /// The variant's stable name (the vectors' normative error names).
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// The code sent to the client in the error reply. Registration failures share one code
    /// so that the reply does not say which part of the proof was wrong.
    pub fn code(&self) -> ErrorCode {
        match self {
            ServerError::WrongProfile
            | ServerError::UnexpectedMessage(_)
            | ServerError::SenderMismatch(_) => ErrorCode::BadRequest,
            ServerError::InvalidPublicKey => ErrorCode::InvalidPublicKey,
            ServerError::NoPendingRegistration(_) => ErrorCode::NoPendingRegistration,
            ServerError::OtpExpired(_) => ErrorCode::OtpExpired,
            ServerError::TooManyAttempts(_) => ErrorCode::TooManyAttempts,
            ServerError::BadPossessionProof | ServerError::BadSealedTag | ServerError::BadRegistrationTag => {
                ErrorCode::RegistrationRejected
            }
            ServerError::NotRegistered(_) => ErrorCode::NotRegistered,
            ServerError::UnknownPeer(_) => ErrorCode::UnknownPeer,
            ServerError::RateLimited(_) | ServerError::OtpTableFull(_) => ErrorCode::RateLimited,
            ServerError::QueueFull { .. } => ErrorCode::QueueFull,
            ServerError::Crypto(_) | ServerError::Store(_) => ErrorCode::Internal,
        }
    }

    /// Whether this failure counts a failed attempt against the pending OTP (E8) (SPEC.md
    /// §5.3 checks 7–8). A bad proof of possession does not, so that it cannot be used to
    /// void a victim's OTP without knowing it.
    pub fn counts_attempt(&self) -> bool {
        matches!(self, ServerError::BadSealedTag | ServerError::BadRegistrationTag)
    }
}

/// The offline-queue bound a message would cross (SPEC.md §9.2 checks 1–4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum QueueBound {
    /// `MAX_QUEUED_MESSAGES` messages in the recipient's queue.
    #[error("message count")]
    Messages,
    /// `MAX_QUEUED_BYTES` bytes in the recipient's queue.
    #[error("bytes")]
    Bytes,
    /// `MAX_QUEUED_PER_SENDER` messages from this sender.
    #[error("the sender's message count")]
    SenderMessages,
    /// `MAX_QUEUED_BYTES_PER_SENDER` bytes from this sender.
    #[error("the sender's bytes")]
    SenderBytes,
}

/// A failure of the server's store (SQLite in the implementation). The backend's own error
/// is kept as text so that the protocol core stays free of any database crate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, strum::IntoStaticStr)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be opened or set up (missing directory, permissions, a journal
    /// mode the file refuses, a schema newer than this build's).
    #[error("cannot open the store: {0}")]
    Open(String),
    /// The backend failed an operation (I/O error, lock timeout, full disk).
    #[error("store operation failed: {operation}: {detail}")]
    Backend {
        /// What the store was doing.
        operation: &'static str,
        /// The backend's error.
        detail: String,
    },
    /// A stored row does not read back as anything the store writes.
    #[error("corrupt store data: {0}")]
    Corrupt(String),
    /// A value does not fit the store's columns (a time or count beyond its integer type).
    #[error("value out of the store's range: {0}")]
    OutOfRange(String),
    /// The store's API was misused (a group transaction opened twice, or closed unopened).
    #[error("store misuse: {0}")]
    Misuse(&'static str),
    /// The store holds messages of another wire layout than the profile uses.
    #[error("the store encodes queued messages for the {store:?} wire, the profile uses {profile:?}")]
    WrongWire {
        /// The store's layout.
        store: crate::profile::Wire,
        /// The profile's.
        profile: crate::profile::Wire,
    },
}

impl StoreError {
    /// The variant's stable name.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// A failure of a client operation, by who is to blame: the caller ([`UsageError`]), the
/// message received ([`Rejection`]: a peer, the server or the network sent something the
/// checks refuse), or a local cryptographic operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The caller asked for something the client cannot do in its state.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// A received message failed a check of SPEC.md (§10.2); the client state is unchanged.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The client's own private-key or encryption operation failed.
    #[error("local crypto operation failed: {0}")]
    Crypto(CryptoError),
}

impl ClientError {
    /// The stable name of the failed check or misuse (the vectors' normative error names):
    /// the inner variant's, or `Crypto`.
    pub fn name(&self) -> &'static str {
        match self {
            ClientError::Usage(e) => e.into(),
            ClientError::Rejected(e) => e.into(),
            ClientError::Crypto(_) => "Crypto",
        }
    }
}

impl From<CallError> for ClientError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Usage(e) => ClientError::Usage(e),
            CallError::Crypto(e) => ClientError::Crypto(e),
        }
    }
}

/// What an operation the application calls (sealing a message, answering an OTP) can fail
/// with: nothing received is involved, so nothing is rejected.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The caller asked for something the client cannot do in its state.
    #[error(transparent)]
    Usage(#[from] UsageError),
    /// The client's own private-key or encryption operation failed.
    #[error("local crypto operation failed: {0}")]
    Crypto(CryptoError),
}

impl CallError {
    /// The stable name: the usage error's, or `Crypto`.
    pub fn name(&self) -> &'static str {
        match self {
            CallError::Usage(e) => e.into(),
            CallError::Crypto(_) => "Crypto",
        }
    }
}

/// API misuse, or a local limit the caller reached: the caller is to blame.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, strum::IntoStaticStr)]
#[non_exhaustive]
pub enum UsageError {
    /// The operation needs a completed registration.
    #[error("client is not registered")]
    NotRegistered,
    /// The operation is not possible in the registration's current state.
    #[error("no registration in progress")]
    NoRegistrationInProgress,
    /// No session with this peer to send in.
    #[error("no session with {0}")]
    NoSession(Phone),
    /// The plaintext to send is longer than `MAX_PLAINTEXT` (SPEC.md §3, §7.2).
    #[error("plaintext of {len} bytes is longer than the maximum {max}")]
    MessageTooLarge {
        /// The plaintext's length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The session has sealed sequence number `u64::MAX`, the last there is (SPEC.md §7.2);
    /// a new key exchange starts a new session.
    #[error("the session has used every sequence number")]
    SequenceExhausted,
    /// The client has recorded `MAX_TRANSPORTS_PER_PEER` key transports with this peer and
    /// starts no more (SPEC.md §6.2, §14).
    #[error("{max} key transports with {peer} recorded; no new session with it")]
    TooManyTransports {
        /// The peer.
        peer: Phone,
        /// The limit.
        max: usize,
    },
}

impl UsageError {
    /// The variant's stable name.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// A received message that fails a client check (SPEC.md §10.2): its sender, the server or
/// the network is to blame. The client's state is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, strum::IntoStaticStr)]
#[non_exhaustive]
pub enum Rejection {
    /// The message has the other profile's layout.
    #[error("message of another profile")]
    WrongProfile,
    /// A message the client does not accept, or not in its current state.
    #[error("unexpected {0:?} message at the client")]
    UnexpectedMessage(MessageType),
    /// The registration result names another phone or key than the one submitted.
    #[error("registration result does not match the submitted phone and key")]
    RegistrationMismatch,
    /// A directory entry carries a malformed public key.
    #[error("invalid public key for {0}")]
    InvalidPublicKey(Phone),
    /// A directory entry's server signature does not verify.
    #[error("directory signature for {0} does not verify")]
    BadDirectorySignature(Phone),
    /// A peer key arrived that was not asked for.
    #[error("unsolicited key for {0}")]
    UnexpectedPeerKey(Phone),
    /// The key-transport signature does not verify under the sender's key.
    #[error("key transport signature from {0} does not verify")]
    BadTransportSignature(Phone),
    /// The key-transport ciphertext does not decrypt.
    #[error("key transport does not decrypt")]
    TransportDecrypt,
    /// The transported key is not 32 bytes.
    #[error("transported session key has the wrong length")]
    InvalidSessionKey,
    /// A key transport with this session id was accepted before.
    #[error("replayed key transport")]
    ReplayedKeyTransport,
    /// A message or ACK from a peer the client has no session with.
    #[error("no session with {0}")]
    NoSession(Phone),
    /// No session with this id.
    #[error("unknown session")]
    UnknownSession,
    /// The session exists but belongs to another peer than the sender.
    #[error("session belongs to another peer than {0}")]
    SessionPeerMismatch(Phone),
    /// A message or ACK MAC does not verify.
    #[error("MAC verification failed")]
    BadMac,
    /// The sequence number was accepted before.
    #[error("replayed message (sequence number {0})")]
    ReplayedMessage(u64),
    /// The sequence number is older than the replay window.
    #[error("message too old for the replay window (sequence number {0})")]
    MessageTooOld(u64),
    /// The ciphertext does not decrypt (bad length or padding).
    #[error("message does not decrypt")]
    DecryptFailed,
    /// An ACK arrived for no outstanding message.
    #[error("ACK for no outstanding message")]
    UnexpectedAck,
    /// An ACK names a message whose MAC tag differs from the one sent (E6).
    #[error("ACK tag does not match the sent message")]
    AckMismatch,
    /// A seed ACK whose text is not `ACK`.
    #[error("malformed ACK text")]
    MalformedAck,
    /// The client has recorded `MAX_TRANSPORTS_PER_PEER` key transports with this peer and
    /// accepts no more (SPEC.md §6.4, §14).
    #[error("{max} key transports with {peer} recorded; no new session with it")]
    TooManyTransports {
        /// The peer.
        peer: Phone,
        /// The limit.
        max: usize,
    },
}

impl Rejection {
    /// The variant's stable name.
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// Why a client could not be rebuilt from what its keystore holds (SPEC.md §2.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RestoreError {
    /// The stored own entry names another phone or public key than the client's.
    #[error("the stored own entry is for another phone or key")]
    OwnEntryMismatch,
    /// A stored directory entry (own or peer) does not verify under the server key.
    #[error("a stored directory entry does not verify: {0}")]
    Entry(Rejection),
    /// Durable state is stored but no own entry: state exists only once registered.
    #[error("durable state without a registration")]
    NotRegistered,
    /// The state names a session whose key is not stored.
    #[error("no stored key for a session with {0}")]
    MissingSessionKey(Phone),
    /// A stored session does not fit the profile or its key is invalid.
    #[error("stored session with {peer}: {error}")]
    Session {
        /// The peer.
        peer: Phone,
        /// Why.
        error: ClientError,
    },
    /// More sessions with one peer than `MAX_SESSIONS_PER_PEER`.
    #[error("{count} stored sessions with {peer}, more than {max}")]
    TooManySessions {
        /// The peer.
        peer: Phone,
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// More recorded key transports with one peer than `MAX_TRANSPORTS_PER_PEER`.
    #[error("{count} recorded key transports with {peer}, more than {max}")]
    TooManyTransports {
        /// The peer.
        peer: Phone,
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// An outstanding message has a local id the counter has not reached.
    #[error("outstanding message {id} at or above the next id {next_id}")]
    OutstandingId {
        /// The message's id.
        id: u64,
        /// The stored next id.
        next_id: u64,
    },
}
