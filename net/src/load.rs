//! A TCP load on loopback, with a no-loss check (`ee2e load --tcp`).
//!
//! The server's front end ([`server`], as `ee2e serve` runs it) listens on 127.0.0.1:0 in
//! this process; one client per entry of [`TcpLoad::clients`] opens a connection, registers,
//! comes online and waits until all are; then each starts a session with the next client on
//! the ring and sends it [`TcpLoad::messages`] messages, while handling what arrives from the
//! previous one (acknowledging each). The run is bounded in count ([`MAX_CONNECTIONS`]
//! connections × messages) and in time ([`LOAD_TIMEOUT`]), and [`TcpOutcome`] says whether
//! every client received exactly the messages sent to it, once each and in order, and every
//! ACK of its own. The caller brings the keys, so this library holds none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ee2e::otp::OtpDelivery;
use ee2e::sqlite::SqliteStore;
use ee2e::suite::os_rng;
use ee2e::{Bytes, ConcreteSuite, PrivateKey, Rng, codec};
use ee2e_spec::{Client, ClientEvent, ClientOutput, Params, Phone, Profile, Role, Suite};

use crate::client::Connection;
use crate::frame::Frame;
use crate::host::Host;
use crate::server::{self, Limits};

/// The whole run's bound.
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Most connections a run opens.
pub const MAX_CONNECTIONS: usize = 1000;

/// What a TCP load runs.
pub struct TcpLoad {
    /// Protocol profile of the server and every client.
    pub profile: Profile,
    /// Parameters (PBKDF2 iterations: registration is not what is measured).
    pub params: Params,
    /// The server's signing key.
    pub server_key: PrivateKey,
    /// One client per connection, 2 to [`MAX_CONNECTIONS`]: its phone and key (a key may
    /// serve several phones).
    pub clients: Vec<(Phone, PrivateKey)>,
    /// Messages each client sends to the next on the ring.
    pub messages: usize,
}

/// What a TCP load measured and found.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpOutcome {
    /// Concurrent connections.
    pub connections: usize,
    /// Registration of every client, concurrently.
    pub registration: Duration,
    /// The messaging phase.
    pub messaging: Duration,
    /// Messages sent.
    pub expected: usize,
    /// Messages delivered.
    pub received: usize,
    /// ACKs verified.
    pub acks: usize,
    /// Messages out of order, duplicated or from the wrong sender.
    pub wrong: usize,
    /// Deliveries a client refused.
    pub refused: usize,
    /// Relays the server lost.
    pub lost_relays: usize,
}

impl TcpOutcome {
    /// Delivered messages per second of the messaging phase.
    pub fn rate(&self) -> f64 {
        self.received as f64 / self.messaging.as_secs_f64().max(1e-9)
    }

    /// Nothing lost, duplicated, reordered or refused.
    pub fn ok(&self) -> bool {
        self.received == self.expected
            && self.acks == self.expected
            && self.wrong == 0
            && self.refused == 0
            && self.lost_relays == 0
    }
}

/// Why a TCP load could not run to its check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TcpLoadError {
    /// The configuration is out of bounds.
    #[error("{0}")]
    Config(String),
    /// A socket, a client or the server failed.
    #[error("{0}")]
    Failed(String),
    /// The run did not finish within [`LOAD_TIMEOUT`].
    #[error("not done within {0:?}")]
    Timeout(Duration),
}

impl From<String> for TcpLoadError {
    fn from(error: String) -> Self {
        TcpLoadError::Failed(error)
    }
}

/// OTPs into a map the clients read (the load plays every phone).
#[derive(Clone, Default)]
struct MapOtp(Arc<Mutex<HashMap<Phone, Bytes>>>);

impl OtpDelivery for MapOtp {
    fn deliver(&self, phone: &Phone, otp: &Bytes) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(phone.clone(), otp.clone());
        }
    }
}

/// What one client saw.
#[derive(Debug, Default)]
struct Tally {
    received: usize,
    acks: usize,
    /// Messages out of order, duplicated or from the wrong sender.
    wrong: usize,
    /// Deliveries the client refused.
    refused: usize,
}

