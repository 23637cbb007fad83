//! The in-process runtime: one server and any number of clients in one process, exchanging
//! real encoded bytes over an in-process network that a test can tap.
//!
//! - The server is `Server<ConcreteSuite, SqliteStore>`; each client a `Client<ConcreteSuite>`
//!   with an optional [`Keystore`] that receives what the core asks to persist.
//! - Every message travels as an [`Envelope`] of [`codec`] bytes; receivers
//!   decode them, and bytes that do not decode become an [`Incident`] in the transcript (the
//!   server sends no reply to them), never a panic.
//! - The pump ([`Runtime::run_until_idle`]) delivers envelopes one at a time in FIFO order,
//!   feeding the nodes the runtime [`Clock`] (advanced only by [`Runtime::advance`]) and the
//!   runtime's random source (seeded with [`RuntimeBuilder::seed`] for reproducible runs).
//! - A [`Tap`] sees every envelope an honest party sends and may drop, replace, redirect or
//!   duplicate it; [`Runtime::inject`] adds envelopes; [`Runtime::log`] is everything the
//!   network observed — enough to observe, drop, replay, modify and inject (attack replay).
//! - [`Runtime::transcript`] records, in order, what each node received, every client event
//!   and error, every server event and every incident.
//!
//! **Online and offline.** A client added to the runtime is reachable on the network; the
//! server learns that it is online only from a `Connect` (sent by [`Runtime::register_client`]
//! once registered, and by [`Runtime::connect`]). [`Runtime::disconnect`] first drains the
//! network (everything in flight is delivered), then sends `Disconnect`, delivers it, and takes
//! the client off the network. Envelopes for a client that is off the network (injected ones,
//! or relays the server sends because a tap dropped the `Disconnect`) are lost and recorded as
//! [`Incident::Undeliverable`]. The server stores what arrives for a client it thinks offline
//! and delivers it, in order, on the next `Connect`.
//!
//! **Confirmed delivery.** The runtime's server runs [`Delivery::Confirmed`]: a stored message
//! stays in the store until the recipient has handled it. The runtime is the transport, so it
//! confirms each stored envelope ([`Server::confirm_delivery`]) right after the recipient's
//! client handled it (accepted or rejected), once per envelope even if a tap duplicated it.
//! A stored envelope that is lost (dropped by a tap, redirected, or for a client that went off
//! the network) is not confirmed and is delivered again at the next `Connect`. The server
//! sends a queue in batches (SPEC.md §9.2): the confirmation of a batch's last message
//! brings the next, so the network holds at most one batch of stored messages per recipient.
//!
//! **Housekeeping.** Before each server step the runtime lets the server sweep expired OTP
//! rows ([`Server::sweep`], bounded work).
//!
//! **Secrets.** Logs (tracing) name message types, sizes and addresses only; plaintexts, keys
//! and OTPs never appear in them. OTPs reach the user only through [`OtpDelivery`].

mod clock;
mod flows;
mod network;
mod transcript;

use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::Duration;

use ee2e_spec::{
    Client, ClientError, ClientEvent, ClientOutput, Delivery, ErrorCode, Message, MessageType, Params, Phone,
    Profile, RestoreError, Server, ServerEvent, ServerOutput, StoreError, Wire,
};

pub use clock::Clock;
pub use network::{Address, Envelope, Fate, LoggedEnvelope, Tap, TapAction};
pub use transcript::{Entry, Incident, Record, describe_client_event, describe_server_event};

use crate::codec::{self, EncodeError};
use crate::keystore::{Keystore, KeystoreError};
use crate::otp::{ChannelOtp, OtpDelivery, Sms};
use crate::sqlite::SqliteStore;
use crate::suite::{self, ConcreteSuite, PrivateKey, Rng};
use crate::value::Bytes;
use network::Network;

/// The server type the runtime runs.
pub type RuntimeServer = Server<ConcreteSuite, SqliteStore>;

/// Most envelopes one [`Runtime::run_until_idle`] delivers before giving up.
pub const MAX_DELIVERIES: usize = 1_000_000;

/// Most server steps whose store writes [`Runtime::run_until_idle`] commits in one
/// transaction (group commit, SPEC.md §14): the outputs of those steps wait for the commit,
/// so this also bounds how many steps' outputs the runtime holds back.
pub const GROUP_STEPS: usize = 64;

