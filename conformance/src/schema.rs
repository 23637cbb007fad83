//! The JSON format of the vector files (`conformance/README.md` describes it for readers).
//!
//! Wycheproof-shaped: a file has `algorithm`, `schema`, `profile`, `numberOfTests`, `header`,
//! `notes` (flag → meaning) and `testGroups`; a group has a `type` and the inputs its tests
//! share (keys, parties); a test has `tcId`, `comment`, `flags`, its inputs, and `result`
//! (`valid` or `invalid`) with, for invalid tests, the exact error expected. Every byte string
//! is lowercase hex. Every struct denies unknown fields, so a misspelt field is an error,
//! not a silently ignored input.
//!
//! Groups are generic over their test type so that a file can be read in two stages: first
//! with every test left as a JSON value, then test by test, so that an error names the test.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The value of every file's `schema` field.
pub const SCHEMA: &str = "ee2e_conformance_v1";

/// Declares a step test, client or server: the test's own fields (`state` to `input`) with,
/// before them, the numbering every test has (`tcId` to `checks`) and, after them, the
/// outcome every step test records (`rngSeed` to `errorField`), then any `after` fields. The
/// files write the fields in this order.
macro_rules! step_test {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($own:tt)* }
        #[doc = $output_doc:literal]
        output: $output:ty,
        $(after { $($after:tt)* })?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            /// Test number, unique in the file.
            pub tc_id: u32,
            /// What is tested.
            pub comment: String,
            /// Flags, explained in the file's `notes`.
            pub flags: Vec<String>,
            /// The SPEC.md check ids and limits this test pins (SPEC.md "How to read"; listed in
            /// `conformance/COVERAGE.md`). The verifier rejects an id SPEC.md does not give.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub checks: Vec<String>,
            $($own)*
            /// The seed of the random source for `input`, where it draws randomness.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub rng_seed: Option<Hex>,
            /// Values computed on the way (valid tests).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub intermediate: Option<Intermediate>,
            #[doc = $output_doc]
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub output: Option<$output>,
            /// `valid` or `invalid`.
            pub result: Verdict,
            /// The error's variant name (invalid tests).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub error: Option<String>,
            /// Which error enumeration `error` is from (invalid tests).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub error_type: Option<ErrorType>,
            /// The field a decoding error names (§4.7).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub error_field: Option<String>,
            $($($after)*)?
        }
    };
}

/// Declares a struct of optional byte strings, each left out of the JSON when absent.
macro_rules! optional_hex_fields {
    (
        $(#[$meta:meta])*
        pub struct $name:ident { $($(#[doc = $doc:literal])* $field:ident,)* }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $(
                $(#[doc = $doc])*
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<Hex>,
            )*
        }
    };
}

/// Bytes, written as lowercase hex (upper case is accepted on input).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hex(pub Vec<u8>);

impl Hex {
    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for Hex {
    fn from(bytes: &[u8]) -> Self {
        Hex(bytes.to_vec())
    }
}

impl From<Vec<u8>> for Hex {
    fn from(bytes: Vec<u8>) -> Self {
        Hex(bytes)
    }
}

impl fmt::Debug for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(&self.0))
    }
}

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Hex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HexVisitor;
        impl Visitor<'_> for HexVisitor {
            type Value = Hex;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string of hex digits")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Hex, E> {
                hex::decode(text).map(Hex).map_err(|e| E::custom(format!("invalid hex {text:.40?}: {e}")))
            }
        }
        deserializer.deserialize_str(HexVisitor)
    }
}

/// A whole vector file, generic over the type its tests are read as.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VectorFile<C, S, D, K, E> {
    /// What the file tests, e.g. `EE2E key exchange`.
    pub algorithm: String,
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The protocol profile: `seed` or `hardened`.
    pub profile: String,
    /// How many tests the file holds; a verifier checks it ran exactly this many.
    pub number_of_tests: usize,
    /// Free text: what the file covers and how its randomness was drawn.
    pub header: Vec<String>,
    /// The meaning of every flag used in the file.
    pub notes: BTreeMap<String, String>,
    /// The groups of tests.
    pub test_groups: Vec<TestGroup<C, S, D, K, E>>,
}

