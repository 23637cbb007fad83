//! Decoded bytes fed to the protocol core: a server (both profiles, with alice and bob
//! registered and bob offline) and a registered client must answer any message that decodes
//! with outputs or an error, never a panic (SPEC.md §9.3: bad input changes nothing but what
//! the checks say).
#![no_main]

use std::sync::OnceLock;

use ee2e::codec::decode_any;
use ee2e_fixtures as fixtures;
use ee2e::runtime::Runtime;
use ee2e::suite::seeded_rng;
use ee2e::{ConcreteSuite, Rng};
use ee2e_spec::{Client, MemoryStore, Message, Params, Profile, Server, Store, Wire};
use libfuzzer_sys::fuzz_target;

type S = ConcreteSuite;

struct World {
    server: Server<S, MemoryStore<S>>,
    client: Client<S>,
}

/// A registered world per profile, built once through the runtime (PBKDF2 at 1 iteration).
fn world(profile: Profile) -> World {
    let params = Params { pbkdf2_iterations: 1, ..Params::default() };
    let mut rt = Runtime::builder(profile, fixtures::server_key()).params(params).seed([7; 32]).build().expect("runtime");
    let (alice, bob) = (fixtures::phone("alice"), fixtures::phone("bob"));
    rt.register(&alice, fixtures::named("alice").expect("key")).expect("alice registers");
    rt.register(&bob, fixtures::named("bob").expect("key")).expect("bob registers");
    rt.start_session(&alice, &bob).expect("session");
    let mut store = MemoryStore::default();
    for phone in [&alice, &bob] {
        store.put_entry(&rt.store().entry(phone).expect("store").expect("entry")).expect("put");
    }
    let server = Server::new(profile, params, fixtures::server_key(), store);
    World { server, client: rt.client(&alice).expect("alice").clone() }
}

fn worlds() -> &'static [World; 2] {
    static WORLDS: OnceLock<[World; 2]> = OnceLock::new();
    WORLDS.get_or_init(|| [world(Profile::SEED), world(Profile::HARDENED)])
}

fn rng() -> Rng {
    seeded_rng([1; 32])
}

fuzz_target!(|data: &[u8]| {
    let Ok((wire, message)) = decode_any(data) else { return };
    let world = &worlds()[usize::from(wire == Wire::Hardened)];
    let from = match &message {
        Message::Connect { phone } | Message::Disconnect { phone } => phone.clone(),
        _ => fixtures::phone("alice"),
    };
    let mut server = world.server.clone();
    let _ = server.step(&from, message.clone(), 1_000, &mut rng());
    let mut client = world.client.clone();
    let _ = client.handle(message, &mut rng());
});
