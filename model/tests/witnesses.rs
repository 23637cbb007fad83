//! Honest witnesses: every sometimes-property is witnessed by a run of honest parties only, an
//! attacker-made message never witnesses one, and bounds that cannot exercise a property are
//! recognised before checking (and the checker agrees).

use ee2e_model::properties::{ALL, Kind, not_exercisable};
use ee2e_model::run::{Status, run, shortest_trace};
use ee2e_model::symbolic::HONEST;
use ee2e_model::view::is_attacker;
use ee2e_model::{Action, Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::Profile;
use stateright::Model;

fn config(profile: Profile, scenario: Scenario, bounds: Bounds) -> Config {
    Config { profile, threat: Threat::Network, scenario, bounds }
}

/// The state `actions` lead to from the initial state.
fn end_state(model: &Ee2eModel, actions: &[Action]) -> ee2e_model::symbolic::State {
    actions.iter().fold(model.init_states().remove(0), |s, a| {
        model.next_state(&s, a.clone()).unwrap_or_else(|| panic!("{} is taken", model.format_action(a)))
    })
}

fn holds(name: &str, model: &Ee2eModel, state: &ee2e_model::symbolic::State) -> bool {
    (ALL.iter().find(|d| d.name == name).expect("known property").holds)(model, state)
}

/// `check`'s witness of each sometimes-property, at the default bounds of each scenario, in
/// both profiles: it exists, no step of it is the attacker's, and it ends where the property
/// holds in the full model (the one `check` explores).
#[test]
fn every_witness_is_a_run_without_attacker_steps() {
    for profile in [Profile::SEED, Profile::HARDENED] {
        for scenario in Scenario::ALL {
            let config = config(profile, scenario, Bounds::for_scenario(scenario));
            let model = Ee2eModel::new(config).without_reduction();
            for def in ALL.iter().filter(|d| d.kind == Kind::Sometimes && d.part.in_scenario(scenario)) {
                let trace = shortest_trace(config, def.name, 300_000)
                    .unwrap_or_else(|| panic!("{profile} {scenario}: {} has a witness", def.name));
                let attacker: Vec<String> =
                    trace.iter().filter(|a| is_attacker(a)).map(|a| model.format_action(a)).collect();
                assert!(
                    attacker.is_empty(),
                    "{profile} {scenario} {}: attacker steps {attacker:?}",
                    def.name
                );
                assert!(
                    !trace.iter().any(|a| matches!(a, Action::Compromise)),
                    "{profile} {scenario} {}: no key leak needed",
                    def.name
                );
                let end = end_state(&model, &trace);
                assert!(holds(def.name, &model, &end), "{profile} {scenario} {}", def.name);
                assert_eq!(end.injections, 0);
            }
        }
    }
}

/// The seed's forged exchanges no longer witness anything: at the end of `check`'s
/// counterexamples an honest client has accepted a session key (key_transport_agreement)
/// and a message (message_authenticity) as from its honest peer, both made by the attacker,
/// and neither `session_established` nor `message_delivered` holds there.
#[test]
fn attacker_made_key_transports_and_messages_witness_nothing() {
    let config = config(Profile::SEED, Scenario::Messaging, Bounds::default());
    let model = Ee2eModel::new(config).without_reduction();
    for (attack, not_witnessed) in
        [("key_transport_agreement", "session_established"), ("message_authenticity", "message_delivered")]
    {
        let trace = shortest_trace(config, attack, 1_000_000).expect("the seed attack");
        assert!(trace.iter().any(is_attacker), "{attack}: the attacker acts");
        let end = end_state(&model, &trace);
        assert!(!holds(attack, &model, &end), "{attack} is violated at the end");
        assert!(
            !holds(not_witnessed, &model, &end),
            "{not_witnessed} is not witnessed by the attack on {attack}"
        );
    }
    // With no honest message at all, the attacker's own message (sealed with the session
    // key it learnt) is accepted, and still witnesses no delivery.
    let bounds = Bounds { messages: 0, ..Bounds::default() };
    let config = Config { bounds, ..config };
    let model = Ee2eModel::new(config).without_reduction();
    let trace = shortest_trace(config, "message_authenticity", 1_000_000).expect("the seed attack");
    let end = end_state(&model, &trace);
    assert!(end.ghost.accepted.keys().any(|(recv, snd, _)| HONEST.contains(recv) && HONEST.contains(snd)));
    assert!(!holds("message_delivered", &model, &end));
    let report = run(config, 2);
    assert_eq!(report.property("message_delivered").map(|p| p.status), Some(Status::NotExercised));
}

/// Over a grid of small bounds, the static verdict "not exercisable" is exactly what `check`
/// reports, the checker finds no example or counterexample of such a property (`run` reports
/// `NotExercised` only when it found none), and every exercisable sometimes-property is
/// witnessed.
#[test]
fn static_exercisability_agrees_with_the_checker() {
    let grid = [
        // (sessions, b_sessions, messages, injections)
        (0, 0, 0, 0),
        (0, 0, 2, 2),
        (1, 0, 0, 1),
        (0, 1, 1, 0),
        (1, 0, 1, 0),
    ];
    for profile in [Profile::SEED, Profile::HARDENED] {
        for (sessions, b_sessions, messages, injections) in grid {
            let bounds = Bounds { sessions, b_sessions, messages, injections, ticks: 1, offline_spells: 1 };
            let config = config(profile, Scenario::Messaging, bounds);
            let report = run(config, 2);
            assert!(report.complete);
            for p in &report.properties {
                let why = not_exercisable(p.name, &config);
                assert_eq!(
                    p.status == Status::NotExercised,
                    why.is_some(),
                    "{profile} {bounds:?} {}: {:?} vs {why:?}",
                    p.name,
                    p.status
                );
                if p.kind == "sometimes" && why.is_none() {
                    assert_eq!(p.status, Status::Witnessed, "{profile} {bounds:?} {}", p.name);
                }
            }
        }
    }
}

/// Registration properties are always exercisable (the honest clients register by script),
/// and a passive attacker exercises nothing the honest clients do not.
#[test]
fn exercisability_follows_the_threat_model() {
    let bounds =
        Bounds { sessions: 0, b_sessions: 0, messages: 2, injections: 2, ticks: 1, offline_spells: 1 };
    let network = config(Profile::HARDENED, Scenario::Messaging, bounds);
    let passive = Config { threat: Threat::Passive, ..network };
    assert_eq!(not_exercisable("key_transport_agreement", &network), None);
    assert!(not_exercisable("key_transport_agreement", &passive).is_some());
    let registration = config(Profile::SEED, Scenario::Registration, bounds);
    for def in ALL.iter().filter(|d| d.part.in_scenario(Scenario::Registration)) {
        assert_eq!(not_exercisable(def.name, &registration), None, "{}", def.name);
    }
}
