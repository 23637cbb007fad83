//! The offline OTP guess, done for real: every 6-digit code is tried against a verifier the
//! attacker observed (the seed's registration tag), with the PBKDF2 iteration count of the run.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use ee2e::{Bytes, ConcreteSuite};
use ee2e_model::symbolic::Term;
use ee2e_spec::Suite;
use ee2e_spec::limits::PBKDF2_ITERATIONS;

use super::attacker::eval_det;

/// Number of 6-digit OTPs.
pub const OTP_SPACE: u64 = 1_000_000;

/// One offline brute force of an OTP.
#[derive(Debug, Clone, PartialEq)]
pub struct BruteForce {
    /// Whose OTP (the phone's owner, as A, B or E).
    pub owner: String,
    /// The verifier the attacker tested guesses against (a symbolic term, for the report).
    pub verifier: String,
    /// The OTP found, as the user would read it.
    pub otp: String,
    /// Guesses computed before the match was found (all threads together).
    pub tried: u64,
    /// Size of the search space (10⁶).
    pub space: u64,
    /// Threads used.
    pub threads: usize,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// PBKDF2 iterations per guess (the run's parameter).
    pub iterations: u32,
    /// Seconds one guess takes at the specification's iteration count ([`SPEC_ITERATIONS`]),
    /// measured once on one core.
    pub spec_guess_seconds: f64,
}

impl BruteForce {
    /// Guesses per second over all threads.
    pub fn guesses_per_second(&self) -> f64 {
        if self.seconds > 0.0 { self.tried as f64 / self.seconds } else { 0.0 }
    }

    /// CPU-core hours to try the whole space at the specification's iteration count, from
    /// the measured cost of one guess at that count.
    pub fn core_hours_for_space_at_spec(&self) -> f64 {
        self.spec_guess_seconds * self.space as f64 / 3600.0
    }
}

/// The seed's PBKDF2 iteration count, for extrapolations in reports.
pub const SPEC_ITERATIONS: u32 = PBKDF2_ITERATIONS;

/// The `i`-th OTP candidate: `i` as 6 ASCII digits.
fn candidate(i: u64) -> Bytes {
    let mut digits = [b'0'; 6];
    let mut rest = i;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    Bytes::secret(digits.to_vec())
}

/// Collects the largest subterms of `term` that do not contain `secret`.
fn constant_parts(term: &Term, secret: &Term, out: &mut Vec<Term>) {
    if !term.contains(secret) {
        out.push(term.clone());
        return;
    }
    use ee2e_model::symbolic::Node;
    match term.node() {
        Node::Hash(a) => constant_parts(a, secret, out),
        Node::Hmac(a, b) | Node::Pbkdf2(a, b) => {
            constant_parts(a, secret, out);
            constant_parts(b, secret, out);
        }
        Node::Hkdf(a, b, c) => {
            for t in [a, b, c] {
                constant_parts(t, secret, out);
            }
        }
        Node::SEnc { key, iv, msg } => {
            for t in [key, iv, msg] {
                constant_parts(t, secret, out);
            }
        }
        Node::Tuple(parts) => parts.iter().for_each(|p| constant_parts(p, secret, out)),
        _ => {}
    }
}

/// Tries every OTP: the one for which `verifier` (evaluated with the guess in place of
/// `secret` and the attacker's `known` values elsewhere) equals `observed`. Returns the OTP,
/// the number of guesses computed, the threads used and the seconds taken; `None` if no code
/// matches (or the verifier cannot be evaluated).
pub(crate) fn search(
    verifier: &Term,
    secret: &Term,
    observed: &Bytes,
    known: &HashMap<Term, Bytes>,
    iterations: u32,
) -> Option<(Bytes, u64, usize, f64)> {
    // Everything that does not depend on the guess is computed once.
    let mut parts = Vec::new();
    constant_parts(verifier, secret, &mut parts);
    let mut cache: HashMap<Term, Bytes> = HashMap::new();
    for part in parts {
        let value = eval_det(&part, &mut |t| known.get(t).cloned(), iterations)?;
        cache.insert(part, value);
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 16);
    let found = AtomicBool::new(false);
    let tried = AtomicU64::new(0);
    let result: Mutex<Option<Bytes>> = Mutex::new(None);
    let start = Instant::now();
    let chunk = OTP_SPACE.div_ceil(threads as u64);
    std::thread::scope(|scope| {
        for t in 0..threads as u64 {
            let (cache, found, tried, result) = (&cache, &found, &tried, &result);
            scope.spawn(move || {
                let mut local = 0u64;
                for i in t * chunk..((t + 1) * chunk).min(OTP_SPACE) {
                    // Check for another thread's success now and then (cheap, not every guess).
                    if local.is_multiple_of(256) && found.load(Ordering::Relaxed) {
                        break;
                    }
                    local += 1;
                    let guess = candidate(i);
                    let value = eval_det(
                        verifier,
                        &mut |term| {
                            if term == secret { Some(guess.clone()) } else { cache.get(term).cloned() }
                        },
                        iterations,
                    );
                    if value.is_some_and(|v| ConcreteSuite::ct_eq(&v, observed)) {
                        found.store(true, Ordering::Relaxed);
                        if let Ok(mut slot) = result.lock() {
                            *slot = Some(guess);
                        }
                        break;
                    }
                }
                tried.fetch_add(local, Ordering::Relaxed);
            });
        }
    });
    let seconds = start.elapsed().as_secs_f64();
    let otp = result.into_inner().ok().flatten()?;
    Some((otp, tried.into_inner(), threads, seconds))
}
