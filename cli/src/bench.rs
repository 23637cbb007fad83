//! `ee2e bench compare` and `ee2e bench results`: the arguments, where the report goes, and
//! the exit status. What is measured and how: [`ee2e_benches::compare`].

use std::path::PathBuf;
use std::process::ExitCode;

use ee2e_benches::compare::{self, CompareOptions, results};
use ee2e_benches::timing::Clock;

use crate::suite_arg::SuiteArg;

/// `ee2e bench` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Time our operations and their OpenSSL equivalents in one run; print the table and
    /// write it, with the CPU and the commands run, to benches/RESULTS.md.
    Compare {
        /// Shorter measurements (5 batches of 40 ms, one sample of the slow operations):
        /// a quick look, noisier.
        #[arg(long)]
        quick: bool,
        /// The clock both sides are timed with: `cpu` (this thread's CPU time; `openssl
        /// speed` without `-elapsed`) leaves out time spent preempted on a shared machine,
        /// `wall` counts it (`openssl speed -elapsed`).
        #[arg(long, value_enum, default_value_t = ClockArg::Cpu)]
        clock: ClockArg,
        /// The OpenSSL binary.
        #[arg(long, default_value = "openssl", value_name = "PROGRAM")]
        openssl: String,
        /// `openssl speed -seconds`: how long OpenSSL runs each measurement.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=60))]
        seconds: u32,
        /// Only the operations whose name contains one of these texts (e.g. `seal`, `1KiB`).
        #[arg(long, value_name = "TEXT")]
        only: Vec<String>,
        /// Where to write the report.
        #[arg(long, value_name = "PATH", default_value = DEFAULT_OUTPUT)]
        output: PathBuf,
        /// Print the table only; do not write the report.
        #[arg(long)]
        no_write: bool,
        /// The suites whose primitives to compare side by side (repeatable; default: every
        /// suite this build has, `aws-lc` with `--features aws-lc`).
        #[arg(long, value_enum, value_name = "SUITE")]
        suite: Vec<SuiteArg>,
    },
    /// Regenerate benches/RESULTS.md: `compare` (every operation against OpenSSL), then
    /// `ee2e load` in memory, with a SQLite file, and with a file and offline recipients
    /// (median of 3 runs each), next to the figures before the performance work.
    Results {
        /// Shorter measurements (as `compare --quick`, and 1 load run each).
        #[arg(long)]
        quick: bool,
        /// The OpenSSL binary.
        #[arg(long, default_value = "openssl", value_name = "PROGRAM")]
        openssl: String,
        /// Where to write the report.
        #[arg(long, value_name = "PATH", default_value = DEFAULT_OUTPUT)]
        output: PathBuf,
    },
}

/// The clock, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClockArg {
    /// CPU time of the measuring thread (and of the OpenSSL processes).
    Cpu,
    /// Wall-clock time.
    Wall,
}

impl ClockArg {
    fn clock(self) -> Clock {
        match self {
            ClockArg::Cpu => Clock::Cpu,
            ClockArg::Wall => Clock::Wall,
        }
    }
}

/// `benches/RESULTS.md` under the current directory (the clone's root, where `cargo run`
/// is run). Resolved at run time: a path compiled in would point into whichever checkout
/// built the binary.
const DEFAULT_OUTPUT: &str = "benches/RESULTS.md";

/// Whether `output` can be written, checked before the minutes of measuring (a message if
/// not): its directory must exist.
fn writable(output: &std::path::Path) -> bool {
    let dir = match output.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    if dir.is_dir() {
        return true;
    }
    eprintln!(
        "ee2e bench: cannot write {}: no directory {} (run from the clone's root, or pass --output)",
        output.display(),
        dir.display()
    );
    false
}

/// Runs the subcommand; exit status 0 on success, 1 if OpenSSL or an operation failed or
/// the report could not be written.
pub fn run(command: &BenchCommand) -> ExitCode {
    match command {
        BenchCommand::Compare { quick, clock, openssl, seconds, only, output, no_write, suite } => {
            if !no_write && !writable(output) {
                return ExitCode::FAILURE;
            }
            let suites = if suite.is_empty() {
                ee2e::SuiteKind::available()
            } else {
                suite.iter().map(|s| ee2e::SuiteKind::from(*s)).collect()
            };
            let options = CompareOptions {
                quick: *quick,
                clock: clock.clock(),
                openssl: openssl.clone(),
                seconds: *seconds,
                only: only.clone(),
                suites,
            };
            let Some((report, failed)) = compare(&options) else {
                return ExitCode::FAILURE;
            };
            if !no_write && !write(output, &report.markdown()) {
                return ExitCode::FAILURE;
            }
            if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
        BenchCommand::Results { quick, openssl, output } => {
            if !writable(output) {
                return ExitCode::FAILURE;
            }
            let options = CompareOptions {
                quick: *quick,
                clock: Clock::Cpu,
                openssl: openssl.clone(),
                seconds: 1,
                only: Vec::new(),
                suites: Vec::new(),
            };
            let Some((mut report, mut failed)) = compare(&options) else {
                return ExitCode::FAILURE;
            };
            let loads = results::loads(if *quick { 1 } else { 3 }, &mut |line| println!("{line}"));
            failed |= loads.iter().any(|load| !load.ok);
            report.set_command("cargo run --release -- bench results");
            if !write(output, &results::markdown(&report, &loads)) {
                return ExitCode::FAILURE;
            }
            if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
        }
    }
}

/// Writes the report; `false` (and a message) if it could not.
fn write(output: &std::path::Path, text: &str) -> bool {
    match std::fs::write(output, text) {
        Ok(()) => {
            println!("wrote {}", output.display());
            true
        }
        Err(error) => {
            eprintln!("ee2e bench: cannot write {}: {error}", output.display());
            false
        }
    }
}

/// Runs a comparison, printing the table as it is measured; `None` (and a message) if it
/// could not run.
fn compare(options: &CompareOptions) -> Option<(compare::Report, bool)> {
    match compare::compare(options, &mut |line| println!("{line}")) {
        Ok(done) => Some(done),
        Err(error) => {
            eprintln!("ee2e bench: {error}");
            None
        }
    }
}
