//! `ee2e demo`: a scripted session on the in-process runtime, printed as a transcript with
//! one line per protocol step and its result.
//!
//! Alice and Bob register (the OTP "SMS" is shown), Alice fetches Bob's key and sends him a
//! session key, they exchange messages both ways, Bob goes offline, Alice sends three
//! messages, Bob reconnects and receives all three in order, and every ACK is verified.
//! Fixture keys only (no key generation); keystores in a temporary directory unless
//! `--keystore` names one. Exits 0 only if every step succeeded.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use clap::Args;
use ee2e::keystore::Keystore;
use ee2e::otp::{OtpDelivery, otp_text};
use ee2e::runtime::{Address, Entry, Record, Runtime, RuntimeError};
use ee2e::sqlite::SqliteStore;
use ee2e::{Bytes, ConcreteSuite};
use ee2e_fixtures as fixtures;
use ee2e_spec::{
    Client, ClientError, ClientEvent, ClientOutput, MessageType, Phone, Profile, Role, ServerEvent, Store,
};

/// Arguments of `ee2e demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Protocol profile: `seed`, `hardened` or `hardened-without-<fix>`.
    #[arg(long, default_value = "hardened")]
    pub profile: Profile,
    /// Keep the server's tables in this SQLite file (default: in memory).
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Put the client keystores under this directory (default: a temporary directory,
    /// removed at exit).
    #[arg(long, value_name = "DIR")]
    pub keystore: Option<PathBuf>,
}

/// Runs the demo; exit status 0 if every step succeeded, 1 otherwise.
pub fn run(args: &DemoArgs) -> ExitCode {
    match execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            // The transcript is stdout; why the run stopped (setup or a step) is an error.
            eprintln!("[FAIL] demo failed at step {}: {}", failure.step, failure.reason);
            ExitCode::FAILURE
        }
    }
}

/// Runs the demo script, printing its transcript; the first failing step is the error.
fn execute(args: &DemoArgs) -> Result<(), Failure> {
    Demo::new(args).and_then(|mut demo| demo.script())
}

/// The step that failed and why.
#[derive(Debug)]
struct Failure {
    step: String,
    reason: String,
}

fn fail(step: &str, reason: impl ToString) -> Failure {
    Failure { step: step.to_owned(), reason: reason.to_string() }
}

/// Where the demo's server clock starts: 0 on an empty store; on a store an earlier run left,
/// one OTP request window (§5.1) after the latest time it recorded, as if this run came that
/// much later. A clock restarting at 0 would see the earlier runs' requests as recent forever
/// and refuse the fourth run's registration (`RateLimited`).
fn clock_start(store: &SqliteStore, params: &ee2e_spec::Params) -> Result<u64, ee2e_spec::StoreError> {
    let mut latest = None;
    for name in ["alice", "bob"] {
        let phone = fixtures::phone(name);
        let requests = Store::<ConcreteSuite>::otp_requests(store, &phone)?;
        let pending = Store::<ConcreteSuite>::pending_otp(store, &phone)?.map(|p| p.issued_at);
        latest = requests.into_iter().chain(pending).chain(latest).max();
    }
    Ok(latest.map_or(0, |at| at.saturating_add(params.otp_request_window_ms)))
}

/// Shows each OTP in the transcript, as the SMS the user reads. Codes are queued here and
/// printed in order with the server's `SmsSent` record.
#[derive(Clone, Default)]
struct TranscriptSms(Arc<Mutex<VecDeque<(Phone, String)>>>);

impl OtpDelivery for TranscriptSms {
    fn deliver(&self, phone: &Phone, otp: &Bytes) {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push_back((phone.clone(), otp_text(otp)));
    }
}

impl TranscriptSms {
    fn take(&self, phone: &Phone) -> Option<String> {
        let mut queue = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let position = queue.iter().position(|(p, _)| p == phone)?;
        queue.remove(position).map(|(_, code)| code)
    }
}

struct Demo {
    rt: Runtime,
    out: Printer,
    _tempdir: Option<tempfile::TempDir>,
}

