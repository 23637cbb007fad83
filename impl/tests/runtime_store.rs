//! The runtime over an SQLite file: the tables exist, and messages the server accepted for an
//! offline client are on disk before it reconnects.

use std::path::Path;

use ee2e::runtime::Runtime;
use ee2e::sqlite::SqliteStore;
use ee2e_fixtures as fixtures;
use ee2e_spec::{Profile, Store};

fn tables(store: &SqliteStore) -> Vec<String> {
    store.tables().expect("tables")
}

/// A runtime over the SQLite file `path` (random source seeded with `seed`) in which alice
/// and bob registered, alice opened a session with bob, bob went offline and alice sent him
/// "one", "two" and "three": three messages wait in his queue.
fn three_queued_for_bob(profile: Profile, path: &Path, seed: [u8; 32]) -> Runtime {
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let store = SqliteStore::open(path, profile.wire()).expect("open");
    let mut rt =
        Runtime::builder(profile, fixtures::server_key()).store(store).seed(seed).build().expect("runtime");
    rt.register(&alice, fixtures::named("alice").expect("key")).expect("register");
    rt.register(&bob, fixtures::named("bob").expect("key")).expect("register");
    rt.start_session(&alice, &bob).expect("session");
    rt.disconnect(&bob).expect("bob offline");
    for text in ["one", "two", "three"] {
        rt.send(&alice, &bob, text.as_bytes()).expect("send");
    }
    rt
}

fn file_store_run(profile: Profile) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("server.sqlite");
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let mut rt = three_queued_for_bob(profile, &path, [9; 32]);

    // Another connection to the file sees the committed queue and directory.
    let other = SqliteStore::open(&path, profile.wire()).expect("second connection");
    assert_eq!(other.queue_len(&bob).expect("queue"), 3);
    assert!(other.entry(&alice).expect("entry").is_some());

    rt.connect(&bob).expect("connect");
    assert_eq!(rt.accepted(&bob).len(), 3);
    assert_eq!(other.queue_len(&bob).expect("queue"), 0);
    drop(rt);

    let reopened = SqliteStore::open(&path, profile.wire()).expect("reopen");
    assert_eq!(tables(&reopened), vec!["directory", "otp_request", "pending_otp", "queue"]);
    assert!(reopened.entry(&bob).expect("entry").is_some(), "the directory survives a restart");
}

#[test]
fn seed_runtime_keeps_its_tables_in_an_sqlite_file() {
    file_store_run(Profile::SEED);
}

#[test]
fn hardened_runtime_keeps_its_tables_in_an_sqlite_file() {
    file_store_run(Profile::HARDENED);
}

/// Group commit (SPEC.md §14): the server steps of one run share a transaction, and an
/// output of the run leaves only after every write of the run is on disk. Alice seals a
/// message to Carol (online: relayed) and then one to Bob (offline: stored); both Data
/// messages reach the server in one run. When the tap sees the relay to Carol, Bob's stored
/// message — written by the *later* step — must already be visible to another connection;
/// step by step it would not be written yet.
#[test]
fn a_run_of_server_steps_is_committed_before_any_of_its_outputs_leaves() {
    use std::cell::Cell;
    use std::rc::Rc;

    use ee2e::Bytes;
    use ee2e::runtime::{Envelope, TapAction};
    use ee2e_spec::MessageType;

    let profile = Profile::HARDENED;
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("server.sqlite");
    let (alice, bob, carol) = (fixtures::phone("alice"), fixtures::phone("bob"), fixtures::phone("carol"));
    let store = SqliteStore::open(&path, profile.wire()).expect("open");
    let mut rt = Runtime::builder(profile, fixtures::server_key())
        .store(store)
        .seed([3; 32])
        .build()
        .expect("runtime");
    for (phone, name) in [(&alice, "alice"), (&bob, "bob"), (&carol, "carol")] {
        rt.register(phone, fixtures::named(name).expect("key")).expect("register");
    }
    rt.start_session(&alice, &bob).expect("session with bob");
    rt.start_session(&alice, &carol).expect("session with carol");
    rt.disconnect(&bob).expect("bob offline");

    let other = SqliteStore::open(&path, profile.wire()).expect("second connection");
    let seen: Rc<Cell<Option<usize>>> = Rc::new(Cell::new(None));
    let seen_in_tap = Rc::clone(&seen);
    let bob_in_tap = bob.clone();
    rt.set_tap(move |envelope: &Envelope| {
        if envelope.kind() == Some(MessageType::DataDelivery) && seen_in_tap.get().is_none() {
            seen_in_tap.set(Some(other.queue_len(&bob_in_tap).expect("queue")));
        }
        TapAction::Deliver
    });
    for to in [&carol, &bob] {
        let text = Bytes::secret(b"grouped".to_vec());
        rt.act(&alice, |client, rng| client.send(to, &text, rng)).expect("send");
    }
    let commits = rt.store().group_commits();
    rt.run_until_idle().expect("deliver");
    assert_eq!(seen.get(), Some(1), "Bob's stored message was committed before Carol's relay left");
    // The two Data steps were one group; Carol's ACK then came as a second run.
    assert_eq!(rt.store().group_commits() - commits, 2);
    assert_eq!(rt.accepted(&carol).len(), 1);
    assert_eq!(rt.store().queue_len(&bob).expect("queue"), 1);
    rt.clear_tap();
    rt.connect(&bob).expect("bob back");
    assert_eq!(rt.accepted(&bob).len(), 1);
}

/// Group commit of confirmations (SPEC.md §14): Bob comes back to three stored messages. He
/// handles each (his ACK leaves at once), but the server's removals from the queue are
/// committed together after the run: when his third ACK leaves, another connection still
/// sees all three queued (one by one, two would be gone). After the run the queue is empty
/// and each message was accepted once, in order.
#[test]
fn confirmations_of_a_run_of_stored_deliveries_are_committed_together() {
    use std::cell::RefCell;
    use std::rc::Rc;

    use ee2e::runtime::{Envelope, TapAction};
    use ee2e_spec::MessageType;

    let profile = Profile::HARDENED;
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("server.sqlite");
    let bob = fixtures::phone("bob");
    let mut rt = three_queued_for_bob(profile, &path, [5; 32]);
    let other = SqliteStore::open(&path, profile.wire()).expect("second connection");
    assert_eq!(other.queue_len(&bob).expect("queue"), 3);

    let queued_at_acks: Rc<RefCell<Vec<usize>>> = Rc::default();
    let in_tap = Rc::clone(&queued_at_acks);
    let bob_in_tap = bob.clone();
    rt.set_tap(move |envelope: &Envelope| {
        if envelope.kind() == Some(MessageType::Ack) {
            in_tap.borrow_mut().push(other.queue_len(&bob_in_tap).expect("queue"));
        }
        TapAction::Deliver
    });
    rt.connect(&bob).expect("bob back");
    assert_eq!(*queued_at_acks.borrow(), vec![3, 3, 3], "no removal committed before the run ends");
    rt.clear_tap();
    assert_eq!(rt.store().queue_len(&bob).expect("queue"), 0);
    let texts: Vec<Vec<u8>> = rt.accepted(&bob).iter().map(|m| m.plaintext.as_slice().to_vec()).collect();
    assert_eq!(texts, [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
    let reopened = SqliteStore::open(&path, profile.wire()).expect("reopen");
    assert_eq!(reopened.queue_len(&bob).expect("queue"), 0, "the removals are on disk");
}
