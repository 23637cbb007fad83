//! The concrete protocol value: bytes, marked secret or public.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// Bytes of a protocol value. Secret values (keys, OTPs, plaintexts) print only their length;
/// every value is zeroized on drop, because a value's secrecy is not always known where it
/// is dropped. Equality is constant-time in the contents.
#[derive(Clone, Default)]
pub struct Bytes {
    bytes: Vec<u8>,
    secret: bool,
}

impl Bytes {
    /// A public value.
    pub fn public(bytes: impl Into<Vec<u8>>) -> Self {
        Bytes { bytes: bytes.into(), secret: false }
    }

    /// A secret value.
    pub fn secret(bytes: impl Into<Vec<u8>>) -> Self {
        Bytes { bytes: bytes.into(), secret: true }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }

    /// Whether the value is secret.
    pub fn is_secret(&self) -> bool {
        self.secret
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Lowercase hex of the bytes. Explicit, so that secrets are never formatted by accident.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.bytes)
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.len() == other.bytes.len() && bool::from(self.bytes.ct_eq(&other.bytes))
    }
}

impl Eq for Bytes {}

impl Hash for Bytes {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl PartialOrd for Bytes {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Bytes {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.secret {
            write!(f, "Secret({} bytes)", self.bytes.len())
        } else if self.bytes.len() <= 32 {
            write!(f, "{}", hex::encode(&self.bytes))
        } else {
            write!(f, "{}…({} bytes)", hex::encode(&self.bytes[..16]), self.bytes.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_shows_no_bytes() {
        let s = Bytes::secret(vec![0xab; 32]);
        let text = format!("{s:?}");
        assert_eq!(text, "Secret(32 bytes)");
        assert!(!text.contains("ab"));
    }

    #[test]
    fn public_debug_shows_hex() {
        assert_eq!(format!("{:?}", Bytes::public(vec![1, 2])), "0102");
    }

    #[test]
    fn equality_ignores_secrecy_and_compares_contents() {
        assert_eq!(Bytes::public(vec![1, 2]), Bytes::secret(vec![1, 2]));
        assert_ne!(Bytes::public(vec![1, 2]), Bytes::public(vec![1, 3]));
        assert_ne!(Bytes::public(vec![1, 2]), Bytes::public(vec![1, 2, 0]));
    }
}
