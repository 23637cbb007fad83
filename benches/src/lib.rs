//! # ee2e-benches — what the EE2E benchmarks time
//!
//! The criterion benchmarks in `benches/` (`cargo bench`), the `ee2e bench compare` command and
//! the `ee2e load` command all time the operations defined here, so that the three agree on what
//! "seal 1 KiB" or "key transport send" means:
//!
//! - [`SessionPair`]: the two ends of an established session, driving the spec's own
//!   [`Session::seal`], [`Session::open`], [`Session::ack`] and [`Session::verify_ack`];
//! - [`TransportFixture`]: key transport, sender side (RSA-OAEP encrypt + sign) and recipient
//!   side (verify + decrypt), the spec's own [`KeyTransport::seal`] and [`KeyTransport::open`]
//!   that the client state machine calls;
//! - [`DirectoryFixture`]: the server's directory signature and a client's check of it, and a
//!   server answering key lookups (`DirectoryFixture::lookup`);
//! - [`RegistrationFixture`]: registration through the real state machines,
//!   [`Client::otp_received`] on the client and [`Server::handle`] on the server;
//! - [`raw`]: the bare primitives (AES-256-CBC, HMAC-SHA-256, SHA-256) as `openssl speed`
//!   measures them, for the comparison;
//! - [`timing`]: the in-process timing loop of `ee2e bench compare` and `ee2e load`;
//! - [`compare`]: `ee2e bench compare` and `ee2e bench results`, our operations against
//!   OpenSSL's and the report `benches/RESULTS.md`;
//! - [`load`]: the in-process load harness of `ee2e load` and `ee2e bench results`, with its
//!   no-loss check.
//!
//! Fixture keys come from `ee2e-fixtures` (test keys, never generated here).
#![deny(missing_docs)]

pub mod compare;
pub mod load;
pub mod raw;
pub mod timing;

use ee2e::suite::{Rng, seeded_rng};
use ee2e::{Bytes, ConcreteSuite, PrivateKey};
use ee2e_fixtures as fixtures;
use ee2e_spec::hazmat::{sign_entry, verify_entry};
use ee2e_spec::{
    Ack, Client, ClientError, ClientOutput, CryptoError, DirectoryEntry, Fix, Fresh, KeyTransport,
    MemoryStore, Message, Mode, Params, PendingOtp, Phone, Profile, Sealed, Server, ServerOutput, Session,
    Store, Suite, Transport,
};
use ee2e_spec::{Opened, Role};

/// The suite every fixture uses.
pub type S = ConcreteSuite;

/// The message sizes of the seal/open benchmarks: label and bytes.
pub const SIZES: [(&str, usize); 3] = [("64B", 64), ("1KiB", 1024), ("64KiB", 65536)];

/// The two profiles, by name.
pub const PROFILES: [(&str, Profile); 2] = [("seed", Profile::SEED), ("hardened", Profile::HARDENED)];

/// The RSA modulus sizes benchmarked.
pub const RSA_BITS: [usize; 2] = [2048, 3072];

