//! The server state machine (SPEC.md §5–§8, server side): registration, directory, relay
//! and offline storage.
//!
//! Sans-IO: [`Server::handle`] takes the sender's address, the message, the time and a random
//! source, and returns messages to send, SMS to deliver and events. Checks come before any
//! change, so a rejected message leaves the state as it was — except that a wrong
//! registration proof counts a failed attempt (that is its purpose) and an expired or voided
//! OTP is deleted.

use std::collections::{BTreeMap, BTreeSet};

use crate::derive::sign_entry;
use crate::error::{QueueBound, ServerError};
use crate::message::{Message, MessageType, RegistrationProof};
use crate::phone::Phone;
use crate::profile::{Fix, Params, Profile, Wire};
use crate::store::{OtpCutoff, PendingOtp, Store};
use crate::suite::{Fresh, Suite};

/// What the server reports (the runtime logs it; the model records it).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerEvent {
    /// An OTP was issued for the phone.
    OtpIssued(Phone),
    /// The phone's key was stored in the directory.
    Registered(Phone),
    /// A directory entry was served to `from` (seed 2.3).
    KeyServed {
        /// Who asked.
        from: Phone,
        /// Whose entry.
        peer: Phone,
    },
    /// A message was forwarded to an online recipient.
    Relayed {
        /// Sender.
        from: Phone,
        /// Recipient.
        to: Phone,
        /// What was relayed.
        kind: MessageType,
    },
    /// A message was stored for an offline recipient.
    Stored {
        /// Sender.
        from: Phone,
        /// Recipient.
        to: Phone,
        /// What was stored.
        kind: MessageType,
    },
    /// The phone came online and `delivered` stored messages — the first batch of its
    /// queue (SPEC.md §9.2) — were sent to it.
    Online {
        /// The phone.
        phone: Phone,
        /// How many stored messages were delivered.
        delivered: usize,
    },
    /// The last message of a batch was confirmed and the next batch of `delivered` stored
    /// messages was sent (`Delivery::Confirmed`, SPEC.md §9.2).
    NextBatch {
        /// The recipient.
        phone: Phone,
        /// How many stored messages were sent.
        delivered: usize,
    },
    /// The next batch could not be read; it stays stored and goes out at the next `Connect`.
    BatchFailed {
        /// The recipient.
        phone: Phone,
        /// Why.
        error: ServerError,
    },
    /// The phone went offline.
    Offline(Phone),
    /// A message was rejected; an error reply was sent.
    Rejected {
        /// Sender.
        from: Phone,
        /// Why.
        error: ServerError,
    },
}

/// One output of a server step.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ServerOutput<S: Suite> {
    /// Send `message` to the client `to`.
    Send {
        /// Recipient.
        to: Phone,
        /// The message.
        message: Message<S>,
        /// Whether it comes from `to`'s offline queue (stored delivery at `Connect`, SPEC.md
        /// §9.2) rather than being a reply or a relay. Under [`Delivery::Confirmed`] the
        /// transport confirms each stored message it hands over.
        stored: bool,
    },
    /// Deliver `otp` to `phone` by SMS (seed 1.2; out of band).
    Sms {
        /// The phone.
        phone: Phone,
        /// The OTP (secret).
        otp: S::Value,
    },
    /// Report this.
    Event(ServerEvent),
}

/// When the server removes a stored message from the offline queue (SPEC.md §9.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Delivery {
    /// At `Connect`: the queue is taken from the store as it is sent. A crash between the
    /// take and the client's reading loses what was taken (at-most-once). For a server without
    /// durable state, where nothing survives a crash anyway: the model checker's.
    #[default]
    OnConnect,
    /// When the recipient's transport confirms receipt ([`Server::confirm_delivery`]): a
    /// message stays stored, and is sent again at the next `Connect`, until then
    /// (at-least-once; the hardened client discards the copies). For a server with a durable
    /// store: the reference runtime and `ee2e serve-queue`.
    Confirmed,
}

