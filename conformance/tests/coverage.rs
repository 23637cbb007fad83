//! The coverage map: every check id and limit of SPEC.md has a vector in every profile it
//! applies to, `conformance/COVERAGE.md` is what `ee2e vectors coverage` writes, and the
//! verifier refuses a `checks` field that names nothing real or pins nothing.

use std::fs;
use std::path::Path;

use ee2e_conformance::coverage::coverage;
use ee2e_conformance::{checks, file_names, verify};

mod support;
use serde_json::Value;
use support::{default_dir, default_path};

#[test]
fn every_check_and_limit_of_spec_md_is_pinned_by_a_vector() {
    let map = coverage(&default_dir()).expect("readable vectors");
    let unpinned = map.unpinned();
    assert!(
        unpinned.is_empty(),
        "SPEC.md ids without a vector (add one, then `ee2e vectors generate` and `ee2e vectors coverage`): {}",
        unpinned.iter().map(|(id, p)| format!("{id} ({p})")).collect::<Vec<_>>().join(", ")
    );
    // The map is of the whole of §5–§9: every section has checks, and §3's limits are in.
    for section in
        ["S5.1.", "S5.3.", "S5.5.", "S6.2.", "S6.4.", "S7.2.", "S7.4s.", "S7.4h.", "S8.3.", "S9.2."]
    {
        assert!(map.checks.iter().any(|c| c.id.starts_with(section)), "no id {section}*");
    }
    for limit in ["MAX_OTP_REQUESTS", "MAX_QUEUED_MESSAGES", "MAX_PLAINTEXT", "REPLAY_WINDOW"] {
        assert!(map.checks.iter().any(|c| c.id == limit), "no limit {limit}");
    }
}

#[test]
fn a_new_check_without_a_vector_is_named() {
    // SPEC.md with one more row at the end of §9.2's table: the map must name it as unpinned.
    let spec = checks::SPEC;
    let marker = "| `QueueFull` bound `SenderBytes` (`QueueFull`) |\n";
    assert!(spec.contains(marker), "§9.2's table changed; update this test");
    let grown = spec.replace(marker, &format!("{marker}| 5 | a new bound | `NewError` (`Internal`) |\n"));
    let ids = checks::parse(&grown).expect("parses");
    let new = ids.iter().find(|c| c.id == "S9.2.5").expect("the new row is S9.2.5");
    assert!(new.errors.contains("NewError"));
    let mut map = coverage(&default_dir()).expect("readable vectors");
    map.checks = ids;
    assert_eq!(map.unpinned(), vec![("S9.2.5".to_string(), "seed"), ("S9.2.5".to_string(), "hardened")]);
    assert!(map.render().contains("**UNPINNED**"));
}

#[test]
fn the_committed_coverage_md_is_up_to_date() {
    let fresh = coverage(&default_dir()).expect("readable vectors").render();
    let committed = fs::read_to_string(default_path()).expect("conformance/COVERAGE.md is committed");
    assert!(fresh == committed, "conformance/COVERAGE.md is stale; run `ee2e vectors coverage`");
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).expect("readable")).expect("JSON")
}

/// The committed vectors with `edit` applied to the first test of `file` that `pick` selects;
/// the verifier's reason for that test.
fn verify_edited(file: &str, pick: impl Fn(&Value) -> bool, edit: impl FnOnce(&mut Value)) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in file_names() {
        fs::copy(default_dir().join(&name), dir.path().join(&name)).expect("copy");
    }
    let path = dir.path().join(file);
    let mut json = read_json(&path);
    let test = json["testGroups"]
        .as_array_mut()
        .expect("groups")
        .iter_mut()
        .flat_map(|g| g["tests"].as_array_mut().expect("tests").iter_mut())
        .find(|t| pick(t))
        .expect("a matching test");
    edit(test);
    fs::write(&path, serde_json::to_string_pretty(&json).expect("json")).expect("write");
    let summary = verify(dir.path()).expect("readable");
    assert_eq!(summary.failed, 1, "{:?}", summary.failures);
    summary.failures[0].reason.clone()
}

fn names(test: &Value, id: &str) -> bool {
    test["checks"].as_array().is_some_and(|c| c.iter().any(|x| x == id))
}

#[test]
fn verify_rejects_a_check_id_spec_md_does_not_give() {
    let reason = verify_edited(
        "rules_hardened.json",
        |t| names(t, "S9.2.1"),
        |t| t["checks"] = Value::from(vec!["S9.2.9"]),
    );
    assert!(reason.contains("no id \"S9.2.9\""), "{reason}");
}

#[test]
fn verify_rejects_a_check_of_the_other_profile() {
    // §7.4h is the hardened table: a seed vector cannot pin it.
    let reason = verify_edited(
        "messages_seed.json",
        |t| names(t, "S7.4s.5"),
        |t| t["checks"] = Value::from(vec!["S7.4h.5"]),
    );
    assert!(reason.contains("not a check of the seed profile"), "{reason}");
}

#[test]
fn verify_rejects_a_rejected_test_whose_checks_do_not_name_its_error() {
    // A QueueFull vector claiming to pin the request limit pins nothing it shows.
    let reason = verify_edited(
        "rules_hardened.json",
        |t| t["error"] == "QueueFull",
        |t| t["checks"] = Value::from(vec!["S5.1.1"]),
    );
    assert!(reason.contains("the error QueueFull is not one that S5.1.1 names"), "{reason}");
}

#[test]
fn a_file_claiming_more_than_the_bounds_is_malformed_not_run() {
    // A hostile file must not make the verifier allocate a trillion queued messages or ten
    // million OTP rows: the states beyond SPEC.md's bounds are refused before anything runs.
    let queued = |t: &Value| t.get("queued").is_some();
    let reason =
        verify_edited("rules_seed.json", queued, |t| t["queued"][0]["count"] = Value::from(1u64 << 40));
    assert!(reason.contains("MAX_QUEUED_MESSAGES"), "{reason}");
    let phones = |t: &Value| t.get("otpPhones").is_some();
    let reason =
        verify_edited("rules_hardened.json", phones, |t| t["otpPhones"]["count"] = Value::from(10_000_001));
    assert!(reason.contains("MAX_OTP_PHONES"), "{reason}");
    let seen = |t: &Value| t.get("seenTransports").is_some();
    let reason =
        verify_edited("rules_hardened.json", seen, |t| t["seenTransports"][0]["count"] = Value::from(5000));
    assert!(reason.contains("TooManyTransports") || reason.contains("seenTransports"), "{reason}");
}
