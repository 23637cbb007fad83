//! SPEC.md §9.2, stored delivery in batches: the bytes a `Connect` makes the server hold do
//! not grow with the queue. The server runs over the SQLite store wrapped in a store that
//! counts the bytes of every read of stored messages; the test plays the transport
//! (confirming each stored message after "handling" it) and compares 50 and 500 queued
//! messages of 16 KiB. No timing: bytes and messages are counted.

mod common;

use std::cell::Cell;

use common::*;
use ee2e::sqlite::SqliteStore;
use ee2e_fixtures as fixtures;
use ee2e_spec::{
    Delivery, DirectoryEntry, Message, OtpCutoff, Params, PendingOtp, Phone, Profile, QueueUsage, Server,
    ServerOutput, Store, StoreError,
};

/// The SQLite store, counting the largest number of stored-message bytes one read returned.
struct CountingStore {
    inner: SqliteStore,
    largest_read: Cell<usize>,
}

impl CountingStore {
    fn saw(&self, messages: &[Message<S>]) {
        let bytes = messages.iter().map(Message::stored_size).sum();
        self.largest_read.set(self.largest_read.get().max(bytes));
    }
}

impl Store<S> for CountingStore {
    fn pending_otp(&self, phone: &Phone) -> Result<Option<PendingOtp<S>>, StoreError> {
        self.inner.pending_otp(phone)
    }
    fn put_pending_otp(&mut self, phone: &Phone, pending: &PendingOtp<S>) -> Result<(), StoreError> {
        self.inner.put_pending_otp(phone, pending)
    }
    fn remove_pending_otp(&mut self, phone: &Phone) -> Result<(), StoreError> {
        self.inner.remove_pending_otp(phone)
    }
    fn entry(&self, phone: &Phone) -> Result<Option<DirectoryEntry<S>>, StoreError> {
        self.inner.entry(phone)
    }
    fn put_entry(&mut self, entry: &DirectoryEntry<S>) -> Result<(), StoreError> {
        self.inner.put_entry(entry)
    }
    fn otp_requests(&self, phone: &Phone) -> Result<Vec<u64>, StoreError> {
        self.inner.otp_requests(phone)
    }
    fn put_otp_requests(&mut self, phone: &Phone, times: &[u64]) -> Result<(), StoreError> {
        self.inner.put_otp_requests(phone, times)
    }
    fn enqueue(
        &mut self,
        to: &Phone,
        from: &Phone,
        size: usize,
        message: &Message<S>,
    ) -> Result<(), StoreError> {
        self.inner.enqueue(to, from, size, message)
    }
    fn queue_usage(&self, to: &Phone, from: &Phone) -> Result<QueueUsage, StoreError> {
        self.inner.queue_usage(to, from)
    }
    fn peek_batch(
        &self,
        to: &Phone,
        max_messages: usize,
        max_bytes: usize,
    ) -> Result<Vec<Message<S>>, StoreError> {
        let batch = self.inner.peek_batch(to, max_messages, max_bytes)?;
        self.saw(&batch);
        Ok(batch)
    }
    fn remove_queued(&mut self, to: &Phone, count: usize) -> Result<usize, StoreError> {
        self.inner.remove_queued(to, count)
    }
    fn take_queue(&mut self, to: &Phone) -> Result<Vec<Message<S>>, StoreError> {
        let queue = self.inner.take_queue(to)?;
        self.saw(&queue);
        Ok(queue)
    }
    fn queue_len(&self, to: &Phone) -> Result<usize, StoreError> {
        self.inner.queue_len(to)
    }
    fn otp_phones(&self) -> Result<usize, StoreError> {
        self.inner.otp_phones()
    }
    fn sweep_otps(&mut self, cutoff: OtpCutoff, max: usize) -> Result<usize, StoreError> {
        self.inner.sweep_otps(cutoff, max)
    }
}

