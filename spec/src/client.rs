//! The client state machine (SPEC.md §5–§8, client side).
//!
//! Sans-IO: every method takes what it needs (messages, randomness) and returns outputs —
//! messages to send to the server, events for the application, and values to persist in the
//! keystore. A method that fails leaves the client exactly as it was.
//!
//! Every step that changes what the client must remember across a restart (SPEC.md §2.2)
//! returns a [`Persist::State`] with the whole durable state; the caller writes every
//! `Persist` of a step before it releases any of the step's sends or events.

mod state;

use std::collections::{BTreeMap, BTreeSet};

use crate::derive::verify_entry;
use crate::error::{CallError, ClientError, Rejection, UsageError};
use crate::message::{Ack, DirectoryEntry, ErrorCode, Message, RegistrationProof, Sealed, Transport};
use crate::phone::Phone;
use crate::profile::{Fix, MAX_SESSIONS_PER_PEER, MAX_TRANSPORTS_PER_PEER, Params, Profile, Wire};
use crate::session::{Opened, Outstanding, Role, Session};

use crate::suite::{CryptoError, Fresh, Suite};
use crate::transport::KeyTransport;
pub use state::{ClientState, Saved};

/// Where the client's registration stands.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Registration<S: Suite> {
    /// Nothing sent yet.
    Unregistered,
    /// Registration request sent; waiting for the OTP by SMS.
    AwaitingOtp,
    /// Public key and proof sent; waiting for the server's result.
    AwaitingResult,
    /// Registered: the server-signed entry for our phone and key.
    Registered(DirectoryEntry<S>),
}

/// What the client reports to the application (and the model's ghost events).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientEvent<S: Suite> {
    /// The server signed our registration.
    Registered,
    /// A peer's directory entry verified.
    PeerKeyVerified(Phone),
    /// A session is ready for messages.
    SessionEstablished {
        /// The peer.
        peer: Phone,
        /// Our role.
        role: Role,
        /// The session id (hardened wire).
        session: Option<S::Value>,
        /// The session key (for the model's secrecy properties; never logged).
        key: S::Value,
    },
    /// A message was sealed and sent.
    MessageSent {
        /// The recipient.
        peer: Phone,
        /// Local message id.
        id: u64,
        /// The plaintext (for the model's properties; never logged).
        plaintext: S::Value,
        /// Sequence number (hardened wire).
        seq: Option<u64>,
    },
    /// A message was verified, decrypted and accepted (an ACK is sent for it).
    MessageAccepted {
        /// The sender.
        from: Phone,
        /// The plaintext.
        plaintext: S::Value,
        /// Sequence number (hardened wire).
        seq: Option<u64>,
    },
    /// An ACK verified and matched the outstanding message `id`.
    AckAccepted {
        /// The acknowledging peer.
        peer: Phone,
        /// Local id of the acknowledged message.
        id: u64,
    },
    /// The server rejected our last message.
    ServerError(ErrorCode),
}

/// A value the client keeps in its keystore (the seed's "external file").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Persist<S: Suite> {
    /// Our own signed directory entry.
    OwnEntry(DirectoryEntry<S>),
    /// A verified peer entry, with the server's signature.
    PeerEntry(DirectoryEntry<S>),
    /// A session key.
    SessionKey {
        /// The peer.
        peer: Phone,
        /// Our role.
        role: Role,
        /// Session id (hardened wire).
        session: Option<S::Value>,
        /// `K`.
        key: S::Value,
    },
    /// The client's durable state after the step (SPEC.md §2.2); written last, after the
    /// entries and keys above, so that it only ever names keys already on disk.
    State(ClientState<S>),
    /// A session the client no longer keeps (beyond `MAX_SESSIONS_PER_PEER`): its key may be
    /// deleted once the `State` of the same step is written.
    ForgetSession {
        /// The peer.
        peer: Phone,
        /// Session id (hardened wire).
        session: Option<S::Value>,
    },
}

/// One output of a client step.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientOutput<S: Suite> {
    /// Send this message to the server.
    Send(Message<S>),
    /// Report this to the application.
    Event(ClientEvent<S>),
    /// Write this to the keystore.
    Persist(Persist<S>),
}

/// A client: one phone number, one RSA key pair, the pinned server key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Client<S: Suite> {
    profile: Profile,
    params: Params,
    transport: KeyTransport,
    phone: Phone,
    key: S::PrivateKey,
    public_key: S::Value,
    server_key: S::Value,
    registration: Registration<S>,
    lookups: BTreeSet<Phone>,
    peers: BTreeMap<Phone, DirectoryEntry<S>>,
    sessions: Vec<Session<S>>,
    /// Session ids of the key transports sent to or accepted from each peer (E3), at most
    /// `MAX_TRANSPORTS_PER_PEER` per peer.
    seen_transports: BTreeMap<Phone, BTreeSet<S::Value>>,
    outstanding: Vec<Outstanding<S>>,
    next_id: u64,
}

