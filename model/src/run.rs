//! Running the checker for one configuration and collecting verdicts and traces, with progress
//! lines and clean stops at a state or memory limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use stateright::{Checker, Model, Path};

use crate::config::{Bounds, Config, Threat};
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
    /// Sometimes-property or coverage probe: an example was found.
    Witnessed,
    /// Sometimes-property or coverage probe: no example within the bounds.
    NotWitnessed,
    /// The run stopped before exploring every state and found no example or counterexample:
    /// not a verdict.
    Unknown,
    /// Nothing within the bounds can exercise the property (see `PropertyResult::why`): not a
    /// verdict either.
    NotExercised,
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
    /// `always`, `sometimes` or `covers`.
    pub kind: &'static str,
    /// Verdict.
    pub status: Status,
    /// Shortest counterexample (violated) or example (witnessed).
    pub trace: Vec<Step>,
    /// Level in Lowe's hierarchy, for authentication properties.
    #[serde(skip_serializing_if = "str::is_empty")]
    pub level: &'static str,
    /// Why the property was not exercised (status `not_exercised`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<&'static str>,
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
    /// The run's name in reports ([`Config::label`]): the scenario's, or `messaging-ab`.
    pub label: String,
    /// Bounds as text.
    pub bounds: String,
    /// Bounds as numbers.
    pub bounds_values: Bounds,
    /// Whether every reachable state within the bounds was explored. An incomplete run
    /// reports violations it found but no `holds`.
    pub complete: bool,
    /// The run stopped before exhausting the state space because every verdict was settled
    /// (each safety property violated, each sometimes-property witnessed); coverage probes
    /// not reached by then are simply unexplored.
    pub settled_early: bool,
    /// Why an incomplete run stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// States generated (with repeats).
    pub states: usize,
    /// Distinct states.
    pub unique_states: usize,
    /// Longest path explored.
    pub max_depth: usize,
    /// Wall-clock seconds of the exhaustive check (trace search excluded).
    pub seconds: f64,
    /// Growth of the process's resident memory during the check, in bytes (0 where the
    /// platform does not report it).
    pub memory_bytes: u64,
    /// Verdicts, then coverage probes.
    pub properties: Vec<PropertyResult>,
    /// Where B's offline spell was explored attacker-free only ([`split_offline_spell`]): the
    /// distinct states of the two parts this run's figures add up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spell_split: Option<SpellSplit>,
}

/// The two parts of a run whose offline spell was explored attacker-free only
/// (model/README.md, "Reductions").
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SpellSplit {
    /// Distinct states of the run without the spell, at the run's injections (every safety
    /// property, every probe).
    pub without_spell: usize,
    /// Distinct states of the run with the spell and no injection (every sometimes-property,
    /// stored delivery among them).
    pub attacker_free_spell: usize,
}

impl RunReport {
    /// States per second.
    pub fn states_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.states as f64 / self.seconds } else { 0.0 }
    }

    /// Distinct states per second.
    pub fn unique_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.unique_states as f64 / self.seconds } else { 0.0 }
    }

    /// Resident memory the check grew by, per distinct state.
    pub fn bytes_per_state(&self) -> f64 {
        if self.unique_states > 0 { self.memory_bytes as f64 / self.unique_states as f64 } else { 0.0 }
    }

    /// The result of property `name`, if the run checked it.
    pub fn property(&self, name: &str) -> Option<&PropertyResult> {
        self.properties.iter().find(|p| p.name == name)
    }
}

/// States the shortest-trace search may visit before giving up on a trace.
pub const TRACE_SEARCH_LIMIT: usize = 5_000_000;

/// States the search for examples of sometimes-properties may visit before the checker's own
/// path stands in: examples are shallow, and a breadth-first search holds whole states, so a
/// deep run (e.g. `--search dfs` at large bounds) must not spend gigabytes on them.
pub const EXAMPLE_SEARCH_LIMIT: usize = 300_000;

