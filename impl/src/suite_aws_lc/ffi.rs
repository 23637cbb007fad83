//! The RSA operations aws-lc-rs does not offer, called on AWS-LC directly (`aws-lc-sys`, the
//! library aws-lc-rs links, so there is one copy of AWS-LC in the binary).
//!
//! aws-lc-rs draws OAEP seeds and PSS salts from AWS-LC's own random generator and ignores
//! the `SecureRandom` it is passed; the suite's contract is that every random byte comes
//! from the caller's `Rng`. So those two operations are encoded in Rust
//! ([`super::padding`]) and only the raw RSA operation runs here: the public one
//! (`RSA_encrypt`, no padding) and the private one (`RSA_sign_raw`, no padding, which AWS-LC
//! blinds and checks against the public key). Public keys are parsed here too, with the
//! policy check that needs the parsed key (size, exponent, canonical re-encoding), and
//! verified with AWS-LC's `RSA_verify` / `RSA_verify_pss_mgf1`.

use std::ffi::{c_int, c_uint};
use std::ptr::{self, NonNull};

use aws_lc_sys as sys;
use ee2e_spec::CryptoError;

use crate::suite::ACCEPTED_KEY_BITS;

/// SHA-256 output length.
const DIGEST_LEN: usize = 32;
/// The PSS salt length EE2E uses (SPEC.md §2.1): the digest length.
const PSS_SALT_LEN: c_int = 32;

/// An owned `EVP_PKEY` holding an RSA key.
struct Pkey(NonNull<sys::EVP_PKEY>);

// SAFETY: AWS-LC's `rsa.h` documents that an `RSA` "may be used concurrently on multiple
// threads by non-mutating functions" and that its encryption, decryption, signing and
// verification functions (the only ones called here after parsing) "are considered
// non-mutating for thread-safety purposes"; `EVP_PKEY` reference counts are atomic. Nothing
// mutates the key after it is built.
unsafe impl Send for Pkey {}
// SAFETY: as for `Send`: shared use is only through AWS-LC functions safe to call
// concurrently on one key.
unsafe impl Sync for Pkey {}

impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: the pointer is owned (from a parse function) and freed once. AWS-LC's
        // default allocator cleanses every allocation it frees (`OPENSSL_free`), so the
        // private exponent, primes and CRT values are wiped.
        unsafe { sys::EVP_PKEY_free(self.0.as_ptr()) }
    }
}

impl Pkey {
    /// The RSA key inside, or `None` if the key is of another type.
    fn rsa(&self) -> Option<*const sys::RSA> {
        // SAFETY: `self.0` is a valid `EVP_PKEY`; `get0` borrows without taking a reference.
        let id = unsafe { sys::EVP_PKEY_id(self.0.as_ptr()) };
        if id != sys::EVP_PKEY_RSA as c_int {
            return None;
        }
        // SAFETY: as above; the result lives as long as `self`.
        let rsa = unsafe { sys::EVP_PKEY_get0_RSA(self.0.as_ptr()) };
        (!rsa.is_null()).then_some(rsa.cast_const())
    }
}

/// Runs `parse` over `der` and demands that it consumes every byte.
fn parse_all(der: &[u8], parse: unsafe extern "C" fn(*mut sys::CBS) -> *mut sys::EVP_PKEY) -> Option<Pkey> {
    // SAFETY: a zeroed CBS is a valid value to initialise; `CBS_init` points it at `der`,
    // which outlives the call; `parse` reads through the CBS only.
    let (pkey, rest) = unsafe {
        let mut cbs: sys::CBS = std::mem::zeroed();
        sys::CBS_init(&mut cbs, der.as_ptr(), der.len());
        let pkey = parse(&mut cbs);
        (pkey, sys::CBS_len(&cbs))
    };
    let pkey = NonNull::new(pkey).map(Pkey);
    if pkey.is_none() {
        clear_errors();
    }
    // Trailing bytes are refused (the `Pkey` dropped here frees the key).
    pkey.filter(|_| rest == 0)
}

/// AWS-LC queues an error entry on every failure; a bounded ring per thread, emptied here so
/// that a failure leaves nothing behind for the next call.
fn clear_errors() {
    // SAFETY: no arguments; only touches this thread's error queue.
    unsafe { sys::ERR_clear_error() }
}

