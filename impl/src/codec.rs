//! The binary wire encoding of [`Message`]s (SPEC.md, "Wire format").
//!
//! A message is a version byte ([`Wire`]: 1 seed, 2 hardened), a [`MessageType`] byte, and
//! the message's fields in declaration order, with no padding and nothing after them. Each
//! field kind (phone, public key, signature, AES ciphertext, IV, MAC, …) declares its length
//! prefix or fixed size and its bounds once; [`encode`] and [`decode`] both use that
//! declaration. The encoding is deterministic and canonical: a byte string that [`decode`]
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
    ACK_TEXT, AES_CIPHERTEXT, IV, MAC, POSSESSION, PUBLIC_KEY, RSA_CIPHERTEXT, Reader, SEALED_TAG,
    SESSION_ID, SIGNATURE, TAG, get_code, get_phone, get_seq, get_value, put_code, put_phone, put_seq,
    put_value,
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

/// The message's fields, in declaration order.
fn put_message<S: Suite<Value = Bytes>>(
    out: &mut Vec<u8>,
    wire: Wire,
    message: &Message<S>,
) -> Result<(), EncodeError> {
    match message {
        Message::RegisterRequest { phone } => put_phone(out, "RegisterRequest.phone", phone),
        Message::RegisterSubmit { phone, public_key, proof } => {
            put_phone(out, "RegisterSubmit.phone", phone)?;
            put_value(out, PUBLIC_KEY, "RegisterSubmit.public_key", public_key)?;
            put_proof(out, wire, proof)
        }
        Message::RegisterResult { entry } | Message::PeerKey { entry } => put_entry(out, entry),
        Message::KeyRequest { peer } => put_phone(out, "KeyRequest.peer", peer),
        Message::KeyTransport { to, transport } => {
            put_phone(out, "KeyTransport.to", to)?;
            put_transport(out, transport)
        }
        Message::KeyDelivery { from, transport } => {
            put_entry(out, from)?;
            put_transport(out, transport)
        }
        Message::Data { to: peer, sealed } | Message::DataDelivery { from: peer, sealed } => {
            let field = if matches!(message, Message::Data { .. }) { "Data.to" } else { "DataDelivery.from" };
            put_phone(out, field, peer)?;
            put_sealed(out, wire, sealed)
        }
        Message::Ack { to: peer, ack } | Message::AckDelivery { from: peer, ack } => {
            let field = if matches!(message, Message::Ack { .. }) { "Ack.to" } else { "AckDelivery.from" };
            put_phone(out, field, peer)?;
            put_ack(out, wire, ack)
        }
        Message::Connect { phone } => put_phone(out, "Connect.phone", phone),
        Message::Disconnect { phone } => put_phone(out, "Disconnect.phone", phone),
        Message::Error { code } => put_code(out, "Error.code", *code),
    }
}

fn get_message<S: Suite<Value = Bytes>>(
    input: &mut Reader<'_>,
    wire: Wire,
    kind: MessageType,
) -> Result<Message<S>, DecodeError> {
    Ok(match kind {
        MessageType::RegisterRequest => {
            Message::RegisterRequest { phone: get_phone(input, "RegisterRequest.phone")? }
        }
        MessageType::RegisterSubmit => Message::RegisterSubmit {
            phone: get_phone(input, "RegisterSubmit.phone")?,
            public_key: get_value(input, PUBLIC_KEY, "RegisterSubmit.public_key")?,
            proof: get_proof(input, wire)?,
        },
        MessageType::RegisterResult => Message::RegisterResult { entry: get_entry(input)? },
        MessageType::KeyRequest => Message::KeyRequest { peer: get_phone(input, "KeyRequest.peer")? },
        MessageType::PeerKey => Message::PeerKey { entry: get_entry(input)? },
        MessageType::KeyTransport => Message::KeyTransport {
            to: get_phone(input, "KeyTransport.to")?,
            transport: get_transport(input)?,
        },
        MessageType::KeyDelivery => {
            Message::KeyDelivery { from: get_entry(input)?, transport: get_transport(input)? }
        }
        MessageType::Data => {
            Message::Data { to: get_phone(input, "Data.to")?, sealed: get_sealed(input, wire)? }
        }
        MessageType::DataDelivery => Message::DataDelivery {
            from: get_phone(input, "DataDelivery.from")?,
            sealed: get_sealed(input, wire)?,
        },
        MessageType::Ack => Message::Ack { to: get_phone(input, "Ack.to")?, ack: get_ack(input, wire)? },
        MessageType::AckDelivery => {
            Message::AckDelivery { from: get_phone(input, "AckDelivery.from")?, ack: get_ack(input, wire)? }
        }
        MessageType::Connect => Message::Connect { phone: get_phone(input, "Connect.phone")? },
        MessageType::Disconnect => Message::Disconnect { phone: get_phone(input, "Disconnect.phone")? },
        MessageType::Error => Message::Error { code: get_code(input, "Error.code")? },
    })
}

