//! The committed vectors: reproduced byte for byte by the generator, passed by the
//! implementation, complete (both profiles, negative tests for every message type), and a
//! verifier that reports every kind of damage instead of panicking or regenerating.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use ee2e_conformance::{VectorError, file_names, generate, verify};

mod support;
use serde_json::Value;
use support::default_dir;

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).expect("readable")).expect("JSON")
}

/// A copy of the committed vectors in a temporary directory.
fn copy_of_committed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in file_names() {
        fs::copy(default_dir().join(&name), dir.path().join(&name)).expect("copy");
    }
    dir
}

#[test]
fn generator_reproduces_the_committed_files_byte_for_byte() {
    let dir = tempfile::tempdir().expect("tempdir");
    let written = generate(dir.path()).expect("generate");
    assert_eq!(written.len(), file_names().len());
    for name in file_names() {
        let fresh = fs::read(dir.path().join(&name)).expect("generated file");
        let committed = fs::read(default_dir().join(&name))
            .unwrap_or_else(|e| panic!("{name} is not committed ({e}); run `ee2e vectors generate`"));
        assert!(
            fresh == committed,
            "{name} differs from the generator's output; run `ee2e vectors generate`"
        );
    }
    let committed: BTreeSet<String> = fs::read_dir(default_dir())
        .expect("vectors dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    assert_eq!(
        committed,
        file_names().into_iter().collect(),
        "stray or missing files in conformance/vectors"
    );
}

#[test]
fn the_implementation_passes_every_committed_vector() {
    let summary = verify(&default_dir()).expect("readable vectors");
    for failure in &summary.failures {
        println!("FAIL {} tcId {}: {}", failure.file, failure.tc_id, failure.reason);
    }
    println!("{} passed, {} failed, {} skipped", summary.passed, summary.failed, summary.skipped);
    assert_eq!(summary.failed, 0);
    assert_eq!(summary.skipped, 0);
    assert!(summary.passed >= 200, "only {} vectors", summary.passed);
    for profile in ["seed", "hardened"] {
        let files: Vec<_> = summary.files.iter().filter(|f| f.profile == profile).collect();
        assert_eq!(files.len(), file_names().len() / 2, "{profile}");
        assert!(files.iter().all(|f| f.valid > 0 && f.invalid > 0), "{profile}: {files:?}");
    }
}

/// Every vector through the second suite: the tests of this crate build `ee2e` with `aws-lc`
/// (its dev-dependency), so the suite is never missing here.
#[test]
fn the_aws_lc_suite_passes_every_committed_vector() {
    use ee2e::SuiteKind;
    assert!(SuiteKind::AwsLc.is_available(), "the conformance tests must build ee2e with aws-lc");
    let summary = ee2e_conformance::verify_with(&default_dir(), SuiteKind::AwsLc).expect("readable vectors");
    for failure in &summary.failures {
        println!("FAIL {} tcId {}: {}", failure.file, failure.tc_id, failure.reason);
    }
    assert_eq!((summary.failed, summary.skipped), (0, 0));
    let rust_crypto = verify(&default_dir()).expect("readable vectors");
    assert_eq!(summary.passed, rust_crypto.passed);
    assert!(summary.passed >= 1000, "only {} vectors", summary.passed);
}

/// The type byte of every message a test feeds to a party as invalid input, per profile.
fn rejected_types(profile: &str) -> BTreeSet<u8> {
    let mut types = BTreeSet::new();
    for name in file_names().iter().filter(|n| n.ends_with(&format!("_{profile}.json"))) {
        let file = read_json(&default_dir().join(name));
        for group in file["testGroups"].as_array().expect("groups") {
            for test in group["tests"].as_array().expect("tests") {
                if test["result"] != "invalid" {
                    continue;
                }
                let message = test["input"]["message"].as_str().or_else(|| test["message"].as_str());
                if let Some(bytes) = message.and_then(|h| hex::decode(h).ok()).filter(|b| b.len() >= 2) {
                    types.insert(bytes[1]);
                }
            }
        }
    }
    types
}

#[test]
fn every_message_type_has_negative_vectors_in_both_profiles() {
    let all: BTreeSet<u8> =
        [0x01, 0x02, 0x03, 0x10, 0x11, 0x12, 0x13, 0x20, 0x21, 0x30, 0x31, 0x40, 0x41, 0x7f]
            .into_iter()
            .collect();
    for profile in ["seed", "hardened"] {
        let covered = rejected_types(profile);
        assert!(
            all.is_subset(&covered),
            "{profile}: no negative vector for types {:?}",
            all.difference(&covered)
        );
    }
}

#[test]
fn main_registration_vectors_use_the_specified_pbkdf2_count() {
    for profile in ["seed", "hardened"] {
        let file = read_json(&default_dir().join(format!("registration_{profile}.json")));
        for group in file["testGroups"].as_array().expect("groups") {
            if let Some(iterations) = group.get("pbkdf2Iterations") {
                assert_eq!(iterations, 600_000, "registration_{profile}.json");
            }
        }
        let extra = read_json(&default_dir().join(format!("extra_reduced_pbkdf2_{profile}.json")));
        assert!(extra["algorithm"].as_str().expect("algorithm").contains("REDUCED"));
        for group in extra["testGroups"].as_array().expect("groups") {
            for test in group["tests"].as_array().expect("tests") {
                assert!(test["flags"].as_array().expect("flags").contains(&Value::from("ReducedPbkdf2")));
            }
        }
    }
}

