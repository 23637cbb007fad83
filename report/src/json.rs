//! `check --format json`: one object, described by `report/schema/check-report.schema.json`.

use ee2e_model::Config;
use ee2e_model::report::expectation;
use ee2e_model::run::{RunReport, Status};
use serde_json::{Value, json};

use crate::counterexamples::{Counterexample, run_name};
use ee2e_model::check::Outcome;

/// The version of the report's layout; it changes whenever a field changes meaning or goes.
pub const SCHEMA_VERSION: u32 = 1;

/// The report: tool, overall result, every run (each violated property with whether SPEC.md
/// expects it and which counterexample shows it), and the distinct counterexamples as stories.
pub fn report(runs: &[(Config, RunReport)], counterexamples: &[Counterexample], outcome: Outcome) -> Value {
    let runs_json: Vec<Value> = runs
        .iter()
        .map(|(config, report)| {
            let mut run = serde_json::to_value(report).unwrap_or(Value::Null);
            let name = run_name(config);
            if let Some(props) = run.get_mut("properties").and_then(Value::as_array_mut) {
                for p in props.iter_mut() {
                    let Some(property) = p.get("name").and_then(Value::as_str).map(str::to_string) else {
                        continue;
                    };
                    if p.get("status") != Some(&json!(Status::Violated)) {
                        continue;
                    }
                    let id =
                        counterexamples.iter().position(|c| c.property == property && c.runs.contains(&name));
                    p["expected"] = json!(expectation(config, &property));
                    p["counterexample"] = json!(id);
                }
            }
            run["unexpected_violations"] = json!(ee2e_model::check::unexpected_violations(config, report));
            run
        })
        .collect();
    let stories: Vec<Value> = counterexamples
        .iter()
        .enumerate()
        .map(|(id, c)| json!({ "id": id, "property": c.property, "runs": c.runs, "story": c.story }))
        .collect();
    json!({
        "schemaVersion": SCHEMA_VERSION,
        "tool": "ee2e",
        "version": env!("CARGO_PKG_VERSION"),
        "outcome": match outcome {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::NotExercisable => "not_exercisable",
            Outcome::Incomplete => "incomplete",
        },
        "ok": outcome == Outcome::Ok,
        "runs": runs_json,
        "counterexamples": stories,
    })
}