/// Why a fixture could not be set up or an operation failed (a bug, never expected).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// A fixture key is missing.
    #[error("no fixture key {0}")]
    NoKey(String),
    /// An RSA size other than 2048 or 3072 was asked for.
    #[error("no fixture keys of {0} bits")]
    UnsupportedBits(usize),
    /// The client state machine refused.
    #[error("client: {0}")]
    Client(#[from] ClientError),
    /// A crypto operation failed.
    #[error("crypto: {0}")]
    Crypto(#[from] CryptoError),
    /// The server did not answer as expected.
    #[error("server: {0}")]
    Server(String),
}

impl From<ee2e_spec::CallError> for FixtureError {
    fn from(e: ee2e_spec::CallError) -> Self {
        FixtureError::Client(e.into())
    }
}

impl From<ee2e_spec::Rejection> for FixtureError {
    fn from(e: ee2e_spec::Rejection) -> Self {
        FixtureError::Client(e.into())
    }
}

/// The phone number of the sending side of every fixture.
pub fn alice_phone() -> Phone {
    fixtures::phone("alice")
}

/// The phone number of the receiving side of every fixture.
pub fn bob_phone() -> Phone {
    fixtures::phone("bob")
}

/// `len` bytes of secret plaintext (a repeating pattern).
pub fn plaintext(len: usize) -> Bytes {
    Bytes::secret((0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>())
}

/// Two RSA keys of `bits` bits: (sender, recipient).
pub fn key_pair(bits: usize) -> Result<(PrivateKey, PrivateKey), FixtureError> {
    let named = |name: &str| fixtures::named(name).ok_or_else(|| FixtureError::NoKey(name.into()));
    match bits {
        2048 => Ok((named("alice")?, named("bob")?)),
        // The only two 3072-bit fixture keys; the server key plays the recipient.
        3072 => Ok((named("alice-3072")?, fixtures::server_key_3072())),
        _ => Err(FixtureError::UnsupportedBits(bits)),
    }
}

/// The server key of `bits` bits.
pub fn server_key(bits: usize) -> Result<PrivateKey, FixtureError> {
    match bits {
        2048 => Ok(fixtures::server_key()),
        3072 => Ok(fixtures::server_key_3072()),
        _ => Err(FixtureError::UnsupportedBits(bits)),
    }
}

/// The two ends of one established session (alice the initiator, bob the responder) under a
/// fixed session key, as the key transport would have left them.
#[derive(Debug, Clone)]
pub struct SessionPair {
    /// The profile.
    pub profile: Profile,
    /// The sender's phone.
    pub alice: Phone,
    /// The recipient's phone.
    pub bob: Phone,
    /// The sender's session (initiator).
    pub sender: Session<S>,
    /// The recipient's session (responder).
    pub receiver: Session<S>,
    /// The sender's random source (IVs).
    pub rng: Rng,
    next_id: u64,
}

impl SessionPair {
    /// A session pair for `profile`: a fixed 32-byte key and, on the hardened wire, the id of a
    /// fixed 256-byte transport ciphertext.
    pub fn new(profile: Profile) -> Result<Self, FixtureError> {
        let key = Bytes::secret(vec![0x4b; 32]);
        let mode = Mode::of_transport(profile, &Bytes::public(vec![0x5a; 256]));
        let (alice, bob) = (alice_phone(), bob_phone());
        let sender = Session::new(mode.clone(), bob.clone(), Role::Initiator, key.clone())?;
        let receiver = Session::new(mode, alice.clone(), Role::Responder, key)?;
        Ok(SessionPair { profile, alice, bob, sender, receiver, rng: seeded_rng([3; 32]), next_id: 0 })
    }

    /// What a sender does per message: draws a fresh IV and runs [`Session::seal`].
    pub fn seal(&mut self, plaintext: &Bytes) -> Result<Sealed<S>, FixtureError> {
        let iv = S::random(&mut self.rng, Fresh::Iv);
        let id = self.next_id;
        self.next_id += 1;
        let (sealed, _outstanding) = self.sender.seal(&self.alice, id, plaintext, iv)?;
        Ok(sealed)
    }

    /// [`Session::open`] at the recipient (the session is not changed, so the same sealed
    /// message opens again).
    pub fn open(&self, sealed: &Sealed<S>) -> Result<Opened<S>, FixtureError> {
        Ok(self.receiver.open(&self.bob, sealed)?)
    }

    /// [`Session::ack`] at the recipient.
    pub fn ack(&self, opened: &Opened<S>) -> Ack<S> {
        self.receiver.ack(opened)
    }

    /// [`Session::verify_ack`] at the sender.
    pub fn verify_ack(&self, ack: &Ack<S>) -> Result<(), FixtureError> {
        Ok(self.sender.verify_ack(ack)?)
    }

    /// One full message cycle: seal, open (and commit), ACK, verify the ACK.
    pub fn round_trip(&mut self, plaintext: &Bytes) -> Result<(), FixtureError> {
        let sealed = self.seal(plaintext)?;
        let opened = self.open(&sealed)?;
        self.receiver.commit(&opened);
        let ack = self.ack(&opened);
        self.verify_ack(&ack)
    }
}

/// Key transport between two fixture clients (seed steps 2.4–2.9, SPEC.md §6): the sender
/// encrypts a fresh session key to the recipient and signs; the recipient verifies and decrypts.
#[derive(Debug, Clone)]
pub struct TransportFixture {
    /// The profile.
    pub profile: Profile,
    from: Phone,
    to: Phone,
    sender_key: PrivateKey,
    sender_public: Bytes,
    recipient_key: PrivateKey,
    recipient_public: Bytes,
    rng: Rng,
    /// A transport prepared by [`new`](Self::new), for timing [`receive`](Self::receive).
    pub prepared: Transport<S>,
}

impl TransportFixture {
    /// A fixture for `profile` with `bits`-bit keys (2048 or 3072).
    pub fn new(profile: Profile, bits: usize) -> Result<Self, FixtureError> {
        let (sender_key, recipient_key) = key_pair(bits)?;
        let mut fixture = TransportFixture {
            profile,
            from: alice_phone(),
            to: bob_phone(),
            sender_public: S::public_key(&sender_key),
            recipient_public: S::public_key(&recipient_key),
            sender_key,
            recipient_key,
            rng: seeded_rng([5; 32]),
            prepared: Transport { ciphertext: Bytes::default(), signature: Bytes::default() },
        };
        let prepared = fixture.send()?;
        fixture.receive(&prepared)?;
        fixture.prepared = prepared;
        Ok(fixture)
    }

    /// Sender side, as `Client` does on receiving the peer's key: a fresh session key, then
    /// [`KeyTransport::seal`] (RSA-OAEP encrypt to the recipient, sign).
    pub fn send(&mut self) -> Result<Transport<S>, FixtureError> {
        let key = S::random(&mut self.rng, Fresh::SessionKey);
        let transport = KeyTransport::new(self.profile);
        Ok(transport.seal::<S>(
            &self.sender_key,
            &self.from,
            &self.to,
            &self.recipient_public,
            &key,
            &mut self.rng,
        )?)
    }

    /// Recipient side, as `Client` does on a key delivery: [`KeyTransport::open`] (verify and
    /// decrypt, in the profile's order), with no transport seen before. Returns the session key.
    pub fn receive(&mut self, transport: &Transport<S>) -> Result<Bytes, FixtureError> {
        let transports = KeyTransport::new(self.profile);
        Ok(transports.open::<S>(
            &self.recipient_key,
            &self.from,
            &self.to,
            &self.sender_public,
            transport,
            |_| false,
            &mut self.rng,
        )?)
    }
}

/// The server's directory: signing an entry (once, at registration), a client verifying one,
/// and a server answering key lookups from a populated store.
pub struct DirectoryFixture {
    /// The profile.
    pub profile: Profile,
    server_key: PrivateKey,
    server_public: Bytes,
    phone: Phone,
    public_key: Bytes,
    rng: Rng,
    /// An entry signed by [`new`](Self::new), for timing [`verify`](Self::verify).
    pub entry: DirectoryEntry<S>,
}

impl DirectoryFixture {
    /// A fixture for `profile` with a `bits`-bit server key (the entry's key is 2048-bit
    /// alice's, or 3072-bit alice's with a 3072-bit server).
    pub fn new(profile: Profile, bits: usize) -> Result<Self, FixtureError> {
        let server_key = server_key(bits)?;
        let (client, _) = key_pair(bits)?;
        let mut rng = seeded_rng([9; 32]);
        let phone = alice_phone();
        let public_key = S::public_key(&client);
        let entry = sign_entry::<S>(profile, &server_key, &phone, &public_key, &mut rng)?;
        let fixture = DirectoryFixture {
            profile,
            server_public: S::public_key(&server_key),
            server_key,
            phone,
            public_key,
            rng,
            entry,
        };
        fixture.verify(&fixture.entry)?;
        Ok(fixture)
    }

    /// The server signs the entry (SPEC.md §5.2; done once per registration).
    pub fn sign(&mut self) -> Result<DirectoryEntry<S>, FixtureError> {
        Ok(sign_entry::<S>(self.profile, &self.server_key, &self.phone, &self.public_key, &mut self.rng)?)
    }

    /// A client checks an entry against the pinned server key (key well-formed, signature).
    pub fn verify(&self, entry: &DirectoryEntry<S>) -> Result<(), FixtureError> {
        Ok(verify_entry::<S>(self.profile, &self.server_public, entry)?)
    }
}

/// A server over `store` with `clients` registered fixture clients (entries signed once,
/// here), for timing key lookups. Client `i` has phone `fixtures::client_phone(i)`.
pub fn directory_server<St: Store<S>>(
    profile: Profile,
    mut store: St,
    clients: usize,
) -> Result<Server<S, St>, FixtureError> {
    let server_key = fixtures::server_key();
    let mut rng = seeded_rng([11; 32]);
    for i in 0..clients.min(fixtures::CLIENT_KEYS) {
        let key = fixtures::client_key(i).ok_or_else(|| FixtureError::NoKey(format!("client {i}")))?;
        let entry = sign_entry::<S>(
            profile,
            &server_key,
            &fixtures::client_phone(i),
            &S::public_key(&key),
            &mut rng,
        )?;
        store.put_entry(&entry).map_err(|e| FixtureError::Server(e.to_string()))?;
    }
    Ok(Server::new(profile, Params::default(), server_key, store))
}

/// Server side of a key lookup (seed 2.1–2.3): client 0 asks for client 1's entry; returns
/// the entry served.
pub fn lookup<St: Store<S>>(
    server: &mut Server<S, St>,
    rng: &mut Rng,
) -> Result<DirectoryEntry<S>, FixtureError> {
    let from = fixtures::client_phone(0);
    let request = Message::KeyRequest { peer: fixtures::client_phone(1) };
    let outputs = server.handle(&from, request, 0, rng).map_err(|e| FixtureError::Server(e.to_string()))?;
    outputs
        .into_iter()
        .find_map(|output| match output {
            ServerOutput::Send { message: Message::PeerKey { entry }, .. } => Some(entry),
            _ => None,
        })
        .ok_or_else(|| FixtureError::Server("no PeerKey answer".into()))
}

/// Registration through the real state machines, at the spec's PBKDF2 iteration count
/// (`Params::default()`, 600 000) unless told otherwise.
#[derive(Debug, Clone)]
pub struct RegistrationFixture {
    /// The profile.
    pub profile: Profile,
    /// The parameters (PBKDF2 iterations).
    pub params: Params,
    phone: Phone,
    client_key: PrivateKey,
    server_key: PrivateKey,
    otp: Bytes,
    /// The submission a client made with [`otp`](Self::client_submit), for timing the server.
    pub submission: Message<S>,
}

impl RegistrationFixture {
    /// A fixture for `profile`, `params` and `bits`-bit keys.
    pub fn new(profile: Profile, params: Params, bits: usize) -> Result<Self, FixtureError> {
        let (client_key, _) = key_pair(bits)?;
        let server_key = server_key(bits)?;
        let mut fixture = RegistrationFixture {
            profile,
            params,
            phone: alice_phone(),
            client_key,
            server_key,
            otp: Bytes::secret(b"314159".to_vec()),
            submission: Message::Connect { phone: alice_phone() },
        };
        let mut client = fixture.awaiting_otp()?;
        fixture.submission = fixture.client_submit(&mut client, &mut seeded_rng([13; 32]))?;
        let mut server = fixture.server_with_pending_otp()?;
        fixture.server_accept(&mut server, fixture.submission.clone(), &mut seeded_rng([14; 32]))?;
        Ok(fixture)
    }

    /// A client that asked for an OTP and waits for it (set-up, not timed).
    pub fn awaiting_otp(&self) -> Result<Client<S>, FixtureError> {
        let mut client = Client::new(
            self.profile,
            self.params,
            self.phone.clone(),
            self.client_key.clone(),
            S::public_key(&self.server_key),
        );
        client.register();
        Ok(client)
    }

    /// Client side: the OTP arrived; salt, PBKDF2, tag, and in `hardened` the tag sealed to
    /// the server (RSA-OAEP) and the proof of possession (a signature). Returns the submission.
    pub fn client_submit(&self, client: &mut Client<S>, rng: &mut Rng) -> Result<Message<S>, FixtureError> {
        client
            .otp_received(&self.otp, rng)?
            .into_iter()
            .find_map(|output| match output {
                ClientOutput::Send(message) => Some(message),
                _ => None,
            })
            .ok_or_else(|| FixtureError::Server("the client sent no submission".into()))
    }

    /// A server holding the pending OTP (set-up, not timed).
    pub fn server_with_pending_otp(&self) -> Result<Server<S, MemoryStore<S>>, FixtureError> {
        let mut store = MemoryStore::default();
        let pending = PendingOtp { otp: self.otp.clone(), issued_at: 0, attempts: 0 };
        store.put_pending_otp(&self.phone, &pending).map_err(|e| FixtureError::Server(e.to_string()))?;
        Ok(Server::new(self.profile, self.params, self.server_key.clone(), store))
    }

    /// Server side: checks the submission (possession proof, unseal, PBKDF2, tag) and signs
    /// the directory entry. Returns the signed entry.
    pub fn server_accept(
        &self,
        server: &mut Server<S, MemoryStore<S>>,
        submission: Message<S>,
        rng: &mut Rng,
    ) -> Result<DirectoryEntry<S>, FixtureError> {
        let outputs = server
            .handle(&self.phone, submission, 0, rng)
            .map_err(|e| FixtureError::Server(e.to_string()))?;
        outputs
            .into_iter()
            .find_map(|output| match output {
                ServerOutput::Send { message: Message::RegisterResult { entry }, .. } => Some(entry),
                _ => None,
            })
            .ok_or_else(|| FixtureError::Server("no RegisterResult".into()))
    }
}

/// RSA key generation at `bits` bits (2048 or 3072).
pub fn generate_key(bits: usize, rng: &mut Rng) -> Result<PrivateKey, FixtureError> {
    PrivateKey::generate(bits, rng).map_err(|e| FixtureError::Server(e.to_string()))
}

/// Lengths of what a seal computes over a `len`-byte plaintext under `profile`, for building
/// the OpenSSL composite: (AES-CBC input incl. padding, HMAC input, SHA-256 digest input).
pub fn seal_lengths(profile: Profile, len: usize) -> (usize, usize) {
    let padded = (len / 16 + 1) * 16;
    // Hardened MAC input: the tuple (version, sid, sender, recipient, seq, iv, ciphertext),
    // each part behind a 4-byte length.
    let phones = alice_phone().as_bytes().len() + bob_phone().as_bytes().len();
    let mac = if profile.has(Fix::EncryptThenMac) { 7 * 4 + 1 + 32 + phones + 8 + 16 + padded } else { len };
    (padded, mac)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ee2e::sqlite::SqliteStore;
    use ee2e_spec::Wire;

    #[test]
    fn session_pair_round_trips_in_both_profiles() {
        for (_, profile) in PROFILES {
            let mut pair = SessionPair::new(profile).expect("pair");
            for (_, len) in SIZES {
                let sealed = pair.seal(&plaintext(len)).expect("seal");
                let opened = pair.open(&sealed).expect("open");
                assert_eq!(opened.plaintext, plaintext(len));
                pair.verify_ack(&pair.ack(&opened)).expect("ack verifies");
                pair.round_trip(&plaintext(len)).expect("round trip");
            }
        }
    }

    #[test]
    fn seal_lengths_match_the_wire() {
        for (_, profile) in PROFILES {
            let mut pair = SessionPair::new(profile).expect("pair");
            for (_, len) in SIZES {
                let (padded, _) = seal_lengths(profile, len);
                let ciphertext = match pair.seal(&plaintext(len)).expect("seal") {
                    Sealed::Seed { ciphertext, .. } | Sealed::Hardened { ciphertext, .. } => ciphertext,
                };
                assert_eq!(ciphertext.len(), padded);
            }
        }
        // The hardened header: 7 length prefixes, version, sid, two 12-byte phones, seq, IV.
        assert_eq!(seal_lengths(Profile::HARDENED, 1024).1, 28 + 1 + 32 + 24 + 8 + 16 + 1040);
    }

    #[test]
    fn transport_directory_and_registration_fixtures_work_at_2048_bits() {
        for (_, profile) in PROFILES {
            let mut transport = TransportFixture::new(profile, 2048).expect("transport");
            let sent = transport.send().expect("send");
            assert_eq!(transport.receive(&sent).expect("receive").len(), 32);
            let mut directory = DirectoryFixture::new(profile, 2048).expect("directory");
            let entry = directory.sign().expect("sign");
            directory.verify(&entry).expect("verify");
            let params = Params { pbkdf2_iterations: 10, ..Params::default() };
            let registration = RegistrationFixture::new(profile, params, 2048).expect("registration");
            let mut client = registration.awaiting_otp().expect("client");
            let submission =
                registration.client_submit(&mut client, &mut seeded_rng([1; 32])).expect("submit");
            let mut server = registration.server_with_pending_otp().expect("server");
            registration.server_accept(&mut server, submission, &mut seeded_rng([2; 32])).expect("accepted");
        }
    }

    #[test]
    fn key_lookups_serve_the_signature_made_at_registration() {
        // PSS signatures are randomised: a server that signed per lookup would answer with a
        // different signature each time.
        let mut server = directory_server(Profile::HARDENED, MemoryStore::default(), 4).expect("server");
        let mut rng = seeded_rng([1; 32]);
        let first = lookup(&mut server, &mut rng).expect("lookup");
        let second = lookup(&mut server, &mut rng).expect("lookup");
        assert_eq!(first, second);
        assert_eq!(Some(&first), server.store().directory().find(|e| e.phone == first.phone));
        let sqlite = SqliteStore::in_memory(Wire::Hardened).expect("sqlite");
        let mut server = directory_server(Profile::HARDENED, sqlite, 4).expect("server");
        assert_eq!(
            lookup(&mut server, &mut rng).expect("lookup"),
            lookup(&mut server, &mut rng).expect("lookup")
        );
    }

    #[test]
    fn fixtures_refuse_other_key_sizes() {
        assert_eq!(key_pair(1024).err(), Some(FixtureError::UnsupportedBits(1024)));
        assert!(TransportFixture::new(Profile::SEED, 4096).is_err());
    }
}
