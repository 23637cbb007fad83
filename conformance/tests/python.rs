//! The independent Python checker (`conformance/python/check_vectors.py`, written from SPEC.md
//! with the `cryptography` package) must pass every committed vector.
//!
//! Without python3 or `cryptography` the test is skipped with a message — unless the
//! environment variable `CI` is `1`, where a missing checker is a failure.

use std::path::Path;
use std::process::Command;

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
        .arg(ee2e_conformance::default_dir())
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "check_vectors.py failed");
    let total: u64 = ee2e_conformance::file_names()
        .iter()
        .map(|name| {
            let text =
                std::fs::read_to_string(ee2e_conformance::default_dir().join(name)).expect("vector file");
            let file: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            file["numberOfTests"].as_u64().expect("numberOfTests")
        })
        .sum();
    let expected = format!("{total} passed, 0 failed");
    assert_eq!(stdout.lines().last(), Some(expected.as_str()), "the checker must run every vector");
}
