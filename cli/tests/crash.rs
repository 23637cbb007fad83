//! Crash safety of the server store (SPEC.md §9.2, §2.3): the server runs in a child process
//! (`ee2e serve-queue`) over a SQLite file and is killed with SIGKILL at many points — after a
//! chosen number of acknowledged messages, after a random delay while commands are still
//! being written (in the middle of SQLite writes), and in the middle of a stored delivery.
//! After every restart the recipient reconnects and must have received, exactly once and in
//! order, every message the server acknowledged to its sender, and nothing else.
//!
//! The test plays the transport and both clients (the clients do not crash):
//!
//! - Alice sends numbered messages to offline Bob. A submission the child did not
//!   acknowledge before it died is *in doubt* (it may or may not have been committed). In the
//!   hardened profile Alice resends it after the restart, as a client retries an unconfirmed
//!   send; a copy that was committed twice is delivered twice and Bob's replay window (E5)
//!   discards the second. In the seed, which has no replay protection, nothing is resent.
//! - Bob connects: the server sends his stored messages without removing them
//!   (`Delivery::Confirmed`); Bob handles each, sends its ACK (to offline Alice: stored too),
//!   and then confirms receipt. A message delivered but not confirmed when the server dies is
//!   delivered again at the next connection, and the hardened client discards it.
//!
//! Every cycle ends with exactly one kill; the test prints how many kill points of each kind
//! it tried.

mod common;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use ee2e::codec;
use ee2e::runtime::Runtime;
use ee2e::sqlite::SqliteStore;
use ee2e::suite::seeded_rng;
use ee2e::{Bytes, ConcreteSuite, Rng};
use ee2e_fixtures as fixtures;
use ee2e_spec::{Client, ClientError, ClientEvent, ClientOutput, Message, Params, Phone, Profile, Rejection};

type C = Client<ConcreteSuite>;

/// A command written to the child and not yet answered.
#[derive(Debug, Clone)]
enum Command_ {
    /// A message from `from`; `data` is Alice's message number if it is one.
    Msg { from: Phone, bytes: Vec<u8>, data: Option<usize> },
    /// A delivery confirmation (never resent: a second one would remove an unseen message).
    Confirm { phone: Phone },
}

impl Command_ {
    fn line(&self) -> String {
        match self {
            Command_::Msg { from, bytes, .. } => format!("msg {from} {}\n", hex::encode(bytes)),
            Command_::Confirm { phone } => format!("confirm {phone} 1\n"),
        }
    }
}

/// One answer of the child: the messages it sent, and its verdict line.
struct Answer {
    sends: Vec<(Phone, Vec<u8>)>,
    verdict: String,
}

/// The server child process.
struct Server {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
}

impl Server {
    fn spawn(store: &Path, profile: Profile) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ee2e"))
            .args(["serve-queue", "--store"])
            .arg(store)
            .args(["--profile", &profile.name(), "--pbkdf2-iterations", "1"])
            .arg("--server-key")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keys/server.pem"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("ee2e serve-queue starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let lines = common::lines_of(stdout);
        let server = Server { child, stdin, lines };
        assert_eq!(server.lines.recv_timeout(Duration::from_secs(30)).as_deref(), Ok("ready"));
        server
    }

    /// The next answer, or `None` if the child's output ended first (it was killed).
    fn answer(&self, wait: Duration) -> Option<Answer> {
        let mut sends = Vec::new();
        loop {
            let line = match self.lines.recv_timeout(wait) {
                Ok(line) => line,
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => panic!("the server did not answer within {wait:?}"),
            };
            if let Some(rest) = line.strip_prefix("send ") {
                let (to, text) = rest.split_once(' ').expect("send <phone> <hex>");
                sends.push((Phone::parse(to).expect("phone"), hex::decode(text).expect("hex")));
            } else {
                return Some(Answer { sends, verdict: line });
            }
        }
    }

    /// Kills the child with SIGKILL and waits for it.
    fn kill(mut self) -> Receiver<String> {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
        drop(self.stdin);
        self.lines
    }
}

/// The test's side of the world: both clients, what was sent, acknowledged, received.
struct Harness {
    profile: Profile,
    alice: C,
    bob: C,
    rng: Rng,
    /// Commands written and not yet answered, oldest first.
    inflight: VecDeque<Command_>,
    /// Messages whose submission is in doubt, to resend after a restart (hardened only).
    retry: VecDeque<Command_>,
    /// Alice's messages created so far (numbered from 0).
    created: usize,
    /// Which of them the server acknowledged.
    acknowledged: Vec<bool>,
    /// Which were written to the server at least once.
    written: Vec<bool>,
    /// The message numbers Bob accepted, in order.
    received: Vec<usize>,
    /// Copies Bob's client discarded (replay window), and Alice's duplicate ACKs.
    discarded: usize,
    /// Submissions resent after a restart.
    resent: usize,
    /// Alice's message ids whose ACK she verified.
    acked_ids: Vec<u64>,
    /// Kills that left a command unanswered (they hit the server while it had work to do).
    interrupted: usize,
}

