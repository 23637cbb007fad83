//! End-to-end load (being written: issue "criterion benchmarks").

use std::process::ExitCode;

/// `ee2e load` arguments.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {}

/// Runs the subcommand.
pub fn run(_args: &LoadArgs) -> ExitCode {
    eprintln!("ee2e load: not available yet");
    ExitCode::from(2)
}
