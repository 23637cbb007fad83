//! `ee2e check`: model-check profiles under threat models and print verdicts and attacks.

use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ee2e_model::check::{BoundOverrides, Outcome, Plan, Profiles, Scenarios, Threats};
use ee2e_model::run::{RunOptions, Search};
use ee2e_report::{json, markdown, stats, text};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Verdict table, counterexamples, statistics.
    Text,
    /// One JSON object with every run (schema: `report/schema/check-report.schema.json`).
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
    #[arg(long, default_value = "network", long_help = ee2e_report::threats_help())]
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

/// Runs `ee2e check`.
pub fn run(args: &CheckArgs) -> ExitCode {
    if args.list_fixes {
        print!("{}", ee2e_report::fixes_table());
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
    let counterexamples = match ee2e_report::counterexamples(&runs) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ee2e check: cannot tell a counterexample: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(dir) = &args.svg
        && let Err(e) = write_files(dir, ee2e_report::svg_files(&runs, &counterexamples))
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
        Format::Mermaid => print!("{}", ee2e_report::mermaid(&counterexamples)),
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

/// Writes each `(name, contents)` into `dir`.
fn write_files(dir: &std::path::Path, files: Vec<(String, String)>) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    files.into_iter().try_for_each(|(name, contents)| std::fs::write(dir.join(name), contents))
}