/// Why a runtime operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// No client with this phone number was added.
    #[error("no client {0}")]
    UnknownClient(Phone),
    /// A client with this phone number exists already.
    #[error("client {0} exists already")]
    DuplicateClient(Phone),
    /// The client is off the network.
    #[error("client {0} is offline")]
    Offline(Phone),
    /// The client's core refused the operation itself (API misuse or local crypto failure).
    #[error("{phone}: {error}")]
    Client {
        /// The client.
        phone: Phone,
        /// Its error.
        error: ClientError,
    },
    /// The server answered the client's request with an error reply.
    #[error("{phone}: the server replied {code:?}")]
    Rejected {
        /// The client.
        phone: Phone,
        /// The error code of the reply.
        code: ErrorCode,
    },
    /// The client rejected a message it received during the operation.
    #[error("{phone} rejected a {kind:?} message: {error}")]
    Refused {
        /// The client.
        phone: Phone,
        /// The rejected message's type.
        kind: MessageType,
        /// The failed check.
        error: ClientError,
    },
    /// No OTP arrived by SMS for the phone.
    #[error("no OTP arrived for {0}")]
    NoOtp(Phone),
    /// The operation's exchange ended without its result (e.g. a tap dropped a message).
    #[error("{phone}: {what} did not complete")]
    Incomplete {
        /// The client.
        phone: Phone,
        /// What did not complete.
        what: &'static str,
    },
    /// The client's output could not be encoded.
    #[error("cannot encode {kind:?}: {error}")]
    Encode {
        /// The message type.
        kind: MessageType,
        /// Why.
        error: EncodeError,
    },
    /// The server's store failed, or does not match the profile.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A keystore operation failed.
    #[error(transparent)]
    Keystore(#[from] KeystoreError),
    /// The client has no keystore to restart from.
    #[error("client {0} has no keystore")]
    NoKeystore(Phone),
    /// The keystore's contents do not rebuild a client.
    #[error("{phone}: cannot restore from the keystore: {error}")]
    Restore {
        /// The client.
        phone: Phone,
        /// Why.
        error: RestoreError,
    },
    /// The network did not become idle within [`MAX_DELIVERIES`] deliveries.
    #[error("network not idle after {0} deliveries")]
    Livelock(usize),
}

/// Builds a [`Runtime`]: profile and server key (given to [`Runtime::builder`]), parameters,
/// store, random source, OTP display.
pub struct RuntimeBuilder {
    profile: Profile,
    params: Params,
    server_key: PrivateKey,
    store: Option<SqliteStore>,
    rng: Option<Rng>,
    otp: Vec<Box<dyn OtpDelivery>>,
    start_ms: u64,
}

impl RuntimeBuilder {
    /// Protocol parameters (default: [`Params::default`]).
    pub fn params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    /// The server's store (default: SQLite in memory).
    pub fn store(mut self, store: SqliteStore) -> Self {
        self.store = Some(store);
        self
    }

    /// Seeds the random source, for reproducible runs (default: the OS generator).
    pub fn seed(mut self, seed: [u8; 32]) -> Self {
        self.rng = Some(suite::seeded_rng(seed));
        self
    }

    /// Also hands every OTP to `delivery` (e.g. [`ConsoleOtp`](crate::otp::ConsoleOtp)).
    /// The simulated handsets always receive it.
    pub fn otp_delivery(mut self, delivery: impl OtpDelivery + 'static) -> Self {
        self.otp.push(Box::new(delivery));
        self
    }

    /// The clock's start, in milliseconds (default 0).
    pub fn start_ms(mut self, start_ms: u64) -> Self {
        self.start_ms = start_ms;
        self
    }

    /// Builds the runtime.
    pub fn build(self) -> Result<Runtime, RuntimeError> {
        let wire = self.profile.wire();
        let store = match self.store {
            Some(store) => store,
            None => SqliteStore::in_memory(wire)?,
        };
        if store.wire() != wire {
            return Err(RuntimeError::Store(StoreError::WrongWire { store: store.wire(), profile: wire }));
        }
        let (handset, inbox) = ChannelOtp::new();
        Ok(Runtime {
            profile: self.profile,
            params: self.params,
            server: Server::new(self.profile, self.params, self.server_key, store)
                .with_delivery(Delivery::Confirmed),
            clients: BTreeMap::new(),
            held_confirmations: None,
            shared: Shared {
                wire,
                clock: Clock::starting_at(self.start_ms),
                rng: self.rng.unwrap_or_else(suite::os_rng),
                network: Network::default(),
                transcript: Vec::new(),
                handset,
                inbox,
                unread: BTreeMap::new(),
                otp_observers: self.otp,
                stored: BTreeMap::new(),
            },
        })
    }
}

