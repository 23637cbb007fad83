//! The Explorer's view of a state judges every property on that state as `check` does: along
//! `check`'s shortest trace of a property, it is violated (or witnessed) exactly at the end.

use ee2e_model::run::{TRACE_SEARCH_LIMIT, shortest_trace};
use ee2e_model::view::{MAX_PATH, ViewError, indices_of, parse_path, view};
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::Profile;

fn seed_messaging() -> Config {
    Config {
        profile: Profile::SEED,
        threat: Threat::Network,
        scenario: Scenario::Messaging,
        bounds: Bounds::default(),
    }
}

fn status<'a>(v: &'a ee2e_model::view::StateView, name: &str) -> &'a str {
    v.properties.iter().find(|p| p.name == name).map(|p| p.status).expect("property shown")
}

/// The end of the 2-step `directory_binding` attack shows it and `session_key_secrecy`
/// violated, every state before it shows them holding, and the steps read as `check` prints
/// them.
#[test]
fn the_directory_binding_attack_ends_in_a_violation_the_view_shows() {
    let config = seed_messaging();
    let model = Ee2eModel::new(config).without_reduction();
    let trace = shortest_trace(config, "directory_binding", TRACE_SEARCH_LIMIT).expect("the seed attack");
    assert_eq!(trace.len(), 2);
    let path = indices_of(&model, &trace).expect("the trace is a path of the Explorer's model");
    for n in 0..path.len() {
        let v = view(&model, &path[..n]).expect("prefix");
        assert_eq!(status(&v, "directory_binding"), "holds", "after {n} steps");
    }
    let v = view(&model, &path).expect("attack state");
    assert_eq!(status(&v, "directory_binding"), "violated");
    assert_eq!(status(&v, "session_key_secrecy"), "violated");
    assert_eq!(status(&v, "key_transport_agreement"), "holds");
    assert!(v.steps[1].contains("attacker injects S → A: PeerKey(B, pk(E), sig(S, pk(E)))"), "{:?}", v.steps);
    assert!(v.state.contains("peer B → pk(E)"), "{}", v.state);
    // The next steps say which property each would change: A's message to B (sealed with a
    // key the attacker knows) violates message_confidentiality.
    let send = v.next.iter().find(|n| n.action == "A sends a message to B").expect("A may send");
    assert!(
        send.taken && send.changes.contains(&"message_confidentiality: violated".to_string()),
        "{send:?}"
    );
    assert!(v.next.iter().any(|n| !n.taken), "rejected actions are listed (and collapsed by the page)");
}

/// Along `check`'s shortest trace of every property of the seed's messaging run, the view
/// shows the property's verdict only in the last state (a shorter trace would exist
/// otherwise).
#[test]
fn each_trace_reaches_its_status_exactly_at_its_end() {
    let config = seed_messaging();
    let model = Ee2eModel::new(config).without_reduction();
    let verdicts = ee2e_model::properties::ALL.iter().filter(|d| {
        d.kind != ee2e_model::properties::Kind::Covers && d.part.in_scenario(Scenario::Messaging)
    });
    for def in verdicts {
        let Some(trace) = shortest_trace(config, def.name, 300_000) else { continue };
        let path = indices_of(&model, &trace).expect("path");
        let reached = if def.kind == ee2e_model::properties::Kind::Always { "violated" } else { "witnessed" };
        for n in 0..=path.len() {
            let v = view(&model, &path[..n]).expect("prefix");
            assert_eq!(status(&v, def.name) == reached, n == path.len(), "{} after {n} steps", def.name);
        }
    }
}

#[test]
fn bad_paths_get_typed_errors() {
    let model = Ee2eModel::new(seed_messaging()).without_reduction();
    assert_eq!(parse_path("/3/x"), Err(ViewError::NotAnIndex("x".into())));
    assert_eq!(parse_path(&"/0".repeat(MAX_PATH + 1)), Err(ViewError::TooLong(MAX_PATH + 1)));
    assert_eq!(parse_path(""), Ok(vec![]));
    assert!(matches!(view(&model, &[999]), Err(ViewError::NoSuchAction { step: 1, index: 999, .. })));
    let trace = shortest_trace(seed_messaging(), "directory_binding", TRACE_SEARCH_LIMIT).expect("attack");
    let mut path = indices_of(&model, &trace).expect("path");
    let attack = view(&model, &path).expect("attack state");
    let rejected = attack.next.iter().find(|n| !n.taken).expect("a rejected action");
    path.push(rejected.index);
    assert!(matches!(view(&model, &path), Err(ViewError::Rejected { step: 3, .. })));
}
