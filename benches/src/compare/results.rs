//! `ee2e bench results`: `benches/RESULTS.md` with the end-to-end load figures and the
//! figures from before the performance work (issue 13) next to this run's.

use std::fmt::Write as _;

use ee2e_spec::Profile;

use super::report::{Report, duration};
use crate::load::{self, LoadConfig, Presence};

/// Where the "before" figures come from.
const BEFORE_SOURCE: &str = "main at commit 5aba5c9: the operations from its `benches/RESULTS.md` \
(`bench compare`, 2026-11-27, load average ~6.7 on 2 logical CPUs, a host with VAES-512); the loads \
measured with its binary on 2026-12-01 21:55 UTC on this 2-CPU machine at load average ~10 \
(`ee2e load --clients 50 --messages 50`, then with `--store FILE`)";

/// Before the work: (operation, our median in ns, ratio to the OpenSSL composite).
const BEFORE_OPS: [(&str, f64, f64); 16] = [
    ("seal 64B seed", 586.0, 1.76),
    ("open 64B seed", 513.0, 1.88),
    ("seal 64B hardened", 811.0, 1.99),
    ("open 64B hardened", 676.0, 1.94),
    ("seal 1KiB seed", 2_820.0, 1.55),
    ("open 1KiB seed", 1_880.0, 2.01),
    ("seal 1KiB hardened", 3_020.0, 1.60),
    ("open 1KiB hardened", 2_090.0, 2.09),
    ("seal 64KiB seed", 149_450.0, 1.47),
    ("open 64KiB seed", 92_880.0, 2.04),
    ("seal 64KiB hardened", 149_140.0, 1.48),
    ("open 64KiB hardened", 93_260.0, 2.09),
    ("ack create seed", 172.0, 0.84),
    ("ack verify seed", 161.0, 0.78),
    ("ack create hardened", 287.0, 1.17),
    ("ack verify hardened", 239.0, 0.98),
];

/// Figures before the work: msgs/s of wall time, msgs/s of CPU time, crypto share; `None`:
/// not measured then.
type Before = Option<(f64, f64, f64)>;

/// One load configuration and what its runs measured.
pub struct LoadFigure {
    /// What was run.
    pub name: &'static str,
    /// Before the work.
    pub before: Before,
    /// Median over the runs: msgs/s of wall time.
    pub rate: f64,
    /// Median: msgs/s of CPU time.
    pub cpu_rate: f64,
    /// Median: crypto share of the CPU time.
    pub crypto_share: f64,
    /// Group commits of the median run (by wall rate).
    pub commits: u64,
    /// Runs made.
    pub runs: usize,
    /// Every run completed and its no-loss check passed.
    pub ok: bool,
}

/// The load configurations: (name, offline recipients, SQLite file, before).
const LOADS: [(&str, bool, bool, Before); 3] = [
    ("SQLite in memory", false, false, Some((13_476.0, 25_510.0, 0.26))),
    ("SQLite file (WAL, synchronous=FULL)", false, true, Some((5_073.0, 12_690.0, 0.13))),
    ("SQLite file, odd clients offline every other round (`--offline`)", true, true, None),
];

/// Runs every load configuration `runs` times (50 clients × 50 messages of 1 KiB, hardened).
pub fn loads(runs: usize, out: &mut dyn FnMut(&str)) -> Vec<LoadFigure> {
    LOADS
        .iter()
        .map(|&(name, offline, file, before)| {
            out(&format!("\n== load: {name}, {runs} run(s)"));
            let mut outcomes = Vec::new();
            let mut ok = true;
            for _ in 0..runs {
                let config = LoadConfig {
                    clients: 50,
                    messages: 50,
                    size: 1024,
                    peers: 1,
                    profile: Profile::HARDENED,
                    presence: if offline { Presence::Alternate } else { Presence::Always },
                    seed: 1,
                    pbkdf2_iterations: 1000,
                };
                let dir = match tempfile::tempdir() {
                    Ok(dir) => dir,
                    Err(error) => {
                        out(&format!("bench results: cannot create a temporary directory: {error}"));
                        ok = false;
                        continue;
                    }
                };
                let path = dir.path().join("load.sqlite");
                match load::run(&config, file.then_some(path.as_path())) {
                    Ok(outcome) => {
                        out(&format!(
                            "{:.0} msgs/s ({:.0} per CPU second), crypto share {:.0}%, {}",
                            outcome.rate,
                            outcome.cpu_rate,
                            100.0 * outcome.crypto_share,
                            if outcome.problems.is_empty() {
                                "no loss".to_string()
                            } else {
                                format!("FAILED: {:?}", outcome.problems)
                            }
                        ));
                        ok &= outcome.problems.is_empty();
                        outcomes.push(outcome);
                    }
                    Err(error) => {
                        out(&format!("bench results: load {name}: {error}"));
                        ok = false;
                    }
                }
            }
            let median = |f: &dyn Fn(&load::Outcome) -> f64| {
                let mut values: Vec<f64> = outcomes.iter().map(f).collect();
                values.sort_by(f64::total_cmp);
                values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
            };
            let (rate, cpu_rate, crypto_share) =
                (median(&|o| o.rate), median(&|o| o.cpu_rate), median(&|o| o.crypto_share));
            outcomes.sort_by(|a, b| a.rate.total_cmp(&b.rate));
            LoadFigure {
                name,
                before,
                rate,
                cpu_rate,
                crypto_share,
                commits: outcomes.get(outcomes.len() / 2).map_or(0, |o| o.commits),
                runs,
                ok: ok && outcomes.len() == runs,
            }
        })
        .collect()
}