/// A file as read in the first stage: tests are still JSON values.
pub type RawFile =
    VectorFile<serde_json::Value, serde_json::Value, serde_json::Value, serde_json::Value, serde_json::Value>;
/// A file with every test typed.
pub type TypedFile = VectorFile<ClientTest, ServerTest, DecodeTest, MessageKeysTest, EncodeTest>;
/// A group with every test typed.
pub type TypedGroup = TestGroup<ClientTest, ServerTest, DecodeTest, MessageKeysTest, EncodeTest>;

/// A group of tests sharing inputs, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", deny_unknown_fields)]
pub enum TestGroup<C, S, D, K, E> {
    /// A client in a described state takes one more input (a message from the server or a
    /// local action); the test gives the outputs or the error.
    ClientSteps(ClientGroup<C>),
    /// The server in a described state receives one more message.
    ServerSteps(ServerGroup<S>),
    /// A byte string decoded under the file's wire version.
    Decode(DecodeGroup<D>),
    /// The hardened per-direction message keys (SPEC.md §7.1).
    MessageKeys(MessageKeysGroup<K>),
    /// A message given field by field, encoded under the file's wire version (SPEC.md §4.6).
    Encode(EncodeGroup<E>),
}

/// The server's RSA key: the public key every client pins, and the private key when the
/// group's tests need the server's private operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerKey {
    /// SubjectPublicKeyInfo DER.
    pub public_key: Hex,
    /// PKCS#8 PEM, only where the server itself runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
}

/// A client identity: phone number, key, and the server's directory signature over them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Party {
    /// The name tests refer to it by (`alice`, `bob`, …).
    pub name: String,
    /// E.164 phone number.
    pub phone: String,
    /// SubjectPublicKeyInfo DER.
    pub public_key: Hex,
    /// The directory signature of `(phone, publicKey)` under the group's server key and the
    /// file's profile (SPEC.md §5.4): the party's entry is `(phone, publicKey, entrySignature)`.
    pub entry_signature: Hex,
    /// PKCS#8 PEM, only for the party the group runs (a client group's `me`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
}

/// `valid` or `invalid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    /// The input is accepted with the given outputs.
    Valid,
    /// The input is rejected with the given error.
    Invalid,
}

/// Which enumeration an expected error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorType {
    /// SPEC.md §4.7: the bytes do not decode.
    DecodeError,
    /// SPEC.md §10.2.
    ClientError,
    /// SPEC.md §10.1.
    ServerError,
}

/// A client's registration state (SPEC.md §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrationState {
    /// Nothing sent yet.
    Unregistered,
    /// `RegisterRequest` sent, waiting for the OTP.
    AwaitingOtp,
    /// `RegisterSubmit` sent, waiting for the result.
    AwaitingResult,
    /// Registered with the party's own entry from the group.
    Registered,
}

/// Tests of one client (`me`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientGroup<T> {
    /// What the group tests.
    pub description: String,
    /// The pinned server key.
    pub server: ServerKey,
    /// Every party the tests name.
    pub parties: Vec<Party>,
    /// The party the client is.
    pub me: String,
    /// The client's PBKDF2 iteration count, where a test computes a registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pbkdf2_iterations: Option<u32>,
    /// The tests.
    pub tests: Vec<T>,
}