/// Turns records into transcript lines.
struct Printer {
    profile: Profile,
    names: BTreeMap<Phone, &'static str>,
    sms: TranscriptSms,
    /// Messages accepted so far per (sender, recipient), to number them.
    accepted: BTreeMap<(Phone, Phone), u64>,
    lines: usize,
}

type Op =
    fn(&mut Client<ConcreteSuite>, &mut ee2e::Rng) -> Result<Vec<ClientOutput<ConcreteSuite>>, ClientError>;

impl Demo {
    fn new(args: &DemoArgs) -> Result<Self, Failure> {
        let profile = args.profile;
        let params = ee2e_spec::Params::default();
        let sms = TranscriptSms::default();
        let (store, store_text) = match &args.store {
            Some(path) => (
                SqliteStore::open(path, profile.wire()).map_err(|e| fail("setup", e))?,
                format!("SQLite file {}", path.display()),
            ),
            None => (
                SqliteStore::in_memory(profile.wire()).map_err(|e| fail("setup", e))?,
                "SQLite in memory".into(),
            ),
        };
        let start_ms = clock_start(&store, &params).map_err(|e| fail("setup", e))?;
        let rt = Runtime::builder(profile, fixtures::server_key())
            .params(params)
            .start_ms(start_ms)
            .store(store)
            .otp_delivery(sms.clone())
            .build()
            .map_err(|e| fail("setup", e))?;
        let (tempdir, root, removed) = match &args.keystore {
            Some(dir) => (None, dir.clone(), ""),
            None => {
                let tmp =
                    tempfile::Builder::new().prefix("ee2e-demo-").tempdir().map_err(|e| fail("setup", e))?;
                let root = tmp.path().to_path_buf();
                (Some(tmp), root, " (removed at exit)")
            }
        };
        let out = Printer { profile, names: BTreeMap::new(), sms, accepted: BTreeMap::new(), lines: 0 };
        let mut demo = Demo { rt, out, _tempdir: tempdir };
        println!(
            "EE2E demo: profile {profile} (wire v{}), PBKDF2-HMAC-SHA-256 with {} iterations, OTP valid {} s",
            profile.wire() as u8,
            params.pbkdf2_iterations,
            params.otp_ttl_ms / 1000,
        );
        println!("server store: {store_text}");
        println!(
            "server key:   committed test fixture fixtures/keys/server.pem (RSA-2048), public, not secret"
        );
        if start_ms > 0 {
            println!("server clock: {start_ms} ms, one OTP request window after the store's latest record");
        }
        println!("keystores:    {}{removed}", root.display());
        for name in ["alice", "bob"] {
            let phone = fixtures::phone(name);
            let key = fixtures::named(name).ok_or_else(|| fail("setup", format!("no fixture key {name}")))?;
            let keystore = Keystore::create(root.join(name)).map_err(|e| fail("setup", e))?;
            demo.rt.add_client(phone.clone(), key, Some(keystore)).map_err(|e| fail("setup", e))?;
            println!("{name:<6} = {phone}, fixture RSA-2048 key, keystore {}", root.join(name).display());
            demo.out.names.insert(phone, name);
        }
        println!();
        Ok(demo)
    }

    /// Prints the records since `mark`; fails at the first failure record.
    fn print_since(&mut self, mark: usize, step: &str) -> Result<(), Failure> {
        let mut first_failure = None;
        for record in self.rt.since(mark) {
            let Some((status, number, actor, text)) = self.out.describe(record) else { continue };
            if status == "FAIL" && first_failure.is_none() {
                first_failure = Some(format!("{actor}: {text}"));
            }
            self.out.line(&status, &number, &actor, &text);
        }
        first_failure.map_or(Ok(()), |reason| Err(fail(step, reason)))
    }

