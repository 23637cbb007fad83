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

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use aes::Aes256;
use cbc::cipher::block_padding::Padding;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::consts::U16;
use cbc::cipher::{
    Block, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockModeDecrypt, BlockSizeUser,
    InnerIvInit, KeyInit,
};
use ee2e_spec::{CryptoError, Fresh, Input, SigScheme, Suite};
use hmac::{Hmac, Mac};
use rand_core::{Rng as _, SeedableRng};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::value::Bytes;

/// The random source of the concrete suite: ChaCha20, a userspace CSPRNG.
///
/// Seeded once from the operating system ([`os_rng`]) so that drawing an IV costs no system
/// call, or from a fixed seed ([`seeded_rng`]) for reproducible vectors and tests. It
/// implements `rand_core` 0.10's `CryptoRng`, which the `rsa` crate requires.
pub type Rng = rand_chacha::ChaCha20Rng;

/// A [`Rng`] seeded from the operating system's random source.
///
/// # Panics
/// If the operating system cannot provide randomness (there is no safe way to continue).
pub fn os_rng() -> Rng {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).expect("the operating system random source failed");
    Rng::from_seed(*seed)
}

/// A deterministic [`Rng`] from a fixed seed, for test vectors and reproducible tests only.
pub fn seeded_rng(seed: [u8; 32]) -> Rng {
    Rng::from_seed(seed)
}

/// The RSA modulus sizes EE2E accepts, in bits.
pub const ACCEPTED_KEY_BITS: [usize; 2] = [2048, 3072];

/// Length of the 4-byte big-endian prefix of every tuple part.
const LENGTH_PREFIX: usize = 4;
/// AES block and CBC IV length.
const BLOCK: usize = 16;
/// AES-256 key, session key, SHA-256 and KDF output length.
const KEY_LEN: usize = 32;
/// Number of digits of a one-time password.
const OTP_DIGITS: usize = 6;
/// `10^OTP_DIGITS`.
const OTP_RANGE: u32 = 1_000_000;
/// The largest multiple of [`OTP_RANGE`] not above 2^32: draws at or above it are rejected,
/// so that `draw % OTP_RANGE` is uniform.
const OTP_LIMIT: u32 = (u32::MAX / OTP_RANGE) * OTP_RANGE;

/// The concrete crypto suite: protocol values are [`Bytes`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConcreteSuite;

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
    key: Arc<RsaPrivateKey>,
    public: Bytes,
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
    /// [`Suite::check_public_key`].
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

impl PartialEq for PrivateKey {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}

impl Eq for PrivateKey {}

impl Hash for PrivateKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.public.hash(state);
    }
}

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
    mac: Hmac<Sha256>,
    key: Zeroizing<Vec<u8>>,
}

impl PartialEq for MacKey {
    fn eq(&self, other: &Self) -> bool {
        self.key.len() == other.key.len() && bool::from(self.key.ct_eq(&other.key))
    }
}

impl Eq for MacKey {}

impl Hash for MacKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

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
    cipher: Aes256,
    key: Zeroizing<[u8; KEY_LEN]>,
}

impl PartialEq for CipherKey {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.key.ct_eq(&*other.key))
    }
}

impl Eq for CipherKey {}

impl Hash for CipherKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl fmt::Debug for CipherKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CipherKey(AES-256)")
    }
}

/// CBC encryption of whole blocks in place, run inside the AES backend that the `aes` crate
/// selected at run time (AES-NI, VAES or software).
///
/// `cbc::Encryptor` keeps the chaining value in its own struct, so each block's result makes
/// a round trip through memory (a store, then a load of the same bytes) on the serial
/// dependency chain of CBC encryption; here the chaining value is a local that stays in a
/// register, which brings encryption to the speed of OpenSSL's `aesni_cbc_encrypt`.
struct CbcEncrypt<'a> {
    chain: Block<Aes256>,
    blocks: &'a mut [Block<Aes256>],
}

impl BlockSizeUser for CbcEncrypt<'_> {
    type BlockSize = U16;
}

impl BlockCipherEncClosure for CbcEncrypt<'_> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let CbcEncrypt { mut chain, blocks } = self;
        for block in blocks.iter_mut() {
            for (c, p) in chain.iter_mut().zip(block.iter()) {
                *c ^= *p;
            }
            backend.encrypt_block((&mut chain).into());
            *block = chain;
        }
    }
}

/// AES-256-CBC encryption of `buffer` in place, without padding: the raw primitive under
/// [`Suite::encrypt`] (which pads, allocates the output and calls this), public so that
/// benchmarks can compare it with `openssl speed -evp aes-256-cbc`.
///
/// # Errors
/// [`CryptoError::InvalidLength`] if `buffer` is not a whole number of 16-byte blocks.
pub fn cbc_encrypt_blocks(key: &CipherKey, iv: &[u8; 16], buffer: &mut [u8]) -> Result<(), CryptoError> {
    let (blocks, rest) = Block::<Aes256>::slice_as_chunks_mut(buffer);
    if !rest.is_empty() {
        return Err(CryptoError::InvalidLength);
    }
    key.cipher.encrypt_with_backend(CbcEncrypt { chain: (*iv).into(), blocks });
    Ok(())
}

/// AES-256-CBC decryption of `input` into `output`, without unpadding: the raw primitive
/// under [`Suite::decrypt`] (which allocates the output, calls this and unpads), public so
/// that benchmarks can compare it with `openssl speed -decrypt -evp aes-256-cbc`.
///
/// # Errors
/// [`CryptoError::InvalidLength`] if `input` is not a whole number of 16-byte blocks or
/// `output` has another length.
pub fn cbc_decrypt_blocks(
    key: &CipherKey,
    iv: &[u8; 16],
    input: &[u8],
    output: &mut [u8],
) -> Result<(), CryptoError> {
    if !input.len().is_multiple_of(BLOCK) || output.len() != input.len() {
        return Err(CryptoError::InvalidLength);
    }
    // `cbc::Decryptor` over the prepared cipher: it feeds the AES backend whole parallel
    // batches and measured 2-4x faster than the hand-written loop this replaced.
    let (inp, _) = Block::<Aes256>::slice_as_chunks(input);
    let (out, _) = Block::<Aes256>::slice_as_chunks_mut(output);
    cbc::Decryptor::<&Aes256>::inner_iv_init(&key.cipher, iv.into())
        .decrypt_blocks_b2b(inp, out)
        .map_err(|_| CryptoError::InvalidLength)
}