/// A local action or a received message, tagged by `action`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase", deny_unknown_fields)]
pub enum ClientInput {
    /// Ask for an OTP (§5.1).
    Register {},
    /// The OTP arrived by SMS (§5.2).
    #[serde(rename_all = "camelCase")]
    OtpReceived {
        /// The six ASCII digits.
        otp: String,
    },
    /// Ask for a peer's key (§6.1).
    #[serde(rename_all = "camelCase")]
    StartSession {
        /// The peer's phone number.
        peer: String,
    },
    /// Seal a message for a peer (§7.2).
    #[serde(rename_all = "camelCase")]
    Send {
        /// The peer's phone number.
        peer: String,
        /// The message.
        plaintext: Hex,
    },
    /// Come online (§9.1).
    Connect {},
    /// Go offline (§9.1).
    Disconnect {},
    /// Setup only: the newest session with `peer` seals `next` as its next sequence number,
    /// as a client resuming a persisted counter does (used to reach 2⁶⁴ − 1, §7.2 check 4).
    #[serde(rename_all = "camelCase")]
    ResumeSequence {
        /// The peer's phone number.
        peer: String,
        /// The next sequence number.
        next: u64,
    },
    /// A message from the server, as bytes on the wire.
    #[serde(rename_all = "camelCase")]
    Receive {
        /// The encoded message.
        message: Hex,
    },
}

/// A step that brings the party into the state a test needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientStep {
    /// What happens.
    pub input: ClientInput,
    /// The seed of the random source for this step, where it draws randomness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rng_seed: Option<Hex>,
    /// `ok`, or the name of the error the step must fail with.
    pub expect: String,
}

step_test! {
    /// One client test.
    pub struct ClientTest {
        /// The client's state before `input`, in words.
        pub state: String,
        /// The registration state the client starts in (before `setup`).
        pub registration: RegistrationState,
        /// Key transports already recorded per peer, given by their number (a registered client;
        /// applied before `setup`).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub seen_transports: Vec<SeenTransports>,
        /// Steps run first, in order, each with its expected outcome.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub setup: Vec<ClientStep>,
        /// The input under test.
        pub input: ClientInput,
    }
    /// What the client sends, reports and ends in (valid tests).
    output: ClientOutputs,
}

/// What a client step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientOutputs {
    /// Messages sent to the server, encoded, in order.
    pub send: Vec<Hex>,
    /// Events reported to the application, in order.
    pub events: Vec<EventSpec>,
    /// The registration state afterwards.
    pub registration: RegistrationState,
}

/// An event a client reports (SPEC.md §5–§8), tagged by `event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all_fields = "camelCase", deny_unknown_fields)]
pub enum EventSpec {
    /// The registration result verified.
    Registered {},
    /// A peer's directory entry verified.
    PeerKeyVerified {
        /// The peer.
        peer: String,
    },
    /// A session was stored.
    SessionEstablished {
        /// The peer.
        peer: String,
        /// `Initiator` or `Responder`.
        role: String,
        /// The session id (hardened).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_id: Option<Hex>,
        /// `K`.
        session_key: Hex,
    },
    /// A message was sealed and sent.
    MessageSent {
        /// The recipient.
        peer: String,
        /// The client's local message id (0, 1, … per client).
        id: u64,
        /// The message.
        plaintext: Hex,
        /// Its sequence number (hardened).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
    },
    /// A message was accepted.
    MessageAccepted {
        /// The sender.
        from: String,
        /// The message.
        plaintext: Hex,
        /// Its sequence number (hardened).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
    },
    /// An ACK matched an outstanding message.
    AckAccepted {
        /// The acknowledging peer.
        peer: String,
        /// The local id of the acknowledged message.
        id: u64,
    },
    /// The server replied with an error.
    ServerError {
        /// The error code's name (§4.5).
        code: String,
    },
}

/// Tests of the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerGroup<T> {
    /// What the group tests.
    pub description: String,
    /// The server's key pair.
    pub server: ServerKey,
    /// Every party the tests name.
    pub parties: Vec<Party>,
    /// The server's PBKDF2 iteration count (§5.3 check 8).
    pub pbkdf2_iterations: u32,
    /// The tests.
    pub tests: Vec<T>,
}

