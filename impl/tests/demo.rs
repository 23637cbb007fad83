//! The demo scenario as an integration test, run in both profiles: two clients register,
//! set up a session, exchange messages both ways; Bob goes offline, Alice sends three
//! messages, Bob reconnects and receives all three exactly once, in order; every ACK verifies.

use ee2e::keystore::Keystore;
use ee2e::runtime::{Address, Runtime};
use ee2e_fixtures as fixtures;
use ee2e_spec::{ClientEvent, Profile, Role, Store};

fn demo_scenario(profile: Profile) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let mut rt = Runtime::builder(profile, fixtures::server_key()).seed([7; 32]).build().expect("runtime");
    for (name, phone) in [("alice", &alice), ("bob", &bob)] {
        let keystore = Keystore::create(tmp.path().join(name)).expect("keystore");
        let key = fixtures::named(name).expect("fixture key");
        rt.add_client(phone.clone(), key, Some(keystore)).expect("add client");
        let entry = rt.register_client(phone).expect("registration");
        assert_eq!(entry.phone, *phone);
    }

    rt.start_session(&alice, &bob).expect("session");
    assert!(
        rt.events(&bob).iter().any(|e| matches!(e,
            ClientEvent::SessionEstablished { peer, role: Role::Responder, .. } if *peer == alice)),
        "bob holds the session"
    );

    let mut alice_ids = vec![rt.send(&alice, &bob, b"Hi Bob, it's Alice.").expect("send")];
    let bob_id = rt.send(&bob, &alice, b"Hi Alice! Bob here.").expect("send");

    rt.disconnect(&bob).expect("disconnect");
    assert!(!rt.is_online(&bob));
    let offline: Vec<String> = (1..=3).map(|i| format!("offline message {i}")).collect();
    for text in &offline {
        alice_ids.push(rt.send(&alice, &bob, text.as_bytes()).expect("send while bob is offline"));
    }
    assert_eq!(rt.store().queue_len(&bob).expect("queue"), 3, "the server stored the three messages");
    assert_eq!(rt.accepted(&bob).len(), 1, "nothing reaches bob while offline");

    rt.connect(&bob).expect("reconnect");
    assert_eq!(rt.store().queue_len(&bob).expect("queue"), 0, "the queue is emptied on delivery");

    let received: Vec<Vec<u8>> = rt.accepted(&bob).iter().map(|m| m.plaintext.as_slice().to_vec()).collect();
    let mut expected = vec![b"Hi Bob, it's Alice.".to_vec()];
    expected.extend(offline.iter().map(|t| t.as_bytes().to_vec()));
    assert_eq!(received, expected, "each message exactly once, in order");
    assert!(rt.accepted(&bob).iter().all(|m| m.from == alice));
    let seqs: Vec<Option<u64>> = rt.accepted(&bob).iter().map(|m| m.seq).collect();
    if profile == Profile::SEED {
        assert_eq!(seqs, vec![None; 4]);
    } else {
        assert_eq!(seqs, vec![Some(0), Some(1), Some(2), Some(3)]);
    }
    assert_eq!(rt.accepted(&alice).len(), 1);

    assert_eq!(rt.acked(&alice), alice_ids, "every ACK to alice verified");
    assert_eq!(rt.acked(&bob), vec![bob_id], "the ACK to bob verified");
    assert!(rt.client(&alice).expect("alice").outstanding().is_empty());
    assert!(rt.client(&bob).expect("bob").outstanding().is_empty());

    let failures: Vec<String> =
        rt.transcript().iter().filter(|r| r.is_failure()).map(|r| r.describe()).collect();
    assert!(failures.is_empty(), "no failure anywhere: {failures:?}");
    assert_eq!(rt.in_flight(), 0);
    assert!(
        rt.log().iter().all(|o| o.envelope.to != Address::Client(bob.clone()) || o.envelope.kind().is_some())
    );

    // The keystores hold what the cores persisted.
    let ks = rt.keystore(&alice).expect("keystore");
    assert_eq!(ks.own_entry().expect("own entry").map(|e| e.phone), Some(alice.clone()));
    assert_eq!(
        ks.peers().expect("peers").iter().map(|e| e.phone.clone()).collect::<Vec<_>>(),
        vec![bob.clone()]
    );
    let sessions = ks.sessions().expect("sessions");
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].role, Role::Initiator);
    let bob_sessions = rt.keystore(&bob).expect("keystore").sessions().expect("sessions");
    assert_eq!(bob_sessions.len(), 1);
    assert_eq!(bob_sessions[0].key(), sessions[0].key(), "both ends hold the same K");
    assert_eq!(
        ks.load_private_key().expect("key").public_key_der(),
        fixtures::named("alice").unwrap().public_key_der()
    );
}

#[test]
fn demo_completes_in_seed_profile() {
    demo_scenario(Profile::SEED);
}

#[test]
fn demo_completes_in_hardened_profile() {
    demo_scenario(Profile::HARDENED);
}

/// The scripted demo of `ee2e::demo` over a runtime with both fixture parties: every check
/// holds, in order, and the summary counts what happened.
fn scripted_demo(profile: Profile) {
    use ee2e::demo::{Check, Demo, Step};
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let mut rt = Runtime::builder(profile, fixtures::server_key()).seed([9; 32]).build().expect("runtime");
    for (name, phone) in [("alice", &alice), ("bob", &bob)] {
        rt.add_client(phone.clone(), fixtures::named(name).expect("fixture key"), None).expect("add client");
    }
    let (mut checks, mut records) = (Vec::new(), 0);
    let mut observe = |step: Step<'_>| match step {
        Step::Checked(check) => checks.push(check.clone()),
        Step::Record(_) => records += 1,
        Step::Did { .. } => {}
    };
    let summary = Demo::new(rt, alice.clone(), bob.clone(), &mut observe).run().expect("every step succeeds");
    assert_eq!(summary.messages, 5, "two exchanged messages and three offline ones");
    assert_eq!(summary.acks, 5);
    assert!(records > 20, "{records} records");
    assert_eq!(checks.first(), Some(&Check::Registered(alice.clone())));
    assert!(checks.contains(&Check::Stored { phone: bob.clone(), queued: 3 }), "{checks:?}");
    assert!(checks.contains(&Check::OfflineDelivered(bob)), "{checks:?}");
    assert_eq!(checks.last(), Some(&Check::NoFailure));
}

#[test]
fn scripted_demo_succeeds_in_seed() {
    scripted_demo(Profile::SEED);
}

#[test]
fn scripted_demo_succeeds_in_hardened() {
    scripted_demo(Profile::HARDENED);
}

/// A party the runtime does not hold stops the script at its first step, with the runtime's error.
#[test]
fn scripted_demo_stops_at_the_first_failing_step() {
    use ee2e::demo::{Demo, DemoError, DemoFailure};
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    let mut rt = Runtime::builder(Profile::HARDENED, fixtures::server_key()).build().expect("runtime");
    rt.add_client(alice.clone(), fixtures::named("alice").expect("fixture key"), None).expect("add client");
    let mut observe = |_: ee2e::demo::Step<'_>| {};
    let failure = Demo::new(rt, alice, bob, &mut observe).run().expect_err("bob is no client");
    assert!(
        matches!(&failure, DemoFailure { step: "1.1 registration request", error: DemoError::Runtime(_) }),
        "{failure:?}"
    );
}
