//! `ee2e mitm`: a proxy between real clients and a real server that plays the model's
//! shortest seed counterexample of a property on the live traffic (SPEC.md §2.5 frames, §4
//! messages; the trace's steps from [`ee2e_replay::LiveTrace`], the same
//! attacker and translation as `ee2e check --replay`).
//!
//! `attacks` says which properties it plays and why not the others; `proxy` is the
//! frame plumbing. The proxy prints each step as it plays it and ends with a [`Verdict`].

pub mod attacks;
mod proxy;

use std::time::Duration;

use ee2e_replay::{Attack, LiveTrace, replay};
use ee2e_spec::Profile;
use tokio::net::TcpListener;

/// What went wrong before or while playing an attack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MitmError {
    /// The proxy does not play this property's attack.
    #[error("ee2e mitm does not attack {property}: {reason}")]
    Unsupported {
        /// The property.
        property: String,
        /// Why.
        reason: &'static str,
    },
    /// The model gives no trace the proxy can play.
    #[error("{0}")]
    NoTrace(String),
    /// The live parties and the model disagree, or a step's bytes could not be built.
    #[error("the trace cannot be played: {0}")]
    Trace(#[from] ee2e_replay::ReplayError),
    /// A party did not do its part in time.
    #[error("step {step}: {what} within {waited:?}")]
    Timeout {
        /// The step.
        step: usize,
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
    },
    /// The network failed (the upstream server refused a connection, …).
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}

/// How the attack ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The breach the property names happened.
    Succeeded {
        /// What the breach is (SPEC.md §15's sentence).
        breach: &'static str,
    },
    /// A party rejected a step (or the trace ran and nothing was breached).
    Rejected {
        /// The first rejected step and by whom (`None`: no step was rejected).
        at: Option<(usize, String)>,
        /// The check that rejects it, as the in-process replay of the same trace on the
        /// same profile names it (a client's error is not on the wire).
        check: Option<String>,
    },
}

/// What to attack and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The server to forward to, `host:port`.
    pub upstream: String,
    /// The profile the parties run.
    pub profile: Profile,
    /// How long a step waits for the parties.
    pub wait: Duration,
}

/// The attack on `property`, ready to be played: its trace, and the check the in-process
/// replay on `profile` names for its first rejection.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The seed trace.
    pub attack: Attack,
    /// The in-process replay's first rejection on the profile: (step, "A: BadMac (E4)").
    pub expected: Option<(usize, String)>,
}

/// Finds the trace of `property` and replays it in process on `profile` (to name the check
/// a rejection is due to).
///
/// # Errors
/// [`MitmError::Unsupported`], [`MitmError::NoTrace`], [`MitmError::Trace`].
pub fn prepare(property: &str, profile: Profile) -> Result<Prepared, MitmError> {
    let attack = attacks::attack(property)?;
    let expected = replay(&attack, profile)?.first_rejection().map(|(n, r)| (n, r.to_string()));
    Ok(Prepared { attack, expected })
}

/// Plays `prepared` on the connections `listener` accepts, forwarding to `options.upstream`;
/// `say` gets each line of the step-by-step account. Returns once the trace is over and
/// every client connection has closed (at most `options.wait` after the trace).
///
/// # Errors
/// [`MitmError`] if the attack could not be played.
pub async fn run(
    listener: TcpListener,
    prepared: &Prepared,
    options: &Options,
    say: &mut dyn FnMut(String),
) -> Result<Verdict, MitmError> {
    let mut trace = LiveTrace::new(&prepared.attack, options.profile)?;
    let first = proxy::play(listener, &mut trace, options, say).await?;
    Ok(if trace.breached() {
        // The attack's property comes from the model's table (`attacks::attack`).
        Verdict::Succeeded {
            breach: ee2e_model::report::sentence(prepared.attack.property).unwrap_or_default(),
        }
    } else {
        let check = match (&first, &prepared.expected) {
            (Some((n, _)), Some((m, check))) if n == m => Some(check.clone()),
            _ => None,
        };
        Verdict::Rejected { at: first, check }
    })
}
