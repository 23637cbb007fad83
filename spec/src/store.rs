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
    /// Stores (replaces) a directory entry.
    fn put_entry(&mut self, entry: &DirectoryEntry<S>) -> Result<(), StoreError>;
    /// Completes a registration: stores `entry` and, if `consume_otp`, removes the pending OTP
    /// of its phone — both or neither. The default runs the two writes in turn; stores that
    /// can fail between them (SQLite) override it with a transaction.
    fn register(&mut self, entry: &DirectoryEntry<S>, consume_otp: bool) -> Result<(), StoreError> {
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
    /// Appends a message to `to`'s offline queue.
    fn enqueue(&mut self, to: &Phone, message: &Message<S>) -> Result<(), StoreError>;
    /// `to`'s offline queue, oldest first, left in place (SPEC.md §9.2: a stored message is
    /// removed only once its delivery is confirmed).
    fn peek_queue(&self, to: &Phone) -> Result<Vec<Message<S>>, StoreError>;
    /// Removes the `count` oldest messages of `to`'s queue (fewer if it is shorter) in one
    /// write; returns how many were removed.
    fn remove_queued(&mut self, to: &Phone, count: usize) -> Result<usize, StoreError>;
    /// Removes and returns `to`'s offline queue, oldest first. The default reads the queue and
    /// removes what it read; stores that can fail between the two override it.
    fn take_queue(&mut self, to: &Phone) -> Result<Vec<Message<S>>, StoreError> {
        let queue = self.peek_queue(to)?;
        self.remove_queued(to, queue.len())?;
        Ok(queue)
    }
    /// Length of `to`'s offline queue.
    fn queue_len(&self, to: &Phone) -> Result<usize, StoreError>;
}

/// An in-memory store; hashable so that it can be part of a model state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemoryStore<S: Suite> {
    otps: BTreeMap<Phone, PendingOtp<S>>,
    otp_requests: BTreeMap<Phone, Vec<u64>>,
    directory: BTreeMap<Phone, DirectoryEntry<S>>,
    queues: BTreeMap<Phone, VecDeque<Message<S>>>,
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
    fn enqueue(&mut self, to: &Phone, message: &Message<S>) -> Result<(), StoreError> {
        self.queues.entry(to.clone()).or_default().push_back(message.clone());
        Ok(())
    }
    fn peek_queue(&self, to: &Phone) -> Result<Vec<Message<S>>, StoreError> {
        Ok(self.queues.get(to).map(|q| q.iter().cloned().collect()).unwrap_or_default())
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
        Ok(self.queues.remove(to).map(Vec::from).unwrap_or_default())
    }
    fn queue_len(&self, to: &Phone) -> Result<usize, StoreError> {
        Ok(self.queues.get(to).map_or(0, VecDeque::len))
    }
}
