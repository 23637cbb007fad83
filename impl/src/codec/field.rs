//! Field kinds: each declares its framing (prefix width or fixed size) and bounds once, and
//! both directions use that declaration through [`Field`].

use ee2e_spec::{ErrorCode, Phone, Wire};

use super::{DecodeError, EncodeError};
use crate::value::Bytes;

/// Width of a big-endian length prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Prefix {
    /// One byte.
    U8,
    /// Two bytes, big-endian.
    U16,
    /// Four bytes, big-endian.
    U32,
}

impl Prefix {
    /// The prefix's size in bytes.
    pub(super) const fn width(self) -> usize {
        match self {
            Prefix::U8 => 1,
            Prefix::U16 => 2,
            Prefix::U32 => 4,
        }
    }

    /// The largest length the prefix can express.
    const fn limit(self) -> usize {
        match self {
            Prefix::U8 => u8::MAX as usize,
            Prefix::U16 => u16::MAX as usize,
            Prefix::U32 => u32::MAX as usize,
        }
    }
}

/// How a field is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// A length prefix, then `min..=max` bytes.
    Prefixed {
        /// Width of the length prefix.
        prefix: Prefix,
        /// Fewest bytes accepted (0 or 1).
        min: usize,
        /// Most bytes accepted.
        max: usize,
    },
    /// Exactly `len` bytes, no prefix.
    Fixed {
        /// The field's size.
        len: usize,
    },
}

/// A field kind: a byte string framed by a [`Shape`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FieldKind {
    /// The framing.
    pub(super) shape: Shape,
}

impl FieldKind {
    const fn prefixed(prefix: Prefix, min: usize, max: usize) -> FieldKind {
        assert!(max <= prefix.limit() && min <= max);
        FieldKind { shape: Shape::Prefixed { prefix, min, max } }
    }

    const fn fixed(len: usize) -> FieldKind {
        FieldKind { shape: Shape::Fixed { len } }
    }

    /// The encoded size of a field of this kind carrying `len` bytes.
    #[cfg(test)]
    pub(super) const fn encoded_len(self, len: usize) -> usize {
        match self.shape {
            Shape::Prefixed { prefix, .. } => prefix.width() + len,
            Shape::Fixed { len } => len,
        }
    }

    /// Appends `value` framed as this kind, or says why it cannot be.
    fn put_bytes(self, out: &mut Vec<u8>, field: &'static str, value: &[u8]) -> Result<(), EncodeError> {
        let len = value.len();
        match self.shape {
            Shape::Prefixed { prefix, min, max } => {
                if len > max {
                    return Err(EncodeError::FieldTooLong { field, len, max });
                }
                if len < min {
                    return Err(EncodeError::EmptyField { field });
                }
                // `len <= max <= prefix.limit()`, so the casts below are exact.
                match prefix {
                    Prefix::U8 => out.push(len as u8),
                    Prefix::U16 => out.extend_from_slice(&(len as u16).to_be_bytes()),
                    Prefix::U32 => out.extend_from_slice(&(len as u32).to_be_bytes()),
                }
            }
            Shape::Fixed { len: expected } => {
                if len != expected {
                    return Err(EncodeError::WrongLength { field, len, expected });
                }
            }
        }
        out.extend_from_slice(value);
        Ok(())
    }

    /// Reads a field of this kind.
    fn get_bytes<'a>(self, input: &mut Reader<'a>, field: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = match self.shape {
            Shape::Prefixed { prefix, min, max } => {
                let raw = input.take(prefix.width(), field)?;
                let len = raw.iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                if len > max {
                    return Err(DecodeError::FieldTooLong { field, len, max });
                }
                if len < min {
                    return Err(DecodeError::EmptyField { field });
                }
                len
            }
            Shape::Fixed { len } => len,
        };
        input.take(len, field)
    }
}

/// Longest phone field: `+` and 15 digits.
pub(super) const PHONE_MAX: usize = 1 + ee2e_spec::limits::PHONE_MAX_DIGITS;

