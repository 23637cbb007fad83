//! `ee2e check`: model-check profiles under threat models and print verdicts and attacks.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ee2e_model::properties::{ALL, Kind};
use ee2e_model::run::{RunOptions, RunReport, Status};
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
    /// `passive`, `network`, `sms`, `server`, `compromise`, `all`, or a comma-separated list.
    #[arg(long, default_value = "network", long_help = threat_help())]
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
    /// Key exchanges A may start (each with B or E).
    #[arg(long, default_value_t = Bounds::default().sessions)]
    pub sessions: u8,
    /// Key exchanges B may start (each with A or E).
    #[arg(long, default_value_t = Bounds::default().b_sessions)]
    pub b_sessions: u8,
    /// Messages per direction [default: 2; 1 in `lifecycle`].
    #[arg(long)]
    pub messages: Option<u8>,
    /// Messages the attacker may build, alter or replay [default: 2; 1 in `lifecycle`].
    #[arg(long)]
    pub injections: Option<u8>,
    /// Clock ticks, each just past the OTP lifetime (scenarios `registration`, `lifecycle`).
    #[arg(long, default_value_t = Bounds::default().ticks)]
    pub ticks: u8,
    /// Checker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop a run cleanly after this many distinct states; it is then reported incomplete
    /// (no verdict) and `check` exits with status 3.
    #[arg(long)]
    pub max_states: Option<usize>,
    /// Stop a run cleanly once the process's resident memory exceeds this many GiB; reported
    /// incomplete, exit status 3.
    #[arg(long)]
    pub max_memory: Option<f64>,
    /// Print the hardened fixes (errata E1–E9) with their profile names and exit.
    #[arg(long)]
    pub list_fixes: bool,
    /// Exploration order: `bfs` holds the whole frontier; `dfs` holds a fingerprint per
    /// state and the pending states of one path (far less memory for deep runs; the same
    /// verdicts, and traces still found breadth first).
    #[arg(long, value_enum, default_value_t = SearchOrder::Bfs)]
    pub search: SearchOrder,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Also print the shortest witness of each sometimes-property: a run of honest parties
    /// only (no injection, replay or guess), every step shown.
    #[arg(long)]
    pub witnesses: bool,
    /// Also replay each seed counterexample under threat `network` on the implementation
    /// (seed, then hardened) and print the outcome table.
    #[arg(long)]
    pub replay: bool,
}

/// The long help of `--threat`: each threat model and what it gives the attacker.
pub fn threat_help() -> String {
    let mut out = String::from(
        "Threat model: one of the names below, `all`, or a comma-separated list. In every one the\n\
         attacker is the network: it sees every message and delivers, drops, delays and reorders\n\
         them.\n",
    );
    for t in Threat::ALL {
        out.push_str(&format!("\n  {:<11} {}", t.name(), t.summary()));
    }
    out
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

/// Exploration order of `--search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchOrder {
    /// Breadth first.
    Bfs,
    /// Depth first.
    Dfs,
}

/// How a whole `check` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Hardened holds everything under `network` and every sometimes-property is witnessed.
    Ok,
    /// A verdict the reference does not expect.
    Failed,
    /// The bounds cannot exercise some property (decided from them before checking): no
    /// verdict on it.
    NotExercisable,
    /// Some run stopped at a limit or on Ctrl-C: no verdict.
    Incomplete,
}

/// The options every run of `args` uses (limits, progress, the Ctrl-C flag).
pub fn run_options(args: &CheckArgs, interrupt: Arc<AtomicBool>) -> RunOptions {
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    RunOptions {
        threads: threads.max(1),
        search: match args.search {
            SearchOrder::Bfs => ee2e_model::run::Search::Bfs,
            SearchOrder::Dfs => ee2e_model::run::Search::Dfs,
        },
        max_states: args.max_states,
        max_memory: args.max_memory.map(|gib| (gib * (1u64 << 30) as f64) as u64),
        progress: !args.quiet,
        interrupt,
    }
}

/// The configurations `args` names, in report order.
pub fn configs(args: &CheckArgs) -> Result<Vec<Config>, String> {
    let mut out = Vec::new();
    for threat in threats(&args.threat)? {
        for scenario in scenarios(&args.scenario)? {
            let bounds = Bounds {
                sessions: args.sessions,
                b_sessions: args.b_sessions,
                messages: args.messages.unwrap_or(Bounds::for_scenario(scenario).messages),
                injections: args.injections.unwrap_or(Bounds::for_scenario(scenario).injections),
                ticks: args.ticks,
            };
            for profile in profiles(&args.profile)? {
                out.push(Config { profile, threat, scenario, bounds });
            }
        }
    }
    Ok(out)
}

