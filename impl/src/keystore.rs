//! The client keystore: the seed's "external file" where a client keeps its keys, as a
//! directory.
//!
//! ```text
//! <dir>/                       0700
//!   private_key.pem            0600  PKCS#8 PEM of the client's RSA private key
//!   own_entry.json             0600  our server-signed directory entry
//!   peers/<phone>.json         0600  a verified peer entry: phone, public key, server signature
//!   sessions/<peer>-<id>.json  0600  a session key; <id> is the session id in hex, or `seed`
//!   state.json                 0600  the durable state (SPEC.md §2.2) and the last step's sends
//!   inbox/<peer>-<id>-<seq>.json 0600 an accepted message the application has not taken
//! ```
//!
//! Every file is written atomically (temporary file in the same directory, fsync, rename,
//! fsync of the directory), so a crash leaves either the old or the new file, never half of
//! one. [`Keystore::commit`] writes one client step: keys, entries and inbox files first,
//! then `state.json` (the step's commit point: a crash before it leaves the old state, which
//! names none of the new files), then deletes forgotten session keys. `state.json` is one
//! file so that the whole durable state changes with one rename. Key material is never printed: [`StoredSession`]'s `Debug` hides the key, hex buffers
//! that held keys are zeroized, and errors name the file, never its contents.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use std::sync::Arc;

use ee2e_spec::{ClientEvent, ClientOutput, DirectoryEntry, Persist, Phone, Role, Saved};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::suite::{ConcreteSuite, PrivateKey};
use crate::value::Bytes;

mod state;

pub use state::StoredMessage;
use state::{InboxFile, StateFile, parse_inbox_file};

/// Most accepted messages the inbox holds; a step that would add one more fails with
/// [`KeystoreError::InboxFull`] (and is not confirmed, so the server keeps the message).
pub const MAX_INBOX: usize = 1000;

const PRIVATE_KEY: &str = "private_key.pem";
const OWN_ENTRY: &str = "own_entry.json";
const PEERS: &str = "peers";
const SESSIONS: &str = "sessions";
const INBOX: &str = "inbox";
const STATE: &str = "state.json";
const FILE_MODE: u32 = 0o600;
const DIR_MODE: u32 = 0o700;

/// What went wrong with a keystore file; every variant names the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeystoreError {
    /// A file or directory the keystore needs does not exist.
    #[error("{}: missing", .0.display())]
    Missing(PathBuf),
    /// `create` found an existing keystore.
    #[error("{}: a keystore already exists here", .0.display())]
    AlreadyExists(PathBuf),
    /// A file that must be private is readable or writable by others.
    #[error("{}: permissions {mode:o} are too open (expected {expected:o})", path.display())]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// What they should be.
        expected: u32,
    },
    /// A JSON file is not valid JSON of the expected shape (truncated, corrupt).
    #[error("{}: corrupt JSON: {detail}", path.display())]
    CorruptJson {
        /// The file.
        path: PathBuf,
        /// The parser's message (it never quotes key material).
        detail: String,
    },
    /// A hex field does not decode.
    #[error("{}: field `{field}` is not valid hex", path.display())]
    BadHex {
        /// The file.
        path: PathBuf,
        /// The field.
        field: &'static str,
    },
    /// A field has a valid encoding but an invalid value (phone number, role, file name).
    #[error("{}: field `{field}` is invalid: {detail}", path.display())]
    BadField {
        /// The file.
        path: PathBuf,
        /// The field.
        field: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The private key file is not a PKCS#8 PEM RSA private key.
    #[error("{}: not a PKCS#8 PEM RSA private key", .0.display())]
    BadPem(PathBuf),
    /// The inbox holds as many messages as it may ([`MAX_INBOX`] by default) that the
    /// application has not taken.
    #[error("{}: inbox full ({max} messages not taken)", path.display())]
    InboxFull {
        /// The inbox directory.
        path: PathBuf,
        /// The limit.
        max: usize,
    },
    /// An I/O operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> KeystoreError + '_ {
    move |source| {
        if source.kind() == io::ErrorKind::NotFound {
            KeystoreError::Missing(path.to_path_buf())
        } else {
            KeystoreError::Io { path: path.to_path_buf(), source }
        }
    }
}

/// A session key as kept in the keystore.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The peer.
    pub peer: Phone,
    /// Our role in the key transport.
    pub role: Role,
    /// The session id (hardened wire); `None` on the seed wire.
    pub session: Option<Bytes>,
    key: Bytes,
}

impl StoredSession {
    /// The session key `K` (secret).
    pub fn key(&self) -> &Bytes {
        &self.key
    }
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("peer", &self.peer)
            .field("role", &self.role)
            .field("session", &self.session.as_ref().map(Bytes::to_hex))
            .field("key", &format_args!("<{} secret bytes>", self.key.len()))
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    phone: String,
    public_key: String,
    signature: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionFile {
    peer: String,
    role: String,
    session: Option<String>,
    key: String,
}

impl Drop for SessionFile {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Initiator => "initiator",
        Role::Responder => "responder",
    }
}

/// Where a keystore write stands, for [`Keystore::observe_writes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStage {
    /// The temporary file is written, not yet fsynced.
    TempWritten,
    /// The temporary file is fsynced, not yet renamed.
    TempSynced,
    /// Renamed over the target, the directory not yet fsynced.
    Renamed,
    /// A file was removed, the directory not yet fsynced.
    Removed,
}

type Observer = Arc<dyn Fn(&Path, WriteStage) + Send + Sync>;