/// The server: its signing key, its store and who is online.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Server<S: Suite, St> {
    profile: Profile,
    params: Params,
    key: S::PrivateKey,
    store: St,
    online: BTreeSet<Phone>,
    delivery: Delivery,
    /// Under [`Delivery::Confirmed`]: per recipient, the stored messages of the current batch
    /// sent and not yet confirmed.
    in_flight: BTreeMap<Phone, usize>,
}

/// What a delivery confirmation did ([`Server::confirm_delivery`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Confirmation<S: Suite> {
    /// How many stored messages were removed.
    pub removed: usize,
    /// The next batch (stored sends and a [`ServerEvent::NextBatch`]) when the confirmation
    /// completed the batch in flight, or a [`ServerEvent::BatchFailed`]; empty otherwise.
    pub outputs: Vec<ServerOutput<S>>,
}

type Outputs<S> = Result<Vec<ServerOutput<S>>, ServerError>;

impl<S: Suite, St: Store<S>> Server<S, St> {
    /// A server with signing key `key` over `store`. Nobody is online at start.
    pub fn new(profile: Profile, params: Params, key: S::PrivateKey, store: St) -> Self {
        Server {
            profile,
            params,
            key,
            store,
            online: BTreeSet::new(),
            delivery: Delivery::default(),
            in_flight: BTreeMap::new(),
        }
    }

    /// The same server removing stored messages as `delivery` says (default
    /// [`Delivery::OnConnect`]).
    pub fn with_delivery(mut self, delivery: Delivery) -> Self {
        self.delivery = delivery;
        self
    }

    /// When stored messages are removed.
    pub fn delivery(&self) -> Delivery {
        self.delivery
    }

    /// The recipient's transport confirms that `phone` received (and its client handled) the
    /// `count` oldest messages sent to it from its offline queue (SPEC.md §9.2). Under
    /// [`Delivery::Confirmed`] they are removed from the store in one write, and when that
    /// completes the batch in flight to an online `phone`, the next batch is sent (in the
    /// returned outputs). Under [`Delivery::OnConnect`] they were removed at `Connect`
    /// already: nothing happens.
    ///
    /// The confirmation is a transport acknowledgement, not a protocol message: the
    /// transport calls this once per stored message it handed over (never again for the same
    /// one, since a repeated confirmation would remove the next message unseen). A failed
    /// removal changes nothing.
    pub fn confirm_delivery(&mut self, phone: &Phone, count: usize) -> Result<Confirmation<S>, ServerError> {
        if self.delivery == Delivery::OnConnect {
            return Ok(Confirmation { removed: 0, outputs: Vec::new() });
        }
        let removed = self.store.remove_queued(phone, count)?;
        let Some(left) = self.in_flight.get_mut(phone) else {
            return Ok(Confirmation { removed, outputs: Vec::new() });
        };
        *left = left.saturating_sub(count);
        if *left > 0 {
            return Ok(Confirmation { removed, outputs: Vec::new() });
        }
        self.in_flight.remove(phone);
        if !self.online.contains(phone) {
            return Ok(Confirmation { removed, outputs: Vec::new() });
        }
        let outputs = match self.send_batch(phone) {
            Ok((mut sends, 0)) => {
                sends.clear();
                sends
            }
            Ok((mut sends, delivered)) => {
                sends.push(ServerOutput::Event(ServerEvent::NextBatch { phone: phone.clone(), delivered }));
                sends
            }
            // The removal stands; what is left stays stored for the next `Connect`.
            Err(error) => vec![ServerOutput::Event(ServerEvent::BatchFailed { phone: phone.clone(), error })],
        };
        Ok(Confirmation { removed, outputs })
    }

    /// Reads the next batch of `phone`'s queue (SPEC.md §9.2) and records it as in flight;
    /// returns its sends and their number.
    fn send_batch(&mut self, phone: &Phone) -> Result<(Vec<ServerOutput<S>>, usize), ServerError> {
        let batch = self.store.peek_batch(phone, self.params.batch_messages, self.params.batch_bytes)?;
        let delivered = batch.len();
        if delivered > 0 {
            self.in_flight.insert(phone.clone(), delivered);
        } else {
            self.in_flight.remove(phone);
        }
        let sends = batch
            .into_iter()
            .map(|message| ServerOutput::Send { to: phone.clone(), message, stored: true })
            .collect();
        Ok((sends, delivered))
    }

