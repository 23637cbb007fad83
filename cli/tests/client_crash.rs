//! Crash safety of the client (SPEC.md §2.2 "Durable state"): Alice's client runs in a child
//! process (`ee2e serve-client`) over her keystore and is killed with SIGKILL at many points —
//! at the N-th stage of a keystore write (temporary file written, synced, renamed, a key file
//! removed), N drawn from a seeded schedule, or while idle at the end of a cycle. After every
//! restart from the keystore:
//!
//! - replays are refused: the test delivers again a key transport and messages Alice's
//!   keystore shows she accepted, and she must refuse each (`ReplayedKeyTransport`,
//!   `ReplayedMessage` / `MessageTooOld`);
//! - no sequence number is reused: every `Data` Alice puts on the wire is recorded by
//!   (session, sequence number), and two different messages under one number fail the test;
//! - nothing is lost or duplicated: Bob (in this process, never killed) accepts each of
//!   Alice's messages exactly once and in order; Alice's inbox holds each of Bob's exactly
//!   once; every message of either side is acknowledged exactly once.
//!
//! The test plays the transport and the server (the core's `Server` in memory, confirmed
//! delivery): Alice is offline for the server except while she drains her queue, so Bob's
//! messages and ACKs wait in the queue until she has handled (and committed) them.

mod common;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use ee2e::keystore::Keystore;
use ee2e::suite::seeded_rng;
use ee2e::{Bytes, ConcreteSuite, Rng, codec};
use ee2e_fixtures as fixtures;
use ee2e_spec::{
    Client, ClientEvent, ClientOutput, Delivery, MemoryStore, Message, Params, Phone, Profile, Role, Sealed,
    Server, ServerOutput,
};

const PROFILE: Profile = Profile::HARDENED;
type C = Client<ConcreteSuite>;
type S = Server<ConcreteSuite, MemoryStore<ConcreteSuite>>;

/// Alice's client process.
struct Child_ {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

/// The answer to one command: the messages the client sent and its verdict (`None`: it died).
struct Answer {
    sends: Vec<Vec<u8>>,
    verdict: Option<String>,
}

impl Child_ {
    /// Starts Alice's client; returns it with its next local id and the outbox it sent again.
    fn spawn(keystore: &Path, kill_at: Option<u64>) -> (Child_, Answer) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ee2e"));
        command.args(["serve-client", "--keystore"]).arg(keystore).args([
            "--phone",
            &fixtures::phone("alice").to_string(),
            "--profile",
            &PROFILE.name(),
        ]);
        if let Some(n) = kill_at {
            command.args(["--kill-at-write", &n.to_string()]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let lines = common::lines_of(stdout);
        let child = Child_ { child, stdin, lines };
        let ready = child.lines.recv_timeout(Duration::from_secs(30)).expect("ready line");
        assert!(ready.starts_with("ready "), "{ready}");
        let outbox = child.answer_until("resent");
        (child, Answer { sends: outbox.sends, verdict: Some(ready) })
    }

    fn answer_until(&self, end: &str) -> Answer {
        let mut sends = Vec::new();
        loop {
            match self.lines.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => match line.strip_prefix("send ") {
                    Some(h) => sends.push(hex::decode(h).expect("hex")),
                    None => {
                        assert!(end.is_empty() || line == end, "expected {end}, got {line}");
                        return Answer { sends, verdict: Some(line) };
                    }
                },
                Err(RecvTimeoutError::Disconnected) => return Answer { sends, verdict: None },
                Err(RecvTimeoutError::Timeout) => panic!("the client did not answer"),
            }
        }
    }

    /// Writes a command and reads its answer. Sends printed before a death still count.
    fn command(&mut self, line: &str) -> Answer {
        let _ = self.stdin.write_all(format!("{line}\n").as_bytes()).and_then(|()| self.stdin.flush());
        self.answer_until("")
    }

    fn kill(mut self) {
        let _ = self.child.kill();
        self.child.wait().expect("reaped");
    }