/// A client in the runtime.
struct ClientNode {
    client: Client<ConcreteSuite>,
    keystore: Option<Keystore>,
    online: bool,
}

/// What every node uses: clock, randomness, network, transcript, SMS.
struct Shared {
    wire: Wire,
    clock: Clock,
    rng: Rng,
    network: Network,
    transcript: Vec<Record>,
    handset: ChannelOtp,
    inbox: mpsc::Receiver<Sms>,
    unread: BTreeMap<Phone, Bytes>,
    otp_observers: Vec<Box<dyn OtpDelivery>>,
    /// Stored deliveries in flight, by log index: the recipient whose queue they came from.
    stored: BTreeMap<usize, Phone>,
}

impl Shared {
    fn record(&mut self, node: Address, entry: Entry) {
        let record = Record { index: self.transcript.len(), at_ms: self.clock.now_ms(), node, entry };
        if record.is_failure() {
            tracing::warn!(node = %record.node, "{}", record.describe());
        } else {
            tracing::info!(node = %record.node, "{}", record.describe());
        }
        self.transcript.push(record);
    }

    /// Encodes `message` and sends it on the network.
    fn emit(
        &mut self,
        from: Address,
        to: Address,
        message: &Message<ConcreteSuite>,
    ) -> Result<usize, EncodeError> {
        let bytes = codec::encode(self.wire, message)?;
        Ok(self.send_encoded(from, to, message.kind(), bytes))
    }

    /// Sends the encoding of a message of type `kind`; returns its log index.
    fn send_encoded(&mut self, from: Address, to: Address, kind: MessageType, bytes: Vec<u8>) -> usize {
        tracing::debug!(%from, %to, ?kind, len = bytes.len(), "envelope sent");
        self.network.send(Envelope { from, to, bytes })
    }

    /// Sends `message`; returns its log index, or records why it could not be encoded.
    fn emit_or_record(
        &mut self,
        from: Address,
        to: Address,
        message: &Message<ConcreteSuite>,
    ) -> Option<usize> {
        match self.emit(from.clone(), to, message) {
            Ok(index) => Some(index),
            Err(error) => {
                self.record(from, Entry::Incident(Incident::Unencodable { kind: message.kind(), error }));
                None
            }
        }
    }

    fn sms(&mut self, phone: Phone, otp: Bytes) {
        self.handset.deliver(&phone, &otp);
        for observer in &self.otp_observers {
            observer.deliver(&phone, &otp);
        }
        self.record(Address::Server, Entry::SmsSent(phone));
    }
}

/// One server, many clients, one network. See the [module documentation](self).
pub struct Runtime {
    profile: Profile,
    params: Params,
    server: RuntimeServer,
    clients: BTreeMap<Phone, ClientNode>,
    shared: Shared,
    /// While a group of client deliveries runs: the server's outputs of the stored-delivery
    /// confirmations, held until the group's transaction has committed.
    held_confirmations: Option<Vec<Vec<ServerOutput<ConcreteSuite>>>>,
}

/// A message a client accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedMessage {
    /// The sender.
    pub from: Phone,
    /// The plaintext (secret).
    pub plaintext: Bytes,
    /// The sequence number (hardened wire).
    pub seq: Option<u64>,
}

impl Runtime {
    /// A builder for `profile` whose server signs with `server_key`, with defaults: in-memory
    /// store, OS randomness, default parameters. There is no default server key: tests and the
    /// demo pass a test key from `ee2e-fixtures`, anything else its own key.
    pub fn builder(profile: Profile, server_key: PrivateKey) -> RuntimeBuilder {
        RuntimeBuilder {
            profile,
            params: Params::default(),
            server_key,
            store: None,
            rng: None,
            otp: Vec::new(),
            start_ms: 0,
        }
    }

