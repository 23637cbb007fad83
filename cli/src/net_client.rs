//! `ee2e client`: one client process over its keystore, talking to `ee2e serve` over TCP
//! (SPEC.md §2.5). Each command connects, claims the keystore's phone, does its work and
//! disconnects:
//!
//! - `register PHONE`: creates the keystore with a new RSA-2048 key, asks for an OTP, reads
//!   it (`--otp`, `--otp-file`, or a prompt on standard input) and registers;
//! - `send PHONE TEXT`: starts a session with PHONE if there is none, seals TEXT and hands
//!   it to the server (stored there while PHONE is offline);
//! - `receive`: comes online, handles everything stored (messages, ACKs, key transports),
//!   prints each message and ACK, goes offline.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use ee2e::suite::os_rng;
use ee2e::{Bytes, ConcreteSuite, PrivateKey};
use ee2e_fixtures as fixtures;
use ee2e_net::driver::{Driver, DriverError, Note, OtpSource, Setup};
use ee2e_spec::{Params, Phone, Profile, Suite};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey, LineEnding};

/// Arguments of `ee2e client`.
#[derive(Debug, Args)]
pub struct NetClientArgs {
    /// The server, `host:port`.
    #[arg(long, value_name = "ADDR")]
    pub server: String,
    /// The client's keystore directory.
    #[arg(long, value_name = "DIR")]
    pub keystore: PathBuf,
    /// Protocol profile (the server's).
    #[arg(long, default_value = "hardened")]
    pub profile: Profile,
    /// The server's public key, PEM (`serve --public-key-out`; default: the committed test
    /// server key's).
    #[arg(long, value_name = "PEM")]
    pub server_key: Option<PathBuf>,
    /// Seconds to wait for the server at each step.
    #[arg(long, value_name = "S", default_value_t = 30)]
    pub timeout: u64,
    /// PBKDF2 iterations for registration (the server's).
    #[arg(long, value_name = "N", default_value_t = ee2e_spec::limits::PBKDF2_ITERATIONS, hide = true)]
    pub pbkdf2_iterations: u32,
    /// What to do.
    #[command(subcommand)]
    pub command: ClientCommand,
}

/// A client command.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register PHONE with a new keystore.
    Register {
        /// The phone number (E.164).
        phone: String,
        /// The OTP, if known already.
        #[arg(long, value_name = "CODE")]
        otp: Option<String>,
        /// Read the OTP from this file of `<phone> <code>` lines (the server's `--otp-file`).
        #[arg(long, value_name = "FILE", conflicts_with = "otp")]
        otp_file: Option<PathBuf>,
        /// Use this PKCS#8 PEM key instead of generating one.
        #[arg(long, value_name = "PEM", hide = true)]
        key: Option<PathBuf>,
    },
    /// Send TEXT to PHONE.
    Send {
        /// The recipient.
        phone: String,
        /// The message.
        text: String,
    },
    /// Receive what the server stored for us.
    Receive,
}

/// Runs one command; exit status 1 if it failed.
pub fn run(args: &NetClientArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("ee2e client: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(command(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ee2e client: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn command(args: &NetClientArgs) -> Result<(), String> {
    let server_key = match &args.server_key {
        Some(path) => read_public_key(path)?,
        None => ConcreteSuite::public_key(&fixtures::server_key()),
    };
    let setup = Setup {
        server: args.server.clone(),
        profile: args.profile,
        params: Params { pbkdf2_iterations: args.pbkdf2_iterations, ..Params::default() },
        server_key,
        timeout: Duration::from_secs(args.timeout),
    };
    let text = |e: DriverError| e.to_string();
    match &args.command {
        ClientCommand::Register { phone, otp, otp_file, key } => {
            let phone = Phone::parse(phone).map_err(|e| e.to_string())?;
            let source = match (otp, otp_file) {
                (Some(code), _) => OtpSource::Given(code.clone()),
                (None, Some(path)) => OtpSource::File(path.clone()),
                (None, None) => OtpSource::Stdin,
            };
            let key = || match key {
                Some(path) => crate::server_key::read_private_key(path),
                None => PrivateKey::generate(2048, &mut os_rng()).map_err(|e| e.to_string()),
            };
            let mut driver =
                Driver::register(&setup, &args.keystore, &phone, key, &source).await.map_err(text)?;
            print_notes(&mut driver);
            println!("registered {phone}");
        }
        ClientCommand::Send { phone, text: message } => {
            let peer = Phone::parse(phone).map_err(|e| e.to_string())?;
            let mut driver = Driver::open(&setup, &args.keystore).await.map_err(text)?;
            let result = driver.send(&peer, message.as_bytes()).await;
            print_notes(&mut driver);
            result.map_err(text)?;
        }
        ClientCommand::Receive => {
            let mut driver = Driver::open(&setup, &args.keystore).await.map_err(text)?;
            let result = driver.receive().await;
            print_notes(&mut driver);
            print_inbox(&driver)?;
            result.map_err(text)?;
        }
    }
    Ok(())
}

/// Prints what happened, one line each (message texts come from the inbox).
fn print_notes(driver: &mut Driver) {
    for note in driver.take_notes() {
        match note {
            Note::Registered | Note::Message { .. } => {}
            Note::Session(peer) => println!("session with {peer}"),
            Note::Sent { to, id } => println!("sent message {id} to {to}"),
            Note::Ack { from, id } => println!("ack from {from} for message {id}"),
            Note::ServerError(code) => println!("server error {code:?}"),
            Note::Refused(error) => println!("refused a delivery: {error}"),
        }
    }
}

/// Prints the inbox, oldest first per sender, and empties it (each message is removed once
/// printed).
fn print_inbox(driver: &Driver) -> Result<(), String> {
    let mut messages = driver.keystore().inbox().map_err(|e| e.to_string())?;
    messages.sort_by(|a, b| (&a.from, a.seq, &a.name).cmp(&(&b.from, b.seq, &b.name)));
    for message in messages {
        println!("message from {}: {}", message.from, String::from_utf8_lossy(message.plaintext.as_slice()));
        driver.keystore().remove_from_inbox(&message.name).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The PEM (`PUBLIC KEY`) of a SubjectPublicKeyInfo DER.
pub(crate) fn public_key_pem(der: &[u8]) -> Result<String, String> {
    let key = rsa::PublicKey::from_public_key_der(der).map_err(|e| e.to_string())?;
    key.to_public_key_pem(LineEnding::LF).map_err(|e| e.to_string())
}

fn read_public_key(path: &std::path::Path) -> Result<Bytes, String> {
    let pem = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = rsa::PublicKey::from_public_key_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))?;
    let der = key.to_public_key_der().map_err(|e| e.to_string())?;
    Ok(Bytes::public(der.as_bytes()))
}
