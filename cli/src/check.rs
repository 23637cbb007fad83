//! `ee2e check`: model-check profiles under threat models and print verdicts and attacks.

mod json;
mod markdown;
pub mod stats;
pub mod stories;
mod table;
pub mod text;

use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ee2e_model::check::{BoundOverrides, Outcome, Plan, Profiles, Scenarios, Threats};
use ee2e_model::run::{RunOptions, RunReport, Search};
use ee2e_model::{Config, Threat};
use ee2e_spec::Fix;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Verdict table, counterexamples, statistics.
    Text,
    /// One JSON object with every run (schema: `cli/schema/check-report.schema.json`).
    Json,
    /// Every counterexample as a Mermaid sequence diagram.
    Mermaid,
    /// A review report in Markdown: verdicts and each counterexample's story with its
    /// Mermaid diagram.
    Markdown,
}

/// `ee2e check` arguments.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// `seed`, `hardened`, `all` (both), `errata` (hardened with each fix removed in turn),
    /// `hardened-without-<fix>`, or a comma-separated list of these.
    #[arg(long, default_value = "all")]
    pub profile: Profiles,
    /// `passive`, `network`, `sms`, `server`, `compromise`, `all`, or a comma-separated list.
    #[arg(long, default_value = "network", long_help = threat_help())]
    pub threat: Threats,
    /// `registration`, `messaging`, `lifecycle`, `all`, or a comma-separated list.
    #[arg(long, default_value = "all")]
    pub scenario: Scenarios,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write every counterexample as an SVG sequence diagram into this directory (one file
    /// per run and property).
    #[arg(long)]
    pub svg: Option<PathBuf>,
    #[command(flatten)]
    pub bounds: BoundOverrides,
    /// Explore B's offline spell together with every injection, instead of splitting the run
    /// (the default) into the injections without the spell and the spell attacker-free: the
    /// same discoveries (model/README.md, "Reductions"), many times the states.
    #[arg(long)]
    pub full_spell: bool,
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
    /// Exploration order: `dfs` holds a fingerprint per state and the pending states of one
    /// path; `bfs` holds the whole frontier (gigabytes at large bounds) but reaches expected
    /// violations at the shallowest depth; `auto` (the default) takes `dfs` where every
    /// safety property is expected to hold (hardened under `network` or `passive`), `bfs`
    /// elsewhere. The same verdicts in every order; traces are found breadth first.
    #[arg(long, value_enum, default_value_t = Search::Auto)]
    pub search: Search,
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
    /// Also write the runs table (states, time, states/s, bytes per state, peak memory) into
    /// this Markdown file, replacing its generated block (`model/README.md` has one).
    #[arg(long)]
    pub stats_into: Option<PathBuf>,
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

/// The options every run of `args` uses (limits, progress, the Ctrl-C flag).
pub fn run_options(args: &CheckArgs, interrupt: Arc<AtomicBool>) -> RunOptions {
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    RunOptions {
        threads: threads.max(1),
        search: args.search,
        max_states: args.max_states,
        max_memory: args.max_memory.map(|gib| (gib * (1u64 << 30) as f64) as u64),
        progress: !args.quiet,
        interrupt,
        split_spell: !args.full_spell,
    }
}

/// The runs `args` names.
pub fn plan(args: &CheckArgs) -> Plan {
    Plan {
        profiles: args.profile.0.clone(),
        threats: args.threat.0.clone(),
        scenarios: args.scenario.0.clone(),
        bounds: args.bounds,
    }
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
    // Output arguments are checked before hours of checking, not after.
    if let Some(dir) = &args.svg
        && let Err(e) = writable_dir(dir)
    {
        eprintln!("ee2e check: cannot write SVG files to {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    if let Some(path) = &args.stats_into
        && let Err(e) = stats::check_writable(path)
    {
        eprintln!("ee2e check: cannot write the statistics: {e}");
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
    let (runs, outcome) = plan(args).run(&run_options(args, interrupt));
    let counterexamples = match stories::counterexamples(&runs) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ee2e check: cannot tell a counterexample: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(dir) = &args.svg
        && let Err(e) = write_svgs(dir, &runs, &counterexamples)
    {
        eprintln!("ee2e check: cannot write SVG files to {}: {e}", dir.display());
        return ExitCode::from(2);
    }
    if let Some(path) = &args.stats_into {
        let command = format!(
            "cargo run --release -- check {}",
            std::env::args().skip(2).collect::<Vec<_>>().join(" ")
        );
        if let Err(e) = stats::write_into(path, &stats::block(&runs, command.trim_end())) {
            eprintln!("ee2e check: cannot write the statistics: {e}");
            return ExitCode::from(2);
        }
    }
    match args.format {
        Format::Text => {
            print!("{}", text::report(&runs, &counterexamples));
            if args.witnesses {
                print!("{}", text::witnesses(&runs));
            }
            if args.replay {
                print!("{}", ee2e_replay::table(&runs));
            }
        }
        Format::Json => println!("{}", json::report(&runs, &counterexamples, outcome)),
        Format::Mermaid => {
            for c in &counterexamples {
                println!("{}", ee2e_model::mermaid::render(&title(c), &c.story));
            }
        }
        Format::Markdown => print!("{}", markdown::report(&runs, &counterexamples, outcome)),
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

/// The title of a counterexample's diagrams.
pub fn title(c: &stories::Counterexample) -> String {
    let s = &c.story;
    format!("{} violated — {} / {} / {}", c.property, s.profile, s.threat, s.scenario)
}

/// Writes one SVG per run and violated property, `<profile>-<threat>-<scenario>-<property>.svg`.
fn write_svgs(
    dir: &std::path::Path,
    runs: &[(Config, RunReport)],
    counterexamples: &[stories::Counterexample],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (config, _) in runs {
        let run = stories::run_name(config);
        for c in counterexamples.iter().filter(|c| c.runs.contains(&run)) {
            // The story of this run: the shared trace, with this run's names in the title.
            let story = ee2e_model::story::Story {
                profile: config.profile.name(),
                threat: config.threat.name(),
                scenario: config.scenario.name(),
                expected: ee2e_model::spec_refs::expectation(config, c.property),
                ..c.story.clone()
            };
            let title = format!("{} violated — {}", c.property, run);
            let file = dir.join(format!(
                "{}-{}-{}-{}.svg",
                config.profile,
                config.threat,
                config.label(),
                c.property
            ));
            std::fs::write(file, ee2e_model::svg::render(&title, &story))?;
        }
    }
    Ok(())
}