/// Runs the subcommand's model checks; setting `interrupt` stops them cleanly.
pub fn run_check_with(
    args: &CheckArgs,
    interrupt: Arc<AtomicBool>,
) -> Result<(Vec<(Config, RunReport)>, Outcome), String> {
    let options = run_options(args, interrupt);
    let mut runs = Vec::new();
    for config in configs(args)? {
        if options.interrupt.load(Ordering::Relaxed) {
            break;
        }
        tracing::info!(profile = %config.profile, threat = %config.threat, scenario = %config.scenario, "model checking");
        runs.push((config, ee2e_model::run::run_with(config, &options)));
    }
    let incomplete = options.interrupt.load(Ordering::Relaxed) || runs.iter().any(|(_, r)| !r.complete);
    let ok = runs.iter().all(|(config, report)| {
        let sometimes_ok =
            report.properties.iter().all(|p| !(p.kind == "sometimes" && p.status == Status::NotWitnessed));
        let hardened_ok = !(config.profile == Profile::HARDENED && config.threat == Threat::Network)
            || report.properties.iter().all(|p| p.status != Status::Violated);
        sometimes_ok && hardened_ok
    });
    let unexercisable =
        runs.iter().any(|(_, r)| r.properties.iter().any(|p| p.status == Status::NotExercised));
    let outcome = if !ok {
        Outcome::Failed
    } else if unexercisable {
        Outcome::NotExercisable
    } else if incomplete {
        Outcome::Incomplete
    } else {
        Outcome::Ok
    };
    Ok((runs, outcome))
}

/// The table of `--list-fixes`: erratum, name, what it changes, the profile that lacks it.
pub fn fixes_table() -> String {
    let mut out = String::from(
        "Hardened fixes (SPEC.md, \"Errata\"); `--profile errata` checks each removed in turn.\n\n",
    );
    for f in Fix::ALL {
        out.push_str(&format!(
            "{:<3} {:<17} {}\n    --profile hardened-without-{} (or hardened-without-{})\n",
            f.erratum(),
            f.name(),
            f.summary(),
            f.name(),
            f.erratum()
        ));
    }
    out
}

/// Runs `ee2e check`.
pub fn run(args: &CheckArgs) -> ExitCode {
    if args.list_fixes {
        print!("{}", fixes_table());
        return ExitCode::SUCCESS;
    }
    if let Err(e) = configs(args) {
        eprintln!("ee2e check: {e}");
        return ExitCode::from(2);
    }
    // Output arguments are checked before hours of checking, not after.
    if let Some(dir) = &args.svg
        && let Err(e) = writable_dir(dir)
    {
        eprintln!("ee2e check: cannot write SVG files to {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupt);
    // A second Ctrl-C while the first is being handled ends the process as usual.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::Relaxed) {
            std::process::exit(130);
        }
        eprintln!("ee2e check: interrupted; finishing the report of what was explored");
    });
    let (runs, outcome) = match run_check_with(args, interrupt) {
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
            if args.witnesses {
                print!("{}", witnesses_report(&runs));
            }
            if args.replay {
                print!("{}", ee2e_conformance::replay::table(&runs));
            }
        }
        Format::Json => {
            let reports: Vec<&RunReport> = runs.iter().map(|(_, r)| r).collect();
            let outcome_name = match outcome {
                Outcome::Ok => "ok",
                Outcome::Failed => "failed",
                Outcome::NotExercisable => "not_exercisable",
                Outcome::Incomplete => "incomplete",
            };
            println!(
                "{}",
                serde_json::json!({
                    "tool": "ee2e",
                    "version": env!("CARGO_PKG_VERSION"),
                    "outcome": outcome_name,
                    "ok": outcome == Outcome::Ok,
                    "runs": reports,
                })
            );
        }
    }
    match outcome {
        Outcome::Ok => ExitCode::SUCCESS,
        Outcome::Failed => ExitCode::FAILURE,
        Outcome::NotExercisable => {
            eprintln!(
                "ee2e check: exit status 4: these bounds cannot exercise some properties (listed under \"Not exercisable at these bounds\"); no verdict on them"
            );
            ExitCode::from(4)
        }
        Outcome::Incomplete => ExitCode::from(3),
    }
}