/// A client keystore directory.
#[derive(Clone)]
pub struct Keystore {
    dir: PathBuf,
    observer: Option<Observer>,
    inbox_limit: usize,
}

impl std::fmt::Debug for Keystore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keystore").field("dir", &self.dir).finish_non_exhaustive()
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Keystore {
    /// Creates a keystore at `dir` (and any missing parents), mode 0700, with its `peers/`
    /// and `sessions/` subdirectories. Fails if `dir` already holds a keystore.
    pub fn create(dir: impl AsRef<Path>) -> Result<Self, KeystoreError> {
        let dir = dir.as_ref().to_path_buf();
        DirBuilder::new().recursive(true).mode(DIR_MODE).create(&dir).map_err(io_error(&dir))?;
        // The directory may have existed (an empty temp dir): tighten it anyway.
        fs::set_permissions(&dir, fs::Permissions::from_mode(DIR_MODE)).map_err(io_error(&dir))?;
        if dir.join(PRIVATE_KEY).exists() || dir.join(OWN_ENTRY).exists() {
            return Err(KeystoreError::AlreadyExists(dir));
        }
        for sub in [PEERS, SESSIONS, INBOX] {
            let path = dir.join(sub);
            match DirBuilder::new().mode(DIR_MODE).create(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    fs::set_permissions(&path, fs::Permissions::from_mode(DIR_MODE))
                        .map_err(io_error(&path))?;
                }
                Err(e) => return Err(io_error(&path)(e)),
            }
        }
        sync_dir(&dir)?;
        Ok(Keystore { dir, observer: None, inbox_limit: MAX_INBOX })
    }

    /// Opens an existing keystore at `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, KeystoreError> {
        let dir = dir.as_ref().to_path_buf();
        for path in [dir.clone(), dir.join(PEERS), dir.join(SESSIONS)] {
            let meta = fs::metadata(&path).map_err(io_error(&path))?;
            if !meta.is_dir() {
                return Err(KeystoreError::Missing(path));
            }
        }
        // Keystores from before the inbox existed get one.
        let inbox = dir.join(INBOX);
        if !inbox.exists() {
            DirBuilder::new().mode(DIR_MODE).create(&inbox).map_err(io_error(&inbox))?;
        }
        Ok(Keystore { dir, observer: None, inbox_limit: MAX_INBOX })
    }

    /// Calls `observer` at every stage of every write and removal (fault injection: the
    /// client crash test kills its process from here).
    pub fn observe_writes(mut self, observer: impl Fn(&Path, WriteStage) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(observer));
        self
    }

    /// Holds at most `limit` inbox messages (at most [`MAX_INBOX`]; for a deployment that
    /// wants less, and for tests).
    pub fn with_inbox_limit(mut self, limit: usize) -> Self {
        self.inbox_limit = limit.min(MAX_INBOX);
        self
    }

    fn stage(&self, path: &Path, stage: WriteStage) {
        if let Some(observer) = &self.observer {
            observer(path, stage);
        }
    }

    /// The keystore directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the client's private key (seed 1.3: "stored locally") as PKCS#8 PEM.
    pub fn save_private_key(&self, key: &PrivateKey) -> Result<(), KeystoreError> {
        let pem = key.to_pkcs8_pem();
        self.write_atomic(&self.dir.join(PRIVATE_KEY), pem.as_bytes())
    }

    /// Reads the client's private key. Refuses a file that others can read.
    pub fn load_private_key(&self) -> Result<PrivateKey, KeystoreError> {
        let path = self.dir.join(PRIVATE_KEY);
        let mode = fs::metadata(&path).map_err(io_error(&path))?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeystoreError::InsecurePermissions { path, mode, expected: FILE_MODE });
        }
        let bytes = read_secret(&path)?;
        parse_private_key_file(&path, &bytes)
    }

    /// Writes one client step before its outputs are released (SPEC.md §2.2): every
    /// [`Persist`] of `outputs`, with the step's sends (encoded for `wire`) as the outbox of
    /// `state.json`; with `inbox`, every accepted message as an inbox file too. Order: keys,
    /// entries and inbox files; `state.json`; removal of forgotten session keys. A failure
    /// stops at that point: what was written is unreferenced or idempotent, and the caller
    /// must release nothing of the step.
    ///
    /// `outbox` is the step's `Send` messages as the caller encoded them to send (in order):
    /// the bytes written are the bytes sent, encoded once.
    pub fn commit(
        &self,
        outputs: &[ClientOutput<ConcreteSuite>],
        outbox: &[Vec<u8>],
        inbox: bool,
    ) -> Result<(), KeystoreError> {
        let persists =
            || outputs.iter().filter_map(|o| if let ClientOutput::Persist(p) = o { Some(p) } else { None });
        for persist in persists() {
            if !matches!(persist, Persist::State(_) | Persist::ForgetSession { .. }) {
                self.apply(persist)?;
            }
        }
        if inbox {
            for output in outputs {
                if let ClientOutput::Event(ClientEvent::MessageAccepted { from, plaintext, seq }) = output {
                    self.write_inbox(outputs, from, *seq, plaintext)?;
                }
            }
        }
        if let Some(state) = persists().find_map(|p| if let Persist::State(s) = p { Some(s) } else { None }) {
            self.write_json(&self.dir.join(STATE), &StateFile::new(state, outbox))?;
        }
        for persist in persists() {
            if let Persist::ForgetSession { .. } = persist {
                self.apply(persist)?;
            }
        }
        Ok(())
    }

    /// The inbox file of an accepted message: named by sender, session and sequence number
    /// (hardened), so that a message accepted again after a crash before its state was
    /// written lands on the same file.
    fn write_inbox(
        &self,
        outputs: &[ClientOutput<ConcreteSuite>],
        from: &Phone,
        seq: Option<u64>,
        plaintext: &Bytes,
    ) -> Result<(), KeystoreError> {
        let dir = self.dir.join(INBOX);
        let sid = outputs.iter().find_map(|o| match o {
            ClientOutput::Send(ee2e_spec::Message::Ack {
                ack: ee2e_spec::Ack::Hardened { session, .. },
                ..
            }) => Some(session.to_hex()),
            _ => None,
        });
        let name = match (sid, seq) {
            (Some(sid), Some(seq)) => format!("{from}-{sid}-{seq}.json"),
            // The seed has no message identity: a per-keystore counter names the file.
            _ => (0..)
                .map(|n| format!("{from}-seed-{n}.json"))
                .find(|name| !dir.join(name).exists())
                .unwrap_or_default(),
        };
        let path = dir.join(&name);
        if !path.exists() && self.json_files(INBOX)?.len() >= self.inbox_limit {
            return Err(KeystoreError::InboxFull { path: dir, max: self.inbox_limit });
        }
        let file = InboxFile { from: from.to_string(), seq, plaintext: plaintext.to_hex() };
        self.write_json(&path, &file)
    }

    /// The messages waiting in the inbox, ordered by file name.
    pub fn inbox(&self) -> Result<Vec<StoredMessage>, KeystoreError> {
        let mut messages = Vec::new();
        for path in self.json_files(INBOX)? {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            messages.push(parse_inbox_file(&path, &name, &read_secret(&path)?)?);
        }
        Ok(messages)
    }

    /// Removes a message the application has taken from the inbox.
    pub fn remove_from_inbox(&self, name: &str) -> Result<(), KeystoreError> {
        if name.contains('/') || name.starts_with('.') || !name.ends_with(".json") {
            return Err(KeystoreError::BadField {
                path: self.dir.join(INBOX),
                field: "name",
                detail: format!("{name:?} is not an inbox file name"),
            });
        }
        self.remove(&self.dir.join(INBOX).join(name))
    }

    /// Everything needed to rebuild the client ([`ee2e_spec::Client::restore`]) and the
    /// outbox of its last committed step (to send again).
    pub fn load(&self) -> Result<(Saved<ConcreteSuite>, Vec<Vec<u8>>), KeystoreError> {
        let path = self.dir.join(STATE);
        let (state, outbox) = if path.exists() {
            let (state, outbox) = StateFile::parse(&path, &read_secret(&path)?)?;
            (Some(state), outbox)
        } else {
            (None, Vec::new())
        };
        let session_keys = self
            .sessions()?
            .into_iter()
            .map(|s| (s.peer.clone(), s.session.clone(), s.key.clone()))
            .collect();
        Ok((Saved { own_entry: self.own_entry()?, peers: self.peers()?, session_keys, state }, outbox))
    }

    /// Removes the session keys `state` does not name: keys written by a step whose state
    /// never reached the disk, and keys of forgotten sessions whose removal a crash
    /// interrupted. Call after a restore; returns how many were removed.
    pub fn remove_unreferenced_sessions(
        &self,
        state: &ee2e_spec::ClientState<ConcreteSuite>,
    ) -> Result<usize, KeystoreError> {
        let named: Vec<PathBuf> =
            state.sessions.iter().map(|s| self.session_path(&s.peer, s.session.as_ref())).collect();
        let mut removed = 0;
        for path in self.json_files(SESSIONS)? {
            if !named.contains(&path) {
                self.remove(&path)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn session_path(&self, peer: &Phone, session: Option<&Bytes>) -> PathBuf {
        let id = session.map_or_else(|| "seed".to_owned(), Bytes::to_hex);
        self.dir.join(SESSIONS).join(format!("{peer}-{id}.json"))
    }

    fn write_json(&self, path: &Path, value: &impl Serialize) -> Result<(), KeystoreError> {
        let json = Zeroizing::new(
            serde_json::to_vec_pretty(value)
                .map_err(|e| KeystoreError::Io { path: path.to_path_buf(), source: io::Error::other(e) })?,
        );
        self.write_atomic(path, &json)
    }

    /// Removes `path` (absent already is fine) and fsyncs its directory.
    fn remove(&self, path: &Path) -> Result<(), KeystoreError> {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_error(path)(e)),
        }
        self.stage(path, WriteStage::Removed);
        sync_dir(path.parent().unwrap_or(&self.dir))
    }

    /// Writes what the client core asked to persist (one value; [`commit`](Self::commit)
    /// writes a whole step). `State` is written with an empty outbox.
    pub fn apply(&self, persist: &Persist<ConcreteSuite>) -> Result<(), KeystoreError> {
        match persist {
            Persist::State(state) => self.write_json(&self.dir.join(STATE), &StateFile::new(state, &[])),
            Persist::ForgetSession { peer, session } => {
                self.remove(&self.session_path(peer, session.as_ref()))
            }
            Persist::OwnEntry(entry) => self.write_entry(&self.dir.join(OWN_ENTRY), entry),
            Persist::PeerEntry(entry) => {
                self.write_entry(&self.dir.join(PEERS).join(format!("{}.json", entry.phone)), entry)
            }
            Persist::SessionKey { peer, role, session, key } => {
                let path = self.session_path(peer, session.as_ref());
                let file = SessionFile {
                    peer: peer.to_string(),
                    role: role_name(*role).to_owned(),
                    session: session.as_ref().map(Bytes::to_hex),
                    key: key.to_hex(),
                };
                let json =
                    Zeroizing::new(serde_json::to_vec_pretty(&file).map_err(|e| KeystoreError::Io {
                        path: path.clone(),
                        source: io::Error::other(e),
                    })?);
                self.write_atomic(&path, &json)
            }
        }
    }

    /// Our own server-signed entry, if registered.
    pub fn own_entry(&self) -> Result<Option<DirectoryEntry<ConcreteSuite>>, KeystoreError> {
        let path = self.dir.join(OWN_ENTRY);
        if !path.exists() {
            return Ok(None);
        }
        read_entry(&path).map(Some)
    }

    /// Every stored peer entry, ordered by phone number.
    pub fn peers(&self) -> Result<Vec<DirectoryEntry<ConcreteSuite>>, KeystoreError> {
        let mut peers =
            self.json_files(PEERS)?.iter().map(|p| read_entry(p)).collect::<Result<Vec<_>, _>>()?;
        peers.sort_by(|a, b| a.phone.cmp(&b.phone));
        Ok(peers)
    }

    /// Every stored session key, ordered by file name.
    pub fn sessions(&self) -> Result<Vec<StoredSession>, KeystoreError> {
        self.json_files(SESSIONS)?.iter().map(|p| read_session(p)).collect()
    }

    /// The `*.json` files of a subdirectory, sorted by name (temporary files excluded).
    fn json_files(&self, sub: &str) -> Result<Vec<PathBuf>, KeystoreError> {
        let dir = self.dir.join(sub);
        let mut files = Vec::new();
        for item in fs::read_dir(&dir).map_err(io_error(&dir))? {
            let path = item.map_err(io_error(&dir))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".json") && !name.starts_with('.') {
                files.push(path);
            }
        }
        files.sort();
        Ok(files)
    }

    fn write_entry(&self, path: &Path, entry: &DirectoryEntry<ConcreteSuite>) -> Result<(), KeystoreError> {
        let file = EntryFile {
            phone: entry.phone.to_string(),
            public_key: entry.public_key.to_hex(),
            signature: entry.signature.to_hex(),
        };
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| KeystoreError::Io { path: path.to_path_buf(), source: io::Error::other(e) })?;
        self.write_atomic(path, &json)
    }

    /// Writes `bytes` to `path` atomically with mode 0600: a temporary file in the same
    /// directory, fsync, rename over `path`, fsync of the directory.
    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), KeystoreError> {
        let dir = path.parent().ok_or_else(|| KeystoreError::Missing(path.to_path_buf()))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(FILE_MODE)
                .open(&temp)
                .map_err(io_error(&temp))?;
            file.write_all(bytes).map_err(io_error(&temp))?;
            self.stage(path, WriteStage::TempWritten);
            file.sync_all().map_err(io_error(&temp))?;
            self.stage(path, WriteStage::TempSynced);
            fs::rename(&temp, path).map_err(io_error(path))?;
            self.stage(path, WriteStage::Renamed);
            sync_dir(dir)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}

