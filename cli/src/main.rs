//! `ee2e`: the command-line tool of the EE2E reference.
//!
//! Each subcommand lives in its own module; `main` parses arguments, sets up logging and
//! dispatches. Exit status 0 means the subcommand succeeded, 1 that it ran and failed
//! (e.g. a demo step failed), 2 a usage error (clap's convention).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod bench;
mod check;
mod demo;
mod explore;
mod explore_page;
mod load;
mod load_tcp;
mod net_client;
mod net_mitm;
mod net_serve;
mod serve;
mod serve_client;
mod server_key;
mod suite_arg;
mod vectors;

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
    /// Model-check both profiles against a Dolev-Yao attacker and print the verdicts.
    Check(check::CheckArgs),
    /// Serve a web Explorer of one model configuration on 127.0.0.1 (each state's properties,
    /// check's shortest traces).
    Explore(explore::ExploreArgs),
    /// Generate or verify the conformance vectors.
    #[command(subcommand)]
    Vectors(vectors::VectorsCommand),
    /// Compare the crypto hot path with OpenSSL on this machine.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// End-to-end throughput of the in-process runtime.
    Load(load::LoadArgs),
    /// Run the reference server over TCP until SIGTERM or Ctrl-C.
    Serve(net_serve::NetServeArgs),
    /// Run one client command (register, send, receive) against a server over TCP.
    Client(net_client::NetClientArgs),
    /// A proxy between clients and a server that plays the model's attack on a property.
    Mitm(net_mitm::MitmArgs),
    /// Serve the server state machine over a SQLite file on stdin/stdout (for crash tests).
    #[command(hide = true)]
    ServeQueue(serve::ServeArgs),
    /// Serve one client over its keystore on stdin/stdout (for the client crash test).
    #[command(hide = true)]
    ServeClient(serve_client::ServeClientArgs),
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
        Command::Check(args) => check::run(&args),
        Command::Explore(args) => explore::run(&args),
        Command::Vectors(command) => vectors::run(&command),
        Command::Bench(command) => bench::run(&command),
        Command::Load(args) => load::run(&args),
        Command::Serve(args) => net_serve::run(&args),
        Command::Client(args) => net_client::run(&args),
        Command::Mitm(args) => net_mitm::run(&args),
        Command::ServeQueue(args) => serve::run(&args),
        Command::ServeClient(args) => serve_client::run(&args),
    }
}