/// The SubjectPublicKeyInfo DER AWS-LC writes for `pkey`.
fn marshal_public(pkey: &Pkey) -> Option<Vec<u8>> {
    // SAFETY: the CBB is initialised before use and cleaned up on every path; the output
    // buffer is AWS-LC's, copied into a `Vec` and then freed with `OPENSSL_free`.
    unsafe {
        let mut cbb: sys::CBB = std::mem::zeroed();
        if sys::CBB_init(&mut cbb, 600) != 1 {
            clear_errors();
            return None;
        }
        if sys::EVP_marshal_public_key(&mut cbb, pkey.0.as_ptr()) != 1 {
            sys::CBB_cleanup(&mut cbb);
            clear_errors();
            return None;
        }
        let (mut data, mut len) = (ptr::null_mut(), 0usize);
        if sys::CBB_finish(&mut cbb, &mut data, &mut len) != 1 {
            sys::CBB_cleanup(&mut cbb);
            clear_errors();
            return None;
        }
        let out = std::slice::from_raw_parts(data, len).to_vec();
        sys::OPENSSL_free(data.cast());
        Some(out)
    }
}

/// The shape `RSA_encrypt` and `RSA_sign_raw` share: key, output length, output buffer and
/// its size, input and its length, padding.
type RawRsaOp =
    unsafe extern "C" fn(*mut sys::RSA, *mut usize, *mut u8, usize, *const u8, usize, c_int) -> c_int;

/// Runs `op` (`RSA_encrypt` or `RSA_sign_raw`) without padding on `em`, which the caller has
/// checked to be the modulus length of `rsa` (each with its own error); the result must be
/// that long too.
fn raw_no_padding(rsa: *const sys::RSA, op: RawRsaOp, em: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let k = em.len();
    let mut out = vec![0u8; k];
    let mut out_len = 0usize;
    // SAFETY: `out` has room for `k` bytes, `em` is `k` bytes; `rsa` is borrowed from a live
    // key that outlives the call.
    let ok = unsafe {
        op(
            rsa.cast_mut(),
            &mut out_len,
            out.as_mut_ptr(),
            out.len(),
            em.as_ptr(),
            em.len(),
            sys::RSA_NO_PADDING as c_int,
        )
    };
    if ok != 1 || out_len != k {
        clear_errors();
        return Err(CryptoError::Operation);
    }
    Ok(out)
}

/// `RSA_size` (the modulus length in bytes) and `RSA_bits` of `rsa`.
fn size_and_bits(rsa: *const sys::RSA) -> (usize, usize) {
    // SAFETY: `rsa` is a valid key borrowed from a live `Pkey`.
    unsafe { (sys::RSA_size(rsa) as usize, sys::RSA_bits(rsa) as usize) }
}

/// An RSA public key that passed EE2E's policy (SPEC.md §2.1): canonical SubjectPublicKeyInfo
/// DER of an `rsaEncryption` key, 2048- or 3072-bit modulus, exponent 65537.
pub(super) struct PublicRsa {
    pkey: Pkey,
    /// Borrowed from `pkey` (checked to be an RSA key when built), which outlives it.
    rsa: *const sys::RSA,
}

// SAFETY: `rsa` points into `pkey`, which is `Send` and `Sync` (see `Pkey`), and is only
// passed to AWS-LC functions that are safe to call concurrently on one key.
unsafe impl Send for PublicRsa {}
// SAFETY: as for `Send`.
unsafe impl Sync for PublicRsa {}

impl PublicRsa {
    /// Parses `der` under the policy; [`CryptoError::InvalidKey`] for anything else.
    pub(super) fn parse(der: &[u8]) -> Result<Self, CryptoError> {
        let pkey = parse_all(der, sys::EVP_parse_public_key).ok_or(CryptoError::InvalidKey)?;
        // `rsaEncryption` only: AWS-LC also parses RSASSA-PSS keys, as another key type.
        let rsa = pkey.rsa().ok_or(CryptoError::InvalidKey)?;
        let (_, bits) = size_and_bits(rsa);
        // SAFETY: `rsa` is valid; `RSA_get0_e` borrows the exponent, `BN_is_word` reads it.
        let e_ok = unsafe {
            let e = sys::RSA_get0_e(rsa);
            !e.is_null() && sys::BN_is_word(e, 65537) == 1
        };
        if !ACCEPTED_KEY_BITS.contains(&bits) || !e_ok {
            return Err(CryptoError::InvalidKey);
        }
        // One key, one encoding (as `ConcreteSuite`): a BER or otherwise re-encoded form of
        // an accepted key is refused, because public keys are identities.
        let key = PublicRsa { pkey, rsa };
        if marshal_public(&key.pkey).as_deref() != Some(der) {
            return Err(CryptoError::InvalidKey);
        }
        Ok(key)
    }

