//! Protocol constructions built once on top of [`Suite`]: registration values, directory
//! signatures, key-transport labels, session ids. SPEC.md §5–§6 give the same formulas.

use crate::message::DirectoryEntry;
use crate::phone::Phone;
use crate::profile::{Fix, Profile, Wire};
use crate::suite::{CryptoError, Input, SigScheme, Suite};

/// Domain-separation labels (ASCII). Each hardened construction starts with its own label.
pub mod labels {
    /// Directory signature input.
    pub const DIRECTORY: &[u8] = b"EE2E-v2 directory";
    /// OAEP label of the sealed registration tag.
    pub const REGISTRATION: &[u8] = b"EE2E-v2 registration";
    /// Proof of possession signed by a registering client.
    pub const POSSESSION: &[u8] = b"EE2E-v2 possession";
    /// OAEP label and signature input of the key transport.
    pub const TRANSPORT: &[u8] = b"EE2E-v2 key transport";
    /// Session id derivation.
    pub const SESSION_ID: &[u8] = b"EE2E-v2 session id";
    /// HKDF info prefix of the message keys.
    pub const MESSAGE_KEYS: &[u8] = b"EE2E-v2 message keys";
    /// Hardened ACK MAC input.
    pub const ACK: &[u8] = b"EE2E-v2 ack";
    /// The seed's acknowledgement text.
    pub const SEED_ACK_TEXT: &[u8] = b"ACK";
}

/// The signature scheme of a profile: PKCS#1 v1.5 on the seed wire, PSS otherwise.
pub fn sig_scheme(profile: Profile) -> SigScheme {
    match profile.wire() {
        Wire::Seed => SigScheme::Pkcs1v15Sha256,
        Wire::Hardened => SigScheme::PssSha256,
    }
}

/// A phone number as a protocol value.
pub fn phone_value<S: Suite>(phone: &Phone) -> S::Value {
    S::constant(phone.as_bytes())
}

/// The values a registering client and the server both compute from the OTP (seed 1.4–1.6).
///
/// Every one of them is secret or an offline verifier of the OTP (SPEC.md §12 E7), so `Debug`
/// prints none of them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RegistrationValues<S: Suite> {
    pub(crate) salt: S::Value,
    pub(crate) k_temp: S::Value,
    pub(crate) tag: S::Value,
}

impl<S: Suite> std::fmt::Debug for RegistrationValues<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RegistrationValues { salt: <hidden>, k_temp: <hidden>, tag: <hidden> }")
    }
}

impl<S: Suite> RegistrationValues<S> {
    /// Computes salt, `K_temp` and tag.
    pub fn compute(otp: &S::Value, phone: &Phone, public_key: &S::Value, iterations: u32) -> Self {
        let salt = S::hmac(&S::mac_key(otp), Input::Raw(&phone_value::<S>(phone)));
        let k_temp = S::pbkdf2(otp, &salt, iterations);
        let tag = S::hmac(&S::mac_key(&k_temp), Input::Raw(public_key));
        RegistrationValues { salt, k_temp, tag }
    }

    /// `Salt = HMAC-SHA-256(key = OTP, message = phone)`.
    pub fn salt(&self) -> &S::Value {
        &self.salt
    }

    /// `K_temp = PBKDF2-HMAC-SHA-256(password = OTP, salt = Salt, iterations, 32)`.
    pub fn k_temp(&self) -> &S::Value {
        &self.k_temp
    }

    /// `tag = HMAC-SHA-256(key = K_temp, message = public key)`.
    pub fn tag(&self) -> &S::Value {
        &self.tag
    }
}

/// The OAEP label of a sealed registration tag: `("EE2E-v2 registration", phone)`.
pub fn registration_label<S: Suite>(phone: &Phone) -> S::Value {
    S::tuple(&[&S::constant(labels::REGISTRATION), &phone_value::<S>(phone)])
}

/// Runs `f` with the proof-of-possession input `("EE2E-v2 possession", phone, pk)`.
pub fn with_possession_input<S: Suite, R>(
    phone: &Phone,
    public_key: &S::Value,
    f: impl FnOnce(Input<'_, S::Value>) -> R,
) -> R {
    let label = S::constant(labels::POSSESSION);
    let phone = phone_value::<S>(phone);
    f(Input::Tuple(&[&label, &phone, public_key]))
}

/// Runs `f` with the directory signature input of `(phone, pk)` under `profile`:
/// `("EE2E-v2 directory", phone, pk)` with [`Fix::DirectoryBinding`], the raw key otherwise.
pub fn with_directory_input<S: Suite, R>(
    profile: Profile,
    phone: &Phone,
    public_key: &S::Value,
    f: impl FnOnce(Input<'_, S::Value>) -> R,
) -> R {
    if profile.has(Fix::DirectoryBinding) {
        let label = S::constant(labels::DIRECTORY);
        let phone = phone_value::<S>(phone);
        f(Input::Tuple(&[&label, &phone, public_key]))
    } else {
        f(Input::Raw(public_key))
    }
}

/// Signs a directory entry (done once, at registration).
pub fn sign_entry<S: Suite>(
    profile: Profile,
    server_key: &S::PrivateKey,
    phone: &Phone,
    public_key: &S::Value,
    rng: &mut S::Rng,
) -> Result<DirectoryEntry<S>, CryptoError> {
    let signature = with_directory_input::<S, _>(profile, phone, public_key, |input| {
        S::sign(server_key, sig_scheme(profile), input, rng)
    })?;
    Ok(DirectoryEntry { phone: phone.clone(), public_key: public_key.clone(), signature })
}

/// Verifies a directory entry against the pinned server key: key well-formed, then signature.
pub fn verify_entry<S: Suite>(
    profile: Profile,
    server_public: &S::Value,
    entry: &DirectoryEntry<S>,
) -> Result<(), CryptoError> {
    S::check_public_key(&entry.public_key)?;
    with_directory_input::<S, _>(profile, &entry.phone, &entry.public_key, |input| {
        S::verify(server_public, sig_scheme(profile), input, &entry.signature)
    })
}

/// The OAEP label of a key transport from `from` to `to`: `("EE2E-v2 key transport", from, to)`
/// with [`Fix::TransportBinding`], empty otherwise.
pub fn transport_label<S: Suite>(profile: Profile, from: &Phone, to: &Phone) -> S::Value {
    if profile.has(Fix::TransportBinding) {
        S::tuple(&[&S::constant(labels::TRANSPORT), &phone_value::<S>(from), &phone_value::<S>(to)])
    } else {
        S::constant(b"")
    }
}

/// Runs `f` with the hardened transport signature input `("EE2E-v2 key transport", from, to, c)`.
pub fn with_transport_input<S: Suite, R>(
    from: &Phone,
    to: &Phone,
    ciphertext: &S::Value,
    f: impl FnOnce(Input<'_, S::Value>) -> R,
) -> R {
    let label = S::constant(labels::TRANSPORT);
    let (from, to) = (phone_value::<S>(from), phone_value::<S>(to));
    f(Input::Tuple(&[&label, &from, &to, ciphertext]))
}

/// The session id of a key transport: `SHA-256(("EE2E-v2 session id", c))`.
pub fn session_id<S: Suite>(transport_ciphertext: &S::Value) -> S::Value {
    S::sha256(Input::Tuple(&[&S::constant(labels::SESSION_ID), transport_ciphertext]))
}
