//! `ee2e load` end to end: a small load exits 0 and reports no loss, in both profiles and
//! with the offline queue in a SQLite file; bad arguments are usage errors.

use std::process::{Command, Output};

fn ee2e(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ee2e")).args(args).output().expect("the ee2e binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn load_reports_no_loss_in_both_profiles() {
    for profile in ["hardened", "seed"] {
        let output =
            ee2e(&["load", "--clients", "6", "--messages", "10", "--size", "256", "--profile", profile]);
        let text = stdout(&output);
        assert!(output.status.success(), "{profile}: {text}\n{}", String::from_utf8_lossy(&output.stderr));
        assert!(text.contains("no loss: 60 messages delivered exactly once and in order"), "{text}");
        assert!(text.contains("msgs/s"), "{text}");
        assert!(text.contains("crypto share:"), "{text}");
        assert!(text.contains("per CPU second"), "{text}");
        assert!(text.contains("durability: none across a crash (SQLite in memory)"), "{text}");
        assert!(text.contains("NOT the spec's 600000"), "{text}");
    }
}

#[test]
fn load_through_the_offline_queue_in_a_sqlite_file_loses_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("store.sqlite");
    let path = path.to_str().expect("UTF-8 path");
    let output = ee2e(&[
        "load",
        "--clients",
        "4",
        "--messages",
        "6",
        "--peers",
        "2",
        "--offline",
        "--both-stores",
        "--store",
        path,
    ]);
    let text = stdout(&output);
    assert!(output.status.success(), "{text}\n{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(text.matches("no loss: 24 messages").count(), 2, "{text}");
    assert!(text.contains("SQLite in memory") && text.contains("SQLite file"), "{text}");
    assert!(text.contains("memory vs file:"), "{text}");
    // The file run states its crash guarantee and commits its writes in groups.
    let durable = text
        .lines()
        .find(|line| line.starts_with("durability: SQLite file, WAL, synchronous=FULL, group commit"))
        .unwrap_or_else(|| panic!("no durability line for the file: {text}"));
    let commits: u64 = durable
        .rsplit("; ")
        .next()
        .and_then(|tail| tail.strip_suffix(" group commits"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no commit count: {durable}"));
    assert!(commits > 0, "{durable}");
    // The file now exists: a second run refuses to reuse it.
    let again = ee2e(&["load", "--clients", "2", "--messages", "1", "--store", path]);
    assert_eq!(again.status.code(), Some(2));
}

#[test]
fn load_refuses_more_clients_than_fixture_keys() {
    let output = ee2e(&["load", "--clients", "65", "--messages", "1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("at most 64"));
    let output = ee2e(&["load", "--clients", "3", "--peers", "3"]);
    assert_eq!(output.status.code(), Some(2));
}
