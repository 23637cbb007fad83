//! The bare primitives, as `openssl speed` measures them: AES-256-CBC over whole blocks in
//! place (no padding, no allocation), HMAC-SHA-256 under a prepared key, SHA-256.
//!
//! These use the same crates and the same prepared-key types as `ee2e::ConcreteSuite`
//! (`aes::Aes256` through `cbc`, `hmac::Hmac<Sha256>`), so the gap between a [`raw`](self)
//! figure and the matching suite figure is the suite's own overhead (padding, allocation,
//! the `Bytes` wrapper).

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, KeyInit};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// A prepared AES-256 key schedule.
pub fn aes_key(key: &[u8; 32]) -> Aes256 {
    <Aes256 as KeyInit>::new(key.into())
}

/// A prepared HMAC-SHA-256 key.
pub fn hmac_key(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"))
}

/// The whole blocks of `buffer` (a trailing partial block is left alone).
fn whole_blocks(buffer: &mut [u8]) -> &mut [u8] {
    let len = buffer.len() - buffer.len() % 16;
    &mut buffer[..len]
}

/// AES-256-CBC encryption of the whole blocks of `buffer`, in place.
pub fn aes_cbc_encrypt(cipher: &Aes256, iv: &[u8; 16], buffer: &mut [u8]) {
    let mut mode = cbc::Encryptor::<&Aes256>::inner_iv_init(cipher, iv.into());
    let (blocks, _) = cbc::cipher::array::Array::slice_as_chunks_mut(whole_blocks(buffer));
    mode.encrypt_blocks(blocks);
}

/// AES-256-CBC decryption of the whole blocks of `buffer`, in place.
pub fn aes_cbc_decrypt(cipher: &Aes256, iv: &[u8; 16], buffer: &mut [u8]) {
    let mut mode = cbc::Decryptor::<&Aes256>::inner_iv_init(cipher, iv.into());
    let (blocks, _) = cbc::cipher::array::Array::slice_as_chunks_mut(whole_blocks(buffer));
    mode.decrypt_blocks(blocks);
}

/// HMAC-SHA-256 of `data` under a prepared key (the keyed state is cloned, as OpenSSL's
/// `HMAC_Init_ex(ctx, NULL, …)` reuses it).
pub fn hmac_sha256(key: &Hmac<Sha256>, data: &[u8]) -> [u8; 32] {
    let mut mac = key.clone();
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_cbc_round_trips_and_matches_the_suite() {
        use ee2e::{Bytes, ConcreteSuite as S};
        use ee2e_spec::Suite;
        let (key, iv) = ([7u8; 32], [9u8; 16]);
        let cipher = aes_key(&key);
        let plain: Vec<u8> = (0..1024u32).map(|i| i as u8).collect();
        let mut buffer = plain.clone();
        aes_cbc_encrypt(&cipher, &iv, &mut buffer);
        let suite = S::encrypt(
            &S::cipher_key(&Bytes::secret(key.to_vec())).expect("key"),
            &Bytes::public(iv.to_vec()),
            &Bytes::secret(plain.clone()),
        )
        .expect("encrypt");
        assert_eq!(&suite.as_slice()[..1024], &buffer[..]);
        aes_cbc_decrypt(&cipher, &iv, &mut buffer);
        assert_eq!(buffer, plain);
    }

    #[test]
    fn raw_hmac_and_sha256_match_rfc_4231_and_fips_180() {
        // RFC 4231 test case 2.
        let tag = hmac_sha256(&hmac_key(b"Jefe"), b"what do ya want for nothing?");
        assert_eq!(tag[..4], [0x5b, 0xdc, 0xc1, 0x46]);
        assert_eq!(sha256(b"abc")[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}
