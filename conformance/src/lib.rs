//! # ee2e-conformance — deterministic conformance vectors for EE2E
//!
//! The files in `conformance/vectors/` hold known-answer tests for every value the protocol
//! computes, in both profiles, and negative tests for every message type: each field
//! tampered, wrong keys and peers, replays, expired and reused OTPs, the other profile's
//! wire version — each with the exact error SPEC.md names. `conformance/README.md` explains
//! the format for implementers in other languages.
//!
//! - [`generate`] writes the files from the reference implementation (`ee2e vectors generate`);
//!   the output is identical on every run.
//! - [`verify`] runs the implementation against a directory of files (`ee2e vectors verify`)
//!   and never writes anything; [`verify_with`] does it on a chosen concrete suite
//!   (`ee2e vectors verify --suite aws-lc`).
//!
//! ```no_run
//! let summary = ee2e_conformance::verify(std::path::Path::new("conformance/vectors")).expect("readable vectors");
//! println!("{} passed, {} failed, {} skipped", summary.passed, summary.failed, summary.skipped);
//! ```
#![deny(missing_docs)]

pub mod checks;
pub mod coverage;
mod error;
mod generate;
mod runner;
pub mod schema;

use std::fs;
use std::path::{Path, PathBuf};

use ee2e::ConcreteSuite;
use ee2e::suites::{BytesSuite, SuiteKind, SuiteTask};
use ee2e_spec::Profile;
use serde::Serialize;
use serde_json::Value;

pub use error::VectorError;
pub use generate::file_names;
use runner::{Observed, Problem};
use schema::{ClientTest, DecodeTest, RawFile, SCHEMA, ServerTest, TestGroup, TypedGroup, Verdict};

/// Generates every vector file into `dir` (created if missing), overwriting files of the
/// same names. Returns the paths written.
///
/// # Errors
/// [`VectorError::Generate`] if a scenario's outcome differs from what it intends (a bug in
/// the implementation or the scenario), [`VectorError::Io`] if a file cannot be written.
pub fn generate(dir: &Path) -> Result<Vec<PathBuf>, VectorError> {
    fs::create_dir_all(dir).map_err(|source| VectorError::Io { path: dir.to_path_buf(), source })?;
    let mut written = Vec::new();
    for (name, text) in render()? {
        let path = dir.join(name);
        fs::write(&path, text).map_err(|source| VectorError::Io { path: path.clone(), source })?;
        written.push(path);
    }
    Ok(written)
}

/// Every vector file's name and exact contents, without writing anything.
///
/// # Errors
/// As [`generate`], except for writing.
pub fn render() -> Result<Vec<(String, String)>, VectorError> {
    let mut out = Vec::new();
    for spec in generate::build_all()? {
        let name = format!("{}.json", spec.stem);
        let file = generate::assemble(spec)?;
        let mut text = serde_json::to_string_pretty(&file)
            .map_err(|e| VectorError::Format { file: name.clone(), message: e.to_string() })?;
        text.push('\n');
        out.push((name, text));
    }
    Ok(out)
}

/// The outcome of [`verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Tests whose outcome matched the file.
    pub passed: usize,
    /// Tests whose outcome differed, or that were malformed.
    pub failed: usize,
    /// Tests not run. The verifier runs every test of the schema, so this stays 0 unless a
    /// future schema adds tests for a profile this build cannot run.
    pub skipped: usize,
    /// Per file, in name order.
    pub files: Vec<FileSummary>,
    /// Every failure, in file and test order.
    pub failures: Vec<Failure>,
}

/// The tests of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSummary {
    /// The file name.
    pub name: String,
    /// Its profile.
    pub profile: String,
    /// Tests marked valid.
    pub valid: usize,
    /// Tests marked invalid.
    pub invalid: usize,
    /// Tests that passed.
    pub passed: usize,
    /// Tests that failed.
    pub failed: usize,
}

/// One failed test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The file.
    pub file: String,
    /// The test.
    pub tc_id: u32,
    /// What differed, or why the test could not run.
    pub reason: String,
}

/// Runs the implementation against every `*.json` file in `dir`.
///
/// Every file [`file_names`] lists must be present (a missing one is an error, never
/// regenerated); other JSON files in the directory are verified too. Each file's
/// `numberOfTests` must match its tests, and the total run must match the total declared.
///
/// # Errors
/// [`VectorError::MissingFile`], [`VectorError::Io`], or [`VectorError::Format`] for a file
/// that is not of the schema outside its tests. A malformed *test* is not an error: it
/// counts as failed, with a reason naming the file and `tcId`.
pub fn verify(dir: &Path) -> Result<Summary, VectorError> {
    verify_suite::<ConcreteSuite>(dir)
}

