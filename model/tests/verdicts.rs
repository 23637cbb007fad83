//! The model's verdicts under the default threat model `network` and the default bounds of
//! each scenario (`Bounds::defaults`): the seed's attacks are found, the hardened profile holds
//! every property, and every reachability property is witnessed.

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

/// No verdict property is violated and every reachability property is witnessed.
fn assert_holds_everything(report: &RunReport) {
    assert_eq!(with_status(report, Status::Violated), Vec::<&str>::new());
    assert_eq!(with_status(report, Status::NotWitnessed), Vec::<&str>::new());
}

#[test]
fn seed_registration_violates_registration_binding_and_key_possession() {
    let r = check(Profile::SEED, Scenario::Registration);
    assert_eq!(with_status(&r, Status::Violated), ["registration_binding", "key_possession"]);
    assert_eq!(with_status(&r, Status::NotWitnessed), Vec::<&str>::new());
    // The shortest attacks: the online OTP guess (3 steps: the seed sets no attempt limit, so
    // E's own submission for A's phone gets through) and E registering B's key (2 steps).
    let binding = r.property("registration_binding").unwrap();
    assert_eq!(binding.trace.len(), 3, "{:?}", binding.trace);
    assert!(binding.trace[2].action.starts_with("attacker guesses online"), "{:?}", binding.trace);
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
    assert_holds_everything(&r);
    // Pinned: any change to the state space shows up here in review.
    assert_eq!(r.unique_states, 93_974);
}

#[test]
fn hardened_messaging_holds_every_property() {
    let r = check(Profile::HARDENED, Scenario::Messaging);
    assert_holds_everything(&r);
    // Split (run::split_offline_spell): 1 585 states without the spell, 463 attacker-free
    // with it (39 261 explored whole).
    assert_eq!(r.spell_split.map(|s| (s.without_spell, s.attacker_free_spell)), Some((1_585, 463)));
    assert_eq!(r.unique_states, 2_048);
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
    assert_holds_everything(&r);
    // Split: 2 229 + 1 515 states (24 221 explored whole).
    assert_eq!(r.unique_states, 3_744);
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

/// The Explorer's step text judges the state it shows: at the end of the 2-step seed
/// `directory_binding` attack it says the property is violated there.
#[test]
fn the_explorer_step_text_shows_the_violation_in_the_attack_state() {
    use ee2e_model::Ee2eModel;
    use stateright::Model;
    let config = Config {
        profile: Profile::SEED,
        threat: Threat::Network,
        scenario: Scenario::Messaging,
        bounds: Bounds::default(),
    };
    let model = Ee2eModel::new(config).without_reduction();
    let init = model.init_states().remove(0);
    let trace = ee2e_model::symbolic::shortest(
        &model,
        &[("directory_binding", ee2e_model::properties::negation("directory_binding").expect("a property"))],
        100_000,
    )
    .remove(0)
    .expect("the seed attack");
    let mut state = init;
    for action in &trace[..trace.len() - 1] {
        let before = model.format_step(&state, action.clone()).expect("step");
        assert!(before.contains("violated: none"), "{before}");
        state = model.next_state(&state, action.clone()).expect("step");
    }
    let last = model.format_step(&state, trace[trace.len() - 1].clone()).expect("last step");
    assert!(last.contains("in this state: violated: directory_binding, session_key_secrecy"), "{last}");
}

/// The default check's second `messaging` run: a key exchange by each initiator, two messages
/// per direction, two injections, B online throughout.
#[test]
fn hardened_messaging_with_both_initiators_holds_every_property() {
    let bounds = Bounds::defaults(Scenario::Messaging)[1];
    assert_eq!((bounds.sessions, bounds.b_sessions, bounds.messages, bounds.injections), (1, 1, 2, 2));
    assert_eq!(bounds.offline_spells, 0);
    let config =
        Config { profile: Profile::HARDENED, threat: Threat::Network, scenario: Scenario::Messaging, bounds };
    assert_eq!(config.label(), "messaging-ab");
    let r = run(config, 2);
    assert_holds_everything(&r);
    assert_eq!(with_status(&r, Status::NotExercised), vec!["offline_message_delivered"]);
    assert_eq!(r.unique_states, 328_908);
    for probe in ["b_initiates_session", "sessions_overlap"] {
        assert_eq!(r.property(probe).map(|p| p.status), Some(Status::Witnessed), "{probe}");
    }
}

/// After a Ctrl-C the report must come at once: the shortest-trace search gives up as soon
/// as it is told to stop (the checker's own paths then stand in), and an interrupted run is
/// incomplete, claims nothing holds, yet keeps the violations it found.
#[test]
fn an_interrupt_stops_the_trace_search_and_the_run_reports_incomplete() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;

    use ee2e_model::Ee2eModel;
    use ee2e_model::run::{RunOptions, run_with};
    let config = Config {
        profile: Profile::SEED,
        threat: Threat::Network,
        scenario: Scenario::Messaging,
        bounds: Bounds::default(),
    };
    let model = Ee2eModel::new(config).without_reduction();
    let goal =
        [("directory_binding", ee2e_model::properties::negation("directory_binding").expect("a property"))];
    let found = ee2e_model::symbolic::shortest_until(&model, &goal, 100_000, &AtomicBool::new(false));
    assert!(found[0].is_some(), "the seed attack is found when not stopped");
    let stopped = ee2e_model::symbolic::shortest_until(&model, &goal, 100_000, &AtomicBool::new(true));
    assert!(stopped[0].is_none(), "a stopped search returns at once, without the trace");

    let options = RunOptions { interrupt: Arc::new(AtomicBool::new(true)), ..RunOptions::threads(1) };
    let r = run_with(config, &options);
    assert!(!r.complete);
    assert_eq!(r.stopped.as_deref(), Some("interrupted"));
    assert_eq!(with_status(&r, Status::Holds), Vec::<&str>::new(), "an interrupted run claims nothing holds");
    for p in r.properties.iter().filter(|p| p.status == Status::Violated) {
        assert!(!p.trace.is_empty(), "{} is reported with the checker's own path", p.name);
    }
}

/// Splitting B's offline spell (`run::split_offline_spell`) gives every property the status
/// the full exploration gives it, in far fewer states.
#[test]
fn splitting_the_offline_spell_changes_no_status() {
    use ee2e_model::run::{RunOptions, run_with};
    let config = Config {
        profile: Profile::HARDENED,
        threat: Threat::Network,
        scenario: Scenario::Messaging,
        bounds: Bounds::default(),
    };
    let full = run_with(config, &RunOptions { split_spell: false, ..RunOptions::threads(2) });
    let split = run_with(config, &RunOptions::threads(2));
    let statuses = |r: &RunReport| r.properties.iter().map(|p| (p.name, p.status)).collect::<Vec<_>>();
    assert_eq!(statuses(&split), statuses(&full));
    assert!(split.spell_split.is_some() && full.spell_split.is_none());
    assert!(split.unique_states < full.unique_states, "{} vs {}", split.unique_states, full.unique_states);
}
