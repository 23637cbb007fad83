//! `ee2e load`: end-to-end throughput of the in-process runtime.
//!
//! N fixture clients register and connect; each starts a session with its next `--peers`
//! neighbours on a ring; then, in `--messages` rounds, every client sends one message to
//! one of them (round-robin), and the network runs until idle after each round, so that
//! every message goes seal → server → open → ACK → verify with all clients' traffic
//! interleaved. With `--offline`, the odd-numbered clients are off the network in every
//! other round: what is sent to them is queued by the server's store and delivered when
//! they come back, and they send their own message of that round after reconnecting.
//! With `--churn P`, each client instead goes offline with probability P in every round,
//! drawn from a generator seeded by `--seed` (presence churn at random; the same handling).
//!
//! **What is timed.** Only the messaging phase. Registration and session set-up are timed
//! and printed separately; registration runs PBKDF2 at `--pbkdf2-iterations` (default
//! 1000, not the spec's 600 000, and the output says so) because it is not what is
//! measured here.
//!
//! **Crypto share.** The same number of seal + open + ACK + ACK-verify operations, at the
//! same size and profile, is timed standalone ([`SessionPair::round_trip`]) right after
//! the run, on the CPU-time clock; the share is that CPU time over the messaging phase's
//! CPU time. The rest is the runtime: wire encoding and decoding, the store's lookups (and
//! writes, with `--offline`), the transcript, the clients' bookkeeping. The standalone loop
//! runs hot in cache on one session, so the share is, if anything, a slight underestimate.
//!
//! **Checks.** Every message carries its sender, recipient and per-pair counter; at the end
//! each recipient must have accepted, from each sender, exactly the counters sent, once
//! each and in order; every sender must have had every message ACKed exactly once (ACKs
//! verified by the core), nothing outstanding, no client or server rejection and no network
//! incident. Otherwise the problems are listed and the exit status is 1.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::Args;
use ee2e::Bytes;
use ee2e::runtime::{Address, Entry, Runtime, RuntimeError};
use ee2e::sqlite::SqliteStore;
use ee2e_benches::SessionPair;
use ee2e_benches::timing::{Clock, Plan, measure};
use ee2e_fixtures as fixtures;
use ee2e_spec::{ClientEvent, Params, Phone, Profile, ServerEvent};

/// Arguments of `ee2e load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Number of clients, 2 to 64 (one fixture key each).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = parse_clients)]
    pub clients: usize,
    /// Messages each client sends.
    #[arg(long, value_name = "M", default_value_t = 100)]
    pub messages: usize,
    /// Plaintext size in bytes (16 to 1 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = 1024, value_parser = parse_size)]
    pub size: usize,
    /// How many ring neighbours each client sends to, round-robin (1 to N−1).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub peers: usize,
    /// Protocol profile: `seed`, `hardened` or `hardened-without-<fix>`.
    #[arg(long, default_value = "hardened")]
    pub profile: Profile,
    /// Keep the server's tables in this SQLite file, which must not exist yet (default: SQLite
    /// in memory).
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Run twice, with SQLite in memory and then with a SQLite file (`--store`, or one in a
    /// temporary directory), and compare.
    #[arg(long)]
    pub both_stores: bool,
    /// Odd-numbered clients go offline every other round: messages to them go through the
    /// server's offline queue.
    #[arg(long)]
    pub offline: bool,
    /// Presence churn: in every round each client is offline with this probability (0 to 1),
    /// at random; messages to it go through the server's offline queue. Overrides `--offline`.
    #[arg(long, value_name = "P", value_parser = parse_churn)]
    pub churn: Option<f64>,
    /// Seed of the churn's random choices.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// PBKDF2 iterations at registration (registration is not measured).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub pbkdf2_iterations: u32,
    /// Over TCP on loopback: `ee2e serve`'s front end in this process, one connection per
    /// client (`--connections`), each sending `--messages` to the next (see `load_tcp.rs`).
    #[arg(long)]
    pub tcp: bool,
    /// With `--tcp`: concurrent connections, 2 to 1000.
    #[arg(long, value_name = "N", default_value_t = 200, requires = "tcp")]
    pub connections: usize,
}

fn parse_churn(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("{text:?}: the churn is a probability from 0 to 1")),
    }
}

