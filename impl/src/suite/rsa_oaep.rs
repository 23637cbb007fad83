//! Raw RSA decryption and EME-OAEP decoding, ours rather than the `rsa` crate's.

use ee2e_spec::CryptoError;
use rsa::traits::PublicKeyParts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::KEY_LEN;
use super::keys::PrivateKey;
use super::rng::{Rng, fork};
use crate::value::Bytes;

/// `EM = I2OSP(RSADP(K, OS2IP(C)), k)` (RFC 8017 §7.1.2 steps 1–2b): the `rsa` crate's blinded,
/// CRT-checked private operation, blinded with randomness from a [`fork`] of `rng`.
pub(super) fn rsa_decrypt_raw(
    key: &PrivateKey,
    ciphertext: &Bytes,
    rng: &mut Rng,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    // Drawn first, so that every outcome advances `rng` alike.
    let mut blinding = fork(rng);
    let k = key.key.size();
    if ciphertext.len() != k {
        return Err(CryptoError::Decrypt);
    }
    let c = rsa::BoxedUint::from_be_slice(ciphertext.as_slice(), key.key.n_bits_precision())
        .map_err(|_| CryptoError::Decrypt)?;
    let m = rsa::hazmat::rsa_decrypt_and_check(&*key.key, Some(&mut blinding), &c)
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
pub(super) fn oaep_decode(mut em: Zeroizing<Vec<u8>>, label: &[u8]) -> Option<Vec<u8>> {
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