fn plaintext(n: usize) -> Bytes {
    Bytes::secret(format!("crash-test message {n:05}").into_bytes())
}

fn number(plaintext: &Bytes) -> usize {
    let text = std::str::from_utf8(plaintext.as_slice()).expect("text");
    text.strip_prefix("crash-test message ").expect("a test message").parse().expect("number")
}

fn sent(outputs: &[ClientOutput<ConcreteSuite>]) -> Vec<Message<ConcreteSuite>> {
    outputs
        .iter()
        .filter_map(|o| if let ClientOutput::Send(m) = o { Some(m.clone()) } else { None })
        .collect()
}

impl Harness {
    fn wire(&self) -> ee2e_spec::Wire {
        self.profile.wire()
    }

    fn write(&mut self, server: &mut Server, command: Command_) {
        if let Command_::Msg { data: Some(n), .. } = command {
            self.written[n] = true;
        }
        // A write to a dead child fails; the command then stays in flight (in doubt).
        let _ = server.stdin.write_all(command.line().as_bytes()).and_then(|()| server.stdin.flush());
        self.inflight.push_back(command);
    }

    /// Takes the answer to the oldest command in flight; `None` if the child died first.
    fn settle(&mut self, server: &Server) -> Option<Answer> {
        let answer = server.answer(Duration::from_secs(30))?;
        self.record(&answer);
        Some(answer)
    }

    fn record(&mut self, answer: &Answer) {
        let command = self.inflight.pop_front().expect("an answer to a command in flight");
        match command {
            Command_::Msg { data, .. } => {
                assert_eq!(answer.verdict, "accepted", "the server accepts every message of the test");
                if let Some(n) = data {
                    self.acknowledged[n] = true;
                }
            }
            Command_::Confirm { .. } => {
                assert!(answer.verdict.starts_with("confirmed "), "{}", answer.verdict);
            }
        }
    }

    /// Kills the child; answers it managed to print still count. Unanswered messages are in
    /// doubt (resent in the hardened profile); unanswered confirmations are forgotten.
    fn kill(&mut self, server: Server) {
        let lines = server.kill();
        let mut sends = Vec::new();
        for line in lines.iter() {
            if line.starts_with("send ") {
                sends.push(line);
            } else {
                self.record(&Answer { sends: Vec::new(), verdict: line });
                sends.clear();
            }
        }
        if !self.inflight.is_empty() {
            self.interrupted += 1;
        }
        for command in self.inflight.drain(..) {
            if matches!(command, Command_::Msg { .. }) && self.profile == Profile::HARDENED {
                self.retry.push_back(command);
            }
        }
    }

    fn msg(&mut self, from: &Phone, message: &Message<ConcreteSuite>, data: Option<usize>) -> Command_ {
        let bytes = codec::encode(self.wire(), message).expect("encodes");
        Command_::Msg { from: from.clone(), bytes, data }
    }

    /// Resends the submissions in doubt; `false` if the child died meanwhile.
    fn resend(&mut self, server: &mut Server) -> bool {
        while let Some(command) = self.retry.pop_front() {
            self.resent += 1;
            self.write(server, command);
            if self.settle(server).is_none() {
                return false;
            }
        }
        true
    }

