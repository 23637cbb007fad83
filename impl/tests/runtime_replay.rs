//! Attacks through the network tap and protocol error paths, run against the concrete
//! runtime in both profiles.

use std::time::Duration;

use ee2e::codec;
use ee2e::runtime::{Address, Envelope, Fate, Incident, Runtime, RuntimeError, TapAction};
use ee2e::{Bytes, ConcreteSuite};
use ee2e_fixtures as fixtures;
use ee2e_spec::{
    ClientError, ErrorCode, Message, MessageType, Phone, Profile, Rejection, Sealed, ServerError,
    ServerEvent, Store,
};

fn alice() -> Phone {
    fixtures::phone("alice")
}

fn bob() -> Phone {
    fixtures::phone("bob")
}

/// Alice and Bob registered and online, with a session from Alice to Bob.
fn with_session(profile: Profile) -> Runtime {
    let mut rt = Runtime::builder(profile, fixtures::server_key()).seed([3; 32]).build().expect("runtime");
    rt.register(&alice(), fixtures::named("alice").expect("key")).expect("register alice");
    rt.register(&bob(), fixtures::named("bob").expect("key")).expect("register bob");
    rt.start_session(&alice(), &bob()).expect("session");
    rt
}

/// The log entry of the Data envelope Alice sent (the attacker's observation).
fn observed_data_from_alice(rt: &Runtime) -> Envelope {
    rt.log()
        .iter()
        .rev()
        .find(|o| o.envelope.from == Address::Client(alice()) && o.envelope.kind() == Some(MessageType::Data))
        .map(|o| o.envelope.clone())
        .expect("alice sent a Data envelope")
}

fn replay_data_envelope(profile: Profile) -> Runtime {
    let mut rt = with_session(profile);
    let id = rt.send(&alice(), &bob(), b"transfer 100 to Eve").expect("send");
    assert_eq!(rt.acked(&alice()), vec![id]);
    let observed = observed_data_from_alice(&rt);
    let index = rt.inject(observed);
    assert_eq!(rt.log()[index].fate, Fate::Injected);
    rt.run_until_idle().expect("idle");
    rt
}

#[test]
fn seed_accepts_a_replayed_data_envelope() {
    let rt = replay_data_envelope(Profile::SEED);
    let accepted = rt.accepted(&bob());
    assert_eq!(accepted.len(), 2, "the seed flaw: bob accepts the replay");
    assert_eq!(accepted[0], accepted[1]);
    assert_eq!(accepted[1].plaintext.as_slice(), b"transfer 100 to Eve");
    assert!(rt.client_errors(&bob()).is_empty());
    // Bob acknowledges the replay too; Alice has nothing outstanding to match it to.
    assert_eq!(
        rt.client_errors(&alice()),
        vec![(MessageType::AckDelivery, &ClientError::Rejected(Rejection::UnexpectedAck))]
    );
}

#[test]
fn hardened_rejects_a_replayed_data_envelope() {
    let rt = replay_data_envelope(Profile::HARDENED);
    assert_eq!(rt.accepted(&bob()).len(), 1, "accepted once");
    assert_eq!(
        rt.client_errors(&bob()),
        vec![(MessageType::DataDelivery, &ClientError::Rejected(Rejection::ReplayedMessage(0)))]
    );
    assert!(rt.client_errors(&alice()).is_empty(), "no second ACK");
}

/// Flips the last byte of the MAC of a Data message.
fn flip_mac(bytes: &[u8], wire: ee2e_spec::Wire) -> Vec<u8> {
    let mut message = codec::decode(wire, bytes).expect("honest bytes decode");
    if let Message::Data { sealed: Sealed::Seed { mac, .. } | Sealed::Hardened { mac, .. }, .. } =
        &mut message
    {
        let mut tampered = mac.as_slice().to_vec();
        if let Some(last) = tampered.last_mut() {
            *last ^= 0x01;
        }
        *mac = Bytes::public(tampered);
    }
    codec::encode(wire, &message).expect("re-encode")
}

