//! `ee2e bench`: the report's path is checked before any measuring, and the default path is
//! resolved at run time (under the current directory), not compiled in.

use std::process::Command;

#[test]
fn an_unwritable_report_path_fails_before_measuring() {
    let scratch = tempfile::tempdir().expect("temp dir");
    for args in [
        vec!["bench", "results"],
        vec!["bench", "compare", "--quick"],
        vec!["bench", "results", "--output", "no/such/dir/RESULTS.md"],
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_ee2e"))
            .args(&args)
            .current_dir(scratch.path())
            .output()
            .expect("the ee2e binary runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write") && stderr.contains("no directory"), "{args:?}: {stderr}");
        // Nothing was measured: no table on stdout.
        assert!(output.stdout.is_empty(), "{args:?} measured before failing");
    }
}
