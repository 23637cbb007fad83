//! Shared setup of the check-by-check tests (`checks_server.rs`, `checks_client.rs`): the
//! protocol core driven directly (no runtime), fixture keys only, deterministic randomness,
//! and honest runs whose messages the tests clone and tamper with.
//!
//! Each test crate uses a subset of these helpers.
#![allow(dead_code)]

use ee2e::suite::seeded_rng;
use ee2e::{Bytes, ConcreteSuite, PrivateKey, Rng};
use ee2e_fixtures as fixtures;
use ee2e_spec::{
    Ack, Client, ClientError, ClientOutput, DirectoryEntry, MemoryStore, Message, Params, Phone, Profile,
    RegistrationProof, Sealed, Server, ServerOutput, Store, Transport,
};

/// The suite under test.
pub type S = ConcreteSuite;
/// A server over the in-memory store.
pub type TestServer = Server<S, MemoryStore<S>>;
/// A client of the concrete suite.
pub type TestClient = Client<S>;

/// The time (server clock, ms) at which every test OTP is issued and every message handled.
pub const NOW: u64 = 1_700_000_000_000;
/// `OTP_TTL` of SPEC.md §3.
pub const OTP_TTL_MS: u64 = 300_000;
/// PBKDF2 iterations of the fast tests (one test uses the default 600 000).
pub const FAST_PBKDF2_ITERATIONS: u32 = 1_000;

