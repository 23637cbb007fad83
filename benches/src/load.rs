//! The in-process load harness behind `ee2e load`: end-to-end throughput of the runtime, with
//! a no-loss check.
//!
//! N fixture clients register and connect; each starts a session with its next `peers`
//! neighbours on a ring; then, in `messages` rounds, every client sends one message to one of
//! them (round-robin), and the network runs until idle after each round, so that every
//! message goes seal → server → open → ACK → verify with all clients' traffic interleaved.
//! With [`Presence::Alternate`], the odd-numbered clients are off the network in every other
//! round: what is sent to them is queued by the server's store and delivered when they come
//! back, and they send their own message of that round after reconnecting. With
//! [`Presence::Churn`], each client instead goes offline with probability P in every round,
//! drawn from a generator seeded by the configuration (presence churn at random; the same
//! handling).
//!
//! **What is timed.** Only the messaging phase. Registration and session set-up are timed
//! separately ([`Setup`]); registration runs PBKDF2 at [`LoadConfig::pbkdf2_iterations`]
//! because it is not what is measured here.
//!
//! **Crypto share.** The same number of seal + open + ACK + ACK-verify operations, at the
//! same size and profile, is timed standalone ([`SessionPair::round_trip`]) right after the
//! run, on the CPU-time clock; the share is that CPU time over the messaging phase's CPU
//! time. The rest is the runtime: wire encoding and decoding, the store's lookups (and
//! writes, with offline rounds), the transcript, the clients' bookkeeping. The standalone
//! loop runs hot in cache on one session, so the share is, if anything, a slight
//! underestimate.
//!
//! **Checks.** Every message carries its sender, recipient and per-pair counter; at the end
//! each recipient must have accepted, from each sender, exactly the counters sent, once each
//! and in order; every sender must have had every message ACKed exactly once (ACKs verified
//! by the core), nothing outstanding, no client or server rejection and no network incident.
//! Otherwise [`Outcome::problems`] lists what went wrong.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use ee2e::Bytes;
use ee2e::runtime::{Address, Entry, GROUP_STEPS, Runtime, RuntimeError};
use ee2e::sqlite::SqliteStore;
use ee2e_fixtures as fixtures;
use ee2e_spec::{ClientEvent, Params, Phone, Profile, ServerEvent, StoreError};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::timing::{Clock, Plan, measure};
use crate::{FixtureError, SessionPair};

/// Largest plaintext the wire codec carries.
pub const MAX_SIZE: usize = ee2e_spec::limits::MAX_PLAINTEXT;
/// Length of the load header at the start of each plaintext (magic, sender, recipient,
/// counter): the smallest message size.
pub const HEADER: usize = 16;
/// Most clients a load runs: one fixture client key each.
pub const MAX_CLIENTS: usize = fixtures::CLIENT_KEYS;
const MAGIC: &[u8; 6] = b"EE2ELD";

/// Who is on the network in each round.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Presence {
    /// Every client, every round.
    Always,
    /// The odd-numbered clients are offline every other round.
    Alternate,
    /// Each client is offline with this probability (0 to 1) in every round, at random.
    Churn(f64),
}

/// What one load run does.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadConfig {
    /// Number of clients, 2 to [`MAX_CLIENTS`].
    pub clients: usize,
    /// Messages each client sends.
    pub messages: usize,
    /// Plaintext size in bytes, [`HEADER`] to [`MAX_SIZE`].
    pub size: usize,
    /// How many ring neighbours each client sends to, round-robin (1 to `clients − 1`).
    pub peers: usize,
    /// Protocol profile.
    pub profile: Profile,
    /// Who is online in each round.
    pub presence: Presence,
    /// Seed of the churn's random choices.
    pub seed: u64,
    /// PBKDF2 iterations at registration (registration is not measured).
    pub pbkdf2_iterations: u32,
}

