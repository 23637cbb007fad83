//! Helpers shared by the crash tests, which drive `ee2e` child processes line by line.

use std::io::{BufRead, BufReader};
use std::process::ChildStdout;
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
