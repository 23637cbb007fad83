//! Differential tests of the model's reductions (model/README.md, "Reductions"): with and
//! without each, every configuration small enough to run both ways discovers exactly the same
//! properties (violations, witnesses and coverage probes), while the reduced run explores
//! fewer states.

use std::collections::BTreeSet;

use ee2e_model::properties::ALL;
use ee2e_model::run::split_offline_spell;
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::{Fix, Profile};
use stateright::{Checker, Model};

/// The bounds the differential runs start from: one message per direction (the unreduced
/// models at the default two take too long to run both ways on every test run).
const ONE_MESSAGE: Bounds =
    Bounds { sessions: 1, b_sessions: 0, messages: 1, injections: 2, ticks: 1, offline_spells: 1 };

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

/// Checks `reduced` and `full` (one model with and without a reduction) and asserts they make
/// the same discoveries; returns their distinct-state counts.
fn same_discoveries(name: &str, reduced: Ee2eModel, full: Ee2eModel) -> (usize, usize) {
    let (reduced, reduced_states) = discoveries(reduced);
    let (full, full_states) = discoveries(full);
    assert_eq!(reduced, full, "{name}: discoveries differ");
    eprintln!("{name}: {} discoveries; {reduced_states} vs {full_states} states", reduced.len());
    (reduced_states, full_states)
}

fn same_both_ways(profile: Profile, scenario: Scenario, bounds: Bounds) {
    let config = Config { profile, threat: Threat::Network, scenario, bounds };
    let plain = Ee2eModel::new(config).without_reduction();
    let name = format!("{profile} {scenario}");
    let (pruned, full) = same_discoveries(&name, plain.clone(), plain.without_pruning());
    assert!(pruned <= full, "{name}: {pruned} > {full}");
}

#[test]
fn pruning_no_op_steps_loses_no_discovery_in_registration() {
    let bounds = Bounds { ticks: 0, ..ONE_MESSAGE };
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
    let bounds = Bounds { injections: 1, ..ONE_MESSAGE };
    for profile in [Profile::SEED, Profile::HARDENED, Profile::HARDENED.without(Fix::ReplayWindow)] {
        same_both_ways(profile, Scenario::Messaging, bounds);
    }
}

/// The partial-order reduction against the same model without it (pruning on in both).
fn same_with_and_without_reduction(profile: Profile, threat: Threat, scenario: Scenario, bounds: Bounds) {
    let config = Config { profile, threat, scenario, bounds };
    let name = format!("{profile} {threat} {scenario} {bounds}");
    let (reduced, full) =
        same_discoveries(&name, Ee2eModel::new(config), Ee2eModel::new(config).without_reduction());
    assert!(reduced < full, "{name}: {reduced} >= {full}");
}

#[test]
fn partial_order_reduction_loses_no_discovery_in_messaging() {
    let small = Bounds { injections: 1, ..ONE_MESSAGE };
    for profile in [
        Profile::SEED,
        Profile::HARDENED,
        Profile::HARDENED.without(Fix::ReplayWindow),
        Profile::HARDENED.without(Fix::AckBinding),
        Profile::HARDENED.without(Fix::EncryptThenMac),
        Profile::HARDENED.without(Fix::TransportBinding),
        Profile::HARDENED.without(Fix::DirectoryBinding),
    ] {
        same_with_and_without_reduction(profile, Threat::Network, Scenario::Messaging, small);
    }
    // Both initiators, two messages, no injection: the honest interleavings the reduction
    // prunes most.
    for honest in [
        Bounds { messages: 2, injections: 0, ..ONE_MESSAGE },
        Bounds { b_sessions: 1, injections: 0, ..ONE_MESSAGE },
    ] {
        same_with_and_without_reduction(Profile::HARDENED, Threat::Network, Scenario::Messaging, honest);
    }
    // Two key exchanges by A: repeated identical requests (pending copies).
    let twice = Bounds { sessions: 2, injections: 0, ..ONE_MESSAGE };
    same_with_and_without_reduction(Profile::SEED, Threat::Network, Scenario::Messaging, twice);
    let both = Bounds { sessions: 2, b_sessions: 1, injections: 0, ..ONE_MESSAGE };
    same_with_and_without_reduction(Profile::HARDENED, Threat::Network, Scenario::Messaging, both);
    // B online throughout (the default `messaging-ab`): relays to B commute from the start.
    let online = Bounds { b_sessions: 1, injections: 1, offline_spells: 0, ..ONE_MESSAGE };
    same_with_and_without_reduction(Profile::HARDENED, Threat::Network, Scenario::Messaging, online);
    same_with_and_without_reduction(Profile::SEED, Threat::Network, Scenario::Messaging, online);
    let seed_two = Bounds { messages: 2, injections: 0, ..ONE_MESSAGE };
    same_with_and_without_reduction(Profile::SEED, Threat::Network, Scenario::Messaging, seed_two);
    for threat in [Threat::Passive, Threat::Compromise, Threat::Server] {
        same_with_and_without_reduction(Profile::SEED, threat, Scenario::Messaging, small);
    }
}

#[test]
fn partial_order_reduction_loses_no_discovery_in_lifecycle() {
    let bounds = Bounds { injections: 1, ..Bounds::for_scenario(Scenario::Lifecycle) };
    for profile in [Profile::HARDENED, Profile::HARDENED.without(Fix::OtpLimits)] {
        same_with_and_without_reduction(profile, Threat::Network, Scenario::Lifecycle, bounds);
    }
}

