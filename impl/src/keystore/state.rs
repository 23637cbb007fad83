//! The keystore's `state.json` (the client's durable state, SPEC.md §2.2, with the last
//! step's outgoing messages) and its `inbox/` files (accepted messages the application has
//! not taken yet).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use ee2e_spec::Outstanding;
use ee2e_spec::ReplayWindow;
use ee2e_spec::{ClientState, Phone, SessionState};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::{KeystoreError, parse_hex, parse_json, parse_phone, parse_role, role_name};
use crate::suite::ConcreteSuite;
use crate::value::Bytes;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StateFile {
    lookups: Vec<String>,
    sessions: Vec<SessionEntry>,
    seen_transports: BTreeMap<String, Vec<String>>,
    outstanding: Vec<OutstandingEntry>,
    next_id: u64,
    /// Hex of the encoded messages the step that wrote this file sent; sent again after a
    /// restart (each receiver refuses a second copy).
    outbox: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionEntry {
    peer: String,
    role: String,
    session: Option<String>,
    next_seq: Option<u64>,
    window_highest: Option<u64>,
    window_seen: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutstandingEntry {
    id: u64,
    peer: String,
    session: Option<String>,
    seq: Option<u64>,
    /// The message's MAC tag (SPEC.md §8.3).
    tag: String,
}

fn hex_opt(value: &Option<Bytes>) -> Option<String> {
    value.as_ref().map(Bytes::to_hex)
}

fn parse_opt(
    path: &Path,
    field: &'static str,
    text: &Option<String>,
) -> Result<Option<Bytes>, KeystoreError> {
    text.as_ref().map(|t| parse_hex(path, field, t).map(Bytes::public)).transpose()
}

impl StateFile {
    pub(super) fn new(state: &ClientState<ConcreteSuite>, outbox: &[Vec<u8>]) -> Self {
        StateFile {
            lookups: state.lookups.iter().map(Phone::to_string).collect(),
            sessions: state
                .sessions
                .iter()
                .map(|s| SessionEntry {
                    peer: s.peer.to_string(),
                    role: role_name(s.role).to_owned(),
                    session: hex_opt(&s.session),
                    next_seq: s.next_seq,
                    window_highest: s.window.highest(),
                    window_seen: s.window.seen(),
                })
                .collect(),
            seen_transports: state
                .seen_transports
                .iter()
                .map(|(peer, seen)| (peer.to_string(), seen.iter().map(Bytes::to_hex).collect()))
                .collect(),
            outstanding: state
                .outstanding
                .iter()
                .map(|o| OutstandingEntry {
                    id: o.id,
                    peer: o.peer.to_string(),
                    session: hex_opt(&o.session),
                    seq: o.seq,
                    tag: o.tag.to_hex(),
                })
                .collect(),
            next_id: state.next_id,
            outbox: outbox.iter().map(hex::encode).collect(),
        }
    }

    /// Parses `state.json`; errors name `path` and the field. Total: any bytes give a state
    /// or an error.
    pub(super) fn parse(
        path: &Path,
        bytes: &[u8],
    ) -> Result<(ClientState<ConcreteSuite>, Vec<Vec<u8>>), KeystoreError> {
        let file: StateFile = parse_json(path, bytes)?;
        let lookups = file
            .lookups
            .iter()
            .map(|p| parse_phone(path, "lookups", p))
            .collect::<Result<BTreeSet<_>, _>>()?;
        let mut sessions = Vec::with_capacity(file.sessions.len());
        for s in &file.sessions {
            let window = ReplayWindow::from_parts(s.window_highest, s.window_seen).ok_or_else(|| {
                KeystoreError::BadField {
                    path: path.to_path_buf(),
                    field: "window_seen",
                    detail: "inconsistent with window_highest".into(),
                }
            })?;
            sessions.push(SessionState {
                peer: parse_phone(path, "peer", &s.peer)?,
                role: parse_role(path, &s.role)?,
                session: parse_opt(path, "session", &s.session)?,
                next_seq: s.next_seq,
                window,
            });
        }
        let mut seen_transports = BTreeMap::new();
        for (peer, seen) in &file.seen_transports {
            let seen = seen
                .iter()
                .map(|h| parse_hex(path, "seen_transports", h).map(Bytes::public))
                .collect::<Result<BTreeSet<_>, _>>()?;
            seen_transports.insert(parse_phone(path, "seen_transports", peer)?, seen);
        }
        let outstanding = file
            .outstanding
            .iter()
            .map(|o| {
                Ok(Outstanding {
                    id: o.id,
                    peer: parse_phone(path, "peer", &o.peer)?,
                    session: parse_opt(path, "session", &o.session)?,
                    seq: o.seq,
                    tag: Bytes::public(parse_hex(path, "tag", &o.tag)?),
                })
            })
            .collect::<Result<Vec<_>, KeystoreError>>()?;
        let outbox =
            file.outbox.iter().map(|h| parse_hex(path, "outbox", h)).collect::<Result<Vec<_>, _>>()?;
        let state = ClientState { lookups, sessions, seen_transports, outstanding, next_id: file.next_id };
        Ok((state, outbox))
    }
}

/// An accepted message waiting in the keystore's inbox for the application.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredMessage {
    /// The inbox file's name (give it to [`Keystore::remove_from_inbox`](super::Keystore::remove_from_inbox)).
    pub name: String,
    /// The sender.
    pub from: Phone,
    /// The sequence number (hardened wire).
    pub seq: Option<u64>,
    /// The plaintext (secret).
    pub plaintext: Bytes,
}

impl std::fmt::Debug for StoredMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredMessage")
            .field("name", &self.name)
            .field("from", &self.from)
            .field("seq", &self.seq)
            .field("plaintext", &format_args!("<{} secret bytes>", self.plaintext.len()))
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct InboxFile {
    pub(super) from: String,
    pub(super) seq: Option<u64>,
    pub(super) plaintext: String,
}

impl Drop for InboxFile {
    fn drop(&mut self) {
        self.plaintext.zeroize();
    }
}

/// Parses an inbox file; errors name `path` and never quote the plaintext.
pub(super) fn parse_inbox_file(
    path: &Path,
    name: &str,
    bytes: &[u8],
) -> Result<StoredMessage, KeystoreError> {
    let file: InboxFile = parse_json(path, bytes)?;
    let plaintext = zeroize::Zeroizing::new(parse_hex(path, "plaintext", &file.plaintext)?);
    Ok(StoredMessage {
        name: name.to_owned(),
        from: parse_phone(path, "from", &file.from)?,
        seq: file.seq,
        plaintext: Bytes::secret(plaintext.to_vec()),
    })
}