/// [`verify`] with every primitive computed by `suite` (the state machines, the codec and
/// the vectors are the same for every suite).
///
/// # Errors
/// Those of [`verify`], and [`VectorError::Unavailable`] if this build lacks the suite.
pub fn verify_with(dir: &Path, suite: SuiteKind) -> Result<Summary, VectorError> {
    struct Verify<'a>(&'a Path);
    impl SuiteTask for Verify<'_> {
        type Output = Result<Summary, VectorError>;
        fn run<S: BytesSuite>(self) -> Self::Output {
            verify_suite::<S>(self.0)
        }
    }
    suite.run(Verify(dir))?
}

fn verify_suite<S: BytesSuite>(dir: &Path) -> Result<Summary, VectorError> {
    let known = checks::all().map_err(|message| VectorError::Format { file: "SPEC.md".into(), message })?;
    for name in file_names() {
        if !dir.join(&name).is_file() {
            return Err(VectorError::MissingFile { dir: dir.to_path_buf(), name });
        }
    }
    let entries = fs::read_dir(dir).map_err(|source| VectorError::Io { path: dir.to_path_buf(), source })?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry.map_err(|source| VectorError::Io { path: dir.to_path_buf(), source })?.path();
        if path.extension().is_some_and(|e| e == "json") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut summary = Summary::default();
    let mut declared = 0;
    for path in &paths {
        let (file, count) = verify_file::<S>(path, &known, &mut summary.failures)?;
        declared += count;
        summary.passed += file.passed;
        summary.failed += file.failed;
        summary.files.push(file);
    }
    let ran = summary.passed + summary.failed + summary.skipped;
    if ran != declared {
        return Err(VectorError::Format {
            file: dir.display().to_string(),
            message: format!("{ran} tests ran but the files declare {declared}"),
        });
    }
    Ok(summary)
}

/// Verifies one file; returns its summary and its declared number of tests.
fn verify_file<S: BytesSuite>(
    path: &Path,
    known: &[checks::Check],
    failures: &mut Vec<Failure>,
) -> Result<(FileSummary, usize), VectorError> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let format = |message: String| VectorError::Format { file: name.clone(), message };
    let text =
        fs::read_to_string(path).map_err(|source| VectorError::Io { path: path.to_path_buf(), source })?;
    let raw: RawFile = serde_json::from_str(&text).map_err(|e| format(e.to_string()))?;
    if raw.schema != SCHEMA {
        return Err(format(format!("schema {:?}, expected {SCHEMA:?}", raw.schema)));
    }
    let profile =
        Profile::parse(&raw.profile).ok_or_else(|| format(format!("unknown profile {:?}", raw.profile)))?;
    let mut file = FileSummary { name: name.clone(), profile: raw.profile.clone(), ..FileSummary::default() };
    let mut seen = std::collections::BTreeSet::new();
    let mut count = 0;
    for group in raw.test_groups {
        let (typed, bad) = type_group(&name, group);
        for (tc_id, reason) in bad {
            count += 1;
            file.failed += 1;
            failures.push(Failure { file: name.clone(), tc_id, reason });
        }
        for (tc_id, verdict, flags, outcome) in run_group::<S>(profile, known, &typed) {
            count += 1;
            if !seen.insert(tc_id) {
                return Err(format(format!("tcId {tc_id} appears twice")));
            }
            if let Some(flag) = flags.iter().find(|f| !raw.notes.contains_key(*f)) {
                return Err(format(format!("tcId {tc_id}: flag {flag} is not explained in notes")));
            }
            match verdict {
                Verdict::Valid => file.valid += 1,
                Verdict::Invalid => file.invalid += 1,
            }
            match outcome {
                Ok(()) => file.passed += 1,
                Err(reason) => {
                    file.failed += 1;
                    failures.push(Failure { file: name.clone(), tc_id, reason });
                }
            }
        }
    }
    if count != raw.number_of_tests {
        return Err(format(format!(
            "numberOfTests is {} but the file has {count} tests",
            raw.number_of_tests
        )));
    }
    Ok((file, raw.number_of_tests))
}

type Bad = Vec<(u32, String)>;