fn parse_clients(text: &str) -> Result<usize, String> {
    let n: usize = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    match n {
        0 | 1 => Err(format!("{n} client(s): a load needs at least 2")),
        n if n > fixtures::CLIENT_KEYS => Err(format!(
            "{n} clients: at most {} (there are {} fixture client keys, one per client)",
            fixtures::CLIENT_KEYS,
            fixtures::CLIENT_KEYS
        )),
        n => Ok(n),
    }
}

fn parse_size(text: &str) -> Result<usize, String> {
    let n: usize = text.parse().map_err(|_| format!("{text:?} is not a number"))?;
    if (HEADER..=MAX_SIZE).contains(&n) {
        Ok(n)
    } else {
        Err(format!("{n} bytes: the size must be from {HEADER} (the load header) to {MAX_SIZE} (1 MiB)"))
    }
}

/// Largest plaintext the wire codec carries.
const MAX_SIZE: usize = 1 << 20;
/// Load header at the start of each plaintext: magic, sender, recipient, counter.
const HEADER: usize = 16;
const MAGIC: &[u8; 6] = b"EE2ELD";

/// Runs the load; exit status 0 if nothing was lost, duplicated or reordered, 1 otherwise.
pub fn run(args: &LoadArgs) -> ExitCode {
    if args.tcp {
        return crate::load_tcp::run(args);
    }
    if args.peers == 0 || args.peers >= args.clients {
        eprintln!(
            "ee2e load: --peers must be from 1 to {} (clients − 1), not {}",
            args.clients - 1,
            args.peers
        );
        return ExitCode::from(2);
    }
    if let Some(path) = &args.store
        && path.exists()
    {
        eprintln!(
            "ee2e load: --store {}: the file exists; give a new path (the load starts from an empty store)",
            path.display()
        );
        return ExitCode::from(2);
    }
    println!(
        "ee2e load: {} clients × {} messages of {} B, profile {}, each client → its next {} peer(s){}",
        args.clients,
        args.messages,
        args.size,
        args.profile,
        args.peers,
        match args.churn {
            Some(p) => format!(", each client offline with probability {p} per round (seed {})", args.seed),
            None if args.offline => ", odd clients offline every other round".to_string(),
            None => String::new(),
        }
    );
    let temp = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("ee2e load: cannot create a temporary directory: {error}");
            return ExitCode::FAILURE;
        }
    };
    let file = args.store.clone().unwrap_or_else(|| temp.path().join("load.sqlite"));
    let stores: Vec<Option<&Path>> = match (args.both_stores, &args.store) {
        (true, _) => vec![None, Some(file.as_path())],
        (false, Some(path)) => vec![Some(path.as_path())],
        (false, None) => vec![None],
    };
    let mut results = Vec::new();
    let mut ok = true;
    for store in stores {
        println!();
        match run_once(args, store) {
            Ok(outcome) => {
                ok &= outcome.problems.is_empty();
                results
                    .push((store.map_or("memory".to_string(), |p| format!("file {}", p.display())), outcome));
            }
            Err(error) => {
                println!("FAILED: {error}");
                ok = false;
            }
        }
    }
    if results.len() == 2 {
        let (memory, file) = (&results[0].1, &results[1].1);
        println!();
        println!(
            "memory vs file: {:.0} vs {:.0} msgs/s (the file store is {:.2}× the in-memory time per message)",
            memory.rate,
            file.rate,
            memory.rate / file.rate.max(f64::MIN_POSITIVE)
        );
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// What one run measured and found.
pub(crate) struct Outcome {
    /// Messages per second of wall time.
    pub(crate) rate: f64,
    /// Messages per second of the process's CPU time.
    pub(crate) cpu_rate: f64,
    /// Standalone crypto CPU time over the messaging phase's CPU time.
    pub(crate) crypto_share: f64,
    /// Group transactions the store committed during the messaging phase.
    pub(crate) commits: u64,
    /// Loss, duplication, reordering or rejection found by the check; empty: no loss.
    pub(crate) problems: Vec<String>,
}

/// A failure during set-up or messaging.
#[derive(Debug)]
pub(crate) enum LoadError {
    Runtime(RuntimeError),
    Store(String),
    Fixture(String),
}

impl From<RuntimeError> for LoadError {
    fn from(error: RuntimeError) -> Self {
        LoadError::Runtime(error)
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Runtime(error) => write!(f, "runtime: {error}"),
            LoadError::Store(error) => write!(f, "store: {error}"),
            LoadError::Fixture(error) => write!(f, "fixture: {error}"),
        }
    }
}

