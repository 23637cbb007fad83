//! The binary wire encoding of [`Message`]s (SPEC.md, "Wire format").
//!
//! A message is a version byte ([`Wire`]: 1 seed, 2 hardened), a [`MessageType`] byte, and
//! the message's fields in declaration order, with no padding and nothing after them. Each
//! field kind (phone, public key, signature, AES ciphertext, IV, MAC, …) declares its length
//! prefix or fixed size and its bounds once, and each message its fields in order once;
//! [`encode`] and [`decode`] both use those declarations. The encoding is deterministic and canonical: a byte string that [`decode`]
//! accepts re-encodes to exactly itself.
//!
//! Decoding is total: any byte string yields a message or a [`DecodeError`], never a panic,
//! and a length prefix is checked against its maximum before anything is read, so a hostile
//! prefix cannot make the decoder allocate. Checks are purely syntactic; whether a key parses,
//! a signature verifies or an ACK text says `ACK` is the state machines' business.
//!
//! ```
//! use ee2e::codec::{decode, encode, peek};
//! use ee2e_spec::{Message, MessageType, Phone, Wire};
//!
//! let message = Message::KeyRequest { peer: Phone::parse("+15551234567").unwrap() };
//! let bytes = encode(Wire::Hardened, &message).unwrap();
//! assert_eq!(peek(&bytes), Ok((Wire::Hardened, MessageType::KeyRequest)));
//! assert_eq!(decode(Wire::Hardened, &bytes), Ok(message));
//! ```

mod field;
#[cfg(test)]
mod tests;

use ee2e_spec::{Ack, DirectoryEntry, Message, MessageType, RegistrationProof, Sealed, Transport, Wire};

use self::field::{
    ACK_TEXT, AES_CIPHERTEXT, CODE, Field, IV, MAC, PHONE, POSSESSION, PUBLIC_KEY, RSA_CIPHERTEXT, Reader,
    SEALED_TAG, SEQ, SESSION_ID, SIGNATURE, TAG,
};
use ee2e_spec::Suite;

use crate::suite::ConcreteSuite;
use crate::value::Bytes;

/// Largest AES-256-CBC ciphertext on the wire: 1 MiB of plaintext plus one block of padding.
pub const MAX_CIPHERTEXT: usize = (1 << 20) + 16;
/// Largest public key (SubjectPublicKeyInfo DER) on the wire.
pub const MAX_PUBLIC_KEY: usize = 1024;
/// Largest RSA-sized value on the wire: a signature, an OAEP ciphertext, a sealed tag or a
/// proof of possession.
pub const MAX_RSA_VALUE: usize = 1024;
/// Largest seed ACK text on the wire.
pub const MAX_ACK_TEXT: usize = 16;
/// Size of the header: version byte and type byte.
pub const HEADER_LEN: usize = 2;
/// Largest encoded message: a hardened `Data` or `DataDelivery` with a 16-byte phone field
/// and a [`MAX_CIPHERTEXT`]-byte ciphertext. A transport may refuse longer frames unread.
pub const MAX_MESSAGE_LEN: usize = HEADER_LEN + (1 + 16) + 32 + 8 + 16 + (4 + MAX_CIPHERTEXT) + 32;

/// Why a message cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::IntoStaticStr)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message has a body of the other wire version's layout (e.g. [`Sealed::Seed`]
    /// under [`Wire::Hardened`]).
    #[error("{body} cannot be encoded on the {wire:?} wire")]
    WrongLayout {
        /// The wire the message was to be encoded for.
        wire: Wire,
        /// The body of the other layout, e.g. `Sealed::Seed`.
        body: &'static str,
    },
    /// A length-prefixed field is longer than its declared maximum.
    #[error("{field} is {len} bytes, more than the maximum {max}")]
    FieldTooLong {
        /// The field, as `Type.field`.
        field: &'static str,
        /// Its length.
        len: usize,
        /// The declared maximum.
        max: usize,
    },
    /// A field that must not be empty is empty.
    #[error("{field} is empty")]
    EmptyField {
        /// The field, as `Type.field`.
        field: &'static str,
    },
    /// A fixed-size field (IV, MAC, session id, ACK tag, seed tag) has the wrong size.
    #[error("{field} is {len} bytes, expected {expected}")]
    WrongLength {
        /// The field, as `Type.field`.
        field: &'static str,
        /// Its length.
        len: usize,
        /// Its fixed size.
        expected: usize,
    },
}

