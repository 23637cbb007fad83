//! `ee2e serve-client` (hidden): one client over its keystore, driven line by line on
//! standard input, for the test that kills it (`cli/tests/client_crash.rs`).
//!
//! At start the client is rebuilt from its keystore ([`Client::restore`]) and the outbox of
//! its last committed step is sent again (SPEC.md §2.2). Every step is written to the
//! keystore ([`Keystore::commit`], accepted messages into its inbox) before any of its
//! messages is printed, so a kill at any point leaves either the step on disk (and its
//! messages in the outbox) or nothing of it.
//!
//! Standard input, one command per line:
//!
//! ```text
//! deliver <hex>            the server delivers the message encoded as <hex>
//! send <phone> <hex>       the application sends the plaintext <hex> to <phone>
//! start <phone>            the application starts a session with <phone>
//! quit                     exit 0 (so does the end of input)
//! ```
//!
//! Standard output: `ready <next id>`, then one `send <hex>` line per outbox message and
//! `resent`; per command zero or more `send <hex>` lines (messages to the server) and one of
//! `ok`, `rejected <name> <text>` (the client's check failed; nothing changed), `failed <error>`
//! (the keystore write failed: the step did not happen) or `invalid <reason>`.
//!
//! `--kill-at-write N` makes the process send itself SIGKILL at the N-th stage of a keystore
//! write (temporary file written, synced, renamed, or a file removed), from the start.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};

use clap::Args;
use ee2e::codec;
use ee2e::keystore::Keystore;
use ee2e::suite::os_rng;
use ee2e::{Bytes, ConcreteSuite, Rng};
use ee2e_fixtures as fixtures;
use ee2e_spec::{Client, ClientError, ClientOutput, Params, Phone, Profile, Suite};

/// Arguments of `ee2e serve-client`.
#[derive(Debug, Args)]
pub struct ServeClientArgs {
    /// The client's keystore (registered already; the server key is the fixture's).
    #[arg(long, value_name = "DIR")]
    pub keystore: PathBuf,
    /// The client's phone number.
    #[arg(long)]
    pub phone: String,
    /// Protocol profile.
    #[arg(long, default_value = "hardened")]
    pub profile: Profile,
    /// Send SIGKILL to this process at the N-th keystore write stage.
    #[arg(long, value_name = "N")]
    pub kill_at_write: Option<u64>,
}

/// Serves commands until `quit` or the end of input; exit status 1 if the keystore does not
/// load or standard output is gone.
pub fn run(args: &ServeClientArgs) -> ExitCode {
    match serve(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ee2e serve-client: {error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: &ServeClientArgs) -> Result<(), String> {
    let phone = Phone::parse(&args.phone).map_err(|e| e.to_string())?;
    let mut keystore = Keystore::open(&args.keystore).map_err(|e| e.to_string())?;
    if let Some(at) = args.kill_at_write {
        let count = AtomicU64::new(0);
        keystore = keystore.observe_writes(move |_, _| {
            if count.fetch_add(1, Ordering::SeqCst) + 1 == at {
                // SAFETY: kill(2) on our own pid has no memory-safety preconditions.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
            }
        });
    }
    let key = keystore.load_private_key().map_err(|e| e.to_string())?;
    let (saved, outbox) = keystore.load().map_err(|e| e.to_string())?;
    let server_key = ConcreteSuite::public_key(&fixtures::server_key());
    let mut client = Client::restore(args.profile, Params::default(), phone, key, server_key, saved)
        .map_err(|e| e.to_string())?;
    keystore.remove_unreferenced_sessions(&client.state()).map_err(|e| e.to_string())?;
    let mut rng = os_rng();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut text = format!("ready {}\n", client.state().next_id);
    for bytes in &outbox {
        text.push_str(&format!("send {}\n", hex::encode(bytes)));
    }
    text.push_str("resent\n");
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| e.to_string())?;
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        if line == "quit" {
            break;
        }
        let answer = serve_line(&mut client, &keystore, args.profile, line, &mut rng);
        out.write_all(answer.as_bytes()).and_then(|()| out.flush()).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Runs one command: the client step, its commit, then its sends.
fn serve_line(
    client: &mut Client<ConcreteSuite>,
    keystore: &Keystore,
    profile: Profile,
    line: &str,
    rng: &mut Rng,
) -> String {
    let wire = profile.wire();
    let words: Vec<&str> = line.split_whitespace().collect();
    let parse_phone = |text: &str| Phone::parse(text).map_err(|e| format!("invalid {e}\n"));
    let before = client.clone();
    let result = match words.as_slice() {
        ["deliver", hex] => {
            let Ok(bytes) = hex::decode(hex) else { return "invalid bad hex\n".into() };
            match codec::decode(wire, &bytes) {
                Ok(message) => client.handle(message, rng),
                Err(error) => return format!("invalid {error}\n"),
            }
        }
        ["send", peer, hex] => {
            let peer = match parse_phone(peer) {
                Ok(peer) => peer,
                Err(answer) => return answer,
            };
            let Ok(plaintext) = hex::decode(hex) else { return "invalid bad hex\n".into() };
            client.send(&peer, &Bytes::secret(plaintext), rng).map_err(ClientError::from)
        }
        ["start", peer] => match parse_phone(peer) {
            Ok(peer) => client.start_session(&peer).map_err(ClientError::from),
            Err(answer) => return answer,
        },
        _ => return format!("invalid unknown command {line:?}\n"),
    };
    let outputs = match result {
        Ok(outputs) => outputs,
        Err(error) => return format!("rejected {} {error}\n", error.name()),
    };
    // Encoded before the commit, so that an unencodable output stops the step cleanly.
    let mut answer = String::new();
    let mut outbox = Vec::new();
    for output in &outputs {
        if let ClientOutput::Send(message) = output {
            match codec::encode(wire, message) {
                Ok(bytes) => {
                    answer.push_str(&format!("send {}\n", hex::encode(&bytes)));
                    outbox.push(bytes);
                }
                Err(error) => {
                    *client = before;
                    return format!("failed cannot encode: {error}\n");
                }
            }
        }
    }
    if let Err(error) = keystore.commit(&outputs, &outbox, true) {
        // The step did not happen: nothing of it leaves.
        *client = before;
        return format!("failed {error}\n");
    }
    answer.push_str("ok\n");
    answer
}
