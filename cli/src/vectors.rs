//! `ee2e vectors`: generate the conformance vectors, or verify the implementation against them.
//!
//! `generate` writes the files of `conformance/vectors/` (or `--out DIR`) from the reference
//! implementation; the output is byte for byte the same on every run. `verify` runs the
//! implementation, on the suite `--suite` names, against every file of a directory (default:
//! the committed vectors), prints one line per file and `N passed, M failed, K skipped`, and
//! exits 1 on any failure. It never
//! writes: a missing file is an error, not something to regenerate. `coverage` writes
//! `conformance/COVERAGE.md` (or `--out FILE`) from the `checks` the vectors declare, and
//! exits 1 if a check id or limit of SPEC.md has no vector.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::suite_arg::SuiteArg;

/// `ee2e vectors` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum VectorsCommand {
    /// Write every vector file (default: conformance/vectors/ under the current directory).
    Generate {
        /// Directory to write to.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Run the implementation against every vector file in DIR (default: conformance/vectors/
    /// under the current directory, the committed ones when run from the clone's root).
    Verify {
        /// Directory of vector files.
        dir: Option<PathBuf>,
        /// The crypto suite that computes every primitive.
        #[arg(long, value_enum, default_value_t)]
        suite: SuiteArg,
    },
    /// Map every check id and limit of SPEC.md to the vectors in DIR that pin it.
    Coverage {
        /// Directory of vector files (default: the committed ones).
        dir: Option<PathBuf>,
        /// File to write (default: conformance/COVERAGE.md).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// The committed vectors, relative to the clone's root. Resolved at run time: a path compiled in
/// would point into whichever checkout built the binary.
const VECTORS_DIR: &str = "conformance/vectors";

/// The committed coverage map, relative to the clone's root.
const COVERAGE_FILE: &str = "conformance/COVERAGE.md";

/// `given`, or `default` (relative to the current directory) if that path's `must_exist` part
/// exists; a message naming what is missing otherwise.
fn resolve(command: &str, given: Option<&Path>, default: &str, must_exist: &str) -> Option<PathBuf> {
    if let Some(path) = given {
        return Some(path.to_path_buf());
    }
    if Path::new(must_exist).is_dir() {
        return Some(PathBuf::from(default));
    }
    eprintln!(
        "ee2e vectors {command}: no directory {must_exist} under the current directory (run from the clone's root, or name the path)"
    );
    None
}

/// Runs the subcommand: 0 on success, 1 if a test failed or the files could not be read or
/// written.
pub fn run(command: &VectorsCommand) -> ExitCode {
    match command {
        VectorsCommand::Generate { out } => {
            let Some(dir) = resolve("generate", out.as_deref(), VECTORS_DIR, "conformance") else {
                return ExitCode::FAILURE;
            };
            match ee2e_conformance::generate(&dir) {
                Ok(paths) => {
                    for path in &paths {
                        println!("wrote {}", path.display());
                    }
                    println!("{} files in {}", paths.len(), dir.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("ee2e vectors generate: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        VectorsCommand::Verify { dir, suite } => {
            let Some(dir) = resolve("verify", dir.as_deref(), VECTORS_DIR, VECTORS_DIR) else {
                return ExitCode::FAILURE;
            };
            let suite = ee2e::SuiteKind::from(*suite);
            println!("suite: {suite}");
            match ee2e_conformance::verify_with(&dir, suite) {
                Ok(summary) => {
                    for file in &summary.files {
                        println!(
                            "{:<38} {:>8}  {:>4} valid {:>4} invalid  {:>4} passed {:>4} failed",
                            file.name, file.profile, file.valid, file.invalid, file.passed, file.failed
                        );
                    }
                    for failure in &summary.failures {
                        println!("FAIL {} tcId {}: {}", failure.file, failure.tc_id, failure.reason);
                    }
                    println!(
                        "{} passed, {} failed, {} skipped",
                        summary.passed, summary.failed, summary.skipped
                    );
                    if summary.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
                }
                Err(e) => {
                    eprintln!("ee2e vectors verify: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        VectorsCommand::Coverage { dir, out } => coverage(dir.as_deref(), out.as_deref()),
    }
}

fn coverage(dir: Option<&std::path::Path>, out: Option<&std::path::Path>) -> ExitCode {
    let Some(dir) = resolve("coverage", dir, VECTORS_DIR, VECTORS_DIR) else {
        return ExitCode::FAILURE;
    };
    let Some(out) = resolve("coverage", out, COVERAGE_FILE, "conformance") else {
        return ExitCode::FAILURE;
    };
    let map = match ee2e_conformance::coverage::coverage(&dir) {
        Ok(map) => map,
        Err(e) => {
            eprintln!("ee2e vectors coverage: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(&out, map.render()) {
        eprintln!("ee2e vectors coverage: writing {}: {e}", out.display());
        return ExitCode::FAILURE;
    }
    let unpinned = map.unpinned();
    println!("wrote {} ({} ids, {} unpinned)", out.display(), map.checks.len(), unpinned.len());
    for (id, profile) in &unpinned {
        println!("UNPINNED {id} ({profile})");
    }
    if unpinned.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}