impl EncodeError {
    /// The variant's stable name (the vectors' normative error names).
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// Why a byte string is not a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::IntoStaticStr)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends inside `field` (`version` and `type` name the header bytes).
    #[error("truncated in {field}")]
    Truncated {
        /// The field, as `Type.field`, or `version` / `type`.
        field: &'static str,
    },
    /// Bytes remain after the last field.
    #[error("{count} trailing bytes after the message")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// The version byte is neither 1 (seed) nor 2 (hardened).
    #[error("unknown wire version {found}")]
    UnknownVersion {
        /// The version byte.
        found: u8,
    },
    /// The version byte names a known wire, but not the one expected.
    #[error("wire version {found:?}, expected {expected:?}")]
    WrongVersion {
        /// The wire the caller decodes.
        expected: Wire,
        /// The wire the message names.
        found: Wire,
    },
    /// The type byte is not a [`MessageType`].
    #[error("unknown message type 0x{found:02x}")]
    UnknownType {
        /// The type byte.
        found: u8,
    },
    /// The error code byte is not an [`ErrorCode`](ee2e_spec::ErrorCode).
    #[error("unknown error code {found}")]
    UnknownErrorCode {
        /// The code byte.
        found: u8,
    },
    /// A length prefix exceeds the field's declared maximum.
    #[error("{field} claims {len} bytes, more than the maximum {max}")]
    FieldTooLong {
        /// The field, as `Type.field`.
        field: &'static str,
        /// The length the prefix claims.
        len: usize,
        /// The declared maximum.
        max: usize,
    },
    /// A field that must not be empty has length 0.
    #[error("{field} is empty")]
    EmptyField {
        /// The field, as `Type.field`.
        field: &'static str,
    },
    /// A phone field is not an E.164 number (`+`, 8 to 15 digits, the first not 0).
    #[error("{field} is not a valid phone number")]
    InvalidPhone {
        /// The field, as `Type.field`.
        field: &'static str,
    },
}

impl DecodeError {
    /// The variant's stable name (the vectors' normative error names).
    pub fn name(&self) -> &'static str {
        self.into()
    }
}

/// Encodes `message` in the layout of `wire`.
///
/// Fails if the message carries a body of the other layout, or a field outside its declared
/// bounds; never for a message that [`decode`] produced with the same `wire`.
pub fn encode(wire: Wire, message: &Message<ConcreteSuite>) -> Result<Vec<u8>, EncodeError> {
    encode_for(wire, message)
}

/// [`encode`] for any suite whose values are [`Bytes`] (the concrete suites).
pub fn encode_for<S: Suite<Value = Bytes>>(wire: Wire, message: &Message<S>) -> Result<Vec<u8>, EncodeError> {
    let hint = match message {
        Message::Data { sealed, .. } | Message::DataDelivery { sealed, .. } => match sealed {
            Sealed::Seed { ciphertext, .. } | Sealed::Hardened { ciphertext, .. } => ciphertext.len(),
        },
        _ => 0,
    };
    let mut out = Vec::with_capacity(256 + hint);
    out.push(wire as u8);
    out.push(message.kind() as u8);
    put_message(&mut out, wire, message)?;
    Ok(out)
}

/// Decodes one message of the `wire` layout, which must be the whole of `bytes`.
///
/// The version byte is checked first: [`DecodeError::UnknownVersion`] if it names no wire,
/// [`DecodeError::WrongVersion`] if it names the other one.
pub fn decode(wire: Wire, bytes: &[u8]) -> Result<Message<ConcreteSuite>, DecodeError> {
    decode_for(wire, bytes)
}