/// Creates `dir` if needed and checks that a file can be written in it.
fn writable_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(".ee2e-write-test");
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(probe)
}

fn verdict(status: Status) -> &'static str {
    match status {
        Status::Holds => "holds",
        Status::Violated => "VIOLATED",
        Status::Witnessed => "witnessed",
        Status::NotWitnessed => "NOT WITNESSED",
        Status::Unknown => "incomplete",
        Status::NotExercised => "not exercisable",
    }
}

/// The text report: verdict tables, counterexamples, statistics.
pub fn text_report(runs: &[(Config, RunReport)]) -> String {
    let mut out = String::new();
    let mut profiles: Vec<Profile> = Vec::new();
    let mut threats: Vec<Threat> = Vec::new();
    let mut scenarios: Vec<Scenario> = Vec::new();
    let _ = writeln!(out, "EE2E model check — bounds:");
    for (c, _) in runs {
        if !profiles.contains(&c.profile) {
            profiles.push(c.profile);
        }
        if !threats.contains(&c.threat) {
            threats.push(c.threat);
        }
        // Bounds are per scenario (`Bounds::for_scenario`): printed once for each.
        if !scenarios.contains(&c.scenario) {
            scenarios.push(c.scenario);
            let _ = writeln!(out, "  {:<12} {}", c.scenario.name(), c.bounds);
        }
    }
    let _ = writeln!(out);
    for (_, r) in runs.iter().filter(|(_, r)| !r.complete) {
        let _ = writeln!(
            out,
            "INCOMPLETE: {} / {} / {} stopped ({}): no violation in the {} states explored beyond those listed; not a verdict.\n",
            r.profile,
            r.threat,
            r.scenario,
            r.stopped.as_deref().unwrap_or("stopped"),
            r.unique_states
        );
    }
    let cell_of = |p: &Profile, t: &Threat, sc: &Scenario, name: &str| {
        runs.iter()
            .find(|(c, _)| c.profile == *p && c.threat == *t && c.scenario == *sc)
            .and_then(|(_, r)| r.property(name))
    };
    let width = profiles.iter().map(|p| p.name().len()).max().unwrap_or(0).max("not exercisable".len());
    for threat in &threats {
        let _ = writeln!(out, "Verdicts under threat model `{threat}`:\n");
        let mut header = format!("| {:<26} | {:<12} | {:<24} |", "property", "scenario", "level (Lowe)");
        for p in &profiles {
            let _ = write!(header, " {:<width$} |", p.name());
        }
        let _ = writeln!(out, "{header}");
        let _ = writeln!(out, "{}", rule(&header));
        for scenario in &scenarios {
            for def in ALL.iter().filter(|d| d.kind != Kind::Covers && d.part.in_scenario(*scenario)) {
                let mut row = format!("| {:<26} | {:<12} | {:<24} |", def.name, scenario.name(), def.level);
                let mut any = false;
                for p in &profiles {
                    let cell = cell_of(p, threat, scenario, def.name).map(|r| verdict(r.status));
                    any |= cell.is_some();
                    let _ = write!(row, " {:<width$} |", cell.unwrap_or("-"));
                }
                if any {
                    let _ = writeln!(out, "{row}");
                }
            }
        }
        let _ = writeln!(out);
    }

    if threats.len() > 1 {
        let _ = writeln!(out, "Threat sweep — the threat models under which each property still holds:\n");
        // Cells first, so that each column is as wide as its widest cell.
        let mut rows: Vec<(&str, &str, Vec<String>)> = Vec::new();
        for scenario in &scenarios {
            for def in ALL.iter().filter(|d| d.kind == Kind::Always && d.part.in_scenario(*scenario)) {
                let cells = profiles
                    .iter()
                    .map(|p| {
                        let holds: Vec<&str> = threats
                            .iter()
                            .filter(|t| {
                                cell_of(p, t, scenario, def.name).is_some_and(|r| r.status == Status::Holds)
                            })
                            .map(|t| t.name())
                            .collect();
                        if holds.is_empty() { "none".to_string() } else { holds.join(", ") }
                    })
                    .collect();
                rows.push((def.name, scenario.name(), cells));
            }
        }
        let widths: Vec<usize> = profiles
            .iter()
            .enumerate()
            .map(|(i, p)| rows.iter().map(|r| r.2[i].len()).chain([p.name().len()]).max().unwrap_or(0))
            .collect();
        let mut header = format!("| {:<26} | {:<12} |", "property", "scenario");
        for (p, w) in profiles.iter().zip(&widths) {
            let _ = write!(header, " {:<w$} |", p.name());
        }
        let _ = writeln!(out, "{header}");
        let _ = writeln!(out, "{}", rule(&header));
        for (name, scenario, cells) in &rows {
            let mut row = format!("| {name:<26} | {scenario:<12} |");
            for (cell, w) in cells.iter().zip(&widths) {
                let _ = write!(row, " {cell:<w$} |");
            }
            let _ = writeln!(out, "{row}");
        }
        let _ = writeln!(out);
    }

    out.push_str(&exercisability_section(runs));

    let _ = writeln!(out, "Coverage — behaviours each run reached (not verdicts):\n");
    for (_, r) in runs {
        let cover = |reached: bool| -> Vec<&str> {
            r.properties
                .iter()
                .filter(|p| p.kind == "covers" && (p.status == Status::Witnessed) == reached)
                .map(|p| p.name)
                .collect()
        };
        let (yes, no) = (cover(true), cover(false));
        let _ = writeln!(
            out,
            "  {} / {} / {}: reached {}{}",
            r.profile,
            r.threat,
            r.scenario,
            if yes.is_empty() { "none".to_string() } else { yes.join(", ") },
            if no.is_empty() {
                String::new()
            } else if r.settled_early {
                format!("; not reached before every verdict was settled: {}", no.join(", "))
            } else {
                format!("; not reached {}", no.join(", "))
            }
        );
    }
    let _ = writeln!(out);

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
        "| {:<width$} | {:<10} | {:<12} | {:>10} | {:>10} | {:>5} | {:>8} | {:>10} | {:>8} |",
        "profile", "threat", "scenario", "states", "unique", "depth", "seconds", "unique/s", "B/state"
    );
    let _ = writeln!(
        out,
        "|{:-<w2$}|{:-<12}|{:-<14}|{:-<12}|{:-<12}|{:-<7}|{:-<10}|{:-<12}|{:-<10}|",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        w2 = width + 2
    );
    for (_, r) in runs {
        let _ = writeln!(
            out,
            "| {:<width$} | {:<10} | {:<12} | {:>10} | {:>10} | {:>5} | {:>8.2} | {:>10.0} | {:>8.0} |",
            r.profile,
            r.threat,
            r.scenario,
            r.states,
            r.unique_states,
            r.max_depth,
            r.seconds,
            r.unique_per_second(),
            r.bytes_per_state()
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

/// The properties the bounds of each run cannot exercise, with the reason (empty if none).
fn exercisability_section(runs: &[(Config, RunReport)]) -> String {
    let mut out = String::new();
    for (_, r) in runs {
        for p in &r.properties {
            if let Some(why) = p.why {
                let _ = writeln!(out, "  {} / {} / {}: {} — {why}", r.profile, r.threat, r.scenario, p.name);
            }
        }
    }
    if out.is_empty() {
        return out;
    }
    format!("Not exercisable at these bounds (no verdict; `check` exits 4):\n\n{out}\n")
}

/// `--witnesses`: the shortest witness of each sometimes-property, run by run.
pub fn witnesses_report(runs: &[(Config, RunReport)]) -> String {
    let mut out = String::from("Witnesses (shortest attacker-free runs, breadth-first):\n\n");
    for (_, r) in runs {
        for p in r.properties.iter().filter(|p| p.kind == "sometimes") {
            let _ = write!(
                out,
                "{} — profile {}, threat {}, scenario {}: ",
                p.name, r.profile, r.threat, r.scenario
            );
            match p.status {
                Status::Witnessed => {
                    let _ = writeln!(out, "witnessed in {} steps", p.trace.len());
                    for step in &p.trace {
                        let _ = writeln!(out, "  {:>2}. {}", step.n, step.action);
                    }
                }
                Status::NotExercised => {
                    let _ = writeln!(out, "not exercisable at these bounds: {}", p.why.unwrap_or_default());
                }
                Status::NotWitnessed => {
                    let _ = writeln!(out, "NOT WITNESSED within the bounds");
                }
                _ => {
                    let _ = writeln!(out, "no witness found before the run stopped");
                }
            }
            out.push('\n');
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