    /// Removes expired OTP rows (SPEC.md §5.1): at most `otp_sweep_batch` of each OTP table,
    /// oldest first. Bounded work, for the runtime to call between steps; returns how many
    /// rows were removed.
    pub fn sweep(&mut self, now: u64) -> Result<usize, ServerError> {
        let cutoff = OtpCutoff::at(now, self.params.otp_ttl_ms, self.params.otp_request_window_ms);
        Ok(self.store.sweep_otps(cutoff, self.params.otp_sweep_batch)?)
    }

    /// The server's public key (what clients pin).
    pub fn public_key(&self) -> S::Value {
        S::public_key(&self.key)
    }
    /// The profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }
    /// The store.
    pub fn store(&self) -> &St {
        &self.store
    }

    /// The store, for a transport that brackets several steps' writes in one transaction
    /// (group commit). Writing to it directly bypasses every check of the server.
    pub fn store_mut(&mut self) -> &mut St {
        &mut self.store
    }
    /// Who is online.
    pub fn online(&self) -> &BTreeSet<Phone> {
        &self.online
    }

    /// Handles `message` from the client at address `from`; on a failed check, returns the
    /// error reply to `from` and a [`ServerEvent::Rejected`] instead of failing.
    pub fn step(
        &mut self,
        from: &Phone,
        message: Message<S>,
        now: u64,
        rng: &mut S::Rng,
    ) -> Vec<ServerOutput<S>> {
        self.handle(from, message, now, rng).unwrap_or_else(|error| {
            vec![
                ServerOutput::Send {
                    to: from.clone(),
                    message: Message::Error { code: error.code() },
                    stored: false,
                },
                ServerOutput::Event(ServerEvent::Rejected { from: from.clone(), error }),
            ]
        })
    }

    /// Handles `message` from the client at address `from` at time `now` (milliseconds).
    pub fn handle(&mut self, from: &Phone, message: Message<S>, now: u64, rng: &mut S::Rng) -> Outputs<S> {
        match message {
            Message::RegisterRequest { phone } => self.on_register_request(phone, now, rng),
            Message::RegisterSubmit { phone, public_key, proof } => {
                self.on_register_submit(phone, public_key, proof, now, rng)
            }
            Message::KeyRequest { peer } => {
                self.require_registered(from)?;
                let entry = self.store.entry(&peer)?.ok_or_else(|| ServerError::UnknownPeer(peer.clone()))?;
                Ok(vec![
                    ServerOutput::Send {
                        to: from.clone(),
                        message: Message::PeerKey { entry },
                        stored: false,
                    },
                    ServerOutput::Event(ServerEvent::KeyServed { from: from.clone(), peer }),
                ])
            }
            Message::KeyTransport { to, transport } => {
                let entry =
                    self.store.entry(from)?.ok_or_else(|| ServerError::NotRegistered(from.clone()))?;
                self.require_peer(&to)?;
                self.route(from, to, Message::KeyDelivery { from: entry, transport })
            }
            Message::Data { to, sealed } => {
                let hardened = matches!(sealed, crate::message::Sealed::Hardened { .. });
                self.require_wire(hardened)?;
                self.require_registered(from)?;
                self.require_peer(&to)?;
                self.route(from, to, Message::DataDelivery { from: from.clone(), sealed })
            }
            Message::Ack { to, ack } => {
                let hardened = matches!(ack, crate::message::Ack::Hardened { .. });
                self.require_wire(hardened)?;
                self.require_registered(from)?;
                self.require_peer(&to)?;
                self.route(from, to, Message::AckDelivery { from: from.clone(), ack })
            }
            Message::Connect { phone } => {
                Self::require_own_address(from, &phone)?;
                self.require_registered(&phone)?;
                // Confirmed: the first batch, sent again from the oldest unconfirmed message.
                let (mut out, delivered) = match self.delivery {
                    Delivery::OnConnect => {
                        let queued = self.store.take_queue(&phone)?;
                        let delivered = queued.len();
                        let sends = queued
                            .into_iter()
                            .map(|message| ServerOutput::Send { to: phone.clone(), message, stored: true })
                            .collect();
                        (sends, delivered)
                    }
                    Delivery::Confirmed => self.send_batch(&phone)?,
                };
                self.online.insert(phone.clone());
                out.push(ServerOutput::Event(ServerEvent::Online { phone, delivered }));
                Ok(out)
            }
            Message::Disconnect { phone } => {
                Self::require_own_address(from, &phone)?;
                self.online.remove(&phone);
                // What was sent and not confirmed stays stored for the next `Connect`.
                self.in_flight.remove(&phone);
                Ok(vec![ServerOutput::Event(ServerEvent::Offline(phone))])
            }
            other => Err(ServerError::UnexpectedMessage(other.kind())),
        }
    }

