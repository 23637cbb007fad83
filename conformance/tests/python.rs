//! The independent Python checker (`conformance/python/check_vectors.py`, written from SPEC.md
//! with the `cryptography` package) must pass every committed vector.
//!
//! Without python3 or `cryptography` the test is skipped with a message — unless the
//! environment variable `CI` is `1`, where a missing checker is a failure.

use std::path::Path;
use std::process::Command;

mod support;

fn python_with_cryptography() -> Result<(), String> {
    match Command::new("python3").args(["-c", "import cryptography"]).output() {
        Err(e) => Err(format!("python3 cannot be run: {e}")),
        Ok(out) if !out.status.success() => Err(format!(
            "python3 cannot import cryptography: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(_) => Ok(()),
    }
}

#[test]
fn python_checker_recomputes_every_committed_vector() {
    if let Err(why) = python_with_cryptography() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("1"), "CI=1 but {why}");
        println!("skipped: {why}");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("python/check_vectors.py"))
        .arg(support::default_dir())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "check_vectors.py failed");
    let total: u64 = ee2e_conformance::file_names()
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(support::default_dir().join(name)).expect("vector file");
            let file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            file["numberOfTests"].as_u64().expect("numberOfTests")
        })
        .sum();
    let expected = format!("{total} passed, 0 failed");
    assert_eq!(stdout.lines().last(), Some(expected.as_str()), "the checker must run every vector");
}

/// The checker is no rubber stamp for the new rules: a vector that calls a fourth OTP request
/// within the window valid, or that names a check id SPEC.md does not give, fails it.
#[test]
fn python_checker_rejects_a_wrong_rate_limit_vector_and_an_unknown_check_id() {
    if let Err(why) = python_with_cryptography() {
        assert_ne!(std::env::var("CI").as_deref(), Ok("1"), "CI=1 but {why}");
        println!("skipped: {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let name = "rules_hardened.json";
    let text = std::fs::read_to_string(support::default_dir().join(name)).expect("vector file");
    let mut file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut edited = Vec::new();
    for test in file["testGroups"]
        .as_array_mut()
        .expect("groups")
        .iter_mut()
        .flat_map(|g| g["tests"].as_array_mut().expect("tests").iter_mut())
    {
        if test["error"] == "RateLimited" && edited.is_empty() {
            test["result"] = "valid".into();
            edited.push(test["tcId"].as_u64().expect("tcId"));
        } else if test["error"] == "QueueFull" && edited.len() == 1 {
            test["checks"] = serde_json::json!(["S9.2.7"]);
            edited.push(test["tcId"].as_u64().expect("tcId"));
        }
    }
    assert_eq!(edited.len(), 2, "rules_hardened.json has a RateLimited and a QueueFull vector");
    std::fs::write(dir.path().join(name), serde_json::to_string_pretty(&file).expect("json")).expect("write");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("python/check_vectors.py"))
        .arg(dir.path())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "FAIL {name} tcId {}: expected valid, got ServerError RateLimited",
            edited[0]
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("FAIL {name} tcId {}: checks: SPEC.md gives no id 'S9.2.7'", edited[1])),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{} passed, 2 failed", file["numberOfTests"].as_u64().expect("n") - 2).as_str())
    );
}
