//! An established session: keys, sequence numbers, replay window; seal, open and ACKs
//! (seed steps 3–4, SPEC.md §7–§8).

use crate::derive::{labels, phone_value, session_id};
use crate::error::{CallError, ClientError, Rejection, UsageError};
use crate::message::{Ack, Sealed};
use crate::phone::Phone;
use crate::profile::{Fix, Profile, Wire};
use crate::suite::{CryptoError, Input, Suite};
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
    enc: S::CipherKey,
    mac: S::MacKey,
}

impl<S: Suite> DirectionKeys<S> {
    /// The AES-256 key.
    pub fn enc(&self) -> &S::CipherKey {
        &self.enc
    }

    /// The HMAC-SHA-256 key.
    pub fn mac(&self) -> &S::MacKey {
        &self.mac
    }

    /// Derives the keys of `direction` from `K` and the session id:
    /// `HKDF-SHA-256(ikm = K, salt = sid, info = ("EE2E-v2 message keys", [direction], purpose))`
    /// with purpose `enc` or `mac`, 32 bytes each.
    pub fn derive(key: &S::Value, session: &S::Value, direction: Direction) -> Result<Self, CryptoError> {
        let info = |purpose: &[u8]| {
            S::tuple(&[
                &S::constant(labels::MESSAGE_KEYS),
                &S::constant(&[direction as u8]),
                &S::constant(purpose),
            ])
        };
        let enc = S::hkdf(key, session, &info(b"enc"));
        let mac = S::hkdf(key, session, &info(b"mac"));
        Ok(DirectionKeys { enc: S::cipher_key(&enc)?, mac: S::mac_key(&mac) })
    }

    /// The seed's keys: `K` for both encryption and MAC.
    pub fn from_session_key(key: &S::Value) -> Result<Self, Rejection> {
        Ok(DirectionKeys {
            enc: S::cipher_key(key).map_err(|_| Rejection::InvalidSessionKey)?,
            mac: S::mac_key(key),
        })
    }
}

/// How a session seals, opens and acknowledges, fixed from the profile when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mode<S: Suite> {
    /// Wire version 1: the session is found by peer, `K` keys both directions, the MAC covers
    /// the plaintext and the ACK is the text `ACK`.
    Seed,
    /// Wire version 2: the session is found by its id, messages carry sequence numbers.
    Hardened {
        /// The session id, `SHA256(T("EE2E-v2 session id", c))` (SPEC.md §6.2).
        id: S::Value,
        /// E4: per-direction HKDF keys and encrypt-then-MAC over a header (SPEC.md §7.1–§7.2).
        encrypt_then_mac: bool,
        /// E5: sequence numbers pass a replay window (SPEC.md §7.4).
        replay_window: bool,
        /// E6: the ACK binds session, direction, sequence number and the message's MAC tag
        /// (SPEC.md §8.1).
        ack_binding: bool,
    },
}

impl<S: Suite> Mode<S> {
    /// The hardened-wire mode of `profile` for the session `id`.
    pub fn hardened(profile: Profile, id: S::Value) -> Self {
        Mode::Hardened {
            id,
            encrypt_then_mac: profile.has(Fix::EncryptThenMac),
            replay_window: profile.has(Fix::ReplayWindow),
            ack_binding: profile.has(Fix::AckBinding),
        }
    }

    /// The mode of the session established by a key transport with `ciphertext` under
    /// `profile`: seed, or hardened with the transport's session id.
    pub fn of_transport(profile: Profile, ciphertext: &S::Value) -> Self {
        match profile.wire() {
            Wire::Seed => Mode::Seed,
            Wire::Hardened => Mode::hardened(profile, session_id::<S>(ciphertext)),
        }
    }

    /// The session id (hardened wire).
    pub fn id(&self) -> Option<&S::Value> {
        match self {
            Mode::Seed => None,
            Mode::Hardened { id, .. } => Some(id),
        }
    }
}

/// The part of a session that changes after it is established — the send counter and the
/// replay window — with what identifies it; persisted by the client after every step that
/// changes it (SPEC.md §2.2). The key `K` is persisted on its own, once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionState<S: Suite> {
    /// The peer.
    pub peer: Phone,
    /// Our role.
    pub role: Role,
    /// The session id (hardened wire).
    pub session: Option<S::Value>,
    /// The next send sequence number; `None` once exhausted (SPEC.md §7.2).
    pub next_seq: Option<u64>,
    /// The receive replay window.
    pub window: ReplayWindow,
}

/// A session with one peer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Session<S: Suite> {
    /// The peer.
    pub peer: Phone,
    /// Our role in the key transport.
    pub role: Role,
    /// The session key `K` (secret; persisted in the keystore; read with
    /// [`crate::hazmat::session_key`]).
    pub(crate) key: S::Value,
    mode: Mode<S>,
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
    /// The message's MAC tag, which the hardened ACK carries (and binds with E6); empty on
    /// the seed wire, whose ACK names no message.
    pub tag: S::Value,
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
    /// The message's MAC tag on the hardened wire, matched against the ACK's (SPEC.md §8.3);
    /// empty on the seed wire, whose ACK names no message.
    pub tag: S::Value,
}

