//! What the Explorer shows of one state: the path that leads to it, every property's status
//! in that state (judged as `check` judges it), a readable summary, and the steps it offers.
//! States are addressed by the indices of their actions among [`Model::actions`] of the
//! state before, from the initial state (the model is deterministic: the same indices give
//! the same state).

use serde::Serialize;
use stateright::{Model, Path};

use crate::describe;
use crate::model::{Action, Ee2eModel};
use crate::properties::{ALL, Kind, not_exercisable};
use crate::state::State;

/// The longest path the Explorer follows (a bound on the work of one request).
pub const MAX_PATH: usize = 200;

/// Why a path cannot be shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// A path component is not an action index.
    #[error("path component {0:?} is not an action index")]
    NotAnIndex(String),
    /// The path is longer than [`MAX_PATH`].
    #[error("path of {0} steps is longer than the {MAX_PATH} the Explorer follows")]
    TooLong(usize),
    /// Step `step` (1-based) names an action the state before does not offer.
    #[error("step {step}: the state offers {offered} actions, not action {index}")]
    NoSuchAction {
        /// 1-based step.
        step: usize,
        /// The index asked for.
        index: usize,
        /// How many actions the state offers.
        offered: usize,
    },
    /// Step `step` (1-based) is an action the model rejects in that state.
    #[error("step {step}: {action} is rejected in that state")]
    Rejected {
        /// 1-based step.
        step: usize,
        /// The action, as text.
        action: String,
    },
}

/// A property's status in one state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PropertyStatus {
    /// Interface name.
    pub name: &'static str,
    /// `always`, `sometimes` or `covers`.
    pub kind: &'static str,
    /// `violated` or `holds` (always); `witnessed` or `not_witnessed` (sometimes, covers);
    /// `not_exercisable` where the bounds cannot exercise it at all.
    pub status: &'static str,
    /// Why it is not exercisable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<&'static str>,
}

/// A step the state offers.
#[derive(Debug, Clone, Serialize)]
pub struct NextStep {
    /// Its index among the state's actions (the next path component).
    pub index: usize,
    /// What it does.
    pub action: String,
    /// Whether the model takes it (false: the addressee rejects or ignores it).
    pub taken: bool,
    /// An attacker step (injection, replay, guess, forged error).
    pub attacker: bool,
    /// Properties whose status this step changes, as `name: status`.
    pub changes: Vec<String>,
}

/// Everything the Explorer shows of one state.
#[derive(Debug, Clone, Serialize)]
pub struct StateView {
    /// Action indices from the initial state.
    pub path: Vec<usize>,
    /// The steps of the path, as text.
    pub steps: Vec<String>,
    /// Every property of the scenario, with its status in this state.
    pub properties: Vec<PropertyStatus>,
    /// The parties' states, in lines.
    pub state: String,
    /// The steps this state offers.
    pub next: Vec<NextStep>,
    /// The path as a sequence diagram (SVG), if it has a step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub svg: Option<String>,
}

/// Parses a path `3/0/12` (empty: the initial state).
pub fn parse_path(text: &str) -> Result<Vec<usize>, ViewError> {
    let parts: Vec<&str> = text.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() > MAX_PATH {
        return Err(ViewError::TooLong(parts.len()));
    }
    parts.iter().map(|p| p.parse().map_err(|_| ViewError::NotAnIndex((*p).to_string()))).collect()
}

/// Whether `action` is the attacker's.
pub fn is_attacker(action: &Action) -> bool {
    match action {
        Action::Inject(..)
        | Action::Replay(_)
        | Action::ForgeError { .. }
        | Action::GuessOnline(_)
        | Action::GuessOffline(_) => true,
        Action::Chain(steps) => steps.iter().any(is_attacker),
        _ => false,
    }
}

/// The status of every property of `model`'s scenario in `state`.
pub fn statuses(model: &Ee2eModel, state: &State) -> Vec<PropertyStatus> {
    ALL.iter()
        .filter(|d| d.part.in_scenario(model.config.scenario))
        .map(|d| {
            let why = not_exercisable(d.name, &model.config);
            let holds = (d.holds)(model, state);
            let status = match (d.kind, holds) {
                _ if why.is_some() => "not_exercisable",
                (Kind::Always, true) => "holds",
                (Kind::Always, false) => "violated",
                (_, true) => "witnessed",
                (_, false) => "not_witnessed",
            };
            PropertyStatus { name: d.name, kind: d.kind.name(), status, why }
        })
        .collect()
}

/// The actions along `path` and the state it ends in.
pub fn follow(model: &Ee2eModel, path: &[usize]) -> Result<(Vec<Action>, State), ViewError> {
    if path.len() > MAX_PATH {
        return Err(ViewError::TooLong(path.len()));
    }
    let mut state = model.init_states().remove(0);
    let mut taken = Vec::with_capacity(path.len());
    let mut actions = Vec::new();
    for (i, &index) in path.iter().enumerate() {
        actions.clear();
        model.actions(&state, &mut actions);
        let offered = actions.len();
        let action =
            actions.get(index).cloned().ok_or(ViewError::NoSuchAction { step: i + 1, index, offered })?;
        state = model
            .next_state(&state, action.clone())
            .ok_or_else(|| ViewError::Rejected { step: i + 1, action: model.format_action(&action) })?;
        taken.push(action);
    }
    Ok((taken, state))
}

/// The path of action indices that takes `actions` from the initial state, if each is
/// offered and taken in turn (e.g. a trace of `check`'s).
pub fn indices_of(model: &Ee2eModel, actions: &[Action]) -> Option<Vec<usize>> {
    let mut state = model.init_states().remove(0);
    let mut offered = Vec::new();
    let mut path = Vec::with_capacity(actions.len());
    for action in actions {
        offered.clear();
        model.actions(&state, &mut offered);
        path.push(offered.iter().position(|a| a == action)?);
        state = model.next_state(&state, action.clone())?;
    }
    Some(path)
}

/// The view of the state at `path`.
pub fn view(model: &Ee2eModel, path: &[usize]) -> Result<StateView, ViewError> {
    let (taken, state) = follow(model, path)?;
    let properties = statuses(model, &state);
    let mut actions = Vec::new();
    model.actions(&state, &mut actions);
    let next = actions
        .into_iter()
        .enumerate()
        .map(|(index, action)| {
            let after = model.next_state(&state, action.clone());
            let changes = after
                .as_ref()
                .map(|s| {
                    statuses(model, s)
                        .into_iter()
                        .zip(&properties)
                        .filter(|(now, before)| now.status != before.status)
                        .map(|(now, _)| format!("{}: {}", now.name, now.status.replace('_', " ")))
                        .collect()
                })
                .unwrap_or_default();
            NextStep {
                index,
                action: model.format_action(&action),
                taken: after.is_some(),
                attacker: is_attacker(&action),
                changes,
            }
        })
        .collect();
    let steps = taken.iter().map(|a| model.format_action(a)).collect();
    let svg = if taken.is_empty() {
        None
    } else {
        let init = model.init_states().remove(0);
        Path::from_actions(model, init, taken.iter()).and_then(|p| model.as_svg(p))
    };
    Ok(StateView { path: path.to_vec(), steps, properties, state: describe::state(&state), next, svg })
}