/// The plaintext of the `counter`-th message from `sender` to `recipient`: the header, then
/// a filler derived from all three.
fn payload(size: usize, sender: usize, recipient: usize, counter: u32) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(size);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(sender as u16).to_be_bytes());
    bytes.extend_from_slice(&(recipient as u16).to_be_bytes());
    bytes.extend_from_slice(&counter.to_be_bytes());
    bytes.extend_from_slice(&[0, 0]);
    let seed = (sender as u32)
        .wrapping_mul(31)
        .wrapping_add((recipient as u32).wrapping_mul(17))
        .wrapping_add(counter);
    bytes.extend((HEADER..size).map(|i| (i as u32).wrapping_mul(7).wrapping_add(seed) as u8));
    bytes
}

/// Reads a payload back: (sender, recipient, counter) if it is intact.
fn parse_payload(bytes: &[u8], size: usize) -> Option<(usize, usize, u32)> {
    if bytes.len() != size || !bytes.starts_with(MAGIC) {
        return None;
    }
    let sender = u16::from_be_bytes([bytes[6], bytes[7]]) as usize;
    let recipient = u16::from_be_bytes([bytes[8], bytes[9]]) as usize;
    let counter = u32::from_be_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]);
    (payload(size, sender, recipient, counter) == bytes).then_some((sender, recipient, counter))
}

/// What the messaging phase sent: per (sender, recipient) pair, and per sender.
struct Sent {
    pairs: BTreeMap<(usize, usize), u32>,
    by: Vec<u64>,
}

impl Sent {
    fn total(&self) -> u64 {
        self.by.iter().sum()
    }
}

/// A runtime over `store_path` (SQLite in memory if none) with the clients registered and
/// their sessions set up; prints how long that took.
fn setup(args: &LoadArgs, store_path: Option<&Path>) -> Result<(Runtime, Vec<Phone>), LoadError> {
    let n = args.clients;
    let wire = args.profile.wire();
    let store =
        SqliteStore::open_or_in_memory(store_path, wire).map_err(|e| LoadError::Store(e.to_string()))?;
    println!(
        "store: {}",
        store_path.map_or("SQLite in memory".to_string(), |p| format!("SQLite file {}", p.display()))
    );
    let params = Params { pbkdf2_iterations: args.pbkdf2_iterations, ..Params::default() };
    let mut runtime =
        Runtime::builder(args.profile, fixtures::server_key()).params(params).store(store).build()?;
    let phones: Vec<Phone> = (0..n).map(fixtures::client_phone).collect();

    let start = Instant::now();
    for (i, phone) in phones.iter().enumerate() {
        let key = fixtures::client_key(i).ok_or_else(|| LoadError::Fixture(format!("no client key {i}")))?;
        runtime.register(phone, key)?;
    }
    let spec = Params::default().pbkdf2_iterations;
    let iterations_note = if args.pbkdf2_iterations == spec {
        format!("PBKDF2 at the spec's {spec} iterations")
    } else {
        format!(
            "PBKDF2 at {} iterations, NOT the spec's {spec}: registration is not what is measured",
            args.pbkdf2_iterations
        )
    };
    println!(
        "registration: {n} clients in {:.2} s ({iterations_note}; not timed below)",
        start.elapsed().as_secs_f64()
    );

    let start = Instant::now();
    for i in 0..n {
        for k in 1..=args.peers {
            runtime.start_session(&phones[i], &phones[(i + k) % n])?;
        }
    }
    println!(
        "sessions: {} key transports in {:.2} s (not timed below)",
        n * args.peers,
        start.elapsed().as_secs_f64()
    );
    Ok((runtime, phones))
}

