//! Protocol messages, generic over the suite's value type.
//!
//! One enum serves the model (values are terms), the implementation and the vectors (values
//! are bytes). Client→server messages name the peer they are for (`to`); the server relays
//! them as server→client messages naming the peer they came from (`from`). The byte encoding
//! is in `ee2e::codec` and SPEC.md §4.

use crate::phone::Phone;
use crate::suite::Suite;

/// Declares an enum that is one byte on the wire ([`ErrorCode`], [`MessageType`]): the enum
/// `#[repr(u8)]` with the derives both need, and the three items the codec and the vectors use,
/// `ALL`, `from_u8` and `name` (strum's `VariantArray`, `FromRepr` and `IntoStaticStr`), so
/// that both enums decode and name their bytes the same way. `one`, `order` and `e.g.` word
/// those items' docs.
macro_rules! wire_byte_enum {
    (
        $(#[$attr:meta])*
        pub enum $ty:ident { $($variants:tt)* }
        one: $one:literal, order: $order:literal, e.g.: $example:literal
    ) => {
        $(#[$attr])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            strum::VariantArray,
            strum::FromRepr,
            strum::IntoStaticStr,
        )]
        #[repr(u8)]
        pub enum $ty { $($variants)* }

        impl $ty {
            #[doc = concat!("Every ", $one, ", in ", $order, " order.")]
            pub const ALL: &'static [$ty] = <$ty as strum::VariantArray>::VARIANTS;

            #[doc = concat!("The ", $one, " for a wire byte, if any.")]
            pub fn from_u8(byte: u8) -> Option<$ty> {
                Self::from_repr(byte)
            }

            #[doc = concat!("The ", $one, "'s stable name (`", $example, "`, …).")]
            pub fn name(self) -> &'static str {
                self.into()
            }
        }
    };
}

/// A directory entry: a phone number, its public key and the server's signature over them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DirectoryEntry<S: Suite> {
    /// The registered phone number.
    pub phone: Phone,
    /// The client's public key (SubjectPublicKeyInfo DER).
    pub public_key: S::Value,
    /// The server's directory signature (SPEC.md §5.2).
    pub signature: S::Value,
}

/// What proves knowledge of the OTP in a registration submission.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegistrationProof<S: Suite> {
    /// Seed 1.6: the tag `HMAC(K_temp, pk)` in the clear.
    Seed {
        /// The registration tag.
        tag: S::Value,
    },
    /// Hardened: the tag sealed to the server, and a proof of possession of the private key.
    Hardened {
        /// `OAEP(pk_S, tag, label = ("EE2E-v2 registration", phone))`.
        sealed_tag: S::Value,
        /// `Sign_C(("EE2E-v2 possession", phone, pk))`.
        possession: S::Value,
    },
}

/// Key transport: the session key encrypted to the recipient and signed by the sender.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Transport<S: Suite> {
    /// The session key `K`, RSA-OAEP encrypted to the recipient.
    pub ciphertext: S::Value,
    /// The sender's signature (SPEC.md §6).
    pub signature: S::Value,
}

/// An encrypted application message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sealed<S: Suite> {
    /// Seed 3.2: `(AES-256-CBC(K, IV, M), HMAC(K, M), IV)`.
    Seed {
        /// 16-byte IV.
        iv: S::Value,
        /// AES-256-CBC ciphertext.
        ciphertext: S::Value,
        /// HMAC-SHA-256 over the plaintext.
        mac: S::Value,
    },
    /// Hardened: encrypt-then-MAC with a header.
    Hardened {
        /// The 32-byte session id.
        session: S::Value,
        /// The per-direction sequence number, from 0.
        seq: u64,
        /// 16-byte IV.
        iv: S::Value,
        /// AES-256-CBC ciphertext under the direction's encryption key.
        ciphertext: S::Value,
        /// HMAC-SHA-256 over header, IV and ciphertext under the direction's MAC key.
        mac: S::Value,
    },
}

/// An acknowledgement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ack<S: Suite> {
    /// Seed 4.1: the text `ACK` and `HMAC(K, "ACK")`.
    Seed {
        /// The acknowledgement text; always `ACK` when honest.
        text: S::Value,
        /// HMAC-SHA-256 over the text.
        mac: S::Value,
    },
    /// Hardened: binds session, direction, sequence number and the message's MAC tag.
    Hardened {
        /// The 32-byte session id.
        session: S::Value,
        /// The sequence number of the acknowledged message.
        seq: u64,
        /// The MAC tag of the acknowledged message (its `Sealed::Hardened::mac`).
        tag: S::Value,
        /// HMAC-SHA-256 under the acknowledging direction's MAC key.
        mac: S::Value,
    },
}

