//! The suite's key types (RSA private keys, prepared AES and HMAC keys) and the public-key
//! policy; with what the AWS-LC suite's key types share: [`key_identity!`] and
//! [`aes256_key_bytes`].

use std::fmt;
use std::sync::Arc;

use aes::Aes256;
use cbc::cipher::KeyInit;
use ee2e_spec::CryptoError;
use hmac::Hmac;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::KEY_LEN;
use super::rng::Rng;
use crate::value::Bytes;

/// The RSA modulus sizes EE2E accepts, in bits.
pub const ACCEPTED_KEY_BITS: [usize; 2] = [2048, 3072];

/// Implements `PartialEq`, `Eq` and `Hash` for a key type through one [`Bytes`] field, its
/// identity: the public key of a private key, the raw bytes of a prepared key. Never
/// through the prepared state (an RSA key, a key schedule, a keyed HMAC state), which has
/// neither and only repeats those bytes. Equality is therefore [`Bytes`]'s, constant time in
/// the contents. Every key type of both concrete suites uses it, so that they compare alike.
macro_rules! key_identity {
    ($key:ident by $field:ident) => {
        impl PartialEq for $key {
            fn eq(&self, other: &Self) -> bool {
                self.$field == other.$field
            }
        }

        impl Eq for $key {}

        impl std::hash::Hash for $key {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                std::hash::Hash::hash(&self.$field, state);
            }
        }
    };
}
// This module invokes it by its textual scope; the AWS-LC suite by this path.
#[cfg(feature = "aws-lc")]
pub(crate) use key_identity;

/// The raw bytes an AES-256 key is prepared from, as a secret copy that the prepared key
/// keeps (wiped on drop) for its identity.
///
/// # Errors
/// [`CryptoError::InvalidLength`] unless `key` is 32 bytes.
pub(crate) fn aes256_key_bytes(key: &[u8]) -> Result<Bytes, CryptoError> {
    if key.len() != KEY_LEN {
        return Err(CryptoError::InvalidLength);
    }
    Ok(Bytes::secret(key))
}

/// Failure to load or generate an RSA private key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is not a PKCS#8 PEM RSA private key the `rsa` crate accepts.
    #[error("not a valid PKCS#8 PEM RSA private key: {0}")]
    Parse(String),
    /// Key generation was asked for a modulus size EE2E does not use.
    #[error("unsupported RSA modulus size {bits} bits: only 2048 and 3072 are supported")]
    UnsupportedSize {
        /// The requested size.
        bits: usize,
    },
    /// The `rsa` crate failed to generate a key.
    #[error("RSA key generation failed: {0}")]
    Generation(String),
    /// The public key could not be encoded as SubjectPublicKeyInfo DER.
    #[error("cannot encode the public key as SubjectPublicKeyInfo: {0}")]
    Encode(String),
}

/// An RSA private key, shared cheaply, with its public key cached as SubjectPublicKeyInfo DER.
///
/// Equality and hashing compare the public key only. `Debug` shows the size and a short
/// SHA-256 fingerprint of the public key, never secret material. The `rsa` crate's key
/// zeroizes its private exponent, primes and CRT values on drop (`impl Drop for PrivateKey`
/// in rsa 0.10.0; the CRT coefficient `qinv` is the one precomputed value it leaves out), and
/// the key is dropped when the last clone of this handle is.
#[derive(Clone)]
pub struct PrivateKey {
    pub(super) key: Arc<RsaPrivateKey>,
    pub(super) public: Bytes,
}

impl PrivateKey {
    fn from_rsa(key: RsaPrivateKey) -> Result<Self, KeyError> {
        let der = key.as_public_key().to_public_key_der().map_err(|e| KeyError::Encode(e.to_string()))?;
        Ok(PrivateKey { key: Arc::new(key), public: Bytes::public(der.as_bytes()) })
    }