/// The messaging phase: `args.messages` rounds, each client sending one message per round.
fn messaging(args: &LoadArgs, runtime: &mut Runtime, phones: &[Phone]) -> Result<Sent, LoadError> {
    let n = phones.len();
    let mut sent = Sent { pairs: BTreeMap::new(), by: vec![0; n] };
    let offline: Vec<usize> = if args.offline { (1..n).step_by(2).collect() } else { Vec::new() };
    let mut dice = Xoshiro256PlusPlus::seed_from_u64(args.seed);
    for round in 0..args.messages {
        let offline: Vec<usize> = match args.churn {
            Some(p) => (0..n).filter(|_| dice.random_bool(p)).collect(),
            None if round % 2 == 1 => offline.clone(),
            None => Vec::new(),
        };
        let away = !offline.is_empty();
        let offline_phones: Vec<Phone> = offline.iter().map(|&i| phones[i].clone()).collect();
        if away {
            runtime.disconnect_all(&offline_phones)?;
        }
        let mut send = |runtime: &mut Runtime, i: usize| -> Result<(), LoadError> {
            let to = (i + 1 + round % args.peers) % n;
            let counter = sent.pairs.entry((i, to)).or_insert(0);
            let plaintext = Bytes::secret(payload(args.size, i, to, *counter));
            *counter += 1;
            sent.by[i] += 1;
            runtime.act(&phones[i], |client, rng| client.send(&phones[to], &plaintext, rng))?;
            Ok(())
        };
        for i in (0..n).filter(|i| !(away && offline.contains(i))) {
            send(runtime, i)?;
        }
        runtime.run_until_idle()?;
        if away {
            runtime.connect_all(&offline_phones)?;
            for &i in &offline {
                send(runtime, i)?;
            }
            runtime.run_until_idle()?;
        }
    }
    Ok(sent)
}

pub(crate) fn run_once(args: &LoadArgs, store_path: Option<&Path>) -> Result<Outcome, LoadError> {
    let (mut runtime, phones) = setup(args, store_path)?;
    let commits_before = runtime.store().group_commits();
    let (wall, cpu) = (Instant::now(), Clock::Cpu.now());
    let sent = messaging(args, &mut runtime, &phones)?;
    let (elapsed, cpu_elapsed) = (wall.elapsed().as_secs_f64(), Clock::Cpu.now() - cpu);
    let commits = runtime.store().group_commits() - commits_before;
    let total = sent.total();
    let rate = total as f64 / elapsed.max(f64::MIN_POSITIVE);
    let cpu_rate = total as f64 / cpu_elapsed.max(f64::MIN_POSITIVE);
    println!(
        "messaging: {total} messages (seal → server → open → ACK → verify) in {elapsed:.3} s wall, {cpu_elapsed:.3} s CPU: {rate:.0} msgs/s ({cpu_rate:.0} per CPU second)"
    );
    println!("durability: {}", durability(store_path, commits));

    // ---- crypto share ----
    let mut pair = SessionPair::new(args.profile).map_err(|e| LoadError::Fixture(e.to_string()))?;
    let message = Bytes::secret(payload(args.size, 0, 1, 0));
    let mut failure = None;
    let stats = measure(Plan::QUICK, || {
        if let Err(error) = pair.round_trip(&message) {
            failure = Some(error);
        }
    });
    if let Some(error) = failure {
        return Err(LoadError::Fixture(error.to_string()));
    }
    let crypto = stats.median_ns * 1e-9 * total as f64;
    let crypto_share = crypto / cpu_elapsed.max(f64::MIN_POSITIVE);
    println!(
        "crypto share: {:.0}% of the messaging phase's CPU time (standalone seal + open + ACK + verify: {:.2} µs per message × {total} = {:.3} s CPU, of {:.3} s); the rest is the runtime (codec, store, transcript, client bookkeeping)",
        100.0 * crypto / cpu_elapsed.max(f64::MIN_POSITIVE),
        stats.median_ns / 1e3,
        crypto,
        cpu_elapsed
    );

    let problems = check(&runtime, &phones, args.size, &sent);
    if problems.is_empty() {
        println!(
            "no loss: {total} messages delivered exactly once and in order per sender→recipient pair ({} pairs); {total} ACKs verified",
            sent.pairs.len()
        );
    } else {
        println!("FAILED: {} problem(s) (loss, duplication, reordering or rejection):", problems.len());
        for problem in problems.iter().take(20) {
            println!("  {problem}");
        }
        if problems.len() > 20 {
            println!("  … and {} more", problems.len() - 20);
        }
    }
    Ok(Outcome { rate, cpu_rate, crypto_share, commits, problems })
}

