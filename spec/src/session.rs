//! An established session: keys, sequence numbers, replay window; seal, open and ACKs
//! (seed steps 3–4, SPEC.md §7–§8).

use crate::derive::{labels, phone_value};
use crate::error::ClientError;
use crate::message::{Ack, Sealed};
use crate::phone::Phone;
use crate::profile::{Fix, Profile, Wire};
use crate::suite::{Input, Suite};
use crate::window::{ReplayWindow, WindowError};

/// Which side of the key transport a party was on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Sent the key transport.
    Initiator,
    /// Received the key transport.
    Responder,
}

/// A direction of traffic within a session; its byte is part of the key schedule and ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    /// Initiator to responder (byte 0).
    InitiatorToResponder = 0,
    /// Responder to initiator (byte 1).
    ResponderToInitiator = 1,
}

impl Role {
    /// The direction this role sends in.
    pub fn sending(self) -> Direction {
        match self {
            Role::Initiator => Direction::InitiatorToResponder,
            Role::Responder => Direction::ResponderToInitiator,
        }
    }

    /// The direction this role receives in.
    pub fn receiving(self) -> Direction {
        match self {
            Role::Initiator => Direction::ResponderToInitiator,
            Role::Responder => Direction::InitiatorToResponder,
        }
    }
}

/// The encryption and MAC keys of one direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DirectionKeys<S: Suite> {
    /// AES-256 key.
    pub enc: S::CipherKey,
    /// HMAC-SHA-256 key.
    pub mac: S::MacKey,
}

impl<S: Suite> DirectionKeys<S> {
    /// Derives the keys of `direction` from `K` and the session id:
    /// `HKDF-SHA-256(ikm = K, salt = sid, info = ("EE2E-v2 message keys", [direction], purpose))`
    /// with purpose `enc` or `mac`, 32 bytes each.
    pub fn derive(key: &S::Value, session: &S::Value, direction: Direction) -> Result<Self, ClientError> {
        let info = |purpose: &[u8]| {
            S::tuple(&[
                &S::constant(labels::MESSAGE_KEYS),
                &S::constant(&[direction as u8]),
                &S::constant(purpose),
            ])
        };
        let enc = S::hkdf(key, session, &info(b"enc"));
        let mac = S::hkdf(key, session, &info(b"mac"));
        Ok(DirectionKeys { enc: S::cipher_key(&enc).map_err(ClientError::Crypto)?, mac: S::mac_key(&mac) })
    }

    /// The seed's keys: `K` for both encryption and MAC.
    pub fn from_session_key(key: &S::Value) -> Result<Self, ClientError> {
        Ok(DirectionKeys {
            enc: S::cipher_key(key).map_err(|_| ClientError::InvalidSessionKey)?,
            mac: S::mac_key(key),
        })
    }
}

/// A session with one peer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Session<S: Suite> {
    /// The peer.
    pub peer: Phone,
    /// Our role in the key transport.
    pub role: Role,
    /// The session id (hardened wire only).
    pub id: Option<S::Value>,
    /// The session key `K` (secret; persisted in the keystore).
    pub key: S::Value,
    send: DirectionKeys<S>,
    recv: DirectionKeys<S>,
    /// The sequence number of the next sealed message; `None` once `u64::MAX` was used.
    next_seq: Option<u64>,
    window: ReplayWindow,
}

/// What opening a message yields, before the caller commits it with [`Session::commit`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Opened<S: Suite> {
    /// The plaintext.
    pub plaintext: S::Value,
    /// The sequence number (hardened wire).
    pub seq: Option<u64>,
    /// SHA-256 over (IV, ciphertext), which the ACK binds.
    pub digest: S::Value,
}

/// A sent message waiting for its ACK.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Outstanding<S: Suite> {
    /// Local message id, counted per client.
    pub id: u64,
    /// The peer.
    pub peer: Phone,
    /// Session id (hardened wire).
    pub session: Option<S::Value>,
    /// Sequence number (hardened wire).
    pub seq: Option<u64>,
    /// SHA-256 over (IV, ciphertext).
    pub digest: S::Value,
}

fn digest<S: Suite>(iv: &S::Value, ciphertext: &S::Value) -> S::Value {
    S::sha256(Input::Tuple(&[iv, ciphertext]))
}