fn sync_dir(dir: &Path) -> Result<(), KeystoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_error(dir))
}

/// Reads a whole file into a buffer that is zeroized on drop.
fn read_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>, KeystoreError> {
    let mut file = File::open(path).map_err(io_error(path))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.read_to_end(&mut bytes).map_err(io_error(path))?;
    Ok(bytes)
}

fn parse_json<T: for<'de> Deserialize<'de>>(path: &Path, bytes: &[u8]) -> Result<T, KeystoreError> {
    // serde_json's messages name a position and an expectation, never the input text.
    serde_json::from_slice(bytes)
        .map_err(|e| KeystoreError::CorruptJson { path: path.to_path_buf(), detail: e.to_string() })
}

fn parse_phone(path: &Path, field: &'static str, text: &str) -> Result<Phone, KeystoreError> {
    Phone::parse(text).map_err(|e| KeystoreError::BadField {
        path: path.to_path_buf(),
        field,
        detail: e.to_string(),
    })
}

fn parse_hex(path: &Path, field: &'static str, text: &str) -> Result<Vec<u8>, KeystoreError> {
    hex::decode(text).map_err(|_| KeystoreError::BadHex { path: path.to_path_buf(), field })
}

fn parse_role(path: &Path, text: &str) -> Result<Role, KeystoreError> {
    match text {
        "initiator" => Ok(Role::Initiator),
        "responder" => Ok(Role::Responder),
        other => Err(KeystoreError::BadField {
            path: path.to_path_buf(),
            field: "role",
            detail: format!("expected initiator or responder, got {other:?}"),
        }),
    }
}

