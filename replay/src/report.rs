//! The replay table: per attack, what it does, how it ends on `seed` and on `hardened`.

use std::fmt::Write as _;

use ee2e_model::Config;
use ee2e_model::run::RunReport;

use super::brute::SPEC_ITERATIONS;
use super::{
    AttackReplay, Outcome, REPLAY_PBKDF2_ITERATIONS, Replay, ReplayError, attacks_from_runs, replay_both,
};

/// A short description of the attack behind a property's seed counterexample.
fn describe(property: &str) -> &'static str {
    match property {
        "registration_binding" => {
            "E brute-forces A's OTP from A's clear tag, registers its own key for A's phone"
        }
        "key_possession" => "E registers A's public key under E's own phone",
        "directory_binding" => "E answers A's lookup of B with E's own signed entry, relabelled as B's",
        "session_key_secrecy" => "E's entry as B's: A encrypts the session key to E",
        "key_transport_agreement" => "E's entry as B's; E sends A's own session key back to A as from B",
        "message_authenticity" => "E's entry as B's; E seals its own message to A as from B",
        "message_no_replay" => "E reflects A's message to B back to A as from B, twice",
        "message_confidentiality" => "E's entry as B's; E decrypts A's message to B",
        "ack_authenticity" => "E's entry as B's; E forges B's ACK for A's message, which B never gets",
        _ => "",
    }
}

fn seed_cell(r: &Result<Replay, ReplayError>) -> String {
    match r {
        Ok(replay) => match replay.success() {
            Some(v) => {
                let mut cell = format!("succeeds: {}", v.detail);
                for b in &replay.brute_forces {
                    let _ = write!(
                        cell,
                        " ({}'s OTP {} brute-forced offline: {} guesses, {:.2} s)",
                        b.owner, b.otp, b.tried, b.seconds
                    );
                }
                for g in &replay.online_guesses {
                    if let Some(otp) = &g.otp {
                        let _ = write!(
                            cell,
                            " ({}'s OTP {otp} guessed online: {} submissions, {:.2} s)",
                            g.owner, g.tried, g.seconds
                        );
                    }
                }
                cell
            }
            None => match replay.first_failure() {
                Some(s) => format!("NOT REPRODUCED: step {} {}", s.n, outcome_text(&s.outcome)),
                None => "NOT REPRODUCED: every step ran, the property holds".into(),
            },
        },
        Err(e) => format!("REPLAY ERROR at {e}"),
    }
}

fn hardened_cell(r: &Result<Replay, ReplayError>) -> String {
    let replay = match r {
        Ok(replay) => replay,
        Err(e) => return format!("REPLAY ERROR at {e}"),
    };
    if let Some(v) = replay.success() {
        return format!("NOT STOPPED: {}", v.detail);
    }
    let Some(first) = replay.first_failure() else {
        return "every step ran, yet the property holds".into();
    };
    let mut cell = match &first.outcome {
        Outcome::Rejected(rejection) => format!("rejected at step {} by {rejection}", first.n),
        Outcome::NotBuilt(why) => {
            format!("step {} ({}) impossible for E: {}", first.n, first.kind, short(why))
        }
        other => format!("step {} ({}) {}", first.n, first.kind, outcome_text(other)),
    };
    if !matches!(first.outcome, Outcome::Rejected(_))
        && let Some((n, rejection)) = replay.first_rejection()
    {
        let _ = write!(cell, "; then rejected at step {n} by {rejection}");
    }
    cell
}

/// The first clause of a reason, and any erratum it names.
fn short(why: &str) -> String {
    let head = why.split(':').next().unwrap_or(why).trim();
    match why.rfind(" (E") {
        Some(i) => format!("{head}{}", &why[i..]),
        None => head.to_string(),
    }
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Done => "done".into(),
        Outcome::Rejected(r) => format!("rejected by {r}"),
        Outcome::NotPossible(why) => format!("not possible: {why}"),
        Outcome::NotBuilt(why) => format!("impossible for E: {why}"),
    }
}

/// Renders replays: the table, the brute-force timings, and every step of every replay.
pub fn render(replays: &[AttackReplay]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Attack replay: each seed counterexample (threat network) run on the implementation over real bytes,\n\
         then the same trace on hardened. PBKDF2 at {REPLAY_PBKDF2_ITERATIONS} iterations in the runtime and in the \
         attacker's brute force (SPEC: {SPEC_ITERATIONS}).\n"
    );
    let _ = writeln!(out, "| property | attack | seed | hardened |");
    let _ = writeln!(out, "|---|---|---|---|");
    for r in replays {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            r.attack.property,
            describe(r.attack.property),
            seed_cell(&r.seed).replace('|', "/"),
            hardened_cell(&r.hardened).replace('|', "/")
        );
    }
    let _ = writeln!(out);
    for r in replays {
        for replay in [&r.seed, &r.hardened].into_iter().flatten() {
            for b in &replay.brute_forces {
                let _ = writeln!(
                    out,
                    "Brute force ({}, {}): E found {}'s OTP {} after {} of {} guesses against {}, in {:.2} s on {} \
                     thread(s) at {} PBKDF2 iterations ({:.0} guesses/s). One guess at {} iterations took {:.3} s \
                     here: the whole space would take ≈ {:.0} core-hours.",
                    replay.property,
                    replay.profile,
                    b.owner,
                    b.otp,
                    b.tried,
                    b.space,
                    b.verifier,
                    b.seconds,
                    b.threads,
                    b.iterations,
                    b.guesses_per_second(),
                    SPEC_ITERATIONS,
                    b.spec_guess_seconds,
                    b.core_hours_for_space_at_spec()
                );
            }
            for g in &replay.online_guesses {
                let end = match (&g.otp, &g.stopped_by) {
                    (Some(otp), _) => format!("S accepted {otp}"),
                    (None, why) => format!("stopped: {}", why.as_deref().unwrap_or("?")),
                };
                let _ = writeln!(
                    out,
                    "Online guess ({}, {}): E submitted its registration for {}'s phone with the codes in \
                     turn, {} submission(s) in {:.2} s; {end}.",
                    replay.property, replay.profile, g.owner, g.tried, g.seconds
                );
            }
        }
    }
    let _ = writeln!(out, "\nSteps:\n");
    for r in replays {
        for (profile, result) in [("seed", &r.seed), ("hardened", &r.hardened)] {
            let _ = writeln!(out, "{} on {profile}:", r.attack.property);
            match result {
                Ok(replay) => {
                    for s in &replay.steps {
                        let _ = writeln!(out, "  {:>2}. {} — {}", s.n, s.action, outcome_text(&s.outcome));
                        for note in &s.notes {
                            let _ = writeln!(out, "        · {note}");
                        }
                    }
                    for v in &replay.violations {
                        let _ = writeln!(out, "      ⇒ {} violated: {}", v.property, v.detail);
                    }
                    if replay.violations.is_empty() {
                        let _ = writeln!(out, "      ⇒ no property violated");
                    }
                }
                Err(e) => {
                    let _ = writeln!(out, "  replay error at {e}");
                }
            }
        }
        let _ = writeln!(out);
    }
    out
}

/// Replays every seed counterexample under threat `network` found in `runs` (the runs of
/// `ee2e check`) on both profiles and renders the result ([`render`]).
pub fn table(runs: &[(Config, RunReport)]) -> String {
    let attacks = attacks_from_runs(runs);
    if attacks.is_empty() {
        return "Attack replay: no seed counterexample under threat network in these runs.\n".into();
    }
    let replays: Vec<AttackReplay> = attacks.iter().map(replay_both).collect();
    render(&replays)
}