    /// One client operation: run it, print `what` and what it produced, then deliver
    /// everything and print what happened.
    fn act(
        &mut self,
        step: &str,
        phone: &Phone,
        what: Option<&str>,
        op: impl FnOnce(
            &mut Client<ConcreteSuite>,
            &mut ee2e::Rng,
        ) -> Result<Vec<ClientOutput<ConcreteSuite>>, ClientError>,
    ) -> Result<(), Failure> {
        let mark = self.rt.transcript().len();
        self.rt.act(phone, op).map_err(|e| fail(step, e))?;
        if let Some(what) = what {
            let (number, actor) =
                (step.split_whitespace().next().unwrap_or(step).to_owned(), self.name(phone));
            self.out.line(" ok ", &number, &actor, what);
        }
        self.print_since(mark, step)?;
        self.pump(step)
    }

    /// Delivers everything in flight and prints what happened.
    fn pump(&mut self, step: &str) -> Result<(), Failure> {
        let mark = self.rt.transcript().len();
        self.rt.run_until_idle().map_err(|e| fail(step, e))?;
        self.print_since(mark, step)
    }

    /// A runtime operation that is not a single client operation (connect, disconnect).
    fn runtime(
        &mut self,
        step: &str,
        op: impl FnOnce(&mut Runtime) -> Result<(), RuntimeError>,
    ) -> Result<(), Failure> {
        let mark = self.rt.transcript().len();
        let result = op(&mut self.rt);
        self.print_since(mark, step)?;
        result.map_err(|e| fail(step, e))
    }

    fn check(&mut self, step: &str, ok: bool, what: &str) -> Result<(), Failure> {
        if ok {
            self.out.line(" ok ", "", "check", what);
            Ok(())
        } else {
            Err(fail(step, format!("check failed: {what}")))
        }
    }

    fn script(&mut self) -> Result<(), Failure> {
        let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
        for phone in [&alice, &bob] {
            self.register(phone)?;
        }

        // Step 2: key exchange.
        let request = format!("asked the server for {}'s key (talk to {})", self.name(&bob), self.name(&bob));
        self.act("2.1 key request", &alice, Some(&request), |c, _| {
            Ok(c.start_session(&fixtures::phone("bob"))?)
        })?;
        let key = |rt: &Runtime, a: &Phone, b: &Phone| {
            rt.client(a)
                .and_then(|c| c.session_with(b))
                .map(|session| ee2e_spec::hazmat::session_key(session).clone())
        };
        let same = key(&self.rt, &alice, &bob).is_some()
            && key(&self.rt, &alice, &bob) == key(&self.rt, &bob, &alice);
        self.check("2.9 session", same, "alice and bob hold the same session key")?;

        // Step 3-4: messages both ways, each acknowledged.
        self.exchange("3 alice to bob", &alice, &bob, "Hi Bob, it's Alice. Lunch at noon?")?;
        self.exchange("3 bob to alice", &bob, &alice, "Hi Alice! Noon works.")?;

        // Bob goes offline; Alice sends three messages, which the server stores.
        self.runtime("bob offline", |rt| rt.disconnect(&bob))?;
        let offline = ["Are you there?", "I booked a table for two.", "See you at noon!"];
        let before = self.rt.accepted(&bob).len();
        let mut ids = Vec::new();
        for text in offline {
            let mark = self.rt.transcript().len();
            let plaintext = Bytes::secret(text.as_bytes().to_vec());
            let peer = bob.clone();
            self.act("3.1 offline send", &alice, None, move |c, rng| Ok(c.send(&peer, &plaintext, rng)?))?;
            ids.push(self.sent_id(mark).ok_or_else(|| fail("3.1 offline send", "no message id"))?);
        }
        let queued = self.rt.store().queue_len(&bob).map_err(|e| fail("3.2 store", e))?;
        self.check("3.2 store", queued == 3, &format!("the server holds {queued} messages for offline bob"))?;

        // Bob reconnects: the server delivers in order, Bob accepts and acknowledges each.
        self.runtime("bob reconnects", |rt| rt.connect(&bob))?;
        let got: Vec<Vec<u8>> =
            self.rt.accepted(&bob)[before..].iter().map(|m| m.plaintext.as_slice().to_vec()).collect();
        let want: Vec<Vec<u8>> = offline.iter().map(|t| t.as_bytes().to_vec()).collect();
        self.check(
            "3.3 offline delivery",
            got == want,
            "bob received all 3 offline messages exactly once, in order",
        )?;
        let acked = self.rt.acked(&alice);
        self.check(
            "4.4 ACKs",
            ids.iter().all(|id| acked.contains(id)),
            "alice verified the ACK of each of them",
        )?;
        let outstanding =
            [&alice, &bob].iter().all(|p| self.rt.client(p).is_some_and(|c| c.outstanding().is_empty()));
        self.check("4.4 ACKs", outstanding, "no message is waiting for an ACK")?;
        let failures = self.rt.transcript().iter().filter(|r| r.is_failure()).count();
        self.check("transcript", failures == 0, "no check failed anywhere in the run")?;

        println!();
        println!(
            "all {} steps succeeded ({} profile): {} envelopes on the network, {} messages, {} ACKs verified",
            self.out.lines,
            self.out.profile,
            self.rt.log().len(),
            self.rt.accepted(&alice).len() + self.rt.accepted(&bob).len(),
            self.rt.acked(&alice).len() + self.rt.acked(&bob).len(),
        );
        Ok(())
    }