    /// `who` connects and handles its stored messages, confirming each. With `kill_after = n`,
    /// stops right after writing the n-th command of the drain (the caller then kills the
    /// child, possibly in the middle of that command's write): returns `false`. Returns
    /// `false` too if the child died.
    fn drain(&mut self, server: &mut Server, who: &Phone, kill_after: Option<u64>) -> bool {
        let connect = Message::Connect { phone: who.clone() };
        let command = self.msg(who, &connect, None);
        self.write(server, command);
        let mut budget = kill_after;
        let Some(answer) = self.settle(server) else { return false };
        // The queue comes in batches: a confirmation's answer may carry the next one.
        let mut stored: VecDeque<(Phone, Vec<u8>)> = answer.sends.into();
        while let Some((to, bytes)) = stored.pop_front() {
            assert_eq!(&to, who);
            let message = codec::decode(self.wire(), &bytes).expect("stored messages decode");
            let client = if who == self.bob.phone() { &mut self.bob } else { &mut self.alice };
            let outputs = match client.handle(message, &mut self.rng) {
                Ok(outputs) => outputs,
                Err(
                    ClientError::Rejected(Rejection::ReplayedMessage(_))
                    | ClientError::Rejected(Rejection::MessageTooOld(_))
                    | ClientError::Rejected(Rejection::UnexpectedAck)
                    | ClientError::Rejected(Rejection::ReplayedKeyTransport),
                ) if self.profile == Profile::HARDENED => {
                    self.discarded += 1;
                    Vec::new()
                }
                Err(error) => panic!("{who} rejected a stored message: {error}"),
            };
            for output in &outputs {
                match output {
                    ClientOutput::Event(ClientEvent::MessageAccepted { plaintext, .. }) => {
                        self.received.push(number(plaintext))
                    }
                    ClientOutput::Event(ClientEvent::AckAccepted { id, .. }) => self.acked_ids.push(*id),
                    _ => {}
                }
            }
            let mut commands: Vec<Command_> = sent(&outputs).iter().map(|m| self.msg(who, m, None)).collect();
            commands.push(Command_::Confirm { phone: who.clone() });
            for command in commands {
                self.write(server, command);
                if let Some(left) = budget.as_mut() {
                    if *left == 0 {
                        return false;
                    }
                    *left -= 1;
                }
                let Some(answer) = self.settle(server) else { return false };
                stored.extend(answer.sends);
            }
        }
        true
    }

    /// `who` goes offline (the server forgets it is online; a restart does too).
    fn disconnect(&mut self, server: &mut Server, who: &Phone) -> bool {
        let command = self.msg(who, &Message::Disconnect { phone: who.clone() }, None);
        self.write(server, command);
        self.settle(server).is_some()
    }

    /// Alice seals `count` new messages for Bob and writes them all at once (pipelined).
    fn submit_batch(&mut self, server: &mut Server, count: usize) {
        let (alice, bob) = (self.alice.phone().clone(), self.bob.phone().clone());
        for _ in 0..count {
            let n = self.created;
            self.created += 1;
            self.acknowledged.push(false);
            self.written.push(false);
            let outputs = self.alice.send(&bob, &plaintext(n), &mut self.rng).expect("alice seals");
            let data = sent(&outputs).pop().expect("a Data message");
            let command = self.msg(&alice, &data, Some(n));
            self.write(server, command);
        }
    }

    /// What Bob received so far is right: each number at most once, in increasing order, only
    /// numbers that were written; with `complete`, every acknowledged number is there (and in
    /// the hardened profile, where in-doubt messages were resent, every number created).
    fn check(&self, complete: bool) {
        let mut last = None;
        for &n in &self.received {
            assert!(last < Some(n), "Bob received {n} after {last:?}: a duplicate or out of order");
            assert!(n < self.created && self.written[n], "Bob received {n}, which was never sent");
            last = Some(n);
        }
        if complete {
            for n in 0..self.created {
                if self.acknowledged[n] || self.profile == Profile::HARDENED {
                    assert!(self.received.contains(&n), "message {n} was acknowledged but never delivered");
                }
            }
        }
    }
}

/// Registers Alice and Bob and sets up a session from Alice to Bob, through the in-process
/// runtime over the store file; returns both clients (Bob offline for the server).
fn setup(store: &Path, profile: Profile) -> (C, C) {
    let params = Params { pbkdf2_iterations: 1, ..Params::default() };
    let sqlite = SqliteStore::open(store, profile.wire()).expect("store file");
    let mut rt = Runtime::builder(profile, fixtures::server_key())
        .params(params)
        .store(sqlite)
        .seed([5; 32])
        .build()
        .expect("runtime");
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    rt.register(&alice, fixtures::named("alice").expect("key")).expect("alice registers");
    rt.register(&bob, fixtures::named("bob").expect("key")).expect("bob registers");
    rt.start_session(&alice, &bob).expect("session");
    rt.disconnect(&bob).expect("bob offline");
    rt.disconnect(&alice).expect("alice offline");
    let clients = (rt.client(&alice).expect("alice").clone(), rt.client(&bob).expect("bob").clone());
    (clients.0, clients.1)
}

/// Kill points tried, by kind.
#[derive(Debug, Default)]
struct Kills {
    after_acks: usize,
    mid_write: usize,
    mid_delivery: usize,
}

impl Kills {
    fn total(&self) -> usize {
        self.after_acks + self.mid_write + self.mid_delivery
    }
}