fn tampered_mac_is_rejected(profile: Profile) {
    let mut rt = with_session(profile);
    let wire = profile.wire();
    rt.set_tap(move |e: &Envelope| match e.kind() {
        Some(MessageType::Data) => TapAction::Replace(flip_mac(&e.bytes, wire)),
        _ => TapAction::Deliver,
    });
    rt.send(&alice(), &bob(), b"meet at noon").expect("send");
    assert!(rt.accepted(&bob()).is_empty());
    assert_eq!(
        rt.client_errors(&bob()),
        vec![(MessageType::DataDelivery, &ClientError::Rejected(Rejection::BadMac))]
    );
    assert!(rt.acked(&alice()).is_empty());
    assert!(rt.log().iter().any(|o| matches!(o.fate, Fate::Replaced(_))));
}

#[test]
fn seed_rejects_a_tampered_mac() {
    tampered_mac_is_rejected(Profile::SEED);
}

#[test]
fn hardened_rejects_a_tampered_mac() {
    tampered_mac_is_rejected(Profile::HARDENED);
}

fn expired_otp_is_rejected(profile: Profile) {
    let mut rt = Runtime::builder(profile, fixtures::server_key()).seed([5; 32]).build().expect("runtime");
    rt.add_client(alice(), fixtures::named("alice").expect("key"), None).expect("add");
    let otp = rt.request_otp(&alice()).expect("otp");
    rt.advance(Duration::from_millis(rt.params().otp_ttl_ms + 1));
    // The runtime sweeps expired OTP rows before each server step (SPEC.md §5.1), so the
    // expired OTP is gone by the time the submission arrives: `NoPendingRegistration`
    // rather than `OtpExpired` (which the core gives for an expired row not yet swept).
    let err = rt.submit_otp(&alice(), &otp).expect_err("expired");
    assert!(matches!(err, RuntimeError::Rejected { code: ErrorCode::NoPendingRegistration, .. }), "{err:?}");
    assert!(rt.server_events().iter().any(|e| matches!(e,
        ServerEvent::Rejected { error: ServerError::NoPendingRegistration(p), .. } if *p == alice())));
    assert_eq!(rt.store().pending_otp(&alice()), Ok(None), "swept");
    assert!(!rt.client(&alice()).expect("alice").is_registered());
    // A fresh OTP within its lifetime works.
    let otp = rt.request_otp(&alice()).expect("otp");
    rt.advance(Duration::from_millis(rt.params().otp_ttl_ms));
    rt.submit_otp(&alice(), &otp).expect("registration just within the lifetime");
}

#[test]
fn seed_rejects_an_expired_otp() {
    expired_otp_is_rejected(Profile::SEED);
}

#[test]
fn hardened_rejects_an_expired_otp() {
    expired_otp_is_rejected(Profile::HARDENED);
}

fn unknown_peer_is_rejected(profile: Profile) {
    let mut rt = Runtime::builder(profile, fixtures::server_key()).seed([6; 32]).build().expect("runtime");
    rt.register(&alice(), fixtures::named("alice").expect("key")).expect("register");
    let carol = fixtures::phone("carol");
    let err = rt.start_session(&alice(), &carol).expect_err("carol is not registered");
    assert!(matches!(err, RuntimeError::Rejected { code: ErrorCode::UnknownPeer, .. }), "{err:?}");
    assert!(rt.server_events().iter().any(|e| matches!(e,
        ServerEvent::Rejected { error: ServerError::UnknownPeer(p), .. } if *p == carol)));
}

#[test]
fn seed_rejects_a_key_request_for_an_unknown_peer() {
    unknown_peer_is_rejected(Profile::SEED);
}

#[test]
fn hardened_rejects_a_key_request_for_an_unknown_peer() {
    unknown_peer_is_rejected(Profile::HARDENED);
}

