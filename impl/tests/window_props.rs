//! Property test of the receive side of SPEC.md §7.4 [E5]: a hardened client with an
//! established session is fed sequences of `DataDelivery` messages under sequence numbers
//! anywhere in the 64-bit space — mostly near 0 and near `u64::MAX` — honest, with a broken
//! MAC, or with Alice's valid MAC over a ciphertext that does not decrypt. Every step must
//! return the error a reference window predicts (never panic: the spec crate has overflow
//! checks in every profile), a rejected step must change nothing, and the window's highest
//! accepted number must be the reference's.
//!
//! The stable-Rust counterpart of the `client_deliveries` fuzz target (fuzz/README.md).

// The shared helpers include a test macro this file has no use for.
#[allow(unused_macros, unused_imports)]
mod common;

use std::collections::BTreeSet;

use common::*;
use ee2e::Bytes;
use ee2e_spec::hazmat::DirectionKeys;
use ee2e_spec::limits::REPLAY_WINDOW;
use ee2e_spec::{
    ClientError, ClientEvent, ClientOutput, Direction, Input, Message, Profile, Rejection, Sealed, Suite,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// What is done to the message sealed under a sequence number.
#[derive(Debug, Clone, Copy)]
enum Edit {
    /// Delivered as Alice sealed it.
    Honest,
    /// One MAC bit flipped.
    BadMac,
    /// The ciphertext cut to 15 bytes, with Alice's valid MAC over it.
    Undecryptable,
}

fn seq() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..130u64,
        (u64::MAX - 130)..=u64::MAX,
        Just(u64::MAX),
        Just(u64::MAX - REPLAY_WINDOW),
        Just(u64::MAX - REPLAY_WINDOW + 1),
        any::<u64>(),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![6 => Just(Edit::Honest), 1 => Just(Edit::BadMac), 1 => Just(Edit::Undecryptable)]
}

/// The window of §7.4 as the text states it: the highest accepted number and every number
/// accepted, with no fixed width of bits.
#[derive(Default)]
struct Reference {
    highest: Option<u64>,
    accepted: BTreeSet<u64>,
}

impl Reference {
    fn check(&self, seq: u64) -> Result<(), ClientError> {
        match self.highest {
            Some(h) if seq <= h && h - seq >= REPLAY_WINDOW => {
                Err(ClientError::Rejected(Rejection::MessageTooOld(seq)))
            }
            _ if self.accepted.contains(&seq) => Err(ClientError::Rejected(Rejection::ReplayedMessage(seq))),
            _ => Ok(()),
        }
    }

    fn accept(&mut self, seq: u64) {
        self.accepted.insert(seq);
        self.highest = Some(self.highest.map_or(seq, |h| h.max(seq)));
    }
}

/// Alice's message under `seq`, edited, as the server relays it to Bob.
fn delivery(w: &World, seq: u64, edit: Edit) -> Message<S> {
    let mut session = w.alice.session_with(&phone("bob")).expect("alice's session").clone();
    session.resume_seq(seq);
    let text = Bytes::secret(format!("message {seq}").as_bytes());
    let (mut sealed, _) = session.seal(&phone("alice"), 0, &text, public(&[7; 16])).expect("seal");
    let Sealed::Hardened { session: sid, iv, ciphertext, mac, .. } = &mut sealed else {
        panic!("a hardened body")
    };
    match edit {
        Edit::Honest => {}
        Edit::BadMac => *mac = flip(mac),
        Edit::Undecryptable => {
            *ciphertext = public(&ciphertext.as_slice()[..15]);
            let keys = DirectionKeys::<S>::derive(
                ee2e_spec::hazmat::session_key(&session),
                sid,
                Direction::InitiatorToResponder,
            )
            .expect("keys");
            let (version, alice, bob) =
                (public(&[2]), public(phone("alice").as_bytes()), public(phone("bob").as_bytes()));
            let seq = public(&seq.to_be_bytes());
            *mac = S::hmac(keys.mac(), Input::Tuple(&[&version, sid, &alice, &bob, &seq, iv, ciphertext]));
        }
    }
    Message::DataDelivery { from: phone("alice"), sealed }
}

fn accepted_seq(outputs: &[ClientOutput<S>]) -> Option<u64> {
    outputs.iter().find_map(|o| match o {
        ClientOutput::Event(ClientEvent::MessageAccepted { seq, .. }) => *seq,
        _ => None,
    })
}

#[test]
fn client_window_follows_the_spec_for_any_delivery_sequence() {
    let world = World::with_session(Profile::HARDENED);
    let mut runner = TestRunner::new(Config { cases: 256, ..Config::default() });
    let steps = prop::collection::vec((seq(), edit()), 1..40);
    runner
        .run(&steps, |steps| {
            let mut bob = world.bob.clone();
            let mut reference = Reference::default();
            for (seq, edit) in steps {
                let before = bob.clone();
                let got = bob.handle(delivery(&world, seq, edit), &mut rng(5));
                let expected = match edit {
                    Edit::BadMac => Err(ClientError::Rejected(Rejection::BadMac)),
                    Edit::Undecryptable => {
                        reference.check(seq).and(Err(ClientError::Rejected(Rejection::DecryptFailed)))
                    }
                    Edit::Honest => reference.check(seq),
                };
                match (&got, &expected) {
                    (Ok(outputs), Ok(())) => {
                        prop_assert_eq!(accepted_seq(outputs), Some(seq));
                        reference.accept(seq);
                    }
                    (Err(error), Err(want)) => {
                        prop_assert_eq!(error, want);
                        prop_assert!(bob == before, "a rejected delivery changed the client");
                    }
                    _ => prop_assert!(false, "seq {seq} ({edit:?}): got {got:?}, expected {expected:?}"),
                }
                let window = bob.session_with(&phone("alice")).expect("bob's session").window();
                prop_assert_eq!(window.highest(), reference.highest);
            }
            Ok(())
        })
        .unwrap_or_else(|failure| panic!("{failure}"));
}