/// Runs `cycles` kill cycles on `profile`, then a clean final drain; returns the kills.
fn crash_run(profile: Profile, cycles: usize, seed: u64) -> (Kills, Harness) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = dir.path().join("server.sqlite");
    let (alice, bob) = setup(&store, profile);
    let mut h = Harness {
        profile,
        alice,
        bob,
        rng: seeded_rng([seed as u8; 32]),
        inflight: VecDeque::new(),
        retry: VecDeque::new(),
        created: 0,
        acknowledged: Vec::new(),
        written: Vec::new(),
        received: Vec::new(),
        discarded: 0,
        resent: 0,
        acked_ids: Vec::new(),
        interrupted: 0,
    };
    let mut dice = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut kills = Kills::default();
    let bob_phone = h.bob.phone().clone();
    const BATCH: u64 = 6;
    for cycle in 0..cycles {
        let mut server = Server::spawn(&store, profile);
        // In the seed only the submission path is killed: a re-delivery would be accepted twice.
        let kind = if profile == Profile::HARDENED { cycle % 3 } else { cycle % 2 };
        let alive = h.resend(&mut server);
        assert!(alive, "the child died unasked");
        if kind == 2 {
            // Killed in the middle of Bob's stored delivery (after 0 to 7 commands).
            let after = dice.random_range(0..8);
            let finished = h.drain(&mut server, &bob_phone, Some(after));
            std::thread::sleep(Duration::from_micros(dice.random_range(0..1000)));
            h.kill(server);
            kills.mid_delivery += 1;
            h.check(false);
            if finished {
                // The drain ended before the kill point: the kill came while idle.
                h.check(true);
            }
            continue;
        }
        assert!(h.drain(&mut server, &bob_phone, None), "the child died unasked");
        h.check(true);
        assert!(h.disconnect(&mut server, &bob_phone), "the child died unasked");
        h.submit_batch(&mut server, BATCH as usize);
        if kind == 0 {
            // Killed right after the n-th acknowledgement of the batch (n = 0 to BATCH − 1).
            let n = dice.random_range(0..BATCH);
            for _ in 0..n {
                if h.settle(&server).is_none() {
                    break;
                }
            }
            kills.after_acks += 1;
        } else {
            // Killed after a random delay while the batch is being written to the store.
            std::thread::sleep(Duration::from_micros(dice.random_range(0..BATCH * 300)));
            kills.mid_write += 1;
        }
        h.kill(server);
        h.check(false);
    }
    // A clean restart: resend what is in doubt, Bob drains, Alice drains Bob's ACKs.
    let mut server = Server::spawn(&store, profile);
    assert!(h.resend(&mut server));
    assert!(h.drain(&mut server, &bob_phone, None));
    h.check(true);
    let alice_phone = h.alice.phone().clone();
    assert!(h.drain(&mut server, &alice_phone, None));
    let _ = server.stdin.write_all(
        b"quit
",
    );
    let _ = server.child.wait();
    (kills, h)
}

#[test]
fn hardened_server_killed_at_48_points_loses_and_duplicates_nothing() {
    let (kills, h) = crash_run(Profile::HARDENED, 48, 0x5eed);
    eprintln!(
        "crash test (hardened): {} kill points ({} after an acknowledgement, {} mid-write, {} mid-delivery; \
         {} of them with commands unanswered); {} messages, all received once and in order; {} submissions \
         resent after a restart, {} re-delivered copies discarded by the client",
        kills.total(),
        kills.after_acks,
        kills.mid_write,
        kills.mid_delivery,
        h.interrupted,
        h.created,
        h.resent,
        h.discarded,
    );
    assert!(kills.total() >= 20);
    assert!(kills.mid_delivery > 0 && kills.mid_write > 0 && kills.after_acks > 0);
    // Every message Alice sent was received exactly once, in order.
    assert_eq!(h.received, (0..h.created).collect::<Vec<_>>());
    // Every message's ACK was verified by Alice exactly once; nothing waits for one.
    let mut ids = h.acked_ids.clone();
    ids.sort_unstable();
    assert_eq!(ids, (0..h.created as u64).collect::<Vec<_>>());
    assert!(h.alice.outstanding().is_empty());
}

#[test]
fn seed_server_killed_while_storing_keeps_every_acknowledged_message_once() {
    let (kills, h) = crash_run(Profile::SEED, 24, 0x5eed_0002);
    let acknowledged = h.acknowledged.iter().filter(|a| **a).count();
    eprintln!(
        "crash test (seed): {} kill points ({} after an acknowledgement, {} mid-write); {} messages, \
         {acknowledged} acknowledged, {} received (the rest were in doubt when the server died); {} kills \
         with commands unanswered",
        kills.total(),
        kills.after_acks,
        kills.mid_write,
        h.created,
        h.received.len(),
        h.interrupted,
    );
    assert!(kills.total() >= 20);
    assert!(h.received.len() >= acknowledged);
}
