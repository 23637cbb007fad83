//! `ee2e check`: model-check profiles under threat models and print verdicts and attacks.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use ee2e_model::properties::ALL;
use ee2e_model::run::{RunReport, Status};
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_spec::{Fix, Profile};
use stateright::Model;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Verdict table, counterexamples, statistics.
    Text,
    /// One JSON object with every run.
    Json,
}

/// `ee2e check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// `seed`, `hardened`, `all` (both), `errata` (hardened with each fix removed in turn),
    /// `hardened-without-<fix>`, or a comma-separated list of these.
    #[arg(long, default_value = "all")]
    pub profile: String,
    /// `passive`, `network`, `sms`, `server`, `compromise`, or `all`.
    #[arg(long, default_value = "network")]
    pub threat: String,
    /// `registration`, `messaging`, or `all`.
    #[arg(long, default_value = "all")]
    pub scenario: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write every counterexample as an SVG sequence diagram into this directory.
    #[arg(long)]
    pub svg: Option<PathBuf>,
    /// Key exchanges A may start.
    #[arg(long, default_value_t = Bounds::default().sessions)]
    pub sessions: u8,
    /// Messages per direction.
    #[arg(long, default_value_t = Bounds::default().messages)]
    pub messages: u8,
    /// Messages the attacker may build, alter or replay.
    #[arg(long, default_value_t = Bounds::default().injections)]
    pub injections: u8,
    /// Checker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also replay each seed counterexample under threat `network` on the implementation
    /// (seed, then hardened) and print the outcome table.
    #[arg(long)]
    pub replay: bool,
}

fn profiles(text: &str) -> Result<Vec<Profile>, String> {
    let mut out = Vec::new();
    for part in text.split(',') {
        match part {
            "all" => out.extend([Profile::SEED, Profile::HARDENED]),
            "errata" => out.extend(Fix::ALL.map(|f| Profile::HARDENED.without(f))),
            name => out.push(Profile::parse(name).ok_or_else(|| format!("unknown profile {name:?}"))?),
        }
    }
    Ok(out)
}

fn threats(text: &str) -> Result<Vec<Threat>, String> {
    if text == "all" {
        return Ok(Threat::ALL.to_vec());
    }
    text.split(',').map(|t| Threat::parse(t).ok_or_else(|| format!("unknown threat model {t:?}"))).collect()
}

fn scenarios(text: &str) -> Result<Vec<Scenario>, String> {
    if text == "all" {
        return Ok(Scenario::ALL.to_vec());
    }
    text.split(',').map(|t| Scenario::parse(t).ok_or_else(|| format!("unknown scenario {t:?}"))).collect()
}

/// Runs the subcommand.
pub fn run_check(args: &CheckArgs) -> Result<(Vec<(Config, RunReport)>, bool), String> {
    let bounds = Bounds { sessions: args.sessions, messages: args.messages, injections: args.injections };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let mut runs = Vec::new();
    for threat in threats(&args.threat)? {
        for scenario in scenarios(&args.scenario)? {
            for profile in profiles(&args.profile)? {
                let config = Config { profile, threat, scenario, bounds };
                tracing::info!(%profile, %threat, %scenario, "model checking");
                runs.push((config, ee2e_model::run::run(config, threads)));
            }
        }
    }
    let ok = runs.iter().all(|(config, report)| {
        let sometimes_ok = report.properties.iter().all(|p| p.status != Status::NotWitnessed);
        let hardened_ok = !(config.profile == Profile::HARDENED && config.threat == Threat::Network)
            || report.properties.iter().all(|p| p.status != Status::Violated);
        sometimes_ok && hardened_ok
    });
    Ok((runs, ok))
}