/// The 4-byte big-endian length prefix of a tuple part.
///
/// # Panics
/// If the part is 4 GiB or longer, which no protocol value can be.
fn length_prefix(len: usize) -> [u8; LENGTH_PREFIX] {
    u32::try_from(len).expect("tuple part longer than 4 GiB").to_be_bytes()
}

/// Feeds `input` to `update` as [`Suite::tuple`] would encode it, part by part, without
/// building it: the one streaming form of the tuple encoding, for every suite's hashes and
/// MACs.
pub(crate) fn feed_parts(input: Input<'_, Bytes>, mut update: impl FnMut(&[u8])) {
    match input {
        Input::Raw(value) => update(value.as_slice()),
        Input::Tuple(parts) => {
            for part in parts {
                update(&length_prefix(part.len()));
                update(part.as_slice());
            }
        }
    }
}

/// Feeds `input` into a hash or MAC state ([`feed_parts`]).
fn feed<U: hmac::digest::Update>(state: &mut U, input: Input<'_, Bytes>) {
    feed_parts(input, |bytes| state.update(bytes));
}

/// SHA-256 of `input` as an array (no allocation).
fn digest(input: Input<'_, Bytes>) -> sha2::digest::Output<Sha256> {
    let mut hash = Sha256::new();
    feed(&mut hash, input);
    hash.finalize()
}

/// Parses a public key under EE2E's policy: canonical SubjectPublicKeyInfo DER of an
/// `rsaEncryption` key with a 2048- or 3072-bit modulus and exponent 65537.
fn parse_public_key(der: &Bytes) -> Result<RsaPublicKey, CryptoError> {
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

/// PBKDF2-HMAC-SHA-256 into `out` (any length). `iterations = 0` is computed as 1.
fn pbkdf2_sha256_into(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations.max(1), out);
}

/// HKDF-SHA-256 extract then expand into `out` (at most 255 × 32 bytes).
///
/// # Panics
/// If `out` is longer than 8160 bytes.
fn hkdf_sha256_into(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .expect("HKDF-SHA-256 output of at most 8160 bytes");
}

/// `EM = I2OSP(RSADP(K, OS2IP(C)), k)` (RFC 8017 §7.1.2 steps 1–2b): the `rsa` crate's blinded,
/// CRT-checked private operation, with blinding drawn from a generator seeded by the OS.
fn rsa_decrypt_raw(key: &PrivateKey, ciphertext: &Bytes) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let k = key.key.size();
    if ciphertext.len() != k {
        return Err(CryptoError::Decrypt);
    }
    let c = rsa::BoxedUint::from_be_slice(ciphertext.as_slice(), key.key.n_bits_precision())
        .map_err(|_| CryptoError::Decrypt)?;
    let m = rsa::hazmat::rsa_decrypt_and_check(&*key.key, Some(&mut os_rng()), &c)
        .map(Zeroizing::new)
        .map_err(|_| CryptoError::Decrypt)?;
    let bytes = Zeroizing::new(m.to_be_bytes());
    // m < n, so every byte above the k low-order ones is zero.
    let mut em = Zeroizing::new(vec![0u8; k]);
    let take = bytes.len().min(k);
    em[k - take..].copy_from_slice(&bytes[bytes.len() - take..]);
    Ok(em)
}

/// `out ^= MGF1-SHA-256(seed, out.len())` (RFC 8017 §B.2.1).
fn mgf1_xor(out: &mut [u8], seed: &[u8]) {
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(KEY_LEN)) {
        let mask = Sha256::new().chain_update(seed).chain_update(counter.to_be_bytes()).finalize();
        chunk.iter_mut().zip(mask.iter()).for_each(|(o, m)| *o ^= m);
    }
}

