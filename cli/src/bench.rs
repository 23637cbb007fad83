//! Benchmark comparison with OpenSSL (being written: issue "criterion benchmarks").

use std::process::ExitCode;

/// `ee2e bench` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum BenchCommand {
    /// Placeholder until the subcommand lands.
    Todo,
}

/// Runs the subcommand.
pub fn run(_command: &BenchCommand) -> ExitCode {
    eprintln!("ee2e bench: not available yet");
    ExitCode::from(2)
}
