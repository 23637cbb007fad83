//! `ee2e check` end to end on the fast registration scenario: the text report, the JSON
//! schema, the SVG counterexamples and the exit status.

use std::process::{Command, Output};

/// A command line's words.
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

fn ee2e(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ee2e")).args(args).output().expect("the ee2e binary runs")
}

/// Parses a `--format json` report and validates it against the committed schema.
fn report(out: &Output) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../report/schema/check-report.schema.json"))
            .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
    let errors: Vec<String> =
        validator.iter_errors(&json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "the report does not follow the schema: {errors:#?}");
    json
}

#[test]
fn the_schema_rejects_a_report_without_its_version_or_with_prose_bounds() {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../report/schema/check-report.schema.json")).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let good = serde_json::json!({
        "schemaVersion": 1, "tool": "ee2e", "version": "0.1.0", "outcome": "ok", "ok": true,
        "runs": [], "counterexamples": []
    });
    assert!(validator.is_valid(&good));
    let mut unversioned = good.clone();
    unversioned.as_object_mut().expect("object").remove("schemaVersion");
    assert!(!validator.is_valid(&unversioned));
    let mut bad_outcome = good.clone();
    bad_outcome["outcome"] = "fine".into();
    assert!(!validator.is_valid(&bad_outcome));
}

