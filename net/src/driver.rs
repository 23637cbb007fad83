//! The client driver: the sans-IO [`Client`] with its [`Keystore`], over a [`Connection`].
//!
//! Every client step is committed to the keystore ([`Keystore::commit`], accepted messages
//! into its inbox) before any of its messages leaves (SPEC.md §2.2); a stored delivery is
//! confirmed only after the step that handled it was committed, so a crash loses nothing the
//! server would not deliver again. After opening, the outbox of the last committed step is
//! sent again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ee2e::codec::{self, DecodeError, EncodeError};
use ee2e::keystore::{Keystore, KeystoreError};
use ee2e::suite::os_rng;
use ee2e::{Bytes, ConcreteSuite, PrivateKey, Rng};
use ee2e_spec::{
    Client, ClientError, ClientEvent, ClientOutput, ErrorCode, Params, Phone, Profile, RestoreError,
};

use crate::client::{Connection, NetError};
use crate::frame::Frame;

/// What went wrong in a client command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The connection failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The keystore could not be read or written.
    #[error("keystore: {0}")]
    Keystore(#[from] KeystoreError),
    /// The keystore does not rebuild a client.
    #[error("keystore: {0}")]
    Restore(#[from] RestoreError),
    /// The client refused the command.
    #[error("client: {0}")]
    Client(#[from] ClientError),
    /// The server sent bytes that are not a message of our wire.
    #[error("message from the server: {0}")]
    Decode(#[from] DecodeError),
    /// A message of ours does not encode.
    #[error("encoding: {0}")]
    Encode(#[from] EncodeError),
    /// The keystore holds no registration yet.
    #[error("{0}: not registered (run `register` first)")]
    NotRegistered(PathBuf),
    /// The keystore is registered already.
    #[error("{0}: registered already")]
    AlreadyRegistered(PathBuf),
    /// The server answered with an error reply.
    #[error("the server refused: {0:?}")]
    Server(ErrorCode),
    /// No OTP could be had.
    #[error("OTP: {0}")]
    Otp(String),
    /// The session with the peer did not come up (its key did not verify).
    #[error("no session with {0}: the key exchange did not complete")]
    NoSession(Phone),
}

/// Something the application is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Registered: the server signed our key.
    Registered,
    /// A session with the peer is ready.
    Session(Phone),
    /// A message was sealed and handed to the server.
    Sent {
        /// The recipient.
        to: Phone,
        /// Our local id of it (its ACK names it).
        id: u64,
    },
    /// A message arrived (its text is in the keystore's inbox).
    Message {
        /// The sender.
        from: Phone,
    },
    /// The peer acknowledged our message `id`.
    Ack {
        /// The peer.
        from: Phone,
        /// Our local id.
        id: u64,
    },
    /// The server refused one of our messages.
    ServerError(ErrorCode),
    /// The client refused a message from the server (a replay, a bad MAC...): dropped.
    Refused(String),
}

/// Where the registration OTP comes from.
#[derive(Debug, Clone)]
pub enum OtpSource {
    /// This code.
    Given(String),
    /// A file of `<phone> <code>` lines (the server's `--otp-file`): the first new line for
    /// our phone after the request, waited for up to the connection timeout.
    File(PathBuf),
    /// A prompt on standard error, the code read from standard input.
    Stdin,
}

/// A client with its keystore and its connection.
pub struct Driver {
    client: Client<ConcreteSuite>,
    keystore: Keystore,
    connection: Connection,
    rng: Rng,
    notes: Vec<Note>,
    /// `Handled` frames still due (one per message or confirmation sent).
    due: usize,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("phone", self.client.phone()).finish_non_exhaustive()
    }
}

/// How a driver reaches its server and what it trusts.
#[derive(Debug, Clone)]
pub struct Setup {
    /// `host:port`.
    pub server: String,
    /// The profile.
    pub profile: Profile,
    /// Parameters (PBKDF2 iterations must match the server's).
    pub params: Params,
    /// The pinned server public key (SubjectPublicKeyInfo DER).
    pub server_key: Bytes,
    /// Bound on every wait for the server.
    pub timeout: Duration,
}

impl Driver {
    /// Registers `phone` with a new keystore at `dir` holding `key` (a keystore left by a
    /// registration that did not finish is reused with its key).
    ///
    /// # Errors
    /// [`DriverError`]; [`DriverError::Server`] if the server refused the registration.
    pub async fn register(
        setup: &Setup,
        dir: &Path,
        phone: &Phone,
        key: impl FnOnce() -> Result<PrivateKey, String>,
        otp: &OtpSource,
    ) -> Result<Driver, DriverError> {
        let keystore = match Keystore::create(dir) {
            Ok(keystore) => {
                keystore.save_private_key(&key().map_err(DriverError::Otp)?)?;
                keystore
            }
            Err(KeystoreError::AlreadyExists(_)) => {
                let keystore = Keystore::open(dir)?;
                if keystore.own_entry()?.is_some() {
                    return Err(DriverError::AlreadyRegistered(dir.to_path_buf()));
                }
                keystore
            }
            Err(error) => return Err(error.into()),
        };
        let key = keystore.load_private_key()?;
        let client = Client::new(setup.profile, setup.params, phone.clone(), key, setup.server_key.clone());
        let connection = Connection::open(setup.server.as_str(), phone, setup.timeout).await?;
        let mut driver = Driver { client, keystore, connection, rng: os_rng(), notes: Vec::new(), due: 0 };
        let seen = match otp {
            OtpSource::File(path) => otp_lines(path, phone).len(),
            _ => 0,
        };
        let outputs = driver.client.register();
        driver.step(outputs).await?;
        driver.pump().await?;
        driver.refused_by_server()?;
        // The code is a secret until used: its buffer is cleared on drop.
        let code = zeroize::Zeroizing::new(match otp {
            OtpSource::Given(code) => code.clone(),
            OtpSource::File(path) => wait_for_otp(path, phone, seen, setup.timeout).await?,
            OtpSource::Stdin => prompt_otp(phone).await?,
        });
        let outputs = driver
            .client
            .otp_received(&Bytes::secret(code.trim().as_bytes().to_vec()), &mut driver.rng)
            .map_err(ClientError::from)?;
        driver.step(outputs).await?;
        driver.pump().await?;
        driver.refused_by_server()?;
        if !driver.client.is_registered() {
            return Err(DriverError::Otp("the server sent no registration result".into()));
        }
        Ok(driver)
    }

    /// Opens the registered keystore at `dir`, connects, and sends the outbox of the last
    /// committed step again.
    ///
    /// # Errors
    /// [`DriverError`]; [`DriverError::NotRegistered`] for a keystore without registration.
    pub async fn open(setup: &Setup, dir: &Path) -> Result<Driver, DriverError> {
        let keystore = Keystore::open(dir)?;
        let key = keystore.load_private_key()?;
        let (saved, outbox) = keystore.load()?;
        let Some(own) = saved.own_entry.clone() else {
            return Err(DriverError::NotRegistered(dir.to_path_buf()));
        };
        let client = Client::restore(
            setup.profile,
            setup.params,
            own.phone.clone(),
            key,
            setup.server_key.clone(),
            saved,
        )?;
        keystore.remove_unreferenced_sessions(&client.state())?;
        let connection = Connection::open(setup.server.as_str(), &own.phone, setup.timeout).await?;
        let mut driver = Driver { client, keystore, connection, rng: os_rng(), notes: Vec::new(), due: 0 };
        for bytes in outbox {
            driver.connection.send(&bytes).await?;
            driver.due += 1;
        }
        driver.pump().await?;
        Ok(driver)
    }

    /// Our phone.
    pub fn phone(&self) -> &Phone {
        self.client.phone()
    }

    /// The keystore.
    pub fn keystore(&self) -> &Keystore {
        &self.keystore
    }

    /// What happened so far (and forgets it).
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes)
    }

    /// Sends `text` to `peer`, starting a session first if there is none.
    ///
    /// # Errors
    /// [`DriverError`]; [`DriverError::Server`] if the server refused a message.
    pub async fn send(&mut self, peer: &Phone, text: &[u8]) -> Result<(), DriverError> {
        if self.client.session_with(peer).is_none() {
            let outputs = self.client.start_session(peer).map_err(ClientError::from)?;
            self.step(outputs).await?;
            self.pump().await?;
            self.refused_by_server()?;
            if self.client.session_with(peer).is_none() {
                return Err(DriverError::NoSession(peer.clone()));
            }
        }
        let outputs = self
            .client
            .send(peer, &Bytes::secret(text.to_vec()), &mut self.rng)
            .map_err(ClientError::from)?;
        self.step(outputs).await?;
        self.pump().await?;
        self.refused_by_server()
    }

    /// Comes online, handles every stored message (each confirmed after its step was
    /// committed), and goes offline again.
    ///
    /// # Errors
    /// [`DriverError`].
    pub async fn receive(&mut self) -> Result<(), DriverError> {
        let outputs = self.client.connect().map_err(ClientError::from)?;
        self.step(outputs).await?;
        self.pump().await?;
        self.refused_by_server()?;
        let outputs = self.client.disconnect().map_err(ClientError::from)?;
        self.step(outputs).await?;
        self.pump().await
    }

    /// Commits a step, then sends its messages.
    async fn step(&mut self, outputs: Vec<ClientOutput<ConcreteSuite>>) -> Result<(), DriverError> {
        let wire = self.client.profile().wire();
        let mut sends = Vec::new();
        for output in &outputs {
            match output {
                ClientOutput::Send(message) => sends.push(codec::encode(wire, message)?),
                ClientOutput::Event(event) => self.note(event),
                ClientOutput::Persist(_) => {}
            }
        }
        self.keystore.commit(&outputs, &sends, true)?;
        for bytes in &sends {
            self.connection.send(bytes).await?;
            self.due += 1;
        }
        Ok(())
    }

    fn note(&mut self, event: &ClientEvent<ConcreteSuite>) {
        let note = match event {
            ClientEvent::Registered => Note::Registered,
            ClientEvent::SessionEstablished { peer, .. } => Note::Session(peer.clone()),
            ClientEvent::MessageSent { peer, id, .. } => Note::Sent { to: peer.clone(), id: *id },
            ClientEvent::MessageAccepted { from, .. } => Note::Message { from: from.clone() },
            ClientEvent::AckAccepted { peer, id } => Note::Ack { from: peer.clone(), id: *id },
            ClientEvent::ServerError(code) => Note::ServerError(*code),
            ClientEvent::PeerKeyVerified(_) => return,
        };
        self.notes.push(note);
    }

    /// Reads the server's frames until every message and confirmation sent was handled;
    /// then the outbox is empty (every message of it reached the server), so the state is
    /// written without it: a clean exit sends nothing again at the next start (the seed,
    /// which has no replay protection, would accept a resent `Data` twice).
    async fn pump(&mut self) -> Result<(), DriverError> {
        self.read_until_handled().await?;
        if self.client.is_registered() {
            self.keystore.apply(&ee2e_spec::Persist::State(self.client.state()))?;
        }
        Ok(())
    }

    async fn read_until_handled(&mut self) -> Result<(), DriverError> {
        while self.due > 0 {
            match self.connection.next().await? {
                Frame::Handled => self.due -= 1,
                Frame::Message(bytes) => self.deliver(&bytes).await?,
                Frame::Stored(bytes) => {
                    self.deliver(&bytes).await?;
                    // Only after the step was committed (or refused: it changes nothing).
                    self.connection.confirm().await?;
                    self.due += 1;
                }
                other => return Err(NetError::Unexpected(other).into()),
            }
        }
        Ok(())
    }

    async fn deliver(&mut self, bytes: &[u8]) -> Result<(), DriverError> {
        let message = codec::decode(self.client.profile().wire(), bytes)?;
        let before = self.client.clone();
        match self.client.handle(message, &mut self.rng) {
            Ok(outputs) => {
                if let Err(error) = self.step(outputs).await {
                    // Nothing of the step happened.
                    self.client = before;
                    return Err(error);
                }
            }
            Err(error) => self.notes.push(Note::Refused(error.to_string())),
        }
        Ok(())
    }

    /// The first error reply among the notes since the last call, as an error.
    fn refused_by_server(&mut self) -> Result<(), DriverError> {
        match self.notes.iter().find_map(|n| if let Note::ServerError(code) = n { Some(*code) } else { None })
        {
            Some(code) => Err(DriverError::Server(code)),
            None => Ok(()),
        }
    }
}

/// The codes for `phone` in an OTP file, oldest first.
fn otp_lines(path: &Path, phone: &Phone) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let prefix = format!("{phone} ");
    text.lines().filter_map(|line| line.strip_prefix(&prefix)).map(str::to_owned).collect()
}

async fn wait_for_otp(
    path: &Path,
    phone: &Phone,
    seen: usize,
    timeout: Duration,
) -> Result<String, DriverError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(code) = otp_lines(path, phone).into_iter().nth(seen) {
            return Ok(code);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DriverError::Otp(format!(
                "no code for {phone} in {} within {timeout:?}",
                path.display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn prompt_otp(phone: &Phone) -> Result<String, DriverError> {
    eprint!("code texted to {phone}: ");
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) => Err(DriverError::Otp("standard input ended".into())),
            Ok(_) => Ok(line),
            Err(error) => Err(DriverError::Otp(error.to_string())),
        }
    })
    .await
    .map_err(|e| DriverError::Otp(e.to_string()))?
}