impl<S: Suite> Session<S> {
    /// Builds a session in `mode` from the transported key (SPEC.md §7.1).
    pub fn new(mode: Mode<S>, peer: Phone, role: Role, key: S::Value) -> Result<Self, ClientError> {
        let (send, recv) = match &mode {
            Mode::Hardened { id, encrypt_then_mac: true, .. } => (
                DirectionKeys::derive(&key, id, role.sending()).map_err(ClientError::Crypto)?,
                DirectionKeys::derive(&key, id, role.receiving()).map_err(ClientError::Crypto)?,
            ),
            _ => {
                let keys = DirectionKeys::from_session_key(&key)?;
                (keys.clone(), keys)
            }
        };
        Ok(Session { peer, role, key, mode, send, recv, next_seq: Some(0), window: ReplayWindow::default() })
    }

    /// The session's mode.
    pub fn mode(&self) -> &Mode<S> {
        &self.mode
    }

    /// The session id (hardened wire).
    pub fn id(&self) -> Option<&S::Value> {
        self.mode.id()
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

    /// What of the session changes after it is established, for the keystore (SPEC.md §2.2).
    pub fn state(&self) -> SessionState<S> {
        SessionState {
            peer: self.peer.clone(),
            role: self.role,
            session: self.id().cloned(),
            next_seq: self.next_seq,
            window: self.window.clone(),
        }
    }

    /// Rebuilds a session from its persisted [`SessionState`] and key `K` (read back from the
    /// keystore after a restart): the keys are derived again, counter and window restored.
    pub fn restore(profile: Profile, state: &SessionState<S>, key: S::Value) -> Result<Self, ClientError> {
        let mode = match (profile.wire(), &state.session) {
            (Wire::Seed, None) => Mode::Seed,
            (Wire::Hardened, Some(id)) => Mode::hardened(profile, id.clone()),
            _ => return Err(Rejection::WrongProfile.into()),
        };
        let mut session = Session::new(mode, state.peer.clone(), state.role, key)?;
        session.next_seq = state.next_seq;
        session.window = state.window.clone();
        Ok(session)
    }

    /// The MAC input of a hardened message: version, session id, sender, recipient, sequence
    /// number, IV, ciphertext.
    #[allow(clippy::too_many_arguments)] // the header's fields, then the continuation
    fn with_header<R>(
        sid: &S::Value,
        sender: &Phone,
        recipient: &Phone,
        seq: u64,
        iv: &S::Value,
        ciphertext: &S::Value,
        f: impl FnOnce(Input<'_, S::Value>) -> R,
    ) -> R {
        let version = S::constant(&[Wire::Hardened as u8]);
        let (sender, recipient) = (phone_value::<S>(sender), phone_value::<S>(recipient));
        let seq = S::constant(&seq.to_be_bytes());
        f(Input::Tuple(&[&version, sid, &sender, &recipient, &seq, iv, ciphertext]))
    }

    /// Encrypts `plaintext` for the peer (seed 3.1, SPEC.md §7.2) and returns the sealed
    /// message and its outstanding-ACK record.
    pub fn seal(
        &mut self,
        me: &Phone,
        id: u64,
        plaintext: &S::Value,
        iv: S::Value,
    ) -> Result<(Sealed<S>, Outstanding<S>), CallError> {
        // The seed has no sequence numbers. Checked before anything is computed, so that an
        // exhausted session is left as it was.
        let seq = match self.mode {
            Mode::Seed => None,
            Mode::Hardened { .. } => Some(self.next_seq.ok_or(UsageError::SequenceExhausted)?),
        };
        let ciphertext = S::encrypt(&self.send.enc, &iv, plaintext).map_err(CallError::Crypto)?;
        let outstanding = |seq, tag| Outstanding {
            id,
            peer: self.peer.clone(),
            session: self.mode.id().cloned(),
            seq,
            tag,
        };
        match (&self.mode, seq) {
            (Mode::Seed, _) | (_, None) => {
                let mac = S::hmac(&self.send.mac, Input::Raw(plaintext));
                let out = outstanding(None, S::constant(b""));
                Ok((Sealed::Seed { iv, ciphertext, mac }, out))
            }
            (Mode::Hardened { id: sid, encrypt_then_mac, .. }, Some(seq)) => {
                let mac = if *encrypt_then_mac {
                    Self::with_header(sid, me, &self.peer, seq, &iv, &ciphertext, |input| {
                        S::hmac(&self.send.mac, input)
                    })
                } else {
                    S::hmac(&self.send.mac, Input::Raw(plaintext))
                };
                // The ACK names the message by its tag (SPEC.md §8.1): no hash of its own.
                let out = outstanding(Some(seq), mac.clone());
                // After u64::MAX there is no number left: the session is exhausted (§7.2).
                self.next_seq = seq.checked_add(1);
                let session = sid.clone();
                Ok((Sealed::Hardened { session, seq, iv, ciphertext, mac }, out))
            }
        }
    }

    /// Checks and decrypts a message from the peer (seed 3.3, SPEC.md §7.4) without changing
    /// the session; [`commit`](Self::commit) records it once the caller accepts it.
    pub fn open(&self, me: &Phone, sealed: &Sealed<S>) -> Result<Opened<S>, Rejection> {
        match sealed {
            Sealed::Seed { iv, ciphertext, mac } => {
                // The seed decrypts first, then checks the MAC over the plaintext (3.3).
                let plaintext =
                    S::decrypt(&self.recv.enc, iv, ciphertext).map_err(|_| Rejection::DecryptFailed)?;
                if !S::hmac_verify(&self.recv.mac, Input::Raw(&plaintext), mac) {
                    return Err(Rejection::BadMac);
                }
                Ok(Opened { plaintext, seq: None, tag: S::constant(b"") })
            }
            Sealed::Hardened { seq, iv, ciphertext, mac, .. } => {
                let encrypt_then_mac = match &self.mode {
                    Mode::Hardened { id: sid, encrypt_then_mac: true, .. } => {
                        let ok = Self::with_header(sid, &self.peer, me, *seq, iv, ciphertext, |input| {
                            S::hmac_verify(&self.recv.mac, input, mac)
                        });
                        if !ok {
                            return Err(Rejection::BadMac);
                        }
                        true
                    }
                    _ => false,
                };
                if let Mode::Hardened { replay_window: true, .. } = self.mode {
                    self.window.check(*seq).map_err(|e| match e {
                        WindowError::Replayed => Rejection::ReplayedMessage(*seq),
                        WindowError::TooOld => Rejection::MessageTooOld(*seq),
                    })?;
                }
                let plaintext =
                    S::decrypt(&self.recv.enc, iv, ciphertext).map_err(|_| Rejection::DecryptFailed)?;
                if !encrypt_then_mac && !S::hmac_verify(&self.recv.mac, Input::Raw(&plaintext), mac) {
                    return Err(Rejection::BadMac);
                }
                Ok(Opened { plaintext, seq: Some(*seq), tag: mac.clone() })
            }
        }
    }

    /// Records an accepted message in the replay window.
    pub fn commit(&mut self, opened: &Opened<S>) {
        if let (Some(seq), Mode::Hardened { replay_window: true, .. }) = (opened.seq, &self.mode) {
            self.window.accept(seq);
        }
    }

    /// The ACK for an accepted message (seed 4.1, SPEC.md §8.1).
    pub fn ack(&self, opened: &Opened<S>) -> Ack<S> {
        match (&self.mode, opened.seq) {
            (Mode::Hardened { id: sid, ack_binding, .. }, Some(seq)) => {
                let mac = if *ack_binding {
                    Self::with_ack_input(sid, self.role.receiving(), seq, &opened.tag, |input| {
                        S::hmac(&self.send.mac, input)
                    })
                } else {
                    S::hmac(&self.send.mac, Input::Raw(&S::constant(labels::SEED_ACK_TEXT)))
                };
                Ack::Hardened { session: sid.clone(), seq, tag: opened.tag.clone(), mac }
            }
            _ => {
                let text = S::constant(labels::SEED_ACK_TEXT);
                let mac = S::hmac(&self.send.mac, Input::Raw(&text));
                Ack::Seed { text, mac }
            }
        }
    }

    /// Hardened ACK MAC input: `("EE2E-v2 ack", sid, [acked direction], seq, tag)`, `tag`
    /// the acknowledged message's MAC.
    fn with_ack_input<R>(
        sid: &S::Value,
        acked: Direction,
        seq: u64,
        tag: &S::Value,
        f: impl FnOnce(Input<'_, S::Value>) -> R,
    ) -> R {
        let label = S::constant(labels::ACK);
        let dir = S::constant(&[acked as u8]);
        let seq = S::constant(&seq.to_be_bytes());
        f(Input::Tuple(&[&label, sid, &dir, &seq, tag]))
    }

    /// Verifies an ACK's MAC (seed 4.4, SPEC.md §8.3). Matching it to an outstanding
    /// message is the client's job.
    pub fn verify_ack(&self, ack: &Ack<S>) -> Result<(), Rejection> {
        let ok = match ack {
            Ack::Seed { text, mac } => {
                if *text != S::constant(labels::SEED_ACK_TEXT) {
                    return Err(Rejection::MalformedAck);
                }
                S::hmac_verify(&self.recv.mac, Input::Raw(text), mac)
            }
            Ack::Hardened { seq, tag, mac, .. } => match &self.mode {
                Mode::Hardened { id: sid, ack_binding: true, .. } => {
                    Self::with_ack_input(sid, self.role.sending(), *seq, tag, |input| {
                        S::hmac_verify(&self.recv.mac, input, mac)
                    })
                }
                _ => S::hmac_verify(&self.recv.mac, Input::Raw(&S::constant(labels::SEED_ACK_TEXT)), mac),
            },
        };
        if ok { Ok(()) } else { Err(Rejection::BadMac) }
    }
}
