//! What a client keeps across a restart (SPEC.md §2.2 "Durable state"), and rebuilding a
//! client from it.

use std::collections::{BTreeMap, BTreeSet};

use super::{Client, Registration};
use crate::error::RestoreError;
use crate::message::DirectoryEntry;
use crate::phone::Phone;
use crate::profile::{MAX_SESSIONS_PER_PEER, MAX_TRANSPORTS_PER_PEER, Params, Profile, Wire};
use crate::session::{Outstanding, Session, SessionState};
use crate::suite::Suite;

/// The client's durable state: everything that changes after registration except the keys
/// and entries, which are persisted on their own ([`Persist`](super::Persist)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientState<S: Suite> {
    /// Peers whose key was requested and has not arrived.
    pub lookups: BTreeSet<Phone>,
    /// Sessions, oldest first: counters and windows (keys are stored apart).
    pub sessions: Vec<SessionState<S>>,
    /// Session ids of the key transports sent to or accepted from each peer (E3).
    pub seen_transports: BTreeMap<Phone, BTreeSet<S::Value>>,
    /// Sent messages not yet acknowledged, oldest first.
    pub outstanding: Vec<Outstanding<S>>,
    /// The local id the next sent message gets.
    pub next_id: u64,
}

/// What a keystore read back, to rebuild a client with [`Client::restore`].
#[derive(Debug, Clone)]
pub struct Saved<S: Suite> {
    /// Our own signed entry, if registered.
    pub own_entry: Option<DirectoryEntry<S>>,
    /// Verified peer entries.
    pub peers: Vec<DirectoryEntry<S>>,
    /// Stored session keys: peer, session id (hardened wire), `K`.
    pub session_keys: Vec<(Phone, Option<S::Value>, S::Value)>,
    /// The last durable state written, if any.
    pub state: Option<ClientState<S>>,
}

impl<S: Suite> Client<S> {
    /// The durable state now (what [`Persist::State`](super::Persist::State) carries).
    pub fn state(&self) -> ClientState<S> {
        ClientState {
            lookups: self.lookups.clone(),
            sessions: self.sessions.iter().map(Session::state).collect(),
            seen_transports: self.seen_transports.clone(),
            outstanding: self.outstanding.clone(),
            next_id: self.next_id,
        }
    }

    /// Rebuilds a client from its keystore after a restart: the same replay windows, seen
    /// transports, counters and outstanding messages as when its last step was persisted.
    /// Every stored entry is verified again under `server_key`, and the state is checked
    /// against the limits it must respect; session keys the state does not name (written
    /// by a step whose state never reached the disk) are ignored.
    pub fn restore(
        profile: Profile,
        params: Params,
        phone: Phone,
        key: S::PrivateKey,
        server_key: S::Value,
        saved: Saved<S>,
    ) -> Result<Self, RestoreError> {
        let mut client = Client::new(profile, params, phone, key, server_key);
        let Some(own) = saved.own_entry else {
            return if saved.state.is_some() { Err(RestoreError::NotRegistered) } else { Ok(client) };
        };
        if own.phone != client.phone || own.public_key != client.public_key {
            return Err(RestoreError::OwnEntryMismatch);
        }
        client.check_entry(&own).map_err(RestoreError::Entry)?;
        client.registration = Registration::Registered(own);
        for entry in saved.peers {
            client.check_entry(&entry).map_err(RestoreError::Entry)?;
            client.peers.insert(entry.phone.clone(), entry);
        }
        let Some(state) = saved.state else { return Ok(client) };
        let max_sessions = if profile.wire() == Wire::Seed { 1 } else { MAX_SESSIONS_PER_PEER };
        let mut per_peer: BTreeMap<&Phone, usize> = BTreeMap::new();
        for s in &state.sessions {
            let count = per_peer.entry(&s.peer).or_default();
            *count += 1;
            if *count > max_sessions {
                return Err(RestoreError::TooManySessions {
                    peer: s.peer.clone(),
                    count: *count,
                    max: max_sessions,
                });
            }
        }
        for (peer, seen) in &state.seen_transports {
            if seen.len() > MAX_TRANSPORTS_PER_PEER {
                return Err(RestoreError::TooManyTransports {
                    peer: peer.clone(),
                    count: seen.len(),
                    max: MAX_TRANSPORTS_PER_PEER,
                });
            }
        }
        if let Some(o) = state.outstanding.iter().find(|o| o.id >= state.next_id) {
            return Err(RestoreError::OutstandingId { id: o.id, next_id: state.next_id });
        }
        for s in &state.sessions {
            let key = saved
                .session_keys
                .iter()
                .find(|(peer, sid, _)| *peer == s.peer && *sid == s.session)
                .map(|(_, _, key)| key.clone())
                .ok_or_else(|| RestoreError::MissingSessionKey(s.peer.clone()))?;
            let session = Session::restore(profile, s, key)
                .map_err(|error| RestoreError::Session { peer: s.peer.clone(), error })?;
            client.sessions.push(session);
        }
        client.lookups = state.lookups;
        client.seen_transports = state.seen_transports;
        client.outstanding = state.outstanding;
        client.next_id = state.next_id;
        Ok(client)
    }
}