wire_byte_enum! {
    /// Wire error codes of the server's error reply (SPEC.md §9).
    #[non_exhaustive]
    pub enum ErrorCode {
        /// A message of another profile, or a message the server does not accept.
        BadRequest = 1,
        /// The submitted public key is malformed or of an unsupported size.
        InvalidPublicKey = 2,
        /// No OTP is pending for this phone.
        NoPendingRegistration = 3,
        /// The OTP has expired.
        OtpExpired = 4,
        /// Too many failed attempts; the OTP is void.
        TooManyAttempts = 5,
        /// The registration proof (tag, sealed tag or proof of possession) is wrong.
        RegistrationRejected = 6,
        /// The sender is not registered.
        NotRegistered = 7,
        /// The requested peer is not registered.
        UnknownPeer = 8,
        /// The server failed internally (storage).
        Internal = 9,
        /// Too many OTP requests for this phone; try again later (SPEC.md §5.1, E8).
        RateLimited = 10,
        /// The offline recipient's queue is full (SPEC.md §9.2).
        QueueFull = 11,
    }
    one: "code", order: "numeric", e.g.: "BadRequest"
}

wire_byte_enum! {
    /// The type byte of each message (SPEC.md §4).
    pub enum MessageType {
        /// [`Message::RegisterRequest`]
        RegisterRequest = 0x01,
        /// [`Message::RegisterSubmit`]
        RegisterSubmit = 0x02,
        /// [`Message::RegisterResult`]
        RegisterResult = 0x03,
        /// [`Message::KeyRequest`]
        KeyRequest = 0x10,
        /// [`Message::PeerKey`]
        PeerKey = 0x11,
        /// [`Message::KeyTransport`]
        KeyTransport = 0x12,
        /// [`Message::KeyDelivery`]
        KeyDelivery = 0x13,
        /// [`Message::Data`]
        Data = 0x20,
        /// [`Message::DataDelivery`]
        DataDelivery = 0x21,
        /// [`Message::Ack`]
        Ack = 0x30,
        /// [`Message::AckDelivery`]
        AckDelivery = 0x31,
        /// [`Message::Connect`]
        Connect = 0x40,
        /// [`Message::Disconnect`]
        Disconnect = 0x41,
        /// [`Message::Error`]
        Error = 0x7f,
    }
    one: "message type", order: "type-byte", e.g.: "RegisterRequest"
}

/// Every protocol message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Message<S: Suite> {
    /// C→S, seed 1.1: ask for an OTP for `phone`.
    RegisterRequest {
        /// The phone number to register.
        phone: Phone,
    },
    /// C→S, seed 1.6: the new public key and the proof of OTP knowledge.
    RegisterSubmit {
        /// The phone number being registered.
        phone: Phone,
        /// The client's new public key.
        public_key: S::Value,
        /// Tag (seed) or sealed tag and proof of possession (hardened).
        proof: RegistrationProof<S>,
    },
    /// S→C (implicit in the seed): the registration succeeded; carries the signed entry.
    RegisterResult {
        /// The directory entry the server stored.
        entry: DirectoryEntry<S>,
    },
    /// C→S, seed 2.1: "I want to talk to `peer`".
    KeyRequest {
        /// The peer whose key is asked for.
        peer: Phone,
    },
    /// S→C, seed 2.3: the peer's signed directory entry.
    PeerKey {
        /// The peer's entry.
        entry: DirectoryEntry<S>,
    },
    /// C→S, seed 2.5: the session key for `to`.
    KeyTransport {
        /// The recipient.
        to: Phone,
        /// Encrypted and signed session key.
        transport: Transport<S>,
    },
    /// S→C, seed 2.7: a session key, with the sender's signed directory entry.
    KeyDelivery {
        /// The sender's directory entry, as the server holds it.
        from: DirectoryEntry<S>,
        /// The transport as the sender sent it.
        transport: Transport<S>,
    },
    /// C→S, seed 3.2: an encrypted message for `to`.
    Data {
        /// The recipient.
        to: Phone,
        /// The sealed message.
        sealed: Sealed<S>,
    },
    /// S→C, seed 3.2: an encrypted message relayed (or stored and delivered) from `from`.
    DataDelivery {
        /// The sender, as the server saw it.
        from: Phone,
        /// The sealed message, unchanged.
        sealed: Sealed<S>,
    },
    /// C→S, seed 4.2: an acknowledgement for `to`.
    Ack {
        /// The peer whose message is acknowledged.
        to: Phone,
        /// The acknowledgement.
        ack: Ack<S>,
    },
    /// S→C, seed 4.3: an acknowledgement relayed from `from`.
    AckDelivery {
        /// The acknowledging peer, as the server saw it.
        from: Phone,
        /// The acknowledgement, unchanged.
        ack: Ack<S>,
    },
    /// C→S (implicit): `phone` is online; the server delivers what it stored.
    Connect {
        /// The phone coming online.
        phone: Phone,
    },
    /// C→S (implicit): `phone` goes offline; the server stores what arrives for it.
    Disconnect {
        /// The phone going offline.
        phone: Phone,
    },
    /// S→C (implicit): the server rejected the client's last message.
    Error {
        /// Why.
        code: ErrorCode,
    },
}

