//! `ee2e load`: the arguments and the printout of the load harness in
//! [`ee2e_benches::load`], which says what is timed, how the crypto share is measured and
//! what is checked.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use ee2e_benches::load::{self, LoadConfig, Outcome, Presence};
use ee2e_spec::{Params, Profile};

/// Arguments of `ee2e load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Number of clients, 2 to 64 (one fixture key each).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub clients: usize,
    /// Messages each client sends.
    #[arg(long, value_name = "M", default_value_t = 100)]
    pub messages: usize,
    /// Plaintext size in bytes (16 to 1 MiB).
    #[arg(long, value_name = "BYTES", default_value_t = 1024)]
    pub size: usize,
    /// How many ring neighbours each client sends to, round-robin (1 to N−1).
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub peers: usize,
    /// Protocol profile: `seed`, `hardened` or `hardened-without-<fix>`.
    #[arg(long, default_value = "hardened")]
    pub profile: Profile,
    /// Keep the server's tables in this SQLite file, which must not exist yet (default: SQLite
    /// in memory).
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Run twice, with SQLite in memory and then with a SQLite file (`--store`, or one in a
    /// temporary directory), and compare.
    #[arg(long)]
    pub both_stores: bool,
    /// Odd-numbered clients go offline every other round: messages to them go through the
    /// server's offline queue.
    #[arg(long)]
    pub offline: bool,
    /// Presence churn: in every round each client is offline with this probability (0 to 1),
    /// at random; messages to it go through the server's offline queue. Overrides `--offline`.
    #[arg(long, value_name = "P")]
    pub churn: Option<f64>,
    /// Seed of the churn's random choices.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// PBKDF2 iterations at registration (registration is not measured).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub pbkdf2_iterations: u32,
    /// Over TCP on loopback: `ee2e serve`'s front end in this process, one connection per
    /// client (`--connections`), each sending `--messages` to the next (see `load_tcp.rs`).
    #[arg(long)]
    pub tcp: bool,
    /// With `--tcp`: concurrent connections, 2 to 1000.
    #[arg(long, value_name = "N", default_value_t = 200, requires = "tcp")]
    pub connections: usize,
}

impl LoadArgs {
    /// The harness's configuration.
    fn config(&self) -> LoadConfig {
        let presence = match self.churn {
            Some(p) => Presence::Churn(p),
            None if self.offline => Presence::Alternate,
            None => Presence::Always,
        };
        LoadConfig {
            clients: self.clients,
            messages: self.messages,
            size: self.size,
            peers: self.peers,
            profile: self.profile,
            presence,
            seed: self.seed,
            pbkdf2_iterations: self.pbkdf2_iterations,
        }
    }
}

