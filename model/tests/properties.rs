//! The property table (`properties::ALL`) and SPEC.md §15 name the same properties with the
//! same kinds, and each row's derived parts agree with its predicate.

use ee2e_model::properties::{ALL, Kind, get, negation};
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::Profile;
use stateright::Model;

/// SPEC.md §15, from its heading to the end.
fn section_15() -> String {
    let spec =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/SPEC.md")).expect("SPEC.md");
    let start = spec.find("## 15. Properties").expect("SPEC.md has §15");
    spec[start..].to_string()
}

/// The `(name, kind)` rows of §15's property table.
fn spec_rows(section: &str) -> Vec<(String, String)> {
    section
        .lines()
        .filter_map(|l| {
            let mut cells = l.strip_prefix("| `")?.split(" | ");
            let name = cells.next()?.trim_end_matches('`').to_string();
            Some((name, cells.next()?.trim().to_string()))
        })
        .collect()
}

#[test]
fn spec_table_lists_every_safety_and_sometimes_property_with_its_kind() {
    let section = section_15();
    let rows = spec_rows(&section);
    let table: Vec<(String, String)> = ALL
        .iter()
        .filter(|d| d.kind != Kind::Covers)
        .map(|d| (d.name.to_string(), d.kind.name().to_string()))
        .collect();
    assert_eq!(rows, table, "SPEC.md §15's table and properties::ALL differ");
}

#[test]
fn spec_names_every_coverage_probe() {
    let section = section_15();
    let probes = &section[section.find("**Coverage probes**").expect("a coverage paragraph")..];
    for d in ALL.iter().filter(|d| d.kind == Kind::Covers) {
        assert!(probes.contains(&format!("`{}`", d.name)), "SPEC.md §15 does not name probe {}", d.name);
    }
}

#[test]
fn names_are_unique_and_every_row_has_a_sentence() {
    for (i, d) in ALL.iter().enumerate() {
        assert!(ALL[..i].iter().all(|e| e.name != d.name), "{} is declared twice", d.name);
        assert!(!d.sentence.is_empty(), "{} has no sentence", d.name);
        assert!(std::ptr::eq(get(d.name).expect("found"), d));
    }
    assert!(get("no_such_property").is_none());
    assert!(negation("no_such_property").is_none());
}

#[test]
fn a_trace_goal_is_a_violation_for_safety_properties_and_an_example_otherwise() {
    // Over the first states of every scenario.
    for scenario in Scenario::ALL {
        let config = Config {
            profile: Profile::SEED,
            threat: Threat::Network,
            scenario,
            bounds: Bounds::for_scenario(scenario),
        };
        let model = Ee2eModel::new(config);
        let mut frontier = model.init_states();
        for _ in 0..3 {
            let mut next = Vec::new();
            for state in &frontier {
                for d in ALL {
                    let holds = (d.holds)(&model, state);
                    let goal = (d.goal())(&model, state);
                    assert_eq!(
                        goal,
                        if d.kind == Kind::Always { !holds } else { holds },
                        "{} in {scenario}",
                        d.name
                    );
                }
                let mut actions = Vec::new();
                model.actions(state, &mut actions);
                next.extend(actions.into_iter().filter_map(|a| model.next_state(state, a)).take(8));
            }
            frontier = next;
        }
    }
}
