//! The text report: bounds, verdict tables (expected violations marked), coverage, every
//! distinct counterexample told once as a story with the runs it belongs to, the notation
//! legend, and run statistics.

use std::fmt::Write as _;

use ee2e_model::properties::{ALL, Kind};
use ee2e_model::report::expectation;
use ee2e_model::report::{Entry, Fate, LEGEND, Story};
use ee2e_model::run::{RunReport, Status};
use ee2e_model::{Config, Scenario, Threat};
use ee2e_spec::Profile;

use crate::counterexamples::Counterexample;
use crate::table::render as table;

fn verdict(config: &Config, name: &str, status: Status) -> &'static str {
    match status {
        Status::Holds => "holds",
        Status::Violated if expectation(config, name).is_some() => "VIOLATED (expected)",
        Status::Violated => "VIOLATED",
        Status::Witnessed => "witnessed",
        Status::NotWitnessed => "NOT WITNESSED",
        Status::Unknown => "incomplete",
        Status::NotExercised => "not exercisable",
    }
}

/// One story, as numbered lines.
pub fn story(out: &mut String, s: &Story) {
    let _ = writeln!(out, "  E knows at the start: {}", s.initial_knowledge.join(", "));
    for entry in &s.entries {
        match entry {
            Entry::Step(step) => {
                let _ = writeln!(out, "  {:>2}. {}", step.n, step.text);
                for sent in &step.sent {
                    let p = &sent.packet;
                    let fate = match (sent.fate, sent.delivered_at) {
                        (Fate::Delivered, Some(n)) => format!("delivered at step {n}"),
                        (Fate::Replayed, _) => "only replayed by E".to_string(),
                        (Fate::ToAttacker, _) => "received by E".to_string(),
                        _ => "intercepted: never delivered, E keeps it".to_string(),
                    };
                    let _ = writeln!(out, "        sends {} → {}: {} — {fate}", p.from, p.to, p.message.text);
                }
            }
            Entry::Derivation(d) => {
                let _ = writeln!(out, "      ↳ {}", d.text);
            }
        }
    }
    if let Some(b) = &s.breach {
        let _ = writeln!(out, "      ⇒ after step {}, {} fails: {}", b.after_step, b.property, b.sentence);
    }
    if let Some(e) = &s.expected {
        let _ = writeln!(out, "      expected: {} (SPEC.md#{})", e.reason, e.spec.anchor);
    }
    match &s.fix {
        Some(f) => {
            let at = match f.how() {
                how if how.is_empty() => " (the erratum this run removes)".to_string(),
                how => format!(": replayed on the implementation {how}"),
            };
            let _ = writeln!(
                out,
                "      fix: {} {} — {}{at} (SPEC.md#{})",
                f.erratum, f.name, f.summary, f.spec.anchor
            );
        }
        None if s.profile == Profile::SEED.name() => {
            let _ = writeln!(out, "      fix: none found by the replay under hardened");
        }
        None => {}
    }
    for r in &s.replay {
        let _ = writeln!(out, "      replay on the implementation ({}): {}", r.profile, r.outcome);
    }
}