/// Checks the connection count against its bound, 2 to [`MAX_CONNECTIONS`]; [`run`] checks it
/// too, and a caller checks it first to refuse a count before it builds that many clients.
pub fn check_connections(n: usize) -> Result<(), TcpLoadError> {
    if (2..=MAX_CONNECTIONS).contains(&n) {
        Ok(())
    } else {
        Err(TcpLoadError::Config(format!("{n} connections: from 2 to {MAX_CONNECTIONS}")))
    }
}

/// Runs the load against a server on `store`; the caller's tokio runtime drives it.
pub async fn run(load: TcpLoad, store: SqliteStore) -> Result<TcpOutcome, TcpLoadError> {
    let n = load.clients.len();
    check_connections(n)?;
    let server_public = ConcreteSuite::public_key(&load.server_key);
    let host = Host::new(load.profile, load.params, load.server_key, store, os_rng());
    let otp = MapOtp::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let limits = Limits { max_connections: n + 8, ..Limits::default() };
    let running = server::start(listener, host, Box::new(otp.clone()), limits);
    let addr = running.addr();
    tracing::info!(%addr, connections = n, messages = load.messages, "tcp load started");
    let phones: Vec<Phone> = load.clients.iter().map(|(phone, _)| phone.clone()).collect();
    let registered = Arc::new(tokio::sync::Barrier::new(n + 1));
    let go = Arc::new(tokio::sync::Barrier::new(n + 1));
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for (i, (phone, key)) in load.clients.into_iter().enumerate() {
        let (otp, registered, go) = (otp.clone(), registered.clone(), go.clone());
        let (profile, params, messages, server_public) =
            (load.profile, load.params, load.messages, server_public.clone());
        let next = phones[(i + 1) % n].clone();
        let previous = phones[(i + n - 1) % n].clone();
        tasks.spawn(async move {
            let setup = async {
                let client = Client::new(profile, params, phone.clone(), key, server_public);
                let conn = Connection::open(addr, &phone, Duration::from_secs(60))
                    .await
                    .map_err(|e| e.to_string())?;
                let mut peer =
                    Peer { client, conn, rng: os_rng(), due: 0, tally: Tally::default(), previous };
                peer.register(&otp).await?;
                Ok::<Peer, String>(peer)
            };
            let setup = setup.await;
            // Every task reaches the barriers, so that one failure ends the run, not hangs it.
            registered.wait().await;
            go.wait().await;
            let mut peer = setup?;
            let outputs = peer.client.start_session(&next).map_err(|e| e.to_string())?;
            peer.output(outputs, Some((&next, messages))).await?;
            while peer.due > 0 || peer.tally.received < messages || peer.tally.acks < messages {
                peer.frame(Some((&next, messages))).await?;
            }
            Ok::<Tally, String>(peer.tally)
        });
    }
    let bounded = tokio::time::timeout(LOAD_TIMEOUT, async {
        registered.wait().await;
        let registration = started.elapsed();
        let messaging = Instant::now();
        go.wait().await;
        let mut tallies = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            tallies.push(joined.map_err(|e| e.to_string())??);
        }
        Ok::<_, String>((registration, messaging.elapsed(), tallies))
    })
    .await;
    let (registration, messaging, tallies) = match bounded {
        Ok(result) => result?,
        Err(_) => {
            tasks.abort_all();
            running.shutdown().await;
            return Err(TcpLoadError::Timeout(LOAD_TIMEOUT));
        }
    };
    let stats = running.shutdown().await;
    let sum = |f: fn(&Tally) -> usize| tallies.iter().map(f).sum();
    Ok(TcpOutcome {
        connections: n,
        registration,
        messaging,
        expected: n * load.messages,
        received: sum(|t| t.received),
        acks: sum(|t| t.acks),
        wrong: sum(|t| t.wrong),
        refused: sum(|t| t.refused),
        lost_relays: stats.lost_relays,
    })
}

/// One client of the load with its connection.
struct Peer {
    client: Client<ConcreteSuite>,
    conn: Connection,
    rng: Rng,
    due: usize,
    tally: Tally,
    previous: Phone,
}