/// EME-OAEP decoding with SHA-256 and MGF1-SHA-256 (RFC 8017 §7.1.2 step 3), every check in
/// constant time and one outcome for all of them: the message, or `None`.
fn oaep_decode(mut em: Zeroizing<Vec<u8>>, label: &[u8]) -> Option<Vec<u8>> {
    use subtle::{Choice, ConditionallySelectable};
    const H: usize = KEY_LEN;
    if em.len() < 2 * H + 2 {
        return None;
    }
    let (y, rest) = em.split_at_mut(1);
    let (seed, db) = rest.split_at_mut(H);
    mgf1_xor(seed, db);
    mgf1_xor(db, seed);
    let l_hash = Sha256::digest(label);
    let mut good = y[0].ct_eq(&0) & db[..H].ct_eq(l_hash.as_slice());
    // DB = lHash' ‖ PS ‖ 0x01 ‖ M, PS zero or more zero bytes.
    let mut looking = Choice::from(1);
    let mut index = 0u32;
    for (i, byte) in (0u32..).zip(db[H..].iter()) {
        let (zero, one) = (byte.ct_eq(&0), byte.ct_eq(&1));
        index.conditional_assign(&i, looking & one);
        good &= !(looking & !zero & !one);
        looking &= !one;
    }
    good &= !looking;
    bool::from(good).then(|| db[H + index as usize + 1..].to_vec())
}

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
        let len = parts.iter().map(|p| LENGTH_PREFIX + p.len()).sum();
        let mut out = Vec::with_capacity(len);
        for part in parts {
            out.extend_from_slice(&length_prefix(part.len()));
            out.extend_from_slice(part.as_slice());
        }
        if parts.iter().any(|p| p.is_secret()) { Bytes::secret(out) } else { Bytes::public(out) }
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
            Fresh::Otp => {
                let draw = loop {
                    let draw = rng.next_u32();
                    if draw < OTP_LIMIT {
                        break draw % OTP_RANGE;
                    }
                };
                let mut digits = vec![0u8; OTP_DIGITS];
                let mut rest = draw;
                for digit in digits.iter_mut().rev() {
                    *digit = b'0' + (rest % 10) as u8;
                    rest /= 10;
                }
                Bytes::secret(digits)
            }
            Fresh::SessionKey => {
                let mut key = vec![0u8; KEY_LEN];
                rng.fill_bytes(&mut key);
                Bytes::secret(key)
            }
            Fresh::Iv => {
                let mut iv = vec![0u8; BLOCK];
                rng.fill_bytes(&mut iv);
                Bytes::public(iv)
            }
        }
    }

    fn sha256(input: Input<'_, Bytes>) -> Bytes {
        Bytes::public(digest(input).as_slice())
    }

    fn mac_key(key: &Bytes) -> MacKey {
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_slice())
            .expect("HMAC accepts keys of any length");
        MacKey { mac, key: Zeroizing::new(key.as_slice().to_vec()) }
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
        a.len() == b.len() && bool::from(a.as_slice().ct_eq(b.as_slice()))
    }

    fn pbkdf2(password: &Bytes, salt: &Bytes, iterations: u32) -> Bytes {
        let mut out = vec![0u8; KEY_LEN];
        pbkdf2_sha256_into(password.as_slice(), salt.as_slice(), iterations, &mut out);
        Bytes::secret(out)
    }

    fn hkdf(ikm: &Bytes, salt: &Bytes, info: &Bytes) -> Bytes {
        let mut out = vec![0u8; KEY_LEN];
        hkdf_sha256_into(ikm.as_slice(), salt.as_slice(), info.as_slice(), &mut out);
        Bytes::secret(out)
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

    fn pke_decrypt(key: &PrivateKey, label: &Bytes, ciphertext: &Bytes) -> Result<Bytes, CryptoError> {
        // Not `rsa`'s OAEP decryption: rsa 0.10.0 skips RFC 8017 §7.1.2 step 3g (it accepts an
        // encoded message whose first byte Y is not zero; Wycheproof RSA-OAEP tcId 23). The
        // raw operation is the crate's (blinded, CRT-checked); the decoding is ours.
        let em = rsa_decrypt_raw(key, ciphertext)?;
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
        let raw: [u8; KEY_LEN] = key.as_slice().try_into().map_err(|_| CryptoError::InvalidLength)?;
        let raw = Zeroizing::new(raw);
        let cipher =
            <Aes256 as KeyInit>::new_from_slice(raw.as_slice()).map_err(|_| CryptoError::InvalidLength)?;
        Ok(CipherKey { cipher, key: raw })
    }

    fn encrypt(key: &CipherKey, iv: &Bytes, plaintext: &Bytes) -> Result<Bytes, CryptoError> {
        let iv: [u8; BLOCK] = iv.as_slice().try_into().map_err(|_| CryptoError::InvalidLength)?;
        // One allocation: the output, sized for the padded plaintext, encrypted in place.
        let plaintext = plaintext.as_slice();
        let padded = (plaintext.len() / BLOCK + 1) * BLOCK;
        let mut out = Vec::with_capacity(padded);
        out.extend_from_slice(plaintext);
        // PKCS#7: 1 to 16 bytes, each holding the padding length.
        out.resize(padded, (padded - plaintext.len()) as u8);
        cbc_encrypt_blocks(key, &iv, &mut out)?;
        Ok(Bytes::public(out))
    }

    fn decrypt(key: &CipherKey, iv: &Bytes, ciphertext: &Bytes) -> Result<Bytes, CryptoError> {
        let ciphertext = ciphertext.as_slice();
        if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK) {
            return Err(CryptoError::Decrypt);
        }
        let iv: &[u8; BLOCK] = iv.as_slice().try_into().map_err(|_| CryptoError::Decrypt)?;
        // One allocation: the output, decrypted into straight from the ciphertext.
        let mut buffer = vec![0u8; ciphertext.len()];
        cbc_decrypt_blocks(key, iv, ciphertext, &mut buffer).map_err(|_| CryptoError::Decrypt)?;
        // PKCS#7 lives in the last block (the same check `cbc`'s `decrypt_padded` made).
        let last = buffer.len() - BLOCK;
        match Pkcs7::raw_unpad(&buffer[last..]) {
            Ok(kept) => {
                let len = last + kept.len();
                // Wipe the padding before truncating; `Bytes` wipes the rest on drop.
                buffer[len..].zeroize();
                buffer.truncate(len);
                Ok(Bytes::secret(buffer))
            }
            Err(_) => {
                buffer.zeroize();
                Err(CryptoError::Decrypt)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;
    use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt};
    use std::collections::HashSet;
    use std::path::PathBuf;

    type S = ConcreteSuite;

    fn rng() -> Rng {
        seeded_rng([7; 32])
    }

    fn public(bytes: &[u8]) -> Bytes {
        Bytes::public(bytes)
    }

    fn secret(bytes: &[u8]) -> Bytes {
        Bytes::secret(bytes)
    }

    fn alice() -> PrivateKey {
        fixtures::named("alice").expect("alice fixture")
    }

    fn bob() -> PrivateKey {
        fixtures::named("bob").expect("bob fixture")
    }

    /// An RFC vector file from the repository's vendored copy (`conformance/external/rfc/`).
    fn vectors(name: &str) -> serde_json::Value {
        let path: PathBuf =
            [env!("CARGO_MANIFEST_DIR"), "..", "conformance", "external", "rfc", name].iter().collect();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("vector file is JSON")
    }

    fn hex_field(test: &serde_json::Value, field: &str) -> Vec<u8> {
        hex::decode(test[field].as_str().unwrap_or_else(|| panic!("field {field}"))).expect("hex")
    }

    fn tests_of(file: &serde_json::Value) -> &Vec<serde_json::Value> {
        file["tests"].as_array().expect("tests array")
    }

    // ---- values, tuple encoding, randomness ----

    #[test]
    fn constant_is_public_and_exact() {
        let c = S::constant(b"EE2E");
        assert_eq!(c.as_slice(), b"EE2E");
        assert!(!c.is_secret());
    }

    #[test]
    fn tuple_encoding_bytes_are_exact() {
        let t = S::tuple(&[&public(b"ab"), &public(b""), &public(&[0xff; 3])]);
        assert_eq!(t.as_slice(), &[0, 0, 0, 2, b'a', b'b', 0, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff][..]);
        assert!(!t.is_secret());
        assert_eq!(S::tuple(&[]).as_slice(), b"");
        let long = public(&[1; 300]);
        assert_eq!(&S::tuple(&[&long]).as_slice()[..4], &[0, 0, 1, 44]);
    }

    #[test]
    fn tuple_is_secret_if_any_part_is_secret() {
        assert!(S::tuple(&[&public(b"a"), &secret(b"k")]).is_secret());
        assert!(!S::tuple(&[&public(b"a"), &public(b"b")]).is_secret());
    }

    #[test]
    fn otp_is_six_ascii_digits_over_many_draws() {
        let mut rng = rng();
        let mut seen_first_digits = HashSet::new();
        for _ in 0..20_000 {
            let otp = S::random(&mut rng, Fresh::Otp);
            assert!(otp.is_secret());
            assert_eq!(otp.len(), 6);
            assert!(otp.as_slice().iter().all(u8::is_ascii_digit), "{}", otp.to_hex());
            seen_first_digits.insert(otp.as_slice()[0]);
        }
        // Leading zeros are kept: every digit shows up in the first position.
        assert_eq!(seen_first_digits.len(), 10);
    }

    #[test]
    fn otp_rejection_limit_is_a_multiple_of_the_range() {
        assert_eq!(OTP_LIMIT % OTP_RANGE, 0);
        assert!(u64::from(OTP_LIMIT) + u64::from(OTP_RANGE) > u64::from(u32::MAX));
    }

    #[test]
    fn random_values_have_the_right_sizes_and_secrecy() {
        let mut rng = rng();
        let key = S::random(&mut rng, Fresh::SessionKey);
        assert_eq!((key.len(), key.is_secret()), (32, true));
        let iv = S::random(&mut rng, Fresh::Iv);
        assert_eq!((iv.len(), iv.is_secret()), (16, false));
        assert_ne!(S::random(&mut rng, Fresh::SessionKey), key);
    }

    #[test]
    fn seeded_rng_is_deterministic_and_os_rng_is_not() {
        let a = S::random(&mut seeded_rng([1; 32]), Fresh::SessionKey);
        let b = S::random(&mut seeded_rng([1; 32]), Fresh::SessionKey);
        let c = S::random(&mut seeded_rng([2; 32]), Fresh::SessionKey);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let d = S::random(&mut os_rng(), Fresh::SessionKey);
        let e = S::random(&mut os_rng(), Fresh::SessionKey);
        assert_ne!(d, e);
    }

    // ---- hashes, MACs, KDFs ----

    #[test]
    fn sha256_of_tuple_equals_sha256_of_its_encoding() {
        let parts = [public(b"EE2E-v2 session id"), public(&[9; 70])];
        let refs: Vec<&Bytes> = parts.iter().collect();
        let encoded = S::tuple(&refs);
        assert_eq!(S::sha256(Input::Tuple(&refs)), S::sha256(Input::Raw(&encoded)));
        assert!(!S::sha256(Input::Raw(&encoded)).is_secret());
        // FIPS 180-2 "abc".
        assert_eq!(
            S::sha256(Input::Raw(&public(b"abc"))).to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hmac_of_tuple_equals_hmac_of_its_encoding() {
        let key = S::mac_key(&secret(&[3; 32]));
        let parts = [public(b"EE2E-v2 ack"), public(&[1]), secret(b"x"), public(&[0; 8])];
        let refs: Vec<&Bytes> = parts.iter().collect();
        let encoded = S::tuple(&refs);
        let tag = S::hmac(&key, Input::Tuple(&refs));
        assert_eq!(tag, S::hmac(&key, Input::Raw(&encoded)));
        assert!(!tag.is_secret());
        assert!(S::hmac_verify(&key, Input::Tuple(&refs), &tag));
        assert!(S::hmac_verify(&key, Input::Raw(&encoded), &tag));
    }

    #[test]
    fn hmac_verify_rejects_wrong_truncated_and_extended_tags() {
        let key = S::mac_key(&secret(b"key"));
        let msg = public(b"message");
        let tag = S::hmac(&key, Input::Raw(&msg));
        assert!(S::hmac_verify(&key, Input::Raw(&msg), &tag));
        let mut flipped = tag.as_slice().to_vec();
        flipped[31] ^= 1;
        assert!(!S::hmac_verify(&key, Input::Raw(&msg), &public(&flipped)));
        assert!(!S::hmac_verify(&key, Input::Raw(&msg), &public(&tag.as_slice()[..16])));
        let mut longer = tag.as_slice().to_vec();
        longer.push(0);
        assert!(!S::hmac_verify(&key, Input::Raw(&msg), &public(&longer)));
        assert!(!S::hmac_verify(&key, Input::Raw(&public(b"messagf")), &tag));
        assert!(!S::hmac_verify(&S::mac_key(&secret(b"kez")), Input::Raw(&msg), &tag));
    }

    #[test]
    fn hmac_matches_rfc4231() {
        let file = vectors("rfc4231_hmac_sha256.json");
        for test in tests_of(&file) {
            let key = S::mac_key(&secret(&hex_field(test, "key")));
            let data = public(&hex_field(test, "data"));
            let expected = hex_field(test, "mac");
            let tag = S::hmac(&key, Input::Raw(&data));
            // Test case 5 gives the leftmost 128 bits only.
            assert_eq!(&tag.as_slice()[..expected.len()], &expected[..], "RFC 4231 case {}", test["id"]);
            if expected.len() == 32 {
                assert!(S::hmac_verify(&key, Input::Raw(&data), &public(&expected)));
            }
        }
        assert_eq!(tests_of(&file).len(), 7);
    }

    #[test]
    fn pbkdf2_matches_rfc7914() {
        // Both vectors (1 and 80 000 iterations) have dkLen 64: the full output is checked with
        // the internal helper, and the suite's 32-byte output against its first 32 bytes.
        let file = vectors("rfc7914_pbkdf2_hmac_sha256.json");
        for test in tests_of(&file) {
            let (password, salt) = (hex_field(test, "password"), hex_field(test, "salt"));
            let iterations = u32::try_from(test["iterations"].as_u64().expect("iterations")).expect("u32");
            let expected = hex_field(test, "dk");
            assert_eq!(expected.len() as u64, test["dklen"].as_u64().expect("dklen"));
            let mut full = vec![0u8; expected.len()];
            pbkdf2_sha256_into(&password, &salt, iterations, &mut full);
            assert_eq!(full, expected, "RFC 7914 case {}", test["id"]);
            let out = S::pbkdf2(&secret(&password), &public(&salt), iterations);
            assert_eq!(out.as_slice(), &expected[..32]);
            assert!(out.is_secret());
        }
    }

    #[test]
    fn hkdf_matches_rfc5869() {
        // All three vectors (42- and 82-byte outputs) in full with the internal helper; the
        // suite's 32-byte output is the first 32 bytes of the OKM.
        let file = vectors("rfc5869_hkdf_sha256.json");
        for test in tests_of(&file) {
            let (ikm, salt, info) =
                (hex_field(test, "ikm"), hex_field(test, "salt"), hex_field(test, "info"));
            let expected = hex_field(test, "okm");
            let mut full = vec![0u8; expected.len()];
            hkdf_sha256_into(&ikm, &salt, &info, &mut full);
            assert_eq!(full, expected, "RFC 5869 case {}", test["id"]);
            let out = S::hkdf(&secret(&ikm), &public(&salt), &public(&info));
            assert_eq!(out.as_slice(), &expected[..32]);
            assert!(out.is_secret());
        }
        assert_eq!(tests_of(&file).len(), 3);
    }

    #[test]
    fn pbkdf2_with_zero_iterations_is_computed_as_one() {
        let (pw, salt) = (secret(b"123456"), public(b"salt"));
        assert_eq!(S::pbkdf2(&pw, &salt, 0), S::pbkdf2(&pw, &salt, 1));
        assert_ne!(S::pbkdf2(&pw, &salt, 1), S::pbkdf2(&pw, &salt, 2));
    }

    #[test]
    fn ct_eq_compares_contents_and_lengths() {
        assert!(S::ct_eq(&secret(b"abc"), &public(b"abc")));
        assert!(!S::ct_eq(&secret(b"abc"), &secret(b"abd")));
        assert!(!S::ct_eq(&secret(b"abc"), &secret(b"abcd")));
        assert!(S::ct_eq(&secret(b""), &secret(b"")));
    }

    #[test]
    fn mac_and_cipher_keys_compare_by_key_and_print_no_key_bytes() {
        let raw = secret(&[0xab; 32]);
        assert_eq!(S::mac_key(&raw), S::mac_key(&raw));
        assert_ne!(S::mac_key(&raw), S::mac_key(&secret(&[0xab; 31])));
        let cipher = S::cipher_key(&raw).expect("32-byte key");
        assert_eq!(cipher, S::cipher_key(&raw).expect("32-byte key"));
        assert_ne!(cipher, S::cipher_key(&secret(&[0xac; 32])).expect("32-byte key"));
        let text = format!("{:?} {:?}", S::mac_key(&raw), cipher);
        assert!(!text.contains("ab"), "{text}");
        assert_eq!(text, "MacKey(32 bytes) CipherKey(AES-256)");
    }

    // ---- AES-256-CBC ----

    #[test]
    fn aes_cbc_round_trips_every_length_up_to_three_blocks() {
        let key = S::cipher_key(&secret(&[5; 32])).expect("key");
        let mut rng = rng();
        for len in 0..=48 {
            let iv = S::random(&mut rng, Fresh::Iv);
            let plaintext = secret(&vec![len as u8; len]);
            let ciphertext = S::encrypt(&key, &iv, &plaintext).expect("encrypt");
            assert!(!ciphertext.is_secret());
            assert_eq!(ciphertext.len(), (len / 16 + 1) * 16);
            let opened = S::decrypt(&key, &iv, &ciphertext).expect("decrypt");
            assert!(opened.is_secret());
            assert_eq!(opened, plaintext);
        }
    }

    #[test]
    fn aes_cbc_matches_sp800_38a() {
        use cbc::cipher::KeyIvInit;
        use cbc::cipher::block_padding::NoPadding;
        let file = vectors("sp800_38a_aes256_cbc.json");
        for test in tests_of(&file) {
            let (key, iv) = (hex_field(test, "key"), hex_field(test, "iv"));
            let (pt, ct) = (hex_field(test, "plaintext"), hex_field(test, "ciphertext"));
            // Raw CBC, as in the vectors.
            let raw_ct = cbc::Encryptor::<Aes256>::new_from_slices(&key, &iv)
                .expect("sizes")
                .encrypt_padded_vec::<NoPadding>(&pt);
            assert_eq!(raw_ct, ct, "SP 800-38A {}", test["id"]);
            let raw_pt = cbc::Decryptor::<Aes256>::new_from_slices(&key, &iv)
                .expect("sizes")
                .decrypt_padded_vec::<NoPadding>(&ct)
                .expect("no padding");
            assert_eq!(raw_pt, pt);
            // The suite: the same blocks, then one full PKCS#7 padding block.
            let suite_key = S::cipher_key(&secret(&key)).expect("key");
            let sealed = S::encrypt(&suite_key, &public(&iv), &secret(&pt)).expect("encrypt");
            assert_eq!(sealed.len(), ct.len() + 16);
            assert_eq!(&sealed.as_slice()[..ct.len()], &ct[..]);
            assert_eq!(S::decrypt(&suite_key, &public(&iv), &sealed).expect("decrypt").as_slice(), &pt[..]);
        }
    }

    #[test]
    fn encrypt_matches_the_cbc_crate_with_pkcs7_at_every_length_up_to_1040() {
        use cbc::cipher::KeyIvInit;
        let (raw_key, raw_iv) = ([0x3c; 32], [0xa5; 16]);
        let key = S::cipher_key(&secret(&raw_key)).expect("key");
        let message: Vec<u8> = (0..1040u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..=message.len() {
            let expected = cbc::Encryptor::<Aes256>::new_from_slices(&raw_key, &raw_iv)
                .expect("sizes")
                .encrypt_padded_vec::<Pkcs7>(&message[..len]);
            let sealed = S::encrypt(&key, &public(&raw_iv), &secret(&message[..len])).expect("encrypt");
            assert_eq!(sealed.as_slice(), &expected[..], "length {len}");
        }
    }

    #[test]
    fn cbc_encrypt_blocks_rejects_partial_blocks_and_matches_encrypt() {
        let key = S::cipher_key(&secret(&[5; 32])).expect("key");
        for len in [1, 15, 17, 33] {
            assert_eq!(
                cbc_encrypt_blocks(&key, &[0; 16], &mut vec![0; len]),
                Err(CryptoError::InvalidLength)
            );
        }
        let mut buffer = vec![0x61; 32];
        cbc_encrypt_blocks(&key, &[9; 16], &mut buffer).expect("whole blocks");
        let sealed = S::encrypt(&key, &public(&[9; 16]), &secret(&[0x61; 32])).expect("encrypt");
        assert_eq!(&sealed.as_slice()[..32], &buffer[..]);
        cbc_encrypt_blocks(&key, &[9; 16], &mut []).expect("no blocks is fine");
    }

    #[test]
    fn decrypt_matches_the_cbc_crate_at_every_length_up_to_1040_and_at_64_kib() {
        use cbc::cipher::KeyIvInit;
        use cbc::cipher::block_padding::NoPadding;
        let (raw_key, raw_iv) = ([0x3c; 32], [0xa5; 16]);
        let key = S::cipher_key(&secret(&raw_key)).expect("key");
        let data: Vec<u8> = (0..65536u32).map(|i| (i * 7 + 3) as u8).collect();
        // Whole blocks of every count up to 65 (one more than a VAES-512 batch), then 64 KiB.
        for len in (16..=1040).step_by(16).chain([65536]) {
            let raw = cbc::Decryptor::<Aes256>::new_from_slices(&raw_key, &raw_iv)
                .expect("sizes")
                .decrypt_padded_vec::<NoPadding>(&data[..len])
                .expect("no padding");
            let mut ours = vec![0u8; len];
            cbc_decrypt_blocks(&key, &raw_iv, &data[..len], &mut ours).expect("whole blocks");
            assert_eq!(ours, raw, "length {len}");
        }
        let sealed = S::encrypt(&key, &public(&raw_iv), &secret(&data)).expect("encrypt");
        assert_eq!(S::decrypt(&key, &public(&raw_iv), &sealed).expect("decrypt").as_slice(), &data[..]);
        let mut out = vec![0u8; 32];
        assert_eq!(cbc_decrypt_blocks(&key, &raw_iv, &data[..33], &mut out), Err(CryptoError::InvalidLength));
        assert_eq!(cbc_decrypt_blocks(&key, &raw_iv, &data[..48], &mut out), Err(CryptoError::InvalidLength));
    }

    #[test]
    fn cipher_key_rejects_wrong_lengths() {
        for len in [0, 16, 24, 31, 33, 64] {
            assert_eq!(S::cipher_key(&secret(&vec![1; len])), Err(CryptoError::InvalidLength), "{len}");
        }
    }

    #[test]
    fn encrypt_rejects_wrong_iv_length() {
        let key = S::cipher_key(&secret(&[5; 32])).expect("key");
        for len in [0, 15, 17, 32] {
            assert_eq!(
                S::encrypt(&key, &public(&vec![0; len]), &secret(b"x")),
                Err(CryptoError::InvalidLength)
            );
        }
    }

    #[test]
    fn decrypt_rejects_bad_padding_length_and_iv() {
        let key = S::cipher_key(&secret(&[5; 32])).expect("key");
        let iv = public(&[9; 16]);
        let ciphertext = S::encrypt(&key, &iv, &secret(b"attack at dawn")).expect("encrypt");
        // Wrong IV length.
        assert_eq!(S::decrypt(&key, &public(&[9; 15]), &ciphertext), Err(CryptoError::Decrypt));
        // Empty or not a multiple of the block size.
        for len in [0, 15, 17] {
            assert_eq!(S::decrypt(&key, &iv, &public(&vec![0; len])), Err(CryptoError::Decrypt));
        }
        let mut longer = ciphertext.as_slice().to_vec();
        longer.push(0);
        assert_eq!(S::decrypt(&key, &iv, &public(&longer)), Err(CryptoError::Decrypt));
        // Bad padding: a wrong key garbles the last block, as does a changed last IV byte
        // (which flips the padding byte 0x02 of a 14-byte message to 0x03).
        let other = S::cipher_key(&secret(&[6; 32])).expect("key");
        assert_eq!(S::decrypt(&other, &iv, &ciphertext), Err(CryptoError::Decrypt));
        let mut iv_bytes = iv.as_slice().to_vec();
        iv_bytes[15] ^= 0x01;
        assert_eq!(S::decrypt(&key, &public(&iv_bytes), &ciphertext), Err(CryptoError::Decrypt));
        // A block of plaintext that ends in 0x00 is never valid PKCS#7.
        let raw_zero_block = {
            use cbc::cipher::KeyIvInit;
            use cbc::cipher::block_padding::NoPadding;
            cbc::Encryptor::<Aes256>::new_from_slices(&[5; 32], &[9; 16])
                .expect("sizes")
                .encrypt_padded_vec::<NoPadding>(&[0; 16])
        };
        assert_eq!(S::decrypt(&key, &iv, &public(&raw_zero_block)), Err(CryptoError::Decrypt));
    }

    // ---- RSA keys ----

    #[test]
    fn check_public_key_accepts_2048_and_3072_bit_keys() {
        for key in [alice(), fixtures::server_key(), fixtures::server_key_3072()] {
            assert_eq!(S::check_public_key(&S::public_key(&key)), Ok(()), "{key:?}");
            assert!(!S::public_key(&key).is_secret());
        }
        assert_eq!(fixtures::server_key_3072().bits(), 3072);
        assert_eq!(alice().bits(), 2048);
    }

    #[test]
    fn check_public_key_rejects_garbage_and_weak_keys() {
        assert_eq!(S::check_public_key(&public(b"")), Err(CryptoError::InvalidKey));
        assert_eq!(S::check_public_key(&public(b"not a key")), Err(CryptoError::InvalidKey));
        let weak = fixtures::named("weak-1024").expect("weak key");
        assert_eq!(weak.bits(), 1024);
        assert_eq!(S::check_public_key(&S::public_key(&weak)), Err(CryptoError::InvalidKey));
        // Trailing bytes and truncation.
        let mut der = alice().public_key_der().as_slice().to_vec();
        der.push(0);
        assert_eq!(S::check_public_key(&public(&der)), Err(CryptoError::InvalidKey));
        der.truncate(der.len() - 2);
        assert_eq!(S::check_public_key(&public(&der)), Err(CryptoError::InvalidKey));
    }

    #[test]
    fn check_public_key_rejects_exponents_other_than_65537() {
        let n = alice().key.n().as_ref().clone();
        for e in [3u64, 17, 65539] {
            let key = RsaPublicKey::new(n.clone(), rsa::BoxedUint::from(e)).expect("valid key");
            let der = key.to_public_key_der().expect("encodes");
            assert_eq!(S::check_public_key(&public(der.as_bytes())), Err(CryptoError::InvalidKey), "e = {e}");
        }
    }

    #[test]
    fn private_key_debug_shows_no_secret_material() {
        let key = alice();
        let text = format!("{key:?}");
        assert!(text.starts_with("PrivateKey(2048 bits, spki-sha256 "), "{text}");
        assert!(text.len() < 60, "{text}");
        let pem = key.to_pkcs8_pem();
        assert!(!text.contains(&pem[30..40]));
    }

    #[test]
    fn private_key_pem_round_trips_and_compares_by_public_key() {
        let key = alice();
        let again = PrivateKey::from_pkcs8_pem(&key.to_pkcs8_pem()).expect("round trip");
        assert_eq!(key, again);
        assert_eq!(key.public_key_der(), again.public_key_der());
        assert_ne!(key, bob());
        let set: HashSet<PrivateKey> = [key.clone(), again, bob()].into_iter().collect();
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn from_pkcs8_pem_rejects_garbage() {
        assert!(matches!(PrivateKey::from_pkcs8_pem(""), Err(KeyError::Parse(_))));
        assert!(matches!(
            PrivateKey::from_pkcs8_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
            Err(KeyError::Parse(_))
        ));
    }

    #[test]
    fn generate_rejects_unsupported_sizes() {
        for bits in [0, 1024, 2047, 4096] {
            assert_eq!(PrivateKey::generate(bits, &mut rng()), Err(KeyError::UnsupportedSize { bits }));
        }
    }

    #[test]
    fn generate_makes_a_usable_2048_bit_key() {
        // The only key generation in the tests (~30-100 ms).
        let key = PrivateKey::generate(2048, &mut seeded_rng([42; 32])).expect("generate");
        assert_eq!(key.bits(), 2048);
        assert_eq!(S::check_public_key(key.public_key_der()), Ok(()));
        let msg = public(b"hello");
        let sig = S::sign(&key, SigScheme::PssSha256, Input::Raw(&msg), &mut rng()).expect("sign");
        assert_eq!(S::verify(key.public_key_der(), SigScheme::PssSha256, Input::Raw(&msg), &sig), Ok(()));
    }

    // ---- RSA-OAEP ----

    #[test]
    fn pke_round_trip_recovers_the_plaintext() {
        let mut rng = rng();
        let key = S::random(&mut rng, Fresh::SessionKey);
        for label in [public(b""), S::tuple(&[&public(b"EE2E-v2 key transport"), &public(b"+15550000001")])] {
            let ct = S::pke_encrypt(&S::public_key(&bob()), &label, &key, &mut rng).expect("encrypt");
            assert!(!ct.is_secret());
            assert_eq!(ct.len(), 256);
            let pt = S::pke_decrypt(&bob(), &label, &ct).expect("decrypt");
            assert!(pt.is_secret());
            assert_eq!(pt, key);
        }
        let big = fixtures::server_key_3072();
        let ct = S::pke_encrypt(&S::public_key(&big), &public(b"l"), &key, &mut rng).expect("encrypt");
        assert_eq!(ct.len(), 384);
        assert_eq!(S::pke_decrypt(&big, &public(b"l"), &ct), Ok(key));
    }

    #[test]
    fn pke_encrypt_is_randomised() {
        let mut rng = rng();
        let (pk, label, pt) = (S::public_key(&bob()), public(b"l"), secret(b"k"));
        let a = S::pke_encrypt(&pk, &label, &pt, &mut rng).expect("encrypt");
        let b = S::pke_encrypt(&pk, &label, &pt, &mut rng).expect("encrypt");
        assert_ne!(a, b);
    }

    #[test]
    fn pke_decrypt_rejects_wrong_label() {
        let mut rng = rng();
        let ct = S::pke_encrypt(&S::public_key(&bob()), &public(b"to bob"), &secret(b"k"), &mut rng)
            .expect("encrypt");
        assert_eq!(S::pke_decrypt(&bob(), &public(b"to eve"), &ct), Err(CryptoError::Decrypt));
        assert_eq!(S::pke_decrypt(&bob(), &public(b""), &ct), Err(CryptoError::Decrypt));
    }

    #[test]
    fn pke_decrypt_rejects_wrong_key_and_tampered_ciphertext() {
        let mut rng = rng();
        let label = public(b"l");
        let ct = S::pke_encrypt(&S::public_key(&bob()), &label, &secret(b"k"), &mut rng).expect("encrypt");
        assert_eq!(S::pke_decrypt(&alice(), &label, &ct), Err(CryptoError::Decrypt));
        let mut tampered = ct.as_slice().to_vec();
        tampered[100] ^= 0x40;
        assert_eq!(S::pke_decrypt(&bob(), &label, &public(&tampered)), Err(CryptoError::Decrypt));
        assert_eq!(S::pke_decrypt(&bob(), &label, &public(&ct.as_slice()[1..])), Err(CryptoError::Decrypt));
        assert_eq!(S::pke_decrypt(&bob(), &label, &public(b"")), Err(CryptoError::Decrypt));
    }

    #[test]
    fn pke_encrypt_rejects_long_plaintexts_and_bad_keys() {
        let mut rng = rng();
        let pk = S::public_key(&bob());
        // k - 2·hLen - 2 = 256 - 66 = 190 bytes fit under a 2048-bit key.
        assert!(S::pke_encrypt(&pk, &public(b""), &secret(&[1; 190]), &mut rng).is_ok());
        assert_eq!(
            S::pke_encrypt(&pk, &public(b""), &secret(&[1; 191]), &mut rng),
            Err(CryptoError::InvalidLength)
        );
        assert_eq!(
            S::pke_encrypt(&public(b"junk"), &public(b""), &secret(b"k"), &mut rng),
            Err(CryptoError::InvalidKey)
        );
        let weak = S::public_key(&fixtures::named("weak-1024").expect("weak"));
        assert_eq!(
            S::pke_encrypt(&weak, &public(b""), &secret(b"k"), &mut rng),
            Err(CryptoError::InvalidKey)
        );
    }

    // ---- signatures ----

    fn possession_parts() -> [Bytes; 3] {
        [public(b"EE2E-v2 possession"), public(b"+15550000001"), S::public_key(&alice())]
    }

    #[test]
    fn signatures_round_trip_for_both_schemes_and_input_forms() {
        let mut rng = rng();
        let parts = possession_parts();
        let refs: Vec<&Bytes> = parts.iter().collect();
        let encoded = S::tuple(&refs);
        let pk = S::public_key(&alice());
        for scheme in [SigScheme::Pkcs1v15Sha256, SigScheme::PssSha256] {
            let sig = S::sign(&alice(), scheme, Input::Tuple(&refs), &mut rng).expect("sign");
            assert!(!sig.is_secret());
            assert_eq!(sig.len(), 256);
            assert_eq!(S::verify(&pk, scheme, Input::Tuple(&refs), &sig), Ok(()), "{scheme:?}");
            // A tuple input signs its encoding.
            assert_eq!(S::verify(&pk, scheme, Input::Raw(&encoded), &sig), Ok(()), "{scheme:?}");
            let raw = S::sign(&alice(), scheme, Input::Raw(&pk), &mut rng).expect("sign");
            assert_eq!(S::verify(&pk, scheme, Input::Raw(&pk), &raw), Ok(()), "{scheme:?}");
        }
    }

    #[test]
    fn pkcs1v15_signatures_are_deterministic() {
        let msg = public(b"directory entry");
        let a = S::sign(&alice(), SigScheme::Pkcs1v15Sha256, Input::Raw(&msg), &mut seeded_rng([1; 32]))
            .expect("sign");
        let b = S::sign(&alice(), SigScheme::Pkcs1v15Sha256, Input::Raw(&msg), &mut seeded_rng([2; 32]))
            .expect("sign");
        assert_eq!(a, b);
    }

    #[test]
    fn pss_signatures_are_salted_from_the_given_rng() {
        let msg = public(b"directory entry");
        let sign = |seed| {
            S::sign(&alice(), SigScheme::PssSha256, Input::Raw(&msg), &mut seeded_rng(seed)).expect("sign")
        };
        assert_eq!(sign([1; 32]), sign([1; 32]));
        assert_ne!(sign([1; 32]), sign([2; 32]));
    }

    #[test]
    fn verify_rejects_tampered_message_signature_wrong_key_and_other_scheme() {
        let mut rng = rng();
        let msg = public(b"+15550000002 is bob");
        let pk = S::public_key(&alice());
        for (scheme, other) in [
            (SigScheme::Pkcs1v15Sha256, SigScheme::PssSha256),
            (SigScheme::PssSha256, SigScheme::Pkcs1v15Sha256),
        ] {
            let sig = S::sign(&alice(), scheme, Input::Raw(&msg), &mut rng).expect("sign");
            let bad = Err(CryptoError::BadSignature);
            assert_eq!(S::verify(&pk, scheme, Input::Raw(&public(b"+15550000666 is bob")), &sig), bad);
            let mut tampered = sig.as_slice().to_vec();
            tampered[17] ^= 0x01;
            assert_eq!(S::verify(&pk, scheme, Input::Raw(&msg), &public(&tampered)), bad);
            assert_eq!(S::verify(&pk, scheme, Input::Raw(&msg), &public(&sig.as_slice()[1..])), bad);
            assert_eq!(S::verify(&pk, scheme, Input::Raw(&msg), &public(b"")), bad);
            assert_eq!(S::verify(&S::public_key(&bob()), scheme, Input::Raw(&msg), &sig), bad);
            assert_eq!(S::verify(&pk, other, Input::Raw(&msg), &sig), bad);
            // The tuple of the same bytes is a different input.
            assert_eq!(S::verify(&pk, scheme, Input::Tuple(&[&msg]), &sig), bad);
            assert_eq!(
                S::verify(&public(b"junk"), scheme, Input::Raw(&msg), &sig),
                Err(CryptoError::InvalidKey)
            );
        }
    }
}