    /// Whether the process died by SIGKILL (from its own kill point or ours).
    fn dead(&mut self) -> bool {
        self.child.try_wait().expect("wait").is_some()
    }
}

fn alice_plaintext(n: u64) -> Vec<u8> {
    format!("alice {n:04}").into_bytes()
}

fn bob_plaintext(n: usize) -> Bytes {
    Bytes::secret(format!("bob {n:04}").into_bytes())
}

fn number(text: &[u8], prefix: &str) -> usize {
    std::str::from_utf8(text).expect("text").strip_prefix(prefix).expect("a test message").parse().expect("n")
}

/// Everything outside Alice's process.
struct World {
    server: S,
    bob: C,
    rng: Rng,
    keystore: Keystore,
    /// Messages the server sent Alice that are not stored (replies), to deliver now.
    replies: VecDeque<Message<ConcreteSuite>>,
    /// Alice's messages Bob accepted, by number, in order.
    bob_received: Vec<usize>,
    /// Ids of Bob's messages whose ACK Bob verified.
    bob_acked: Vec<u64>,
    /// Bob's messages created.
    bob_sent: usize,
    /// (session, seq) → the bytes of Alice's `Data` with that number.
    wire: BTreeMap<(Vec<u8>, u64), Vec<u8>>,
    /// Every delivery the server made to Alice, encoded, for replays.
    delivered: Vec<Message<ConcreteSuite>>,
    /// Replays Alice refused, by error.
    replays_refused: BTreeMap<String, usize>,
    /// (session, seq) → the number of Bob's message sealed under it.
    bob_sealed: BTreeMap<(Vec<u8>, u64), usize>,
}

impl World {
    fn alice(&self) -> Phone {
        fixtures::phone("alice")
    }

    /// Hands a message from `from` to the server and routes what it sends: to Bob (handled
    /// at once), to Alice (replies queued; stored messages stay in the queue until drained).
    fn submit(&mut self, from: &Phone, message: Message<ConcreteSuite>) {
        let mut work = VecDeque::from([(from.clone(), message)]);
        while let Some((from, message)) = work.pop_front() {
            if from == self.alice()
                && let Message::Data { sealed: Sealed::Hardened { session, seq, .. }, .. } = &message
            {
                let bytes = codec::encode(PROFILE.wire(), &message).expect("encodes");
                let previous =
                    self.wire.entry((session.as_slice().to_vec(), *seq)).or_insert_with(|| bytes.clone());
                assert_eq!(*previous, bytes, "Alice reused sequence number {seq} for another message");
            }
            for output in self.server.step(&from, message, 0, &mut self.rng) {
                let ServerOutput::Send { to, message, stored } = output else { continue };
                if to == *self.bob.phone() {
                    let outputs = match self.bob.handle(message, &mut self.rng) {
                        Ok(outputs) => outputs,
                        Err(
                            error @ (ee2e_spec::ClientError::Rejected(ee2e_spec::Rejection::ReplayedMessage(
                                _,
                            ))
                            | ee2e_spec::ClientError::Rejected(ee2e_spec::Rejection::MessageTooOld(_))
                            | ee2e_spec::ClientError::Rejected(ee2e_spec::Rejection::UnexpectedAck)
                            | ee2e_spec::ClientError::Rejected(
                                ee2e_spec::Rejection::ReplayedKeyTransport,
                            )),
                        ) => {
                            // A copy Alice sent again from her outbox after a restart.
                            let _ = error;
                            Vec::new()
                        }
                        Err(error) => panic!("Bob refused a message from Alice: {error}"),
                    };
                    for output in outputs {
                        match output {
                            ClientOutput::Send(m) => work.push_back((self.bob.phone().clone(), m)),
                            ClientOutput::Event(ClientEvent::MessageAccepted { plaintext, .. }) => {
                                self.bob_received.push(number(plaintext.as_slice(), "alice "))
                            }
                            ClientOutput::Event(ClientEvent::AckAccepted { id, .. }) => {
                                self.bob_acked.push(id)
                            }
                            _ => {}
                        }
                    }
                } else {
                    assert!(!stored, "stored deliveries are taken by drain()");
                    self.replies.push_back(message);
                }
            }
        }
    }

    fn alice_sends(&mut self, sends: Vec<Vec<u8>>) {
        let alice = self.alice();
        for bytes in sends {
            let message = codec::decode(PROFILE.wire(), &bytes).expect("Alice's messages decode");
            self.submit(&alice, message);
        }
    }

    /// Delivers `message` to Alice; `Some(verdict)` unless she died.
    fn deliver(&mut self, child: &mut Child_, message: &Message<ConcreteSuite>) -> Option<String> {
        let bytes = codec::encode(PROFILE.wire(), message).expect("encodes");
        let answer = child.command(&format!("deliver {}", hex::encode(&bytes)));
        self.alice_sends(answer.sends);
        answer.verdict
    }

