//! The tuple encoding and the hash and KDF helpers over it; [`feed_parts`] and
//! [`derived_key`] serve the AWS-LC suite too.

use ee2e_spec::Input;
use sha2::{Digest, Sha256};

use super::{KEY_LEN, LENGTH_PREFIX};
use crate::value::Bytes;

/// The canonical tuple encoding ([`Suite::tuple`](ee2e_spec::Suite::tuple)): secret if any part is.
pub(super) fn tuple(parts: &[&Bytes]) -> Bytes {
    let len = parts.iter().map(|p| LENGTH_PREFIX + p.len()).sum();
    let mut out = Vec::with_capacity(len);
    for part in parts {
        out.extend_from_slice(&length_prefix(part.len()));
        out.extend_from_slice(part.as_slice());
    }
    if parts.iter().any(|p| p.is_secret()) { Bytes::secret(out) } else { Bytes::public(out) }
}

/// The 4-byte big-endian length prefix of a tuple part.
///
/// # Panics
/// If the part is 4 GiB or longer, which no protocol value can be.
fn length_prefix(len: usize) -> [u8; LENGTH_PREFIX] {
    u32::try_from(len).expect("tuple part longer than 4 GiB").to_be_bytes()
}

/// Feeds `input` to `update` as [`Suite::tuple`](ee2e_spec::Suite::tuple) would encode it, part by part, without
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
pub(super) fn feed<U: hmac::digest::Update>(state: &mut U, input: Input<'_, Bytes>) {
    feed_parts(input, |bytes| state.update(bytes));
}

/// SHA-256 of `input` as an array (no allocation).
pub(super) fn digest(input: Input<'_, Bytes>) -> sha2::digest::Output<Sha256> {
    let mut hash = Sha256::new();
    feed(&mut hash, input);
    hash.finalize()
}

/// A KDF's output ([`Suite::pbkdf2`](ee2e_spec::Suite::pbkdf2),
/// [`Suite::hkdf`](ee2e_spec::Suite::hkdf)): the 32 bytes `derive` writes, a secret.
pub(crate) fn derived_key(derive: impl FnOnce(&mut [u8])) -> Bytes {
    let mut out = vec![0u8; KEY_LEN];
    derive(&mut out);
    Bytes::secret(out)
}

/// PBKDF2-HMAC-SHA-256 into `out` (any length). `iterations = 0` is computed as 1.
pub(super) fn pbkdf2_sha256_into(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations.max(1), out);
}

/// HKDF-SHA-256 extract then expand into `out` (at most 255 × 32 bytes).
///
/// # Panics
/// If `out` is longer than 8160 bytes.
pub(super) fn hkdf_sha256_into(ikm: &[u8], salt: &[u8], info: &[u8], out: &mut [u8]) {
    hkdf::Hkdf::<Sha256>::new(Some(salt), ikm)
        .expand(info, out)
        .expect("HKDF-SHA-256 output of at most 8160 bytes");
}