impl Peer {
    async fn register(&mut self, otp: &MapOtp) -> Result<(), String> {
        let outputs = self.client.register();
        self.output(outputs, None).await?;
        while self.due > 0 {
            self.frame(None).await?;
        }
        let code = otp.0.lock().map_err(|e| e.to_string())?.remove(self.client.phone()).ok_or("no OTP")?;
        let outputs = self.client.otp_received(&code, &mut self.rng).map_err(|e| e.to_string())?;
        self.output(outputs, None).await?;
        while self.due > 0 {
            self.frame(None).await?;
        }
        let connect = self.client.connect().map_err(|e| format!("{}: {e}", self.client.phone()))?;
        self.output(connect, None).await?;
        while self.due > 0 {
            self.frame(None).await?;
        }
        Ok(())
    }

    /// Sends a step's messages; when the session with `send.0` comes up, sends it `send.1`
    /// messages.
    async fn output(
        &mut self,
        outputs: Vec<ClientOutput<ConcreteSuite>>,
        send: Option<(&Phone, usize)>,
    ) -> Result<(), String> {
        let wire = self.client.profile().wire();
        let mut start = false;
        for output in outputs {
            match output {
                ClientOutput::Send(message) => {
                    let bytes = codec::encode(wire, &message).map_err(|e| e.to_string())?;
                    self.conn.send(&bytes).await.map_err(|e| e.to_string())?;
                    self.due += 1;
                }
                ClientOutput::Event(ClientEvent::SessionEstablished {
                    peer, role: Role::Initiator, ..
                }) => {
                    start = send.is_some_and(|(to, _)| *to == peer);
                }
                ClientOutput::Event(ClientEvent::MessageAccepted { from, plaintext, .. }) => {
                    let expected = format!("{}:{}", self.previous, self.tally.received);
                    if from != self.previous || plaintext.as_slice() != expected.as_bytes() {
                        self.tally.wrong += 1;
                    }
                    self.tally.received += 1;
                }
                ClientOutput::Event(ClientEvent::AckAccepted { .. }) => self.tally.acks += 1,
                ClientOutput::Event(ClientEvent::ServerError(code)) => {
                    return Err(format!("{}: the server refused: {code:?}", self.client.phone()));
                }
                _ => {}
            }
        }
        if let (true, Some((to, count))) = (start, send) {
            for k in 0..count {
                let text = Bytes::secret(format!("{}:{k}", self.client.phone()).into_bytes());
                let outputs = self.client.send(to, &text, &mut self.rng).map_err(|e| e.to_string())?;
                Box::pin(self.output(outputs, None)).await?;
            }
        }
        Ok(())
    }

    async fn frame(&mut self, send: Option<(&Phone, usize)>) -> Result<(), String> {
        let phone = self.client.phone().clone();
        let wire = self.client.profile().wire();
        let (bytes, stored) = match self.conn.next().await.map_err(|e| format!("{phone}: {e}"))? {
            Frame::Handled => {
                self.due -= 1;
                return Ok(());
            }
            Frame::Message(bytes) => (bytes, false),
            Frame::Stored(bytes) => (bytes, true),
            other => return Err(format!("{phone}: unexpected {other:?}")),
        };
        let message = codec::decode(wire, &bytes).map_err(|e| e.to_string())?;
        match self.client.handle(message, &mut self.rng) {
            Ok(outputs) => self.output(outputs, send).await?,
            Err(_) => self.tally.refused += 1,
        }
        if stored {
            self.conn.confirm().await.map_err(|e| e.to_string())?;
            self.due += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ee2e_fixtures as fixtures;

    fn config(clients: usize) -> TcpLoad {
        TcpLoad {
            profile: Profile::HARDENED,
            params: Params { pbkdf2_iterations: 1, ..Params::default() },
            server_key: fixtures::server_key(),
            clients: (0..clients)
                .map(|i| (fixtures::client_phone(i), fixtures::client_key(i).expect("key")))
                .collect(),
            messages: 3,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_small_ring_delivers_everything_once() {
        let store = SqliteStore::in_memory(Profile::HARDENED.wire()).expect("store");
        let outcome = run(config(4), store).await.expect("load");
        assert_eq!((outcome.expected, outcome.received, outcome.acks), (12, 12, 12));
        assert!(outcome.ok(), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_single_connection_is_refused_with_the_bound() {
        let store = SqliteStore::in_memory(Profile::SEED.wire()).expect("store");
        match run(config(1), store).await {
            Err(TcpLoadError::Config(why)) => assert!(why.contains("from 2 to 1000"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
}
