//! `ee2e load --tcp`: end-to-end throughput over TCP on loopback, with a no-loss check.
//!
//! The server's front end (`ee2e-net`, as `ee2e serve` runs it) listens on 127.0.0.1:0 in this
//! process; `--connections` clients (fixture keys, reused round-robin) each open a connection,
//! register, come online and wait until all are; then each starts a session with the next
//! client on the ring and sends it `--messages` messages, while handling what arrives from
//! the previous one (acknowledging each). The run is bounded in count (connections ×
//! messages) and in time (`LOAD_TIMEOUT`), and checks that every client received exactly
//! the messages sent to it, once each and in order, and every ACK of its own.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ee2e::otp::OtpDelivery;
use ee2e::sqlite::SqliteStore;
use ee2e::suite::os_rng;
use ee2e::{Bytes, ConcreteSuite, Rng, codec};
use ee2e_fixtures as fixtures;
use ee2e_net::client::Connection;
use ee2e_net::frame::Frame;
use ee2e_net::host::Host;
use ee2e_net::server::{self, Limits};
use ee2e_spec::{Client, ClientEvent, ClientOutput, Params, Phone, Role, Suite};

use crate::load::LoadArgs;

/// The whole run's bound.
const LOAD_TIMEOUT: Duration = Duration::from_secs(300);

/// Most connections a run opens.
const MAX_CONNECTIONS: usize = 1000;

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

/// Runs the load; exit status 1 if anything was lost, duplicated or late.
pub fn run(args: &LoadArgs) -> ExitCode {
    if !(2..=MAX_CONNECTIONS).contains(&args.connections) {
        eprintln!("ee2e load --tcp: --connections must be from 2 to {MAX_CONNECTIONS}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ee2e load --tcp: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(load(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("ee2e load --tcp: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn load(args: &LoadArgs) -> Result<bool, String> {
    let wire = args.profile.wire();
    let store = SqliteStore::open_or_in_memory(args.store.as_deref(), wire).map_err(|e| e.to_string())?;
    let params = Params { pbkdf2_iterations: args.pbkdf2_iterations, ..Params::default() };
    let host = Host::new(args.profile, params, fixtures::server_key(), store, os_rng());
    let otp = MapOtp::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let limits = Limits { max_connections: args.connections + 8, ..Limits::default() };
    let running = server::start(listener, host, Box::new(otp.clone()), limits);
    let addr = running.addr();
    println!(
        "load --tcp: server on {addr}, {} connections, {} messages each",
        args.connections, args.messages
    );
    let n = args.connections;
    let registered = Arc::new(tokio::sync::Barrier::new(n + 1));
    let go = Arc::new(tokio::sync::Barrier::new(n + 1));
    let mut tasks = tokio::task::JoinSet::new();
    let started = Instant::now();
    for i in 0..n {
        let (otp, registered, go) = (otp.clone(), registered.clone(), go.clone());
        let (profile, messages) = (args.profile, args.messages);
        tasks.spawn(async move {
            let phone = fixtures::client_phone(i);
            let next = fixtures::client_phone((i + 1) % n);
            let previous = fixtures::client_phone((i + n - 1) % n);
            let setup = async {
                let key = fixtures::client_key(i % fixtures::CLIENT_KEYS).ok_or("no fixture key")?;
                let server_key = ConcreteSuite::public_key(&fixtures::server_key());
                let client = Client::new(profile, params, phone.clone(), key, server_key);
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
            return Err(format!("not done within {LOAD_TIMEOUT:?}"));
        }
    };
    let stats = running.shutdown().await;
    let expected = n * args.messages;
    let received: usize = tallies.iter().map(|t| t.received).sum();
    let acks: usize = tallies.iter().map(|t| t.acks).sum();
    let wrong: usize = tallies.iter().map(|t| t.wrong).sum();
    let refused: usize = tallies.iter().map(|t| t.refused).sum();
    let rate = received as f64 / messaging.as_secs_f64().max(1e-9);
    println!(
        "load --tcp: {n} concurrent connections registered in {:.2} s; {received} of {expected} messages \
         delivered and {acks} ACKs verified in {:.2} s: {rate:.0} msgs/s",
        registration.as_secs_f64(),
        messaging.as_secs_f64()
    );
    let ok = received == expected && acks == expected && wrong == 0 && refused == 0 && stats.lost_relays == 0;
    println!(
        "load --tcp: lost {}, duplicated or out of order {wrong}, refused {refused}, relays lost {}: {}",
        expected - received.min(expected),
        stats.lost_relays,
        if ok { "ok" } else { "FAILED" }
    );
    Ok(ok)
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
