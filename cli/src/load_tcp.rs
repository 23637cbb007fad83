//! `ee2e load --tcp`: runs [`ee2e_net::load`] (a TCP load on loopback with a no-loss check)
//! with the fixture client keys, reused round-robin, and prints what it found.

use std::process::ExitCode;

use ee2e::sqlite::SqliteStore;
use ee2e_fixtures as fixtures;
use ee2e_net::load::{self, TcpLoad};
use ee2e_spec::Params;

use crate::load::LoadArgs;

/// Runs the load; exit status 1 if anything was lost, duplicated or late.
pub fn run(args: &LoadArgs) -> ExitCode {
    if let Err(error) = load::check_connections(args.connections) {
        eprintln!("ee2e load --tcp: --connections: {error}");
        return ExitCode::from(2);
    }
    let mut clients = Vec::with_capacity(args.connections);
    for i in 0..args.connections {
        let Some(key) = fixtures::client_key(i % fixtures::CLIENT_KEYS) else {
            eprintln!("ee2e load --tcp: no fixture client key {}", i % fixtures::CLIENT_KEYS);
            return ExitCode::FAILURE;
        };
        clients.push((fixtures::client_phone(i), key));
    }
    let store = match SqliteStore::open_or_in_memory(args.store.as_deref(), args.profile.wire()) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("ee2e load --tcp: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ee2e load --tcp: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "load --tcp: server on loopback, {} connections, {} messages each",
        args.connections, args.messages
    );
    let config = TcpLoad {
        profile: args.profile,
        params: Params { pbkdf2_iterations: args.pbkdf2_iterations, ..Params::default() },
        server_key: fixtures::server_key(),
        clients,
        messages: args.messages,
    };
    match runtime.block_on(load::run(config, store)) {
        Ok(o) => {
            println!(
                "load --tcp: {} concurrent connections registered in {:.2} s; {} of {} messages \
                 delivered and {} ACKs verified in {:.2} s: {:.0} msgs/s",
                o.connections,
                o.registration.as_secs_f64(),
                o.received,
                o.expected,
                o.acks,
                o.messaging.as_secs_f64(),
                o.rate()
            );
            println!(
                "load --tcp: lost {}, duplicated or out of order {}, refused {}, relays lost {}: {}",
                o.expected - o.received.min(o.expected),
                o.wrong,
                o.refused,
                o.lost_relays,
                if o.ok() { "ok" } else { "FAILED" }
            );
            if o.ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(error) => {
            eprintln!("ee2e load --tcp: {error}");
            ExitCode::FAILURE
        }
    }
}