type Outputs<S> = Result<Vec<ClientOutput<S>>, ClientError>;
type Called<S> = Result<Vec<ClientOutput<S>>, CallError>;

impl<S: Suite> Client<S> {
    /// A client for `phone` holding `key` (generated by the caller, seed 1.3), trusting the
    /// server key `server_key` (pinned at installation).
    pub fn new(
        profile: Profile,
        params: Params,
        phone: Phone,
        key: S::PrivateKey,
        server_key: S::Value,
    ) -> Self {
        let public_key = S::public_key(&key);
        Client {
            profile,
            params,
            transport: KeyTransport::new(profile),
            phone,
            key,
            public_key,
            server_key,
            registration: Registration::Unregistered,
            lookups: BTreeSet::new(),
            peers: BTreeMap::new(),
            sessions: Vec::new(),
            seen_transports: BTreeMap::new(),
            outstanding: Vec::new(),
            next_id: 0,
        }
    }

    /// Our phone number.
    pub fn phone(&self) -> &Phone {
        &self.phone
    }
    /// Our profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }
    /// Our public key.
    pub fn public_key(&self) -> &S::Value {
        &self.public_key
    }
    /// Where registration stands.
    pub fn registration(&self) -> &Registration<S> {
        &self.registration
    }
    /// Whether the server has signed our registration.
    pub fn is_registered(&self) -> bool {
        matches!(self.registration, Registration::Registered(_))
    }
    /// Verified peer entries.
    pub fn peers(&self) -> &BTreeMap<Phone, DirectoryEntry<S>> {
        &self.peers
    }
    /// Sessions, oldest first.
    pub fn sessions(&self) -> &[Session<S>] {
        &self.sessions
    }
    /// Peers whose directory entry was asked for and has not arrived yet.
    pub fn lookups(&self) -> &BTreeSet<Phone> {
        &self.lookups
    }
    /// Messages sent and not yet acknowledged, oldest first.
    pub fn outstanding(&self) -> &[Outstanding<S>] {
        &self.outstanding
    }
    /// The session used to send to `peer`: the newest.
    pub fn session_with(&self, peer: &Phone) -> Option<&Session<S>> {
        self.sessions.iter().rev().find(|s| s.peer == *peer)
    }

    fn require_registered(&self) -> Result<(), UsageError> {
        if self.is_registered() { Ok(()) } else { Err(UsageError::NotRegistered) }
    }

    /// Seed 1.1: asks the server for an OTP. No precondition (SPEC.md §5.1): a registered
    /// client registers again, one awaiting a result abandons it.
    pub fn register(&mut self) -> Vec<ClientOutput<S>> {
        self.registration = Registration::AwaitingOtp;
        vec![ClientOutput::Send(Message::RegisterRequest { phone: self.phone.clone() })]
    }

    /// Seed 1.4–1.6: the OTP arrived by SMS; computes and sends the registration proof.
    pub fn otp_received(&mut self, otp: &S::Value, rng: &mut S::Rng) -> Called<S> {
        if self.registration != Registration::AwaitingOtp {
            return Err(UsageError::NoRegistrationInProgress.into());
        }
        let proof = RegistrationProof::build(
            self.profile,
            self.params.pbkdf2_iterations,
            otp,
            &self.phone,
            &self.key,
            &self.public_key,
            &self.server_key,
            rng,
        )
        .map_err(CallError::Crypto)?;
        self.registration = Registration::AwaitingResult;
        Ok(vec![ClientOutput::Send(Message::RegisterSubmit {
            phone: self.phone.clone(),
            public_key: self.public_key.clone(),
            proof,
        })])
    }

    /// Seed 2.1: asks the server for `peer`'s key; the session key follows when it arrives.
    pub fn start_session(&mut self, peer: &Phone) -> Result<Vec<ClientOutput<S>>, UsageError> {
        self.require_registered()?;
        self.lookups.insert(peer.clone());
        Ok(vec![self.persist_state(), ClientOutput::Send(Message::KeyRequest { peer: peer.clone() })])
    }

