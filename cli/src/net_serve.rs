//! `ee2e serve`: the reference server over TCP (SPEC.md §2.5) — the sans-IO `Server` on its
//! SQLite store behind the tokio front end of `ee2e-net`, until SIGTERM or Ctrl-C.
//!
//! Prints `listening <addr>` on standard output once it accepts connections (`--listen
//! 127.0.0.1:0` picks a free port), OTPs as `SMS to …` lines there too unless `--otp-file`
//! is given, and a summary on standard error when it stops.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use ee2e::otp::{ConsoleOtp, FileOtp, OtpDelivery};
use ee2e::sqlite::SqliteStore;
use ee2e::suite::os_rng;
use ee2e_net::host::Host;
use ee2e_net::server::{self, Limits};
use ee2e_spec::{Params, Profile};

use crate::server_key::ServerKeyArgs;

/// Arguments of `ee2e serve`.
#[derive(Debug, Args)]
pub struct NetServeArgs {
    /// Address to listen on (port 0: a free port, printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7400")]
    pub listen: String,
    /// The server's SQLite file (created if missing; default: SQLite in memory, lost at exit).
    #[arg(long, value_name = "FILE")]
    pub store: Option<PathBuf>,
    /// Protocol profile: `seed`, `hardened` or `hardened-without-<fix>`.
    #[arg(long, default_value = "hardened")]
    pub profile: Profile,
    /// The server's key: `--server-key PEM` or `--generate-server-key` (one is required).
    #[command(flatten)]
    pub key: ServerKeyArgs,
    /// Write the server's public key (PEM) here, for clients to pin (`client --server-key`).
    #[arg(long, value_name = "FILE")]
    pub public_key_out: Option<PathBuf>,
    /// Deliver OTPs as `<phone> <code>` lines appended to this file instead of printing them.
    #[arg(long, value_name = "FILE")]
    pub otp_file: Option<PathBuf>,
    /// PBKDF2 iterations for registrations (clients must use the same count).
    #[arg(long, value_name = "N", default_value_t = ee2e_spec::limits::PBKDF2_ITERATIONS, hide = true)]
    pub pbkdf2_iterations: u32,
    /// Open connections at most.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Milliseconds from accept to a complete Claim frame.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub handshake_timeout_ms: u64,
    /// Milliseconds a claimed connection may stay silent.
    #[arg(long, value_name = "MS", default_value_t = 300_000)]
    pub idle_timeout_ms: u64,
    /// Milliseconds from a frame's first byte to its last.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    pub frame_timeout_ms: u64,
}

/// Runs the server until SIGTERM or Ctrl-C; exit status 1 if it cannot start.
pub fn run(args: &NetServeArgs) -> ExitCode {
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ee2e serve: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &NetServeArgs) -> Result<(), String> {
    let key = args.key.load("ee2e serve")?;
    if let Some(path) = &args.public_key_out {
        let pem = crate::net_client::public_key_pem(key.public_key_der().as_slice())?;
        std::fs::write(path, pem).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let wire = args.profile.wire();
    let store = SqliteStore::open_or_in_memory(args.store.as_deref(), wire).map_err(|e| e.to_string())?;
    let params = Params { pbkdf2_iterations: args.pbkdf2_iterations, ..Params::default() };
    let host = Host::new(args.profile, params, key, store, os_rng());
    let otp: Box<dyn OtpDelivery + Send> = match &args.otp_file {
        Some(path) => Box::new(FileOtp::new(path)),
        None => Box::new(ConsoleOtp),
    };
    let limits = Limits {
        max_connections: args.max_connections.max(1),
        handshake_timeout: Duration::from_millis(args.handshake_timeout_ms),
        idle_timeout: Duration::from_millis(args.idle_timeout_ms),
        frame_timeout: Duration::from_millis(args.frame_timeout_ms),
        ..Limits::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(&args.listen).await.map_err(|e| format!("{}: {e}", args.listen))?;
        let running = server::start(listener, host, otp, limits);
        println!("listening {} (profile {})", running.addr(), args.profile.name());
        use std::io::Write;
        let _ = std::io::stdout().flush();
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| e.to_string())?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        eprintln!("ee2e serve: shutting down");
        let stats = running.shutdown().await;
        eprintln!(
            "ee2e serve: stopped after {} connections ({} refused at the limit, {} live relays lost)",
            stats.connections, stats.refused, stats.lost_relays
        );
        Ok(())
    })
}