    /// A client announces presence only for the address it speaks from.
    fn require_own_address(from: &Phone, phone: &Phone) -> Result<(), ServerError> {
        if from == phone { Ok(()) } else { Err(ServerError::SenderMismatch(phone.clone())) }
    }

    fn require_wire(&self, hardened_layout: bool) -> Result<(), ServerError> {
        if hardened_layout == (self.profile.wire() == Wire::Hardened) {
            Ok(())
        } else {
            Err(ServerError::WrongProfile)
        }
    }

    fn require_registered(&self, phone: &Phone) -> Result<(), ServerError> {
        if self.store.is_registered(phone)? { Ok(()) } else { Err(ServerError::NotRegistered(phone.clone())) }
    }

    fn require_peer(&self, peer: &Phone) -> Result<(), ServerError> {
        // "Available" (seed 2.2) means registered: offline peers get their messages stored.
        if self.store.is_registered(peer)? { Ok(()) } else { Err(ServerError::UnknownPeer(peer.clone())) }
    }

    /// Seed 3.2: forwards to an online recipient, stores for an offline one.
    fn route(&mut self, from: &Phone, to: Phone, message: Message<S>) -> Outputs<S> {
        let kind = message.kind();
        if self.online.contains(&to) {
            Ok(vec![
                ServerOutput::Send { to: to.clone(), message, stored: false },
                ServerOutput::Event(ServerEvent::Relayed { from: from.clone(), to, kind }),
            ])
        } else {
            // Bounded queues (SPEC.md §9.2 checks 1–4): the sender is told, nothing is stored.
            let size = message.stored_size();
            let usage = self.store.queue_usage(&to, from)?;
            let p = &self.params;
            let bound = if usage.messages >= p.max_queued {
                Some(QueueBound::Messages)
            } else if usage.bytes.saturating_add(size) > p.max_queued_bytes {
                Some(QueueBound::Bytes)
            } else if usage.sender_messages >= p.max_queued_per_sender {
                Some(QueueBound::SenderMessages)
            } else if usage.sender_bytes.saturating_add(size) > p.max_queued_bytes_per_sender {
                Some(QueueBound::SenderBytes)
            } else {
                None
            };
            if let Some(bound) = bound {
                return Err(ServerError::QueueFull { to, bound });
            }
            self.store.enqueue(&to, from, size, &message)?;
            Ok(vec![ServerOutput::Event(ServerEvent::Stored { from: from.clone(), to, kind })])
        }
    }