/// The order in which the checker explores the state space.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
pub enum Search {
    /// Breadth first: holds every state of the frontier (the default).
    #[default]
    Bfs,
    /// Depth first: holds only the current path's pending states and a fingerprint per
    /// visited state, so deep runs need far less memory. Verdicts are the same; traces
    /// still come from the breadth-first trace search.
    Dfs,
    /// Per run ([`Search::resolve`]): depth first where SPEC.md expects every safety property
    /// to hold (hardened under `network` or `passive`), breadth first elsewhere.
    Auto,
}

impl Search {
    /// The order a run of `config` uses. A run expected to hold everything explores its whole
    /// graph in either order, so depth first costs nothing and saves the frontier's memory;
    /// a run with expected violations stops once they are all found (the verdict-driven
    /// stop), which breadth first reaches at the shallowest depth — depth first would wander
    /// deep first (seed registration: 2.5 M distinct states instead of 5 340).
    pub fn resolve(self, config: &Config) -> Search {
        match self {
            Search::Auto
                if config.profile == ee2e_spec::Profile::HARDENED
                    && matches!(config.threat, Threat::Network | Threat::Passive) =>
            {
                Search::Dfs
            }
            Search::Auto => Search::Bfs,
            order => order,
        }
    }
}

/// How a run is carried out.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Checker threads.
    pub threads: usize,
    /// Breadth or depth first.
    pub search: Search,
    /// Stop after this many distinct states.
    pub max_states: Option<usize>,
    /// Stop when the process's resident memory exceeds this many bytes.
    pub max_memory: Option<u64>,
    /// Print a progress line on stderr about every two seconds.
    pub progress: bool,
    /// Set from outside (e.g. on Ctrl-C) to stop the run cleanly.
    pub interrupt: Arc<AtomicBool>,
    /// Explore B's offline spell attacker-free only ([`split_offline_spell`]; on by default,
    /// shown sound by the differential test in `model/tests/reductions.rs`).
    pub split_spell: bool,
}

impl RunOptions {
    /// `threads` threads, no limits, no progress.
    pub fn threads(threads: usize) -> Self {
        RunOptions {
            threads: threads.max(1),
            search: Search::Bfs,
            max_states: None,
            max_memory: None,
            progress: false,
            interrupt: Arc::new(AtomicBool::new(false)),
            split_spell: true,
        }
    }
}

/// The two configurations a run of `config` is split into, if it is: B's offline spell
/// changes no discovery but stored delivery (model/README.md, "Reductions"), and stored
/// delivery, like every sometimes-property, is only witnessed attacker-free. So a run with the
/// spell and injections is exactly the run without the spell (for every safety property and
/// probe) together with the run with the spell and no injection (for every sometimes-property)
/// — far smaller than the run with both, whose states multiply the spell's announcements and
/// stored copies by every injection. `None` where there is nothing to split: no spell, no
/// injection, or a passive attacker.
pub fn split_offline_spell(config: Config) -> Option<(Config, Config)> {
    let b = config.bounds;
    let splits = config.scenario.messages()
        && b.offline_spells > 0
        && b.injections > 0
        && config.threat != crate::config::Threat::Passive;
    splits.then(|| {
        let without = Config { bounds: Bounds { offline_spells: 0, ..b }, ..config };
        let attacker_free = Config { bounds: Bounds { injections: 0, ..b }, ..config };
        (without, attacker_free)
    })
}