    /// Seed 3.1–3.2: seals `plaintext` for `peer` in the newest session with it.
    pub fn send(&mut self, peer: &Phone, plaintext: &S::Value, rng: &mut S::Rng) -> Called<S> {
        self.require_registered()?;
        if let Some(len) = S::byte_len(plaintext)
            && len > self.params.max_plaintext
        {
            return Err(UsageError::MessageTooLarge { len, max: self.params.max_plaintext }.into());
        }
        let index = self
            .sessions
            .iter()
            .rposition(|s| s.peer == *peer)
            .ok_or_else(|| UsageError::NoSession(peer.clone()))?;
        let iv = S::random(rng, Fresh::Iv);
        let id = self.next_id;
        // Sealed in place: `seal` changes the session only once it has succeeded.
        let (sealed, outstanding) = self.sessions[index].seal(&self.phone, id, plaintext, iv)?;
        let seq = outstanding.seq;
        self.outstanding.push(outstanding);
        self.next_id += 1;
        // Persisted before the message leaves: its sequence number is never used again.
        Ok(vec![
            self.persist_state(),
            ClientOutput::Send(Message::Data { to: peer.clone(), sealed }),
            ClientOutput::Event(ClientEvent::MessageSent {
                peer: peer.clone(),
                id,
                plaintext: plaintext.clone(),
                seq,
            }),
        ])
    }

    /// Makes the newest session with `peer` seal `next` as its next sequence number (a counter
    /// restored from storage). Moving it backwards would reuse numbers the peer refuses.
    pub fn resume_sequence(&mut self, peer: &Phone, next: u64) -> Result<(), UsageError> {
        let index = self
            .sessions
            .iter()
            .rposition(|s| s.peer == *peer)
            .ok_or_else(|| UsageError::NoSession(peer.clone()))?;
        self.sessions[index].resume_seq(next);
        Ok(())
    }

    /// Comes online: the server then delivers what it stored for us.
    pub fn connect(&mut self) -> Result<Vec<ClientOutput<S>>, UsageError> {
        self.require_registered()?;
        Ok(vec![ClientOutput::Send(Message::Connect { phone: self.phone.clone() })])
    }

    /// Goes offline: the server stores what arrives for us.
    pub fn disconnect(&mut self) -> Result<Vec<ClientOutput<S>>, UsageError> {
        self.require_registered()?;
        Ok(vec![ClientOutput::Send(Message::Disconnect { phone: self.phone.clone() })])
    }

    /// Handles a message from the server.
    pub fn handle(&mut self, message: Message<S>, rng: &mut S::Rng) -> Outputs<S> {
        match message {
            Message::Error { code } => Ok(self.on_error(code)),
            Message::RegisterResult { entry } => self.on_register_result(entry),
            Message::PeerKey { entry } => self.on_peer_key(entry, rng),
            Message::KeyDelivery { from, transport } => self.on_key_delivery(from, transport, rng),
            Message::DataDelivery { from, sealed } => self.on_data(from, sealed),
            Message::AckDelivery { from, ack } => self.on_ack(from, ack),
            other => Err(Rejection::UnexpectedMessage(other.kind()).into()),
        }
    }

    /// SPEC.md §5.5: an error reply moves the registration state where it answers our request.
    fn on_error(&mut self, code: ErrorCode) -> Vec<ClientOutput<S>> {
        match (&self.registration, code) {
            // A wrong proof may be retried with the same OTP while attempts remain.
            (Registration::AwaitingResult, ErrorCode::RegistrationRejected) => {
                self.registration = Registration::AwaitingOtp;
            }
            (Registration::AwaitingResult, _) => self.registration = Registration::Unregistered,
            // The request was refused: no SMS will come, so waiting for one would wait for ever.
            (Registration::AwaitingOtp, ErrorCode::RateLimited | ErrorCode::Internal) => {
                self.registration = Registration::Unregistered;
            }
            _ => {}
        }
        vec![ClientOutput::Event(ClientEvent::ServerError(code))]
    }

    fn check_entry(&self, entry: &DirectoryEntry<S>) -> Result<(), Rejection> {
        verify_entry::<S>(self.profile, &self.server_key, entry).map_err(|e| match e {
            CryptoError::InvalidKey => Rejection::InvalidPublicKey(entry.phone.clone()),
            _ => Rejection::BadDirectorySignature(entry.phone.clone()),
        })
    }

    fn on_register_result(&mut self, entry: DirectoryEntry<S>) -> Outputs<S> {
        if self.registration != Registration::AwaitingResult {
            return Err(Rejection::UnexpectedMessage(crate::message::MessageType::RegisterResult).into());
        }
        if entry.phone != self.phone || entry.public_key != self.public_key {
            return Err(Rejection::RegistrationMismatch.into());
        }
        self.check_entry(&entry)?;
        self.registration = Registration::Registered(entry.clone());
        Ok(vec![
            ClientOutput::Persist(Persist::OwnEntry(entry)),
            ClientOutput::Event(ClientEvent::Registered),
        ])
    }