/// DirectoryEntry: phone, public key, signature (both versions).
fn put_entry<S: Suite<Value = Bytes>>(
    out: &mut Vec<u8>,
    entry: &DirectoryEntry<S>,
) -> Result<(), EncodeError> {
    put_phone(out, "DirectoryEntry.phone", &entry.phone)?;
    put_value(out, PUBLIC_KEY, "DirectoryEntry.public_key", &entry.public_key)?;
    put_value(out, SIGNATURE, "DirectoryEntry.signature", &entry.signature)
}

fn get_entry<S: Suite<Value = Bytes>>(input: &mut Reader<'_>) -> Result<DirectoryEntry<S>, DecodeError> {
    Ok(DirectoryEntry {
        phone: get_phone(input, "DirectoryEntry.phone")?,
        public_key: get_value(input, PUBLIC_KEY, "DirectoryEntry.public_key")?,
        signature: get_value(input, SIGNATURE, "DirectoryEntry.signature")?,
    })
}

/// Transport: RSA ciphertext, signature (both versions).
fn put_transport<S: Suite<Value = Bytes>>(
    out: &mut Vec<u8>,
    transport: &Transport<S>,
) -> Result<(), EncodeError> {
    put_value(out, RSA_CIPHERTEXT, "Transport.ciphertext", &transport.ciphertext)?;
    put_value(out, SIGNATURE, "Transport.signature", &transport.signature)
}

fn get_transport<S: Suite<Value = Bytes>>(input: &mut Reader<'_>) -> Result<Transport<S>, DecodeError> {
    Ok(Transport {
        ciphertext: get_value(input, RSA_CIPHERTEXT, "Transport.ciphertext")?,
        signature: get_value(input, SIGNATURE, "Transport.signature")?,
    })
}

fn wrong_layout(wire: Wire, body: &'static str) -> EncodeError {
    EncodeError::WrongLayout { wire, body }
}

/// RegistrationProof: v1 tag; v2 sealed tag, possession.
fn put_proof<S: Suite<Value = Bytes>>(
    out: &mut Vec<u8>,
    wire: Wire,
    proof: &RegistrationProof<S>,
) -> Result<(), EncodeError> {
    match (wire, proof) {
        (Wire::Seed, RegistrationProof::Seed { tag }) => put_value(out, TAG, "RegistrationProof.tag", tag),
        (Wire::Hardened, RegistrationProof::Hardened { sealed_tag, possession }) => {
            put_value(out, SEALED_TAG, "RegistrationProof.sealed_tag", sealed_tag)?;
            put_value(out, POSSESSION, "RegistrationProof.possession", possession)
        }
        (_, RegistrationProof::Seed { .. }) => Err(wrong_layout(wire, "RegistrationProof::Seed")),
        (_, RegistrationProof::Hardened { .. }) => Err(wrong_layout(wire, "RegistrationProof::Hardened")),
    }
}

fn get_proof<S: Suite<Value = Bytes>>(
    input: &mut Reader<'_>,
    wire: Wire,
) -> Result<RegistrationProof<S>, DecodeError> {
    Ok(match wire {
        Wire::Seed => RegistrationProof::Seed { tag: get_value(input, TAG, "RegistrationProof.tag")? },
        Wire::Hardened => RegistrationProof::Hardened {
            sealed_tag: get_value(input, SEALED_TAG, "RegistrationProof.sealed_tag")?,
            possession: get_value(input, POSSESSION, "RegistrationProof.possession")?,
        },
    })
}

