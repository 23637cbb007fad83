//! Conformance vectors (being written: issue "Conformance").

use std::process::ExitCode;

/// `ee2e vectors` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum VectorsCommand {
    /// Placeholder until the subcommand lands.
    Todo,
}

/// Runs the subcommand.
pub fn run(_command: &VectorsCommand) -> ExitCode {
    eprintln!("ee2e vectors: not available yet");
    ExitCode::from(2)
}
