//! The server's tables behind a small trait: pending OTPs, the directory, offline queues.
//!
//! The model keeps them in its state ([`MemoryStore`]); the implementation in SQLite.

use std::collections::{BTreeMap, VecDeque};

use crate::error::StoreError;
use crate::message::{DirectoryEntry, Message};
use crate::phone::Phone;
use crate::suite::Suite;

/// An OTP issued and not yet used up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PendingOtp<S: Suite> {
    /// The OTP (secret).
    pub otp: S::Value,
    /// When it was issued, in milliseconds of the caller's clock.
    pub issued_at: u64,
    /// Failed attempts so far.
    pub attempts: u32,
}

/// What an offline queue holds: messages and their bytes ([`Message::stored_size`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct QueueUsage {
    /// Messages in the whole queue.
    pub messages: usize,
    /// Their bytes.
    pub bytes: usize,
    /// Messages from the one sender asked about.
    pub sender_messages: usize,
    /// Their bytes.
    pub sender_bytes: usize,
}

/// The times before which OTP rows have expired (SPEC.md §5.1): a pending OTP issued at
/// `t < otp_issued_before`, a request time `t < request_before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OtpCutoff {
    /// Pending OTPs issued before this time have expired (`now − t > OTP_TTL`).
    pub otp_issued_before: u64,
    /// Request times before this one are outside the request window (`now − t ≥ window`).
    pub request_before: u64,
}

impl OtpCutoff {
    /// The cutoffs at time `now` for an OTP lifetime `ttl` and a request window `window`.
    pub fn at(now: u64, ttl: u64, window: u64) -> Self {
        OtpCutoff {
            otp_issued_before: now.saturating_sub(ttl),
            request_before: now.saturating_add(1).saturating_sub(window),
        }
    }
}

/// A stored message with what the queue bounds account for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Queued<S: Suite> {
    from: Phone,
    size: usize,
    message: Message<S>,
}

/// The server's persistent tables.
pub trait Store<S: Suite> {
    /// The pending OTP for `phone`.
    fn pending_otp(&self, phone: &Phone) -> Result<Option<PendingOtp<S>>, StoreError>;
    /// Sets (replaces) the pending OTP for `phone`.
    fn put_pending_otp(&mut self, phone: &Phone, pending: &PendingOtp<S>) -> Result<(), StoreError>;
    /// Removes the pending OTP for `phone`, if any.
    fn remove_pending_otp(&mut self, phone: &Phone) -> Result<(), StoreError>;
    /// The directory entry of `phone`.
    fn entry(&self, phone: &Phone) -> Result<Option<DirectoryEntry<S>>, StoreError>;
    /// Whether `phone` has a directory entry: what the server checks of both ends of every
    /// relayed message. The default reads the entry; stores that can answer without building
    /// it override it.
    fn is_registered(&self, phone: &Phone) -> Result<bool, StoreError> {
        Ok(self.entry(phone)?.is_some())
    }
    /// Stores (replaces) a directory entry.
    fn put_entry(&mut self, entry: &DirectoryEntry<S>) -> Result<(), StoreError>;
    /// Completes a registration: stores `entry` and, if `consume_otp`, removes the pending OTP
    /// of its phone — both or neither. The default runs the two writes in turn; stores that
    /// can fail between them (SQLite) override it with a transaction.
    fn commit_registration(
        &mut self,
        entry: &DirectoryEntry<S>,
        consume_otp: bool,
    ) -> Result<(), StoreError> {
        if consume_otp {
            self.remove_pending_otp(&entry.phone)?;
        }
        self.put_entry(entry)
    }
    /// The times (milliseconds) of the OTP requests recorded for `phone`, oldest first
    /// (SPEC.md §5.1, the E8 request limit).
    fn otp_requests(&self, phone: &Phone) -> Result<Vec<u64>, StoreError>;
    /// Replaces the OTP request times recorded for `phone` (empty: forget the phone).
    fn put_otp_requests(&mut self, phone: &Phone, times: &[u64]) -> Result<(), StoreError>;
    /// Appends `message`, relayed from `from` and accounting for `size` bytes
    /// ([`Message::stored_size`]), to `to`'s offline queue.
    fn enqueue(
        &mut self,
        to: &Phone,
        from: &Phone,
        size: usize,
        message: &Message<S>,
    ) -> Result<(), StoreError>;
    /// What `to`'s offline queue holds: in all, and from `from` alone (SPEC.md §9.2 bounds).
    fn queue_usage(&self, to: &Phone, from: &Phone) -> Result<QueueUsage, StoreError>;
    /// The oldest messages of `to`'s queue, left in place: as many as fit in `max_messages`
    /// messages and `max_bytes` bytes, but at least one if the queue is not empty (SPEC.md
    /// §9.2, stored delivery in batches). Reads only what it returns.
    fn peek_batch(
        &self,
        to: &Phone,
        max_messages: usize,
        max_bytes: usize,
    ) -> Result<Vec<Message<S>>, StoreError>;
    /// Removes the `count` oldest messages of `to`'s queue (fewer if it is shorter) in one
    /// write; returns how many were removed.
    fn remove_queued(&mut self, to: &Phone, count: usize) -> Result<usize, StoreError>;
    /// Removes and returns `to`'s whole offline queue, oldest first (`Delivery::OnConnect`,
    /// for stores that hold the queue in memory anyway).
    fn take_queue(&mut self, to: &Phone) -> Result<Vec<Message<S>>, StoreError>;
    /// Length of `to`'s offline queue.
    fn queue_len(&self, to: &Phone) -> Result<usize, StoreError>;
    /// How many phones hold rows in the OTP tables: a pending OTP, request times or both
    /// (SPEC.md §5.1, `MAX_OTP_PHONES`), expired rows not yet swept included.
    fn otp_phones(&self) -> Result<usize, StoreError>;
    /// Removes expired OTP rows, oldest first: up to `max` pending OTPs issued before
    /// `cutoff.otp_issued_before` and up to `max` request times before
    /// `cutoff.request_before` (SPEC.md §5.1, sweeping). Returns how many rows it removed.
    fn sweep_otps(&mut self, cutoff: OtpCutoff, max: usize) -> Result<usize, StoreError>;
}