/// The text report.
pub fn report(runs: &[(Config, RunReport)], counterexamples: &[Counterexample]) -> String {
    let mut out = String::new();
    let mut profiles: Vec<Profile> = Vec::new();
    let mut threats: Vec<Threat> = Vec::new();
    // A scenario may run at several bound sets (`Bounds::defaults`); each is a group of its
    // own, named by `Config::label`.
    let mut scenarios: Vec<(Scenario, String)> = Vec::new();
    let _ = writeln!(out, "EE2E model check — bounds:");
    for (c, r) in runs {
        if !profiles.contains(&c.profile) {
            profiles.push(c.profile);
        }
        if !threats.contains(&c.threat) {
            threats.push(c.threat);
        }
        // Bounds are per scenario group: printed once for each.
        let group = (c.scenario, c.label());
        if !scenarios.contains(&group) {
            let _ = writeln!(out, "  {:<12} {}", group.1, c.bounds);
            if r.spell_split.is_some() {
                let _ = writeln!(
                    out,
                    "  {:<12} (the spell explored attacker-free: safety at 0 spells, witnesses at 0 injections; model/README.md, \"Reductions\")",
                    ""
                );
            }
            scenarios.push(group);
        }
    }
    let _ = writeln!(out);
    for (c, r) in runs.iter().filter(|(_, r)| !r.complete) {
        let _ = writeln!(
            out,
            "INCOMPLETE: {} / {} / {} stopped ({}): no violation in the {} states explored beyond those listed; not a verdict.\n",
            r.profile,
            r.threat,
            c.label(),
            r.stopped.as_deref().unwrap_or("stopped"),
            r.unique_states
        );
    }
    let run_of = |p: &Profile, t: &Threat, (sc, label): &(Scenario, String)| {
        runs.iter()
            .find(|(c, _)| c.profile == *p && c.threat == *t && c.scenario == *sc && c.label() == *label)
    };
    let profile_names: Vec<String> = profiles.iter().map(|p| p.name()).collect();
    for threat in &threats {
        let _ = writeln!(out, "Verdicts under threat model `{threat}`:\n");
        let mut header = vec!["property", "scenario", "level (Lowe)"];
        header.extend(profile_names.iter().map(String::as_str));
        let mut rows = Vec::new();
        for scenario in &scenarios {
            for def in ALL.iter().filter(|d| d.kind != Kind::Covers && d.part.in_scenario(scenario.0)) {
                let cells: Vec<Option<&str>> = profiles
                    .iter()
                    .map(|p| {
                        run_of(p, threat, scenario)
                            .and_then(|(c, r)| r.property(def.name).map(|x| verdict(c, def.name, x.status)))
                    })
                    .collect();
                if cells.iter().any(Option::is_some) {
                    let mut row = vec![def.name.to_string(), scenario.1.clone(), def.level.to_string()];
                    row.extend(cells.iter().map(|c| c.unwrap_or("-").to_string()));
                    rows.push(row);
                }
            }
        }
        out.push_str(&table(&header, &[], &rows));
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "\"VIOLATED (expected)\": a seed flaw, a limit SPEC.md §14 lists, or the attack a removed erratum stops; \
         not a failure. A plain VIOLATED fails the check.\n"
    );

    if threats.len() > 1 {
        let _ = writeln!(out, "Threat sweep — the threat models under which each property still holds:\n");
        let mut header = vec!["property", "scenario"];
        header.extend(profile_names.iter().map(String::as_str));
        let mut rows = Vec::new();
        for scenario in &scenarios {
            for def in ALL.iter().filter(|d| d.kind == Kind::Always && d.part.in_scenario(scenario.0)) {
                let mut row = vec![def.name.to_string(), scenario.1.clone()];
                for p in &profiles {
                    let holds: Vec<&str> = threats
                        .iter()
                        .filter(|t| {
                            run_of(p, t, scenario)
                                .and_then(|(_, r)| r.property(def.name))
                                .is_some_and(|r| r.status == Status::Holds)
                        })
                        .map(|t| t.name())
                        .collect();
                    row.push(if holds.is_empty() { "none".to_string() } else { holds.join(", ") });
                }
                rows.push(row);
            }
        }
        out.push_str(&table(&header, &[], &rows));
        let _ = writeln!(out);
    }

    out.push_str(&exercisability_section(runs));

    let _ = writeln!(out, "Coverage — behaviours each run reached (not verdicts):\n");
    for (c, r) in runs {
        let cover = |reached: bool| -> Vec<&str> {
            r.properties
                .iter()
                .filter(|p| p.kind == "covers" && (p.status == Status::Witnessed) == reached)
                .map(|p| p.name)
                .collect()
        };
        let (yes, no) = (cover(true), cover(false));
        let _ = writeln!(
            out,
            "  {} / {} / {}: reached {}{}",
            r.profile,
            r.threat,
            c.label(),
            if yes.is_empty() { "none".to_string() } else { yes.join(", ") },
            if no.is_empty() {
                String::new()
            } else if r.settled_early {
                format!("; not reached before every verdict was settled: {}", no.join(", "))
            } else {
                format!("; not reached {}", no.join(", "))
            }
        );
    }
    let _ = writeln!(out);

    let _ = writeln!(out, "Counterexamples (shortest, breadth-first; each distinct trace once):\n");
    if counterexamples.is_empty() {
        let _ = writeln!(out, "  none\n");
    } else {
        let _ = writeln!(out, "Notation:");
        for (symbol, meaning) in LEGEND {
            let _ = writeln!(out, "  {symbol:<28} {meaning}");
        }
        let _ = writeln!(out);
    }
    for c in counterexamples {
        let s = &c.story;
        let _ = writeln!(
            out,
            "{} violated — profile {}, threat {}, scenario {}:",
            c.property, s.profile, s.threat, s.scenario
        );
        if c.runs.len() > 1 {
            let _ = writeln!(out, "  the same trace in {} runs: {}", c.runs.len(), c.runs.join("; "));
        }
        story(&mut out, s);
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "Runs:\n");
    out.push_str(&super::stats::runs_table(runs, false));
    let _ = writeln!(out);
    for (c, r) in runs {
        let holds: Vec<_> =
            r.properties.iter().filter(|p| p.status == Status::Holds).map(|p| p.name).collect();
        if !holds.is_empty() {
            let _ = writeln!(
                out,
                "{} / {} / {}: no attack on {} with up to {} ({} states).",
                r.profile,
                r.threat,
                c.label(),
                holds.join(", "),
                r.bounds,
                r.unique_states
            );
        }
    }
    out
}

/// The properties the bounds of each run cannot exercise, with the reason (empty if none).
fn exercisability_section(runs: &[(Config, RunReport)]) -> String {
    let mut out = String::new();
    for (c, r) in runs {
        for p in &r.properties {
            if let Some(why) = p.why {
                let _ = writeln!(out, "  {} / {} / {}: {} — {why}", r.profile, r.threat, c.label(), p.name);
            }
        }
    }
    if out.is_empty() {
        return out;
    }
    format!("Not exercisable at these bounds (no verdict; `check` exits 4):\n\n{out}\n")
}

/// `--witnesses`: the shortest witness of each sometimes-property, run by run.
pub fn witnesses(runs: &[(Config, RunReport)]) -> String {
    let mut out = String::from("Witnesses (shortest attacker-free runs, breadth-first):\n\n");
    for (c, r) in runs {
        for p in r.properties.iter().filter(|p| p.kind == "sometimes") {
            let _ = write!(
                out,
                "{} — profile {}, threat {}, scenario {}: ",
                p.name,
                r.profile,
                r.threat,
                c.label()
            );
            match p.status {
                Status::Witnessed => {
                    let _ = writeln!(out, "witnessed in {} steps", p.trace.len());
                    for step in &p.trace {
                        let _ = writeln!(out, "  {:>2}. {}", step.n, step.action);
                    }
                }
                Status::NotExercised => {
                    let _ = writeln!(out, "not exercisable at these bounds: {}", p.why.unwrap_or_default());
                }
                Status::NotWitnessed => {
                    let _ = writeln!(out, "NOT WITNESSED within the bounds");
                }
                _ => {
                    let _ = writeln!(out, "no witness found before the run stopped");
                }
            }
            out.push('\n');
        }
    }
    out
}
