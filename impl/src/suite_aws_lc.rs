//! [`AwsLcSuite`]: the EE2E primitives on real bytes, implemented with AWS-LC (aws-lc-rs and,
//! for two raw RSA operations, aws-lc-sys). Behind the `aws-lc` cargo feature.
//!
//! The constructions, encodings and policy are [`ConcreteSuite`](crate::ConcreteSuite)'s, so
//! both suites compute the same bytes from the same inputs and the same [`Rng`] stream:
//!
//! | operation | with |
//! |---|---|
//! | `sha256`, `hmac`, `hmac_verify`, `pbkdf2`, `hkdf` | aws-lc-rs `digest`, `hmac`, `pbkdf2`, `hkdf` |
//! | `encrypt`, `decrypt` (AES-256-CBC, PKCS#7) | aws-lc-rs `PaddedBlockEncryptingKey` / `PaddedBlockDecryptingKey`, IV from the caller |
//! | `pke_decrypt` (RSAES-OAEP-SHA-256, label) | aws-lc-rs `OaepPrivateDecryptingKey` |
//! | `pke_encrypt` | EME-OAEP encoded here with the seed drawn from the caller's `Rng` (32 bytes), then AWS-LC's raw public operation |
//! | `sign` PKCS#1 v1.5 | AWS-LC `RSA_sign` (deterministic) |
//! | `sign` PSS | EMSA-PSS encoded here with the 32-byte salt drawn from the caller's `Rng`, then AWS-LC's raw private operation (blinded, fault-checked) |
//! | `verify`, `check_public_key` | AWS-LC's SubjectPublicKeyInfo parser, `RSA_verify`, `RSA_verify_pss_mgf1` |
//!
//! Why two operations are encoded here: aws-lc-rs takes a `SecureRandom` for signing but
//! ignores it, and its OAEP encryption draws the seed from AWS-LC's generator; with them,
//! vectors could not be reproduced and the suite would draw randomness the caller does not
//! control. RSA blinding is the one randomness drawn elsewhere (AWS-LC's generator), as
//! `ConcreteSuite` blinds decryption from the OS: it changes no output bit. One difference
//! in what the caller's stream feeds: `ConcreteSuite` also draws its signing blinding factor
//! from it, this suite does not, so a signature leaves the caller's `Rng` at another
//! position (no protocol step draws after a signature; the conformance vectors pass).
//!
//! Keys: PKCS#8 PEM private keys of 2048 to 8192 bits (AWS-LC's range for RSA keys; the
//! 1024-bit test key is refused here, where `ConcreteSuite` loads it for tests) and
//! SubjectPublicKeyInfo DER public keys under EE2E's policy (2048 or 3072 bits, e = 65537,
//! canonical encoding).
//!
//! Side channels (what AWS-LC documents; SPEC.md §13): RSA private operations are constant
//! time and blinded; AES uses AES-NI/VAES where the CPU has them and otherwise a
//! constant-time bit-sliced or vector-permute implementation, never table lookups; HMAC tags
//! and secret values are compared in constant time. PKCS#7 unpadding (in aws-lc-rs) is not
//! constant time.

mod ffi;
mod padding;
#[cfg(test)]
mod tests;

use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

use aws_lc_rs::cipher::{
    AES_256, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey, PaddedBlockEncryptingKey,
    UnboundCipherKey,
};
use aws_lc_rs::digest::{self, SHA256};
use aws_lc_rs::iv::FixedLength;
use aws_lc_rs::rsa::{OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, PrivateDecryptingKey};
use aws_lc_rs::{hkdf, hmac, pbkdf2};
use ee2e_spec::{CryptoError, Fresh, Input, SigScheme, Suite};
use rsa::pkcs8::{LineEnding, SecretDocument};
use zeroize::{Zeroize, Zeroizing};

use self::ffi::{PrivateRsa, PublicRsa};
use self::padding::H_LEN;
use crate::suite::{
    ConcreteSuite, FORK_SEED_LEN, KeyError, Rng, aes256_key_bytes, decrypt_iv, decrypted_plaintext,
    derived_key, encrypt_buffer, feed_parts, key_identity,
};
use crate::value::{Bytes, ct_eq};

/// PSS salt length (SPEC.md §2.1).
const PSS_SALT_LEN: usize = 32;

/// The AWS-LC crypto suite: protocol values are [`Bytes`], as in [`ConcreteSuite`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AwsLcSuite;

/// What an RSA private key holds: AWS-LC's OAEP decryption key and, for signing, the raw key.
struct KeyParts {
    oaep: OaepPrivateDecryptingKey,
    raw: PrivateRsa,
    bits: usize,
}