/// The attacker's relabelling on the server leg against its relabelling of deliveries alone
/// (synth.rs, `relabelled`): the server only relays a relabelled message, ACK or key
/// transport, and answers a lookup with a public entry, so the direct injections reach the
/// same discoveries.
fn same_with_and_without_server_relabelling(
    profile: Profile,
    threat: Threat,
    scenario: Scenario,
    bounds: Bounds,
) {
    let config = Config { profile, threat, scenario, bounds };
    let name = format!("{profile} {threat} {scenario} {bounds} (relabelling)");
    let direct = Ee2eModel::new(config);
    let (fewer, more) = same_discoveries(&name, direct.clone(), direct.with_relabelling_via_server());
    assert!(fewer < more, "{name}: {fewer} >= {more}");
}

#[test]
fn relabelling_only_deliveries_loses_no_discovery() {
    let two = ONE_MESSAGE;
    let one = Bounds { injections: 1, ..ONE_MESSAGE };
    for profile in [
        Profile::SEED,
        Profile::HARDENED,
        Profile::HARDENED.without(Fix::DirectoryBinding),
        Profile::HARDENED.without(Fix::TransportBinding),
        Profile::HARDENED.without(Fix::EncryptThenMac),
        Profile::HARDENED.without(Fix::AckBinding),
    ] {
        same_with_and_without_server_relabelling(profile, Threat::Network, Scenario::Messaging, two);
    }
    let both = Bounds { b_sessions: 1, ..one };
    same_with_and_without_server_relabelling(Profile::HARDENED, Threat::Network, Scenario::Messaging, both);
    for threat in [Threat::Server, Threat::Compromise] {
        same_with_and_without_server_relabelling(Profile::HARDENED, threat, Scenario::Messaging, one);
    }
    let lifecycle = Bounds::for_scenario(Scenario::Lifecycle);
    for profile in [Profile::HARDENED, Profile::HARDENED.without(Fix::OtpLimits)] {
        same_with_and_without_server_relabelling(profile, Threat::Network, Scenario::Lifecycle, lifecycle);
    }
    same_with_and_without_server_relabelling(Profile::HARDENED, Threat::Sms, Scenario::Lifecycle, lifecycle);
}

/// B's offline spell against a run where B stays online (model/README.md, "Reductions"):
/// clients cannot tell a stored delivery from a forwarded one, so the spell changes no
/// discovery but the one about stored delivery, which the spell must make.
fn same_with_and_without_offline_spell(profile: Profile, threat: Threat, scenario: Scenario, bounds: Bounds) {
    let with = Config { profile, threat, scenario, bounds: Bounds { offline_spells: 1, ..bounds } };
    let without = Config { bounds: Bounds { offline_spells: 0, ..bounds }, ..with };
    let name = format!("{profile} {threat} {scenario} {bounds} (offline spell)");
    let (spell, spell_states) = discoveries(Ee2eModel::new(with));
    let (online, online_states) = discoveries(Ee2eModel::new(without));
    let mut spell_less_delivery = spell.clone();
    assert!(
        spell_less_delivery.remove("offline_message_delivered"),
        "{name}: the spell stores and delivers nothing"
    );
    assert!(!online.contains("offline_message_delivered"), "{name}: stored delivery without a spell");
    assert_eq!(spell_less_delivery, online, "{name}: discoveries differ");
    eprintln!("{name}: {} discoveries; {online_states} vs {spell_states} states", online.len());
    assert!(online_states < spell_states, "{name}: {online_states} >= {spell_states}");

    // The split `check` runs by default (run.rs, `split_offline_spell`): its two parts
    // together discover exactly what the full run does.
    match split_offline_spell(with) {
        Some((without_spell, attacker_free)) => {
            assert_eq!(without_spell, without, "{name}: the split's first part");
            let (witnessed, free_states) = discoveries(Ee2eModel::new(attacker_free));
            let joined: BTreeSet<_> = online.union(&witnessed).copied().collect();
            assert_eq!(joined, spell, "{name}: the split run's discoveries differ");
            eprintln!("{name}: split {online_states} + {free_states} vs {spell_states} states");
        }
        None => assert!(with.threat == Threat::Passive || with.bounds.injections == 0, "{name}: not split"),
    }
}

#[test]
fn an_offline_spell_changes_no_discovery_but_stored_delivery() {
    let one = Bounds { injections: 1, ..ONE_MESSAGE };
    for profile in [
        Profile::SEED,
        Profile::HARDENED,
        Profile::HARDENED.without(Fix::ReplayWindow),
        Profile::HARDENED.without(Fix::AckBinding),
        Profile::HARDENED.without(Fix::TransportReplay),
    ] {
        same_with_and_without_offline_spell(profile, Threat::Network, Scenario::Messaging, ONE_MESSAGE);
    }
    let two = Bounds { messages: 2, ..ONE_MESSAGE };
    same_with_and_without_offline_spell(Profile::HARDENED, Threat::Network, Scenario::Messaging, two);
    let both = Bounds { b_sessions: 1, ..one };
    same_with_and_without_offline_spell(Profile::HARDENED, Threat::Network, Scenario::Messaging, both);
    same_with_and_without_offline_spell(Profile::SEED, Threat::Network, Scenario::Messaging, both);
    for threat in [Threat::Passive, Threat::Sms, Threat::Server, Threat::Compromise] {
        same_with_and_without_offline_spell(Profile::HARDENED, threat, Scenario::Messaging, one);
    }
    let lifecycle = Bounds::for_scenario(Scenario::Lifecycle);
    same_with_and_without_offline_spell(Profile::HARDENED, Threat::Network, Scenario::Lifecycle, lifecycle);
}