/// A phone number: u8 length, ASCII text validated as E.164.
pub(super) const PHONE: FieldKind = FieldKind::prefixed(Prefix::U8, 0, PHONE_MAX);
/// A SubjectPublicKeyInfo DER public key (not parsed here).
pub(super) const PUBLIC_KEY: FieldKind = FieldKind::prefixed(Prefix::U16, 0, super::MAX_PUBLIC_KEY);
/// An RSA signature (directory entry, key transport).
pub(super) const SIGNATURE: FieldKind = FieldKind::prefixed(Prefix::U16, 1, super::MAX_RSA_VALUE);
/// An RSA-OAEP ciphertext (key transport).
pub(super) const RSA_CIPHERTEXT: FieldKind = FieldKind::prefixed(Prefix::U16, 1, super::MAX_RSA_VALUE);
/// The sealed registration tag (hardened).
pub(super) const SEALED_TAG: FieldKind = FieldKind::prefixed(Prefix::U16, 1, super::MAX_RSA_VALUE);
/// The proof of possession (hardened); empty when the profile omits it.
pub(super) const POSSESSION: FieldKind = FieldKind::prefixed(Prefix::U16, 0, super::MAX_RSA_VALUE);
/// An AES-256-CBC ciphertext.
pub(super) const AES_CIPHERTEXT: FieldKind = FieldKind::prefixed(Prefix::U32, 0, super::MAX_CIPHERTEXT);
/// The seed ACK text.
pub(super) const ACK_TEXT: FieldKind = FieldKind::prefixed(Prefix::U8, 0, super::MAX_ACK_TEXT);
/// The seed registration tag, an HMAC-SHA-256 output.
pub(super) const TAG: FieldKind = FieldKind::fixed(32);
/// An AES-CBC initialisation vector.
pub(super) const IV: FieldKind = FieldKind::fixed(16);
/// An HMAC-SHA-256 output.
pub(super) const MAC: FieldKind = FieldKind::fixed(32);
/// A hardened session id (SHA-256 output).
pub(super) const SESSION_ID: FieldKind = FieldKind::fixed(32);
/// A sequence number: u64 big-endian.
pub(super) const SEQ: FieldKind = FieldKind::fixed(8);
/// An error code: one byte.
pub(super) const CODE: FieldKind = FieldKind::fixed(1);

/// How a value is written and read as one field: a [`FieldKind`] for a leaf (a byte string, a
/// phone, a sequence number, an error code), or a nested layout declared in `codec.rs`. Both
/// directions come from the one implementation.
pub(super) trait Field<T> {
    /// Appends `value` as the field `name` of the `wire` layout.
    fn put(self, out: &mut Vec<u8>, wire: Wire, name: &'static str, value: &T) -> Result<(), EncodeError>;

    /// Reads the field `name` of the `wire` layout.
    fn get(self, input: &mut Reader<'_>, wire: Wire, name: &'static str) -> Result<T, DecodeError>;
}

// A leaf's framing is the same on both wires, so the leaves ignore `wire`.

/// A byte-string value; wire values are public.
impl Field<Bytes> for FieldKind {
    fn put(self, out: &mut Vec<u8>, _: Wire, name: &'static str, value: &Bytes) -> Result<(), EncodeError> {
        self.put_bytes(out, name, value.as_slice())
    }

    fn get(self, input: &mut Reader<'_>, _: Wire, name: &'static str) -> Result<Bytes, DecodeError> {
        self.get_bytes(input, name).map(Bytes::public)
    }
}

/// A phone number, validated as E.164 when read.
impl Field<Phone> for FieldKind {
    fn put(self, out: &mut Vec<u8>, _: Wire, name: &'static str, phone: &Phone) -> Result<(), EncodeError> {
        self.put_bytes(out, name, phone.as_bytes())
    }

    fn get(self, input: &mut Reader<'_>, _: Wire, name: &'static str) -> Result<Phone, DecodeError> {
        let text = self.get_bytes(input, name)?;
        Phone::from_bytes(text).map_err(|_| DecodeError::InvalidPhone { field: name })
    }
}

/// A sequence number, big-endian.
impl Field<u64> for FieldKind {
    fn put(self, out: &mut Vec<u8>, _: Wire, name: &'static str, seq: &u64) -> Result<(), EncodeError> {
        self.put_bytes(out, name, &seq.to_be_bytes())
    }

    fn get(self, input: &mut Reader<'_>, _: Wire, name: &'static str) -> Result<u64, DecodeError> {
        let bytes = self.get_bytes(input, name)?;
        let mut be = [0u8; 8];
        be.copy_from_slice(bytes);
        Ok(u64::from_be_bytes(be))
    }
}

/// An error code, one byte.
impl Field<ErrorCode> for FieldKind {
    fn put(
        self,
        out: &mut Vec<u8>,
        _: Wire,
        name: &'static str,
        code: &ErrorCode,
    ) -> Result<(), EncodeError> {
        self.put_bytes(out, name, &[*code as u8])
    }

    fn get(self, input: &mut Reader<'_>, _: Wire, name: &'static str) -> Result<ErrorCode, DecodeError> {
        let byte = self.get_bytes(input, name)?[0];
        ErrorCode::from_u8(byte).ok_or(DecodeError::UnknownErrorCode { found: byte })
    }
}

/// A cursor over the bytes being decoded.
#[derive(Debug)]
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    /// Takes the next `len` bytes, or reports `field` truncated.
    pub(super) fn take(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.rest.len() < len {
            return Err(DecodeError::Truncated { field });
        }
        let (head, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(head)
    }

    /// Takes one byte.
    pub(super) fn byte(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    /// Succeeds only if every byte was consumed.
    pub(super) fn finish(self) -> Result<(), DecodeError> {
        match self.rest.len() {
            0 => Ok(()),
            count => Err(DecodeError::TrailingBytes { count }),
        }
    }
}
