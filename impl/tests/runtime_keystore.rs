//! The runtime with client keystores (SPEC.md §2.2): a step is written before anything of it
//! leaves, a failed write stops it, and a client restarted from its keystore refuses what it
//! refused before and never reuses a sequence number.

use std::fs;

use ee2e::codec;
use ee2e::keystore::{Keystore, KeystoreError};
use ee2e::runtime::{Address, Incident, Runtime, RuntimeError};
use ee2e_fixtures as fixtures;
use ee2e_spec::{ClientError, MessageType, Params, Phone, Profile, Rejection};

struct Two {
    rt: Runtime,
    alice: Phone,
    bob: Phone,
    _dir: tempfile::TempDir,
}

/// Alice and Bob registered, online, each with a keystore.
fn two() -> Two {
    let dir = tempfile::tempdir().expect("tempdir");
    let params = Params { pbkdf2_iterations: 1, ..Params::default() };
    let mut rt = Runtime::builder(Profile::HARDENED, fixtures::server_key())
        .params(params)
        .seed([4; 32])
        .build()
        .expect("runtime");
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    for (name, phone) in [("alice", &alice), ("bob", &bob)] {
        let keystore = Keystore::create(dir.path().join(name)).expect("keystore");
        rt.add_client(phone.clone(), fixtures::named(name).expect("key"), Some(keystore)).expect("add");
        rt.register_client(phone).expect("registers");
    }
    Two { rt, alice, bob, _dir: dir }
}

/// The types of the messages `from` put on the network.
fn sent_by(rt: &Runtime, from: &Phone) -> Vec<MessageType> {
    rt.log()
        .iter()
        .filter(|o| o.envelope.from == Address::Client(from.clone()))
        .map(|o| codec::decode(rt.profile().wire(), &o.envelope.bytes).expect("decodes").kind())
        .collect()
}

/// Alice's session key cannot be written: she sends no key transport for it, keeps no
/// session, and the transcript names the keystore failure.
#[test]
fn a_failed_session_key_write_stops_the_key_transport() {
    let Two { mut rt, alice, bob, _dir } = two();
    let sessions = rt.keystore(&alice).unwrap().dir().join("sessions");
    fs::remove_dir(&sessions).unwrap();
    fs::write(&sessions, b"not a directory").unwrap();
    let error = rt.start_session(&alice, &bob).unwrap_err();
    assert!(matches!(error, RuntimeError::Incomplete { what: "session set-up", .. }), "{error}");
    assert!(!sent_by(&rt, &alice).contains(&MessageType::KeyTransport));
    assert!(rt.client(&alice).unwrap().sessions().is_empty());
    assert!(rt.client(&alice).unwrap().lookups().contains(&bob), "the lookup is as before the step");
    assert!(rt.client(&bob).unwrap().sessions().is_empty());
    let incidents = rt.incidents();
    assert!(
        incidents.iter().any(|(node, i)| **node == Address::Client(alice.clone())
            && matches!(i, Incident::Keystore(KeystoreError::Io { path, .. }) if path.starts_with(&sessions))),
        "{incidents:?}"
    );
}

/// Alice's state cannot be written: `send` fails with the keystore error, nothing is sent,
/// and her counter and outstanding list are as before.
#[test]
fn a_failed_state_write_stops_the_send() {
    let Two { mut rt, alice, bob, _dir } = two();
    rt.start_session(&alice, &bob).expect("session");
    let state = rt.keystore(&alice).unwrap().dir().join("state.json");
    fs::remove_file(&state).unwrap();
    fs::create_dir(&state).unwrap();
    let before = rt.client(&alice).unwrap().clone();
    let data_before = sent_by(&rt, &alice).iter().filter(|k| **k == MessageType::Data).count();
    let error = rt.send(&alice, &bob, b"never").unwrap_err();
    assert!(matches!(error, RuntimeError::Keystore(KeystoreError::Io { .. })), "{error}");
    assert_eq!(*rt.client(&alice).unwrap(), before);
    assert_eq!(sent_by(&rt, &alice).iter().filter(|k| **k == MessageType::Data).count(), data_before);
    assert!(rt.accepted(&bob).is_empty());
}

/// Restarted from their keystores, Bob refuses a replay of a message and of the key
/// transport, and Alice continues her sequence numbers and still matches the ACK of a message
/// sent before her restart.
#[test]
fn clients_restarted_from_their_keystores_refuse_replays_and_reuse_no_number() {
    let Two { mut rt, alice, bob, _dir } = two();
    rt.start_session(&alice, &bob).expect("session");
    rt.send(&alice, &bob, b"one").expect("send");
    let to_bob = |rt: &Runtime, kind: MessageType| {
        rt.log()
            .iter()
            .rev()
            .find(|o| {
                o.envelope.to == Address::Client(bob.clone())
                    && codec::decode(rt.profile().wire(), &o.envelope.bytes).unwrap().kind() == kind
            })
            .map(|o| o.envelope.clone())
            .expect("an envelope")
    };
    let data = to_bob(&rt, MessageType::DataDelivery);
    let key = to_bob(&rt, MessageType::KeyDelivery);
    // Alice sends "two" while Bob is offline, then both restart; the ACK arrives after.
    rt.disconnect(&bob).expect("offline");
    rt.send(&alice, &bob, b"two").expect("send");
    rt.restart_client(&alice).expect("alice restarts");
    rt.restart_client(&bob).expect("bob restarts");
    rt.inject(data);
    rt.inject(key);
    rt.connect(&bob).expect("online");
    let errors: Vec<_> = rt.client_errors(&bob).into_iter().map(|(k, e)| (k, e.clone())).collect();
    assert_eq!(
        errors,
        [
            (MessageType::DataDelivery, ClientError::Rejected(Rejection::ReplayedMessage(0))),
            (MessageType::KeyDelivery, ClientError::Rejected(Rejection::ReplayedKeyTransport)),
            // Alice's restart sent her outbox ("two") again: the second copy is refused.
            (MessageType::DataDelivery, ClientError::Rejected(Rejection::ReplayedMessage(1))),
        ]
    );
    let seqs: Vec<_> = rt.accepted(&bob).iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [Some(0), Some(1)]);
    rt.send(&alice, &bob, b"three").expect("send");
    let seqs: Vec<_> = rt.accepted(&bob).iter().map(|m| m.seq).collect();
    assert_eq!(seqs, [Some(0), Some(1), Some(2)], "no number used twice");
    // Every message's ACK matched, including "two", sent before Alice restarted.
    assert_eq!(rt.acked(&alice), [0, 1, 2]);
    assert!(rt.client(&alice).unwrap().outstanding().is_empty());
    // The state on disk says the same.
    let (saved, _) = rt.keystore(&alice).unwrap().load().unwrap();
    assert_eq!(saved.state.unwrap(), rt.client(&alice).unwrap().state());
}
