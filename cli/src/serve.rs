//! `ee2e serve-queue` (hidden): the server state machine over a SQLite file, driven line by
//! line on standard input, for tests that kill it (`cli/tests/crash.rs`).
//!
//! The process plays the server side of the transport (SPEC.md §2.4): it takes encoded
//! messages with the sender's address, hands them to `Server::step` over a
//! [`SqliteStore`] file with `Delivery::Confirmed` (through [`Host`]), and reports what the server sent. Its
//! acknowledgement of a command (the last line of the command's answer) is written only after
//! the step returned, that is after every store write of the step was committed (SQLite, WAL,
//! `synchronous=FULL`). A test can therefore kill the process at any moment and know that
//! whatever was acknowledged is on disk.
//!
//! Standard input, one command per line:
//!
//! ```text
//! msg <phone> <hex>        the client at address <phone> sends the message encoded as <hex>
//! confirm <phone> <n>      <phone>'s transport confirms receipt of <n> stored messages
//! quit                     exit 0 (so does the end of input)
//! ```
//!
//! Standard output: `ready` once the store is open; then, per command, zero or more of
//!
//! ```text
//! send <phone> <hex>       the server sends this message to <phone>
//! sms <phone> <otp>        the server texts this OTP to <phone> (a test tool: the OTP is printed)
//! ```
//!
//! followed by exactly one of `accepted` (the step succeeded), `rejected <code> <error>` (a
//! check failed: the error reply is among the `send` lines), `confirmed <n>` (n stored messages
//! removed; the `send` lines before it are the next batch of the queue, when the confirmation
//! completed one, SPEC.md §9.2) or `invalid <reason>` (the line did not parse or the bytes did
//! not decode: the server saw nothing). Output is flushed after every answer.
//!
//! Before each `msg` the server sweeps expired OTP rows (`Server::sweep`).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use ee2e::sqlite::SqliteStore;
use ee2e::suite::os_rng;
use ee2e_net::host::{Host, Verdict, now_ms};
use ee2e_spec::{Params, Phone, Profile};

use crate::server_key::ServerKeyArgs;

/// Arguments of `ee2e serve-queue`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The server's SQLite file (created if missing).
    #[arg(long, value_name = "PATH")]
    pub store: PathBuf,
    /// Protocol profile: `seed`, `hardened` or `hardened-without-<fix>`.
    #[arg(long, default_value = "hardened")]
    pub profile: Profile,
    /// PBKDF2 iterations for registrations (the spec's 600 000 by default).
    #[arg(long, value_name = "N", default_value_t = ee2e_spec::limits::PBKDF2_ITERATIONS)]
    pub pbkdf2_iterations: u32,
    /// The server's key: `--server-key PEM` or `--generate-server-key` (one is required).
    #[command(flatten)]
    pub key: ServerKeyArgs,
}

/// Serves commands from standard input until `quit` or its end; exit status 1 if the store
/// cannot be opened or standard output is gone.
pub fn run(args: &ServeArgs) -> ExitCode {
    let store = match SqliteStore::open(&args.store, args.profile.wire()) {
        Ok(store) => store,
        Err(error) => {
            eprintln!("ee2e serve-queue: {error}");
            return ExitCode::FAILURE;
        }
    };
    let key = match args.key.load("ee2e serve-queue") {
        Ok(key) => key,
        Err(error) => {
            eprintln!("ee2e serve-queue: {error}");
            return ExitCode::FAILURE;
        }
    };
    let params = Params { pbkdf2_iterations: args.pbkdf2_iterations, ..Params::default() };
    let mut host = Host::new(args.profile, params, key, store, os_rng());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if writeln!(out, "ready").and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        if line == "quit" {
            break;
        }
        let answer = serve_line(&mut host, line);
        if write!(out, "{answer}").and_then(|()| out.flush()).is_err() {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// Runs one command; returns its whole answer (lines, each ending in a newline).
fn serve_line(host: &mut Host, line: &str) -> String {
    let mut words = line.split_whitespace();
    let (command, phone, arg) = (words.next(), words.next(), words.next());
    if words.next().is_some() {
        return "invalid too many words\n".into();
    }
    let phone = match phone.map(Phone::parse) {
        Some(Ok(phone)) => phone,
        Some(Err(error)) => return format!("invalid {error}\n"),
        None => return format!("invalid unknown command {line:?}\n"),
    };
    match (command, arg) {
        (Some("msg"), Some(hex)) => {
            let Ok(bytes) = hex::decode(hex) else { return "invalid bad hex\n".into() };
            let reply = match host.submit(&phone, &bytes, now_ms()) {
                Ok(reply) => reply,
                Err(error) => return format!("invalid {error}\n"),
            };
            let mut answer = String::new();
            for send in &reply.sends {
                answer.push_str(&format!("send {} {}\n", send.to, hex::encode(&send.bytes)));
            }
            for (phone, otp) in &reply.sms {
                answer.push_str(&format!("sms {phone} {}\n", String::from_utf8_lossy(otp.as_slice())));
            }
            match reply.verdict {
                Some(Verdict::Accepted) | None => answer.push_str("accepted\n"),
                Some(Verdict::Rejected(error)) => {
                    answer.push_str(&format!("rejected {} {error}\n", error.code() as u8))
                }
                Some(Verdict::Unencodable(error)) => {
                    answer.push_str(&format!("rejected internal cannot encode a reply: {error}\n"))
                }
            }
            answer
        }
        (Some("confirm"), Some(count)) => {
            let Ok(count) = count.parse::<usize>() else { return "invalid bad count\n".into() };
            match host.confirm(&phone, count) {
                Ok(confirmed) => {
                    let mut answer = String::new();
                    for send in &confirmed.sends {
                        answer.push_str(&format!("send {} {}\n", send.to, hex::encode(&send.bytes)));
                    }
                    answer.push_str(&format!("confirmed {}\n", confirmed.removed));
                    answer
                }
                Err(error) => format!("rejected {} {error}\n", error.code() as u8),
            }
        }
        _ => format!("invalid unknown command {line:?}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ee2e_fixtures as fixtures;

    #[test]
    fn hex_round_trips_and_rejects_garbage() {
        // The line protocol's hex, as the `hex` crate reads and writes it.
        assert_eq!(hex::decode(hex::encode([0, 1, 0xab, 0xff])), Ok(vec![0, 1, 0xab, 0xff]));
        assert!(hex::decode("abc").is_err());
        assert!(hex::decode("zz").is_err());
        assert!(hex::decode("é1").is_err());
    }

    #[test]
    fn bad_lines_are_invalid_and_change_nothing() {
        let store = SqliteStore::in_memory(Profile::HARDENED.wire()).expect("store");
        let mut host =
            Host::new(Profile::HARDENED, Params::default(), fixtures::server_key(), store, os_rng());
        for line in [
            "",
            "msg",
            "msg +15550000001",
            "msg nophone 00",
            "msg +15550000001 0",
            "msg +15550000001 0201",
            "frob +15550000001 1",
            "confirm +15550000001 x",
            "msg +15550000001 00 00",
        ] {
            assert!(serve_line(&mut host, line).starts_with("invalid "), "{line:?}");
        }
        // A KeyRequest from an unregistered address: rejected, with the error reply sent.
        let answer = serve_line(&mut host, "msg +15550000001 02100c2b3135353531323334353637");
        assert_eq!(answer, "send +15550000001 027f07\nrejected 7 +15550000001 is not registered\n");
        assert_eq!(serve_line(&mut host, "confirm +15550000001 3"), "confirmed 0\n");
    }
}