/// Sealed: v1 IV, ciphertext, MAC; v2 session id, seq, IV, ciphertext, MAC.
fn put_sealed<S: Suite<Value = Bytes>>(
    out: &mut Vec<u8>,
    wire: Wire,
    sealed: &Sealed<S>,
) -> Result<(), EncodeError> {
    match (wire, sealed) {
        (Wire::Seed, Sealed::Seed { iv, ciphertext, mac }) => {
            put_value(out, IV, "Sealed.iv", iv)?;
            put_value(out, AES_CIPHERTEXT, "Sealed.ciphertext", ciphertext)?;
            put_value(out, MAC, "Sealed.mac", mac)
        }
        (Wire::Hardened, Sealed::Hardened { session, seq, iv, ciphertext, mac }) => {
            put_value(out, SESSION_ID, "Sealed.session", session)?;
            put_seq(out, "Sealed.seq", *seq)?;
            put_value(out, IV, "Sealed.iv", iv)?;
            put_value(out, AES_CIPHERTEXT, "Sealed.ciphertext", ciphertext)?;
            put_value(out, MAC, "Sealed.mac", mac)
        }
        (_, Sealed::Seed { .. }) => Err(wrong_layout(wire, "Sealed::Seed")),
        (_, Sealed::Hardened { .. }) => Err(wrong_layout(wire, "Sealed::Hardened")),
    }
}

fn get_sealed<S: Suite<Value = Bytes>>(input: &mut Reader<'_>, wire: Wire) -> Result<Sealed<S>, DecodeError> {
    Ok(match wire {
        Wire::Seed => Sealed::Seed {
            iv: get_value(input, IV, "Sealed.iv")?,
            ciphertext: get_value(input, AES_CIPHERTEXT, "Sealed.ciphertext")?,
            mac: get_value(input, MAC, "Sealed.mac")?,
        },
        Wire::Hardened => Sealed::Hardened {
            session: get_value(input, SESSION_ID, "Sealed.session")?,
            seq: get_seq(input, "Sealed.seq")?,
            iv: get_value(input, IV, "Sealed.iv")?,
            ciphertext: get_value(input, AES_CIPHERTEXT, "Sealed.ciphertext")?,
            mac: get_value(input, MAC, "Sealed.mac")?,
        },
    })
}

/// Ack: v1 text, MAC; v2 session id, seq, the acknowledged message's MAC tag, MAC.
fn put_ack<S: Suite<Value = Bytes>>(out: &mut Vec<u8>, wire: Wire, ack: &Ack<S>) -> Result<(), EncodeError> {
    match (wire, ack) {
        (Wire::Seed, Ack::Seed { text, mac }) => {
            put_value(out, ACK_TEXT, "Ack.text", text)?;
            put_value(out, MAC, "Ack.mac", mac)
        }
        (Wire::Hardened, Ack::Hardened { session, seq, tag, mac }) => {
            put_value(out, SESSION_ID, "Ack.session", session)?;
            put_seq(out, "Ack.seq", *seq)?;
            put_value(out, MAC, "Ack.tag", tag)?;
            put_value(out, MAC, "Ack.mac", mac)
        }
        (_, Ack::Seed { .. }) => Err(wrong_layout(wire, "Ack::Seed")),
        (_, Ack::Hardened { .. }) => Err(wrong_layout(wire, "Ack::Hardened")),
    }
}

fn get_ack<S: Suite<Value = Bytes>>(input: &mut Reader<'_>, wire: Wire) -> Result<Ack<S>, DecodeError> {
    Ok(match wire {
        Wire::Seed => Ack::Seed {
            text: get_value(input, ACK_TEXT, "Ack.text")?,
            mac: get_value(input, MAC, "Ack.mac")?,
        },
        Wire::Hardened => Ack::Hardened {
            session: get_value(input, SESSION_ID, "Ack.session")?,
            seq: get_seq(input, "Ack.seq")?,
            tag: get_value(input, MAC, "Ack.tag")?,
            mac: get_value(input, MAC, "Ack.mac")?,
        },
    })
}
