//! `ee2e mitm` on loopback: `ee2e serve`, the proxy and two `ee2e client` processes, for each
//! attack the proxy plays, in both profiles. On the seed the attack succeeds (the proxy says
//! so, exits 1, and Alice's inbox shows the breach); on hardened it is rejected at the step
//! and with the check the erratum names (the proxy exits 0, and Alice's client printed the
//! error). An attack the proxy does not play is a usage error naming the reason.

mod common;

use common::run_client as client;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const EE2E: &str = env!("CARGO_BIN_EXE_ee2e");
const ALICE: &str = "+15550000001";
const BOB: &str = "+15550000002";

fn key(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/keys")
        .join(format!("{name}.pem"))
        .to_string_lossy()
        .into_owned()
}

/// Starts `args` and returns it with the address of its `listening ADDR` line and the rest
/// of its standard output.
fn listening(args: &[&str]) -> (std::process::Child, String, std::sync::mpsc::Receiver<String>) {
    let mut child = Command::new(EE2E)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ee2e starts");
    let lines = common::lines_of(child.stdout.take().expect("stdout"));
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(60)) {
        if let Some(addr) = line.strip_prefix("listening ").and_then(|rest| rest.split(' ').next()) {
            return (child, addr.to_owned(), lines);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("ee2e {args:?} printed no address");
}

fn text(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// One attack on one profile; returns the proxy's account and exit code, and what Alice's
/// `send` and a later `receive` (straight to the server) printed.
fn play(attack: &str, profile: &str) -> (String, i32, String, String) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let otp = dir.path().join("otp.txt");
    let otp = otp.to_str().expect("UTF-8 path");
    let (mut server, upstream, _server_lines) = listening(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--profile",
        profile,
        "--pbkdf2-iterations",
        "1",
        "--otp-file",
        otp,
        "--server-key",
        &key("server"),
    ]);
    let (mut proxy, addr, proxy_lines) = listening(&[
        "mitm",
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        &upstream,
        "--attack",
        attack,
        "--profile",
        profile,
        "--wait",
        "20",
    ]);
    for (who, phone) in [("alice", ALICE), ("bob", BOB)] {
        let out = client(
            &addr,
            dir.path(),
            who,
            profile,
            &["register", phone, "--otp-file", otp, "--key", &key(who)],
        );
        assert!(out.status.success(), "{who} registers through the proxy: {}", text(&out));
    }
    let sent = client(&addr, dir.path(), "alice", profile, &["send", BOB, "hello bob"]);
    assert!(sent.status.success(), "alice's send: {}", text(&sent));
    let status = proxy.wait().expect("the proxy exits");
    let account: Vec<String> = proxy_lines.try_iter().collect();
    let received = client(&upstream, dir.path(), "alice", profile, &["receive"]);
    assert!(received.status.success(), "alice's receive: {}", text(&received));
    let _ = server.kill();
    let _ = server.wait();
    (account.join("\n"), status.code().unwrap_or(-1), text(&sent), text(&received))
}

#[test]
fn the_proxy_plays_each_attack_succeeding_on_seed_and_rejected_on_hardened() {
    // (property, how many times Alice's inbox shows Bob's "message" on the seed)
    for (attack, copies) in [("message_no_replay", 2), ("message_authenticity", 1)] {
        let (account, code, sent, received) = play(attack, "seed");
        assert_eq!(code, 1, "{attack} on seed: the proxy exits 1 (succeeded)\n{account}");
        assert!(account.contains(&format!("ATTACK SUCCEEDED: {attack} violated")), "{account}");
        assert!(account.contains("[injection] attacker injects S → A: DataDelivery(from B"), "{account}");
        assert!(account.contains("answered: A → S: Ack"), "{account}");
        // The breach, as Alice's own client shows it: her message to Bob came back as Bob's.
        let from_bob = format!("message from {BOB}: hello bob\n");
        assert_eq!(received, from_bob.repeat(copies), "{attack} on seed: alice's inbox");
        assert!(!sent.contains("refused"), "{sent}");

        let (account, code, sent, received) = play(attack, "hardened");
        assert_eq!(code, 0, "{attack} on hardened: the proxy exits 0 (rejected)\n{account}");
        assert!(
            account.contains("ATTACK REJECTED at step 5 by A: A: BadMac (E4)"),
            "{attack} on hardened is rejected at the injection with E4's check:\n{account}"
        );
        assert!(account.contains("REJECTED by A: it answered nothing"), "{account}");
        assert!(sent.contains("refused a delivery: MAC verification failed"), "alice's client: {sent}");
        assert_eq!(received, "", "nothing reached alice's inbox");
    }
}

#[test]
fn an_attack_the_proxy_does_not_play_is_a_usage_error_with_the_reason() {
    let out = Command::new(EE2E)
        .args([
            "mitm",
            "--listen",
            "127.0.0.1:0",
            "--upstream",
            "127.0.0.1:9",
            "--attack",
            "session_key_secrecy",
        ])
        .output()
        .expect("ee2e mitm runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("does not attack session_key_secrecy"), "{err}");
    assert!(err.contains("attacker's own registration"), "{err}");
    assert!(err.contains("supported: message_no_replay, message_authenticity"), "{err}");
}
