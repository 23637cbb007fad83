//! Key transport (SPEC.md §6.2 sender side, §6.4 recipient side): the session key `K`,
//! RSA-OAEP encrypted to the recipient and signed by the sender.
//!
//! Pure functions of their inputs (keys, phones, `K`, the random source): the client, the
//! model's attacker and the benchmarks all build and open transports here.

use crate::derive::{session_id, sig_scheme, transport_label, with_transport_input};
use crate::error::Rejection;
use crate::message::Transport;
use crate::phone::Phone;
use crate::profile::{Fix, Profile};
use crate::session::Mode;
use crate::suite::{CryptoError, Input, SigScheme, Suite};

/// The key transport of one profile: which label, signature input, scheme and checks it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyTransport {
    profile: Profile,
    scheme: SigScheme,
    /// E2: label and signature bind sender, recipient (and ciphertext).
    bound: bool,
    /// E3: a transport whose session id was seen before is refused.
    replay: bool,
}

impl KeyTransport {
    /// The key transport of `profile`.
    pub fn new(profile: Profile) -> Self {
        KeyTransport {
            profile,
            scheme: sig_scheme(profile),
            bound: profile.has(Fix::TransportBinding),
            replay: profile.has(Fix::TransportReplay),
        }
    }

    /// Sender side (SPEC.md §6.2): `c = OAEP(pk_to, K, L)`, then `σ` by `sender_key` over
    /// `T("EE2E-v2 key transport", from, to, c)` with E2, over `K` otherwise. `K` is drawn by
    /// the caller, so that the nonce and signature draws follow it on `rng`.
    pub fn seal<S: Suite>(
        &self,
        sender_key: &S::PrivateKey,
        from: &Phone,
        to: &Phone,
        recipient_public: &S::Value,
        key: &S::Value,
        rng: &mut S::Rng,
    ) -> Result<Transport<S>, CryptoError> {
        let label = transport_label::<S>(self.profile, from, to);
        let ciphertext = S::pke_encrypt(recipient_public, &label, key, rng)?;
        let signature = if self.bound {
            with_transport_input::<S, _>(from, to, &ciphertext, |input| {
                S::sign(sender_key, self.scheme, input, rng)
            })?
        } else {
            S::sign(sender_key, self.scheme, Input::Raw(key), rng)?
        };
        Ok(Transport { ciphertext, signature })
    }

    /// Recipient side (SPEC.md §6.4, checks 3–7 in that order): returns `K`. `seen` tells
    /// whether a session id was accepted before (check 4, E3); the caller keeps that set.
    /// `rng` blinds the private-key operation.
    #[allow(clippy::too_many_arguments)] // the inputs of checks 3-7, then the blinding source
    pub fn open<S: Suite>(
        &self,
        recipient_key: &S::PrivateKey,
        from: &Phone,
        to: &Phone,
        sender_public: &S::Value,
        transport: &Transport<S>,
        seen: impl FnOnce(&S::Value) -> bool,
        rng: &mut S::Rng,
    ) -> Result<S::Value, Rejection> {
        let bad_signature = |_| Rejection::BadTransportSignature(from.clone());
        // 3. Hardened: the signature covers who sends to whom and is checked before decrypting.
        if self.bound {
            with_transport_input::<S, _>(from, to, &transport.ciphertext, |input| {
                S::verify(sender_public, self.scheme, input, &transport.signature)
            })
            .map_err(bad_signature)?;
        }
        // 4.
        if self.replay && seen(&session_id::<S>(&transport.ciphertext)) {
            return Err(Rejection::ReplayedKeyTransport);
        }
        // 5.
        let label = transport_label::<S>(self.profile, from, to);
        let key = S::pke_decrypt(recipient_key, &label, &transport.ciphertext, rng)
            .map_err(|_| Rejection::TransportDecrypt)?;
        // 6. An AES-256 key must be 32 bytes; preparing one is the length check.
        S::cipher_key(&key).map_err(|_| Rejection::InvalidSessionKey)?;
        // 7. Seed 2.9: the signature covers SHA-256(K) only.
        if !self.bound {
            S::verify(sender_public, self.scheme, Input::Raw(&key), &transport.signature)
                .map_err(bad_signature)?;
        }
        Ok(key)
    }

    /// The mode of the session a transport with `ciphertext` establishes (its id, SPEC.md §6.2).
    pub fn session_mode<S: Suite>(&self, ciphertext: &S::Value) -> Mode<S> {
        Mode::of_transport(self.profile, ciphertext)
    }
}