/// `benches/RESULTS.md`: the comparison's report with, after its preamble, the before/after
/// table and the load figures.
pub fn markdown(report: &Report, loads: &[LoadFigure]) -> String {
    let mut extra = String::new();
    let _ = writeln!(extra, "## Before and after (issue 13)\n");
    let _ = writeln!(extra, "Before: {BEFORE_SOURCE}. After: this run (figures below).\n");
    let _ = writeln!(extra, "| operation | before | before / OpenSSL | after | after / OpenSSL |");
    let _ = writeln!(extra, "|---|---:|---:|---:|---:|");
    for (name, ns, ratio) in BEFORE_OPS {
        let (after, after_ratio) = match report.find(name) {
            Some(row) => {
                (duration(row.ours.median_ns), row.ratio().map_or("–".into(), |r| format!("{r:.2}×")))
            }
            None => ("not measured".into(), "–".into()),
        };
        let _ = writeln!(extra, "| {name} | {} | {ratio:.2}× | {after} | {after_ratio} |", duration(ns));
    }
    let _ = writeln!(extra);
    let _ = writeln!(extra, "## End to end: `ee2e load`\n");
    let _ = writeln!(
        extra,
        "50 clients × 50 messages of 1 KiB, hardened, each to its next ring neighbour (`ee2e load --clients 50 \
         --messages 50 [--store FILE] [--offline]`), run in process by `{}`; median of the runs. msgs/s is \
         over the messaging phase's wall time (on a shared machine it counts time preempted by other \
         processes), per CPU s over its CPU time. Crypto share: the same number of seal + open + ACK + \
         verify timed standalone, over the phase's CPU time.\n",
        report.command()
    );
    let _ = writeln!(
        extra,
        "| store | runs | before msgs/s | before per CPU s | before crypto | msgs/s | per CPU s | crypto share | group commits | no loss |"
    );
    let _ = writeln!(extra, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for load in loads {
        let (b_rate, b_cpu, b_share) = match load.before {
            Some((rate, cpu, share)) => {
                (format!("{rate:.0}"), format!("{cpu:.0}"), format!("{:.0}%", share * 100.0))
            }
            None => ("not measured".into(), "–".into(), "–".into()),
        };
        let _ = writeln!(
            extra,
            "| {} | {} | {b_rate} | {b_cpu} | {b_share} | {:.0} | {:.0} | {:.0}% | {} | {} |",
            load.name,
            load.runs,
            load.rate,
            load.cpu_rate,
            load.crypto_share * 100.0,
            load.commits,
            if load.ok { "yes" } else { "**FAILED**" }
        );
    }
    let _ = writeln!(
        extra,
        "\nCrash guarantee with a file: WAL, `synchronous=FULL`, and group commit (SPEC.md §14): the \
         writes of up to {} consecutive server steps are committed, and fsynced, in one transaction before \
         any output of those steps is sent, so a crash loses only steps whose effects no party saw. In \
         memory nothing survives the process.\n",
        ee2e::runtime::GROUP_STEPS
    );
    let body = report.markdown();
    match body.find("## Machine and run") {
        Some(at) => format!("{}{extra}{}", &body[..at], &body[at..]),
        None => format!("{body}\n{extra}"),
    }
}