impl<S: Suite> Message<S> {
    /// The bytes a stored copy of the message accounts for (SPEC.md §9.2): the lengths of
    /// its variable fields — phone texts and values — which is its encoded size (§4.8) less
    /// the fixed framing. Values whose length the suite does not know (symbolic ones) count 0.
    pub fn stored_size(&self) -> usize {
        let v = |value: &S::Value| S::byte_len(value).unwrap_or(0);
        let entry_size = |e: &DirectoryEntry<S>| e.phone.as_str().len() + v(&e.public_key) + v(&e.signature);
        let sealed = |s: &Sealed<S>| match s {
            Sealed::Seed { iv, ciphertext, mac } => v(iv) + v(ciphertext) + v(mac),
            Sealed::Hardened { session, iv, ciphertext, mac, .. } => {
                v(session) + 8 + v(iv) + v(ciphertext) + v(mac)
            }
        };
        let ack = |a: &Ack<S>| match a {
            Ack::Seed { text, mac } => v(text) + v(mac),
            Ack::Hardened { session, tag, mac, .. } => v(session) + 8 + v(tag) + v(mac),
        };
        let transport = |t: &Transport<S>| v(&t.ciphertext) + v(&t.signature);
        match self {
            Message::RegisterRequest { phone }
            | Message::KeyRequest { peer: phone }
            | Message::Connect { phone }
            | Message::Disconnect { phone } => phone.as_str().len(),
            Message::RegisterSubmit { phone, public_key, proof } => {
                phone.as_str().len()
                    + v(public_key)
                    + match proof {
                        RegistrationProof::Seed { tag } => v(tag),
                        RegistrationProof::Hardened { sealed_tag, possession } => {
                            v(sealed_tag) + v(possession)
                        }
                    }
            }
            Message::RegisterResult { entry } | Message::PeerKey { entry } => entry_size(entry),
            Message::KeyTransport { to, transport: t } => to.as_str().len() + transport(t),
            Message::KeyDelivery { from, transport: t } => entry_size(from) + transport(t),
            Message::Data { to: phone, sealed: s } | Message::DataDelivery { from: phone, sealed: s } => {
                phone.as_str().len() + sealed(s)
            }
            Message::Ack { to: phone, ack: a } | Message::AckDelivery { from: phone, ack: a } => {
                phone.as_str().len() + ack(a)
            }
            Message::Error { .. } => 1,
        }
    }

    /// The message's type byte.
    pub fn kind(&self) -> MessageType {
        match self {
            Message::RegisterRequest { .. } => MessageType::RegisterRequest,
            Message::RegisterSubmit { .. } => MessageType::RegisterSubmit,
            Message::RegisterResult { .. } => MessageType::RegisterResult,
            Message::KeyRequest { .. } => MessageType::KeyRequest,
            Message::PeerKey { .. } => MessageType::PeerKey,
            Message::KeyTransport { .. } => MessageType::KeyTransport,
            Message::KeyDelivery { .. } => MessageType::KeyDelivery,
            Message::Data { .. } => MessageType::Data,
            Message::DataDelivery { .. } => MessageType::DataDelivery,
            Message::Ack { .. } => MessageType::Ack,
            Message::AckDelivery { .. } => MessageType::AckDelivery,
            Message::Connect { .. } => MessageType::Connect,
            Message::Disconnect { .. } => MessageType::Disconnect,
            Message::Error { .. } => MessageType::Error,
        }
    }
}