/// Joins the two parts of a split run into the report of `config`
/// ([`split_offline_spell`]): a property is discovered if either part discovered it (every
/// path of either part is a path of `config`'s full graph), holds or goes unwitnessed only if
/// both parts are complete, and is not exercisable only as `config` says.
fn join_split(config: Config, safety: RunReport, witness: RunReport) -> RunReport {
    let complete = safety.complete && witness.complete;
    let found = |p: &PropertyResult| matches!(p.status, Status::Violated | Status::Witnessed);
    let properties = safety
        .properties
        .into_iter()
        .zip(witness.properties)
        .map(|(s, w)| {
            debug_assert_eq!(s.name, w.name);
            let why = crate::properties::not_exercisable(s.name, &config);
            // Sometimes-properties prefer the attacker-free part's example (it has the spell),
            // safety properties and probes the other's.
            let (first, second) = if s.kind == "sometimes" { (w, s) } else { (s, w) };
            let mut chosen = if found(&first) || !found(&second) { first } else { second };
            chosen.why = why.filter(|_| !found(&chosen));
            chosen.status = match chosen.status {
                _ if chosen.why.is_some() => Status::NotExercised,
                Status::Violated | Status::Witnessed => chosen.status,
                _ if !complete => Status::Unknown,
                _ if chosen.kind == "always" => Status::Holds,
                _ => Status::NotWitnessed,
            };
            chosen
        })
        .collect();
    let b = config.bounds;
    RunReport {
        profile: config.profile.name(),
        threat: config.threat.name(),
        scenario: config.scenario.name(),
        label: config.label(),
        bounds: b.to_string(),
        bounds_values: b,
        complete,
        settled_early: complete && safety.settled_early && witness.settled_early,
        stopped: safety.stopped.or(witness.stopped),
        states: safety.states + witness.states,
        unique_states: safety.unique_states + witness.unique_states,
        max_depth: safety.max_depth.max(witness.max_depth),
        seconds: safety.seconds + witness.seconds,
        memory_bytes: safety.memory_bytes.max(witness.memory_bytes),
        properties,
        spell_split: Some(SpellSplit {
            without_spell: safety.unique_states,
            attacker_free_spell: witness.unique_states,
        }),
    }
}

/// The process's resident set size in bytes (Linux; `None` elsewhere).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The process's peak resident set size so far in bytes (Linux's `VmHWM`; `None` elsewhere).
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Model-checks `config` exhaustively with stateright (breadth first, on `threads`), then
/// finds the shortest trace of each discovery (see [`crate::symbolic::shortest`]).
pub fn run(config: Config, threads: usize) -> RunReport {
    run_with(config, &RunOptions::threads(threads))
}

/// [`run`] with limits and progress.
pub fn run_with(config: Config, options: &RunOptions) -> RunReport {
    match split_offline_spell(config).filter(|_| options.split_spell) {
        Some((without, attacker_free)) => {
            let safety = run_one(without, options, " (split 1/2: without the spell)");
            let witness = run_one(attacker_free, options, " (split 2/2: the spell, attacker-free)");
            join_split(config, safety, witness)
        }
        None => run_one(config, options, ""),
    }
}