    /// Alice handles the replies waiting for her; `false` if she died.
    fn replies(&mut self, child: &mut Child_) -> bool {
        while let Some(message) = self.replies.pop_front() {
            let verdict = self.deliver(child, &message);
            match verdict.as_deref() {
                None => return false,
                Some(v) => assert!(v == "ok" || v.starts_with("rejected UnexpectedPeerKey"), "{v}"),
            }
        }
        true
    }

    /// Alice connects and handles her stored messages, each confirmed once she answered;
    /// then disconnects. `false` if she died (the server then learns she is gone).
    fn drain(&mut self, child: &mut Child_) -> bool {
        let alice = self.alice();
        let outputs = self.server.step(&alice, Message::Connect { phone: alice.clone() }, 0, &mut self.rng);
        let stored: Vec<_> = outputs
            .into_iter()
            .filter_map(|o| match o {
                ServerOutput::Send { message, stored: true, .. } => Some(message),
                _ => None,
            })
            .collect();
        for message in stored {
            let verdict = self.deliver(child, &message);
            match verdict.as_deref() {
                None => {
                    self.gone();
                    return false;
                }
                Some("ok") => {}
                Some(v)
                    if v.starts_with("rejected ReplayedMessage")
                        || v.starts_with("rejected UnexpectedAck") =>
                {
                    // A copy re-queued because an earlier delivery was not confirmed, or an
                    // ACK Bob sent again: refused, and confirmed like any other.
                }
                Some(v) => panic!("Alice refused a stored message: {v}"),
            }
            self.delivered.push(message);
            self.server.confirm_delivery(&alice, 1).expect("confirm");
            if !self.replies(child) {
                self.gone();
                return false;
            }
        }
        self.gone();
        true
    }

    /// The transport noticed Alice's connection closed.
    fn gone(&mut self) {
        let alice = self.alice();
        self.server.step(&alice, Message::Disconnect { phone: alice.clone() }, 0, &mut self.rng);
        self.replies.clear();
    }

    /// After a restart: what Alice's keystore says she accepted is delivered again, and
    /// must be refused.
    fn replay(&mut self, child: &mut Child_) -> bool {
        let (saved, _) = self.keystore.load().expect("keystore loads");
        let Some(state) = saved.state else { return true };
        let accepted_sids: BTreeSet<_> = state.seen_transports.values().flatten().cloned().collect();
        let inbox: BTreeSet<usize> = self
            .keystore
            .inbox()
            .expect("inbox")
            .iter()
            .map(|m| number(m.plaintext.as_slice(), "bob "))
            .collect();
        let candidates: Vec<_> = self
            .delivered
            .iter()
            .filter(|m| match m {
                Message::KeyDelivery { transport, .. } => accepted_sids
                    .contains(&ee2e_spec::hazmat::session_id::<ConcreteSuite>(&transport.ciphertext)),
                Message::DataDelivery { .. } => true,
                _ => false,
            })
            .cloned()
            .collect();
        for message in candidates {
            if let Message::DataDelivery { .. } = &message {
                // Only messages whose acceptance is on disk: the inbox names them.
                let opened = self.bob_plaintext_of(&message);
                if !opened.is_some_and(|n| inbox.contains(&n)) {
                    continue;
                }
            }
            let Some(verdict) = self.deliver(child, &message) else { return false };
            let kind = verdict.split(['(', ' ']).nth(1).unwrap_or_default().to_owned();
            assert!(
                // UnknownSession: the message's session was forgotten (the fifth replaced it).
                ["ReplayedKeyTransport", "ReplayedMessage", "MessageTooOld", "UnknownSession"]
                    .contains(&kind.as_str()),
                "a replay was not refused: {verdict}"
            );
            *self.replays_refused.entry(kind).or_default() += 1;
        }
        true
    }

    /// Which of Bob's messages a `DataDelivery` carries (Bob's own record of what he sealed).
    fn bob_plaintext_of(&self, message: &Message<ConcreteSuite>) -> Option<usize> {
        let Message::DataDelivery { sealed: Sealed::Hardened { session, seq, .. }, .. } = message else {
            return None;
        };
        self.bob_sealed.get(&(session.as_slice().to_vec(), *seq)).copied()
    }

