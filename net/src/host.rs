//! The server state machine hosted over its SQLite store, transport-independent: what every
//! front end does with the bytes a connection hands it (decode, sweep, step, encode). Both
//! `ee2e serve-queue` (stdin/stdout, for the crash tests) and the TCP front end
//! ([`crate::server`]) run on it, so a stored message is acknowledged by either only after the
//! step that stored it returned, that is after its SQLite commit (SPEC.md §2.3, §9.2).

use std::time::{SystemTime, UNIX_EPOCH};

use ee2e::codec::{self, DecodeError};
use ee2e::sqlite::SqliteStore;
use ee2e::{Bytes, ConcreteSuite, PrivateKey, Rng};
use ee2e_spec::{Delivery, Params, Phone, Profile, Server, ServerError, ServerEvent, ServerOutput};

/// The server the hosts run: the core over the SQLite store.
pub type HostedServer = Server<ConcreteSuite, SqliteStore>;

/// One message the server sends, encoded for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The recipient's address.
    pub to: Phone,
    /// The encoded message (SPEC.md §4).
    pub bytes: Vec<u8>,
    /// Whether it comes from the recipient's offline queue (a stored delivery the transport
    /// must have confirmed, SPEC.md §9.2).
    pub stored: bool,
}

/// How the server took a submitted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The step succeeded (and what it stored is committed).
    Accepted,
    /// A check failed; the error reply is among the sends.
    Rejected(ServerError),
    /// A reply could not be encoded (a bug, never the sender's fault); it was not sent.
    Unencodable(String),
}

/// What one submitted message made the server do.
#[derive(Debug, Default)]
pub struct Reply {
    /// Messages to send, in order.
    pub sends: Vec<Outgoing>,
    /// OTPs to deliver out of band (phone, code; secret).
    pub sms: Vec<(Phone, Bytes)>,
    /// The verdict (`None` only while the reply is being built).
    pub verdict: Option<Verdict>,
}

/// What a delivery confirmation made the server do.
#[derive(Debug)]
pub struct Confirmed {
    /// How many stored messages were removed.
    pub removed: usize,
    /// The next batch of the queue, when the confirmation completed one.
    pub sends: Vec<Outgoing>,
}

/// The server over its store, with its random source.
pub struct Host {
    server: HostedServer,
    rng: Rng,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("profile", &self.server.profile()).finish_non_exhaustive()
    }
}

impl Host {
    /// A host for `profile` with signing key `key` over `store`, removing stored messages on
    /// confirmation (REQUIRED for a durable store, SPEC.md §9.2).
    pub fn new(profile: Profile, params: Params, key: PrivateKey, store: SqliteStore, rng: Rng) -> Self {
        let server = Server::new(profile, params, key, store).with_delivery(Delivery::Confirmed);
        Host { server, rng }
    }

    /// The server.
    pub fn server(&self) -> &HostedServer {
        &self.server
    }

    /// The client at address `from` sent `bytes`. Bytes that do not decode reach nothing
    /// (SPEC.md §9.3: no reply). Before the step, expired OTP rows are swept (a failed sweep
    /// is logged and retried at the next message).
    ///
    /// # Errors
    /// The codec's error when `bytes` is not a message of this server's wire.
    pub fn submit(&mut self, from: &Phone, bytes: &[u8], now: u64) -> Result<Reply, DecodeError> {
        let wire = self.server.profile().wire();
        let message = codec::decode(wire, bytes)?;
        if let Err(error) = self.server.sweep(now) {
            tracing::warn!(%error, "OTP sweep failed");
        }
        let mut reply = Reply::default();
        let mut verdict = Verdict::Accepted;
        for output in self.server.step(from, message, now, &mut self.rng) {
            match output {
                ServerOutput::Send { to, message, stored } => match codec::encode(wire, &message) {
                    Ok(bytes) => reply.sends.push(Outgoing { to, bytes, stored }),
                    Err(error) => verdict = Verdict::Unencodable(error.to_string()),
                },
                ServerOutput::Sms { phone, otp } => reply.sms.push((phone, otp)),
                ServerOutput::Event(ServerEvent::Rejected { error, .. }) => {
                    verdict = Verdict::Rejected(error)
                }
                ServerOutput::Event(event) => tracing::debug!(?event, "server"),
            }
        }
        reply.verdict = Some(verdict);
        Ok(reply)
    }

    /// `phone`'s transport confirms `count` stored deliveries (SPEC.md §2.4, §9.2).
    ///
    /// # Errors
    /// The store's error; nothing was removed.
    pub fn confirm(&mut self, phone: &Phone, count: usize) -> Result<Confirmed, ServerError> {
        let wire = self.server.profile().wire();
        let confirmation = self.server.confirm_delivery(phone, count)?;
        let mut sends = Vec::new();
        for output in confirmation.outputs {
            match output {
                ServerOutput::Send { to, message, stored } => match codec::encode(wire, &message) {
                    Ok(bytes) => sends.push(Outgoing { to, bytes, stored }),
                    // It stays stored and goes out again at the next `Connect`.
                    Err(error) => tracing::error!(%error, "cannot encode a stored message"),
                },
                ServerOutput::Event(ServerEvent::BatchFailed { error, .. }) => {
                    tracing::error!(%error, "next batch failed")
                }
                _ => {}
            }
        }
        Ok(Confirmed { removed: confirmation.removed, sends })
    }

    /// `phone`'s connection ended: the server marks it offline (as a `Disconnect` would), so
    /// that what arrives for it is stored. Nothing happens if it was not online.
    pub fn connection_closed(&mut self, phone: &Phone, now: u64) {
        if !self.server.online().contains(phone) {
            return;
        }
        let message = ee2e_spec::Message::Disconnect { phone: phone.clone() };
        for output in self.server.step(phone, message, now, &mut self.rng) {
            if let ServerOutput::Event(ServerEvent::Rejected { error, .. }) = output {
                tracing::warn!(%error, %phone, "implicit Disconnect rejected");
            }
        }
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