/// What one drain of a queue of `queued` messages cost.
#[derive(Debug, PartialEq, Eq)]
struct Peak {
    /// The most stored-message bytes one store read returned.
    largest_read: usize,
    /// The most stored-message bytes sent and not yet confirmed at once.
    largest_outstanding: usize,
    /// The most stored messages sent and not yet confirmed at once.
    most_outstanding: usize,
}

/// Queues `queued` messages of 16 KiB for offline Bob, connects him, confirms each stored
/// message in turn; checks every message arrived once, in order; returns the peaks.
fn drain(profile: Profile, queued: usize) -> Peak {
    let mut w = World::registered(profile);
    let delivery = w.key_delivery();
    w.bob_handles(delivery).expect("session");
    let (alice, bob) = (phone("alice"), phone("bob"));
    // Room for the test's queue under one sender; the batch bounds are the defaults.
    let params = Params {
        max_queued: 1000,
        max_queued_per_sender: 1000,
        max_queued_bytes_per_sender: 64 << 20,
        ..params()
    };
    let mut store = CountingStore {
        inner: SqliteStore::in_memory(profile.wire()).expect("store"),
        largest_read: Cell::new(0),
    };
    for name in ["alice", "bob"] {
        store.put_entry(&w.entry(name)).expect("entry");
    }
    let mut server =
        Server::new(profile, params, fixtures::server_key(), store).with_delivery(Delivery::Confirmed);
    let mut expected = Vec::new();
    for i in 0..queued {
        let data = w.data_from_alice(&vec![(i % 251) as u8; 16 << 10]);
        if let Message::Data { sealed, .. } = &data {
            expected.push(Message::DataDelivery { from: alice.clone(), sealed: sealed.clone() });
        }
        server.handle(&alice, data, NOW, &mut rng(1)).expect("stored");
    }
    let stored = |outputs: Vec<ServerOutput<S>>| -> Vec<Message<S>> {
        outputs
            .into_iter()
            .filter_map(|o| match o {
                ServerOutput::Send { message, stored: true, .. } => Some(message),
                _ => None,
            })
            .collect()
    };
    let mut outstanding: std::collections::VecDeque<Message<S>> = stored(
        server.handle(&bob, Message::Connect { phone: bob.clone() }, NOW, &mut rng(1)).expect("connect"),
    )
    .into();
    let (mut largest_outstanding, mut most_outstanding, mut received) = (0, 0, Vec::new());
    while let Some(message) = outstanding.pop_front() {
        let bytes: usize =
            outstanding.iter().map(Message::stored_size).sum::<usize>() + message.stored_size();
        largest_outstanding = largest_outstanding.max(bytes);
        most_outstanding = most_outstanding.max(outstanding.len() + 1);
        received.push(message);
        let confirmation = server.confirm_delivery(&bob, 1).expect("confirmed");
        assert_eq!(confirmation.removed, 1);
        outstanding.extend(stored(confirmation.outputs));
    }
    assert_eq!(received, expected, "every stored message once, in order");
    assert_eq!(server.store().queue_len(&bob), Ok(0));
    Peak { largest_read: server.store().largest_read.get(), largest_outstanding, most_outstanding }
}

fn peak_memory_of_stored_delivery_does_not_grow_with_the_queue(profile: Profile) {
    let small = drain(profile, 50);
    let large = drain(profile, 500);
    assert_eq!(small, large, "the same peak for 50 and 500 queued messages");
    let batch = ee2e_spec::limits::DELIVERY_BATCH_MESSAGES;
    assert_eq!(large.most_outstanding, batch, "one batch at a time");
    assert!(large.largest_read <= ee2e_spec::limits::DELIVERY_BATCH_BYTES, "{large:?}");
    // 32 messages of a little over 16 KiB each: a read is one batch, not the queue (8 MiB).
    assert!(large.largest_read > batch * (16 << 10) && large.largest_read < batch * (17 << 10), "{large:?}");
    assert_eq!(large.largest_read, large.largest_outstanding);
}

in_both_profiles!(peak_memory_of_stored_delivery_does_not_grow_with_the_queue);