/// An OTP pending at the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PendingOtp {
    /// The phone it was issued for.
    pub phone: String,
    /// The six ASCII digits.
    pub otp: String,
    /// Issue time, milliseconds.
    pub issued_at: u64,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// The recorded OTP requests of one phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OtpRequests {
    /// The phone.
    pub phone: String,
    /// The times of its requests, milliseconds, oldest first.
    pub times: Vec<u64>,
}

/// `count` copies of one message in a recipient's offline queue: `message`, or else the
/// message `filler` describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Queued {
    /// The recipient (a party name).
    pub to: String,
    /// The stored message, encoded (a `DataDelivery` or `AckDelivery`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Hex>,
    /// A large message given by its size instead of its bytes (the byte bounds of §9.2 need
    /// tens of MiB of queue, which as hex would make the files that large).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filler: Option<Filler>,
    /// How many copies, one after the other.
    pub count: usize,
}

/// A `DataDelivery` from `from` whose byte fields are all zero bytes: a ciphertext of
/// `ciphertextLength` bytes, a 16-byte IV and a 32-byte MAC and, in the hardened layout, a
/// 32-byte session id and sequence number 0. Its stored size (§9.2) is the sender's phone
/// length + 48 + `ciphertextLength` (seed) or + 88 + `ciphertextLength` (hardened).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Filler {
    /// The sender's phone number.
    pub from: String,
    /// The ciphertext's length: a positive multiple of 16, at most `MAX_PLAINTEXT` + 16.
    pub ciphertext_length: usize,
}

/// `count` phones that are no party, each with a pending OTP `000000` issued at `issuedAt`
/// and no failed attempts: phone `i` (from 0) is `+1999` followed by `i` in 7 digits. They
/// fill the OTP tables (§5.1 check 2) without listing 10 000 rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OtpPhones {
    /// How many phones, at most `MAX_OTP_PHONES`.
    pub count: usize,
    /// Issue time of their OTPs, milliseconds.
    pub issued_at: u64,
}

impl OtpPhones {
    /// The text of phone `i`.
    pub fn phone(i: usize) -> String {
        format!("+1999{i:07}")
    }
}

/// `count` key transports with `peer` that the client already recorded (§6.4, E3), with
/// session ids no transport has: id `i` (from 0) is 28 bytes `f1` followed by `i` as 4
/// big-endian bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SeenTransports {
    /// The peer (a party name).
    pub peer: String,
    /// How many, at most `MAX_TRANSPORTS_PER_PEER`.
    pub count: usize,
}

impl SeenTransports {
    /// Session id `i`.
    pub fn id(i: u32) -> [u8; 32] {
        let mut id = [0xf1; 32];
        id[28..].copy_from_slice(&i.to_be_bytes());
        id
    }
}

/// The server's delivery mode (SPEC.md §9.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryMode {
    /// `Connect` takes the queue out of the store as it sends it.
    #[default]
    OnConnect,
    /// `Connect` sends the queue and leaves it stored until each message is confirmed.
    Confirmed,
}

impl DeliveryMode {
    /// Whether this is the default, [`DeliveryMode::OnConnect`].
    pub fn is_on_connect(&self) -> bool {
        *self == DeliveryMode::OnConnect
    }
}

/// A message arriving at the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerInput {
    /// The sender's address (§2.4).
    pub from: String,
    /// The encoded message.
    pub message: Hex,
    /// The server's clock, milliseconds.
    pub now: u64,
}

/// A step that brings the server into the state a test needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerStep {
    /// The message.
    pub input: ServerInput,
    /// The seed of the random source, where the step draws randomness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rng_seed: Option<Hex>,
    /// `ok`, or the name of the error the step must fail with.
    pub expect: String,
}