fn read_entry(path: &Path) -> Result<DirectoryEntry<ConcreteSuite>, KeystoreError> {
    parse_entry_file(path, &read_secret(path)?)
}

fn read_session(path: &Path) -> Result<StoredSession, KeystoreError> {
    parse_session_file(path, &read_secret(path)?)
}

/// Parses the contents of `state.json`: the durable state and the outbox; errors name
/// `path` and the field. Total, like [`parse_entry_file`].
pub fn parse_state_file(
    path: &Path,
    bytes: &[u8],
) -> Result<(ee2e_spec::ClientState<ConcreteSuite>, Vec<Vec<u8>>), KeystoreError> {
    StateFile::parse(path, bytes)
}

/// Parses the contents of an inbox file; errors name `path` and never quote the plaintext.
/// Total, like [`parse_entry_file`].
pub fn parse_inbox(path: &Path, bytes: &[u8]) -> Result<StoredMessage, KeystoreError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    parse_inbox_file(path, name, bytes)
}

/// Parses the contents of `private_key.pem` (PKCS#8 PEM); errors name `path`. Total, like
/// [`parse_entry_file`].
pub fn parse_private_key_file(path: &Path, bytes: &[u8]) -> Result<PrivateKey, KeystoreError> {
    let text = std::str::from_utf8(bytes).map_err(|_| KeystoreError::BadPem(path.to_path_buf()))?;
    PrivateKey::from_pkcs8_pem(text).map_err(|_| KeystoreError::BadPem(path.to_path_buf()))
}