#[test]
fn verify_reports_a_changed_expected_value_as_a_failure_of_that_test() {
    let dir = copy_of_committed();
    let path = dir.path().join("messages_hardened.json");
    let mut file = read_json(&path);
    let test = file["testGroups"]
        .as_array_mut()
        .expect("groups")
        .iter_mut()
        .flat_map(|g| g["tests"].as_array_mut().expect("tests").iter_mut())
        .find(|t| t["result"] == "valid" && t.get("output").is_some())
        .expect("a valid client test");
    let tc_id = test["tcId"].as_u64().expect("tcId") as u32;
    let first = test["output"]["send"][0].as_str().expect("a sent message").to_string();
    let last = if first.ends_with('0') { '1' } else { '0' };
    test["output"]["send"][0] = Value::from(format!("{}{last}", &first[..first.len() - 1]));
    fs::write(&path, serde_json::to_string_pretty(&file).expect("json")).expect("write");
    let summary = verify(dir.path()).expect("still readable");
    assert_eq!(summary.failed, 1, "{:?}", summary.failures);
    assert_eq!(summary.failures[0].file, "messages_hardened.json");
    assert_eq!(summary.failures[0].tc_id, tc_id);
    assert!(summary.failures[0].reason.contains("/output/send/0"), "{}", summary.failures[0].reason);
    // The second suite computes the same message, so it fails the same test the same way.
    let aws = ee2e_conformance::verify_with(dir.path(), ee2e::SuiteKind::AwsLc).expect("still readable");
    assert_eq!(aws.failed, 1, "{:?}", aws.failures);
    assert_eq!((aws.failures[0].file.as_str(), aws.failures[0].tc_id), ("messages_hardened.json", tc_id));
}

#[test]
fn verify_reports_a_malformed_test_by_file_and_tc_id() {
    let dir = copy_of_committed();
    let path = dir.path().join("acks_seed.json");
    let mut file = read_json(&path);
    let test = &mut file["testGroups"][0]["tests"][0];
    let tc_id = test["tcId"].as_u64().expect("tcId") as u32;
    test["unexpectedField"] = Value::from(1);
    let second = &mut file["testGroups"][0]["tests"][1];
    second["rngSeed"] = Value::from("not hex");
    fs::write(&path, serde_json::to_string_pretty(&file).expect("json")).expect("write");
    let summary = verify(dir.path()).expect("a malformed test is a failure, not an error");
    assert_eq!(summary.failed, 2, "{:?}", summary.failures);
    let reasons: Vec<_> = summary.failures.iter().map(|f| (f.tc_id, f.reason.clone())).collect();
    assert!(
        reasons[0].0 == tc_id
            && reasons[0].1.contains("acks_seed.json")
            && reasons[0].1.contains("unexpectedField"),
        "{reasons:?}"
    );
    assert!(reasons[1].1.contains("invalid hex"), "{reasons:?}");
}

#[test]
fn verify_never_regenerates_a_missing_file() {
    let dir = copy_of_committed();
    fs::remove_file(dir.path().join("wire_seed.json")).expect("remove");
    match verify(dir.path()) {
        Err(VectorError::MissingFile { name, .. }) => assert_eq!(name, "wire_seed.json"),
        other => panic!("expected MissingFile, got {other:?}"),
    }
    assert!(!dir.path().join("wire_seed.json").exists());
}

#[test]
fn verify_rejects_a_file_whose_count_or_schema_is_wrong() {
    let dir = copy_of_committed();
    let path = dir.path().join("presence_seed.json");
    let mut file = read_json(&path);
    let declared = file["numberOfTests"].as_u64().expect("count");
    file["numberOfTests"] = Value::from(declared + 1);
    fs::write(&path, serde_json::to_string_pretty(&file).expect("json")).expect("write");
    match verify(dir.path()) {
        Err(VectorError::Format { file, message }) => {
            assert_eq!(file, "presence_seed.json");
            assert!(message.contains("numberOfTests"), "{message}");
        }
        other => panic!("expected a Format error, got {other:?}"),
    }
    fs::write(&path, b"{ not json").expect("write");
    assert!(
        matches!(verify(dir.path()), Err(VectorError::Format { file, .. }) if file == "presence_seed.json")
    );
}

#[test]
fn verify_checks_the_encoders_refusals_field_by_field() {
    // An encoding test that moves the error to another field, and one that calls a refused
    // message valid: both fail, each naming what the encoder gave.
    let dir = copy_of_committed();
    let path = dir.path().join("rules_hardened.json");
    let mut file = read_json(&path);
    let tests: Vec<&mut Value> = file["testGroups"]
        .as_array_mut()
        .expect("groups")
        .iter_mut()
        .filter(|g| g["type"] == "Encode")
        .flat_map(|g| g["tests"].as_array_mut().expect("tests").iter_mut())
        .collect();
    let mut edited = Vec::new();
    for test in tests {
        if test["error"] == "WrongLength" && edited.is_empty() {
            test["errorField"] = Value::from("Sealed.mac");
            edited.push(test["tcId"].as_u64().expect("tcId") as u32);
        } else if test["error"] == "WrongLayout" && edited.len() == 1 {
            test["result"] = Value::from("valid");
            edited.push(test["tcId"].as_u64().expect("tcId") as u32);
        }
    }
    assert_eq!(edited.len(), 2);
    fs::write(&path, serde_json::to_string_pretty(&file).expect("json")).expect("write");
    let summary = verify(dir.path()).expect("readable");
    let failed: Vec<(u32, &str)> = summary.failures.iter().map(|f| (f.tc_id, f.reason.as_str())).collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert_eq!((failed[0].0, failed[1].0), (edited[0], edited[1]));
    assert!(failed[0].1.contains("implementation Err((\"WrongLength\""), "{}", failed[0].1);
    assert!(failed[1].1.contains("WrongLayout"), "{}", failed[1].1);
}