/// One exhaustive run of exactly `config`; `part` names it in progress lines.
fn run_one(config: Config, options: &RunOptions, part: &str) -> RunReport {
    let stop = Arc::new(AtomicBool::new(false));
    let model = Ee2eModel::new(config).with_stop(Arc::clone(&stop));
    let start = Instant::now();
    let base_memory = resident_bytes().unwrap_or(0);
    // Stop as soon as every verdict is settled (every safety property violated, every
    // sometimes-property witnessed): coverage probes alone never keep a run going.
    let verdicts: std::collections::BTreeSet<&'static str> = ALL
        .iter()
        .filter(|d| {
            d.kind != Kind::Covers
                && d.part.in_scenario(config.scenario)
                && crate::properties::not_exercisable(d.name, &config).is_none()
        })
        .map(|d| d.name)
        .collect();
    let builder = model
        .clone()
        .checker()
        .threads(options.threads)
        .finish_when(stateright::HasDiscoveries::AllOf(verdicts));
    let watched = match options.search.resolve(&config) {
        Search::Dfs => watch(builder.spawn_dfs(), config, part, options, &stop, start),
        _ => watch(builder.spawn_bfs(), config, part, options, &stop, start),
    };
    let Watched { stopped, peak_memory, states, unique, depth, discovered: found_paths } = watched;
    let peak_memory = peak_memory.max(base_memory);
    let complete = stopped.is_none();
    let defs: Vec<_> = ALL.iter().filter(|d| d.part.in_scenario(config.scenario)).collect();
    let discovered: Vec<bool> = defs.iter().map(|d| found_paths.contains_key(d.name)).collect();
    let settled_early =
        complete && defs.iter().zip(&discovered).all(|(d, found)| d.kind == Kind::Covers || *found);
    let seconds = start.elapsed().as_secs_f64();

    // Discoveries of an incomplete run are real too: their shortest traces lie no deeper
    // than what was explored. Counterexamples are searched in the full graph (shortest,
    // every step shown); witnesses in the attacker-free graph; probes in the reduced one,
    // which is much smaller and gives real, short paths.
    let goals_of = |kind: Kind| -> Vec<crate::trace::Goal> {
        defs.iter()
            .zip(&discovered)
            .filter(|(d, found)| **found && d.kind == kind)
            .map(|(d, _)| (d.name, d.goal()))
            .collect()
    };
    let plain = Ee2eModel::new(config).without_reduction();
    let shortest = |kind: Kind, limit: usize| {
        crate::trace::shortest_until(&trace_model(config, kind), &goals_of(kind), limit, &options.interrupt)
            .into_iter()
    };
    let mut counterexamples = shortest(Kind::Always, TRACE_SEARCH_LIMIT);
    // Witnesses of sometimes-properties come from the attacker-free graph (every step shown),
    // coverage probes from the reduced one; both are then read back in report order.
    let mut witnesses = shortest(Kind::Sometimes, EXAMPLE_SEARCH_LIMIT);
    let mut probes = shortest(Kind::Covers, EXAMPLE_SEARCH_LIMIT);
    let init = plain.init_states().remove(0);

    let properties = defs
        .iter()
        .zip(&discovered)
        .map(|(d, found)| {
            // Where the shortest-trace search gives up (past its state limit), the checker's
            // own path stands in: real, but not necessarily the shortest.
            let actions = if *found {
                let trace = match d.kind {
                    Kind::Always => counterexamples.next(),
                    Kind::Sometimes => witnesses.next(),
                    Kind::Covers => probes.next(),
                };
                // Chains of the reduced graph are shown step by step.
                trace
                    .flatten()
                    .map(|t| t.into_iter().flat_map(Action::steps).collect())
                    .or_else(|| found_paths.get(d.name).cloned())
            } else {
                None
            };
            let why = crate::properties::not_exercisable(d.name, &config).filter(|_| !found);
            let status = match (d.kind, found, complete) {
                _ if why.is_some() => Status::NotExercised,
                (Kind::Always, true, _) => Status::Violated,
                (Kind::Always, false, true) => Status::Holds,
                (_, true, _) => Status::Witnessed,
                (_, false, true) => Status::NotWitnessed,
                (_, false, false) => Status::Unknown,
            };
            let trace = actions
                .iter()
                .flatten()
                .enumerate()
                .map(|(i, a)| Step { n: i + 1, action: plain.format_action(a) })
                .collect();
            let path = actions.and_then(|a| Path::from_actions(&plain, init.clone(), a.iter()));
            PropertyResult { name: d.name, kind: d.kind.name(), status, trace, level: d.level, why, path }
        })
        .collect();
    let b = config.bounds;
    RunReport {
        profile: config.profile.name(),
        threat: config.threat.name(),
        scenario: config.scenario.name(),
        label: config.label(),
        bounds: b.to_string(),
        bounds_values: b,
        complete,
        settled_early,
        stopped,
        states,
        unique_states: unique,
        max_depth: depth,
        seconds,
        memory_bytes: peak_memory.saturating_sub(base_memory),
        properties,
        spell_split: None,
    }
}

const GIB: f64 = (1u64 << 30) as f64;

/// What watching a checker to its end gave.
struct Watched {
    stopped: Option<String>,
    peak_memory: u64,
    states: usize,
    unique: usize,
    depth: usize,
    /// The checker's own path to each discovery, by property name.
    discovered: std::collections::BTreeMap<&'static str, Vec<Action>>,
}