step_test! {
    /// One server test.
    pub struct ServerTest {
        /// The server's state before `input`, in words.
        pub state: String,
        /// Registered parties (their entries are in the group's `parties`).
        pub directory: Vec<String>,
        /// Pending OTPs.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub pending: Vec<PendingOtp>,
        /// Past OTP requests per phone (E8's request limit, SPEC.md §5.1): their times, ms.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub otp_requests: Vec<OtpRequests>,
        /// More phones with pending OTPs, given by their number (SPEC.md §5.1 check 2).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub otp_phones: Option<OtpPhones>,
        /// Messages already in offline queues, oldest first (SPEC.md §9.2).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub queued: Vec<Queued>,
        /// When the server removes stored messages (SPEC.md §9.2); `onConnect` if absent.
        #[serde(default, skip_serializing_if = "DeliveryMode::is_on_connect")]
        pub delivery: DeliveryMode,
        /// Parties online (connected) before `setup`.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub online: Vec<String>,
        /// Steps run first, in order.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub setup: Vec<ServerStep>,
        /// The message under test.
        pub input: ServerInput,
    }
    /// What the server sends, stores and texts (valid tests).
    output: ServerOutputs,
    after {
        /// The code of the error reply (§4.5) for a `ServerError`; decoding errors get no reply.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub error_code: Option<String>,
    }
}

/// A message and its recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Addressed {
    /// The recipient's phone number.
    pub to: String,
    /// The encoded message; absent where `filler` stands for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Hex>,
    /// A queued filler message of the test, sent on (`Connect`), named instead of written out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filler: Option<Filler>,
}

/// An OTP sent by SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Sms {
    /// The phone.
    pub phone: String,
    /// The six ASCII digits.
    pub otp: String,
}

/// What a server step produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServerOutputs {
    /// Messages sent at once, in order.
    pub send: Vec<Addressed>,
    /// Messages appended to an offline recipient's queue (§9.2).
    pub stored: Vec<Addressed>,
    /// OTPs texted (§5.1).
    pub sms: Vec<Sms>,
}

optional_hex_fields! {
    /// Values a step computes on the way to its outputs; each is present only where the step
    /// computes it. Names follow SPEC.md.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(missing_docs)]
    pub struct Intermediate {
        /// `Salt = HMAC(OTP, phone)` (§5.2).
        salt,
        /// `K_temp = PBKDF2(OTP, Salt, c)` (§5.2).
        k_temp,
        /// `tag = HMAC(K_temp, pk_C)` (§5.2).
        tag,
        /// The OAEP label `T("EE2E-v2 registration", phone)` (§5.2).
        sealed_tag_label,
        /// The OAEP seed drawn for the step's RSA-OAEP encryption (RFC 8017 §7.1.1 step 2d).
        oaep_seed,
        /// The sealed tag (§5.2).
        sealed_tag,
        /// `T("EE2E-v2 possession", phone, pk_C)` (§5.2).
        possession_input,
        /// The salt drawn for the step's RSASSA-PSS signature (RFC 8017 §9.1.1 step 4).
        pss_salt,
        /// The proof of possession (§5.2).
        possession,
        /// The directory signature's input (§5.4).
        directory_input,
        /// The directory signature (§5.4).
        directory_signature,
        /// `K` (§6.2).
        session_key,
        /// The key transport's OAEP label `L` (§6.2).
        transport_label,
        /// `c` (§6.2).
        transport_ciphertext,
        /// The bytes `σ` signs: `K` (seed) or `T("EE2E-v2 key transport", A, B, c)` (§6.2).
        transport_signature_input,
        /// `σ` (§6.2).
        transport_signature,
        /// `sid` (§6.2).
        session_id,
        /// `enc_d` of the party's sending direction (§7.1, hardened).
        send_enc_key,
        /// `mac_d` of the party's sending direction (§7.1, hardened).
        send_mac_key,
        /// `enc_d` of the party's receiving direction (§7.1, hardened).
        receive_enc_key,
        /// `mac_d` of the party's receiving direction (§7.1, hardened).
        receive_mac_key,
        /// The IV (§7.2).
        iv,
        /// `C` (§7.2).
        ciphertext,
        /// The bytes the message MAC covers: `M` (seed) or `T([2], sid, A, B, u64(seq), IV, C)`.
        mac_input,
        /// The message MAC (§7.2).
        mac,
        /// The tag the hardened ACK names: the acknowledged message's MAC (§8.1).
        ack_tag,
        /// `M` (§7.4).
        plaintext,
        /// The bytes the ACK MAC covers: `"ACK"` (seed) or `T("EE2E-v2 ack", sid, [d], u64(seq), tag)`.
        ack_input,
        /// The ACK MAC (§8.1).
        ack_mac,
    }
}

