//! Each hardened change is necessary: removing it lets the model find an attack on the
//! property it protects (SPEC.md §12). This also shows the properties are not vacuous.

use ee2e_model::properties::negation;
use ee2e_model::symbolic::shortest;
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::{Fix, Profile};

/// Searches breadth-first for the shortest violation of `property` in `profile`.
fn attack(profile: Profile, scenario: Scenario, bounds: Bounds, property: &'static str) -> Option<usize> {
    let model = Ee2eModel::new(Config { profile, threat: Threat::Network, scenario, bounds });
    shortest(&model, &[(property, negation(property).expect("a property"))], 3_000_000)
        .remove(0)
        .map(|trace| trace.len())
}

fn assert_necessary(fix: Fix, scenario: Scenario, property: &'static str) {
    assert_necessary_within(fix, scenario, Bounds::default(), property);
}

fn assert_necessary_within(fix: Fix, scenario: Scenario, bounds: Bounds, property: &'static str) {
    let weakened = Profile::HARDENED.without(fix);
    let steps = attack(weakened, scenario, bounds, property);
    assert!(steps.is_some(), "{weakened}: expected an attack on {property}");
    eprintln!("{weakened}: {property} violated in {} steps", steps.unwrap_or(0));
}

#[test]
fn removing_directory_binding_breaks_directory_binding() {
    assert_necessary(Fix::DirectoryBinding, Scenario::Messaging, "directory_binding");
}

#[test]
fn removing_transport_binding_breaks_key_transport_agreement_and_secrecy() {
    assert_necessary(Fix::TransportBinding, Scenario::Messaging, "key_transport_agreement");
    assert_necessary(Fix::TransportBinding, Scenario::Messaging, "session_key_secrecy");
}

#[test]
fn removing_transport_replay_breaks_key_transport_agreement() {
    assert_necessary(Fix::TransportReplay, Scenario::Messaging, "key_transport_agreement");
}

#[test]
fn removing_encrypt_then_mac_breaks_message_authenticity() {
    assert_necessary(Fix::EncryptThenMac, Scenario::Messaging, "message_authenticity");
}

#[test]
fn removing_replay_window_breaks_message_no_replay() {
    assert_necessary(Fix::ReplayWindow, Scenario::Messaging, "message_no_replay");
}

#[test]
fn removing_ack_binding_breaks_ack_authenticity() {
    // The attack needs two messages (the default): the ACK of the first is rewritten to name
    // the second.
    let bounds = Bounds::default();
    assert_necessary_within(Fix::AckBinding, Scenario::Messaging, bounds, "ack_authenticity");
}

#[test]
fn removing_sealed_tag_breaks_registration_binding() {
    assert_necessary(Fix::SealedTag, Scenario::Registration, "registration_binding");
}

#[test]
fn removing_otp_limits_breaks_registration_binding() {
    // At the default bounds: an online guess (two injections) is itself the submission.
    assert_necessary(Fix::OtpLimits, Scenario::Registration, "registration_binding");
}

#[test]
fn removing_possession_proof_breaks_key_possession() {
    assert_necessary(Fix::PossessionProof, Scenario::Registration, "key_possession");
}

#[test]
fn removing_encrypt_then_mac_breaks_message_no_replay() {
    // Without E4 the MAC does not cover the sequence number: A's message re-delivered with its
    // number rewritten passes the replay window.
    assert_necessary(Fix::EncryptThenMac, Scenario::Messaging, "message_no_replay");
}
