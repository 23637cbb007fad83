//! The host thread: one thread owns the [`Host`] (the server over SQLite, whose writes block)
//! and the table of claimed addresses, takes the connections' requests one at a time and
//! writes each step's messages into the recipients' outbound queues, in step order.
//!
//! A connection waits for the answer to its request before it reads its next frame, so the
//! host's queue holds at most one request per connection and a stored message is
//! acknowledged (`Handled`) only after the step that stored it returned.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ee2e::otp::OtpDelivery;
use ee2e_spec::Phone;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::frame::{CloseReason, Frame};
use crate::host::{Host, Outgoing, Verdict, now_ms};

/// A connection's queue of frames to write, with its byte budget.
#[derive(Debug, Clone)]
pub(crate) struct Outbound {
    pub(crate) frames: mpsc::Sender<Vec<u8>>,
    /// Bytes queued and not yet written.
    pub(crate) queued: Arc<AtomicUsize>,
    /// The most bytes that may be queued (`Limits::outbound_bytes`).
    pub(crate) budget: usize,
    /// Cancelled to drop the connection (it does not read what it is sent).
    pub(crate) kill: CancellationToken,
}

impl Outbound {
    /// Queues a frame; `false` if the queue is full (by frames or bytes) or closed.
    pub(crate) fn push(&self, payload: Vec<u8>) -> bool {
        let len = payload.len();
        if self.queued.fetch_add(len, Ordering::SeqCst) + len > self.budget {
            self.queued.fetch_sub(len, Ordering::SeqCst);
            return false;
        }
        if self.frames.try_send(payload).is_err() {
            self.queued.fetch_sub(len, Ordering::SeqCst);
            return false;
        }
        true
    }
}

/// What a connection asks the host thread.
#[derive(Debug)]
pub(crate) enum Request {
    /// The connection `conn` claims `phone`.
    Claim { conn: u64, phone: Phone, outbound: Outbound, done: oneshot::Sender<Result<(), CloseReason>> },
    /// A protocol message from `phone`'s connection.
    Message { conn: u64, phone: Phone, bytes: Vec<u8>, done: oneshot::Sender<Result<(), CloseReason>> },
    /// A delivery confirmation from `phone`'s connection.
    Confirm { conn: u64, phone: Phone, done: oneshot::Sender<Result<(), CloseReason>> },
    /// `phone`'s connection ends: forget it and mark the phone offline.
    Closed { conn: u64, phone: Phone, done: oneshot::Sender<()> },
}

/// A claimed address.
struct Claimed {
    conn: u64,
    outbound: Outbound,
    /// Stored deliveries written to this connection and not yet confirmed.
    unconfirmed: usize,
}

/// The host thread's state.
pub(crate) struct Router {
    host: Host,
    otp: Box<dyn OtpDelivery + Send>,
    claims: HashMap<Phone, Claimed>,
    /// Live relays dropped because the recipient's connection was gone or full.
    pub(crate) lost_relays: usize,
}

impl Router {
    pub(crate) fn new(host: Host, otp: Box<dyn OtpDelivery + Send>) -> Self {
        Router { host, otp, claims: HashMap::new(), lost_relays: 0 }
    }

    /// Serves requests until every sender is gone; returns the host (its store closes when
    /// it is dropped).
    pub(crate) fn run(mut self, mut requests: mpsc::Receiver<Request>) -> Self {
        while let Some(request) = requests.blocking_recv() {
            self.handle(request);
        }
        self
    }

    fn handle(&mut self, request: Request) {
        match request {
            Request::Claim { conn, phone, outbound, done } => {
                let result = match self.claims.entry(phone) {
                    std::collections::hash_map::Entry::Occupied(_) => Err(CloseReason::AddressInUse),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(Claimed { conn, outbound, unconfirmed: 0 });
                        Ok(())
                    }
                };
                let _ = done.send(result);
            }
            Request::Message { conn, phone, bytes, done } => {
                let _ = done.send(self.message(conn, &phone, &bytes));
            }
            Request::Confirm { conn, phone, done } => {
                let _ = done.send(self.confirm(conn, &phone));
            }
            Request::Closed { conn, phone, done } => {
                if self.claims.get(&phone).is_some_and(|c| c.conn == conn) {
                    self.claims.remove(&phone);
                    self.host.connection_closed(&phone, now_ms());
                }
                let _ = done.send(());
            }
        }
    }

    fn message(&mut self, conn: u64, phone: &Phone, bytes: &[u8]) -> Result<(), CloseReason> {
        let reply = match self.host.submit(phone, bytes, now_ms()) {
            Ok(reply) => reply,
            Err(error) => {
                tracing::info!(%phone, %error, "undecodable message");
                return Err(CloseReason::Malformed);
            }
        };
        for (to, otp) in &reply.sms {
            self.otp.deliver(to, otp);
        }
        match &reply.verdict {
            Some(Verdict::Rejected(error)) => tracing::info!(%phone, %error, "rejected"),
            Some(Verdict::Unencodable(error)) => tracing::error!(%phone, %error, "reply not encodable"),
            _ => {}
        }
        self.route(reply.sends);
        self.handled(conn, phone)
    }

    fn confirm(&mut self, conn: u64, phone: &Phone) -> Result<(), CloseReason> {
        match self.claims.get_mut(phone) {
            Some(claimed) if claimed.conn == conn && claimed.unconfirmed > 0 => claimed.unconfirmed -= 1,
            Some(claimed) if claimed.conn == conn => return Err(CloseReason::Unexpected),
            _ => return Err(CloseReason::Internal),
        }
        match self.host.confirm(phone, 1) {
            Ok(confirmed) => self.route(confirmed.sends),
            Err(error) => {
                tracing::error!(%phone, %error, "confirmation failed");
                return Err(CloseReason::Internal);
            }
        }
        self.handled(conn, phone)
    }

    /// Queues the `Handled` acknowledgement after everything the step sent the connection.
    fn handled(&mut self, conn: u64, phone: &Phone) -> Result<(), CloseReason> {
        match self.claims.get(phone) {
            Some(claimed) if claimed.conn == conn => {
                if claimed.outbound.push(Frame::Handled.encode()) {
                    Ok(())
                } else {
                    self.drop_connection(phone);
                    Err(CloseReason::Internal)
                }
            }
            // The connection was dropped while the step ran (its queue was full).
            _ => Err(CloseReason::Internal),
        }
    }

    /// Writes each message to its recipient's connection.
    fn route(&mut self, sends: Vec<Outgoing>) {
        for send in sends {
            let Some(claimed) = self.claims.get_mut(&send.to) else {
                // A stored message stays stored (sent again at the next Connect); a live
                // relay to an address with no connection is lost (SPEC.md §14).
                if !send.stored {
                    self.lost_relays += 1;
                    tracing::warn!(to = %send.to, "relay to an address without a connection lost");
                }
                continue;
            };
            let payload = if send.stored { Frame::Stored(send.bytes).encode() } else { send.bytes };
            if claimed.outbound.push(payload) {
                if send.stored {
                    claimed.unconfirmed += 1;
                }
            } else {
                if !send.stored {
                    self.lost_relays += 1;
                }
                tracing::warn!(to = %send.to, "connection does not read what it is sent: dropped");
                self.drop_connection(&send.to.clone());
            }
        }
    }

    /// Drops a connection whose queue is full: it is forgotten and its phone goes offline.
    fn drop_connection(&mut self, phone: &Phone) {
        if let Some(claimed) = self.claims.remove(phone) {
            claimed.outbound.kill.cancel();
            self.host.connection_closed(phone, now_ms());
        }
    }
}
