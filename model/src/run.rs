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

/// States the shortest-trace search may visit before giving up on a trace.
pub const TRACE_SEARCH_LIMIT: usize = 5_000_000;

/// Model-checks `config` exhaustively with stateright (breadth first, on `threads`), then
/// finds the shortest trace of each discovery (see [`crate::trace`]).
pub fn run(config: Config, threads: usize) -> RunReport {
    let model = Ee2eModel::new(config);
    let start = Instant::now();
    let checker = model.clone().checker().threads(threads.max(1)).spawn_bfs().join();
    let defs: Vec<_> = ALL.iter().filter(|d| d.scenario == config.scenario).collect();
    let discovered: Vec<bool> = defs.iter().map(|d| checker.discovery(d.name).is_some()).collect();
    let seconds = start.elapsed().as_secs_f64();

    let goals: Vec<crate::trace::Goal> = defs
        .iter()
        .zip(&discovered)
        .filter(|(_, found)| **found)
        .map(|(d, _)| (d.name, goal_of(d.kind, d.name)))
        .collect();
    let mut traces = crate::trace::shortest(&model, &goals, TRACE_SEARCH_LIMIT).into_iter();
    let init = model.init_states().remove(0);

    let properties = defs
        .iter()
        .zip(&discovered)
        .map(|(d, found)| {
            let actions = if *found { traces.next().flatten() } else { None };
            let status = match (d.kind, found) {
                (Kind::Always, true) => Status::Violated,
                (Kind::Always, false) => Status::Holds,
                (Kind::Sometimes, true) => Status::Witnessed,
                (Kind::Sometimes, false) => Status::NotWitnessed,
            };
            let trace = actions
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, a)| Step { n: i + 1, action: model.format_action(a) })
                .collect();
            let path = actions.and_then(|a| Path::from_actions(&model, init.clone(), a.iter()));
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
            "{} key exchange(s), {} message(s) per direction, {} injection(s)",
            b.sessions, b.messages, b.injections
        ),
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        seconds,
        properties,
    }
}

/// The predicate a trace for property `name` must reach: a violation of an always-property,
/// an example of a sometimes-property.
fn goal_of(kind: Kind, name: &str) -> fn(&Ee2eModel, &State) -> bool {
    let def = ALL.iter().find(|d| d.name == name).expect("known property");
    match kind {
        Kind::Sometimes => def.holds,
        Kind::Always => crate::properties::negation(name),
    }
}
