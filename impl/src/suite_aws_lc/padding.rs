//! EME-OAEP encoding and EMSA-PSS encoding with SHA-256 and MGF1-SHA-256 (RFC 8017 §7.1.1
//! step 2 and §9.1.1), written here because the caller's random source must supply the OAEP
//! seed and the PSS salt (see [`super::ffi`]). Hashing is AWS-LC's. Decoding is not here:
//! OAEP decryption and both verifications are AWS-LC's own.

use aws_lc_rs::digest::{self, SHA256};
use ee2e_spec::CryptoError;
use zeroize::Zeroizing;

/// SHA-256 output length `hLen`.
pub(super) const H_LEN: usize = 32;

/// `out ^= MGF1-SHA-256(seed, out.len())` (RFC 8017 §B.2.1).
fn mgf1_xor(out: &mut [u8], seed: &[u8]) {
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(H_LEN)) {
        let mut ctx = digest::Context::new(&SHA256);
        ctx.update(seed);
        ctx.update(&counter.to_be_bytes());
        let mask = ctx.finish();
        chunk.iter_mut().zip(mask.as_ref()).for_each(|(o, m)| *o ^= m);
    }
}

/// `EM = 0x00 ‖ maskedSeed ‖ maskedDB` for a `k`-byte modulus, with `seed` the caller's
/// `hLen` random bytes. [`CryptoError::InvalidLength`] if `message` is longer than
/// `k − 2·hLen − 2`.
pub(super) fn oaep_encode(
    message: &[u8],
    label: &[u8],
    seed: &[u8; H_LEN],
    k: usize,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if k < 2 * H_LEN + 2 || message.len() > k - 2 * H_LEN - 2 {
        return Err(CryptoError::InvalidLength);
    }
    let mut em = Zeroizing::new(vec![0u8; k]);
    let (_, rest) = em.split_at_mut(1);
    let (masked_seed, db) = rest.split_at_mut(H_LEN);
    // DB = lHash ‖ PS ‖ 0x01 ‖ M, PS the zero bytes already there.
    db[..H_LEN].copy_from_slice(digest::digest(&SHA256, label).as_ref());
    let m_start = db.len() - message.len();
    db[m_start - 1] = 0x01;
    db[m_start..].copy_from_slice(message);
    masked_seed.copy_from_slice(seed);
    mgf1_xor(db, masked_seed);
    mgf1_xor(masked_seed, db);
    Ok(em)
}

/// `EM` of EMSA-PSS-ENCODE for an `em_bits = modBits − 1` encoding of the SHA-256 digest
/// `m_hash` with the caller's `salt`, left-padded to `k` bytes for the raw RSA operation.
pub(super) fn pss_encode(
    m_hash: &[u8; H_LEN],
    salt: &[u8],
    mod_bits: usize,
    k: usize,
) -> Result<Vec<u8>, CryptoError> {
    let em_bits = mod_bits.checked_sub(1).ok_or(CryptoError::Operation)?;
    let em_len = em_bits.div_ceil(8);
    if em_len < H_LEN + salt.len() + 2 || em_len > k {
        return Err(CryptoError::Operation);
    }
    // H = Hash(0x00 × 8 ‖ mHash ‖ salt).
    let mut ctx = digest::Context::new(&SHA256);
    ctx.update(&[0u8; 8]);
    ctx.update(m_hash);
    ctx.update(salt);
    let h = ctx.finish();
    // EM = maskedDB ‖ H ‖ 0xbc, DB = PS ‖ 0x01 ‖ salt.
    let mut out = vec![0u8; k];
    let em = &mut out[k - em_len..];
    let db_len = em_len - H_LEN - 1;
    let (db, tail) = em.split_at_mut(db_len);
    db[db_len - salt.len() - 1] = 0x01;
    db[db_len - salt.len()..].copy_from_slice(salt);
    tail[..H_LEN].copy_from_slice(h.as_ref());
    tail[H_LEN] = 0xbc;
    mgf1_xor(db, &tail[..H_LEN]);
    // Clear the leftmost 8·emLen − emBits bits.
    db[0] &= 0xff >> (8 * em_len - em_bits);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oaep_encode_refuses_messages_longer_than_k_minus_66() {
        let seed = [7; H_LEN];
        assert!(oaep_encode(&[1; 190], b"", &seed, 256).is_ok());
        assert_eq!(oaep_encode(&[1; 191], b"", &seed, 256), Err(CryptoError::InvalidLength));
        assert_eq!(oaep_encode(b"", b"", &seed, 65), Err(CryptoError::InvalidLength));
    }

    #[test]
    fn oaep_encoding_unmasks_to_label_hash_separator_and_message() {
        let (seed, k) = ([0x5a; H_LEN], 256);
        let em = oaep_encode(b"key", b"label", &seed, k).expect("fits");
        assert_eq!(em[0], 0);
        let mut seed_part = em[1..1 + H_LEN].to_vec();
        let mut db = em[1 + H_LEN..].to_vec();
        mgf1_xor(&mut seed_part, &db);
        assert_eq!(seed_part, seed);
        mgf1_xor(&mut db, &seed_part);
        assert_eq!(&db[..H_LEN], digest::digest(&SHA256, b"label").as_ref());
        assert!(db[H_LEN..db.len() - 4].iter().all(|b| *b == 0));
        assert_eq!(&db[db.len() - 4..], b"\x01key");
    }

    #[test]
    fn pss_encoding_has_trailer_and_cleared_top_bits() {
        // A 2048-bit modulus: emBits 2047, so the top bit of EM is cleared.
        let em = pss_encode(&[3; H_LEN], &[9; 32], 2048, 256).expect("encodes");
        assert_eq!(em.len(), 256);
        assert_eq!(em[255], 0xbc);
        assert_eq!(em[0] & 0x80, 0);
        // A salt that leaves no room is refused.
        assert_eq!(pss_encode(&[3; H_LEN], &[9; 223], 2048, 256), Err(CryptoError::Operation));
    }
}
