//! `ee2e`: the command-line tool of the EE2E reference.
//!
//! Each subcommand lives in its own module; `main` parses arguments, sets up logging and
//! dispatches. Exit status 0 means the subcommand succeeded, 1 that it ran and failed
//! (e.g. a demo step failed), 2 a usage error (clap's convention).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod demo;

/// EE2E: a reference for the end-to-end encrypted messaging protocol.
#[derive(Debug, Parser)]
#[command(name = "ee2e", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scripted session (registration, key exchange, messages, offline delivery, ACKs)
    /// on the in-process runtime and print its transcript.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr; RUST_LOG overrides the default level (warn).
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli.command {
        Command::Demo(args) => demo::run(&args),
    }
}
