//! `check --format markdown`: a review report — verdicts, then each distinct counterexample
//! with its Mermaid diagram, its steps, the breach and the fix.

use std::fmt::Write as _;

use ee2e_model::Config;
use ee2e_model::report::LEGEND;
use ee2e_model::run::RunReport;

use crate::counterexamples::Counterexample;
use ee2e_model::check::Outcome;

/// The Markdown report.
pub fn report(runs: &[(Config, RunReport)], counterexamples: &[Counterexample], outcome: Outcome) -> String {
    let mut out = String::from("# EE2E model check\n\n");
    let verdict = match outcome {
        Outcome::Ok => "**ok**: no unexpected violation, every sometimes-property witnessed",
        Outcome::Failed => "**failed**: an unexpected verdict (see the tables)",
        Outcome::NotExercisable => {
            "**not exercisable**: these bounds cannot exercise some properties; no verdict on them"
        }
        Outcome::Incomplete => "**incomplete**: a run stopped early; nothing is claimed to hold",
    };
    let _ = writeln!(out, "Result: {verdict}.\n");
    out.push_str("## Verdicts\n\n");
    // The verdict tables of the text report are Markdown already.
    let text = super::text::report(runs, &[]);
    let kept = ["Verdicts", "Threat sweep", "|", "\"VIOLATED (expected)\"", "Runs:"];
    for block in text.split("\n\n").filter(|b| kept.iter().any(|k| b.starts_with(k))) {
        let _ = writeln!(out, "{block}\n");
    }
    out.push_str("## Notation\n\n");
    for (symbol, meaning) in LEGEND {
        let _ = writeln!(out, "- `{symbol}`: {meaning}");
    }
    out.push_str("\n## Counterexamples\n\n");
    if counterexamples.is_empty() {
        out.push_str("None.\n");
    }
    for c in counterexamples {
        let title = super::title(c);
        let _ = writeln!(out, "### {title}\n");
        let _ = writeln!(out, "Runs: {}.\n", c.runs.join("; "));
        let _ = writeln!(out, "```mermaid\n{}```\n", ee2e_model::report::mermaid(&title, &c.story));
        let mut steps = String::new();
        super::text::story(&mut steps, &c.story);
        let _ = writeln!(out, "```text\n{steps}```\n");
    }
    out
}
