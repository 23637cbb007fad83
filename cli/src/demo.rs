//! `ee2e demo`: the scripted session of [`ee2e::demo`] on the in-process runtime, printed as
//! a transcript with one line per protocol step and its result. This file sets up the
//! runtime (store, fixture keys, keystores) and prints; the script and its checks are the
//! library's.
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
use ee2e::Bytes;
use ee2e::demo::{self, Action, Check, Demo, DemoFailure, Step, Summary};
use ee2e::keystore::Keystore;
use ee2e::otp::{OtpDelivery, otp_text};
use ee2e::runtime::{Address, Entry, Record, Runtime};
use ee2e::sqlite::SqliteStore;
use ee2e_fixtures as fixtures;
use ee2e_spec::{ClientEvent, MessageType, Phone, Profile, Role, ServerEvent, Wire};

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

/// The step that failed and why.
#[derive(Debug)]
struct Failure {
    step: String,
    reason: String,
}

fn setup(reason: impl ToString) -> Failure {
    Failure { step: "setup".to_owned(), reason: reason.to_string() }
}

/// Sets up the runtime and the keystores, prints what they are, then runs the script of
/// [`ee2e::demo`], printing its transcript; the first failing step is the error.
fn execute(args: &DemoArgs) -> Result<(), Failure> {
    let (rt, mut printer, _tempdir) = set_up(args)?;
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let mut observe = |step: Step<'_>| printer.step(step);
    let result = Demo::new(rt, alice, bob, &mut observe).run();
    match result {
        Ok(summary) => {
            printer.summary(&summary);
            Ok(())
        }
        Err(DemoFailure { step, error }) => {
            let reason = match error {
                demo::DemoError::Check(check) => format!("check failed: {}", printer.check(&check)),
                other => other.to_string(),
            };
            Err(Failure { step: step.to_owned(), reason })
        }
    }
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

/// Turns what the script reports into transcript lines.
struct Printer {
    profile: Profile,
    names: BTreeMap<Phone, &'static str>,
    sms: TranscriptSms,
    /// Messages accepted so far per (sender, recipient), to number them.
    accepted: BTreeMap<(Phone, Phone), u64>,
    lines: usize,
}

/// The runtime with both fixture parties, the printer, and the keystores' temporary
/// directory if it is one (removed when dropped).
fn set_up(args: &DemoArgs) -> Result<(Runtime, Printer, Option<tempfile::TempDir>), Failure> {
    let profile = args.profile;
    let params = ee2e_spec::Params::default();
    let sms = TranscriptSms::default();
    let (store, store_text) = match &args.store {
        Some(path) => (
            SqliteStore::open(path, profile.wire()).map_err(setup)?,
            format!("SQLite file {}", path.display()),
        ),
        None => (SqliteStore::in_memory(profile.wire()).map_err(setup)?, "SQLite in memory".into()),
    };
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let start_ms = demo::clock_start(&store, &[&alice, &bob], &params).map_err(setup)?;
    let mut rt = Runtime::builder(profile, fixtures::server_key())
        .params(params)
        .start_ms(start_ms)
        .store(store)
        .otp_delivery(sms.clone())
        .build()
        .map_err(setup)?;
    let (tempdir, root, removed) = match &args.keystore {
        Some(dir) => (None, dir.clone(), ""),
        None => {
            let tmp = tempfile::Builder::new().prefix("ee2e-demo-").tempdir().map_err(setup)?;
            let root = tmp.path().to_path_buf();
            (Some(tmp), root, " (removed at exit)")
        }
    };
    let mut printer = Printer { profile, names: BTreeMap::new(), sms, accepted: BTreeMap::new(), lines: 0 };
    println!(
        "EE2E demo: profile {profile} (wire v{}), PBKDF2-HMAC-SHA-256 with {} iterations, OTP valid {} s",
        profile.wire() as u8,
        params.pbkdf2_iterations,
        params.otp_ttl_ms / 1000,
    );
    println!("server store: {store_text}");
    println!("server key:   committed test fixture fixtures/keys/server.pem (RSA-2048), public, not secret");
    if start_ms > 0 {
        println!("server clock: {start_ms} ms, one OTP request window after the store's latest record");
    }
    println!("keystores:    {}{removed}", root.display());
    for (name, phone) in [("alice", alice), ("bob", bob)] {
        let key = fixtures::named(name).ok_or_else(|| setup(format!("no fixture key {name}")))?;
        let keystore = Keystore::create(root.join(name)).map_err(setup)?;
        rt.add_client(phone.clone(), key, Some(keystore)).map_err(setup)?;
        println!("{name:<6} = {phone}, fixture RSA-2048 key, keystore {}", root.join(name).display());
        printer.names.insert(phone, name);
    }
    println!();
    Ok((rt, printer, tempdir))
}

impl Printer {
    fn name(&self, phone: &Phone) -> String {
        self.names.get(phone).map_or_else(|| phone.to_string(), |n| (*n).to_owned())
    }

    /// Prints one step of the script.
    fn step(&mut self, step: Step<'_>) {
        match step {
            Step::Record(record) => {
                if let Some((status, number, actor, text)) = self.describe(record) {
                    self.line(&status, &number, &actor, text);
                }
            }
            Step::Did { step, party, action } => {
                let text = self.action(&action, party);
                let actor = self.name(party);
                self.line(" ok ", step, &actor, text);
            }
            Step::Checked(check) => {
                let text = self.check(check);
                self.line(" ok ", "", "check", text);
            }
        }
    }

    /// What `party` did, in words.
    fn action(&self, action: &Action, party: &Phone) -> String {
        match action {
            Action::RequestedRegistration => format!("asked to register {party}"),
            Action::DerivedFromOtp { iterations } => format!(
                "derived Salt = HMAC(OTP, phone), K_temp = PBKDF2({iterations}), tag = HMAC(K_temp, pk)"
            ),
            Action::SentRegistration if self.profile.wire() == Wire::Seed => {
                "sent its public key and the tag".to_owned()
            }
            Action::SentRegistration => {
                "sent its public key, the tag sealed to the server key and a proof of possession".to_owned()
            }
            Action::RequestedKey { peer } => {
                let peer = self.name(peer);
                format!("asked the server for {peer}'s key (talk to {peer})")
            }
            Action::Connected => "connected to the server".to_owned(),
        }
    }

    /// What a check says, in words.
    fn check(&self, check: &Check) -> String {
        match check {
            Check::Registered(p) => format!("{} is registered", self.name(p)),
            Check::SameSessionKey => "alice and bob hold the same session key".to_owned(),
            Check::Delivered { from, to } => {
                format!("{} received exactly the message {} sent", self.name(to), self.name(from))
            }
            Check::Acked { from, id } => {
                format!("{} holds a verified ACK for message #{id}", self.name(from))
            }
            Check::Stored { phone, queued } => {
                format!("the server holds {queued} messages for offline {}", self.name(phone))
            }
            Check::OfflineDelivered(p) => format!(
                "{} received all {} offline messages exactly once, in order",
                self.name(p),
                demo::OFFLINE_MESSAGES.len()
            ),
            Check::OfflineAcked(p) => format!("{} verified the ACK of each of them", self.name(p)),
            Check::NothingOutstanding => "no message is waiting for an ACK".to_owned(),
            Check::NoFailure => "no check failed anywhere in the run".to_owned(),
        }
    }

    /// The closing line of a successful run.
    fn summary(&self, summary: &Summary) {
        println!();
        println!(
            "all {} steps succeeded ({} profile): {} envelopes on the network, {} messages, {} ACKs verified",
            self.lines, self.profile, summary.envelopes, summary.messages, summary.acks,
        );
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
            let phones = [&fixtures::phone("alice"), &fixtures::phone("bob")];
            starts.push(demo::clock_start(&store, &phones, &ee2e_spec::Params::default()).expect("clock"));
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
