//! `ee2e serve --server-key/--public-key-out` with `ee2e client --server-key`, and the
//! standard-input OTP prompt of `ee2e client register`: a client pinning the server's own
//! key registers (its OTP typed at the prompt); one pinning the default test key seals its
//! registration to the wrong key and is refused.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EE2E: &str = env!("CARGO_BIN_EXE_ee2e");

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/keys")
        .join(format!("{name}.pem"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn a_client_pins_the_key_the_server_wrote_and_types_its_otp_at_the_prompt() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (otp, public) = (dir.path().join("otp.txt"), dir.path().join("server.pub.pem"));
    let mut server = Command::new(EE2E)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--pbkdf2-iterations",
            "1",
            "--server-key",
            &fixture("carol"),
        ])
        .arg("--public-key-out")
        .arg(&public)
        .arg("--otp-file")
        .arg(&otp)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ee2e serve starts");
    let lines = common::lines_of(server.stdout.take().expect("stdout"));
    let first = lines.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let addr =
        first.strip_prefix("listening ").and_then(|r| r.split(' ').next()).unwrap_or_default().to_owned();
    let pem = std::fs::read_to_string(&public).unwrap_or_default();
    let client = |who: &str, phone: &str, pin: bool| {
        let mut command = Command::new(EE2E);
        command.args(["client", "--server", &addr, "--pbkdf2-iterations", "1", "--timeout", "20"]);
        if pin {
            command.arg("--server-key").arg(&public);
        }
        command
            .arg("--keystore")
            .arg(dir.path().join(who))
            .args(["register", phone, "--key", &fixture(who)])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ee2e client starts")
    };
    // Pinned to the server's own key; the code typed at the prompt.
    let mut alice = client("alice", "+15550000001", true);
    let started = Instant::now();
    let code = loop {
        let text = std::fs::read_to_string(&otp).unwrap_or_default();
        if let Some(code) = text.lines().find_map(|l| l.strip_prefix("+15550000001 ")) {
            break code.to_owned();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no OTP was delivered");
        std::thread::sleep(Duration::from_millis(20));
    };
    writeln!(alice.stdin.take().expect("stdin"), "{code}").expect("the code is typed");
    let out = alice.wait_with_output().expect("the client ends");
    // Pinned to the default test key: the tag is sealed to that key (E7), which the server
    // cannot open, so it rejects the registration.
    let mut bob = client("bob", "+15550000002", false);
    let started = Instant::now();
    let code = loop {
        let text = std::fs::read_to_string(&otp).unwrap_or_default();
        if let Some(code) = text.lines().find_map(|l| l.strip_prefix("+15550000002 ")) {
            break code.to_owned();
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no OTP was delivered");
        std::thread::sleep(Duration::from_millis(20));
    };
    writeln!(bob.stdin.take().expect("stdin"), "{code}").expect("the code is typed");
    let wrong = bob.wait_with_output().expect("the client ends");
    let _ = server.kill();
    let _ = server.wait();

    assert!(addr.starts_with("127.0.0.1:"), "{first}");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "the public key is written as PEM: {pem}");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "registered +15550000001\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("code texted to +15550000001: "), "the prompt");
    assert!(!wrong.status.success(), "a client pinning another server key does not register");
    let err = String::from_utf8_lossy(&wrong.stderr);
    assert!(err.contains("the server refused: RegistrationRejected"), "{err}");
}

/// `ee2e serve` and `ee2e serve-queue` have no default server key: without `--server-key` or
/// `--generate-server-key` they refuse to start, and they refuse both together.
#[test]
fn the_servers_refuse_to_start_without_a_server_key() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = dir.path().join("server.sqlite");
    let store = store.to_str().expect("UTF-8 path");
    let both = ["--server-key", &fixture("server"), "--generate-server-key"];
    for command in [&["serve", "--listen", "127.0.0.1:0"][..], &["serve-queue", "--store", store][..]] {
        for extra in [&[][..], &both[..]] {
            let output = Command::new(EE2E)
                .args(command)
                .args(extra)
                .stdin(Stdio::null())
                .output()
                .expect("ee2e runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{command:?} {extra:?} started: {stderr}");
            assert!(stderr.contains("--server-key"), "{command:?} {extra:?}: {stderr}");
            assert!(String::from_utf8_lossy(&output.stdout).is_empty(), "{command:?} {extra:?}");
        }
    }
}

/// `--generate-server-key`: a fresh key at startup, announced on standard error (never
/// printed), with its public key written for clients to pin.
#[test]
fn serve_generates_a_fresh_server_key_on_request() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let public = dir.path().join("server.pub.pem");
    let mut server = Command::new(EE2E)
        .args(["serve", "--listen", "127.0.0.1:0", "--generate-server-key"])
        .arg("--public-key-out")
        .arg(&public)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ee2e serve starts");
    let lines = common::lines_of(server.stdout.take().expect("stdout"));
    let first = lines.recv_timeout(Duration::from_secs(60)).unwrap_or_default();
    let pem = std::fs::read_to_string(&public).unwrap_or_default();
    let _ = server.kill();
    let output = server.wait_with_output().expect("reaped");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(first.starts_with("listening 127.0.0.1:"), "{first}");
    assert!(stderr.contains("generated a fresh RSA-2048 server key"), "{stderr}");
    assert!(!stderr.contains("PRIVATE KEY"), "{stderr}");
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let committed = Command::new(EE2E)
        .args(["serve", "--listen", "127.0.0.1:0", "--server-key", &fixture("server")])
        .arg("--public-key-out")
        .arg(dir.path().join("committed.pub.pem"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let mut committed = committed.expect("ee2e serve starts");
    let lines = common::lines_of(committed.stdout.take().expect("stdout"));
    let _ = lines.recv_timeout(Duration::from_secs(60));
    let _ = committed.kill();
    let _ = committed.wait();
    let fixture_pem = std::fs::read_to_string(dir.path().join("committed.pub.pem")).unwrap_or_default();
    assert!(fixture_pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{fixture_pem}");
    assert_ne!(pem, fixture_pem, "the generated key is not the committed test key");
}

/// `serve-queue --generate-server-key` starts (`ready`) and says so on standard error.
#[test]
fn serve_queue_generates_a_fresh_server_key_on_request() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut child = Command::new(EE2E)
        .args(["serve-queue", "--generate-server-key", "--store"])
        .arg(dir.path().join("server.sqlite"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ee2e serve-queue starts");
    child.stdin.take().expect("stdin").write_all(b"quit\n").expect("quit");
    let output = child.wait_with_output().expect("reaped");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "ready\n");
    assert!(stderr.contains("ee2e serve-queue: generated a fresh RSA-2048 server key"), "{stderr}");
    assert!(!stderr.contains("PRIVATE KEY"), "{stderr}");
}