/// Parses the contents of a directory entry file (`own_entry.json`, `peers/<phone>.json`);
/// errors name `path`. Total: any bytes give an entry or an error, never a panic (fuzzed by
/// `fuzz/fuzz_targets/keystore.rs`).
pub fn parse_entry_file(path: &Path, bytes: &[u8]) -> Result<DirectoryEntry<ConcreteSuite>, KeystoreError> {
    let file: EntryFile = parse_json(path, bytes)?;
    Ok(DirectoryEntry {
        phone: parse_phone(path, "phone", &file.phone)?,
        public_key: Bytes::public(parse_hex(path, "public_key", &file.public_key)?),
        signature: Bytes::public(parse_hex(path, "signature", &file.signature)?),
    })
}

/// Parses the contents of a session file (`sessions/<peer>-<id>.json`); errors name `path`
/// and never quote the key. Total, like [`parse_entry_file`].
pub fn parse_session_file(path: &Path, bytes: &[u8]) -> Result<StoredSession, KeystoreError> {
    let file: SessionFile = parse_json(path, bytes)?;
    let role = parse_role(path, &file.role)?;
    let session = match &file.session {
        Some(hex) => Some(Bytes::public(parse_hex(path, "session", hex)?)),
        None => None,
    };
    let key = Zeroizing::new(parse_hex(path, "key", &file.key)?);
    Ok(StoredSession {
        peer: parse_phone(path, "peer", &file.peer)?,
        role,
        session,
        key: Bytes::secret(key.to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{codec, fixtures};
    use ee2e_spec::Wire;

    fn entry(phone: &str) -> DirectoryEntry<ConcreteSuite> {
        DirectoryEntry {
            phone: Phone::parse(phone).unwrap(),
            public_key: Bytes::public(vec![0x30, 0x82, 1, 2]),
            signature: Bytes::public(vec![7; 8]),
        }
    }

    fn session(peer: &str, id: Option<u8>) -> Persist<ConcreteSuite> {
        Persist::SessionKey {
            peer: Phone::parse(peer).unwrap(),
            role: Role::Initiator,
            session: id.map(|b| Bytes::public(vec![b; 32])),
            key: Bytes::secret(vec![0x5a; 32]),
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn keystore_round_trips_keys_entries_and_sessions() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path().join("alice")).unwrap();
        let key = fixtures::named("alice").expect("alice fixture");
        ks.save_private_key(&key).unwrap();
        let loaded = Keystore::open(ks.dir()).unwrap().load_private_key().unwrap();
        assert_eq!(loaded.public_key_der(), key.public_key_der());

        assert_eq!(ks.own_entry().unwrap(), None);
        ks.apply(&Persist::OwnEntry(entry("+15550000001"))).unwrap();
        assert_eq!(ks.own_entry().unwrap(), Some(entry("+15550000001")));

        ks.apply(&Persist::PeerEntry(entry("+15550000003"))).unwrap();
        ks.apply(&Persist::PeerEntry(entry("+15550000002"))).unwrap();
        assert_eq!(ks.peers().unwrap(), vec![entry("+15550000002"), entry("+15550000003")]);

        ks.apply(&session("+15550000003", None)).unwrap();
        ks.apply(&session("+15550000003", Some(1))).unwrap();
        let sessions = ks.sessions().unwrap();
        assert_eq!(sessions.len(), 2);
        assert!(sessions.iter().all(|s| s.key == Bytes::secret(vec![0x5a; 32]) && s.role == Role::Initiator));
        assert!(sessions.iter().any(|s| s.session == Some(Bytes::public(vec![1; 32]))));
        assert!(sessions.iter().any(|s| s.session.is_none()));
        assert!(ks.dir().join("sessions/+15550000003-seed.json").exists());
    }

    #[test]
    fn keystore_debug_never_shows_session_keys() {
        let s = StoredSession {
            peer: Phone::parse("+15550000003").unwrap(),
            role: Role::Responder,
            session: None,
            key: Bytes::secret(vec![0xab; 32]),
        };
        assert!(!format!("{s:?}").contains("abab"));
    }

    #[test]
    fn keystore_files_are_0600_and_directories_0700() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path().join("ks")).unwrap();
        ks.save_private_key(&fixtures::named("bob").unwrap()).unwrap();
        ks.apply(&Persist::OwnEntry(entry("+15550000003"))).unwrap();
        ks.apply(&Persist::PeerEntry(entry("+15550000001"))).unwrap();
        ks.apply(&session("+15550000001", Some(2))).unwrap();
        for dir in [ks.dir().to_path_buf(), ks.dir().join("peers"), ks.dir().join("sessions")] {
            assert_eq!(mode(&dir), 0o700, "{}", dir.display());
        }
        let files = [
            ks.dir().join("private_key.pem"),
            ks.dir().join("own_entry.json"),
            ks.dir().join("peers/+15550000001.json"),
            ks.dir().join(format!("sessions/+15550000001-{}.json", "02".repeat(32))),
        ];
        for file in files {
            assert_eq!(mode(&file), 0o600, "{}", file.display());
        }
        // No temporary file is left behind.
        let leftovers = fs::read_dir(ks.dir())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".tmp-"));
        assert_eq!(leftovers.count(), 0);
    }

    #[test]
    fn keystore_rejects_a_truncated_file_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path()).unwrap();
        ks.apply(&Persist::PeerEntry(entry("+15550000003"))).unwrap();
        let path = ks.dir().join("peers/+15550000003.json");
        let text = fs::read(&path).unwrap();
        fs::write(&path, &text[..text.len() / 2]).unwrap();
        let err = ks.peers().unwrap_err();
        assert!(matches!(&err, KeystoreError::CorruptJson { path: p, .. } if *p == path), "{err:?}");
        assert!(err.to_string().contains("+15550000003.json"), "{err}");
    }

    #[test]
    fn keystore_rejects_bad_hex_naming_the_field() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path()).unwrap();
        ks.apply(&session("+15550000003", None)).unwrap();
        let path = ks.dir().join("sessions/+15550000003-seed.json");
        let text = fs::read_to_string(&path).unwrap().replace(&"5a".repeat(32), "zz");
        fs::write(&path, text).unwrap();
        let err = ks.sessions().unwrap_err();
        assert!(matches!(&err, KeystoreError::BadHex { path: p, field: "key" } if *p == path), "{err:?}");
    }

    #[test]
    fn keystore_rejects_a_corrupt_private_key_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path()).unwrap();
        let path = ks.dir().join("private_key.pem");
        ks.write_atomic(&path, b"-----BEGIN PRIVATE KEY-----\nnot base64\n").unwrap();
        let err = ks.load_private_key().unwrap_err();
        assert!(matches!(&err, KeystoreError::BadPem(p) if *p == path), "{err:?}");
        assert!(err.to_string().contains("private_key.pem"));
    }

    /// What a crash in the middle of [`Keystore::write_atomic`] can leave: a temporary file
    /// (complete, truncated or empty) beside the real one, never a half-written real file,
    /// since the real name is only ever the target of a rename of a file already fsynced.
    #[test]
    fn keystore_opens_with_the_previous_content_after_an_interrupted_write() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path().join("ks")).unwrap();
        let key = fixtures::named("alice").unwrap();
        ks.save_private_key(&key).unwrap();
        ks.apply(&Persist::OwnEntry(entry("+15550000001"))).unwrap();
        ks.apply(&Persist::PeerEntry(entry("+15550000003"))).unwrap();
        ks.apply(&session("+15550000003", Some(1))).unwrap();
        let dir = ks.dir().to_path_buf();
        let peer_json = fs::read(dir.join("peers/+15550000003.json")).unwrap();
        let pem = fs::read(dir.join("private_key.pem")).unwrap();
        // The leftovers of interrupted writes, named as write_atomic names its temporary files.
        let leftovers: [(PathBuf, Vec<u8>); 5] = [
            (dir.join(".own_entry.json.tmp-4242-0"), b"{\"phone\": \"+1555".to_vec()),
            (dir.join(".private_key.pem.tmp-4242-1"), pem[..pem.len() / 3].to_vec()),
            (dir.join("peers/.+15550000003.json.tmp-4242-2"), peer_json[..peer_json.len() - 7].to_vec()),
            (dir.join("peers/.+15550000009.json.tmp-4242-3"), Vec::new()),
            (dir.join(format!("sessions/.+15550000003-{}.json.tmp-4242-4", "01".repeat(32))), b"{".to_vec()),
        ];
        for (path, bytes) in &leftovers {
            fs::write(path, bytes).unwrap();
        }
        let reopened = Keystore::open(&dir).unwrap();
        assert_eq!(reopened.load_private_key().unwrap().public_key_der(), key.public_key_der());
        assert_eq!(reopened.own_entry().unwrap(), Some(entry("+15550000001")));
        assert_eq!(reopened.peers().unwrap(), vec![entry("+15550000003")]);
        let sessions = reopened.sessions().unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0].key, Bytes::secret(vec![0x5a; 32]));
        // The next write of the same file succeeds despite the leftover, and replaces the file.
        reopened
            .apply(&Persist::PeerEntry(DirectoryEntry {
                signature: Bytes::public(vec![9; 4]),
                ..entry("+15550000003")
            }))
            .unwrap();
        assert_eq!(reopened.peers().unwrap()[0].signature, Bytes::public(vec![9; 4]));
    }

    /// Every way a keystore file can be broken gives an error that names the file and says
    /// what is wrong with it, and never quotes a key.
    #[test]
    fn keystore_errors_name_the_file_and_the_fault() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path()).unwrap();
        ks.apply(&Persist::PeerEntry(entry("+15550000003"))).unwrap();
        ks.apply(&session("+15550000003", None)).unwrap();
        let peer = ks.dir().join("peers/+15550000003.json");
        let session_path = ks.dir().join("sessions/+15550000003-seed.json");
        let peer_json = fs::read_to_string(&peer).unwrap();
        let session_json = fs::read_to_string(&session_path).unwrap();
        let secret = "5a".repeat(32);
        let cases: Vec<(&Path, String, &str)> = vec![
            (&peer, String::new(), "corrupt JSON: EOF while parsing"),
            (&peer, peer_json[..peer_json.len() / 2].to_string(), "corrupt JSON: EOF while parsing"),
            (&peer, peer_json.replace("\"signature\"", "\"sig\""), "unknown field `sig`"),
            (
                &peer,
                "{\"phone\": \"+15550000003\", \"public_key\": \"00\"}".into(),
                "missing field `signature`",
            ),
            (&peer, "[1, 2, 3]".into(), "corrupt JSON: invalid type"),
            (&peer, peer_json.replace("+15550000003", "+0123"), "field `phone` is invalid"),
            (
                &peer,
                peer_json.replace("\"signature\": \"", "\"signature\": \"x"),
                "field `signature` is not valid hex",
            ),
            (
                &session_path,
                session_json.replace("initiator", "observer"),
                "field `role` is invalid: expected initiator or responder",
            ),
            (
                &session_path,
                session_json.replace(&secret, &format!("{secret}0")),
                "field `key` is not valid hex",
            ),
            (&session_path, session_json[..session_json.len() - 2].to_string(), "corrupt JSON"),
        ];
        for (path, contents, expected) in cases {
            fs::write(path, &contents).unwrap();
            let error = if path == peer { ks.peers().unwrap_err() } else { ks.sessions().unwrap_err() };
            let text = error.to_string();
            assert!(text.starts_with(&path.display().to_string()), "{text}");
            assert!(text.contains(expected), "{text:?} should say {expected:?}");
            assert!(!text.contains(&secret[..16]), "{text}");
            // Put the good file back for the next case.
            fs::write(&peer, &peer_json).unwrap();
            fs::write(&session_path, &session_json).unwrap();
        }
        // The private key: empty, truncated, not UTF-8.
        ks.save_private_key(&fixtures::named("bob").unwrap()).unwrap();
        let key_path = ks.dir().join("private_key.pem");
        let pem = fs::read(&key_path).unwrap();
        for contents in [Vec::new(), pem[..pem.len() / 2].to_vec(), vec![0xff, 0xfe, 0x00]] {
            ks.write_atomic(&key_path, &contents).unwrap();
            let error = ks.load_private_key().unwrap_err();
            assert!(matches!(&error, KeystoreError::BadPem(p) if *p == key_path), "{error:?}");
            assert_eq!(
                error.to_string(),
                format!("{}: not a PKCS#8 PEM RSA private key", key_path.display())
            );
        }
    }

    #[test]
    fn keystore_reports_missing_and_world_readable_keys() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path()).unwrap();
        assert!(matches!(ks.load_private_key(), Err(KeystoreError::Missing(_))));
        ks.save_private_key(&fixtures::named("carol").unwrap()).unwrap();
        let path = ks.dir().join("private_key.pem");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(ks.load_private_key(), Err(KeystoreError::InsecurePermissions { mode: 0o644, .. })));
        assert!(matches!(Keystore::open(tmp.path().join("nope")), Err(KeystoreError::Missing(_))));
        assert!(matches!(Keystore::create(tmp.path()), Err(KeystoreError::AlreadyExists(_))));
    }

    fn state_with(next_id: u64) -> ee2e_spec::ClientState<ConcreteSuite> {
        use ee2e_spec::Outstanding;
        use ee2e_spec::ReplayWindow;
        let mut window = ReplayWindow::default();
        window.accept(5);
        window.accept(3);
        let peer = Phone::parse("+15550000003").unwrap();
        ee2e_spec::ClientState {
            lookups: [Phone::parse("+15550000004").unwrap()].into(),
            sessions: vec![ee2e_spec::SessionState {
                peer: peer.clone(),
                role: Role::Responder,
                session: Some(Bytes::public(vec![1; 32])),
                next_seq: Some(7),
                window,
            }],
            seen_transports: [(
                peer.clone(),
                [Bytes::public(vec![1; 32]), Bytes::public(vec![2; 32])].into(),
            )]
            .into(),
            outstanding: vec![Outstanding {
                id: next_id - 1,
                peer,
                session: Some(Bytes::public(vec![1; 32])),
                seq: Some(6),
                tag: Bytes::public(vec![9; 32]),
            }],
            next_id,
        }
    }

    #[test]
    fn keystore_round_trips_the_durable_state_and_its_outbox() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path()).unwrap();
        assert!(ks.load().unwrap().0.state.is_none());
        let state = state_with(3);
        let data =
            ee2e_spec::Message::<ConcreteSuite>::Connect { phone: Phone::parse("+15550000001").unwrap() };
        let outputs =
            vec![ClientOutput::Persist(Persist::State(state.clone())), ClientOutput::Send(data.clone())];
        ks.commit(&outputs, &[codec::encode(Wire::Hardened, &data).unwrap()], false).unwrap();
        let (saved, outbox) = ks.load().unwrap();
        assert_eq!(saved.state, Some(state));
        assert_eq!(outbox, vec![codec::encode(Wire::Hardened, &data).unwrap()]);
        assert_eq!(mode(&ks.dir().join("state.json")), 0o600);
    }

    #[test]
    fn keystore_rejects_a_corrupt_state_naming_the_field() {
        let tmp = tempfile::tempdir().unwrap();
        let ks = Keystore::create(tmp.path()).unwrap();
        ks.apply(&Persist::State(state_with(3))).unwrap();
        let path = ks.dir().join("state.json");
        let good = fs::read_to_string(&path).unwrap();
        let cases = [
            (good.replace("\"window_seen\": 5", "\"window_seen\": 4"), "field `window_seen` is invalid"),
            (good.replace("+15550000004", "15550000004"), "field `lookups` is invalid"),
            (good.replace(&"09".repeat(32), "0g"), "field `tag` is not valid hex"),
            (good[..good.len() / 2].to_string(), "corrupt JSON"),
        ];
        for (text, expected) in cases {
            fs::write(&path, &text).unwrap();
            let error = ks.load().unwrap_err().to_string();
            assert!(error.starts_with(&path.display().to_string()), "{error}");
            assert!(error.contains(expected), "{error:?} should say {expected:?}");
        }
    }

    /// A step that forgets a session: the new key and state are written, then the old key
    /// removed; a removal a crash interrupted is finished by `remove_unreferenced_sessions`.
    #[test]
    fn keystore_removes_forgotten_session_keys_after_the_state() {
        let tmp = tempfile::tempdir().unwrap();
        let stages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = stages.clone();
        let ks = Keystore::create(tmp.path()).unwrap().observe_writes(move |path, stage| {
            seen.lock().unwrap().push((path.file_name().unwrap().to_string_lossy().into_owned(), stage));
        });
        ks.apply(&session("+15550000003", Some(0))).unwrap();
        ks.apply(&session("+15550000003", Some(2))).unwrap();
        stages.lock().unwrap().clear();
        let mut state = state_with(3);
        state.sessions[0].session = Some(Bytes::public(vec![1; 32]));
        let outputs = vec![
            ClientOutput::Persist(session("+15550000003", Some(1))),
            ClientOutput::Persist(Persist::State(state.clone())),
            ClientOutput::Persist(Persist::ForgetSession {
                peer: Phone::parse("+15550000003").unwrap(),
                session: Some(Bytes::public(vec![0; 32])),
            }),
        ];
        ks.commit(&outputs, &[], false).unwrap();
        let renamed: Vec<_> = stages
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| matches!(s, WriteStage::Renamed | WriteStage::Removed))
            .map(|(name, s)| (name.clone(), *s))
            .collect();
        let old = format!("+15550000003-{}.json", "00".repeat(32));
        let new = format!("+15550000003-{}.json", "01".repeat(32));
        assert_eq!(
            renamed,
            [
                (new.clone(), WriteStage::Renamed),
                ("state.json".into(), WriteStage::Renamed),
                (old, WriteStage::Removed)
            ]
        );
        // The key of session 2 is named by no state (as after a crash before its removal).
        assert_eq!(ks.sessions().unwrap().len(), 2);
        assert_eq!(ks.remove_unreferenced_sessions(&state).unwrap(), 1);
        let left = ks.sessions().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].session, Some(Bytes::public(vec![1; 32])));
    }

    fn accepted(seq: u64, text: &[u8]) -> Vec<ClientOutput<ConcreteSuite>> {
        let from = Phone::parse("+15550000003").unwrap();
        let ack = ee2e_spec::Ack::Hardened {
            session: Bytes::public(vec![1; 32]),
            seq,
            tag: Bytes::public(vec![9; 32]),
            mac: Bytes::public(vec![8; 32]),
        };
        vec![
            ClientOutput::Event(ee2e_spec::ClientEvent::MessageAccepted {
                from: from.clone(),
                plaintext: Bytes::secret(text.to_vec()),
                seq: Some(seq),
            }),
            ClientOutput::Send(ee2e_spec::Message::Ack { to: from, ack }),
        ]
    }

    /// The inbox names a message by sender, session and number: accepting it again (after a
    /// crash before the state was written) gives no second copy. It holds at most its limit.
    #[test]
    fn keystore_inbox_is_idempotent_and_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        const LIMIT: usize = 8;
        let ks = Keystore::create(tmp.path()).unwrap();
        assert_eq!(ks.inbox_limit, MAX_INBOX);
        assert_eq!(ks.clone().with_inbox_limit(MAX_INBOX + 1).inbox_limit, MAX_INBOX);
        let ks = ks.with_inbox_limit(LIMIT);
        ks.commit(&accepted(0, b"hello"), &[], true).unwrap();
        ks.commit(&accepted(0, b"hello"), &[], true).unwrap();
        let inbox = ks.inbox().unwrap();
        assert_eq!(inbox.len(), 1);
        assert_eq!(inbox[0].plaintext, Bytes::secret(b"hello".to_vec()));
        assert_eq!(inbox[0].seq, Some(0));
        assert!(!format!("{:?}", inbox[0]).contains("hello"));
        for seq in 1..LIMIT as u64 {
            ks.commit(&accepted(seq, b"m"), &[], true).unwrap();
        }
        let error = ks.commit(&accepted(LIMIT as u64, b"m"), &[], true).unwrap_err();
        assert!(matches!(error, KeystoreError::InboxFull { max: LIMIT, .. }), "{error:?}");
        // A message already there is still idempotent at the limit; taking one makes room.
        ks.commit(&accepted(3, b"m"), &[], true).unwrap();
        ks.remove_from_inbox(&inbox[0].name).unwrap();
        ks.commit(&accepted(LIMIT as u64, b"m"), &[], true).unwrap();
        assert_eq!(ks.inbox().unwrap().len(), LIMIT);
        assert!(matches!(ks.remove_from_inbox("../state.json"), Err(KeystoreError::BadField { .. })));
    }
}