/// [`decode`] for any suite whose values are [`Bytes`] (the concrete suites: the encoding
/// does not depend on which one computed the values).
pub fn decode_for<S: Suite<Value = Bytes>>(wire: Wire, bytes: &[u8]) -> Result<Message<S>, DecodeError> {
    let mut input = Reader::new(bytes);
    let found = read_version(&mut input)?;
    if found != wire {
        return Err(DecodeError::WrongVersion { expected: wire, found });
    }
    let kind = read_type(&mut input)?;
    let message = get_message(&mut input, wire, kind)?;
    input.finish()?;
    Ok(message)
}

/// Decodes one message of whichever wire version its version byte names.
pub fn decode_any(bytes: &[u8]) -> Result<(Wire, Message<ConcreteSuite>), DecodeError> {
    let (wire, _) = peek(bytes)?;
    decode(wire, bytes).map(|message| (wire, message))
}

/// Reads only the header: the wire version and the message type. Cheap; for logs and taps.
///
/// It does not look past the header, so a later [`decode`] of the same bytes may still fail.
pub fn peek(bytes: &[u8]) -> Result<(Wire, MessageType), DecodeError> {
    let mut input = Reader::new(bytes);
    let wire = read_version(&mut input)?;
    let kind = read_type(&mut input)?;
    Ok((wire, kind))
}

fn read_version(input: &mut Reader<'_>) -> Result<Wire, DecodeError> {
    match input.byte("version")? {
        1 => Ok(Wire::Seed),
        2 => Ok(Wire::Hardened),
        found => Err(DecodeError::UnknownVersion { found }),
    }
}

fn read_type(input: &mut Reader<'_>) -> Result<MessageType, DecodeError> {
    let found = input.byte("type")?;
    MessageType::from_u8(found).ok_or(DecodeError::UnknownType { found })
}

// Each wire layout is declared once below; `layout!` and `messages!` derive the encoder (the
// `put`s) and the decoder (the `get`s) from the one field list. Fields are read in declaration
// order because a struct literal's field expressions are evaluated in source order.

/// A field's name in errors: `Type.field` (`Sealed.iv`), or `Variant.field` (`Data.to`) for a
/// message's own fields.
macro_rules! name {
    ($owner:ident, $field:ident) => {
        concat!(stringify!($owner), ".", stringify!($field))
    };
}