impl LoadConfig {
    /// Checks every bound; the load runs only a configuration this accepts.
    pub fn validate(&self) -> Result<(), LoadError> {
        let bad = |what: String| Err(LoadError::Config(what));
        if !(2..=MAX_CLIENTS).contains(&self.clients) {
            return bad(format!(
                "{} clients: a load needs from 2 to {MAX_CLIENTS}: at least two talk, and at most {MAX_CLIENTS} because each client takes one of the {MAX_CLIENTS} fixture client keys",
                self.clients
            ));
        }
        if self.peers == 0 || self.peers >= self.clients {
            return bad(format!(
                "peers must be from 1 to {} (clients − 1), not {}",
                self.clients - 1,
                self.peers
            ));
        }
        if !(HEADER..=MAX_SIZE).contains(&self.size) {
            return bad(format!(
                "{} bytes: the size must be from {HEADER} (the load header) to {MAX_SIZE} (1 MiB)",
                self.size
            ));
        }
        if let Presence::Churn(p) = self.presence
            && !(0.0..=1.0).contains(&p)
        {
            return bad(format!("churn {p}: the churn is a probability from 0 to 1"));
        }
        Ok(())
    }
}

/// What set-up took (not part of the measurement).
#[derive(Debug, Clone, PartialEq)]
pub struct Setup {
    /// Seconds to register every client.
    pub registration_secs: f64,
    /// Seconds to run every key transport.
    pub sessions_secs: f64,
    /// Key transports run.
    pub transports: usize,
}

/// What one run measured and found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Set-up timings.
    pub setup: Setup,
    /// Messages sent (and, with no problem, delivered and acknowledged).
    pub total: u64,
    /// Sender → recipient pairs that carried messages.
    pub pairs: usize,
    /// Wall-clock seconds of the messaging phase.
    pub wall_secs: f64,
    /// Process CPU seconds of the messaging phase.
    pub cpu_secs: f64,
    /// Messages per second of wall time.
    pub rate: f64,
    /// Messages per second of the process's CPU time.
    pub cpu_rate: f64,
    /// Standalone seal + open + ACK + verify, median CPU nanoseconds per message.
    pub crypto_ns_per_message: f64,
    /// Standalone crypto CPU time over the messaging phase's CPU time.
    pub crypto_share: f64,
    /// Group transactions the store committed during the messaging phase.
    pub commits: u64,
    /// Which crash guarantee the store of this run keeps.
    pub durability: String,
    /// Loss, duplication, reordering or rejection found by the check; empty: no loss.
    pub problems: Vec<String>,
}