    /// A runtime for `profile` whose server signs with `server_key`, with every other default.
    pub fn new(profile: Profile, server_key: PrivateKey) -> Result<Self, RuntimeError> {
        Self::builder(profile, server_key).build()
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// The protocol parameters.
    pub fn params(&self) -> Params {
        self.params
    }

    /// The clock, in milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.shared.clock.now_ms()
    }

    /// Advances the clock (e.g. past an OTP's lifetime).
    pub fn advance(&mut self, by: Duration) {
        self.shared.clock.advance(by);
    }

    /// The server.
    pub fn server(&self) -> &RuntimeServer {
        &self.server
    }

    /// The server's store.
    pub fn store(&self) -> &SqliteStore {
        self.server.store()
    }

    /// Adds a client for `phone` holding `key`, pinning the server's key, reachable on the
    /// network. With a keystore, the private key is written to it, and everything the
    /// client persists from now on.
    pub fn add_client(
        &mut self,
        phone: Phone,
        key: PrivateKey,
        keystore: Option<Keystore>,
    ) -> Result<(), RuntimeError> {
        if self.clients.contains_key(&phone) {
            return Err(RuntimeError::DuplicateClient(phone));
        }
        if let Some(keystore) = &keystore {
            keystore.save_private_key(&key)?;
        }
        let client = Client::new(self.profile, self.params, phone.clone(), key, self.server.public_key());
        self.clients.insert(phone, ClientNode { client, keystore, online: true });
        Ok(())
    }

    /// Simulates a crash and restart of a client with a keystore: its in-memory state is
    /// dropped and rebuilt from the keystore ([`Client::restore`]), and the outbox of its
    /// last committed step is sent again (receivers refuse second copies).
    pub fn restart_client(&mut self, phone: &Phone) -> Result<(), RuntimeError> {
        let node = self.clients.get_mut(phone).ok_or_else(|| RuntimeError::UnknownClient(phone.clone()))?;
        let keystore = node.keystore.as_ref().ok_or_else(|| RuntimeError::NoKeystore(phone.clone()))?;
        let key = keystore.load_private_key()?;
        let (saved, outbox) = keystore.load()?;
        node.client =
            Client::restore(self.profile, self.params, phone.clone(), key, self.server.public_key(), saved)
                .map_err(|error| RuntimeError::Restore { phone: phone.clone(), error })?;
        keystore.remove_unreferenced_sessions(&node.client.state())?;
        if node.online {
            for bytes in outbox {
                self.shared.network.send(Envelope {
                    from: Address::Client(phone.clone()),
                    to: Address::Server,
                    bytes,
                });
            }
        }
        Ok(())
    }

    /// The client with this phone number.
    pub fn client(&self, phone: &Phone) -> Option<&Client<ConcreteSuite>> {
        self.clients.get(phone).map(|node| &node.client)
    }

    /// The client's keystore, if it has one.
    pub fn keystore(&self, phone: &Phone) -> Option<&Keystore> {
        self.clients.get(phone).and_then(|node| node.keystore.as_ref())
    }

    /// Whether the client is on the network.
    pub fn is_online(&self, phone: &Phone) -> bool {
        self.clients.get(phone).is_some_and(|node| node.online)
    }

    /// Runs one operation of a client's core (e.g. `|c, rng| c.send(&bob, &m, rng)`) and sends
    /// its outputs, without delivering anything. An error of the core is returned and the
    /// client is unchanged.
    pub fn act<E: Into<ClientError>>(
        &mut self,
        phone: &Phone,
        operation: impl FnOnce(
            &mut Client<ConcreteSuite>,
            &mut Rng,
        ) -> Result<Vec<ClientOutput<ConcreteSuite>>, E>,
    ) -> Result<(), RuntimeError> {
        let node = self.clients.get_mut(phone).ok_or_else(|| RuntimeError::UnknownClient(phone.clone()))?;
        if !node.online {
            return Err(RuntimeError::Offline(phone.clone()));
        }
        let before = node.keystore.as_ref().map(|_| node.client.clone());
        let outputs = operation(&mut node.client, &mut self.shared.rng)
            .map_err(|error| RuntimeError::Client { phone: phone.clone(), error: error.into() })?;
        // Encode everything first, so that an unencodable output fails the call cleanly; the
        // bytes are what is persisted and sent.
        let (kinds, encoded) = match encode_sends(self.shared.wire, &outputs) {
            Ok(sends) => sends,
            Err((kind, error)) => {
                if let Some(before) = before {
                    node.client = before;
                }
                return Err(RuntimeError::Encode { kind, error });
            }
        };
        if let Err(error) = commit(node, &outputs, &encoded) {
            // The step did not happen: the client is as before and nothing leaves.
            if let Some(before) = before {
                node.client = before;
            }
            return Err(RuntimeError::Keystore(error));
        }
        let here = Address::Client(phone.clone());
        for (kind, bytes) in kinds.into_iter().zip(encoded) {
            self.shared.send_encoded(here.clone(), Address::Server, kind, bytes);
        }
        for output in outputs {
            if let ClientOutput::Event(event) = output {
                self.shared.record(here.clone(), Entry::Client(event));
            }
        }
        Ok(())
    }

