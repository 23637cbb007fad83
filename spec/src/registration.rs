//! The registration proof (SPEC.md §5.2, client side; §5.3 checks 6–8, server side): the tag
//! computed from the OTP, on the hardened wire sealed to the server [E7] and accompanied by
//! a proof of possession of the new private key [E9].
//!
//! Pure functions of their inputs: the client, the server, the model's attacker and the
//! replay translator all build or check proofs here.

use crate::derive::{RegistrationValues, registration_label, sig_scheme, with_possession_input};
use crate::error::ServerError;
use crate::message::RegistrationProof;
use crate::phone::Phone;
use crate::profile::{Fix, Profile, Wire};
use crate::suite::{CryptoError, Suite};

impl<S: Suite> RegistrationProof<S> {
    /// Builds the proof for `phone` and `public_key` from `otp` (SPEC.md §5.2): the tag;
    /// on the hardened wire the tag OAEP-sealed to `server_public` (E7) (else the tag itself)
    /// and the possession signature by `key` (E9) (else empty). `key` need not be the
    /// private half of `public_key` (an attacker may sign with another key).
    #[allow(clippy::too_many_arguments)] // each input is a distinct protocol value
    pub fn build(
        profile: Profile,
        iterations: u32,
        otp: &S::Value,
        phone: &Phone,
        key: &S::PrivateKey,
        public_key: &S::Value,
        server_public: &S::Value,
        rng: &mut S::Rng,
    ) -> Result<Self, CryptoError> {
        let values = RegistrationValues::<S>::compute(otp, phone, public_key, iterations);
        if profile.wire() == Wire::Seed {
            return Ok(RegistrationProof::Seed { tag: values.tag });
        }
        let sealed_tag = if profile.has(Fix::SealedTag) {
            S::pke_encrypt(server_public, &registration_label::<S>(phone), &values.tag, rng)?
        } else {
            values.tag
        };
        let possession = if profile.has(Fix::PossessionProof) {
            with_possession_input::<S, _>(phone, public_key, |input| {
                S::sign(key, sig_scheme(profile), input, rng)
            })?
        } else {
            S::constant(b"")
        };
        Ok(RegistrationProof::Hardened { sealed_tag, possession })
    }

    /// The server's checks 6–8 of SPEC.md §5.3, in order, against the pending `otp`: the
    /// proof of possession (E9), the sealed tag under `server_key` (E7), the tag (constant
    /// time). The error says which failed; [`ServerError::counts_attempt`] says whether it
    /// counts a failed attempt. The layout (check 1) is the caller's. `rng` blinds the
    /// private-key operation.
    #[allow(clippy::too_many_arguments)] // the inputs of checks 6-8, then the blinding source
    pub fn verify(
        &self,
        profile: Profile,
        iterations: u32,
        server_key: &S::PrivateKey,
        otp: &S::Value,
        phone: &Phone,
        public_key: &S::Value,
        rng: &mut S::Rng,
    ) -> Result<(), ServerError> {
        let tag = match self {
            RegistrationProof::Seed { tag } => tag.clone(),
            RegistrationProof::Hardened { sealed_tag, possession } => {
                // 6. a public-key operation, before the private one
                if profile.has(Fix::PossessionProof) {
                    with_possession_input::<S, _>(phone, public_key, |input| {
                        S::verify(public_key, sig_scheme(profile), input, possession)
                    })
                    .map_err(|_| ServerError::BadPossessionProof)?;
                }
                // 7.
                if profile.has(Fix::SealedTag) {
                    S::pke_decrypt(server_key, &registration_label::<S>(phone), sealed_tag, rng)
                        .map_err(|_| ServerError::BadSealedTag)?
                } else {
                    sealed_tag.clone()
                }
            }
        };
        // 8. the PBKDF2 work comes last, after the cheap checks
        let expected = RegistrationValues::<S>::compute(otp, phone, public_key, iterations);
        if S::ct_eq(&expected.tag, &tag) { Ok(()) } else { Err(ServerError::BadRegistrationTag) }
    }
}