/// An RSA private key on AWS-LC, shared cheaply, with its public key cached as
/// SubjectPublicKeyInfo DER.
///
/// Equality and hashing compare the public key only; `Debug` shows the size and a short
/// SHA-256 fingerprint of the public key. AWS-LC wipes every allocation it frees, the key's
/// private parts included, when the last clone of this handle is dropped; the PKCS#8
/// document kept for [`to_pkcs8_pem`](Self::to_pkcs8_pem) is zeroized on drop.
#[derive(Clone)]
pub struct PrivateKey {
    parts: Arc<KeyParts>,
    pkcs8: Arc<Zeroizing<Vec<u8>>>,
    public: Bytes,
}

impl PrivateKey {
    /// Parses a PKCS#8 DER `PrivateKeyInfo` holding a two-prime RSA key of 2048 to 8192 bits.
    ///
    /// # Errors
    /// [`KeyError::Parse`] if AWS-LC refuses the document or the key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let refused = |what: &str| KeyError::Parse(format!("AWS-LC refuses the {what}"));
        let oaep = PrivateDecryptingKey::from_pkcs8(der)
            .map_err(|e| KeyError::Parse(format!("AWS-LC refuses the key: {e}")))
            .and_then(|key| OaepPrivateDecryptingKey::new(key).map_err(|_| refused("key for OAEP")))?;
        let raw = PrivateRsa::parse_pkcs8(der).ok_or_else(|| refused("PKCS#8 document"))?;
        let public = raw.public_der().ok_or_else(|| KeyError::Encode("AWS-LC cannot encode it".into()))?;
        let (_, bits) = raw.size_and_bits();
        Ok(PrivateKey {
            parts: Arc::new(KeyParts { oaep, raw, bits }),
            pkcs8: Arc::new(Zeroizing::new(der.to_vec())),
            public: Bytes::public(public),
        })
    }

    /// Parses a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) RSA private key of 2048 to 8192
    /// bits (PEM decoding by the `pkcs8` crate, which is not cryptography; the key by AWS-LC).
    ///
    /// # Errors
    /// [`KeyError::Parse`] if the text is not such a key.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, document) = SecretDocument::from_pem(pem).map_err(|e| KeyError::Parse(e.to_string()))?;
        if label != "PRIVATE KEY" {
            return Err(KeyError::Parse(format!("PEM label {label:?}, not \"PRIVATE KEY\"")));
        }
        Self::from_pkcs8_der(document.as_bytes())
    }

    /// The key as PKCS#8 PEM with LF line endings (the document it was loaded from), in
    /// memory that is zeroized on drop.
    ///
    /// # Panics
    /// Never: the document was decoded from PEM or checked by AWS-LC, so it encodes.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        let document =
            SecretDocument::try_from(self.pkcs8.as_slice()).expect("a parsed PKCS#8 document is DER");
        document.to_pem("PRIVATE KEY", LineEnding::LF).expect("a DER document encodes as PEM")
    }

    /// The modulus size in bits.
    pub fn bits(&self) -> usize {
        self.parts.bits
    }

    /// The public key as SubjectPublicKeyInfo DER (a public value).
    pub fn public_key_der(&self) -> &Bytes {
        &self.public
    }
}

key_identity!(PrivateKey by public);

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fingerprint = digest::digest(&SHA256, self.public.as_slice());
        write!(
            f,
            "AwsLcPrivateKey({} bits, spki-sha256 {}…)",
            self.bits(),
            hex::encode(&fingerprint.as_ref()[..4])
        )
    }
}

/// A prepared HMAC-SHA-256 key (AWS-LC's keyed state, cloned per MAC).
///
/// Equality is constant time in the key bytes; the raw key is zeroized on drop and never
/// printed; AWS-LC cleans its HMAC contexts on drop (`HMAC_CTX_cleanup`).
#[derive(Clone)]
pub struct MacKey {
    key: hmac::Key,
    raw: Bytes,
}

key_identity!(MacKey by raw);

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MacKey({} bytes)", self.raw.len())
    }
}

/// The two AES key schedules aws-lc-rs keeps for CBC (it zeroizes both on drop).
struct CbcKeys {
    encrypt: PaddedBlockEncryptingKey,
    decrypt: PaddedBlockDecryptingKey,
}

/// A prepared AES-256 key: the key schedules are computed once per session.
///
/// Equality is constant time in the key bytes; the raw key is zeroized on drop and never
/// printed.
#[derive(Clone)]
pub struct CipherKey {
    keys: Arc<CbcKeys>,
    raw: Bytes,
}

