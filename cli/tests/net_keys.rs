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
        .join("../impl/fixtures/keys")
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