/// Which crash guarantee the store of this run keeps (SPEC.md §14, group commit).
fn durability(store_path: Option<&Path>, commits: u64) -> String {
    match store_path {
        None => format!(
            "none across a crash (SQLite in memory); {commits} group commits of up to {} server steps",
            ee2e::runtime::GROUP_STEPS
        ),
        Some(_) => format!(
            "SQLite file, WAL, synchronous=FULL, group commit: the writes of up to {} server steps are fsynced in one commit before any output of those steps is sent, so a crash loses only steps whose effects nobody saw; stored deliveries are confirmed (removed from the queue) in groups of up to as many, committed after their recipients committed them, so a crash before that commit delivers them again and none is lost; {commits} group commits",
            ee2e::runtime::GROUP_STEPS
        ),
    }
}

/// Everything that went wrong, from one pass over the transcript.
fn check(runtime: &Runtime, phones: &[Phone], size: usize, sent: &Sent) -> Vec<String> {
    let mut problems = Vec::new();
    let index: BTreeMap<&Phone, usize> = phones.iter().enumerate().map(|(i, p)| (p, i)).collect();
    // next[(s, r)]: the counter recipient r expects next from sender s.
    let mut next: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    let mut acked: Vec<Vec<u64>> = vec![Vec::new(); phones.len()];
    for record in runtime.transcript() {
        let here = match &record.node {
            Address::Client(phone) => index.get(phone).copied(),
            Address::Server => None,
        };
        match (&record.entry, here) {
            (Entry::Client(ClientEvent::MessageAccepted { from, plaintext, .. }), Some(r)) => {
                let Some((s, to, counter)) = parse_payload(plaintext.as_slice(), size) else {
                    problems
                        .push(format!("client {r} accepted a message that is not an intact load payload"));
                    continue;
                };
                if index.get(from) != Some(&s) || to != r {
                    problems.push(format!("client {r} accepted message {s}→{to} #{counter} from {from}"));
                    continue;
                }
                let expected = next.entry((s, r)).or_insert(0);
                match counter.cmp(expected) {
                    Ordering::Equal => *expected += 1,
                    Ordering::Less => {
                        problems.push(format!("{s}→{r}: #{counter} again or late (expected #{expected})"))
                    }
                    Ordering::Greater => {
                        problems.push(format!(
                            "{s}→{r}: #{counter} arrived when #{expected} was expected (lost or reordered)"
                        ));
                        *expected = counter + 1;
                    }
                }
            }
            (Entry::Client(ClientEvent::AckAccepted { id, .. }), Some(r)) => acked[r].push(*id),
            (Entry::ClientError { kind, error }, _) => {
                problems.push(format!("{} rejected a {kind:?}: {error}", record.node));
            }
            (Entry::Server(ServerEvent::Rejected { from, error }), _) => {
                problems.push(format!("the server rejected a message from {from}: {error}"));
            }
            (Entry::Incident(incident), _) => {
                problems.push(format!("incident at {}: {incident:?}", record.node))
            }
            _ => {}
        }
    }
    for ((s, r), count) in &sent.pairs {
        let got = next.get(&(*s, *r)).copied().unwrap_or(0);
        if got != *count {
            problems.push(format!("{s}→{r}: {got} of {count} messages accepted in order"));
        }
    }
    for (r, ids) in acked.iter_mut().enumerate() {
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        if count != ids.len() {
            problems.push(format!("client {r}: {} ACKs matched a message twice", count - ids.len()));
        }
        if *ids != (0..sent.by[r]).collect::<Vec<u64>>() {
            problems.push(format!("client {r}: {} of {} messages ACKed", ids.len(), sent.by[r]));
        }
        if let Some(client) = runtime.client(&phones[r])
            && !client.outstanding().is_empty()
        {
            problems.push(format!(
                "client {r}: {} messages still wait for their ACK",
                client.outstanding().len()
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_detect_tampering() {
        for size in [HEADER, 64, 1024] {
            let bytes = payload(size, 3, 7, 42);
            assert_eq!(bytes.len(), size);
            assert_eq!(parse_payload(&bytes, size), Some((3, 7, 42)));
            let mut tampered = bytes.clone();
            tampered[size - 1] ^= 1;
            assert_eq!(parse_payload(&tampered, size), None);
            assert_eq!(parse_payload(&bytes[..size - 1], size), None);
        }
    }

    fn small(profile: Profile) -> LoadArgs {
        LoadArgs {
            clients: 3,
            messages: 4,
            size: 64,
            peers: 1,
            profile,
            store: None,
            both_stores: false,
            offline: false,
            churn: None,
            seed: 1,
            pbkdf2_iterations: 1,
            tcp: false,
            connections: 200,
        }
    }

    #[test]
    fn check_finds_nothing_wrong_in_a_clean_run_with_offline_rounds() {
        let args = LoadArgs { offline: true, ..small(Profile::HARDENED) };
        let (mut runtime, phones) = setup(&args, None).expect("setup");
        let sent = messaging(&args, &mut runtime, &phones).expect("messaging");
        assert_eq!(sent.total(), 12);
        assert_eq!(check(&runtime, &phones, args.size, &sent), Vec::<String>::new());
    }

    #[test]
    fn check_finds_nothing_wrong_in_a_run_with_churn() {
        for profile in [Profile::SEED, Profile::HARDENED] {
            let args = LoadArgs { clients: 6, messages: 6, churn: Some(0.4), seed: 7, ..small(profile) };
            let (mut runtime, phones) = setup(&args, None).expect("setup");
            let sent = messaging(&args, &mut runtime, &phones).expect("messaging");
            assert_eq!(sent.total(), 36);
            assert_eq!(check(&runtime, &phones, args.size, &sent), Vec::<String>::new());
            let stored =
                runtime.server_events().iter().filter(|e| matches!(e, ServerEvent::Stored { .. })).count();
            assert!(stored > 0, "{profile}: churn sends messages through the offline queue");
        }
        assert!(parse_churn("1.5").is_err() && parse_churn("-0.1").is_err() && parse_churn("x").is_err());
        assert_eq!(parse_churn("0.25"), Ok(0.25));
    }

    #[test]
    fn check_reports_a_dropped_message_and_its_missing_ack() {
        let args = small(Profile::HARDENED);
        let (mut runtime, phones) = setup(&args, None).expect("setup");
        let mut data = 0;
        runtime.set_tap(move |envelope: &ee2e::runtime::Envelope| {
            if envelope.kind() == Some(ee2e_spec::MessageType::Data) {
                data += 1;
                if data == 2 {
                    return ee2e::runtime::TapAction::Drop;
                }
            }
            ee2e::runtime::TapAction::Deliver
        });
        let sent = messaging(&args, &mut runtime, &phones).expect("messaging");
        let problems = check(&runtime, &phones, args.size, &sent);
        assert!(problems.iter().any(|p| p.contains("lost or reordered")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("messages ACKed")), "{problems:?}");
    }

    #[test]
    fn check_reports_a_duplicate_the_seed_accepts() {
        let args = small(Profile::SEED);
        let (mut runtime, phones) = setup(&args, None).expect("setup");
        let mut duplicated = false;
        runtime.set_tap(move |envelope: &ee2e::runtime::Envelope| {
            if envelope.kind() == Some(ee2e_spec::MessageType::DataDelivery) && !duplicated {
                duplicated = true;
                return ee2e::runtime::TapAction::DeliverAndDuplicate;
            }
            ee2e::runtime::TapAction::Deliver
        });
        let sent = messaging(&args, &mut runtime, &phones).expect("messaging");
        let problems = check(&runtime, &phones, args.size, &sent);
        assert!(problems.iter().any(|p| p.contains("again or late")), "{problems:?}");
    }

    #[test]
    fn client_counts_and_sizes_are_bounded() {
        assert_eq!(parse_clients("64"), Ok(64));
        assert!(parse_clients("65").unwrap_err().contains("at most 64"));
        assert!(parse_clients("1").is_err());
        assert!(parse_clients("x").is_err());
        assert_eq!(parse_size("16"), Ok(16));
        assert!(parse_size("15").is_err());
        assert!(parse_size("1048577").is_err());
    }
}
