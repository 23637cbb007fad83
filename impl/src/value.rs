//! The concrete protocol value: bytes, marked secret or public.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use subtle::ConstantTimeEq;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
use zeroize::Zeroize;

/// Bytes of a protocol value. Secret values (keys, OTPs, plaintexts) print only their length
/// and are wiped on drop; public ones (ciphertexts, MACs, IVs, signatures, keys of the
/// directory) are not, since anyone on the network has them. Every constructor decides the
/// secrecy ([`Bytes::secret`], [`Bytes::public`]; the suite documents which outputs are which)
/// and [`ConcreteSuite::tuple`](crate::ConcreteSuite) keeps it for tuples with a secret part.
/// Equality is constant-time in the contents.
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
        if self.secret {
            wipe(&mut self.bytes);
        }
    }
}

/// Overwrites the whole allocation of `bytes` (spare capacity included) with zeros, in a way
/// the compiler may not elide.
///
/// `zeroize` writes one volatile byte at a time (about a byte per cycle: a third of the
/// cost of opening a 1 KiB message); this is one `memset`, followed by an empty `asm` block
/// that receives the buffer's address and, being allowed to read memory, forces the zeros to
/// be stored first — the technique of `explicit_bzero`.
fn wipe(bytes: &mut Vec<u8>) {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    {
        let capacity = bytes.capacity();
        bytes.clear();
        let start = bytes.as_mut_ptr();
        // SAFETY: `start` is valid for writes of `capacity` bytes (the vector's allocation);
        // after `clear` no initialised element is left to be read as a `u8` it is not.
        unsafe { std::ptr::write_bytes(start, 0, capacity) };
        // SAFETY: an empty instruction sequence; it only takes the pointer as an operand.
        unsafe { std::arch::asm!("/* {0} */", in(reg) start, options(nostack, preserves_flags)) };
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    bytes.zeroize();
}

impl PartialEq for Bytes {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(&self.bytes, &other.bytes)
    }
}

/// Whether `a` and `b` hold the same bytes, in time that depends on their lengths (public)
/// but not on their contents: the one comparison behind [`Bytes`]' equality, the suites'
/// `ct_eq` and the AWS-LC suite's HMAC check.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
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
    fn wipe_zeroes_the_whole_allocation() {
        let mut bytes = Vec::with_capacity(100);
        bytes.extend_from_slice(&[0xab; 60]);
        let (start, capacity) = (bytes.as_ptr(), bytes.capacity());
        wipe(&mut bytes);
        assert!(bytes.is_empty());
        assert_eq!((bytes.as_ptr(), bytes.capacity()), (start, capacity), "the allocation is kept");
        // SAFETY: the allocation is still owned by `bytes`, and `wipe` initialised all of it.
        let after = unsafe { std::slice::from_raw_parts(start, capacity) };
        assert!(after.iter().all(|b| *b == 0), "{after:?}");
    }

    #[test]
    fn secrecy_is_kept_by_the_constructors() {
        assert!(Bytes::secret(vec![1]).is_secret());
        assert!(!Bytes::public(vec![1]).is_secret());
        assert!(!Bytes::default().is_secret());
    }

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
