//! Differential test of the no-op pruning (model/README.md, "Reductions"): with and without it,
//! every configuration small enough to run both ways discovers exactly the same properties
//! (violations, witnesses and coverage probes), while the pruned run explores fewer states.

use std::collections::BTreeSet;

use ee2e_model::properties::ALL;
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::{Fix, Profile};
use stateright::{Checker, Model};

fn discoveries(model: Ee2eModel) -> (BTreeSet<&'static str>, usize) {
    let scenario = model.config.scenario;
    let checker = model.checker().threads(2).spawn_bfs().join();
    let found = ALL
        .iter()
        .filter(|d| d.part.in_scenario(scenario))
        .filter(|d| checker.discovery(d.name).is_some())
        .map(|d| d.name)
        .collect();
    (found, checker.unique_state_count())
}

fn same_both_ways(profile: Profile, scenario: Scenario, bounds: Bounds) {
    let config = Config { profile, threat: Threat::Network, scenario, bounds };
    let (pruned, pruned_states) = discoveries(Ee2eModel::new(config));
    let (full, full_states) = discoveries(Ee2eModel::new(config).without_pruning());
    assert_eq!(pruned, full, "{profile} {scenario}: discoveries differ");
    assert!(pruned_states <= full_states, "{profile} {scenario}: {pruned_states} > {full_states}");
    eprintln!("{profile} {scenario}: {} discoveries; {pruned_states} vs {full_states} states", pruned.len());
}

#[test]
fn pruning_no_op_steps_loses_no_discovery_in_registration() {
    let bounds = Bounds { ticks: 0, ..Bounds::default() };
    for profile in [
        Profile::HARDENED,
        Profile::HARDENED.without(Fix::OtpLimits),
        Profile::HARDENED.without(Fix::SealedTag),
    ] {
        same_both_ways(profile, Scenario::Registration, bounds);
    }
}

#[test]
fn pruning_no_op_steps_loses_no_discovery_in_messaging() {
    let bounds = Bounds { injections: 1, ..Bounds::default() };
    for profile in [Profile::SEED, Profile::HARDENED, Profile::HARDENED.without(Fix::ReplayWindow)] {
        same_both_ways(profile, Scenario::Messaging, bounds);
    }
}