#[test]
fn check_text_report_shows_verdicts_counterexamples_and_statistics() {
    let out = ee2e(&["check", "--scenario", "registration", "--threads", "2"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.lines().any(|l| words(l).starts_with(&["|", "registration_binding", "|", "registration", "|"])),
        "{text}"
    );
    // The seed's violations are its known flaws (SPEC.md §14): marked, and not failures.
    assert!(text.contains("VIOLATED (expected)"), "{text}");
    assert!(
        text.contains("registration_binding violated — profile seed, threat network, scenario registration:"),
        "{text}"
    );
    assert!(text.contains("attacker guesses online: submits E → S: RegisterSubmit(A, pk(E)"), "{text}");
    assert!(text.contains("↳ E's online guesses find otp_S0"), "{text}");
    assert!(text.contains("fix: E8 otp-limits"), "{text}");
    // Under hardened the attempt limit locks the OTP before the guessing gets anywhere (E8).
    assert!(
        text.contains("under hardened, S rejects step 3 with TooManyAttempts(A) (wire code TooManyAttempts)"),
        "{text}"
    );
    assert!(text.contains("(SPEC.md#e8--otp-limits)"), "{text}");
    assert!(text.contains("⇒ after step"), "{text}");
    assert!(text.contains("unique/s"), "{text}");
    assert!(text.contains("Coverage"), "{text}");
    assert!(
        text.contains("hardened / network / registration: no attack on registration_binding, key_possession"),
        "{text}"
    );
}

#[test]
fn check_json_follows_the_documented_schema() {
    let out = ee2e(&["check", "--scenario", "registration", "--format", "json", "--threads", "2"]);
    assert!(out.status.success());
    let json = report(&out);
    assert_eq!(json["schemaVersion"], 1);
    let runs = json["runs"].as_array().expect("runs array");
    assert_eq!(runs.len(), 2);
    for run in runs {
        for key in ["profile", "threat", "scenario", "states", "unique_states", "seconds", "properties"] {
            assert!(run.get(key).is_some(), "missing {key} in {run}");
        }
        for p in run["properties"].as_array().expect("properties") {
            let status = p["status"].as_str().expect("status");
            assert!(["holds", "violated", "witnessed", "not_witnessed"].contains(&status), "{status}");
            assert!(["always", "sometimes", "covers"].contains(&p["kind"].as_str().expect("kind")));
            let trace = p["trace"].as_array().expect("trace");
            assert_eq!(status == "violated" || status == "witnessed", !trace.is_empty(), "{p}");
        }
    }
    let seed = runs.iter().find(|r| r["profile"] == "seed").expect("seed run");
    let violated: Vec<&str> = seed["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "violated")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(violated, ["registration_binding", "key_possession"]);
    // The hardened run reaches the OTP lockout, expiry and the request limit, each through the
    // real server counters and clock.
    let hardened = runs.iter().find(|r| r["profile"] == "hardened").expect("hardened run");
    let status = |name: &str| {
        hardened["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["status"].clone())
    };
    for probe in ["too_many_attempts", "otp_expired", "rate_limited", "error_reply_handled"] {
        assert_eq!(status(probe), Some(serde_json::json!("witnessed")), "{probe}");
    }
    assert_eq!(json["ok"], serde_json::json!(true));
    assert_eq!(hardened["bounds_values"]["ticks"], serde_json::json!(1));
    // Each violation links to its story, with the fix the hardened replay found.
    let rb =
        seed["properties"].as_array().unwrap().iter().find(|p| p["name"] == "registration_binding").unwrap();
    assert_eq!(rb["expected"]["spec"]["anchor"], "14-limits");
    let story = &json["counterexamples"][rb["counterexample"].as_u64().expect("an index") as usize]["story"];
    assert_eq!(story["fix"]["erratum"], "E8");
    assert_eq!(story["fix"]["step"], 3);
    assert_eq!(story["fix"]["party"], "S");
    assert_eq!(story["fix"]["error"], "TooManyAttempts(A) (wire code TooManyAttempts)");
    assert_eq!(story["fix"]["spec"]["anchor"], "e8--otp-limits");
    assert_eq!(story["replay"][0]["succeeded"], false);
    let guess =
        story["entries"].as_array().unwrap().iter().find(|e| e["rule"] == "guess_online").expect("a guess");
    assert_eq!(guess["after_step"], 3);
}

/// The 2-step seed attack on session key secrecy shows what E knew, A's key transport that
/// E intercepted, and E decrypting it; the hardened replay names E1.
#[test]
fn check_tells_the_session_key_attack_from_what_e_knew_to_the_fix() {
    let out = ee2e(&words("check --profile seed --scenario messaging --messages 1 --quiet"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let start = text.find("session_key_secrecy violated —").expect("the counterexample");
    let story = &text[start..text[start..].find("\n\n").map_or(text.len(), |e| start + e)];
    for line in [
        "E knows at the start: A, B, E, pk(S), pk(A), pk(B), pk(E), sk(E), sig(S, pk(A)), sig(S, pk(B)), sig(S, pk(E))",
        "sends A → S: KeyRequest(B) — intercepted: never delivered, E keeps it",
        "sends A → S: KeyTransport(to B, c=aenc(pk(E), K_A0, 0x), σ=sig(A, K_A0)) — intercepted",
        "↳ E decrypts aenc(pk(E), K_A0, 0x) with sk(E) → learns K_A0",
        "⇒ after step 2, session_key_secrecy fails",
        "fix: E1 directory-binding",
        "under hardened, A rejects step 2 with BadDirectorySignature(B) (SPEC.md#e1--directory-binding)",
    ] {
        assert!(story.contains(line), "missing {line:?} in\n{story}");
    }
    assert_eq!(text.matches("Notation:").count(), 1, "the legend once: {text}");
    assert!(text.contains("K_A0                         a fresh value"), "{text}");
}

/// The same trace under two threat models is told once, with both runs.
#[test]
fn check_prints_identical_counterexamples_once_with_their_runs() {
    let out =
        ee2e(&words("check --profile seed --threat network,compromise --scenario registration --quiet"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("key_possession violated —").count(), 1, "{text}");
    assert!(
        text.contains(
            "the same trace in 2 runs: seed / network / registration; seed / compromise / registration"
        ),
        "{text}"
    );
}

/// A violation SPEC.md §14 lists (hardened, SMS read by the attacker) is expected and does not
/// fail the check; hardened under the network stays the bar.
#[test]
fn check_marks_section_14_limits_expected_and_still_exits_zero() {
    let out =
        ee2e(&words("check --profile hardened --threat sms --scenario registration --format json --quiet"));
    assert_eq!(out.status.code(), Some(0));
    let json = report(&out);
    let props = json["runs"][0]["properties"].as_array().expect("properties").clone();
    let rb = props.iter().find(|p| p["name"] == "registration_binding").expect("checked");
    assert_eq!(rb["status"], "violated");
    assert!(
        rb["expected"]["reason"].as_str().is_some_and(|r| r.contains("SMS is the root of identity")),
        "{rb}"
    );
    assert_eq!(json["runs"][0]["unexpected_violations"], serde_json::json!([]));
    assert_eq!(json["ok"], true);
}

/// Without E1, the fix of its counterexamples is E1 itself.
#[test]
fn check_names_the_removed_erratum_as_the_fix() {
    let out = ee2e(&words(
        "check --profile hardened-without-E1 --scenario messaging --messages 1 --injections 1 --format json --quiet",
    ));
    assert_eq!(out.status.code(), Some(0));
    let json = report(&out);
    let stories = json["counterexamples"].as_array().expect("counterexamples");
    assert!(!stories.is_empty());
    for c in stories {
        assert_eq!(c["story"]["fix"]["erratum"], "E1", "{c}");
        assert_eq!(c["story"]["fix"]["source"], "profile", "{c}");
        assert_eq!(c["story"]["fix"]["spec"]["anchor"], "e1--directory-binding", "{c}");
    }
}

#[test]
fn check_renders_mermaid_and_a_markdown_review() {
    let out = ee2e(&words("check --profile seed --scenario messaging --messages 1 --format mermaid --quiet"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("sequenceDiagram").count(), 7, "one diagram per counterexample: {text}");
    assert!(text.contains("title session_key_secrecy violated — seed / network / messaging"), "{text}");
    assert!(text.contains("A--xE: A → S: KeyTransport(to B"), "{text}");
    assert!(
        text.contains("Note over E: ↳ E decrypts aenc(pk(E), K_A0, 0x) with sk(E) → learns K_A0"),
        "{text}"
    );
    assert!(!text.lines().any(|l| l.contains(';')), "';' is Mermaid syntax: {text}");
    let out = ee2e(&words("check --profile seed --scenario registration --format markdown --quiet"));
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{md}");
    for part in [
        "# EE2E model check",
        "## Verdicts",
        "## Notation",
        "## Counterexamples",
        "```mermaid\nsequenceDiagram",
    ] {
        assert!(md.contains(part), "missing {part:?}: {md}");
    }
    assert_eq!(md.matches("```mermaid").count(), 2, "{md}");
}

#[test]
fn check_reports_a_b_initiated_session_when_b_may_start_one() {
    let out = ee2e(&words(
        "check --scenario messaging --profile hardened --sessions 0 --b-sessions 1 --injections 0 --format json --quiet",
    ));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    let props = json["runs"][0]["properties"].as_array().expect("properties").clone();
    let b = props.iter().find(|p| p["name"] == "b_initiates_session").expect("probe");
    assert_eq!(b["status"], "witnessed", "{b}");
    assert!(b["trace"].as_array().is_some_and(|t| !t.is_empty()));
}

#[test]
fn check_stops_cleanly_at_a_state_limit_and_gives_no_verdict() {
    let out = ee2e(&words("check --scenario messaging --profile hardened --max-states 1000 --quiet"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("INCOMPLETE: hardened / network / messaging stopped (state limit of 1000"),
        "{text}"
    );
    assert!(text.contains("not a verdict"), "{text}");
    assert!(!text.contains("| holds"), "an incomplete run reports nothing as holding: {text}");
    assert!(text.contains("incomplete"), "{text}");
}

#[test]
fn check_refuses_an_unwritable_svg_directory_before_checking() {
    let file = tempfile::NamedTempFile::new().expect("temporary file");
    let path = file.path().join("sub");
    let out = ee2e(&["check", "--svg", path.to_str().expect("utf-8"), "--quiet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write SVG files"));
    assert!(out.stdout.is_empty(), "nothing was checked");
}

#[test]
fn check_writes_each_counterexample_as_svg() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().to_str().expect("utf-8 path");
    let out = ee2e(&["check", "--scenario", "registration", "--profile", "seed", "--svg", path]);
    assert!(out.status.success());
    let mut svgs = Vec::new();
    for property in ["registration_binding", "key_possession"] {
        let file = dir.path().join(format!("seed-network-registration-{property}.svg"));
        let svg = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{svg}");
        assert!(svg.contains("RegisterSubmit"), "{svg}");
        assert!(
            svg.contains(&format!("<title>{property} violated — seed / network / registration</title>")),
            "{svg}"
        );
        assert!(svg.contains("viewBox=\"0 0 "), "{svg}");
        svgs.push(svg);
    }
    assert_ne!(svgs[0], svgs[1], "one file per property, each its own");
}

#[test]
fn check_rejects_unknown_profiles_as_usage_errors() {
    let out = ee2e(&["check", "--profile", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown profile"));
}

/// Depth first visits the same states and reaches the same verdicts as breadth first.
#[test]
fn check_depth_first_gives_the_breadth_first_verdicts() {
    let run = |search: &str| {
        let out = ee2e(&words(&format!(
            "check --scenario messaging --profile seed,hardened --injections 1 --search {search} --format json --quiet"
        )));
        let json = report(&out);
        let runs = json["runs"].as_array().expect("runs").clone();
        runs.iter()
            .map(|r| {
                let statuses: Vec<(String, String)> = r["properties"]
                    .as_array()
                    .expect("properties")
                    .iter()
                    .map(|p| (p["name"].to_string(), p["status"].to_string()))
                    .collect();
                (r["profile"].to_string(), statuses)
            })
            .collect::<Vec<_>>()
    };
    let (bfs, dfs) = (run("bfs"), run("dfs"));
    assert_eq!(bfs.len(), 2);
    assert!(bfs[0].1.iter().any(|(_, s)| s == "\"violated\""), "seed is attacked: {bfs:?}");
    assert_eq!(bfs, dfs);
}

#[test]
fn check_lists_the_fixes_and_accepts_errata_numbers_as_profile_names() {
    let out = ee2e(&words("check --list-fixes"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    for (number, name) in [("E1", "directory-binding"), ("E5", "replay-window"), ("E9", "possession-proof")] {
        assert!(text.contains(&format!("{number:<3} {name}")), "{number} {name}: {text}");
    }
    let out = ee2e(&words(
        "check --profile hardened-without-E1 --scenario messaging --injections 1 --format json --quiet",
    ));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert_eq!(json["runs"][0]["profile"], "hardened-without-directory-binding");
}

/// Bounds that cannot exercise a property say so instead of "holds", with the reason, and
/// `check` exits 4 (no verdict on them), saying why on stderr.
#[test]
fn check_reports_properties_the_bounds_cannot_exercise() {
    let out = ee2e(&words(
        "check --scenario messaging --profile hardened --messages 0 --injections 0 --format json --quiet",
    ));
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot exercise some properties"));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON object");
    assert_eq!(json["outcome"], "not_exercisable");
    let props = json["runs"][0]["properties"].as_array().expect("properties").clone();
    let status = |name: &str| props.iter().find(|p| p["name"] == name).map(|p| p["status"].clone());
    assert_eq!(status("message_confidentiality"), Some("not_exercised".into()));
    assert_eq!(status("ack_accepted"), Some("not_exercised".into()));
    // A key exchange still runs, so the properties about it are checked.
    assert_eq!(status("session_key_secrecy"), Some("holds".into()));
    assert_eq!(status("session_established"), Some("witnessed".into()));
    let why = props.iter().find(|p| p["name"] == "ack_authenticity").map(|p| p["why"].clone());
    assert_eq!(
        why,
        Some("no honest client sends a message (--messages 0, or no key exchange to send in)".into())
    );
}

/// With no key exchange and no message, the text report lists every sometimes-property as not
/// exercisable, with its reason, instead of "holds"; exit status 4.
#[test]
fn check_without_sessions_or_messages_says_what_cannot_be_exercised() {
    let out = ee2e(&words("check --scenario messaging --profile seed --sessions 0 --messages 0 --quiet"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(text.contains("Not exercisable at these bounds"), "{text}");
    for name in ["directory_binding", "session_established", "message_delivered", "ack_accepted"] {
        // Columns are sized to their contents: the row is the property's name, then padding.
        let row = text.lines().find(|l| l.starts_with(&format!("| {name} "))).expect("row");
        assert!(row.contains("not exercisable"), "{row}");
        assert!(text.contains(&format!("seed / network / messaging: {name} — no honest client")), "{text}");
    }
}

/// Without B's offline spell nothing is stored: alone, such a run cannot witness stored
/// delivery (exit status 4, with the reason); in the default check the first `messaging` run
/// exercises it, so `messaging-ab`'s "not exercisable" fails nothing. A spell count past 1 is
/// refused before any checking.
#[test]
fn check_without_an_offline_spell_cannot_witness_stored_delivery() {
    let out =
        ee2e(&words("check --scenario messaging --profile seed --b-sessions 1 --offline-spells 0 --quiet"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    let row = text.lines().find(|l| l.starts_with("| offline_message_delivered ")).expect("row");
    assert!(row.contains("not exercisable"), "{row}");
    assert!(text.contains("B never goes offline (--offline-spells 0)"), "{text}");
    assert!(text.contains("0 offline spell(s) of B"), "{text}");

    let out = ee2e(&words("check --scenario messaging --profile seed --quiet"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("messaging-ab 1 key exchange(s) by A, 1 by B, 2 message(s) per direction, 2 injection(s), 1 tick(s), 0 offline spell(s) of B"), "{text}");

    let out = ee2e(&words("check --scenario messaging --offline-spells 2 --quiet"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--offline-spells"));
}

/// `--witnesses` prints each sometimes-property's shortest witness: honest steps only.
#[test]
fn check_witnesses_are_runs_of_honest_parties() {
    let out = ee2e(&words("check --scenario messaging --profile seed --witnesses --quiet"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let section = text.split("Witnesses (shortest attacker-free runs").nth(1).expect("witness section");
    for name in ["session_established", "message_delivered", "offline_message_delivered", "ack_accepted"] {
        assert!(
            section.contains(&format!(
                "{name} — profile seed, threat network, scenario messaging: witnessed in"
            )),
            "{section}"
        );
    }
    assert!(section.contains("network delivers S → A: AckDelivery(from B"), "{section}");
    assert!(!section.contains("attacker"), "no attacker step in a witness: {section}");
}

/// `--help` describes each threat model.
#[test]
fn check_help_describes_the_threat_models() {
    let out = ee2e(&["check", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for (name, words) in [
        ("passive", "eavesdropper"),
        ("network", "Dolev-Yao"),
        ("sms", "SMS"),
        ("server", "signing key"),
        ("compromise", "long-term private key leaks"),
    ] {
        assert!(text.lines().any(|l| l.trim_start().starts_with(&format!("{name} "))), "{name}: {text}");
        assert!(text.contains(words), "{name}: {words}: {text}");
    }
}
