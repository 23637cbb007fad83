//! AES-256-CBC: the hand-tuned encryption loop, decryption, and PKCS#7 padding; with the
//! buffer handling the AWS-LC suite's CBC shares ([`encrypt_buffer`], [`decrypted_plaintext`]).

use aes::Aes256;
use cbc::cipher::block_padding::Padding;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::consts::U16;
use cbc::cipher::{
    Block, BlockCipherEncBackend, BlockCipherEncClosure, BlockCipherEncrypt, BlockModeDecrypt, BlockSizeUser,
    InnerIvInit,
};
use ee2e_spec::CryptoError;
use zeroize::Zeroize;

use super::BLOCK;
use super::keys::CipherKey;
use crate::value::Bytes;

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
/// [`Suite::encrypt`](ee2e_spec::Suite::encrypt) (which pads, allocates the output and calls this), public so that
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
/// under [`Suite::decrypt`](ee2e_spec::Suite::decrypt) (which allocates the output, calls this and unpads), public so
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

/// What [`Suite::encrypt`](ee2e_spec::Suite::encrypt) starts from in both suites: the IV as
/// an array, and the plaintext copied into the one allocation the ciphertext will use, with
/// room for its PKCS#7 padding (1 to 16 bytes) so that padding and encrypting in place do not
/// reallocate.
///
/// # Errors
/// [`CryptoError::InvalidLength`] unless `iv` is 16 bytes.
pub(crate) fn encrypt_buffer(iv: &Bytes, plaintext: &Bytes) -> Result<([u8; BLOCK], Vec<u8>), CryptoError> {
    let iv: [u8; BLOCK] = iv.as_slice().try_into().map_err(|_| CryptoError::InvalidLength)?;
    let plaintext = plaintext.as_slice();
    let mut out = Vec::with_capacity(padded_len(plaintext.len()));
    out.extend_from_slice(plaintext);
    Ok((iv, out))
}

/// The length of `len` bytes with PKCS#7 padding: the next whole block, a full one when `len`
/// is already a multiple of 16.
fn padded_len(len: usize) -> usize {
    (len / BLOCK + 1) * BLOCK
}

/// AES-256-CBC with PKCS#7 padding (`Suite::encrypt`).
pub(super) fn encrypt_padded(key: &CipherKey, iv: &Bytes, plaintext: &Bytes) -> Result<Bytes, CryptoError> {
    let (iv, mut out) = encrypt_buffer(iv, plaintext)?;
    // PKCS#7: 1 to 16 bytes, each holding the padding length.
    let (len, padded) = (out.len(), padded_len(out.len()));
    out.resize(padded, (padded - len) as u8);
    cbc_encrypt_blocks(key, &iv, &mut out)?;
    Ok(Bytes::public(out))
}

/// The checks [`Suite::decrypt`](ee2e_spec::Suite::decrypt) makes first in both suites: a
/// ciphertext of one or more whole blocks and a 16-byte IV, which it returns as an array.
///
/// # Errors
/// [`CryptoError::Decrypt`] for anything else (a decryption failure tells no more).
pub(crate) fn decrypt_iv(iv: &Bytes, ciphertext: &[u8]) -> Result<[u8; BLOCK], CryptoError> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(BLOCK) {
        return Err(CryptoError::Decrypt);
    }
    iv.as_slice().try_into().map_err(|_| CryptoError::Decrypt)
}

/// The plaintext of a decryption done in `buffer`: its first `len` bytes, the padding after
/// them wiped before the buffer is cut (`Bytes` wipes the rest on drop); with `None` (bad
/// padding) the whole buffer is wiped and the result is [`CryptoError::Decrypt`].
pub(crate) fn decrypted_plaintext(mut buffer: Vec<u8>, len: Option<usize>) -> Result<Bytes, CryptoError> {
    match len {
        Some(len) => {
            buffer[len..].zeroize();
            buffer.truncate(len);
            Ok(Bytes::secret(buffer))
        }
        None => {
            buffer.zeroize();
            Err(CryptoError::Decrypt)
        }
    }
}

/// AES-256-CBC decryption and PKCS#7 unpadding (`Suite::decrypt`).
pub(super) fn decrypt_padded(key: &CipherKey, iv: &Bytes, ciphertext: &Bytes) -> Result<Bytes, CryptoError> {
    let ciphertext = ciphertext.as_slice();
    let iv = decrypt_iv(iv, ciphertext)?;
    // One allocation: the output, decrypted into straight from the ciphertext.
    let mut buffer = vec![0u8; ciphertext.len()];
    cbc_decrypt_blocks(key, &iv, ciphertext, &mut buffer).map_err(|_| CryptoError::Decrypt)?;
    // PKCS#7 lives in the last block (the same check `cbc`'s `decrypt_padded` made).
    let last = buffer.len() - BLOCK;
    let len = Pkcs7::raw_unpad(&buffer[last..]).ok().map(|kept| last + kept.len());
    decrypted_plaintext(buffer, len)
}