    /// Installs the network tap (replacing any other).
    pub fn set_tap(&mut self, tap: impl Tap + 'static) {
        self.shared.network.set_tap(Some(Box::new(tap)));
    }

    /// Removes the network tap.
    pub fn clear_tap(&mut self) {
        self.shared.network.set_tap(None);
    }

    /// Injects an envelope (delivered in turn, after those already in flight). Returns its
    /// log index.
    pub fn inject(&mut self, envelope: Envelope) -> usize {
        tracing::debug!(from = %envelope.from, to = %envelope.to, len = envelope.bytes.len(), "envelope injected");
        self.shared.network.inject(envelope)
    }

    /// Every envelope the network observed, in order.
    pub fn log(&self) -> &[LoggedEnvelope] {
        self.shared.network.log()
    }

    /// How many envelopes are in flight.
    pub fn in_flight(&self) -> usize {
        self.shared.network.in_flight()
    }

    /// How many bytes the envelopes in flight hold.
    pub fn in_flight_bytes(&self) -> usize {
        self.shared.network.in_flight_bytes()
    }

    /// Everything that happened at the nodes, in order.
    pub fn transcript(&self) -> &[Record] {
        &self.shared.transcript
    }

    /// The records from position `mark` (a former `transcript().len()`) on.
    pub fn since(&self, mark: usize) -> &[Record] {
        self.shared.transcript.get(mark..).unwrap_or(&[])
    }

    /// The events of a client, in order.
    pub fn events(&self, phone: &Phone) -> Vec<&ClientEvent<ConcreteSuite>> {
        self.at(phone)
            .filter_map(|r| match &r.entry {
                Entry::Client(event) => Some(event),
                _ => None,
            })
            .collect()
    }

    /// The messages a client rejected: type and failed check, in order.
    pub fn client_errors(&self, phone: &Phone) -> Vec<(MessageType, &ClientError)> {
        self.at(phone)
            .filter_map(|r| match &r.entry {
                Entry::ClientError { kind, error } => Some((*kind, error)),
                _ => None,
            })
            .collect()
    }

    /// The messages a client accepted, in order.
    pub fn accepted(&self, phone: &Phone) -> Vec<AcceptedMessage> {
        self.events(phone)
            .into_iter()
            .filter_map(|event| match event {
                ClientEvent::MessageAccepted { from, plaintext, seq } => {
                    Some(AcceptedMessage { from: from.clone(), plaintext: plaintext.clone(), seq: *seq })
                }
                _ => None,
            })
            .collect()
    }

