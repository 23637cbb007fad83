//! # ee2e-report — what `ee2e check` prints
//!
//! A check runs configurations of the model ([`ee2e_model::check::Plan`]); this crate turns
//! their reports into what a reviewer reads. [`counterexamples`] tells each distinct
//! counterexample once, with every run that has it and the erratum that stops it (for a seed
//! trace, found by replaying it on the implementation under `hardened`). The writers print
//! that as a text report ([`text`]), one JSON object ([`json`], schema
//! `report/schema/check-report.schema.json`), a Markdown review ([`markdown`]), Mermaid or
//! SVG sequence diagrams ([`svg_files`]), and the checker's statistics table ([`stats`]).
#![deny(missing_docs)]

mod counterexamples;
pub mod json;
pub mod markdown;
pub mod stats;
mod table;
pub mod text;

use ee2e_model::run::RunReport;
use ee2e_model::{Config, Threat};
use ee2e_spec::Fix;

pub use counterexamples::{Counterexample, counterexamples, run_name};

/// The title of a counterexample's diagrams.
pub fn title(c: &Counterexample) -> String {
    let s = &c.story;
    format!("{} violated — {} / {} / {}", c.property, s.profile, s.threat, s.scenario)
}

/// Every counterexample as a Mermaid sequence diagram, one after another.
pub fn mermaid(counterexamples: &[Counterexample]) -> String {
    counterexamples
        .iter()
        .map(|c| format!("{}\n", ee2e_model::report::mermaid(&title(c), &c.story)))
        .collect()
}

/// One SVG sequence diagram per run and violated property: the file name
/// (`<profile>-<threat>-<scenario>-<property>.svg`) and the drawing. A trace shared by several
/// runs is drawn once per run, with that run's names in the title.
pub fn svg_files(runs: &[(Config, RunReport)], counterexamples: &[Counterexample]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (config, _) in runs {
        let run = run_name(config);
        for c in counterexamples.iter().filter(|c| c.runs.contains(&run)) {
            let story = ee2e_model::report::Story {
                profile: config.profile.name(),
                threat: config.threat.name(),
                scenario: config.scenario.name(),
                expected: ee2e_model::report::expectation(config, c.property),
                ..c.story.clone()
            };
            let title = format!("{} violated — {}", c.property, run);
            let file = format!("{}-{}-{}-{}.svg", config.profile, config.threat, config.label(), c.property);
            files.push((file, ee2e_model::report::svg(&title, &story)));
        }
    }
    files
}

/// The hardened fixes: erratum, name, what it changes, and the profile that lacks it.
pub fn fixes_table() -> String {
    let mut out = String::from(
        "Hardened fixes (SPEC.md, \"Errata\"); `--profile errata` checks each removed in turn.\n\n",
    );
    for f in Fix::ALL {
        out.push_str(&format!(
            "{:<3} {:<17} {}\n    --profile hardened-without-{} (or hardened-without-{})\n",
            f.erratum(),
            f.name(),
            f.summary(),
            f.name(),
            f.erratum()
        ));
    }
    out
}

/// Each threat model and what it gives the attacker (the long help of `--threat`).
pub fn threats_help() -> String {
    let mut out = String::from(
        "Threat model: one of the names below, `all`, or a comma-separated list. In every one the\n\
         attacker is the network: it sees every message and delivers, drops, delays and reorders\n\
         them.\n",
    );
    for t in Threat::ALL {
        out.push_str(&format!("\n  {:<11} {}", t.name(), t.summary()));
    }
    out
}
