//! [`ConcreteSuite`]: the EE2E primitives on real bytes, implemented with RustCrypto.
//!
//! | operation | construction |
//! |---|---|
//! | `tuple` | each part as a 4-byte big-endian length, then its bytes |
//! | `sha256`, `hmac` | SHA-256, HMAC-SHA-256 over the raw bytes or the tuple encoding (fed part by part) |
//! | `pbkdf2` | PBKDF2-HMAC-SHA-256, 32-byte output |
//! | `hkdf` | HKDF-SHA-256 extract then expand, 32-byte output |
//! | `pke_encrypt` | RSAES-OAEP, SHA-256, MGF1-SHA-256, the label value as the OAEP label |
//! | `sign` | RSASSA-PKCS1-v1_5-SHA-256, or RSASSA-PSS-SHA-256 (MGF1-SHA-256, 32-byte salt) |
//! | `encrypt` | AES-256-CBC with PKCS#7 padding and a 16-byte IV |
//!
//! Public keys are SubjectPublicKeyInfo DER (`rsaEncryption`); the only accepted keys have a
//! 2048- or 3072-bit modulus and public exponent 65537, in the canonical encoding.
//!
//! Secrecy of outputs: fresh OTPs and session keys, PBKDF2/HKDF outputs and every decrypted
//! plaintext are secret; hashes, MACs, signatures, ciphertexts, IVs and public keys are public;
//! a tuple is secret if any of its parts is.
//!
//! Side channels: HMAC tags and secret values are compared in constant time, and RSA private
//! operations are blinded. The `rsa` crate's private-key operations are not claimed to be free
//! of timing side channels (its own documentation still lists the Marvin attack as open);
//! PKCS#7 unpadding is not constant time.
//!
//! Layout: `rng` the random source, `keys` the key types and the public-key policy,
//! `aes_cbc` the CBC loops and padding, `hash` the tuple encoding and hash/KDF helpers,
//! `rsa_oaep` raw RSA decryption with our OAEP decoding; this file the [`Suite`] impl.

mod aes_cbc;
mod hash;
mod keys;
mod rng;
mod rsa_oaep;
#[cfg(test)]
mod tests;

use ee2e_spec::{CryptoError, Fresh, Input, SigScheme, Suite};
use hmac::Mac;
use rsa::Oaep;
use sha2::Sha256;

/// Unauthenticated primitives below the [`Suite`]: raw AES-256-CBC over whole blocks, with
/// no padding and no MAC. Only for measuring the cipher alone (`benches/`, the OpenSSL
/// comparison); a message sealed with them has no integrity, and no protocol path uses them.
pub mod hazmat {
    pub use super::aes_cbc::{cbc_decrypt_blocks, cbc_encrypt_blocks};
}
// What the AWS-LC suite takes from this one, so that one place owns each convention both
// follow: lengths, the tuple's streaming encoding, KDF outputs, key identity, CBC buffers.
#[cfg(feature = "aws-lc")]
pub(crate) use self::aes_cbc::{decrypt_iv, decrypted_plaintext, encrypt_buffer};
pub(crate) use self::hash::derived_key;
#[cfg(feature = "aws-lc")]
pub(crate) use self::hash::feed_parts;
use self::hash::{digest, feed, hkdf_sha256_into, pbkdf2_sha256_into};
use self::keys::parse_public_key;
pub use self::keys::{ACCEPTED_KEY_BITS, CipherKey, KeyError, MacKey, PrivateKey};
#[cfg(feature = "aws-lc")]
pub(crate) use self::keys::{aes256_key_bytes, key_identity};
#[cfg(feature = "aws-lc")]
pub(crate) use self::rng::FORK_SEED_LEN;
pub use self::rng::{Rng, os_rng, seeded_rng};
use self::rsa_oaep::{oaep_decode, rsa_decrypt_raw};
use crate::value::{Bytes, ct_eq};

/// Length of the 4-byte big-endian prefix of every tuple part.
const LENGTH_PREFIX: usize = 4;
/// AES block and CBC IV length.
pub(crate) const BLOCK: usize = 16;
/// AES-256 key, session key, SHA-256 and KDF output length.
pub(crate) const KEY_LEN: usize = 32;

/// The concrete crypto suite: protocol values are [`Bytes`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConcreteSuite;

impl Suite for ConcreteSuite {
    type Value = Bytes;
    type PrivateKey = PrivateKey;
    type CipherKey = CipherKey;
    type MacKey = MacKey;
    type Rng = Rng;

    fn constant(bytes: &[u8]) -> Bytes {
        Bytes::public(bytes)
    }

    fn tuple(parts: &[&Bytes]) -> Bytes {
        hash::tuple(parts)
    }

    fn public_key(key: &PrivateKey) -> Bytes {
        key.public.clone()
    }

    fn check_public_key(public_key: &Bytes) -> Result<(), CryptoError> {
        parse_public_key(public_key).map(drop)
    }

    fn byte_len(value: &Bytes) -> Option<usize> {
        Some(value.len())
    }

