//! A hardened client with an established session (bob, alice initiated it) fed a sequence of
//! `DataDelivery` messages derived from the input: each 9-byte chunk picks an edit and a
//! sequence number, and alice's real session seals a message under that number (what a peer
//! holding the session's MAC key can send). Besides "no panic" — run it without `-O`, or with
//! `-a`, so that an arithmetic overflow panics — it asserts the replay window of SPEC.md §7.4:
//! a rejected message changes nothing, no number is accepted twice, and the highest accepted
//! number never decreases.
#![no_main]

use std::collections::BTreeSet;
use std::sync::OnceLock;

use ee2e::codec::{decode, encode};
use ee2e_fixtures as fixtures;
use ee2e::runtime::Runtime;
use ee2e::suite::seeded_rng;
use ee2e::{Bytes, ConcreteSuite, Rng};
use ee2e_spec::Session;
use ee2e_spec::{Client, ClientEvent, ClientOutput, Message, Params, Profile, Sealed, Wire};
use libfuzzer_sys::fuzz_target;

type S = ConcreteSuite;

struct World {
    bob: Client<S>,
    alice_session: Session<S>,
}

/// Alice and bob registered with a session between them, built once through the runtime
/// (PBKDF2 at 1 iteration).
fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let params = Params { pbkdf2_iterations: 1, ..Params::default() };
        let mut rt = Runtime::builder(Profile::HARDENED, fixtures::server_key()).params(params).seed([7; 32]).build().expect("runtime");
        let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
        rt.register(&alice, fixtures::named("alice").expect("key")).expect("alice registers");
        rt.register(&bob, fixtures::named("bob").expect("key")).expect("bob registers");
        rt.start_session(&alice, &bob).expect("session");
        let alice_session = rt.client(&alice).expect("alice").session_with(&bob).expect("session").clone();
        World { bob: rt.client(&bob).expect("bob").clone(), alice_session }
    })
}

fn rng() -> Rng {
    seeded_rng([1; 32])
}

/// Alice's message under `seq`, changed by `edit`: 0 honest, 1 a flipped MAC bit, 2 a flipped
/// ciphertext bit, 3 the encoded bytes with one byte (chosen by `seq`) flipped.
fn delivery(world: &World, edit: u8, seq: u64) -> Option<Message<S>> {
    let mut session = world.alice_session.clone();
    session.resume_seq(seq);
    let text = Bytes::secret(seq.to_be_bytes().to_vec());
    let (mut sealed, _) =
        session.seal(&fixtures::phone("alice"), 0, &text, Bytes::public([9; 16])).ok()?;
    if let Sealed::Hardened { mac, ciphertext, .. } = &mut sealed {
        let flip = |value: &Bytes| {
            let mut bytes = value.as_slice().to_vec();
            if let Some(b) = bytes.first_mut() {
                *b ^= 1;
            }
            Bytes::public(bytes)
        };
        match edit % 4 {
            1 => *mac = flip(mac),
            2 => *ciphertext = flip(ciphertext),
            _ => {}
        }
    }
    let message = Message::DataDelivery { from: fixtures::phone("alice"), sealed };
    if edit % 4 != 3 {
        return Some(message);
    }
    let mut bytes = encode(Wire::Hardened, &message).ok()?;
    let at = (seq % bytes.len() as u64) as usize;
    bytes[at] ^= 0x80;
    decode(Wire::Hardened, &bytes).ok()
}

fuzz_target!(|data: &[u8]| {
    let world = world();
    let mut bob = world.bob.clone();
    let alice = fixtures::phone("alice");
    let mut accepted = BTreeSet::new();
    let mut highest: Option<u64> = None;
    for chunk in data.chunks_exact(9) {
        let seq = u64::from_be_bytes(chunk[1..].try_into().expect("8 bytes"));
        let Some(message) = delivery(world, chunk[0], seq) else { continue };
        let before = bob.clone();
        match bob.handle(message, &mut rng()) {
            Ok(outputs) => {
                let seq = outputs.iter().find_map(|o| match o {
                    ClientOutput::Event(ClientEvent::MessageAccepted { seq, .. }) => *seq,
                    _ => None,
                });
                let seq = seq.expect("an accepted hardened message has a sequence number");
                assert!(accepted.insert(seq), "sequence number {seq} accepted twice");
                highest = Some(highest.map_or(seq, |h: u64| h.max(seq)));
            }
            Err(_) => assert!(bob == before, "a rejected message changed the client"),
        }
        let window = bob.session_with(&alice).expect("bob's session").window();
        assert_eq!(window.highest(), highest, "the window's highest number");
    }
});
