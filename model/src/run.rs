//! Running the checker for one configuration and collecting verdicts and traces.

use std::time::Instant;

use serde::Serialize;
use stateright::{Checker, Model, Path};

use crate::config::Config;
use crate::model::{Action, Ee2eModel};
use crate::properties::{ALL, Kind};
use crate::state::State;

/// A property's verdict in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Always-property: no counterexample within the bounds.
    Holds,
    /// Always-property: a counterexample was found.
    Violated,
    /// Sometimes-property: an example was found.
    Witnessed,
    /// Sometimes-property: no example within the bounds.
    NotWitnessed,
}

/// One step of a trace.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// 1-based position.
    pub n: usize,
    /// What happened.
    pub action: String,
}

/// A property's result.
#[derive(Debug, Clone, Serialize)]
pub struct PropertyResult {
    /// Interface name.
    pub name: &'static str,
    /// `always` or `sometimes`.
    pub kind: &'static str,
    /// Verdict.
    pub status: Status,
    /// Shortest counterexample (violated) or example (witnessed).
    pub trace: Vec<Step>,
    /// Level in Lowe's hierarchy, for authentication properties.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub level: &'static str,
    /// The path, for SVG rendering.
    #[serde(skip)]
    pub path: Option<Path<State, Action>>,
}

/// The result of one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// Profile name.
    pub profile: String,
    /// Threat model.
    pub threat: &'static str,
    /// Scenario.
    pub scenario: &'static str,
    /// Bounds as text.
    pub bounds: String,
    /// States generated (with repeats).
    pub states: usize,
    /// Distinct states.
    pub unique_states: usize,
    /// Longest path explored.
    pub max_depth: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Verdicts.
    pub properties: Vec<PropertyResult>,
}

impl RunReport {
    /// States per second.
    pub fn states_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.states as f64 / self.seconds } else { 0.0 }
    }

    /// The result of property `name`, if the run checked it.
    pub fn property(&self, name: &str) -> Option<&PropertyResult> {
        self.properties.iter().find(|p| p.name == name)
    }
}

/// Model-checks `config` exhaustively (breadth first, so traces are shortest) on `threads`.
pub fn run(config: Config, threads: usize) -> RunReport {
    let model = Ee2eModel::new(config);
    let start = Instant::now();
    let checker = model.clone().checker().threads(threads.max(1)).spawn_bfs().join();
    let seconds = start.elapsed().as_secs_f64();
    let properties = ALL
        .iter()
        .filter(|d| d.scenario == config.scenario)
        .map(|d| {
            let path = checker.discovery(d.name);
            let status = match (d.kind, path.is_some()) {
                (Kind::Always, true) => Status::Violated,
                (Kind::Always, false) => Status::Holds,
                (Kind::Sometimes, true) => Status::Witnessed,
                (Kind::Sometimes, false) => Status::NotWitnessed,
            };
            let trace = path
                .clone()
                .map(|p| {
                    p.into_actions()
                        .iter()
                        .enumerate()
                        .map(|(i, a)| Step { n: i + 1, action: model.format_action(a) })
                        .collect()
                })
                .unwrap_or_default();
            PropertyResult {
                name: d.name,
                kind: match d.kind {
                    Kind::Always => "always",
                    Kind::Sometimes => "sometimes",
                },
                status,
                trace,
                level: d.level,
                path,
            }
        })
        .collect();
    let b = config.bounds;
    RunReport {
        profile: config.profile.name(),
        threat: config.threat.name(),
        scenario: config.scenario.name(),
        bounds: format!(
            "{} session(s), {} message(s) per direction, {} injection(s)",
            b.sessions, b.messages, b.injections
        ),
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        seconds,
        properties,
    }
}