    /// The local ids of a client's messages whose ACK verified, in order.
    pub fn acked(&self, phone: &Phone) -> Vec<u64> {
        self.events(phone)
            .into_iter()
            .filter_map(|event| match event {
                ClientEvent::AckAccepted { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    }

    /// The server's events, in order.
    pub fn server_events(&self) -> Vec<&ServerEvent> {
        self.shared
            .transcript
            .iter()
            .filter_map(|r| match &r.entry {
                Entry::Server(event) => Some(event),
                _ => None,
            })
            .collect()
    }

    /// Every incident, with where it happened.
    pub fn incidents(&self) -> Vec<(&Address, &Incident)> {
        self.shared
            .transcript
            .iter()
            .filter_map(|r| match &r.entry {
                Entry::Incident(incident) => Some((&r.node, incident)),
                _ => None,
            })
            .collect()
    }

    /// The latest OTP that arrived by SMS on `phone`'s handset and was not read yet.
    pub fn take_otp(&mut self, phone: &Phone) -> Option<Bytes> {
        while let Ok(sms) = self.shared.inbox.try_recv() {
            self.shared.unread.insert(sms.phone, sms.otp);
        }
        self.shared.unread.remove(phone)
    }

    fn at<'a>(&'a self, phone: &Phone) -> impl Iterator<Item = &'a Record> + use<'a> {
        let node = Address::Client(phone.clone());
        self.shared.transcript.iter().filter(move |r| r.node == node)
    }

    /// Delivers the next envelope in flight; `false` if there was none.
    pub fn deliver_next(&mut self) -> bool {
        let Some((index, envelope)) = self.shared.network.pop() else { return false };
        match envelope.to.clone() {
            Address::Server => self.server_receive(index, envelope),
            Address::Client(phone) => {
                // A stored delivery is confirmed once, when its recipient has handled it.
                let stored_for = self.shared.stored.remove(&index);
                match self.clients.get_mut(&phone) {
                    Some(node) if node.online => {
                        client_receive(&mut self.shared, &phone, node, index, &envelope);
                        if stored_for.as_ref() == Some(&phone) {
                            match self.server.confirm_delivery(&phone, 1) {
                                Ok(confirmation) => match &mut self.held_confirmations {
                                    Some(held) => held.push(confirmation.outputs),
                                    None => self.dispatch(confirmation.outputs),
                                },
                                Err(error) => self.shared.record(
                                    Address::Server,
                                    Entry::Incident(Incident::Unconfirmed { envelope: index, error }),
                                ),
                            }
                        }
                    }
                    _ => self.shared.record(
                        Address::Client(phone),
                        Entry::Incident(Incident::Undeliverable { envelope: index }),
                    ),
                }
            }
        }
        true
    }

    /// Delivers envelopes, FIFO, until none is in flight; returns how many were delivered.
    ///
    /// Group commit: each run of consecutive envelopes for the server (at most
    /// [`GROUP_STEPS`]) is handled inside one store transaction, and the outputs of those
    /// steps are sent, in order, only once it has committed. The network order is the same as
    /// step by step (the outputs would have queued behind the same envelopes); the store
    /// writes one commit instead of one per write. Likewise each run of client-bound
    /// envelopes: the confirmations of the stored deliveries among them (the server's
    /// removals from the offline queue) are committed together after the clients handled
    /// them, and what the server sends in reply leaves after that commit.
    pub fn run_until_idle(&mut self) -> Result<usize, RuntimeError> {
        let mut delivered = 0;
        loop {
            let delivered_now = if self.shared.network.next_is_for_server() {
                self.server_group()
            } else if self.shared.stored.is_empty() {
                usize::from(self.deliver_next())
            } else {
                self.client_group()
            };
            if delivered_now == 0 {
                return Ok(delivered);
            }
            delivered += delivered_now;
            if delivered >= MAX_DELIVERIES {
                return Err(RuntimeError::Livelock(delivered));
            }
        }
    }

    /// Delivers the run of server-bound envelopes at the head of the network (at most
    /// [`GROUP_STEPS`]) in one store transaction; their outputs leave after the commit, or
    /// not at all if it failed. Returns how many envelopes were delivered.
    fn server_group(&mut self) -> usize {
        if let Err(error) = self.server.store_mut().begin_group() {
            self.shared.record(Address::Server, Entry::Incident(Incident::Commit { steps: 0, error }));
            return usize::from(self.deliver_next());
        }
        let mut held = Vec::new();
        while held.len() < GROUP_STEPS && self.shared.network.next_is_for_server() {
            let Some((index, envelope)) = self.shared.network.pop() else { break };
            held.push(self.server_handle(index, envelope));
        }
        let steps = held.len();
        match self.server.store_mut().commit_group() {
            Ok(()) => held.into_iter().for_each(|outputs| self.dispatch(outputs)),
            Err(error) => {
                self.shared.record(Address::Server, Entry::Incident(Incident::Commit { steps, error }))
            }
        }
        steps
    }

    /// Delivers the run of client-bound envelopes at the head of the network (at most
    /// [`GROUP_STEPS`]) inside one server store transaction, which holds the confirmations of
    /// the stored deliveries among them. Each client commits its own keystore before its
    /// delivery is confirmed, so a crash before the group commits leaves the messages stored
    /// and they are delivered again (the clients refuse the second copies: SPEC.md §14).
    fn client_group(&mut self) -> usize {
        if let Err(error) = self.server.store_mut().begin_group() {
            self.shared.record(Address::Server, Entry::Incident(Incident::Commit { steps: 0, error }));
            return usize::from(self.deliver_next());
        }
        self.held_confirmations = Some(Vec::new());
        let mut steps = 0;
        while steps < GROUP_STEPS && !self.shared.network.next_is_for_server() && self.deliver_next() {
            steps += 1;
        }
        let held = self.held_confirmations.take().unwrap_or_default();
        match self.server.store_mut().commit_group() {
            Ok(()) => held.into_iter().for_each(|outputs| self.dispatch(outputs)),
            Err(error) => {
                self.shared.record(Address::Server, Entry::Incident(Incident::Commit { steps, error }))
            }
        }
        steps
    }

    fn server_receive(&mut self, index: usize, envelope: Envelope) {
        let outputs = self.server_handle(index, envelope);
        self.dispatch(outputs);
    }

    /// One server step: decode, sweep, handle; returns the outputs, not yet sent.
    fn server_handle(&mut self, index: usize, envelope: Envelope) -> Vec<ServerOutput<ConcreteSuite>> {
        let Address::Client(from) = envelope.from else {
            self.shared.record(Address::Server, Entry::Incident(Incident::NotFromClient { envelope: index }));
            return Vec::new();
        };
        let message = match codec::decode(self.shared.wire, &envelope.bytes) {
            Ok(message) => message,
            Err(error) => {
                self.shared.record(
                    Address::Server,
                    Entry::Incident(Incident::Undecodable { envelope: index, error }),
                );
                return Vec::new();
            }
        };
        self.shared.record(
            Address::Server,
            Entry::Received { envelope: index, from: Address::Client(from.clone()), kind: message.kind() },
        );
        let now = self.shared.clock.now_ms();
        if let Err(error) = self.server.sweep(now) {
            self.shared.record(Address::Server, Entry::Incident(Incident::Sweep(error)));
        }
        self.server.step(&from, message, now, &mut self.shared.rng)
    }

    /// Sends, texts and records what the server output.
    fn dispatch(&mut self, outputs: Vec<ServerOutput<ConcreteSuite>>) {
        for output in outputs {
            match output {
                ServerOutput::Send { to, message, stored } => {
                    let index =
                        self.shared.emit_or_record(Address::Server, Address::Client(to.clone()), &message);
                    // The server says which sends come from the offline queue: those are
                    // confirmed once the recipient has handled them.
                    if stored && let Some(index) = index {
                        self.shared.stored.insert(index, to);
                    }
                }
                ServerOutput::Sms { phone, otp } => self.shared.sms(phone, otp),
                ServerOutput::Event(event) => self.shared.record(Address::Server, Entry::Server(event)),
            }
        }
    }

    /// Takes the client off the network after draining the network and telling the server.
    pub fn disconnect(&mut self, phone: &Phone) -> Result<(), RuntimeError> {
        self.disconnect_all(std::slice::from_ref(phone))
    }

    /// [`disconnect`](Self::disconnect) for several clients at once: their `Disconnect`s
    /// reach the server in one run, so a store file commits them together (group commit).
    pub fn disconnect_all(&mut self, phones: &[Phone]) -> Result<(), RuntimeError> {
        self.run_until_idle()?;
        for phone in phones {
            self.act(phone, |client, _| client.disconnect())?;
        }
        self.run_until_idle()?;
        for phone in phones {
            if let Some(node) = self.clients.get_mut(phone) {
                node.online = false;
            }
        }
        Ok(())
    }

    /// Puts the client back on the network and sends `Connect`; the server delivers what it
    /// stored for the client, in order.
    pub fn connect(&mut self, phone: &Phone) -> Result<(), RuntimeError> {
        self.connect_all(std::slice::from_ref(phone))
    }

    /// [`connect`](Self::connect) for several clients at once: their `Connect`s reach the
    /// server in one run, and their stored deliveries are confirmed in groups.
    pub fn connect_all(&mut self, phones: &[Phone]) -> Result<(), RuntimeError> {
        for phone in phones {
            let node =
                self.clients.get_mut(phone).ok_or_else(|| RuntimeError::UnknownClient(phone.clone()))?;
            node.online = true;
            self.act(phone, |client, _| client.connect())?;
        }
        self.run_until_idle()?;
        Ok(())
    }
}

/// Delivers an envelope to a client: decode, handle, then send, record and persist outputs.
fn client_receive(
    shared: &mut Shared,
    phone: &Phone,
    node: &mut ClientNode,
    index: usize,
    envelope: &Envelope,
) {
    let here = Address::Client(phone.clone());
    let message = match codec::decode(shared.wire, &envelope.bytes) {
        Ok(message) => message,
        Err(error) => {
            shared.record(here, Entry::Incident(Incident::Undecodable { envelope: index, error }));
            return;
        }
    };
    let kind = message.kind();
    shared.record(here.clone(), Entry::Received { envelope: index, from: envelope.from.clone(), kind });
    let before = node.keystore.as_ref().map(|_| node.client.clone());
    let outputs = match node.client.handle(message, &mut shared.rng) {
        Ok(outputs) => outputs,
        Err(error) => return shared.record(here, Entry::ClientError { kind, error }),
    };
    let encoded = match encode_sends(shared.wire, &outputs) {
        Ok((_, encoded)) => encoded,
        Err((kind, error)) => match before {
            Some(before) => {
                // Nothing unencodable may be persisted as sent: the step did not happen.
                node.client = before;
                return shared.record(here, Entry::Incident(Incident::Unencodable { kind, error }));
            }
            // Without a keystore the step stands; what encodes is sent, the rest recorded.
            None => return process_client_outputs(shared, phone, outputs),
        },
    };
    if let Err(error) = commit(node, &outputs, &encoded) {
        // The step did not happen: the client is as before and nothing leaves.
        if let Some(before) = before {
            node.client = before;
        }
        return shared.record(here, Entry::Incident(Incident::Keystore(error)));
    }
    release(shared, phone, outputs, encoded);
}

/// The types and bytes of a step's `Send` outputs, in order.
type EncodedSends = (Vec<MessageType>, Vec<Vec<u8>>);

/// A step's `Send` outputs, each encoded once, in order (their types and bytes); or the first
/// that does not encode. The bytes a keystore persists as the outbox are the bytes sent.
fn encode_sends(
    wire: Wire,
    outputs: &[ClientOutput<ConcreteSuite>],
) -> Result<EncodedSends, (MessageType, EncodeError)> {
    let (mut kinds, mut encoded) = (Vec::new(), Vec::new());
    for output in outputs {
        if let ClientOutput::Send(message) = output {
            encoded.push(codec::encode(wire, message).map_err(|error| (message.kind(), error))?);
            kinds.push(message.kind());
        }
    }
    Ok((kinds, encoded))
}

/// Sends (as `encoded`, from [`encode_sends`]) and records a committed step's outputs in
/// their order.
fn release(
    shared: &mut Shared,
    phone: &Phone,
    outputs: Vec<ClientOutput<ConcreteSuite>>,
    encoded: Vec<Vec<u8>>,
) {
    let here = Address::Client(phone.clone());
    let mut encoded = encoded.into_iter();
    for output in outputs {
        match output {
            ClientOutput::Send(message) => {
                if let Some(bytes) = encoded.next() {
                    shared.send_encoded(here.clone(), Address::Server, message.kind(), bytes);
                }
            }
            ClientOutput::Event(event) => shared.record(here.clone(), Entry::Client(event)),
            ClientOutput::Persist(_) => {}
        }
    }
}

/// Writes a step to the client's keystore, if it has one, before anything is released.
fn commit(
    node: &ClientNode,
    outputs: &[ClientOutput<ConcreteSuite>],
    outbox: &[Vec<u8>],
) -> Result<(), KeystoreError> {
    match &node.keystore {
        Some(keystore) => keystore.commit(outputs, outbox, false),
        None => Ok(()),
    }
}

/// Sends and records a step's outputs; its `Persist` values were written by [`commit`].
fn process_client_outputs(shared: &mut Shared, phone: &Phone, outputs: Vec<ClientOutput<ConcreteSuite>>) {
    let here = Address::Client(phone.clone());
    for output in outputs {
        match output {
            ClientOutput::Send(message) => {
                shared.emit_or_record(here.clone(), Address::Server, &message);
            }
            ClientOutput::Event(event) => shared.record(here.clone(), Entry::Client(event)),
            ClientOutput::Persist(_) => {}
        }
    }
}