    /// Parses a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) RSA private key.
    ///
    /// Accepts every two-prime key the `rsa` crate accepts (modulus 1024 to 8192 bits), so that
    /// tests can load undersized keys; the protocol refuses such keys through
    /// [`Suite::check_public_key`](ee2e_spec::Suite::check_public_key).
    ///
    /// # Errors
    /// [`KeyError::Parse`] if the text is not such a key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Parse(e.to_string()))?;
        Self::from_rsa(key)
    }

    /// The key as PKCS#8 PEM with LF line endings, in memory that is zeroized on drop.
    ///
    /// # Panics
    /// Never for a key built by this type (only multi-prime keys fail to encode, and they are
    /// not accepted).
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        self.key.to_pkcs8_pem(LineEnding::LF).expect("a two-prime RSA key always encodes as PKCS#8")
    }

    /// Generates a key with public exponent 65537 and a `bits`-bit modulus (2048 or 3072).
    ///
    /// # Errors
    /// [`KeyError::UnsupportedSize`] for any other size, [`KeyError::Generation`] if the
    /// `rsa` crate fails.
    pub fn generate(bits: usize, rng: &mut Rng) -> Result<Self, KeyError> {
        if !ACCEPTED_KEY_BITS.contains(&bits) {
            return Err(KeyError::UnsupportedSize { bits });
        }
        let key = RsaPrivateKey::new(rng, bits).map_err(|e| KeyError::Generation(e.to_string()))?;
        Self::from_rsa(key)
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.key.n().bit_width_vartime() as usize
    }

    /// The public key as SubjectPublicKeyInfo DER (a public value).
    pub fn public_key_der(&self) -> &Bytes {
        &self.public
    }
}

key_identity!(PrivateKey by public);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fingerprint = Sha256::digest(self.public.as_slice());
        write!(f, "PrivateKey({} bits, spki-sha256 {}…)", self.bits(), hex::encode(&fingerprint[..4]))
    }
}

/// A prepared HMAC-SHA-256 key: the keyed state is computed once and cloned per MAC.
///
/// Equality is constant time in the key bytes; the raw key is zeroized on drop and never
/// printed.
#[derive(Clone)]
pub struct MacKey {
    pub(super) mac: Hmac<Sha256>,
    key: Bytes,
}

impl MacKey {
    /// Keys HMAC-SHA-256 with `key` (any length).
    pub(super) fn new(key: &[u8]) -> Self {
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
        MacKey { mac, key: Bytes::secret(key) }
    }
}

key_identity!(MacKey by key);

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacKey({} bytes)", self.key.len())
    }
}

/// A prepared AES-256 key: the key schedule is computed once per session.
///
/// Equality is constant time in the key bytes; the raw key and the key schedule are zeroized
/// on drop (the `aes` crate's `zeroize` feature) and never printed.
#[derive(Clone)]
pub struct CipherKey {
    pub(super) cipher: Aes256,
    key: Bytes,
}

impl CipherKey {
    /// Runs the AES-256 key schedule.
    ///
    /// # Errors
    /// [`CryptoError::InvalidLength`] unless `key` is 32 bytes.
    pub(super) fn new(key: &[u8]) -> Result<Self, CryptoError> {
        let key = aes256_key_bytes(key)?;
        let cipher =
            <Aes256 as KeyInit>::new_from_slice(key.as_slice()).map_err(|_| CryptoError::InvalidLength)?;
        Ok(CipherKey { cipher, key })
    }
}

key_identity!(CipherKey by key);

impl fmt::Debug for CipherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CipherKey(AES-256)")
    }
}

/// Parses a public key under EE2E's policy: canonical SubjectPublicKeyInfo DER of an
/// `rsaEncryption` key with a 2048- or 3072-bit modulus and exponent 65537.
pub(super) fn parse_public_key(der: &Bytes) -> Result<RsaPublicKey, CryptoError> {
    let key = RsaPublicKey::from_public_key_der(der.as_slice()).map_err(|_| CryptoError::InvalidKey)?;
    let bits = key.n().bit_width_vartime() as usize;
    if !ACCEPTED_KEY_BITS.contains(&bits) || *key.e_bytes() != [0x01, 0x00, 0x01] {
        return Err(CryptoError::InvalidKey);
    }
    // One key, one encoding: public keys are identities (directory entries, MAC and signature
    // inputs), so a re-encoded form (RSASSA-PSS algorithm identifier, ...) is refused.
    let canonical = key.to_public_key_der().map_err(|_| CryptoError::InvalidKey)?;
    if canonical.as_bytes() != der.as_slice() {
        return Err(CryptoError::InvalidKey);
    }
    Ok(key)
}
