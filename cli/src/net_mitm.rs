//! `ee2e mitm`: the CLI glue of the attacker proxy of `ee2e-net` ([`ee2e_net::mitm`]).
//!
//! Exit status: 0 the attack was rejected (or breached nothing), 1 it succeeded, 2 usage
//! (including an attack the proxy does not play), 3 it could not be played.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use ee2e_net::mitm::{self, MitmError, Options, Verdict};
use ee2e_spec::Profile;

/// Arguments of `ee2e mitm`.
#[derive(Debug, Args)]
pub struct MitmArgs {
    /// Address the clients connect to (port 0: a free port, printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7401")]
    pub listen: String,
    /// The real server, `host:port`.
    #[arg(long, value_name = "ADDR")]
    pub upstream: String,
    /// The property whose shortest seed counterexample is played (`message_no_replay`,
    /// `message_authenticity`).
    #[arg(long, value_name = "PROPERTY")]
    pub attack: String,
    /// The profile the clients and the server run.
    #[arg(long, default_value = "hardened")]
    pub profile: Profile,
    /// Seconds a step waits for the parties to do their part.
    #[arg(long, value_name = "S", default_value_t = 120)]
    pub wait: u64,
}

/// Runs the proxy until the trace is over and the clients have gone.
pub fn run(args: &MitmArgs) -> ExitCode {
    let say = |line: String| {
        println!("{line}");
        let _ = std::io::stdout().flush();
    };
    let prepared = match mitm::prepare(&args.attack, args.profile) {
        Ok(prepared) => prepared,
        Err(error @ MitmError::Unsupported { .. }) => {
            eprintln!("ee2e mitm: {error}");
            eprintln!("ee2e mitm: supported: {}", supported());
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("ee2e mitm: {error}");
            return ExitCode::from(3);
        }
    };
    let attack = &prepared.attack;
    say(format!(
        "attack on {}: the model's shortest seed counterexample (scenario {}, {} steps), played on profile {}",
        attack.property,
        attack.config.scenario.name(),
        attack.actions.len(),
        args.profile.name()
    ));
    for (name, phone) in ee2e_replay::live::cast() {
        let key = if name == "A" { "alice" } else { "bob" };
        say(format!("  {name} is {phone} (registered with fixtures/keys/{key}.pem)"));
    }
    match &prepared.expected {
        Some((n, check)) => say(format!(
            "  the in-process replay on {}: rejected at step {n} by {check}",
            args.profile.name()
        )),
        None => say(format!("  the in-process replay on {}: no step is rejected", args.profile.name())),
    }
    let options = Options {
        upstream: args.upstream.clone(),
        profile: args.profile,
        wait: Duration::from_secs(args.wait),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ee2e mitm: {error}");
            return ExitCode::from(3);
        }
    };
    let result = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&args.listen).await?;
        say(format!("listening {}", listener.local_addr()?));
        let mut say = say;
        mitm::run(listener, &prepared, &options, &mut say).await
    });
    match result {
        Ok(Verdict::Succeeded { breach }) => {
            say(format!("ATTACK SUCCEEDED: {} violated: {breach}", attack.property));
            ExitCode::from(1)
        }
        Ok(Verdict::Rejected { at: Some((n, by)), check }) => {
            let check = check.map_or_else(String::new, |c| {
                format!(": {c} (the in-process replay's check; a client's error is not on the wire)")
            });
            say(format!("ATTACK REJECTED at step {n} by {by}{check}"));
            ExitCode::SUCCESS
        }
        Ok(Verdict::Rejected { at: None, .. }) => {
            say(format!("ATTACK FAILED: every step ran and {} holds", attack.property));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("ee2e mitm: could not play the attack: {error}");
            say(format!("COULD NOT RUN: {error}"));
            ExitCode::from(3)
        }
    }
}

fn supported() -> String {
    mitm::attacks::SUPPORTED.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(", ")
}
