//! Shortest traces. stateright's checker keeps the *last* path it found for a property, not
//! the first; a breadth-first search of our own, stopped as soon as every wanted property is
//! reached, gives the shortest one, deterministically.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};

use stateright::Model;

use crate::model::{Action, Ee2eModel};
use crate::state::State;

/// A goal: a property name and the predicate its example must satisfy.
pub type Goal = (&'static str, fn(&Ee2eModel, &State) -> bool);

fn fingerprint(state: &State) -> u64 {
    let mut h = DefaultHasher::new();
    state.hash(&mut h);
    h.finish()
}

/// For each goal, the shortest action sequence from the initial state to a state satisfying
/// it (`None` if none is reachable). Explores at most `max_states` distinct states.
pub fn shortest(model: &Ee2eModel, goals: &[Goal], max_states: usize) -> Vec<Option<Vec<Action>>> {
    shortest_until(model, goals, max_states, &AtomicBool::new(false))
}

/// [`shortest`], giving up (with what it found so far) as soon as `stop` is set: after a
/// Ctrl-C the user wants the report now, and the checker's own paths stand in for the
/// traces not found.
pub fn shortest_until(
    model: &Ee2eModel,
    goals: &[Goal],
    max_states: usize,
    stop: &AtomicBool,
) -> Vec<Option<Vec<Action>>> {
    let mut found: Vec<Option<Vec<Action>>> = vec![None; goals.len()];
    // Node i: (parent, action that led here).
    let mut nodes: Vec<(usize, Option<Action>)> = Vec::new();
    let mut seen = HashSet::new();
    let mut frontier = VecDeque::new();
    for init in model.init_states() {
        if seen.insert(fingerprint(&init)) {
            nodes.push((usize::MAX, None));
            frontier.push_back((init, nodes.len() - 1));
        }
    }
    let path_to = |nodes: &Vec<(usize, Option<Action>)>, mut i: usize| {
        let mut actions = Vec::new();
        while let Some((parent, Some(action))) = nodes.get(i) {
            actions.push(action.clone());
            i = *parent;
        }
        actions.reverse();
        actions
    };
    let mut actions = Vec::new();
    while let Some((state, id)) = frontier.pop_front() {
        for (g, (_, reached)) in goals.iter().enumerate() {
            if found[g].is_none() && reached(model, &state) {
                found[g] = Some(path_to(&nodes, id));
            }
        }
        if found.iter().all(Option::is_some) || seen.len() >= max_states || stop.load(Ordering::Relaxed) {
            break;
        }
        actions.clear();
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            if let Some(next) = model.next_state(&state, action.clone())
                && seen.insert(fingerprint(&next))
            {
                nodes.push((id, Some(action)));
                frontier.push_back((next, nodes.len() - 1));
            }
        }
    }
    found
}