    fn random(rng: &mut Rng, purpose: Fresh) -> Bytes {
        match purpose {
            Fresh::Otp => Bytes::secret(rng::otp_digits(rng)),
            Fresh::SessionKey => Bytes::secret(rng::fresh_bytes(rng, KEY_LEN)),
            Fresh::Iv => Bytes::public(rng::fresh_bytes(rng, BLOCK)),
        }
    }

    fn sha256(input: Input<'_, Bytes>) -> Bytes {
        Bytes::public(digest(input).as_slice())
    }

    fn mac_key(key: &Bytes) -> MacKey {
        MacKey::new(key.as_slice())
    }

    fn hmac(key: &MacKey, input: Input<'_, Bytes>) -> Bytes {
        let mut mac = key.mac.clone();
        feed(&mut mac, input);
        Bytes::public(mac.finalize().into_bytes().as_slice())
    }

    fn hmac_verify(key: &MacKey, input: Input<'_, Bytes>, tag: &Bytes) -> bool {
        let mut mac = key.mac.clone();
        feed(&mut mac, input);
        mac.verify_slice(tag.as_slice()).is_ok()
    }

    fn ct_eq(a: &Bytes, b: &Bytes) -> bool {
        ct_eq(a.as_slice(), b.as_slice())
    }

    fn pbkdf2(password: &Bytes, salt: &Bytes, iterations: u32) -> Bytes {
        derived_key(|out| pbkdf2_sha256_into(password.as_slice(), salt.as_slice(), iterations, out))
    }

    fn hkdf(ikm: &Bytes, salt: &Bytes, info: &Bytes) -> Bytes {
        derived_key(|out| hkdf_sha256_into(ikm.as_slice(), salt.as_slice(), info.as_slice(), out))
    }

    fn pke_encrypt(
        public_key: &Bytes,
        label: &Bytes,
        plaintext: &Bytes,
        rng: &mut Rng,
    ) -> Result<Bytes, CryptoError> {
        let key = parse_public_key(public_key)?;
        let padding = Oaep::<Sha256>::new_with_label(label.as_slice());
        match key.encrypt(rng, padding, plaintext.as_slice()) {
            Ok(ciphertext) => Ok(Bytes::public(ciphertext)),
            Err(rsa::Error::MessageTooLong | rsa::Error::LabelTooLong) => Err(CryptoError::InvalidLength),
            Err(_) => Err(CryptoError::Operation),
        }
    }

    fn pke_decrypt(
        key: &PrivateKey,
        label: &Bytes,
        ciphertext: &Bytes,
        rng: &mut Rng,
    ) -> Result<Bytes, CryptoError> {
        // Not `rsa`'s OAEP decryption: rsa 0.10.0 skips RFC 8017 §7.1.2 step 3g (it accepts an
        // encoded message whose first byte Y is not zero; Wycheproof RSA-OAEP tcId 23). The
        // raw operation is the crate's (blinded, CRT-checked); the decoding is ours.
        // Blinding takes exactly `FORK_SEED_LEN` bytes of `rng` (see `rng::fork`).
        let em = rsa_decrypt_raw(key, ciphertext, rng)?;
        oaep_decode(em, label.as_slice()).map(Bytes::secret).ok_or(CryptoError::Decrypt)
    }

    fn sign(
        key: &PrivateKey,
        scheme: SigScheme,
        input: Input<'_, Bytes>,
        rng: &mut Rng,
    ) -> Result<Bytes, CryptoError> {
        let hash = digest(input);
        let signature = match scheme {
            // Deterministic; `rng` only blinds the private operation.
            SigScheme::Pkcs1v15Sha256 => key.key.pkcs1v15_sign_prehash_with_rng::<Sha256, _>(rng, &hash),
            // The 32-byte salt is drawn from `rng` first, then the blinding factor.
            SigScheme::PssSha256 => key.key.pss_sign_prehash_with_rng::<Sha256, _>(rng, &hash),
        };
        signature.map(Bytes::public).map_err(|_| CryptoError::Operation)
    }

    fn verify(
        public_key: &Bytes,
        scheme: SigScheme,
        input: Input<'_, Bytes>,
        signature: &Bytes,
    ) -> Result<(), CryptoError> {
        let key = parse_public_key(public_key)?;
        let hash = digest(input);
        let result = match scheme {
            SigScheme::Pkcs1v15Sha256 => key.pkcs1v15_verify_prehash::<Sha256>(&hash, signature.as_slice()),
            // Salt length fixed at 32 bytes: other lengths do not verify.
            SigScheme::PssSha256 => key.pss_verify_prehash::<Sha256>(&hash, signature.as_slice()),
        };
        result.map_err(|_| CryptoError::BadSignature)
    }

    fn cipher_key(key: &Bytes) -> Result<CipherKey, CryptoError> {
        CipherKey::new(key.as_slice())
    }

    fn encrypt(key: &CipherKey, iv: &Bytes, plaintext: &Bytes) -> Result<Bytes, CryptoError> {
        aes_cbc::encrypt_padded(key, iv, plaintext)
    }

    fn decrypt(key: &CipherKey, iv: &Bytes, ciphertext: &Bytes) -> Result<Bytes, CryptoError> {
        aes_cbc::decrypt_padded(key, iv, ciphertext)
    }
}