/// Runs the load; exit status 0 if nothing was lost, duplicated or reordered, 1 otherwise.
pub fn run(args: &LoadArgs) -> ExitCode {
    if args.tcp {
        return crate::load_tcp::run(args);
    }
    let config = args.config();
    if let Err(error) = config.validate() {
        eprintln!("ee2e load: {error}");
        return ExitCode::from(2);
    }
    if let Some(path) = &args.store
        && path.exists()
    {
        eprintln!(
            "ee2e load: --store {}: the file exists; give a new path (the load starts from an empty store)",
            path.display()
        );
        return ExitCode::from(2);
    }
    println!(
        "ee2e load: {} clients × {} messages of {} B, profile {}, each client → its next {} peer(s){}",
        args.clients,
        args.messages,
        args.size,
        args.profile,
        args.peers,
        match config.presence {
            Presence::Churn(p) =>
                format!(", each client offline with probability {p} per round (seed {})", args.seed),
            Presence::Alternate => ", odd clients offline every other round".to_string(),
            Presence::Always => String::new(),
        }
    );
    let temp = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => {
            eprintln!("ee2e load: cannot create a temporary directory: {error}");
            return ExitCode::FAILURE;
        }
    };
    let file = args.store.clone().unwrap_or_else(|| temp.path().join("load.sqlite"));
    let stores: Vec<Option<&Path>> = match (args.both_stores, &args.store) {
        (true, _) => vec![None, Some(file.as_path())],
        (false, Some(path)) => vec![Some(path.as_path())],
        (false, None) => vec![None],
    };
    let mut rates = Vec::new();
    let mut ok = true;
    for store in stores {
        println!();
        println!(
            "store: {}",
            store.map_or("SQLite in memory".to_string(), |p| format!("SQLite file {}", p.display()))
        );
        match load::run(&config, store) {
            Ok(outcome) => {
                print_outcome(&config, &outcome);
                ok &= outcome.problems.is_empty();
                rates.push(outcome.rate);
            }
            Err(error) => {
                println!("FAILED: {error}");
                ok = false;
            }
        }
    }
    if let [memory, file] = rates[..] {
        println!();
        println!(
            "memory vs file: {memory:.0} vs {file:.0} msgs/s (the file store is {:.2}× the in-memory time per message)",
            memory / file.max(f64::MIN_POSITIVE)
        );
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn print_outcome(config: &LoadConfig, o: &Outcome) {
    let spec = Params::default().pbkdf2_iterations;
    let iterations = if config.pbkdf2_iterations == spec {
        format!("PBKDF2 at the spec's {spec} iterations")
    } else {
        format!(
            "PBKDF2 at {} iterations, NOT the spec's {spec}: registration is not what is measured",
            config.pbkdf2_iterations
        )
    };
    println!(
        "registration: {} clients in {:.2} s ({iterations}; not timed below)",
        config.clients, o.setup.registration_secs
    );
    println!(
        "sessions: {} key transports in {:.2} s (not timed below)",
        o.setup.transports, o.setup.sessions_secs
    );
    println!(
        "messaging: {} messages (seal → server → open → ACK → verify) in {:.3} s wall, {:.3} s CPU: {:.0} msgs/s ({:.0} per CPU second)",
        o.total, o.wall_secs, o.cpu_secs, o.rate, o.cpu_rate
    );
    println!("durability: {}", o.durability);
    println!(
        "crypto share: {:.0}% of the messaging phase's CPU time (standalone seal + open + ACK + verify: {:.2} µs per message × {} = {:.3} s CPU, of {:.3} s); the rest is the runtime (codec, store, transcript, client bookkeeping)",
        100.0 * o.crypto_share,
        o.crypto_ns_per_message / 1e3,
        o.total,
        o.crypto_ns_per_message * 1e-9 * o.total as f64,
        o.cpu_secs
    );
    if o.problems.is_empty() {
        println!(
            "no loss: {} messages delivered exactly once and in order per sender→recipient pair ({} pairs); {} ACKs verified",
            o.total, o.pairs, o.total
        );
    } else {
        println!("FAILED: {} problem(s) (loss, duplication, reordering or rejection):", o.problems.len());
        for problem in o.problems.iter().take(20) {
            println!("  {problem}");
        }
        if o.problems.len() > 20 {
            println!("  … and {} more", o.problems.len() - 20);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_map_to_the_harness_presence() {
        let args = |offline, churn| LoadArgs {
            clients: 3,
            messages: 4,
            size: 64,
            peers: 1,
            profile: Profile::SEED,
            store: None,
            both_stores: false,
            offline,
            churn,
            seed: 1,
            pbkdf2_iterations: 1,
            tcp: false,
            connections: 200,
        };
        assert_eq!(args(false, None).config().presence, Presence::Always);
        assert_eq!(args(true, None).config().presence, Presence::Alternate);
        assert_eq!(args(true, Some(0.5)).config().presence, Presence::Churn(0.5));
    }

    /// The bounds are `LoadConfig::validate`'s; clap only parses the numbers.
    #[test]
    fn client_counts_sizes_and_churn_are_bounded() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            load: LoadArgs,
        }
        let parse = |args: &[&str]| {
            <Cli as clap::Parser>::try_parse_from(["load"].iter().chain(args)).map(|cli| cli.load.config())
        };
        let refusal = |args: &[&str]| match parse(args).expect("parses").validate() {
            Err(error) => error.to_string(),
            Ok(()) => panic!("{args:?} accepted"),
        };
        assert!(parse(&["--clients", "64"]).expect("parses").validate().is_ok());
        assert!(refusal(&["--clients", "65"]).contains("at most 64"));
        assert!(refusal(&["--clients", "1"]).contains("from 2"));
        assert!(parse(&["--clients", "x"]).is_err());
        assert!(parse(&["--size", "16"]).expect("parses").validate().is_ok());
        assert!(refusal(&["--size", "15"]).contains("load header"));
        assert!(refusal(&["--size", "1048577"]).contains("load header"));
        for churn in ["--churn=1.5", "--churn=-0.1"] {
            assert!(refusal(&[churn]).contains("probability"));
        }
        assert!(parse(&["--churn", "x"]).is_err());
        assert_eq!(parse(&["--churn", "0.25"]).expect("parses").presence, Presence::Churn(0.25));
    }
}