key_identity!(CipherKey by raw);

impl fmt::Debug for CipherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CipherKey(AES-256)")
    }
}

/// SHA-256 of `input` as an array.
fn sha256_of(input: Input<'_, Bytes>) -> [u8; H_LEN] {
    let mut ctx = digest::Context::new(&SHA256);
    feed_parts(input, |bytes| ctx.update(bytes));
    let mut out = [0u8; H_LEN];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The HMAC-SHA-256 tag of `input`.
fn hmac_tag(key: &MacKey, input: Input<'_, Bytes>) -> hmac::Tag {
    let mut ctx = hmac::Context::with_key(&key.key);
    feed_parts(input, |bytes| ctx.update(bytes));
    ctx.sign()
}

/// An HKDF output length, as aws-lc-rs wants it.
struct OkmLen(usize);

impl hkdf::KeyType for OkmLen {
    fn len(&self) -> usize {
        self.0
    }
}

/// PBKDF2-HMAC-SHA-256 into `out`. `iterations = 0` is computed as 1 (as `ConcreteSuite`).
fn pbkdf2_sha256_into(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    let iterations = NonZeroU32::new(iterations.max(1)).unwrap_or(NonZeroU32::MIN);
    pbkdf2::derive(pbkdf2::PBKDF2_HMAC_SHA256, iterations, salt, password, out);
}

/// HKDF-SHA-256 extract then expand into `out` (at most 255 × 32 bytes).
///
/// # Panics
/// If `out` is longer than 8160 bytes.
fn hkdf_sha256_into(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let info = [info];
    prk.expand(&info, OkmLen(out.len()))
        .and_then(|okm| okm.fill(out))
        .expect("HKDF-SHA-256 output of at most 8160 bytes");
}

impl Suite for AwsLcSuite {
    type Value = Bytes;
    type PrivateKey = PrivateKey;
    type CipherKey = CipherKey;
    type MacKey = MacKey;
    type Rng = Rng;

    fn constant(bytes: &[u8]) -> Bytes {
        Bytes::public(bytes)
    }

    fn tuple(parts: &[&Bytes]) -> Bytes {
        // Not a primitive: the encoding is the protocol's (SPEC.md §4.1), owned by one suite.
        ConcreteSuite::tuple(parts)
    }

    fn public_key(key: &PrivateKey) -> Bytes {
        key.public.clone()
    }

    fn check_public_key(public_key: &Bytes) -> Result<(), CryptoError> {
        PublicRsa::parse(public_key.as_slice()).map(drop)
    }

    fn byte_len(value: &Bytes) -> Option<usize> {
        Some(value.len())
    }

    fn random(rng: &mut Rng, purpose: Fresh) -> Bytes {
        // The same draws from the same stream as `ConcreteSuite` (SPEC.md §2.1; the vectors'
        // draw order): randomness is the caller's, not the library's.
        ConcreteSuite::random(rng, purpose)
    }

    fn sha256(input: Input<'_, Bytes>) -> Bytes {
        Bytes::public(sha256_of(input).as_slice())
    }

    fn mac_key(key: &Bytes) -> MacKey {
        MacKey { key: hmac::Key::new(hmac::HMAC_SHA256, key.as_slice()), raw: Bytes::secret(key.as_slice()) }
    }

    fn hmac(key: &MacKey, input: Input<'_, Bytes>) -> Bytes {
        Bytes::public(hmac_tag(key, input).as_ref())
    }

    fn hmac_verify(key: &MacKey, input: Input<'_, Bytes>, tag: &Bytes) -> bool {
        // Constant time in the contents; the length is public.
        ct_eq(hmac_tag(key, input).as_ref(), tag.as_slice())
    }

    fn ct_eq(a: &Bytes, b: &Bytes) -> bool {
        // Not a primitive: a comparison of bytes, the same in every suite.
        ConcreteSuite::ct_eq(a, b)
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
        use rand_core::Rng as _;
        let key = PublicRsa::parse(public_key.as_slice())?;
        // The seed is the first draw, as in `ConcreteSuite` (the `rsa` crate's order).
        let mut seed = Zeroizing::new([0u8; H_LEN]);
        rng.fill_bytes(seed.as_mut());
        let em = padding::oaep_encode(plaintext.as_slice(), label.as_slice(), &seed, key.size())?;
        key.raw_encrypt(&em).map(Bytes::public)
    }

    fn pke_decrypt(
        key: &PrivateKey,
        label: &Bytes,
        ciphertext: &Bytes,
        rng: &mut Rng,
    ) -> Result<Bytes, CryptoError> {
        // AWS-LC blinds with its own generator; the draw keeps `rng` where `ConcreteSuite`
        // leaves it (its blinding seed), so both suites produce the same later values.
        use rand_core::Rng as _;
        rng.fill_bytes(Zeroizing::new([0u8; FORK_SEED_LEN]).as_mut());
        let oaep = &key.parts.oaep;
        if ciphertext.len() != oaep.key_size_bytes() {
            return Err(CryptoError::Decrypt);
        }
        let mut out = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
        // AWS-LC's OAEP decoding checks every field in constant time and fails as one
        // (RFC 8017 §7.1.2 step 3, the leading zero byte included).
        match oaep.decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext.as_slice(), &mut out, Some(label.as_slice())) {
            Ok(message) => Ok(Bytes::secret(&*message)),
            Err(_) => Err(CryptoError::Decrypt),
        }
    }

    fn sign(
        key: &PrivateKey,
        scheme: SigScheme,
        input: Input<'_, Bytes>,
        rng: &mut Rng,
    ) -> Result<Bytes, CryptoError> {
        let hash = sha256_of(input);
        let raw = &key.parts.raw;
        let signature = match scheme {
            SigScheme::Pkcs1v15Sha256 => raw.sign_pkcs1_sha256(&hash)?,
            SigScheme::PssSha256 => {
                use rand_core::Rng as _;
                let mut salt = [0u8; PSS_SALT_LEN];
                rng.fill_bytes(&mut salt);
                let (k, bits) = raw.size_and_bits();
                let em = padding::pss_encode(&hash, &salt, bits, k)?;
                raw.raw_sign(&em)?
            }
        };
        Ok(Bytes::public(signature))
    }

    fn verify(
        public_key: &Bytes,
        scheme: SigScheme,
        input: Input<'_, Bytes>,
        signature: &Bytes,
    ) -> Result<(), CryptoError> {
        let key = PublicRsa::parse(public_key.as_slice())?;
        let hash = sha256_of(input);
        let ok = match scheme {
            SigScheme::Pkcs1v15Sha256 => key.verify_pkcs1_sha256(&hash, signature.as_slice()),
            // Salt length fixed at 32 bytes: other lengths do not verify.
            SigScheme::PssSha256 => key.verify_pss_sha256(&hash, signature.as_slice()),
        };
        if ok { Ok(()) } else { Err(CryptoError::BadSignature) }
    }

    fn cipher_key(key: &Bytes) -> Result<CipherKey, CryptoError> {
        let raw = aes256_key_bytes(key.as_slice())?;
        let unbound =
            || UnboundCipherKey::new(&AES_256, raw.as_slice()).map_err(|_| CryptoError::InvalidLength);
        let encrypt =
            PaddedBlockEncryptingKey::cbc_pkcs7(unbound()?).map_err(|_| CryptoError::InvalidLength)?;
        let decrypt =
            PaddedBlockDecryptingKey::cbc_pkcs7(unbound()?).map_err(|_| CryptoError::InvalidLength)?;
        Ok(CipherKey { keys: Arc::new(CbcKeys { encrypt, decrypt }), raw })
    }

    fn encrypt(key: &CipherKey, iv: &Bytes, plaintext: &Bytes) -> Result<Bytes, CryptoError> {
        // One allocation, sized for the padding aws-lc-rs appends.
        let (iv, mut out) = encrypt_buffer(iv, plaintext)?;
        let context = EncryptionContext::Iv128(FixedLength::from(iv));
        match key.keys.encrypt.less_safe_encrypt(&mut out, context) {
            Ok(_) => Ok(Bytes::public(out)),
            Err(_) => {
                out.zeroize();
                Err(CryptoError::Operation)
            }
        }
    }

    fn decrypt(key: &CipherKey, iv: &Bytes, ciphertext: &Bytes) -> Result<Bytes, CryptoError> {
        let ciphertext = ciphertext.as_slice();
        let iv = decrypt_iv(iv, ciphertext)?;
        // Decrypted in place in one allocation; the padding, or on failure everything, is
        // wiped before the buffer is cut or dropped.
        let mut buffer = ciphertext.to_vec();
        let context = DecryptionContext::Iv128(FixedLength::from(iv));
        let len = key.keys.decrypt.decrypt(&mut buffer, context).map(|plaintext| plaintext.len()).ok();
        decrypted_plaintext(buffer, len)
    }
}
