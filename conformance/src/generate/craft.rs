//! Building blocks for tampered and malicious inputs, made with the implementation's own
//! constructions and primitives.

use ee2e::{Bytes, PrivateKey};
use ee2e_spec::hazmat::{sig_scheme, with_directory_input, with_possession_input, with_transport_input};
use ee2e_spec::{DirectoryEntry, Input, Phone, Profile, SigScheme, Suite, Wire};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;

use super::world::{S, World};
use crate::error::VectorError;

/// The other signature scheme than the profile's.
pub(crate) fn other_scheme(profile: Profile) -> SigScheme {
    match sig_scheme(profile) {
        SigScheme::Pkcs1v15Sha256 => SigScheme::PssSha256,
        SigScheme::PssSha256 => SigScheme::Pkcs1v15Sha256,
    }
}

/// The other profile of the two.
pub(crate) fn other_profile(profile: Profile) -> Profile {
    if profile.wire() == Wire::Seed { Profile::HARDENED } else { Profile::SEED }
}

/// Signs the bytes `input` with `key` under `scheme`.
pub(crate) fn sign(
    world: &World,
    key: &PrivateKey,
    scheme: SigScheme,
    input: &Bytes,
    label: &str,
) -> Result<Bytes, VectorError> {
    S::sign(key, scheme, Input::Raw(input), &mut world.rng(label))
        .map_err(|e| world.fail(format!("signing: {e}")))
}

/// The directory input of `(phone, pk)` under `profile`, as bytes.
pub(crate) fn directory_input(profile: Profile, phone: &Phone, pk: &Bytes) -> Bytes {
    with_directory_input::<S, _>(profile, phone, pk, |input| Bytes::public(crate::runner::input_bytes(input)))
}

/// `(phone, pk)` with a directory signature made by `key` over `profile`'s input with `scheme`.
pub(crate) fn entry_signed(
    world: &World,
    phone: &Phone,
    pk: &Bytes,
    key: &PrivateKey,
    profile: Profile,
    scheme: SigScheme,
    label: &str,
) -> Result<DirectoryEntry<S>, VectorError> {
    let signature = sign(world, key, scheme, &directory_input(profile, phone, pk), label)?;
    Ok(DirectoryEntry { phone: phone.clone(), public_key: pk.clone(), signature })
}

/// RSA-OAEP of `plaintext` under `pk` with `label`.
pub(crate) fn oaep(
    world: &World,
    pk: &Bytes,
    label: &Bytes,
    plaintext: &Bytes,
    seed: &str,
) -> Result<Bytes, VectorError> {
    S::pke_encrypt(pk, label, plaintext, &mut world.rng(seed)).map_err(|e| world.fail(format!("OAEP: {e}")))
}

/// The proof-of-possession input `T("EE2E-v2 possession", phone, pk)`.
pub(crate) fn possession_input(phone: &Phone, pk: &Bytes) -> Bytes {
    with_possession_input::<S, _>(phone, pk, |input| Bytes::public(crate::runner::input_bytes(input)))
}

/// The hardened transport signature input `T("EE2E-v2 key transport", from, to, c)`.
pub(crate) fn transport_input(from: &Phone, to: &Phone, c: &Bytes) -> Bytes {
    with_transport_input::<S, _>(from, to, c, |input| Bytes::public(crate::runner::input_bytes(input)))
}

/// The SubjectPublicKeyInfo DER of `key`'s modulus with public exponent `e`.
pub(crate) fn with_exponent(world: &World, key: &PrivateKey, e: u64) -> Result<Bytes, VectorError> {
    let public = rsa::PublicKey::from_public_key_der(key.public_key_der().as_slice())
        .map_err(|err| world.fail(format!("parsing a fixture key: {err}")))?;
    let n = public.n().as_ref().clone();
    let changed = rsa::PublicKey::new(n, rsa::BoxedUint::from(e))
        .map_err(|err| world.fail(format!("building an e={e} key: {err}")))?;
    let der = changed.to_public_key_der().map_err(|err| world.fail(format!("encoding: {err}")))?;
    Ok(Bytes::public(der.as_bytes()))
}

/// `value` with its last byte removed.
pub(crate) fn truncate(value: &Bytes) -> Bytes {
    Bytes::public(&value.as_slice()[..value.len().saturating_sub(1)])
}

/// `value` with a zero byte appended.
pub(crate) fn extend(value: &Bytes) -> Bytes {
    let mut bytes = value.as_slice().to_vec();
    bytes.push(0);
    Bytes::public(bytes)
}
