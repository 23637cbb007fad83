//! The crypto provider interface: the narrow set of primitives the protocol uses.
//!
//! The protocol logic never touches bytes or terms directly; it calls these operations on
//! opaque values. `ee2e::ConcreteSuite` implements them with RustCrypto, the model's
//! `SymbolicSuite` with perfect-cryptography terms. Protocol-level constructions (salt, tag,
//! key schedule, seal/open) are built once on top of this trait in [`crate::derive`].

use std::fmt::Debug;
use std::hash::Hash;

/// What a fresh random value is for. The symbolic suite names fresh values by purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fresh {
    /// A one-time password: 6 ASCII decimal digits.
    Otp,
    /// A 32-byte symmetric session key `K`.
    SessionKey,
    /// A 16-byte AES-CBC initialisation vector.
    Iv,
}

/// RSA signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SigScheme {
    /// RSASSA-PKCS1-v1_5 with SHA-256 (the seed's "encrypt the SHA-256 with the private key").
    Pkcs1v15Sha256,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256, 32-byte salt.
    PssSha256,
}

/// The input of a hash, MAC or signature.
///
/// `Raw` takes a value's bytes as they are (the seed's constructions); `Tuple` takes the
/// canonical tuple encoding of its parts (each part as a 4-byte big-endian length followed
/// by its bytes), so that concrete suites can feed the parts without building the tuple.
#[derive(Debug, Clone, Copy)]
pub enum Input<'a, V> {
    /// The bytes of one value.
    Raw(&'a V),
    /// The tuple encoding of several values.
    Tuple(&'a [&'a V]),
}

/// Failure of a cryptographic operation. Decryption failures carry no detail on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Decryption or unpadding failed.
    #[error("decryption failed")]
    Decrypt,
    /// A signature did not verify.
    #[error("signature verification failed")]
    BadSignature,
    /// A public key could not be parsed or has an unsupported size.
    #[error("invalid public key")]
    InvalidKey,
    /// A key, IV or plaintext has the wrong length for the operation.
    #[error("invalid length")]
    InvalidLength,
    /// The private-key operation itself failed (e.g. message too long for the modulus).
    #[error("private-key operation failed")]
    Operation,
}

/// Every cryptographic primitive EE2E uses, over suite-defined value types.
///
/// Implementations must be deterministic given their inputs and the random source passed in;
/// the protocol core never draws randomness or reads a clock by itself.
/// The implementing type is a marker (a unit struct); the bounds on it let protocol types
/// derive `Clone`, `Eq`, `Hash` and `Ord`, which the model checker needs.
pub trait Suite: Sized + Copy + Debug + Eq + Ord + Hash + Default + 'static {
    /// Any protocol value: bytes concretely, a term symbolically. Public keys are values
    /// (their SubjectPublicKeyInfo DER encoding concretely).
    type Value: Clone + Eq + Ord + Hash + Debug;
    /// A party's RSA private key.
    type PrivateKey: Clone + Eq + Hash + Debug;
    /// A prepared AES-256 key (key schedule done once per session).
    type CipherKey: Clone + Eq + Hash + Debug;
    /// A prepared HMAC-SHA-256 key.
    type MacKey: Clone + Eq + Hash + Debug;
    /// The caller-supplied random source.
    type Rng;

    /// A public constant (label, phone number, sequence number) as a value.
    fn constant(bytes: &[u8]) -> Self::Value;
    /// The canonical tuple encoding of `parts` as one value (used for OAEP labels and HKDF info).
    fn tuple(parts: &[&Self::Value]) -> Self::Value;
    /// The public key of `key`, encoded as a value.
    fn public_key(key: &Self::PrivateKey) -> Self::Value;
    /// Checks that `public_key` is a well-formed RSA public key of an accepted size.
    fn check_public_key(public_key: &Self::Value) -> Result<(), CryptoError>;
    /// A fresh random value for `purpose`.
    fn random(rng: &mut Self::Rng, purpose: Fresh) -> Self::Value;
    /// The length of `value` in bytes, where values have one (concrete suites); `None` for
    /// symbolic values, whose size the model does not track. The client's plaintext limit
    /// (SPEC.md §7.2) is checked only where the length is known.
    fn byte_len(value: &Self::Value) -> Option<usize> {
        let _ = value;
        None
    }

    /// SHA-256.
    fn sha256(input: Input<'_, Self::Value>) -> Self::Value;
    /// Prepares an HMAC-SHA-256 key.
    fn mac_key(key: &Self::Value) -> Self::MacKey;
    /// HMAC-SHA-256.
    fn hmac(key: &Self::MacKey, input: Input<'_, Self::Value>) -> Self::Value;
    /// Recomputes HMAC-SHA-256 and compares it with `tag` in constant time.
    fn hmac_verify(key: &Self::MacKey, input: Input<'_, Self::Value>, tag: &Self::Value) -> bool;
    /// Compares two secret values in constant time.
    fn ct_eq(a: &Self::Value, b: &Self::Value) -> bool;
    /// PBKDF2-HMAC-SHA-256 with a 32-byte output.
    fn pbkdf2(password: &Self::Value, salt: &Self::Value, iterations: u32) -> Self::Value;
    /// HKDF-SHA-256 (extract then expand) with a 32-byte output.
    fn hkdf(ikm: &Self::Value, salt: &Self::Value, info: &Self::Value) -> Self::Value;

    /// RSAES-OAEP (SHA-256, MGF1-SHA-256) encryption under `public_key` with `label`.
    fn pke_encrypt(
        public_key: &Self::Value,
        label: &Self::Value,
        plaintext: &Self::Value,
        rng: &mut Self::Rng,
    ) -> Result<Self::Value, CryptoError>;
    /// RSAES-OAEP decryption. `rng` blinds the private operation (a concrete suite draws
    /// from it; the plaintext does not depend on it).
    fn pke_decrypt(
        key: &Self::PrivateKey,
        label: &Self::Value,
        ciphertext: &Self::Value,
        rng: &mut Self::Rng,
    ) -> Result<Self::Value, CryptoError>;
    /// Signs `input` with `key` under `scheme`.
    fn sign(
        key: &Self::PrivateKey,
        scheme: SigScheme,
        input: Input<'_, Self::Value>,
        rng: &mut Self::Rng,
    ) -> Result<Self::Value, CryptoError>;
    /// Verifies `signature` over `input` under `public_key` and `scheme`.
    fn verify(
        public_key: &Self::Value,
        scheme: SigScheme,
        input: Input<'_, Self::Value>,
        signature: &Self::Value,
    ) -> Result<(), CryptoError>;

    /// Prepares an AES-256 key; the key must be 32 bytes.
    fn cipher_key(key: &Self::Value) -> Result<Self::CipherKey, CryptoError>;
    /// AES-256-CBC with PKCS#7 padding; `iv` must be 16 bytes.
    fn encrypt(
        key: &Self::CipherKey,
        iv: &Self::Value,
        plaintext: &Self::Value,
    ) -> Result<Self::Value, CryptoError>;
    /// AES-256-CBC decryption and PKCS#7 unpadding.
    fn decrypt(
        key: &Self::CipherKey,
        iv: &Self::Value,
        ciphertext: &Self::Value,
    ) -> Result<Self::Value, CryptoError>;
}
