//! The counterexamples of a `check`, as stories: one per distinct trace with the runs it
//! belongs to, each with the erratum that stops it — from the implementation's replay under
//! `hardened` for a seed trace, or the erratum a `hardened-without-…` run removes.

use std::collections::HashMap;

use ee2e_model::report::erratum_ref;
use ee2e_model::report::{FixRef, ReplayOutcome, Story, StoryError, tell};
use ee2e_model::run::{RunReport, Status};
use ee2e_model::{Config, Ee2eModel};
use ee2e_replay::{Attack, Outcome, replay};
use ee2e_spec::{Fix, Profile};

/// One distinct counterexample.
#[derive(Debug, Clone)]
pub struct Counterexample {
    /// The violated property.
    pub property: &'static str,
    /// The story, told in the first run that has it.
    pub story: Story,
    /// Every run (`profile / threat / scenario`) with this same trace.
    pub runs: Vec<String>,
}

/// The name of a run.
pub fn run_name(config: &Config) -> String {
    format!("{} / {} / {}", config.profile, config.threat, config.label())
}

/// The fix of a `hardened-without-…` run: the erratum it removes.
fn removed_fix(profile: Profile) -> Option<FixRef> {
    let removed: Vec<Fix> = Fix::ALL.into_iter().filter(|f| !profile.has(*f)).collect();
    match removed.as_slice() {
        [fix] => Some(FixRef {
            erratum: fix.erratum(),
            name: fix.name(),
            summary: fix.summary(),
            spec: erratum_ref(*fix),
            source: "profile",
            step: None,
            party: None,
            error: None,
        }),
        _ => None,
    }
}

/// Replays a seed trace on the implementation under `hardened`: the erratum whose check
/// rejects it first, and the outcome in one line.
fn replayed_fix(config: Config, property: &'static str, story: &mut Story, actions: Vec<ee2e_model::Action>) {
    let attack = Attack { property, config, actions };
    // The implementation logs each rejection; here they are the expected outcome, reported below.
    let replayed = tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
        replay(&attack, Profile::HARDENED)
    });
    match replayed {
        Ok(r) => {
            let succeeded = r.success().is_some();
            let rejection = r.first_rejection();
            let first = r.first_failure();
            let outcome = match (&r.success(), first) {
                (Some(v), _) => format!("NOT STOPPED: {}", v.detail),
                (None, Some(s)) => match &s.outcome {
                    Outcome::Rejected(rej) => format!("rejected at step {} by {rej}", s.n),
                    Outcome::NotBuilt(why) => format!("step {} impossible for E: {why}", s.n),
                    Outcome::NotPossible(why) => format!("step {} not possible: {why}", s.n),
                    Outcome::Done => "done".into(),
                },
                (None, None) => "every step ran, yet the property holds".into(),
            };
            story.replay.push(ReplayOutcome { profile: Profile::HARDENED.name(), succeeded, outcome });
            // What stops the attack first: a step E cannot build because of an erratum (the
            // harness names it, "(E7: …)"), or else the first rejection.
            let unbuildable = first.and_then(|s| match &s.outcome {
                Outcome::NotBuilt(why) => {
                    let erratum = why.rfind("(E").and_then(|i| why.get(i + 1..i + 3)).and_then(Fix::parse)?;
                    let head = why.split(':').next().unwrap_or(why).trim();
                    Some((s.n, erratum, "E".to_string(), head.to_string()))
                }
                _ => None,
            });
            let rejected = rejection.and_then(|(n, rej)| {
                rej.erratum().and_then(Fix::parse).map(|f| (n, f, rej.party().to_string(), rej.error_text()))
            });
            if let Some((n, fix, party, error)) = unbuildable.or(rejected)
                && !succeeded
            {
                story.fix = Some(FixRef {
                    erratum: fix.erratum(),
                    name: fix.name(),
                    summary: fix.summary(),
                    spec: erratum_ref(fix),
                    source: "replay",
                    step: Some(n),
                    party: Some(party),
                    error: Some(error),
                });
            }
        }
        Err(e) => story.replay.push(ReplayOutcome {
            profile: Profile::HARDENED.name(),
            succeeded: false,
            outcome: format!("REPLAY ERROR at {e}"),
        }),
    }
}

/// A counterexample the model could not tell as a story: a bug in the model, not in what
/// was checked.
#[derive(Debug, thiserror::Error)]
#[error("{run} / {property}: {source}")]
pub struct UntoldError {
    /// The run (`profile / threat / scenario`).
    pub run: String,
    /// The violated property.
    pub property: &'static str,
    /// Why the story could not be told.
    pub source: StoryError,
}

/// The counterexamples of `runs`, each distinct trace once, in report order. A trace the
/// model cannot tell (a bug) is an error naming the run and property.
pub fn counterexamples(runs: &[(Config, RunReport)]) -> Result<Vec<Counterexample>, UntoldError> {
    let mut out: Vec<Counterexample> = Vec::new();
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    for (config, report) in runs {
        let model = Ee2eModel::new(*config).without_reduction();
        for p in report.properties.iter().filter(|p| p.status == Status::Violated) {
            let Some(path) = &p.path else { continue };
            let actions = path.clone().into_actions();
            let mut story = tell(&model, &actions, Some(p.name)).map_err(|source| UntoldError {
                run: run_name(config),
                property: p.name,
                source,
            })?;
            // Two runs share a counterexample when their stories' steps are the same; the
            // entries are plain data, so their debug text is a faithful key.
            let key = format!("{:?}", story.entries);
            let expected = ee2e_model::report::expectation(config, p.name).is_some();
            let key = (format!("{} {} {} {expected}", p.name, config.profile, config.label()), key);
            if let Some(i) = index.get(&key) {
                out[*i].runs.push(run_name(config));
                continue;
            }
            if config.profile == Profile::SEED {
                replayed_fix(*config, p.name, &mut story, actions);
            } else {
                story.fix = removed_fix(config.profile);
            }
            index.insert(key, out.len());
            out.push(Counterexample { property: p.name, story, runs: vec![run_name(config)] });
        }
    }
    Ok(out)
}