/// Declares a nested layout: a marker type `$layout` and its value `$name`, a [`Field`] for
/// `$ty`. A struct is the same on both wires; an enum has one variant per [`Wire`], named
/// alike, and encoding a variant on the other wire is [`EncodeError::WrongLayout`]. The
/// fields are named by `$ty`, whichever message holds them, so the name passed in is unused.
macro_rules! layout {
    ($(#[$doc:meta])* $name:ident: $layout:ident = struct $ty:ident {
        $($field:ident: $kind:ident),+ $(,)?
    }) => {
        $(#[$doc])*
        const $name: $layout = $layout;
        struct $layout;

        impl<S: Suite<Value = Bytes>> Field<$ty<S>> for $layout {
            fn put(
                self, out: &mut Vec<u8>, wire: Wire, _: &'static str, value: &$ty<S>,
            ) -> Result<(), EncodeError> {
                let $ty { $($field),+ } = value;
                $($kind.put(out, wire, name!($ty, $field), $field)?;)+
                Ok(())
            }

            fn get(
                self, input: &mut Reader<'_>, wire: Wire, _: &'static str,
            ) -> Result<$ty<S>, DecodeError> {
                Ok($ty { $($field: $kind.get(input, wire, name!($ty, $field))?),+ })
            }
        }
    };
    ($(#[$doc:meta])* $name:ident: $layout:ident = enum $ty:ident {
        $($variant:ident { $($field:ident: $kind:ident),+ $(,)? }),+ $(,)?
    }) => {
        $(#[$doc])*
        const $name: $layout = $layout;
        struct $layout;

        impl<S: Suite<Value = Bytes>> Field<$ty<S>> for $layout {
            fn put(
                self, out: &mut Vec<u8>, wire: Wire, _: &'static str, value: &$ty<S>,
            ) -> Result<(), EncodeError> {
                match (wire, value) {
                    $((Wire::$variant, $ty::$variant { $($field),+ }) => {
                        $($kind.put(out, wire, name!($ty, $field), $field)?;)+
                        Ok(())
                    })+
                    $((_, $ty::$variant { .. }) => Err(EncodeError::WrongLayout {
                        wire,
                        body: concat!(stringify!($ty), "::", stringify!($variant)),
                    }),)+
                }
            }

            fn get(
                self, input: &mut Reader<'_>, wire: Wire, _: &'static str,
            ) -> Result<$ty<S>, DecodeError> {
                Ok(match wire {
                    $(Wire::$variant => $ty::$variant {
                        $($field: $kind.get(input, wire, name!($ty, $field))?),+
                    },)+
                })
            }
        }
    };
}

/// Declares every message's layout after the header: `put_message` and `get_message`, one
/// arm per [`MessageType`], each field named `Variant.field`.
macro_rules! messages {
    ($($variant:ident { $($field:ident: $kind:ident),+ $(,)? }),+ $(,)?) => {
        fn put_message<S: Suite<Value = Bytes>>(
            out: &mut Vec<u8>,
            wire: Wire,
            message: &Message<S>,
        ) -> Result<(), EncodeError> {
            match message {
                $(Message::$variant { $($field),+ } => {
                    $($kind.put(out, wire, name!($variant, $field), $field)?;)+
                })+
            }
            Ok(())
        }

        fn get_message<S: Suite<Value = Bytes>>(
            input: &mut Reader<'_>,
            wire: Wire,
            kind: MessageType,
        ) -> Result<Message<S>, DecodeError> {
            Ok(match kind {
                $(MessageType::$variant => Message::$variant {
                    $($field: $kind.get(input, wire, name!($variant, $field))?),+
                },)+
            })
        }
    };
}

layout! {
    /// DirectoryEntry: phone, public key, signature (both versions).
    ENTRY: EntryLayout = struct DirectoryEntry { phone: PHONE, public_key: PUBLIC_KEY, signature: SIGNATURE }
}

layout! {
    /// Transport: RSA ciphertext, signature (both versions).
    TRANSPORT: TransportLayout = struct Transport { ciphertext: RSA_CIPHERTEXT, signature: SIGNATURE }
}

layout! {
    /// RegistrationProof: v1 tag; v2 sealed tag, possession.
    PROOF: ProofLayout = enum RegistrationProof {
        Seed { tag: TAG },
        Hardened { sealed_tag: SEALED_TAG, possession: POSSESSION },
    }
}

layout! {
    /// Sealed: v1 IV, ciphertext, MAC; v2 session id, seq, IV, ciphertext, MAC.
    SEALED: SealedLayout = enum Sealed {
        Seed { iv: IV, ciphertext: AES_CIPHERTEXT, mac: MAC },
        Hardened { session: SESSION_ID, seq: SEQ, iv: IV, ciphertext: AES_CIPHERTEXT, mac: MAC },
    }
}

layout! {
    /// Ack: v1 text, MAC; v2 session id, seq, the acknowledged message's MAC tag, MAC.
    ACK: AckLayout = enum Ack {
        Seed { text: ACK_TEXT, mac: MAC },
        Hardened { session: SESSION_ID, seq: SEQ, tag: MAC, mac: MAC },
    }
}

messages! {
    RegisterRequest { phone: PHONE },
    RegisterSubmit { phone: PHONE, public_key: PUBLIC_KEY, proof: PROOF },
    RegisterResult { entry: ENTRY },
    KeyRequest { peer: PHONE },
    PeerKey { entry: ENTRY },
    KeyTransport { to: PHONE, transport: TRANSPORT },
    KeyDelivery { from: ENTRY, transport: TRANSPORT },
    Data { to: PHONE, sealed: SEALED },
    DataDelivery { from: PHONE, sealed: SEALED },
    Ack { to: PHONE, ack: ACK },
    AckDelivery { from: PHONE, ack: ACK },
    Connect { phone: PHONE },
    Disconnect { phone: PHONE },
    Error { code: CODE },
}