/// Types a raw group's tests one by one; a test that does not parse is reported by `tcId`.
fn type_group(file: &str, group: TestGroup<Value, Value, Value, Value, Value>) -> (TypedGroup, Bad) {
    fn typed<T: serde::de::DeserializeOwned>(file: &str, tests: Vec<Value>, bad: &mut Bad) -> Vec<T> {
        let mut out = Vec::new();
        for value in tests {
            let tc_id =
                value.get("tcId").and_then(Value::as_u64).and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
            match serde_json::from_value(value) {
                Ok(test) => out.push(test),
                Err(e) => bad.push((
                    tc_id,
                    VectorError::Test { file: file.to_string(), tc_id, message: e.to_string() }.to_string(),
                )),
            }
        }
        out
    }
    let mut bad = Vec::new();
    let group = match group {
        TestGroup::ClientSteps(g) => {
            let tests = typed(file, g.tests, &mut bad);
            TestGroup::ClientSteps(schema::ClientGroup {
                description: g.description,
                server: g.server,
                parties: g.parties,
                me: g.me,
                pbkdf2_iterations: g.pbkdf2_iterations,
                tests,
            })
        }
        TestGroup::ServerSteps(g) => {
            let tests = typed(file, g.tests, &mut bad);
            TestGroup::ServerSteps(schema::ServerGroup {
                description: g.description,
                server: g.server,
                parties: g.parties,
                pbkdf2_iterations: g.pbkdf2_iterations,
                tests,
            })
        }
        TestGroup::Decode(g) => {
            let tests = typed(file, g.tests, &mut bad);
            TestGroup::Decode(schema::DecodeGroup { description: g.description, tests })
        }
        TestGroup::MessageKeys(g) => {
            let tests = typed(file, g.tests, &mut bad);
            TestGroup::MessageKeys(schema::MessageKeysGroup { description: g.description, tests })
        }
        TestGroup::Encode(g) => {
            let tests = typed(file, g.tests, &mut bad);
            TestGroup::Encode(schema::EncodeGroup { description: g.description, tests })
        }
    };
    (group, bad)
}

type Outcome = (u32, Verdict, Vec<String>, Result<(), String>);

fn run_group<S: BytesSuite>(profile: Profile, known: &[checks::Check], group: &TypedGroup) -> Vec<Outcome> {
    let ids = |ids: &[String], result: Verdict, error: &Option<String>| {
        check_ids(profile, known, ids, result, error.as_deref())
    };
    match group {
        TestGroup::ClientSteps(g) => g
            .tests
            .iter()
            .map(|t| {
                let outcome = compare(runner::run_client::<S>(profile, g, t), &expected_client(t));
                (t.tc_id, t.result, t.flags.clone(), ids(&t.checks, t.result, &t.error).and(outcome))
            })
            .collect(),
        TestGroup::ServerSteps(g) => g
            .tests
            .iter()
            .map(|t| {
                let outcome = compare(runner::run_server::<S>(profile, g, t), &expected_server(t));
                (t.tc_id, t.result, t.flags.clone(), ids(&t.checks, t.result, &t.error).and(outcome))
            })
            .collect(),
        TestGroup::Decode(g) => g
            .tests
            .iter()
            .map(|t| {
                let outcome = check_decode(profile, t);
                (t.tc_id, t.result, t.flags.clone(), ids(&t.checks, t.result, &t.error).and(outcome))
            })
            .collect(),
        TestGroup::Encode(g) => {
            g.tests.iter().map(|t| (t.tc_id, t.result, t.flags.clone(), check_encode(profile, t))).collect()
        }
        TestGroup::MessageKeys(g) => g
            .tests
            .iter()
            .map(|t| {
                let problems = runner::run_message_keys::<S>(t);
                (
                    t.tc_id,
                    t.result,
                    t.flags.clone(),
                    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) },
                )
            })
            .collect(),
    }
}

/// A test's `checks`: every id is one SPEC.md gives, for this profile; and a rejected test
/// that names checks fails with an error one of them names (or it would pin nothing).
fn check_ids(
    profile: Profile,
    known: &[checks::Check],
    ids: &[String],
    result: Verdict,
    error: Option<&str>,
) -> Result<(), String> {
    let mut named = Vec::new();
    for id in ids {
        let check = known
            .iter()
            .find(|c| c.id == *id)
            .ok_or_else(|| format!("checks: SPEC.md gives no id {id:?}"))?;
        if !check.applies.to(profile) {
            return Err(format!("checks: {id} is not a check of the {} profile", profile.name()));
        }
        if !check.is_limit() {
            named.push(check);
        }
    }
    if let (Verdict::Invalid, Some(error), false) = (result, error, named.is_empty())
        && !named.iter().any(|c| c.errors.contains(error))
    {
        let ids: Vec<&str> = named.iter().map(|c| c.id.as_str()).collect();
        return Err(format!("checks: the error {error} is not one that {} names", ids.join(", ")));
    }
    Ok(())
}