    /// Step 1: request, OTP by SMS, proof and key, signed entry; then connect.
    fn register(&mut self, phone: &Phone) -> Result<(), Failure> {
        let name = self.name(phone);
        self.act("1.1 registration request", phone, Some(&format!("asked to register {phone}")), |c, _| {
            Ok(c.register())
        })?;
        let otp = self.rt.take_otp(phone).ok_or_else(|| fail("1.2 OTP", format!("no SMS reached {name}")))?;
        let iterations = self.rt.params().pbkdf2_iterations;
        let proof = if self.out.profile.wire() == ee2e_spec::Wire::Seed {
            "sent its public key and the tag".to_owned()
        } else {
            "sent its public key, the tag sealed to the server key and a proof of possession".to_owned()
        };
        let derive =
            format!("derived Salt = HMAC(OTP, phone), K_temp = PBKDF2({iterations}), tag = HMAC(K_temp, pk)");
        let mark = self.rt.transcript().len();
        self.rt.act(phone, |c, rng| c.otp_received(&otp, rng)).map_err(|e| fail("1.6 registration", e))?;
        self.out.line(" ok ", "1.4", &name, derive);
        self.out.line(" ok ", "1.6", &name, proof);
        self.print_since(mark, "1.6 registration")?;
        self.pump("1.6 registration")?;
        let registered = self.rt.client(phone).is_some_and(Client::is_registered);
        self.check("1.6 registration", registered, &format!("{name} is registered"))?;
        let connect: Op = |c, _| Ok(c.connect()?);
        self.act("- connect", phone, Some("connected to the server"), connect)
    }

    /// One message from `from` to `to`, accepted and acknowledged.
    fn exchange(&mut self, step: &str, from: &Phone, to: &Phone, text: &str) -> Result<(), Failure> {
        let before = self.rt.accepted(to).len();
        let mark = self.rt.transcript().len();
        let plaintext = Bytes::secret(text.as_bytes().to_vec());
        let peer = to.clone();
        self.act(step, from, None, move |c, rng| Ok(c.send(&peer, &plaintext, rng)?))?;
        let id = self.sent_id(mark).ok_or_else(|| fail(step, "no message id"))?;
        let accepted = self.rt.accepted(to);
        let delivered = accepted.len() == before + 1
            && accepted.last().is_some_and(|m| m.plaintext.as_slice() == text.as_bytes() && m.from == *from);
        let (a, b) = (self.name(from), self.name(to));
        self.check(step, delivered, &format!("{b} received exactly the message {a} sent"))?;
        let acked = self.rt.acked(from).contains(&id);
        self.check(step, acked, &format!("{a} holds a verified ACK for message #{id}"))
    }

    /// The id of the message sent since `mark`.
    fn sent_id(&self, mark: usize) -> Option<u64> {
        self.rt.since(mark).iter().find_map(|r| match &r.entry {
            Entry::Client(ClientEvent::MessageSent { id, .. }) => Some(*id),
            _ => None,
        })
    }