/// Runs each named `fn name(profile: Profile)` as two tests, `seed::name` and `hardened::name`:
/// the checks that exist in both profiles.
macro_rules! in_both_profiles {
    ($($name:ident),* $(,)?) => {
        mod seed {
            $( #[test] fn $name() { super::$name(ee2e_spec::Profile::SEED) } )*
        }
        mod hardened {
            $( #[test] fn $name() { super::$name(ee2e_spec::Profile::HARDENED) } )*
        }
    };
}
pub(crate) use in_both_profiles;

/// The fast parameters: default OTP lifetime and attempt limit, 1 000 PBKDF2 iterations.
pub fn params() -> Params {
    Params { pbkdf2_iterations: FAST_PBKDF2_ITERATIONS, ..Params::default() }
}

/// A deterministic random source.
pub fn rng(seed: u8) -> Rng {
    seeded_rng([seed; 32])
}

/// The test phone of `name` (`alice`, `bob`, `carol`, `eve`).
pub fn phone(name: &str) -> Phone {
    fixtures::phone(name)
}

/// The fixture key `name`.
pub fn key(name: &str) -> PrivateKey {
    fixtures::named(name).unwrap_or_else(|| panic!("no fixture key {name}"))
}

/// The public key (SubjectPublicKeyInfo DER) of the fixture key `name`.
pub fn public_key(name: &str) -> Bytes {
    key(name).public_key_der().clone()
}

/// The pinned server key.
pub fn server_public() -> Bytes {
    fixtures::server_key().public_key_der().clone()
}

/// A server with the fixture key over `store`.
pub fn server_with<St: Store<S>>(profile: Profile, store: St) -> Server<S, St> {
    Server::new(profile, params(), fixtures::server_key(), store)
}

/// A server with the fixture key and an empty in-memory store.
pub fn new_server(profile: Profile) -> TestServer {
    server_with(profile, MemoryStore::default())
}

/// The unregistered client `name` with its fixture key and phone, pinning the server key.
pub fn new_client(profile: Profile, name: &str) -> TestClient {
    Client::new(profile, params(), phone(name), key(name), server_public())
}

/// The public bytes `bytes`.
pub fn public(bytes: &[u8]) -> Bytes {
    Bytes::public(bytes)
}

/// `value` with its last byte flipped.
pub fn flip(value: &Bytes) -> Bytes {
    let mut bytes = value.as_slice().to_vec();
    *bytes.last_mut().expect("a non-empty value to flip") ^= 0x01;
    Bytes::public(bytes)
}

/// `value` without its last byte.
pub fn truncate(value: &Bytes) -> Bytes {
    let bytes = value.as_slice();
    Bytes::public(&bytes[..bytes.len() - 1])
}

/// A clone of `message` changed by `edit`.
pub fn tampered(message: &Message<S>, edit: impl FnOnce(&mut Message<S>)) -> Message<S> {
    let mut copy = message.clone();
    edit(&mut copy);
    copy
}

/// The messages a client step sends, in order.
pub fn sent(outputs: &[ClientOutput<S>]) -> Vec<Message<S>> {
    outputs
        .iter()
        .filter_map(|o| match o {
            ClientOutput::Send(message) => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// The one message a client step sends.
pub fn only_sent(outputs: &[ClientOutput<S>]) -> Message<S> {
    let mut messages = sent(outputs);
    assert_eq!(messages.len(), 1, "expected one message sent, got {outputs:?}");
    messages.remove(0)
}

/// The messages a server step sends, with their recipients.
pub fn server_sent(outputs: &[ServerOutput<S>]) -> Vec<(Phone, Message<S>)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            ServerOutput::Send { to, message, .. } => Some((to.clone(), message.clone())),
            _ => None,
        })
        .collect()
}

/// The OTP a server step texts.
pub fn sms(outputs: &[ServerOutput<S>]) -> Bytes {
    outputs
        .iter()
        .find_map(|o| match o {
            ServerOutput::Sms { otp, .. } => Some(otp.clone()),
            _ => None,
        })
        .expect("an SMS with the OTP")
}

/// The registration result a successful `RegisterSubmit` step sends to `phone`.
pub fn register_result(outputs: &[ServerOutput<S>], phone: &Phone) -> Message<S> {
    match server_sent(outputs).as_slice() {
        [(to, message @ Message::RegisterResult { .. })] if to == phone => message.clone(),
        other => panic!("expected a RegisterResult to {phone}, got {other:?}"),
    }
}

/// A wrong OTP: the right one with its last digit changed.
pub fn wrong_otp(otp: &Bytes) -> Bytes {
    let mut digits = otp.as_slice().to_vec();
    let last = digits.last_mut().expect("6 digits");
    *last = if *last == b'9' { b'0' } else { *last + 1 };
    Bytes::secret(digits)
}

// ---- field access on messages ----

/// The directory entry of a `RegisterResult`, `PeerKey` or (the sender's) `KeyDelivery`.
pub fn entry_mut(message: &mut Message<S>) -> &mut DirectoryEntry<S> {
    match message {
        Message::RegisterResult { entry } | Message::PeerKey { entry } => entry,
        Message::KeyDelivery { from, .. } => from,
        other => panic!("no directory entry in {:?}", other.kind()),
    }
}

/// The proof of a `RegisterSubmit`.
pub fn proof_mut(message: &mut Message<S>) -> &mut RegistrationProof<S> {
    match message {
        Message::RegisterSubmit { proof, .. } => proof,
        other => panic!("no registration proof in {:?}", other.kind()),
    }
}

/// The public key of a `RegisterSubmit`.
pub fn submitted_key_mut(message: &mut Message<S>) -> &mut Bytes {
    match message {
        Message::RegisterSubmit { public_key, .. } => public_key,
        other => panic!("no submitted key in {:?}", other.kind()),
    }
}

/// The transport of a `KeyTransport` or `KeyDelivery`.
pub fn transport_mut(message: &mut Message<S>) -> &mut Transport<S> {
    match message {
        Message::KeyTransport { transport, .. } | Message::KeyDelivery { transport, .. } => transport,
        other => panic!("no transport in {:?}", other.kind()),
    }
}

/// The sealed body of a `Data` or `DataDelivery`.
pub fn sealed_mut(message: &mut Message<S>) -> &mut Sealed<S> {
    match message {
        Message::Data { sealed, .. } | Message::DataDelivery { sealed, .. } => sealed,
        other => panic!("no sealed body in {:?}", other.kind()),
    }
}

/// The ACK body of an `Ack` or `AckDelivery`.
pub fn ack_mut(message: &mut Message<S>) -> &mut Ack<S> {
    match message {
        Message::Ack { ack, .. } | Message::AckDelivery { ack, .. } => ack,
        other => panic!("no ACK body in {:?}", other.kind()),
    }
}

/// The relayed sender (`from`) of a `DataDelivery` or `AckDelivery`.
pub fn relayed_from_mut(message: &mut Message<S>) -> &mut Phone {
    match message {
        Message::DataDelivery { from, .. } | Message::AckDelivery { from, .. } => from,
        other => panic!("no relayed sender in {:?}", other.kind()),
    }
}

/// The recipient (`to`) of a client-to-server relay message.
pub fn recipient_mut(message: &mut Message<S>) -> &mut Phone {
    match message {
        Message::KeyTransport { to, .. } | Message::Data { to, .. } | Message::Ack { to, .. } => to,
        other => panic!("no recipient in {:?}", other.kind()),
    }
}

/// The MAC of a sealed body.
pub fn mac_mut(sealed: &mut Sealed<S>) -> &mut Bytes {
    match sealed {
        Sealed::Seed { mac, .. } | Sealed::Hardened { mac, .. } => mac,
    }
}

/// The AES ciphertext of a sealed body.
pub fn ciphertext_mut(sealed: &mut Sealed<S>) -> &mut Bytes {
    match sealed {
        Sealed::Seed { ciphertext, .. } | Sealed::Hardened { ciphertext, .. } => ciphertext,
    }
}

/// The MAC of an ACK body.
pub fn ack_mac_mut(ack: &mut Ack<S>) -> &mut Bytes {
    match ack {
        Ack::Seed { mac, .. } | Ack::Hardened { mac, .. } => mac,
    }
}

/// The same registration proof in the other wire version's layout (a v1 tag becomes a v2 sealed
/// tag with an empty possession proof, a v2 sealed tag becomes a v1 tag).
pub fn other_layout_proof(proof: &RegistrationProof<S>) -> RegistrationProof<S> {
    match proof {
        RegistrationProof::Seed { tag } => {
            RegistrationProof::Hardened { sealed_tag: tag.clone(), possession: public(b"") }
        }
        RegistrationProof::Hardened { sealed_tag, .. } => RegistrationProof::Seed { tag: sealed_tag.clone() },
    }
}

/// The same sealed message in the other wire version's layout.
pub fn other_layout_sealed(sealed: &Sealed<S>) -> Sealed<S> {
    match sealed {
        Sealed::Seed { iv, ciphertext, mac } => Sealed::Hardened {
            session: public(&[0; 32]),
            seq: 0,
            iv: iv.clone(),
            ciphertext: ciphertext.clone(),
            mac: mac.clone(),
        },
        Sealed::Hardened { iv, ciphertext, mac, .. } => {
            Sealed::Seed { iv: iv.clone(), ciphertext: ciphertext.clone(), mac: mac.clone() }
        }
    }
}

/// The same ACK in the other wire version's layout.
pub fn other_layout_ack(ack: &Ack<S>) -> Ack<S> {
    match ack {
        Ack::Seed { mac, .. } => {
            Ack::Hardened { session: public(&[0; 32]), seq: 0, tag: public(&[0; 32]), mac: mac.clone() }
        }
        Ack::Hardened { mac, .. } => Ack::Seed { text: public(b"ACK"), mac: mac.clone() },
    }
}

// ---- honest runs ----

/// Registers `client` with `server` at [`NOW`] (request, OTP, submission, result) and connects it.
pub fn register<St: Store<S>>(
    server: &mut Server<S, St>,
    mut client: TestClient,
    rng: &mut Rng,
) -> TestClient {
    let phone = client.phone().clone();
    let request = only_sent(&client.register());
    let otp = sms(&server.handle(&phone, request, NOW, rng).expect("request accepted"));
    let submit = only_sent(&client.otp_received(&otp, rng).expect("otp"));
    let outputs = server.handle(&phone, submit, NOW, rng).expect("submission accepted");
    client.handle(register_result(&outputs, &phone), rng).expect("result accepted");
    let connect = only_sent(&client.connect().expect("connect"));
    server.handle(&phone, connect, NOW, rng).expect("connect accepted");
    client
}

/// A registration under way: the server holds an OTP for the client issued at [`NOW`], the
/// client has sent its honest submission (`honest`) and awaits the result.
pub struct Registering<St = MemoryStore<S>> {
    /// The server.
    pub server: Server<S, St>,
    /// The registering client (`AwaitingResult`).
    pub client: TestClient,
    /// The OTP the server texted.
    pub otp: Bytes,
    /// The client's honest `RegisterSubmit`, not yet handled.
    pub honest: Message<S>,
    /// Randomness for the rest of the test.
    pub rng: Rng,
}

impl Registering {
    /// `name` registering with a fresh server.
    pub fn new(profile: Profile, name: &str) -> Self {
        Self::with_server(new_server(profile), new_client(profile, name))
    }
}

impl<St: Store<S>> Registering<St> {
    /// `client` registering with `server`.
    pub fn with_server(mut server: Server<S, St>, mut client: TestClient) -> Self {
        let mut rng = rng(1);
        let phone = client.phone().clone();
        let request = only_sent(&client.register());
        let otp = sms(&server.handle(&phone, request, NOW, &mut rng).expect("request accepted"));
        let submit = only_sent(&client.otp_received(&otp, &mut rng).expect("otp"));
        Registering { server, client, otp, honest: submit, rng }
    }

    /// The phone being registered.
    pub fn phone(&self) -> Phone {
        self.client.phone().clone()
    }

    /// The submission a client of the same profile, key and phone makes after typing `otp`.
    pub fn submission_with(&self, otp: &Bytes) -> Message<S> {
        let mut client = Client::new(
            self.client.profile(),
            params(),
            self.phone(),
            key_of(&self.phone()),
            server_public(),
        );
        client.register();
        only_sent(&client.otp_received(otp, &mut rng(2)).expect("otp"))
    }

    /// The submission with a wrong OTP.
    pub fn wrong_submission(&self) -> Message<S> {
        self.submission_with(&wrong_otp(&self.otp))
    }

    /// Hands `message` to the server at `now`.
    pub fn submit(
        &mut self,
        message: Message<S>,
        now: u64,
    ) -> Result<Vec<ServerOutput<S>>, ee2e_spec::ServerError> {
        let phone = self.phone();
        self.server.handle(&phone, message, now, &mut self.rng)
    }
}

/// The fixture key of a named test phone.
pub fn key_of(phone: &Phone) -> PrivateKey {
    let name = ["alice", "bob", "carol", "eve"]
        .into_iter()
        .find(|n| fixtures::phone(n) == *phone)
        .unwrap_or_else(|| panic!("no fixture party with phone {phone}"));
    key(name)
}

/// Alice and Bob, registered and online, and the server between them.
pub struct World<St = MemoryStore<S>> {
    /// The profile of every party.
    pub profile: Profile,
    /// The server.
    pub server: Server<S, St>,
    /// Alice, the initiator of sessions.
    pub alice: TestClient,
    /// Bob.
    pub bob: TestClient,
    /// Randomness for the rest of the test.
    pub rng: Rng,
}

impl World {
    /// Alice and Bob registered and online.
    pub fn registered(profile: Profile) -> Self {
        World::with_store(profile, MemoryStore::default())
    }

    /// Alice and Bob registered and online, with a session from Alice to Bob that both hold.
    pub fn with_session(profile: Profile) -> Self {
        let mut world = World::registered(profile);
        let delivery = world.key_delivery();
        world.bob_handles(delivery).expect("bob accepts the honest key delivery");
        world
    }
}

impl<St: Store<S>> World<St> {
    /// Alice and Bob registered and online with a server over `store`.
    pub fn with_store(profile: Profile, store: St) -> Self {
        let mut rng = rng(3);
        let mut server = server_with(profile, store);
        let alice = register(&mut server, new_client(profile, "alice"), &mut rng);
        let bob = register(&mut server, new_client(profile, "bob"), &mut rng);
        World { profile, server, alice, bob, rng }
    }

    /// Registers and connects another party (`eve`, `carol`).
    pub fn register(&mut self, name: &str) -> TestClient {
        register(&mut self.server, new_client(self.profile, name), &mut self.rng)
    }

    /// The server's stored directory entry of `name`.
    pub fn entry(&self, name: &str) -> DirectoryEntry<S> {
        self.server.store().entry(&phone(name)).expect("store").expect("registered")
    }

    /// Hands `message` from `from` to the server, which must accept it and send exactly one
    /// message (a reply or a relayed message); returns that message.
    pub fn relay(&mut self, from: &Phone, message: Message<S>) -> Message<S> {
        let outputs = self.server.handle(from, message, NOW, &mut self.rng).expect("server accepts");
        match server_sent(&outputs).as_slice() {
            [(_, message)] => message.clone(),
            other => panic!("expected one message from the server, got {other:?}"),
        }
    }

    /// Alice asks for `peer`'s key, receives it and sends the key transport; returns the
    /// `PeerKey` she accepted and the `KeyDelivery` the server relays to `peer`.
    pub fn start_session(&mut self, peer: &Phone) -> (Message<S>, Message<S>) {
        let alice = self.alice.phone().clone();
        let request = only_sent(&self.alice.start_session(peer).expect("start session"));
        let peer_key = self.relay(&alice, request);
        let outputs = self.alice.handle(peer_key.clone(), &mut self.rng).expect("alice accepts the peer key");
        let transport = only_sent(&outputs);
        (peer_key, self.relay(&alice, transport))
    }

    /// Alice starts a session with Bob; returns the `KeyDelivery` for Bob, not yet handled.
    pub fn key_delivery(&mut self) -> Message<S> {
        let bob = self.bob.phone().clone();
        self.start_session(&bob).1
    }

    /// Alice seals `text` for Bob; returns her `Data` message, not yet relayed.
    pub fn data_from_alice(&mut self, text: &[u8]) -> Message<S> {
        let bob = self.bob.phone().clone();
        let outputs = self.alice.send(&bob, &Bytes::secret(text), &mut self.rng).expect("alice sends");
        only_sent(&outputs)
    }

    /// Alice seals `text` for Bob and the server relays it; returns the `DataDelivery` for
    /// Bob, not yet handled.
    pub fn data(&mut self, text: &[u8]) -> Message<S> {
        let data = self.data_from_alice(text);
        let alice = self.alice.phone().clone();
        self.relay(&alice, data)
    }

    /// Bob accepts `delivery`; returns his `Ack` message, not yet relayed.
    pub fn ack_from_bob(&mut self, delivery: Message<S>) -> Message<S> {
        only_sent(&self.bob_handles(delivery).expect("bob accepts the message"))
    }

    /// Bob accepts `delivery` and the server relays his ACK; returns the `AckDelivery` for
    /// Alice, not yet handled.
    pub fn ack(&mut self, delivery: Message<S>) -> Message<S> {
        let ack = self.ack_from_bob(delivery);
        let bob = self.bob.phone().clone();
        self.relay(&bob, ack)
    }

    /// Bob handles `message`.
    pub fn bob_handles(&mut self, message: Message<S>) -> Result<Vec<ClientOutput<S>>, ClientError> {
        self.bob.handle(message, &mut self.rng)
    }

    /// Alice handles `message`.
    pub fn alice_handles(&mut self, message: Message<S>) -> Result<Vec<ClientOutput<S>>, ClientError> {
        self.alice.handle(message, &mut self.rng)
    }
}

// ---- coverage of the error enums ----

/// The variant names of `pub enum <name>` in `source` (the text of `spec/src/error.rs`).
pub fn enum_variants(source: &str, name: &str) -> Vec<String> {
    let header = format!("pub enum {name} {{");
    let start = source.find(&header).unwrap_or_else(|| panic!("no `{header}` in error.rs")) + header.len();
    let body = &source[start..];
    let body = &body[..body.find("\n}").expect("end of the enum")];
    body.lines()
        .map(str::trim)
        .filter(|line| line.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|line| line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or(line))
        .map(str::to_owned)
        .collect()
}

/// Asserts that `coverage` maps every variant of the enums `enum_names` (as parsed from
/// `error_rs`; a name in several of them counts once), and nothing else, to at least one test,
/// and that every test it names is defined in `tests_source` (a `seed::x` or `hardened::x`
/// test is the generic `fn x(profile)`).
pub fn assert_every_variant_has_a_test(
    error_rs: &str,
    enum_names: &[&str],
    coverage: &[(&str, &[&str])],
    tests_source: &str,
) {
    let enum_name = enum_names.join("/");
    let mut variants: Vec<String> =
        enum_names.iter().flat_map(|name| enum_variants(error_rs, name)).collect();
    variants.sort();
    variants.dedup();
    assert!(variants.len() >= 10, "parsed too few variants of {enum_name}: {variants:?}");
    for variant in &variants {
        let tests = coverage
            .iter()
            .find(|(v, _)| v == variant)
            .unwrap_or_else(|| panic!("{enum_name}::{variant} has no test in the coverage list"))
            .1;
        assert!(!tests.is_empty(), "{enum_name}::{variant} lists no test");
    }
    for (variant, tests) in coverage {
        assert!(variants.iter().any(|v| v == variant), "{enum_name}::{variant} is not a variant any more");
        for test in *tests {
            let name = test.trim_start_matches("seed::").trim_start_matches("hardened::");
            assert!(
                tests_source.contains(&format!("fn {name}(")),
                "test {test} (for {variant}) is not defined"
            );
        }
    }
}