    /// Seed 2.4–2.5: verifies the peer's entry, then makes, encrypts and signs `K`.
    fn on_peer_key(&mut self, entry: DirectoryEntry<S>, rng: &mut S::Rng) -> Outputs<S> {
        self.require_registered()?;
        if !self.lookups.contains(&entry.phone) {
            return Err(Rejection::UnexpectedPeerKey(entry.phone.clone()).into());
        }
        self.check_entry(&entry)?;
        let peer = entry.phone.clone();
        if let Some(max) = self.transports_exhausted(&peer) {
            return Err(UsageError::TooManyTransports { peer, max }.into());
        }
        let key = S::random(rng, Fresh::SessionKey);
        let transport = self
            .transport
            .seal::<S>(&self.key, &self.phone, &peer, &entry.public_key, &key, rng)
            .map_err(ClientError::Crypto)?;
        let session = Session::new(
            self.transport.session_mode(&transport.ciphertext),
            peer.clone(),
            Role::Initiator,
            key,
        )?;
        self.lookups.remove(&peer);
        Ok(self.establish(entry, session, Some(Message::KeyTransport { to: peer, transport })))
    }

    /// Seed 2.8–2.9: verifies the sender's entry and the transport, then stores `K`.
    fn on_key_delivery(
        &mut self,
        entry: DirectoryEntry<S>,
        transport: Transport<S>,
        rng: &mut S::Rng,
    ) -> Outputs<S> {
        self.require_registered()?;
        self.check_entry(&entry)?;
        let peer = entry.phone.clone();
        if let Some(max) = self.transports_exhausted(&peer) {
            return Err(Rejection::TooManyTransports { peer, max }.into());
        }
        let key = self.transport.open::<S>(
            &self.key,
            &peer,
            &self.phone,
            &entry.public_key,
            &transport,
            |sid| self.seen_transports.values().any(|seen| seen.contains(sid)),
            rng,
        )?;
        let session =
            Session::new(self.transport.session_mode(&transport.ciphertext), peer, Role::Responder, key)?;
        Ok(self.establish(entry, session, None))
    }

    /// Stores a verified peer entry and a new session with it (SPEC.md §6.2, §6.4) and reports
    /// it: peer verified, entry and key persisted, `send` (the initiator's transport), session
    /// established.
    fn establish(
        &mut self,
        entry: DirectoryEntry<S>,
        session: Session<S>,
        send: Option<Message<S>>,
    ) -> Vec<ClientOutput<S>> {
        let peer = entry.phone.clone();
        let (role, id, key) = (session.role, session.id().cloned(), session.key.clone());
        self.peers.insert(peer.clone(), entry.clone());
        if let Some(sid) = &id {
            self.seen_transports.entry(peer.clone()).or_default().insert(sid.clone());
        }
        let forgotten = self.add_session(session);
        let mut out = vec![
            ClientOutput::Event(ClientEvent::PeerKeyVerified(peer.clone())),
            ClientOutput::Persist(Persist::PeerEntry(entry)),
            ClientOutput::Persist(Persist::SessionKey {
                peer: peer.clone(),
                role,
                session: id.clone(),
                key: key.clone(),
            }),
            self.persist_state(),
        ];
        out.extend(forgotten.into_iter().map(|s| {
            ClientOutput::Persist(Persist::ForgetSession { peer: s.peer.clone(), session: s.id().cloned() })
        }));
        out.extend(send.map(ClientOutput::Send));
        out.push(ClientOutput::Event(ClientEvent::SessionEstablished { peer, role, session: id, key }));
        out
    }

    /// The seed keeps one key per peer (the newest); the hardened profile keeps the newest
    /// few so that messages queued under an older session still open. Returns the sessions
    /// dropped, oldest first.
    fn add_session(&mut self, session: Session<S>) -> Vec<Session<S>> {
        let keep = if self.profile.wire() == Wire::Seed { 0 } else { MAX_SESSIONS_PER_PEER - 1 };
        let mut same_peer = self.sessions.iter().filter(|s| s.peer == session.peer).count();
        let mut dropped = Vec::new();
        let mut kept = Vec::with_capacity(self.sessions.len() + 1);
        for s in self.sessions.drain(..) {
            if s.peer == session.peer && same_peer > keep {
                same_peer -= 1;
                dropped.push(s);
            } else {
                kept.push(s);
            }
        }
        kept.push(session);
        self.sessions = kept;
        dropped
    }