    fn name(&self, phone: &Phone) -> String {
        self.out.name(phone)
    }
}

impl Printer {
    fn name(&self, phone: &Phone) -> String {
        self.names.get(phone).map_or_else(|| phone.to_string(), |n| (*n).to_owned())
    }

    fn line(&mut self, status: &str, step: &str, actor: &str, text: impl std::fmt::Display) {
        self.lines += 1;
        println!("[{status}] {step:<4} {actor:<6} {text}");
    }

    /// The transcript line of a record: (status, step, actor, text); `None` to skip it.
    fn describe(&mut self, record: &Record) -> Option<(String, String, String, String)> {
        let ok =
            |step: &str, actor: String, text: String| Some((" ok ".to_owned(), step.to_owned(), actor, text));
        let node = match &record.node {
            Address::Server => "server".to_owned(),
            Address::Client(phone) => self.name(phone),
        };
        if record.is_failure() {
            return Some(("FAIL".into(), "".into(), node, record.describe()));
        }
        let hardened = self.profile.wire() == ee2e_spec::Wire::Hardened;
        match &record.entry {
            Entry::Server(event) => match event {
                ServerEvent::OtpIssued(p) => {
                    ok("1.2", node, format!("issued a one-time code for {}, sent by SMS", self.name(p)))
                }
                ServerEvent::Registered(p) => {
                    let checks = if hardened {
                        "checked the proof of possession, unsealed the tag, recomputed it from the OTP: match"
                    } else {
                        "recomputed the tag from the OTP: match"
                    };
                    ok("1.6", node, format!("{checks}; stored {}'s key and signed its entry", self.name(p)))
                }
                ServerEvent::Online { phone, delivered } => ok(
                    "-",
                    node,
                    format!(
                        "{} is online; {delivered} stored message(s) delivered in order",
                        self.name(phone)
                    ),
                ),
                ServerEvent::Offline(p) => {
                    ok("-", node, format!("{} is offline; messages for it will be stored", self.name(p)))
                }
                ServerEvent::Relayed { from, to, kind } | ServerEvent::Stored { from, to, kind } => {
                    let stored = matches!(event, ServerEvent::Stored { .. });
                    let (step, what) = match kind {
                        MessageType::KeyDelivery => ("2.7", format!("{}'s key transport", self.name(from))),
                        MessageType::DataDelivery => ("3.2", format!("{}'s message", self.name(from))),
                        MessageType::AckDelivery => ("4.3", format!("{}'s ACK", self.name(from))),
                        other => ("-", format!("{other:?} from {}", self.name(from))),
                    };
                    let text = if stored {
                        format!("stored {what} for {} (offline)", self.name(to))
                    } else {
                        format!("relayed {what} to {}", self.name(to))
                    };
                    ok(step, node, text)
                }
                ServerEvent::KeyServed { from, peer } => ok(
                    "2.3",
                    node,
                    format!(
                        "sent {} {}'s stored entry with the server's signature",
                        self.name(from),
                        self.name(peer)
                    ),
                ),
                ServerEvent::NextBatch { phone, delivered } => ok(
                    "-",
                    node,
                    format!("{delivered} more stored message(s) delivered to {}", self.name(phone)),
                ),
                ServerEvent::Rejected { .. } | ServerEvent::BatchFailed { .. } => None,
            },
            Entry::SmsSent(p) => {
                let code = self.sms.take(p).unwrap_or_else(|| "(not shown)".into());
                Some((
                    "sms ".into(),
                    "1.2".into(),
                    self.name(p),
                    format!("SMS to {p}: your EE2E code is {code}"),
                ))
            }

            Entry::Client(event) => match event {
                ClientEvent::Registered => {
                    ok("1.6", node, "verified the server's signature on its entry".into())
                }
                ClientEvent::SessionEstablished { peer, role: Role::Initiator, .. } => ok(
                    "2.5",
                    node,
                    format!(
                        "verified {}'s key (server signature); sent a fresh K encrypted to {0} and signed",
                        self.name(peer)
                    ),
                ),
                ClientEvent::SessionEstablished { peer, role: Role::Responder, .. } => ok(
                    "2.9",
                    node,
                    format!(
                        "verified {}'s entry and transport signature, decrypted K: session established",
                        self.name(peer)
                    ),
                ),
                ClientEvent::MessageSent { peer, id, plaintext, seq } => ok(
                    "3.1",
                    node,
                    format!(
                        "sealed message #{id} for {}: {}{}",
                        self.name(peer),
                        quote(plaintext),
                        seq_text(*seq)
                    ),
                ),
                ClientEvent::MessageAccepted { from, plaintext, seq } => {
                    let here = match &record.node {
                        Address::Client(p) => p.clone(),
                        Address::Server => return None,
                    };
                    let n = self.accepted.entry((from.clone(), here)).or_insert(0);
                    let number = *n;
                    *n += 1;
                    ok(
                        "3.3",
                        node,
                        format!(
                            "accepted message #{number} from {}: {}{}; sent its ACK",
                            self.name(from),
                            quote(plaintext),
                            seq_text(*seq)
                        ),
                    )
                }
                ClientEvent::AckAccepted { peer, id } => {
                    ok("4.4", node, format!("verified {}'s ACK for message #{id}", self.name(peer)))
                }
                ClientEvent::PeerKeyVerified(_) | ClientEvent::ServerError(_) => None,
            },
            _ => None,
        }
    }
}

