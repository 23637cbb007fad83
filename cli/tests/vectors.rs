//! `ee2e vectors` finds the committed files under the current directory at run time, not at
//! the path of the checkout that built the binary.

use std::path::Path;
use std::process::Command;

fn ee2e(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ee2e")).args(args).current_dir(dir).output().expect("ee2e runs")
}

#[test]
fn vectors_outside_a_clone_fail_with_a_message_and_write_nothing() {
    let scratch = tempfile::tempdir().expect("temp dir");
    for args in [&["vectors", "verify"][..], &["vectors", "coverage"], &["vectors", "generate"]] {
        let output = ee2e(scratch.path(), args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("under the current directory"), "{args:?}: {stderr}");
    }
    let left: Vec<_> = std::fs::read_dir(scratch.path()).expect("read").collect();
    assert!(left.is_empty(), "nothing written: {left:?}");
}

#[test]
fn coverage_of_a_named_directory_writes_the_named_file() {
    let scratch = tempfile::tempdir().expect("temp dir");
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/vectors");
    let out = scratch.path().join("map.md");
    let output = ee2e(
        scratch.path(),
        &["vectors", "coverage", vectors.to_str().expect("utf-8"), "--out", out.to_str().expect("utf-8")],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let map = std::fs::read_to_string(&out).expect("written");
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../conformance/COVERAGE.md"))
            .expect("committed map");
    assert_eq!(map, committed, "the committed vectors give the committed map");
}