    /// The modulus length in bytes.
    pub(super) fn size(&self) -> usize {
        size_and_bits(self.rsa).0
    }

    /// `RSAEP`: `em^e mod n` for an encoded message of exactly the modulus length.
    pub(super) fn raw_encrypt(&self, em: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let k = self.size();
        if em.len() != k {
            return Err(CryptoError::InvalidLength);
        }
        raw_no_padding(self.rsa, sys::RSA_encrypt, em)
    }

    /// RSASSA-PKCS1-v1_5 verification of a SHA-256 digest.
    pub(super) fn verify_pkcs1_sha256(&self, digest: &[u8; DIGEST_LEN], signature: &[u8]) -> bool {
        // SAFETY: all buffers are valid for the lengths passed; the key outlives the call.
        let ok = unsafe {
            sys::RSA_verify(
                sys::NID_sha256 as c_int,
                digest.as_ptr(),
                digest.len(),
                signature.as_ptr(),
                signature.len(),
                self.rsa.cast_mut(),
            )
        };
        if ok != 1 {
            clear_errors();
        }
        ok == 1
    }

    /// RSASSA-PSS verification of a SHA-256 digest: MGF1-SHA-256, salt of exactly 32 bytes.
    pub(super) fn verify_pss_sha256(&self, digest: &[u8; DIGEST_LEN], signature: &[u8]) -> bool {
        // SAFETY: all buffers are valid for the lengths passed; `EVP_sha256` is a static.
        let ok = unsafe {
            sys::RSA_verify_pss_mgf1(
                self.rsa.cast_mut(),
                digest.as_ptr(),
                digest.len(),
                sys::EVP_sha256(),
                sys::EVP_sha256(),
                PSS_SALT_LEN,
                signature.as_ptr(),
                signature.len(),
            )
        };
        if ok != 1 {
            clear_errors();
        }
        ok == 1
    }
}

/// An RSA private key for the raw private operation and PKCS#1 v1.5 signing.
pub(super) struct PrivateRsa {
    pkey: Pkey,
    /// Borrowed from `pkey` (checked to be an RSA key when built), which outlives it.
    rsa: *const sys::RSA,
}

// SAFETY: as for `PublicRsa`: `rsa` points into `pkey` and is used only through AWS-LC
// functions that are safe to call concurrently on one key.
unsafe impl Send for PrivateRsa {}
// SAFETY: as for `Send`.
unsafe impl Sync for PrivateRsa {}

impl PrivateRsa {
    /// Parses a PKCS#8 `PrivateKeyInfo` (DER) holding an RSA key; AWS-LC checks the key's
    /// consistency (`RSA_check_key`) while parsing.
    pub(super) fn parse_pkcs8(der: &[u8]) -> Option<Self> {
        let pkey = parse_all(der, sys::EVP_parse_private_key)?;
        let rsa = pkey.rsa()?;
        Some(PrivateRsa { pkey, rsa })
    }

    /// The modulus length in bytes and in bits.
    pub(super) fn size_and_bits(&self) -> (usize, usize) {
        size_and_bits(self.rsa)
    }

    /// The public half as SubjectPublicKeyInfo DER.
    pub(super) fn public_der(&self) -> Option<Vec<u8>> {
        marshal_public(&self.pkey)
    }

    /// `RSASP1`: `em^d mod n` for an encoded message of exactly the modulus length (AWS-LC
    /// blinds it with its own generator, which changes no output bit, and checks the result
    /// with the public key against fault attacks).
    pub(super) fn raw_sign(&self, em: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let (k, _) = self.size_and_bits();
        if em.len() != k {
            return Err(CryptoError::Operation);
        }
        raw_no_padding(self.rsa, sys::RSA_sign_raw, em)
    }

    /// RSASSA-PKCS1-v1_5 signature of a SHA-256 digest (deterministic).
    pub(super) fn sign_pkcs1_sha256(&self, digest: &[u8; DIGEST_LEN]) -> Result<Vec<u8>, CryptoError> {
        let (k, _) = self.size_and_bits();
        let mut out = vec![0u8; k];
        let mut out_len: c_uint = 0;
        // SAFETY: `out` has `RSA_size` bytes, which `RSA_sign` requires; the key outlives it.
        let ok = unsafe {
            sys::RSA_sign(
                sys::NID_sha256 as c_int,
                digest.as_ptr(),
                digest.len(),
                out.as_mut_ptr(),
                &mut out_len,
                self.rsa.cast_mut(),
            )
        };
        if ok != 1 || out_len as usize != k {
            clear_errors();
            return Err(CryptoError::Operation);
        }
        Ok(out)
    }
}
