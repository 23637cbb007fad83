//! Over a real network (SPEC.md §2.5): `ee2e serve` and two `ee2e client` processes on
//! loopback, in both profiles. Alice and Bob register (the OTP read from the server's OTP
//! file), Alice sends to Bob while he is offline, the server is stopped with SIGTERM and
//! started again on the same store, Bob receives both messages exactly once, and Alice
//! receives his ACKs. Also `ee2e load --tcp` with 200 concurrent connections.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

const EE2E: &str = env!("CARGO_BIN_EXE_ee2e");

struct Served {
    child: Child,
    addr: String,
    _lines: Receiver<String>,
}

fn serve(dir: &Path, profile: &str) -> Served {
    let mut child = Command::new(EE2E)
        .args(["serve", "--listen", "127.0.0.1:0", "--profile", profile, "--pbkdf2-iterations", "1"])
        .arg("--store")
        .arg(dir.join("server.sqlite"))
        .arg("--otp-file")
        .arg(dir.join("otp.txt"))
        .arg("--server-key")
        .arg(key("server"))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ee2e serve starts");
    let lines = common::lines_of(child.stdout.take().expect("stdout"));
    let first = lines.recv_timeout(Duration::from_secs(30)).expect("the server prints its address");
    let addr =
        first.strip_prefix("listening ").and_then(|rest| rest.split(' ').next()).expect("listening ADDR");
    assert!(addr.starts_with("127.0.0.1:"), "{first}");
    Served { child, addr: addr.to_owned(), _lines: lines }
}

impl Served {
    /// SIGTERM, and the exit status of a graceful shutdown.
    fn stop(mut self) {
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        let rc = unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0);
        let status = self.child.wait().expect("reaped");
        assert!(status.success(), "ee2e serve exits 0 on SIGTERM: {status}");
    }
}

fn key(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/keys").join(format!("{name}.pem"))
}

fn client(served: &Served, dir: &Path, who: &str, profile: &str, args: &[&str]) -> Output {
    let output = common::run_client(&served.addr, dir, who, profile, args);
    assert!(
        output.status.success(),
        "ee2e client {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn conversation(profile: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let otp = dir.path().join("otp.txt");
    let otp = otp.to_str().unwrap();
    let (alice, bob) = ("+15550000001", "+15550000002");
    let served = serve(dir.path(), profile);
    for (who, phone) in [("alice", alice), ("bob", bob)] {
        let key = key(who);
        let out = client(
            &served,
            dir.path(),
            who,
            profile,
            &["register", phone, "--otp-file", otp, "--key", key.to_str().unwrap()],
        );
        assert_eq!(stdout(&out), format!("registered {phone}\n"));
    }
    let out = client(&served, dir.path(), "alice", profile, &["send", bob, "hello bob"]);
    assert_eq!(stdout(&out), format!("session with {bob}\nsent message 0 to {bob}\n"));
    let out = client(&served, dir.path(), "alice", profile, &["send", bob, "are you there?"]);
    assert_eq!(stdout(&out), format!("sent message 1 to {bob}\n"));
    // Bob's messages are stored; a graceful restart keeps them.
    served.stop();
    let served = serve(dir.path(), profile);
    let out = client(&served, dir.path(), "bob", profile, &["receive"]);
    assert_eq!(
        stdout(&out),
        format!(
            "session with {alice}\nmessage from {alice}: hello bob\nmessage from {alice}: are you there?\n"
        ),
        "Bob receives each message once, in order"
    );
    // Nothing is left for Bob; his ACKs wait for Alice.
    let out = client(&served, dir.path(), "bob", profile, &["receive"]);
    assert_eq!(stdout(&out), "");
    let out = client(&served, dir.path(), "alice", profile, &["receive"]);
    assert_eq!(stdout(&out), format!("ack from {bob} for message 0\nack from {bob} for message 1\n"));
    // And back: Bob answers in the session Alice started.
    client(&served, dir.path(), "bob", profile, &["send", alice, "hi alice"]);
    let out = client(&served, dir.path(), "alice", profile, &["receive"]);
    assert_eq!(stdout(&out), format!("message from {bob}: hi alice\n"));
    let out = client(&served, dir.path(), "bob", profile, &["receive"]);
    assert_eq!(stdout(&out), format!("ack from {alice} for message 0\n"));
    served.stop();
}

#[test]
fn two_clients_converse_through_the_server_hardened() {
    conversation("hardened");
}

#[test]
fn two_clients_converse_through_the_server_seed() {
    conversation("seed");
}

#[test]
fn a_client_of_an_unregistered_keystore_fails_with_a_message() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let served = serve(dir.path(), "hardened");
    let output = Command::new(EE2E)
        .args(["client", "--server", &served.addr, "--keystore"])
        .arg(dir.path().join("nobody"))
        .args(["send", "+15550000002", "x"])
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("missing"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A wrong OTP is refused by the server: RegistrationRejected.
    let output = Command::new(EE2E)
        .args(["client", "--server", &served.addr, "--pbkdf2-iterations", "1", "--keystore"])
        .arg(dir.path().join("carol"))
        .args(["register", "+15550000003", "--otp", "000000x", "--key"])
        .arg(key("carol"))
        .output()
        .expect("runs");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("RegistrationRejected"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    served.stop();
}

#[test]
fn load_over_tcp_with_200_connections_loses_and_duplicates_nothing() {
    let output = Command::new(EE2E)
        .args(["load", "--tcp", "--connections", "200", "--messages", "2", "--pbkdf2-iterations", "1"])
        .output()
        .expect("ee2e load runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}{}", String::from_utf8_lossy(&output.stderr));
    assert!(text.contains("200 concurrent connections registered"), "{text}");
    assert!(text.contains("400 of 400 messages delivered and 400 ACKs verified"), "{text}");
    assert!(text.contains("lost 0, duplicated or out of order 0, refused 0, relays lost 0: ok"), "{text}");
    assert!(text.contains(" msgs/s"), "{text}");
}