    /// Seed 1.1–1.2: issues a fresh OTP (replacing any pending one) and sends it by SMS; (E8)
    /// at most `max_otp_requests` per phone in any `otp_request_window_ms`; at most
    /// `max_otp_phones` phones with OTP rows (SPEC.md §5.1).
    fn on_register_request(&mut self, phone: Phone, now: u64, rng: &mut S::Rng) -> Outputs<S> {
        let limits = self.profile.has(Fix::OtpLimits);
        let times = if limits { self.store.otp_requests(&phone)? } else { Vec::new() };
        let has_rows = !times.is_empty();
        let recent = if limits {
            let window = self.params.otp_request_window_ms;
            let mut recent = times;
            recent.retain(|at| now.saturating_sub(*at) < window);
            if recent.len() >= self.params.max_otp_requests as usize {
                return Err(ServerError::RateLimited(phone));
            }
            recent.push(now);
            Some(recent)
        } else {
            None
        };
        // 2. room in the OTP tables for a phone that holds no rows yet; when they are full,
        // expired rows are swept first (bounded), so only live rows can refuse a phone.
        if !has_rows && self.store.pending_otp(&phone)?.is_none() && self.otp_tables_full()? {
            self.sweep(now)?;
            if self.otp_tables_full()? {
                return Err(ServerError::OtpTableFull(phone));
            }
        }
        let otp = S::random(rng, Fresh::Otp);
        self.store.put_pending_otp(&phone, &PendingOtp { otp: otp.clone(), issued_at: now, attempts: 0 })?;
        if let Some(recent) = recent {
            self.store.put_otp_requests(&phone, &recent)?;
        }
        Ok(vec![
            ServerOutput::Sms { phone: phone.clone(), otp },
            ServerOutput::Event(ServerEvent::OtpIssued(phone)),
        ])
    }

    /// Seed 1.6, server side; checks in SPEC.md §5.3 order.
    fn on_register_submit(
        &mut self,
        phone: Phone,
        public_key: S::Value,
        proof: RegistrationProof<S>,
        now: u64,
        rng: &mut S::Rng,
    ) -> Outputs<S> {
        let limits = self.profile.has(Fix::OtpLimits);
        // 1. layout of the profile
        self.require_wire(matches!(proof, RegistrationProof::Hardened { .. }))?;
        // 2. the key parses and has an accepted size
        S::check_public_key(&public_key).map_err(|_| ServerError::InvalidPublicKey)?;
        // 3. an OTP is pending
        let mut pending = self
            .store
            .pending_otp(&phone)?
            .ok_or_else(|| ServerError::NoPendingRegistration(phone.clone()))?;
        // 4. it has not expired (an expired OTP is removed)
        if now.saturating_sub(pending.issued_at) > self.params.otp_ttl_ms {
            self.store.remove_pending_otp(&phone)?;
            return Err(ServerError::OtpExpired(phone));
        }
        // 5. it has attempts left
        if limits && pending.attempts >= self.params.max_otp_attempts {
            self.store.remove_pending_otp(&phone)?;
            return Err(ServerError::TooManyAttempts(phone));
        }
        // 6.–8. the proof; a wrong tag, sealed or not, counts an attempt
        if let Err(error) = proof.verify(
            self.profile,
            self.params.pbkdf2_iterations,
            &self.key,
            &pending.otp,
            &phone,
            &public_key,
            rng,
        ) {
            if error.counts_attempt() {
                self.count_failure(&phone, &mut pending, limits)?;
            }
            return Err(error);
        }
        // Sign once, at registration; key lookups serve the stored signature.
        let entry = sign_entry::<S>(self.profile, &self.key, &phone, &public_key, rng)
            .map_err(ServerError::Crypto)?;
        // Entry and OTP consumption are one store transaction: a failure leaves neither.
        self.store.commit_registration(&entry, limits)?;
        Ok(vec![
            ServerOutput::Send {
                to: phone.clone(),
                message: Message::RegisterResult { entry },
                stored: false,
            },
            ServerOutput::Event(ServerEvent::Registered(phone)),
        ])
    }

    fn otp_tables_full(&self) -> Result<bool, ServerError> {
        Ok(self.store.otp_phones()? >= self.params.max_otp_phones)
    }

    fn count_failure(
        &mut self,
        phone: &Phone,
        pending: &mut PendingOtp<S>,
        limits: bool,
    ) -> Result<(), ServerError> {
        if limits {
            pending.attempts += 1;
            self.store.put_pending_otp(phone, pending)?;
        }
        Ok(())
    }
}
