//! Load without loss under churn, in both profiles: 50 clients (the fixture keys
//! `client_key(i)`) exchange messages with random peers over the runtime, with its SQLite
//! store, while clients go offline and come back at random (seeded, so a failure reproduces).
//! At the end, with everyone back online: nothing was lost, nothing duplicated, the order of
//! every sender→recipient pair was kept, every message's ACK was verified by its sender, no
//! client or server rejected anything, and every offline queue is empty.
//!
//! Registration runs PBKDF2 at 1 iteration instead of the spec's 600 000 (it is not what is
//! tested here; 50 registrations at the real count would take about a minute).

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;

use ee2e::Bytes;
use ee2e::runtime::{Address, Entry, Runtime};
use ee2e_fixtures as fixtures;
use ee2e_spec::{ClientEvent, Params, Phone, Profile, ServerEvent, Store};

const CLIENTS: usize = 50;
const ROUNDS: usize = 12;
/// Peers each client picks its recipients from (a different random set per client).
const PEERS: usize = 5;
/// Chance, in percent, that an online client goes offline at the start of a round.
const LEAVE: u64 = 25;
/// Chance, in percent, that an offline client comes back at the start of a round.
const RETURN: u64 = 50;

fn payload(from: usize, to: usize, counter: u32) -> Vec<u8> {
    format!("churn {from:02}->{to:02} #{counter:05}").into_bytes()
}

fn parse(plaintext: &[u8]) -> Option<(usize, usize, u32)> {
    let text = std::str::from_utf8(plaintext).ok()?.strip_prefix("churn ")?;
    let (pair, counter) = text.split_once(" #")?;
    let (from, to) = pair.split_once("->")?;
    Some((from.parse().ok()?, to.parse().ok()?, counter.parse().ok()?))
}

/// What the run did.
#[derive(Debug, Default)]
struct Tally {
    messages: usize,
    sessions: usize,
    departures: usize,
    returns: usize,
    stored: usize,
}

fn churn_run(profile: Profile, seed: u64) -> Tally {
    let params = Params { pbkdf2_iterations: 1, ..Params::default() };
    let tmp = tempfile::tempdir().expect("tempdir");
    let store =
        ee2e::sqlite::SqliteStore::open(tmp.path().join("server.sqlite"), profile.wire()).expect("store");
    let mut rt = Runtime::builder(profile, fixtures::server_key())
        .params(params)
        .store(store)
        .seed([seed as u8; 32])
        .build()
        .expect("runtime");
    let phones: Vec<Phone> = (0..CLIENTS).map(fixtures::client_phone).collect();
    for (i, phone) in phones.iter().enumerate() {
        rt.register(phone, fixtures::client_key(i).expect("fixture key")).expect("registers");
    }
    let mut dice = Xoshiro256PlusPlus::seed_from_u64(seed);
    let peers: Vec<Vec<usize>> = (0..CLIENTS)
        .map(|i| {
            let mut set = Vec::new();
            while set.len() < PEERS {
                let j = dice.random_range(0..CLIENTS);
                if j != i && !set.contains(&j) {
                    set.push(j);
                }
            }
            set
        })
        .collect();
    let mut online = [true; CLIENTS];
    let mut counters: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    let mut sent_by = vec![0u64; CLIENTS];
    let mut tally = Tally::default();
    for _round in 0..ROUNDS {
        for i in 0..CLIENTS {
            if online[i] && dice.random_range(0..100u64) < LEAVE {
                rt.disconnect(&phones[i]).expect("disconnect");
                online[i] = false;
                tally.departures += 1;
            } else if !online[i] && dice.random_range(0..100u64) < RETURN {
                rt.connect(&phones[i]).expect("connect");
                online[i] = true;
                tally.returns += 1;
            }
        }
        for i in (0..CLIENTS).filter(|i| online[*i]) {
            let j = peers[i][dice.random_range(0..PEERS)];
            let has_session = rt.client(&phones[i]).expect("client").session_with(&phones[j]).is_some();
            if !has_session {
                // The recipient may be offline: it gets the key transport when it returns,
                // before any message of this session (its queue is in order).
                rt.start_session(&phones[i], &phones[j]).expect("session set-up");
                tally.sessions += 1;
            }
            let counter = counters.entry((i, j)).or_insert(0);
            let plaintext = Bytes::secret(payload(i, j, *counter));
            *counter += 1;
            sent_by[i] += 1;
            tally.messages += 1;
            rt.act(&phones[i], |client, rng| client.send(&phones[j], &plaintext, rng)).expect("send");
        }
        rt.run_until_idle().expect("idle");
    }
    for i in (0..CLIENTS).filter(|i| !online[*i]) {
        rt.connect(&phones[i]).expect("everyone comes back");
    }
    rt.run_until_idle().expect("idle");

    // ---- checks ----
    let index: BTreeMap<&Phone, usize> = phones.iter().enumerate().map(|(i, p)| (p, i)).collect();
    let mut next: BTreeMap<(usize, usize), u32> = BTreeMap::new();
    let mut acked: Vec<Vec<u64>> = vec![Vec::new(); CLIENTS];
    for record in rt.transcript() {
        let here = match &record.node {
            Address::Client(phone) => Some(index[phone]),
            Address::Server => None,
        };
        match (&record.entry, here) {
            (Entry::Client(ClientEvent::MessageAccepted { from, plaintext, .. }), Some(r)) => {
                let (s, to, counter) = parse(plaintext.as_slice()).expect("an intact payload");
                assert_eq!((index[from], to), (s, r), "{profile}: a message reached the wrong client");
                let expected = next.entry((s, r)).or_insert(0);
                assert_eq!(counter, *expected, "{profile}: {s}→{r} out of order, lost or duplicated");
                *expected += 1;
            }
            (Entry::Client(ClientEvent::AckAccepted { id, .. }), Some(r)) => acked[r].push(*id),
            (Entry::ClientError { kind, error }, _) => {
                panic!("{profile}: {} rejected a {kind:?}: {error}", record.node)
            }
            (Entry::Server(ServerEvent::Rejected { from, error }), _) => {
                panic!("{profile}: the server rejected a message from {from}: {error}")
            }
            (Entry::Server(ServerEvent::Stored { .. }), _) => tally.stored += 1,
            (Entry::Incident(incident), _) => panic!("{profile}: incident at {}: {incident:?}", record.node),
            _ => {}
        }
    }
    assert_eq!(next, counters, "{profile}: every message of every pair was accepted");
    for (i, ids) in acked.iter_mut().enumerate() {
        ids.sort_unstable();
        assert_eq!(*ids, (0..sent_by[i]).collect::<Vec<_>>(), "{profile}: ACKs of client {i}, each once");
        assert!(rt.client(&phones[i]).expect("client").outstanding().is_empty());
        assert_eq!(rt.store().queue_len(&phones[i]), Ok(0), "{profile}: queue of client {i} is empty");
    }
    tally
}

#[test]
fn fifty_clients_with_churn_lose_nothing_in_both_profiles() {
    for (profile, seed) in [(Profile::SEED, 0xc4a2_0001), (Profile::HARDENED, 0xc4a2_0002)] {
        let tally = churn_run(profile, seed);
        eprintln!("churn load ({profile}, {CLIENTS} clients, {ROUNDS} rounds): {tally:?}");
        assert!(tally.departures > 0 && tally.returns > 0 && tally.stored > 0, "{tally:?}");
        assert!(tally.messages >= CLIENTS * ROUNDS / 2, "{tally:?}");
    }
}