#[test]
fn server_ignores_undecodable_bytes() {
    let mut rt =
        Runtime::builder(Profile::HARDENED, fixtures::server_key()).seed([8; 32]).build().expect("runtime");
    let before = rt.log().len();
    for bytes in [vec![], vec![0x02], vec![0x02, 0x20, 0xff], vec![0x09, 0x01], vec![0x01, 0x01]] {
        rt.inject(Envelope { from: Address::Client(alice()), to: Address::Server, bytes });
    }
    rt.run_until_idle().expect("idle");
    assert_eq!(rt.log().len(), before + 5, "the server sent no reply");
    let incidents = rt.incidents();
    assert_eq!(incidents.len(), 5);
    assert!(
        incidents.iter().all(|(at, i)| **at == Address::Server && matches!(i, Incident::Undecodable { .. }))
    );
}

#[test]
fn client_ignores_undecodable_bytes_and_lost_envelopes_are_recorded() {
    let mut rt = with_session(Profile::HARDENED);
    rt.inject(Envelope { from: Address::Server, to: Address::Client(bob()), bytes: vec![0x02, 0x21] });
    rt.disconnect(&bob()).expect("disconnect");
    let observed =
        rt.log().iter().rev().find(|o| o.envelope.to == Address::Client(bob())).expect("some").clone();
    rt.inject(observed.envelope);
    rt.run_until_idle().expect("idle");
    let incidents = rt.incidents();
    assert!(matches!(incidents[0], (Address::Client(p), Incident::Undecodable { .. }) if *p == bob()));
    assert!(matches!(incidents[1], (Address::Client(p), Incident::Undeliverable { .. }) if *p == bob()));
    assert!(rt.client_errors(&bob()).is_empty());
}

#[test]
fn dropped_data_is_not_delivered_and_can_be_replayed_later() {
    let mut rt = with_session(Profile::HARDENED);
    rt.set_tap(
        |e: &Envelope| if e.kind() == Some(MessageType::Data) { TapAction::Drop } else { TapAction::Deliver },
    );
    rt.send(&alice(), &bob(), b"held back").expect("send");
    assert!(rt.accepted(&bob()).is_empty());
    rt.clear_tap();
    let held = observed_data_from_alice(&rt);
    rt.inject(held);
    rt.run_until_idle().expect("idle");
    assert_eq!(rt.accepted(&bob()).len(), 1, "a delayed (never delivered) message is accepted once");
    assert_eq!(rt.acked(&alice()).len(), 1);
}

#[test]
fn wire_bytes_of_the_other_profile_are_undecodable() {
    let mut rt = with_session(Profile::HARDENED);
    let seed_error =
        codec::encode(ee2e_spec::Wire::Seed, &Message::<ConcreteSuite>::Error { code: ErrorCode::Internal })
            .expect("encode");
    rt.inject(Envelope { from: Address::Server, to: Address::Client(alice()), bytes: seed_error });
    rt.run_until_idle().expect("idle");
    assert!(matches!(rt.incidents()[..], [(_, Incident::Undecodable { .. })]));
}

fn duplicated_delivery(profile: Profile) -> Runtime {
    let mut rt = with_session(profile);
    rt.set_tap(|e: &Envelope| match e.kind() {
        Some(MessageType::DataDelivery) => TapAction::DeliverAndDuplicate,
        _ => TapAction::Deliver,
    });
    rt.send(&alice(), &bob(), b"once only").expect("send");
    assert!(rt.log().iter().any(|o| o.fate == Fate::Duplicated));
    rt
}

#[test]
fn seed_accepts_a_duplicated_delivery() {
    let rt = duplicated_delivery(Profile::SEED);
    assert_eq!(rt.accepted(&bob()).len(), 2);
}

#[test]
fn hardened_rejects_a_duplicated_delivery() {
    let rt = duplicated_delivery(Profile::HARDENED);
    assert_eq!(rt.accepted(&bob()).len(), 1);
    assert_eq!(
        rt.client_errors(&bob()),
        vec![(MessageType::DataDelivery, &ClientError::Rejected(Rejection::ReplayedMessage(0)))]
    );
}