impl<S: Suite> Session<S> {
    /// Builds a session from the transported key (and its id on the hardened wire).
    pub fn new(
        profile: Profile,
        peer: Phone,
        role: Role,
        key: S::Value,
        id: Option<S::Value>,
    ) -> Result<Self, ClientError> {
        let (send, recv) = match (&id, profile.has(Fix::EncryptThenMac)) {
            (Some(sid), true) => (
                DirectionKeys::derive(&key, sid, role.sending())?,
                DirectionKeys::derive(&key, sid, role.receiving())?,
            ),
            _ => {
                let keys = DirectionKeys::from_session_key(&key)?;
                (keys.clone(), keys)
            }
        };
        Ok(Session { peer, role, id, key, send, recv, next_seq: Some(0), window: ReplayWindow::default() })
    }

    /// The sequence number the next sealed message gets (hardened wire); `None` when the
    /// session has used `u64::MAX` and seals no more (SPEC.md §7.2).
    pub fn next_seq(&self) -> Option<u64> {
        self.next_seq
    }

    /// Sets the sequence number of the next sealed message, e.g. to resume a session whose
    /// counter was persisted. Moving it backwards would reuse numbers the peer refuses.
    pub fn resume_seq(&mut self, next: u64) {
        self.next_seq = Some(next);
    }

    /// The receive-side replay window (hardened, E5).
    pub fn window(&self) -> &ReplayWindow {
        &self.window
    }

