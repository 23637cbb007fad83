//! `ee2e explore`: stateright's Explorer for one model configuration.

use std::process::ExitCode;

use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::Profile;
use stateright::Model;

/// `ee2e explore` arguments.
#[derive(Debug, clap::Args)]
pub struct ExploreArgs {
    /// Port on 127.0.0.1 (0: any free port; the one chosen is printed).
    #[arg(long, default_value_t = 3000)]
    pub port: u16,
    /// Profile.
    #[arg(long, default_value = "seed")]
    pub profile: String,
    /// Threat model.
    #[arg(long, default_value = "network")]
    pub threat: String,
    /// Scenario.
    #[arg(long, default_value = "messaging")]
    pub scenario: String,
    /// Key exchanges A may start (each with B or E).
    #[arg(long, default_value_t = Bounds::default().sessions)]
    pub sessions: u8,
    /// Key exchanges B may start (each with A or E).
    #[arg(long, default_value_t = Bounds::default().b_sessions)]
    pub b_sessions: u8,
    /// Messages per direction.
    #[arg(long, default_value_t = Bounds::default().messages)]
    pub messages: u8,
    /// Attacker injections.
    #[arg(long, default_value_t = Bounds::default().injections)]
    pub injections: u8,
    /// Clock ticks (scenarios that register).
    #[arg(long, default_value_t = Bounds::default().ticks)]
    pub ticks: u8,
}

/// Runs `ee2e explore` until interrupted.
pub fn run(args: &ExploreArgs) -> ExitCode {
    let (Some(profile), Some(threat), Some(scenario)) =
        (Profile::parse(&args.profile), Threat::parse(&args.threat), Scenario::parse(&args.scenario))
    else {
        eprintln!("ee2e explore: unknown profile, threat model or scenario");
        return ExitCode::from(2);
    };
    let bounds = Bounds {
        sessions: args.sessions,
        b_sessions: args.b_sessions,
        messages: args.messages,
        injections: args.injections,
        ticks: args.ticks,
    };
    let model = Ee2eModel::new(Config { profile, threat, scenario, bounds }).without_reduction();
    // stateright's server panics if it cannot bind; bind first to give a clear error (and,
    // for port 0, to learn which free port to serve on).
    let port = match std::net::TcpListener::bind(("127.0.0.1", args.port)).and_then(|l| l.local_addr()) {
        Ok(bound) => bound.port(),
        Err(e) => {
            eprintln!("ee2e explore: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    let address = ("127.0.0.1", port);
    println!("Explorer for {profile} / {threat} / {scenario}: http://127.0.0.1:{port}/");
    // Blocks, serving until the process is interrupted.
    let _checker = model.checker().serve(address);
    ExitCode::SUCCESS
}