/// The fields a test fixes, as JSON, in the shape [`observed_json`] gives.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Comparable<'a, O: Serialize> {
    result: Option<Verdict>,
    error: Option<&'a str>,
    error_type: Option<schema::ErrorType>,
    error_field: Option<&'a str>,
    error_code: Option<&'a str>,
    intermediate: Option<&'a schema::Intermediate>,
    output: Option<&'a O>,
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn expected_client(t: &ClientTest) -> Value {
    to_json(&Comparable {
        result: Some(t.result),
        error: t.error.as_deref(),
        error_type: t.error_type,
        error_field: t.error_field.as_deref(),
        error_code: None,
        intermediate: t.intermediate.as_ref(),
        output: t.output.as_ref(),
    })
}

fn expected_server(t: &ServerTest) -> Value {
    to_json(&Comparable {
        result: Some(t.result),
        error: t.error.as_deref(),
        error_type: t.error_type,
        error_field: t.error_field.as_deref(),
        error_code: t.error_code.as_deref(),
        intermediate: t.intermediate.as_ref(),
        output: t.output.as_ref(),
    })
}

fn observed_json(o: &Observed) -> Value {
    let output = match (&o.client_output, &o.server_output) {
        (Some(c), _) => to_json(c),
        (None, Some(s)) => to_json(s),
        (None, None) => Value::Null,
    };
    let mut value = to_json(&Comparable::<Value> {
        result: o.verdict,
        error: o.error.as_deref(),
        error_type: o.error_type,
        error_field: o.error_field.as_deref(),
        error_code: o.error_code.as_deref(),
        intermediate: o.intermediate.as_ref(),
        output: None,
    });
    value["output"] = output;
    value
}

fn compare(observed: Result<Observed, Problem>, expected: &Value) -> Result<(), String> {
    let observed = match observed {
        Ok(o) => o,
        Err(Problem::Malformed(m)) => return Err(format!("malformed test: {m}")),
        Err(Problem::Setup(m)) => return Err(m),
    };
    let mut differences = Vec::new();
    diff("", expected, &observed_json(&observed), &mut differences);
    if differences.is_empty() { Ok(()) } else { Err(differences.join("; ")) }
}

/// Records where `a` (the file) and `b` (the implementation) differ.
fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let (va, vb) = (x.get(key).unwrap_or(&Value::Null), y.get(key).unwrap_or(&Value::Null));
                diff(&format!("{path}/{key}"), va, vb, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}/{i}"), va, vb, out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: file has {}, implementation gives {}", short(a), short(b))),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 80 { format!("{}…", &text[..80]) } else { text }
}

fn check_encode(profile: Profile, t: &schema::EncodeTest) -> Result<(), String> {
    let got = match runner::run_encode(profile, t) {
        Ok(got) => got,
        Err(Problem::Malformed(m) | Problem::Setup(m)) => return Err(format!("malformed test: {m}")),
    };
    let want = match t.result {
        Verdict::Valid => Ok(t.encoded.clone().unwrap_or_default()),
        Verdict::Invalid => Err((t.error.clone().unwrap_or_default(), t.error_field.clone())),
    };
    if got == want { Ok(()) } else { Err(format!("file {want:?}, implementation {got:?}")) }
}

fn check_decode(profile: Profile, t: &DecodeTest) -> Result<(), String> {
    let (observed, kind) = runner::run_decode(profile, &t.message);
    let mut problems = Vec::new();
    if observed.verdict != Some(t.result) {
        problems.push(format!(
            "result: file {:?}, implementation {:?} ({:?})",
            t.result, observed.verdict, observed.error
        ));
    }
    if t.result == Verdict::Invalid && observed.error != t.error {
        problems.push(format!("error: file {:?}, implementation {:?}", t.error, observed.error));
    }
    if observed.error_field != t.error_field {
        problems
            .push(format!("errorField: file {:?}, implementation {:?}", t.error_field, observed.error_field));
    }
    if t.result == Verdict::Valid && (kind != t.message_type || observed.error.is_some()) {
        problems.push(format!(
            "messageType: file {:?}, implementation {kind:?} {:?}",
            t.message_type, observed.error
        ));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}