/// Runs `ee2e check`.
pub fn run(args: &CheckArgs) -> ExitCode {
    let (runs, ok) = match run_check(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ee2e check: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(dir) = &args.svg
        && let Err(e) = write_svgs(dir, &runs)
    {
        eprintln!("ee2e check: cannot write SVG files to {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    match args.format {
        Format::Text => {
            print!("{}", text_report(&runs));
            if args.replay {
                print!("{}", ee2e_conformance::replay::table(&runs));
            }
        }
        Format::Json => {
            let reports: Vec<&RunReport> = runs.iter().map(|(_, r)| r).collect();
            println!("{}", serde_json::json!({ "runs": reports }));
        }
    }
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn verdict(status: Status) -> &'static str {
    match status {
        Status::Holds => "holds",
        Status::Violated => "VIOLATED",
        Status::Witnessed => "witnessed",
        Status::NotWitnessed => "NOT WITNESSED",
    }
}

/// The text report: verdict tables, counterexamples, statistics.
pub fn text_report(runs: &[(Config, RunReport)]) -> String {
    let mut out = String::new();
    let mut profiles: Vec<Profile> = Vec::new();
    let mut threats: Vec<Threat> = Vec::new();
    for (c, _) in runs {
        if !profiles.contains(&c.profile) {
            profiles.push(c.profile);
        }
        if !threats.contains(&c.threat) {
            threats.push(c.threat);
        }
    }
    if let Some((c, _)) = runs.first() {
        let b = c.bounds;
        let _ = writeln!(
            out,
            "EE2E model check — bounds: {} key exchange(s) by A, {} message(s) per direction, {} attacker injection(s)\n",
            b.sessions, b.messages, b.injections
        );
    }
    for threat in &threats {
        let _ = writeln!(out, "Verdicts under threat model `{threat}`:\n");
        let mut header = format!("| {:<26} | {:<12} | {:<24} |", "property", "scenario", "level (Lowe)");
        for p in &profiles {
            let _ = write!(header, " {:<14} |", p.name());
        }
        let _ = writeln!(out, "{header}");
        let _ = writeln!(out, "{}", rule(&header));
        for def in ALL.iter() {
            let mut row = format!("| {:<26} | {:<12} | {:<24} |", def.name, def.scenario.name(), def.level);
            let mut any = false;
            for p in &profiles {
                let cell = runs
                    .iter()
                    .find(|(c, _)| c.profile == *p && c.threat == *threat && c.scenario == def.scenario)
                    .and_then(|(_, r)| r.property(def.name))
                    .map(|r| verdict(r.status));
                any |= cell.is_some();
                let _ = write!(row, " {:<14} |", cell.unwrap_or("-"));
            }
            if any {
                let _ = writeln!(out, "{row}");
            }
        }
        let _ = writeln!(out);
    }

    if threats.len() > 1 {
        let _ = writeln!(out, "Threat sweep — the threat models under which each property still holds:\n");
        let mut header = format!("| {:<26} |", "property");
        for p in &profiles {
            let _ = write!(header, " {:<40} |", p.name());
        }
        let _ = writeln!(out, "{header}");
        let _ = writeln!(out, "{}", rule(&header));
        for def in ALL.iter().filter(|d| d.kind == ee2e_model::properties::Kind::Always) {
            let mut row = format!("| {:<26} |", def.name);
            for p in &profiles {
                let holds: Vec<&str> = threats
                    .iter()
                    .filter(|t| {
                        runs.iter()
                            .find(|(c, _)| c.profile == *p && c.threat == **t && c.scenario == def.scenario)
                            .and_then(|(_, r)| r.property(def.name))
                            .is_some_and(|r| r.status == Status::Holds)
                    })
                    .map(|t| t.name())
                    .collect();
                let cell = if holds.is_empty() { "none".to_string() } else { holds.join(", ") };
                let _ = write!(row, " {cell:<40} |");
            }
            let _ = writeln!(out, "{row}");
        }
        let _ = writeln!(out);
    }

    let _ = writeln!(out, "Counterexamples (shortest, breadth-first):\n");
    let mut none = true;
    for (_, report) in runs {
        for p in report.properties.iter().filter(|p| p.status == Status::Violated) {
            none = false;
            let _ = writeln!(
                out,
                "{} violated — profile {}, threat {}, scenario {}:",
                p.name, report.profile, report.threat, report.scenario
            );
            for step in &p.trace {
                let _ = writeln!(out, "  {:>2}. {}", step.n, step.action);
            }
            let def = ALL.iter().find(|d| d.name == p.name).expect("known property");
            let _ = writeln!(
                out,
                "      ⇒ after step {}, {} fails: {}\n",
                p.trace.len(),
                p.name,
                sentence(def.name)
            );
        }
    }
    if none {
        let _ = writeln!(out, "  none\n");
    }

    let _ = writeln!(out, "Runs:\n");
    let _ = writeln!(
        out,
        "| {:<32} | {:<10} | {:<12} | {:>10} | {:>10} | {:>5} | {:>8} | {:>12} |",
        "profile", "threat", "scenario", "states", "unique", "depth", "seconds", "states/s"
    );
    let _ = writeln!(
        out,
        "|{:-<34}|{:-<12}|{:-<14}|{:-<12}|{:-<12}|{:-<7}|{:-<10}|{:-<14}|",
        "", "", "", "", "", "", "", ""
    );
    for (_, r) in runs {
        let _ = writeln!(
            out,
            "| {:<32} | {:<10} | {:<12} | {:>10} | {:>10} | {:>5} | {:>8.2} | {:>12.0} |",
            r.profile,
            r.threat,
            r.scenario,
            r.states,
            r.unique_states,
            r.max_depth,
            r.seconds,
            r.states_per_second()
        );
    }
    let _ = writeln!(out);
    for (_, r) in runs {
        let holds: Vec<_> =
            r.properties.iter().filter(|p| p.status == Status::Holds).map(|p| p.name).collect();
        if !holds.is_empty() {
            let _ = writeln!(
                out,
                "{} / {} / {}: no attack on {} with up to {} ({} states).",
                r.profile,
                r.threat,
                r.scenario,
                holds.join(", "),
                r.bounds,
                r.unique_states
            );
        }
    }
    out
}

/// The Markdown separator row under a table header row.
fn rule(header: &str) -> String {
    header.chars().map(|c| if c == '|' { '|' } else { '-' }).collect()
}

/// The one-sentence definition of a property (SPEC.md §15).
pub fn sentence(name: &str) -> &'static str {
    match name {
        "registration_binding" => {
            "the server registered a key for an honest client's phone that is not that client's key"
        }
        "key_possession" => "the server registered an honest client's key under another phone",
        "directory_binding" => {
            "an honest client accepted a key for a phone that the server never registered for it"
        }
        "session_key_secrecy" => "the attacker knows the key of a session between honest clients",
        "key_transport_agreement" => {
            "an honest client accepted a session key from an honest peer that did not generate it for it (or accepted it twice)"
        }
        "message_authenticity" => {
            "an honest client accepted a message as from an honest peer that did not send it to it"
        }
        "message_no_replay" => "an honest client accepted the same message from an honest peer twice",
        "message_confidentiality" => "the attacker knows a message one honest client sent to another",
        "ack_authenticity" => "an honest client accepted an ACK for a message its honest peer never accepted",
        _ => "",
    }
}

fn write_svgs(dir: &std::path::Path, runs: &[(Config, RunReport)]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (config, report) in runs {
        let model = Ee2eModel::new(*config);
        for p in report.properties.iter().filter(|p| p.status == Status::Violated) {
            if let Some(svg) = p.path.clone().and_then(|path| model.as_svg(path)) {
                let file = dir
                    .join(format!("{}-{}-{}-{}.svg", report.profile, report.threat, report.scenario, p.name));
                std::fs::write(file, svg)?;
            }
        }
    }
    Ok(())
}