    /// SPEC.md §6.2 #4 / §6.4 #3: at most `MAX_TRANSPORTS_PER_PEER` key transports per peer
    /// are ever recorded, so the seen set is bounded and still never forgets one. The limit,
    /// if `peer` has reached it.
    fn transports_exhausted(&self, peer: &Phone) -> Option<usize> {
        let reached = self.profile.wire() == Wire::Hardened
            && self.seen_transports.get(peer).is_some_and(|seen| seen.len() >= MAX_TRANSPORTS_PER_PEER);
        reached.then_some(MAX_TRANSPORTS_PER_PEER)
    }

    /// The step's [`Persist::State`].
    fn persist_state(&self) -> ClientOutput<S> {
        ClientOutput::Persist(Persist::State(self.state()))
    }

    /// Finds the session a relayed message or ACK belongs to: by peer on the seed wire, by
    /// session id (which must belong to the sender) on the hardened wire.
    fn find_session(&self, from: &Phone, session: Option<&S::Value>) -> Result<usize, Rejection> {
        match session {
            None => self
                .sessions
                .iter()
                .rposition(|s| s.peer == *from)
                .ok_or_else(|| Rejection::NoSession(from.clone())),
            Some(sid) => {
                let index = self
                    .sessions
                    .iter()
                    .position(|s| s.id() == Some(sid))
                    .ok_or(Rejection::UnknownSession)?;
                if self.sessions[index].peer != *from {
                    return Err(Rejection::SessionPeerMismatch(from.clone()));
                }
                Ok(index)
            }
        }
    }

    fn check_wire(&self, hardened_layout: bool) -> Result<(), Rejection> {
        if hardened_layout == (self.profile.wire() == Wire::Hardened) {
            Ok(())
        } else {
            Err(Rejection::WrongProfile)
        }
    }

    /// The first checks on a relayed message or ACK (SPEC.md §7.4, §8.3): registered, the
    /// profile's layout (a session id on the hardened wire), then the session it belongs to.
    fn receiving_session(&self, from: &Phone, sid: Option<&S::Value>) -> Result<usize, ClientError> {
        self.require_registered()?;
        self.check_wire(sid.is_some())?;
        Ok(self.find_session(from, sid)?)
    }

    /// Seed 3.3 and 4.1: opens a relayed message and acknowledges it.
    fn on_data(&mut self, from: Phone, sealed: Sealed<S>) -> Outputs<S> {
        let sid = match &sealed {
            Sealed::Seed { .. } => None,
            Sealed::Hardened { session, .. } => Some(session),
        };
        let index = self.receiving_session(&from, sid)?;
        let opened: Opened<S> = self.sessions[index].open(&self.phone, &sealed)?;
        let session = &mut self.sessions[index];
        session.commit(&opened);
        let ack = session.ack(&opened);
        Ok(vec![
            // The window is on disk before the ACK leaves or the delivery is confirmed.
            self.persist_state(),
            ClientOutput::Event(ClientEvent::MessageAccepted {
                from: from.clone(),
                plaintext: opened.plaintext,
                seq: opened.seq,
            }),
            ClientOutput::Send(Message::Ack { to: from, ack }),
        ])
    }

    /// Seed 4.4: verifies an ACK and matches it to an outstanding message.
    fn on_ack(&mut self, from: Phone, ack: Ack<S>) -> Outputs<S> {
        let sid = match &ack {
            Ack::Seed { .. } => None,
            Ack::Hardened { session, .. } => Some(session),
        };
        let index = self.receiving_session(&from, sid)?;
        self.sessions[index].verify_ack(&ack)?;
        let position = match &ack {
            // The seed ACK names no message: it acknowledges the oldest outstanding one.
            Ack::Seed { .. } => self.outstanding.iter().position(|o| o.peer == from),
            Ack::Hardened { session, seq, tag, .. } => {
                let found = self
                    .outstanding
                    .iter()
                    .position(|o| o.session.as_ref() == Some(session) && o.seq == Some(*seq));
                if let Some(i) = found
                    && self.profile.has(Fix::AckBinding)
                    && self.outstanding[i].tag != *tag
                {
                    return Err(Rejection::AckMismatch.into());
                }
                found
            }
        }
        .ok_or(Rejection::UnexpectedAck)?;
        let done = self.outstanding.remove(position);
        Ok(vec![
            self.persist_state(),
            ClientOutput::Event(ClientEvent::AckAccepted { peer: from, id: done.id }),
        ])
    }
}
