//! Helpers shared by the tests that drive `ee2e` child processes.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{ChildStdout, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};

/// The lines a child writes to `stdout`, read on a thread of their own so that a test can wait
/// for one with a timeout (and notice a killed child as a closed channel).
pub fn lines_of(stdout: ChildStdout) -> Receiver<String> {
    let (tx, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

/// `ee2e client` run to its end against `server` in `profile`, as `who` (keystore `dir/who`),
/// with one PBKDF2 iteration and a 20 s timeout, then `args`.
#[allow(dead_code)] // Only the network tests run a client this way.
pub fn run_client(server: &str, dir: &Path, who: &str, profile: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ee2e"))
        .args([
            "client",
            "--server",
            server,
            "--profile",
            profile,
            "--pbkdf2-iterations",
            "1",
            "--timeout",
            "20",
        ])
        .arg("--keystore")
        .arg(dir.join(who))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ee2e client runs")
}