/// Why a load could not run to its check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The configuration is out of bounds.
    #[error("{0}")]
    Config(String),
    /// The runtime failed a step.
    #[error("runtime: {0}")]
    Runtime(#[from] RuntimeError),
    /// The store could not be opened.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A fixture could not be set up or its crypto failed.
    #[error("fixture: {0}")]
    Fixture(#[from] FixtureError),
}

/// Runs one load over `store_path` (SQLite in memory if none) and checks it.
pub fn run(config: &LoadConfig, store_path: Option<&Path>) -> Result<Outcome, LoadError> {
    config.validate()?;
    let (mut runtime, phones, setup) = set_up(config, store_path)?;
    let commits_before = runtime.store().group_commits();
    let (wall, cpu) = (Instant::now(), Clock::Cpu.now());
    let sent = messaging(config, &mut runtime, &phones)?;
    let (wall_secs, cpu_secs) = (wall.elapsed().as_secs_f64(), Clock::Cpu.now() - cpu);
    let commits = runtime.store().group_commits() - commits_before;
    let total = sent.total();

    let mut pair = SessionPair::new(config.profile)?;
    let message = Bytes::secret(payload(config.size, 0, 1, 0));
    let mut failure = None;
    let stats = measure(Plan::QUICK, || {
        if let Err(error) = pair.round_trip(&message) {
            failure = Some(error);
        }
    });
    if let Some(error) = failure {
        return Err(error.into());
    }
    let positive = |x: f64| x.max(f64::MIN_POSITIVE);
    let crypto_secs = stats.median_ns * 1e-9 * total as f64;
    Ok(Outcome {
        setup,
        total,
        pairs: sent.pairs.len(),
        wall_secs,
        cpu_secs,
        rate: total as f64 / positive(wall_secs),
        cpu_rate: total as f64 / positive(cpu_secs),
        crypto_ns_per_message: stats.median_ns,
        crypto_share: crypto_secs / positive(cpu_secs),
        commits,
        durability: durability(store_path, commits),
        problems: check(&runtime, &phones, config.size, &sent),
    })
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
/// their sessions set up, and how long that took.
fn set_up(config: &LoadConfig, store_path: Option<&Path>) -> Result<(Runtime, Vec<Phone>, Setup), LoadError> {
    let n = config.clients;
    let store = SqliteStore::open_or_in_memory(store_path, config.profile.wire())?;
    let params = Params { pbkdf2_iterations: config.pbkdf2_iterations, ..Params::default() };
    let mut runtime =
        Runtime::builder(config.profile, fixtures::server_key()).params(params).store(store).build()?;
    let phones: Vec<Phone> = (0..n).map(fixtures::client_phone).collect();

    let start = Instant::now();
    for (i, phone) in phones.iter().enumerate() {
        let key = fixtures::client_key(i).ok_or_else(|| FixtureError::NoKey(format!("client {i}")))?;
        runtime.register(phone, key)?;
    }
    let registration_secs = start.elapsed().as_secs_f64();

    let start = Instant::now();
    for i in 0..n {
        for k in 1..=config.peers {
            runtime.start_session(&phones[i], &phones[(i + k) % n])?;
        }
    }
    let setup = Setup {
        registration_secs,
        sessions_secs: start.elapsed().as_secs_f64(),
        transports: n * config.peers,
    };
    Ok((runtime, phones, setup))
}

/// The messaging phase: `config.messages` rounds, each client sending one message per round.
fn messaging(config: &LoadConfig, runtime: &mut Runtime, phones: &[Phone]) -> Result<Sent, LoadError> {
    let n = phones.len();
    let mut sent = Sent { pairs: BTreeMap::new(), by: vec![0; n] };
    let odd: Vec<usize> = (1..n).step_by(2).collect();
    let mut dice = Xoshiro256PlusPlus::seed_from_u64(config.seed);
    for round in 0..config.messages {
        let offline: Vec<usize> = match config.presence {
            Presence::Churn(p) => (0..n).filter(|_| dice.random_bool(p)).collect(),
            Presence::Alternate if round % 2 == 1 => odd.clone(),
            Presence::Alternate | Presence::Always => Vec::new(),
        };
        let away = !offline.is_empty();
        let offline_phones: Vec<Phone> = offline.iter().map(|&i| phones[i].clone()).collect();
        if away {
            runtime.disconnect_all(&offline_phones)?;
        }
        let mut send = |runtime: &mut Runtime, i: usize| -> Result<(), LoadError> {
            let to = (i + 1 + round % config.peers) % n;
            let counter = sent.pairs.entry((i, to)).or_insert(0);
            let plaintext = Bytes::secret(payload(config.size, i, to, *counter));
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

/// Which crash guarantee the store of this run keeps (SPEC.md §14, group commit).
fn durability(store_path: Option<&Path>, commits: u64) -> String {
    match store_path {
        None => format!(
            "none across a crash (SQLite in memory); {commits} group commits of up to {GROUP_STEPS} server steps"
        ),
        Some(_) => format!(
            "SQLite file, WAL, synchronous=FULL, group commit: the writes of up to {GROUP_STEPS} server steps are fsynced in one commit before any output of those steps is sent, so a crash loses only steps whose effects nobody saw; stored deliveries are confirmed (removed from the queue) in groups of up to as many, committed after their recipients committed them, so a crash before that commit delivers them again and none is lost; {commits} group commits"
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

    fn small(profile: Profile) -> LoadConfig {
        LoadConfig {
            clients: 3,
            messages: 4,
            size: 64,
            peers: 1,
            profile,
            presence: Presence::Always,
            seed: 1,
            pbkdf2_iterations: 1,
        }
    }

    #[test]
    fn check_finds_nothing_wrong_in_a_clean_run_with_offline_rounds() {
        let config = LoadConfig { presence: Presence::Alternate, ..small(Profile::HARDENED) };
        let (mut runtime, phones, setup) = set_up(&config, None).expect("setup");
        assert_eq!(setup.transports, 3);
        let sent = messaging(&config, &mut runtime, &phones).expect("messaging");
        assert_eq!(sent.total(), 12);
        assert_eq!(check(&runtime, &phones, config.size, &sent), Vec::<String>::new());
    }

    #[test]
    fn a_whole_run_reports_no_loss_and_a_crypto_share() {
        let outcome = run(&small(Profile::SEED), None).expect("run");
        assert_eq!((outcome.total, outcome.pairs), (12, 3));
        assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
        assert!(outcome.crypto_share > 0.0 && outcome.crypto_ns_per_message > 0.0);
        assert!(outcome.durability.starts_with("none across a crash"));
    }

    #[test]
    fn check_finds_nothing_wrong_in_a_run_with_churn() {
        for profile in [Profile::SEED, Profile::HARDENED] {
            let config = LoadConfig {
                clients: 6,
                messages: 6,
                presence: Presence::Churn(0.4),
                seed: 7,
                ..small(profile)
            };
            let (mut runtime, phones, _) = set_up(&config, None).expect("setup");
            let sent = messaging(&config, &mut runtime, &phones).expect("messaging");
            assert_eq!(sent.total(), 36);
            assert_eq!(check(&runtime, &phones, config.size, &sent), Vec::<String>::new());
            let stored =
                runtime.server_events().iter().filter(|e| matches!(e, ServerEvent::Stored { .. })).count();
            assert!(stored > 0, "{profile}: churn sends messages through the offline queue");
        }
    }

    #[test]
    fn check_reports_a_dropped_message_and_its_missing_ack() {
        let config = small(Profile::HARDENED);
        let (mut runtime, phones, _) = set_up(&config, None).expect("setup");
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
        let sent = messaging(&config, &mut runtime, &phones).expect("messaging");
        let problems = check(&runtime, &phones, config.size, &sent);
        assert!(problems.iter().any(|p| p.contains("lost or reordered")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("messages ACKed")), "{problems:?}");
    }

    #[test]
    fn check_reports_a_duplicate_the_seed_accepts() {
        let config = small(Profile::SEED);
        let (mut runtime, phones, _) = set_up(&config, None).expect("setup");
        let mut duplicated = false;
        runtime.set_tap(move |envelope: &ee2e::runtime::Envelope| {
            if envelope.kind() == Some(ee2e_spec::MessageType::DataDelivery) && !duplicated {
                duplicated = true;
                return ee2e::runtime::TapAction::DeliverAndDuplicate;
            }
            ee2e::runtime::TapAction::Deliver
        });
        let sent = messaging(&config, &mut runtime, &phones).expect("messaging");
        let problems = check(&runtime, &phones, config.size, &sent);
        assert!(problems.iter().any(|p| p.contains("again or late")), "{problems:?}");
    }

    #[test]
    fn configurations_out_of_bounds_are_refused_with_the_bound() {
        let ok = small(Profile::SEED);
        assert!(ok.validate().is_ok());
        let refused = |c: LoadConfig| match c.validate() {
            Err(LoadError::Config(why)) => why,
            other => panic!("{other:?}"),
        };
        assert!(refused(LoadConfig { clients: MAX_CLIENTS + 1, ..ok.clone() }).contains("from 2 to"));
        assert!(refused(LoadConfig { clients: 1, ..ok.clone() }).contains("from 2 to"));
        assert!(refused(LoadConfig { peers: 3, ..ok.clone() }).contains("clients − 1"));
        assert!(refused(LoadConfig { size: HEADER - 1, ..ok.clone() }).contains("load header"));
        assert!(refused(LoadConfig { size: MAX_SIZE + 1, ..ok.clone() }).contains("load header"));
        assert!(refused(LoadConfig { presence: Presence::Churn(1.5), ..ok.clone() }).contains("probability"));
        assert!(matches!(run(&LoadConfig { peers: 0, ..ok }, None), Err(LoadError::Config(_))));
    }
}