/// Waits for `checker`, printing progress and stopping it cleanly at a limit or on an
/// interrupt.
fn watch(
    mut checker: impl Checker<Ee2eModel>,
    config: Config,
    part: &str,
    options: &RunOptions,
    stop: &AtomicBool,
    start: Instant,
) -> Watched {
    let mut peak_memory = 0;
    let mut stopped = None;
    let mut last_line = Instant::now();
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(50));
        let memory = resident_bytes().unwrap_or(0);
        peak_memory = peak_memory.max(memory);
        let unique = checker.unique_state_count();
        if stopped.is_none() {
            if options.interrupt.load(Ordering::Relaxed) {
                stopped = Some("interrupted".to_string());
            } else if let Some(max) = options.max_states.filter(|m| unique >= *m) {
                stopped = Some(format!("state limit of {max} distinct states reached"));
            } else if let Some(max) = options.max_memory.filter(|m| memory >= *m) {
                stopped = Some(format!("memory limit of {:.1} GiB reached", max as f64 / GIB));
            }
            if stopped.is_some() {
                stop.store(true, Ordering::Relaxed);
            }
        }
        if options.progress && last_line.elapsed() >= Duration::from_secs(2) {
            last_line = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "ee2e check: {} / {} / {}{part}: {} states, {} unique, depth {}, {:.0} states/s, {:.2} GiB resident, {:.0} s",
                config.profile,
                config.threat,
                config.label(),
                checker.state_count(),
                unique,
                checker.max_depth(),
                checker.state_count() as f64 / secs.max(1e-9),
                memory as f64 / GIB,
                secs
            );
        }
    }
    for h in checker.handles() {
        // A checker thread that panicked is a bug in the model: surface it.
        if let Err(panic) = h.join() {
            std::panic::resume_unwind(panic);
        }
    }
    let discovered = ALL
        .iter()
        .filter_map(|d| {
            checker
                .discovery(d.name)
                .map(|path| (d.name, path.into_actions().into_iter().flat_map(Action::steps).collect()))
        })
        .collect();
    Watched {
        stopped,
        peak_memory,
        states: checker.state_count(),
        unique: checker.unique_state_count(),
        depth: checker.max_depth(),
        discovered,
    }
}

/// The model in which the shortest trace of a property of `kind` is searched: counterexamples
/// in the full graph without reductions (every step shown); witnesses of sometimes-properties,
/// which are attacker-free ([`crate::properties::attacker_free`]), in the graph where the
/// attacker injects nothing, without reductions (exactly the attacker-free states, and far
/// fewer of them); coverage probes, which may need the attacker, in the reduced full graph.
pub fn trace_model(config: Config, kind: Kind) -> Ee2eModel {
    match kind {
        Kind::Always => Ee2eModel::new(config).without_reduction(),
        Kind::Sometimes => {
            let bounds = Bounds { injections: 0, ..config.bounds };
            Ee2eModel::new(Config { bounds, ..config }).without_reduction()
        }
        Kind::Covers => Ee2eModel::new(config),
    }
}

/// The shortest trace to property `name`'s counterexample (always) or example (sometimes,
/// coverage) in `config`, searching at most `max_states` states: what `check` reports.
pub fn shortest_trace(config: Config, name: &str, max_states: usize) -> Option<Vec<Action>> {
    let def = crate::properties::get(name)?;
    let goal = (def.name, def.goal());
    let trace =
        crate::trace::shortest(&trace_model(config, def.kind), &[goal], max_states).pop().flatten()?;
    Some(trace.into_iter().flat_map(Action::steps).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Scenario;
    use ee2e_spec::{Fix, Profile};

    fn config(profile: Profile, threat: Threat) -> Config {
        let scenario = Scenario::Messaging;
        Config { profile, threat, scenario, bounds: Bounds::defaults(scenario)[0] }
    }

    #[test]
    fn auto_searches_depth_first_only_where_nothing_should_fail() {
        let auto = |p, t| Search::Auto.resolve(&config(p, t));
        assert_eq!(auto(Profile::HARDENED, Threat::Network), Search::Dfs);
        assert_eq!(auto(Profile::HARDENED, Threat::Passive), Search::Dfs);
        // Expected violations (seed flaws, §14 limits, a removed erratum): breadth first.
        assert_eq!(auto(Profile::SEED, Threat::Network), Search::Bfs);
        assert_eq!(auto(Profile::HARDENED, Threat::Compromise), Search::Bfs);
        assert_eq!(auto(Profile::HARDENED.without(Fix::EncryptThenMac), Threat::Network), Search::Bfs);
        // An explicit order is kept.
        assert_eq!(Search::Bfs.resolve(&config(Profile::HARDENED, Threat::Network)), Search::Bfs);
        assert_eq!(Search::Dfs.resolve(&config(Profile::SEED, Threat::Network)), Search::Dfs);
    }
}