    /// Bob seals his next message for Alice (stored: she is offline).
    fn bob_sends(&mut self) {
        let n = self.bob_sent;
        self.bob_sent += 1;
        let alice = self.alice();
        let outputs = self.bob.send(&alice, &bob_plaintext(n), &mut self.rng).expect("Bob seals");
        for output in outputs {
            if let ClientOutput::Send(message) = output {
                if let Message::Data { sealed: Sealed::Hardened { session, seq, .. }, .. } = &message {
                    self.bob_sealed.insert((session.as_slice().to_vec(), *seq), n);
                }
                let bob = self.bob.phone().clone();
                self.submit(&bob, message);
            }
        }
    }

    /// Bob starts a session with Alice: his key transport waits in her queue.
    fn bob_starts_session(&mut self) {
        let (alice, bob) = (self.alice(), self.bob.phone().clone());
        let outputs = self.bob.start_session(&alice).expect("request");
        for output in outputs {
            if let ClientOutput::Send(m) = output {
                self.submit(&bob, m);
            }
        }
    }
}

/// Registers Alice (into her keystore) and Bob (in memory, online) with the in-memory server.
fn setup(dir: &Path) -> World {
    let params = Params { pbkdf2_iterations: 1, ..Params::default() };
    let server = Server::new(PROFILE, params, fixtures::server_key(), MemoryStore::default())
        .with_delivery(Delivery::Confirmed);
    let keystore = Keystore::create(dir.join("alice")).expect("keystore");
    let alice_key = fixtures::named("alice").expect("key");
    keystore.save_private_key(&alice_key).expect("private key");
    let mut world = World {
        bob: Client::new(
            PROFILE,
            params,
            fixtures::phone("bob"),
            fixtures::named("bob").unwrap(),
            server.public_key(),
        ),
        server,
        rng: seeded_rng([7; 32]),
        keystore,
        replies: VecDeque::new(),
        bob_received: Vec::new(),
        bob_acked: Vec::new(),
        bob_sent: 0,
        wire: BTreeMap::new(),
        delivered: Vec::new(),
        replays_refused: BTreeMap::new(),
        bob_sealed: BTreeMap::new(),
    };
    let mut alice =
        Client::new(PROFILE, params, fixtures::phone("alice"), alice_key, world.server.public_key());
    for who in ["alice", "bob"] {
        let client = if who == "alice" { &mut alice } else { &mut world.bob };
        let phone = client.phone().clone();
        let request = client.register().remove(0);
        let ClientOutput::Send(request) = request else { panic!("a request") };
        let otp = world.server.step(&phone, request, 0, &mut world.rng).into_iter().find_map(|o| match o {
            ServerOutput::Sms { otp, .. } => Some(otp),
            _ => None,
        });
        let submit = client.otp_received(&otp.expect("an OTP"), &mut world.rng).expect("proof").remove(0);
        let ClientOutput::Send(submit) = submit else { panic!("a submission") };
        let result = world.server.step(&phone, submit, 0, &mut world.rng).into_iter().find_map(|o| match o {
            ServerOutput::Send { message, .. } => Some(message),
            _ => None,
        });
        let outputs = client.handle(result.expect("a result"), &mut world.rng).expect("registered");
        if who == "alice" {
            let outbox: Vec<Vec<u8>> = outputs
                .iter()
                .filter_map(|o| match o {
                    ClientOutput::Send(m) => Some(ee2e::codec::encode(PROFILE.wire(), m).expect("encodes")),
                    _ => None,
                })
                .collect();
            world.keystore.commit(&outputs, &outbox, true).expect("own entry");
        }
    }
    let bob = world.bob.phone().clone();
    world.server.step(&bob, Message::Connect { phone: bob.clone() }, 0, &mut world.rng);
    world
}

#[test]
fn hardened_client_killed_at_many_points_refuses_replays_reuses_no_number_loses_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut w = setup(dir.path());
    let ks_dir = dir.path().join("alice");
    let mut dice = Xoshiro256PlusPlus::seed_from_u64(0x000c_1a54);
    // Alice's messages the application asked for (numbered by local id).
    let mut alice_wanted: u64 = 0;
    let mut kills_mid_write = BTreeSet::new();
    let mut idle_kills = 0;
    const CYCLES: usize = 40;
    for cycle in 0..=CYCLES {
        let last = cycle == CYCLES;
        // Write stages per cycle: ~6 per message handled, ~9 per key transport.
        let kill_at = (!last).then(|| 1 + dice.random_range(0..48));
        let (mut child, outbox) = Child_::spawn(&ks_dir, kill_at);
        let next_id: u64 = outbox.verdict.as_deref().unwrap()["ready ".len()..].parse().expect("next id");
        w.alice_sends(outbox.sends);
        let alive = (|| {
            if !w.replay(&mut child) {
                return false;
            }
            // Sends the application asked for and whose step never reached the disk.
            for n in next_id..alice_wanted {
                let answer = child.command(&format!(
                    "send {} {}",
                    fixtures::phone("bob"),
                    hex::encode(alice_plaintext(n))
                ));
                w.alice_sends(answer.sends);
                match answer.verdict.as_deref() {
                    None => return false,
                    Some(v) => assert_eq!(v, "ok"),
                }
            }
            if cycle == 0 || cycle == 20 || cycle == 35 {
                w.bob_starts_session();
            }
            if cycle == 10 || cycle == 30 {
                // Alice starts a session herself (she is the initiator).
                let answer = child.command(&format!("start {}", fixtures::phone("bob")));
                w.alice_sends(answer.sends);
                if answer.verdict.is_none() || !w.replies(&mut child) {
                    return false;
                }
            }
            if !last {
                for _ in 0..2 {
                    w.bob_sends();
                }
            }
            if !w.drain(&mut child) {
                return false;
            }
            if !last && w.keystore.load().unwrap().0.state.is_some_and(|s| !s.sessions.is_empty()) {
                for _ in 0..2 {
                    let n = alice_wanted;
                    alice_wanted += 1;
                    let answer = child.command(&format!(
                        "send {} {}",
                        fixtures::phone("bob"),
                        hex::encode(alice_plaintext(n))
                    ));
                    w.alice_sends(answer.sends);
                    match answer.verdict.as_deref() {
                        None => return false,
                        Some(v) => assert_eq!(v, "ok"),
                    }
                }
                // Bob's ACKs of them wait in Alice's queue: drain them too.
                if !w.drain(&mut child) {
                    return false;
                }
            }
            true
        })();
        if last {
            assert!(alive, "the final run has no kill point");
            let _ = child.stdin.write_all(b"quit\n");
            let _ = child.child.wait();
            break;
        }
        if alive {
            assert!(!child.dead(), "the client died unasked");
            idle_kills += 1;
        } else {
            w.gone();
            kills_mid_write.insert((cycle, kill_at.unwrap()));
        }
        child.kill();
    }
    eprintln!(
        "client crash test: {} kills at a keystore write stage, {idle_kills} while idle; {} messages from \
         Alice, {} from Bob; replays refused: {:?}",
        kills_mid_write.len(),
        alice_wanted,
        w.bob_sent,
        w.replays_refused
    );
    assert!(kills_mid_write.len() >= 20, "only {} kills hit a write", kills_mid_write.len());
    // Bob accepted each of Alice's messages exactly once, in order.
    assert_eq!(w.bob_received, (0..alice_wanted as usize).collect::<Vec<_>>());
    // Alice's inbox holds each of Bob's messages exactly once (files are named by session and
    // number, so a duplicate would be a second file with the same plaintext).
    let mut inbox: Vec<usize> =
        w.keystore.inbox().unwrap().iter().map(|m| number(m.plaintext.as_slice(), "bob ")).collect();
    inbox.sort_unstable();
    assert_eq!(inbox, (0..w.bob_sent).collect::<Vec<_>>());
    // Every message of either side was acknowledged exactly once.
    let mut acked = w.bob_acked.clone();
    acked.sort_unstable();
    assert_eq!(acked, (0..w.bob_sent as u64).collect::<Vec<_>>());
    assert!(w.bob.outstanding().is_empty());
    let state = w.keystore.load().unwrap().0.state.unwrap();
    assert!(state.outstanding.is_empty(), "Alice still waits for {} ACKs", state.outstanding.len());
    assert_eq!(state.next_id, alice_wanted);
    // Both kinds of replay were tried and refused.
    assert!(w.replays_refused.get("ReplayedKeyTransport").copied().unwrap_or(0) > 0);
    assert!(w.replays_refused.get("ReplayedMessage").copied().unwrap_or(0) > 0);
    // Alice initiated sessions too; of the five, four are kept and the oldest key deleted.
    assert!(state.sessions.iter().any(|s| s.role == Role::Initiator));
    assert_eq!(state.sessions.len(), 4);
    assert_eq!(state.seen_transports.values().map(BTreeSet::len).sum::<usize>(), 5);
    assert_eq!(w.keystore.sessions().unwrap().len(), state.sessions.len());
}