    /// The MAC input of a hardened message: version, session id, sender, recipient, sequence
    /// number, IV, ciphertext.
    fn with_header<R>(
        &self,
        sender: &Phone,
        recipient: &Phone,
        seq: u64,
        iv: &S::Value,
        ciphertext: &S::Value,
        f: impl FnOnce(Input<'_, S::Value>) -> R,
    ) -> R {
        let version = S::constant(&[Wire::Hardened as u8]);
        let sid = self.id.as_ref().expect("hardened sessions have ids");
        let (sender, recipient) = (phone_value::<S>(sender), phone_value::<S>(recipient));
        let seq = S::constant(&seq.to_be_bytes());
        f(Input::Tuple(&[&version, sid, &sender, &recipient, &seq, iv, ciphertext]))
    }

    /// Encrypts `plaintext` for the peer (seed 3.1, SPEC.md §7.1) and returns the sealed
    /// message and its outstanding-ACK record.
    pub fn seal(
        &mut self,
        profile: Profile,
        me: &Phone,
        id: u64,
        plaintext: &S::Value,
        iv: S::Value,
    ) -> Result<(Sealed<S>, Outstanding<S>), ClientError> {
        // The seed has no sequence numbers. Checked before anything is computed, so that an
        // exhausted session is left as it was.
        let seq = match profile.wire() {
            Wire::Seed => None,
            Wire::Hardened => Some(self.next_seq.ok_or(ClientError::SequenceExhausted)?),
        };
        let ciphertext = S::encrypt(&self.send.enc, &iv, plaintext).map_err(ClientError::Crypto)?;
        let outstanding = |seq| Outstanding {
            id,
            peer: self.peer.clone(),
            session: self.id.clone(),
            seq,
            digest: digest::<S>(&iv, &ciphertext),
        };
        match seq {
            None => {
                let mac = S::hmac(&self.send.mac, Input::Raw(plaintext));
                let out = outstanding(None);
                Ok((Sealed::Seed { iv, ciphertext, mac }, out))
            }
            Some(seq) => {
                let mac = if profile.has(Fix::EncryptThenMac) {
                    self.with_header(me, &self.peer, seq, &iv, &ciphertext, |input| {
                        S::hmac(&self.send.mac, input)
                    })
                } else {
                    S::hmac(&self.send.mac, Input::Raw(plaintext))
                };
                let out = outstanding(Some(seq));
                // After u64::MAX there is no number left: the session is exhausted (§7.2).
                self.next_seq = seq.checked_add(1);
                let session = self.id.clone().expect("hardened sessions have ids");
                Ok((Sealed::Hardened { session, seq, iv, ciphertext, mac }, out))
            }
        }
    }

    /// Checks and decrypts a message from the peer (seed 3.3, SPEC.md §7.2) without changing
    /// the session; [`commit`](Self::commit) records it once the caller accepts it.
    pub fn open(&self, profile: Profile, me: &Phone, sealed: &Sealed<S>) -> Result<Opened<S>, ClientError> {
        match sealed {
            Sealed::Seed { iv, ciphertext, mac } => {
                // The seed decrypts first, then checks the MAC over the plaintext (3.3).
                let plaintext =
                    S::decrypt(&self.recv.enc, iv, ciphertext).map_err(|_| ClientError::DecryptFailed)?;
                if !S::hmac_verify(&self.recv.mac, Input::Raw(&plaintext), mac) {
                    return Err(ClientError::BadMac);
                }
                Ok(Opened { plaintext, seq: None, digest: digest::<S>(iv, ciphertext) })
            }
            Sealed::Hardened { seq, iv, ciphertext, mac, .. } => {
                if profile.has(Fix::EncryptThenMac) {
                    let ok = self.with_header(&self.peer, me, *seq, iv, ciphertext, |input| {
                        S::hmac_verify(&self.recv.mac, input, mac)
                    });
                    if !ok {
                        return Err(ClientError::BadMac);
                    }
                }
                if profile.has(Fix::ReplayWindow) {
                    self.window.check(*seq).map_err(|e| match e {
                        WindowError::Replayed => ClientError::ReplayedMessage(*seq),
                        WindowError::TooOld => ClientError::MessageTooOld(*seq),
                    })?;
                }
                let plaintext =
                    S::decrypt(&self.recv.enc, iv, ciphertext).map_err(|_| ClientError::DecryptFailed)?;
                if !profile.has(Fix::EncryptThenMac)
                    && !S::hmac_verify(&self.recv.mac, Input::Raw(&plaintext), mac)
                {
                    return Err(ClientError::BadMac);
                }
                Ok(Opened { plaintext, seq: Some(*seq), digest: digest::<S>(iv, ciphertext) })
            }
        }
    }

    /// Records an accepted message in the replay window.
    pub fn commit(&mut self, profile: Profile, opened: &Opened<S>) {
        if let (Some(seq), true) = (opened.seq, profile.has(Fix::ReplayWindow)) {
            self.window.accept(seq);
        }
    }

    /// The ACK for an accepted message (seed 4.1, SPEC.md §8.1).
    pub fn ack(&self, profile: Profile, opened: &Opened<S>) -> Ack<S> {
        match (profile.wire(), &self.id, opened.seq) {
            (Wire::Hardened, Some(sid), Some(seq)) => {
                let mac = if profile.has(Fix::AckBinding) {
                    self.with_ack_input(self.role.receiving(), seq, &opened.digest, |input| {
                        S::hmac(&self.send.mac, input)
                    })
                } else {
                    S::hmac(&self.send.mac, Input::Raw(&S::constant(labels::SEED_ACK_TEXT)))
                };
                Ack::Hardened { session: sid.clone(), seq, digest: opened.digest.clone(), mac }
            }
            _ => {
                let text = S::constant(labels::SEED_ACK_TEXT);
                let mac = S::hmac(&self.send.mac, Input::Raw(&text));
                Ack::Seed { text, mac }
            }
        }
    }

    /// Hardened ACK MAC input: `("EE2E-v2 ack", sid, [acked direction], seq, digest)`.
    fn with_ack_input<R>(
        &self,
        acked: Direction,
        seq: u64,
        digest: &S::Value,
        f: impl FnOnce(Input<'_, S::Value>) -> R,
    ) -> R {
        let label = S::constant(labels::ACK);
        let sid = self.id.as_ref().expect("hardened sessions have ids");
        let dir = S::constant(&[acked as u8]);
        let seq = S::constant(&seq.to_be_bytes());
        f(Input::Tuple(&[&label, sid, &dir, &seq, digest]))
    }

    /// Verifies an ACK's MAC (seed 4.4, SPEC.md §8.2). Matching it to an outstanding
    /// message is the client's job.
    pub fn verify_ack(&self, profile: Profile, ack: &Ack<S>) -> Result<(), ClientError> {
        let ok = match ack {
            Ack::Seed { text, mac } => {
                if *text != S::constant(labels::SEED_ACK_TEXT) {
                    return Err(ClientError::MalformedAck);
                }
                S::hmac_verify(&self.recv.mac, Input::Raw(text), mac)
            }
            Ack::Hardened { seq, digest, mac, .. } => {
                if profile.has(Fix::AckBinding) {
                    self.with_ack_input(self.role.sending(), *seq, digest, |input| {
                        S::hmac_verify(&self.recv.mac, input, mac)
                    })
                } else {
                    S::hmac_verify(&self.recv.mac, Input::Raw(&S::constant(labels::SEED_ACK_TEXT)), mac)
                }
            }
        };
        if ok { Ok(()) } else { Err(ClientError::BadMac) }
    }
}
