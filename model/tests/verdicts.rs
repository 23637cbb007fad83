//! The model's verdicts under the default threat model `network` and default bounds
//! (1 key exchange, 1 message per direction, 2 injections): the seed's attacks are found, the
//! hardened profile holds every property, and every reachability property is witnessed.

use ee2e_model::run::{RunReport, Status, run};
use ee2e_model::{Bounds, Config, Scenario, Threat};
use ee2e_spec::Profile;

fn check(profile: Profile, scenario: Scenario) -> RunReport {
    run(Config { profile, threat: Threat::Network, scenario, bounds: Bounds::for_scenario(scenario) }, 2)
}

/// Verdict properties (not coverage probes) with `status`.
fn with_status(report: &RunReport, status: Status) -> Vec<&'static str> {
    report.properties.iter().filter(|p| p.kind != "covers" && p.status == status).map(|p| p.name).collect()
}

#[test]
fn seed_registration_violates_registration_binding_and_key_possession() {
    let r = check(Profile::SEED, Scenario::Registration);
    assert_eq!(with_status(&r, Status::Violated), ["registration_binding", "key_possession"]);
    assert_eq!(with_status(&r, Status::NotWitnessed), Vec::<&str>::new());
    // The shortest attacks: the offline OTP guess (4 steps) and E registering B's key (2 steps).
    let binding = r.property("registration_binding").unwrap();
    assert!(
        binding.trace.iter().any(|s| s.action.contains("registration built from a known OTP")),
        "{:?}",
        binding.trace
    );
    assert_eq!(r.property("key_possession").unwrap().trace.len(), 2);
}

#[test]
fn seed_messaging_violates_every_messaging_property() {
    let r = check(Profile::SEED, Scenario::Messaging);
    assert_eq!(
        with_status(&r, Status::Violated),
        [
            "directory_binding",
            "session_key_secrecy",
            "key_transport_agreement",
            "message_authenticity",
            "message_no_replay",
            "message_confidentiality",
            "ack_authenticity"
        ]
    );
    assert_eq!(with_status(&r, Status::NotWitnessed), Vec::<&str>::new());
    // Directory substitution is the shortest attack: A asks for B's key, the attacker answers
    // with E's signed key relabelled as B's.
    let trace = &r.property("directory_binding").unwrap().trace;
    assert_eq!(trace.len(), 2);
    assert!(trace[1].action.contains("PeerKey(B, pk(E), sig(S, pk(E)))"), "{trace:?}");
}

#[test]
fn hardened_registration_holds_every_property() {
    let r = check(Profile::HARDENED, Scenario::Registration);
    assert_eq!(with_status(&r, Status::Violated), Vec::<&str>::new());
    assert_eq!(with_status(&r, Status::NotWitnessed), Vec::<&str>::new());
    // Pinned: any change to the state space shows up here in review.
    assert_eq!(r.unique_states, 93_974);
}

#[test]
fn hardened_messaging_holds_every_property() {
    let r = check(Profile::HARDENED, Scenario::Messaging);
    assert_eq!(with_status(&r, Status::Violated), Vec::<&str>::new());
    assert_eq!(with_status(&r, Status::NotWitnessed), Vec::<&str>::new());
    assert_eq!(r.unique_states, 370_804);
}

#[test]
fn seed_lifecycle_violates_every_property() {
    let r = check(Profile::SEED, Scenario::Lifecycle);
    assert_eq!(with_status(&r, Status::Holds), Vec::<&str>::new());
    assert_eq!(with_status(&r, Status::NotWitnessed), Vec::<&str>::new());
    assert_eq!(with_status(&r, Status::Violated).len(), 9);
}

#[test]
fn hardened_lifecycle_holds_every_property_across_phases() {
    let r = check(Profile::HARDENED, Scenario::Lifecycle);
    assert_eq!(with_status(&r, Status::Violated), Vec::<&str>::new());
    assert_eq!(with_status(&r, Status::NotWitnessed), Vec::<&str>::new());
    assert_eq!(r.unique_states, 170_107);
    // B's re-registration replaced its entry while A could hold the old one.
    assert_eq!(r.property("entry_replaced").map(|p| p.status), Some(Status::Witnessed));
}

#[test]
fn hardened_registration_reaches_lockout_expiry_and_rate_limit() {
    let r = check(Profile::HARDENED, Scenario::Registration);
    for probe in ["too_many_attempts", "otp_expired", "rate_limited", "error_reply_handled"] {
        let p = r.property(probe).unwrap_or_else(|| panic!("{probe}"));
        assert_eq!(p.status, Status::Witnessed, "{probe}");
        assert!(!p.trace.is_empty(), "{probe}");
    }
}