fn quote(plaintext: &Bytes) -> String {
    format!("{:?}", String::from_utf8_lossy(plaintext.as_slice()))
}

fn seq_text(seq: Option<u64>) -> String {
    seq.map_or_else(String::new, |s| format!(" (seq {s})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_succeeds_with_a_file_store(profile: Profile) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("server.sqlite");
        let args = DemoArgs { profile, store: Some(path.clone()), keystore: Some(tmp.path().join("keys")) };
        execute(&args).expect("every step succeeds");
        let store = SqliteStore::open(&path, profile.wire()).expect("reopen");
        let tables = store.tables().expect("tables");
        assert_eq!(tables, ["directory", "otp_request", "pending_otp", "queue"]);
        assert!(tmp.path().join("keys/alice/private_key.pem").exists());
        assert!(tmp.path().join("keys/bob/own_entry.json").exists());
    }

    #[test]
    fn seed_demo_succeeds_with_a_file_store() {
        demo_succeeds_with_a_file_store(Profile::SEED);
    }

    #[test]
    fn hardened_demo_succeeds_with_a_file_store() {
        demo_succeeds_with_a_file_store(Profile::HARDENED);
    }

    /// A rerun on the store of earlier runs registers again: the clock starts past the
    /// earlier OTP requests (it used to restart at 0, and the fourth run was `RateLimited`).
    fn demo_reruns_on_the_same_store(profile: Profile) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("server.sqlite");
        let mut starts = Vec::new();
        for run in 1..=5 {
            let store = SqliteStore::open(&path, profile.wire()).expect("open");
            starts.push(clock_start(&store, &ee2e_spec::Params::default()).expect("clock"));
            drop(store);
            let args = DemoArgs { profile, store: Some(path.clone()), keystore: None };
            execute(&args).unwrap_or_else(|f| panic!("run {run} failed at {}: {}", f.step, f.reason));
        }
        assert_eq!(starts[0], 0, "an empty store starts the clock at 0");
        assert!(starts.windows(2).all(|w| w[0] < w[1]), "each rerun starts later: {starts:?}");
    }

    #[test]
    fn hardened_demo_reruns_five_times_on_the_same_store() {
        demo_reruns_on_the_same_store(Profile::HARDENED);
    }

    #[test]
    fn seed_demo_reruns_five_times_on_the_same_store() {
        demo_reruns_on_the_same_store(Profile::SEED);
    }

    #[test]
    fn demo_rejects_an_unknown_profile() {
        assert!("hardened".parse::<Profile>().is_ok());
        assert!("hardened-without-replay-window".parse::<Profile>().is_ok());
        assert!("strong".parse::<Profile>().is_err());
    }
}