/// An in-memory store; hashable so that it can be part of a model state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemoryStore<S: Suite> {
    otps: BTreeMap<Phone, PendingOtp<S>>,
    otp_requests: BTreeMap<Phone, Vec<u64>>,
    directory: BTreeMap<Phone, DirectoryEntry<S>>,
    queues: BTreeMap<Phone, VecDeque<Queued<S>>>,
}

impl<S: Suite> Default for MemoryStore<S> {
    fn default() -> Self {
        MemoryStore {
            otps: BTreeMap::new(),
            otp_requests: BTreeMap::new(),
            directory: BTreeMap::new(),
            queues: BTreeMap::new(),
        }
    }
}

impl<S: Suite> MemoryStore<S> {
    /// `to`'s offline queue, oldest first (inspection in tests and tools).
    pub fn queue(&self, to: &Phone) -> Vec<Message<S>> {
        self.queues.get(to).into_iter().flatten().map(|queued| queued.message.clone()).collect()
    }

    /// Every directory entry.
    pub fn directory(&self) -> impl Iterator<Item = &DirectoryEntry<S>> {
        self.directory.values()
    }
}

impl<S: Suite> Store<S> for MemoryStore<S> {
    fn pending_otp(&self, phone: &Phone) -> Result<Option<PendingOtp<S>>, StoreError> {
        Ok(self.otps.get(phone).cloned())
    }
    fn put_pending_otp(&mut self, phone: &Phone, pending: &PendingOtp<S>) -> Result<(), StoreError> {
        self.otps.insert(phone.clone(), pending.clone());
        Ok(())
    }
    fn remove_pending_otp(&mut self, phone: &Phone) -> Result<(), StoreError> {
        self.otps.remove(phone);
        Ok(())
    }
    fn entry(&self, phone: &Phone) -> Result<Option<DirectoryEntry<S>>, StoreError> {
        Ok(self.directory.get(phone).cloned())
    }
    fn put_entry(&mut self, entry: &DirectoryEntry<S>) -> Result<(), StoreError> {
        self.directory.insert(entry.phone.clone(), entry.clone());
        Ok(())
    }
    fn otp_requests(&self, phone: &Phone) -> Result<Vec<u64>, StoreError> {
        Ok(self.otp_requests.get(phone).cloned().unwrap_or_default())
    }
    fn put_otp_requests(&mut self, phone: &Phone, times: &[u64]) -> Result<(), StoreError> {
        if times.is_empty() {
            self.otp_requests.remove(phone);
        } else {
            self.otp_requests.insert(phone.clone(), times.to_vec());
        }
        Ok(())
    }
    fn enqueue(
        &mut self,
        to: &Phone,
        from: &Phone,
        size: usize,
        message: &Message<S>,
    ) -> Result<(), StoreError> {
        let queued = Queued { from: from.clone(), size, message: message.clone() };
        self.queues.entry(to.clone()).or_default().push_back(queued);
        Ok(())
    }
    fn queue_usage(&self, to: &Phone, from: &Phone) -> Result<QueueUsage, StoreError> {
        let mut usage = QueueUsage::default();
        for queued in self.queues.get(to).into_iter().flatten() {
            usage.messages += 1;
            usage.bytes += queued.size;
            if &queued.from == from {
                usage.sender_messages += 1;
                usage.sender_bytes += queued.size;
            }
        }
        Ok(usage)
    }
    fn peek_batch(
        &self,
        to: &Phone,
        max_messages: usize,
        max_bytes: usize,
    ) -> Result<Vec<Message<S>>, StoreError> {
        let mut batch = Vec::new();
        let mut bytes = 0usize;
        for queued in self.queues.get(to).into_iter().flatten().take(max_messages.max(1)) {
            bytes = bytes.saturating_add(queued.size);
            if !batch.is_empty() && bytes > max_bytes {
                break;
            }
            batch.push(queued.message.clone());
        }
        Ok(batch)
    }
    fn remove_queued(&mut self, to: &Phone, count: usize) -> Result<usize, StoreError> {
        let Some(queue) = self.queues.get_mut(to) else { return Ok(0) };
        let removed = count.min(queue.len());
        queue.drain(..removed);
        if queue.is_empty() {
            self.queues.remove(to);
        }
        Ok(removed)
    }
    fn take_queue(&mut self, to: &Phone) -> Result<Vec<Message<S>>, StoreError> {
        Ok(self.queues.remove(to).into_iter().flatten().map(|queued| queued.message).collect())
    }
    fn queue_len(&self, to: &Phone) -> Result<usize, StoreError> {
        Ok(self.queues.get(to).map_or(0, VecDeque::len))
    }
    fn otp_phones(&self) -> Result<usize, StoreError> {
        let with_requests = self.otp_requests.keys().filter(|p| !self.otps.contains_key(*p)).count();
        Ok(self.otps.len() + with_requests)
    }
    fn sweep_otps(&mut self, cutoff: OtpCutoff, max: usize) -> Result<usize, StoreError> {
        let mut expired: Vec<(u64, Phone)> = self
            .otps
            .iter()
            .filter(|(_, p)| p.issued_at < cutoff.otp_issued_before)
            .map(|(phone, p)| (p.issued_at, phone.clone()))
            .collect();
        expired.sort();
        expired.truncate(max);
        let mut removed = expired.len();
        for (_, phone) in expired {
            self.otps.remove(&phone);
        }
        let mut times: Vec<(u64, Phone)> = self
            .otp_requests
            .iter()
            .flat_map(|(phone, times)| {
                times.iter().filter(|t| **t < cutoff.request_before).map(move |t| (*t, phone.clone()))
            })
            .collect();
        times.sort();
        times.truncate(max);
        removed += times.len();
        for (at, phone) in times {
            if let Some(list) = self.otp_requests.get_mut(&phone) {
                if let Some(i) = list.iter().position(|t| *t == at) {
                    list.remove(i);
                }
                if list.is_empty() {
                    self.otp_requests.remove(&phone);
                }
            }
        }
        Ok(removed)
    }
}