/// Tests that share nothing but a description: decoding, message-key and encoding tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlainGroup<T> {
    /// What the group tests.
    pub description: String,
    /// The tests.
    pub tests: Vec<T>,
}

/// Decoding tests.
pub type DecodeGroup<T> = PlainGroup<T>;

/// One decoding test: the bytes decode (and re-encode to themselves) or fail with the error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecodeTest {
    /// Test number, unique in the file.
    pub tc_id: u32,
    /// What is tested.
    pub comment: String,
    /// Flags, explained in the file's `notes`.
    pub flags: Vec<String>,
    /// The SPEC.md check ids and limits this test pins (SPEC.md "How to read"; listed in
    /// `conformance/COVERAGE.md`). The verifier rejects an id SPEC.md does not give.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<String>,
    /// The bytes.
    pub message: Hex,
    /// The message type a valid test decodes to (§4.4 name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_type: Option<String>,
    /// `valid` or `invalid`.
    pub result: Verdict,
    /// The `DecodeError` variant name (invalid tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The field the error names, where it names one (§4.7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_field: Option<String>,
}

/// Message-key derivation tests.
pub type MessageKeysGroup<T> = PlainGroup<T>;

/// One message-key test: `HKDF(K, salt = sid, info)` for one direction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MessageKeysTest {
    /// Test number, unique in the file.
    pub tc_id: u32,
    /// What is tested.
    pub comment: String,
    /// Flags, explained in the file's `notes`.
    pub flags: Vec<String>,
    /// `K`.
    pub session_key: Hex,
    /// `sid`.
    pub session_id: Hex,
    /// `d`: 0 initiator→responder, 1 responder→initiator.
    pub direction: u8,
    /// `T("EE2E-v2 message keys", [d], "enc")`.
    pub enc_info: Hex,
    /// `T("EE2E-v2 message keys", [d], "mac")`.
    pub mac_info: Hex,
    /// `enc_d`.
    pub enc_key: Hex,
    /// `mac_d`.
    pub mac_key: Hex,
    /// Always `valid`.
    pub result: Verdict,
}

/// Encoding tests.
pub type EncodeGroup<T> = PlainGroup<T>;

/// One encoding test: a message given by its fields encodes to `encoded`, or the encoder
/// refuses it with the §4.6 error `error` naming `errorField`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EncodeTest {
    /// Test number, unique in the file.
    pub tc_id: u32,
    /// What is tested.
    pub comment: String,
    /// Flags, explained in the file's `notes`.
    pub flags: Vec<String>,
    /// The message type (§4.4 name).
    pub message_type: String,
    /// The wire version whose layout the message's version-dependent body has (1 or 2);
    /// absent for a message without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<u8>,
    /// The fields by their §4.3–§4.4 names (`Data.to`, `Sealed.iv`): phone numbers as text,
    /// every other field as hex.
    pub fields: BTreeMap<String, String>,
    /// `valid` or `invalid`.
    pub result: Verdict,
    /// The encoding (valid tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded: Option<Hex>,
    /// The §4.6 error (invalid tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The field the error names (all but `WrongLayout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_field: Option<String>,
}
