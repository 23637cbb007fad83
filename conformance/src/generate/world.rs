//! The fixed world every scenario lives in: the server key, the parties and their entries,
//! seeds, and helpers that make honest messages by running real clients.

use std::collections::BTreeMap;

use ee2e::suite::seeded_rng;
use ee2e::{Bytes, ConcreteSuite, PrivateKey};
use ee2e_fixtures as fixtures;
use ee2e_spec::hazmat::sign_entry;
use ee2e_spec::{
    Ack, Client, ClientError, ClientOutput, DirectoryEntry, Message, Params, Phone, Profile, Sealed, Suite,
    Transport,
};

use crate::error::VectorError;
use crate::schema::{Hex, Party, ServerKey};

pub(crate) type S = ConcreteSuite;

/// A party: name, phone, fixture key and its directory entry in this world.
#[derive(Debug, Clone)]
pub(crate) struct PartyDef {
    pub name: &'static str,
    pub phone: Phone,
    pub key: PrivateKey,
    pub entry: DirectoryEntry<S>,
}

/// The parties: name, fixture key name, phone number.
pub(crate) const PARTIES: [(&str, &str, &str); 6] = [
    ("alice", "alice", "+15550000001"),
    ("bob", "bob", "+15550000002"),
    ("carol", "carol", "+15550000003"),
    ("dora", "alice-3072", "+15550000004"),
    ("weak", "weak-1024", "+15550000005"),
    ("eve", "eve", "+15550000666"),
];

/// Everything a file's scenarios share.
pub(crate) struct World {
    pub profile: Profile,
    pub file: String,
    pub server: PrivateKey,
    parties: BTreeMap<&'static str, PartyDef>,
}

impl World {
    /// The world of `file` under `profile`, with the 2048-bit server key.
    pub fn new(profile: Profile, file: &str) -> Result<Self, VectorError> {
        Self::with_server(profile, file, fixtures::server_key())
    }

    /// The same with another server key.
    pub fn with_server(profile: Profile, file: &str, server: PrivateKey) -> Result<Self, VectorError> {
        let mut world = World { profile, file: file.to_string(), server, parties: BTreeMap::new() };
        for (name, fixture, phone) in PARTIES {
            let key =
                fixtures::named(fixture).ok_or_else(|| world.fail(format!("no fixture key {fixture}")))?;
            let phone = Phone::parse(phone).map_err(|e| world.fail(e.to_string()))?;
            let entry = world.sign(&phone, key.public_key_der(), &format!("entry/{name}"))?;
            world.parties.insert(name, PartyDef { name, phone, key, entry });
        }
        Ok(world)
    }

    pub fn fail(&self, message: impl Into<String>) -> VectorError {
        VectorError::Generate { file: self.file.clone(), message: message.into() }
    }

    /// The seed named `label` in this file: `SHA-256("ee2e-conformance/<file>/<label>")`.
    pub fn seed(&self, label: &str) -> Hex {
        let text = format!("ee2e-conformance/{}/{label}", self.file);
        Hex(S::sha256(ee2e_spec::Input::Raw(&Bytes::public(text.as_bytes()))).as_slice().to_vec())
    }

    pub fn rng(&self, label: &str) -> ee2e::Rng {
        let seed: [u8; 32] = self.seed(label).0.try_into().unwrap_or([0; 32]);
        seeded_rng(seed)
    }

    /// A directory entry for `(phone, pk)` signed by this world's server.
    pub fn sign(
        &self,
        phone: &Phone,
        public_key: &Bytes,
        label: &str,
    ) -> Result<DirectoryEntry<S>, VectorError> {
        sign_entry::<S>(self.profile, &self.server, phone, public_key, &mut self.rng(label))
            .map_err(|e| self.fail(format!("signing an entry: {e}")))
    }

    pub fn party(&self, name: &str) -> &PartyDef {
        // Every name used by the scenarios is one of PARTIES.
        &self.parties[name]
    }

    pub fn phone(&self, name: &str) -> Phone {
        self.party(name).phone.clone()
    }

    pub fn phone_text(&self, name: &str) -> String {
        self.party(name).phone.to_string()
    }

    pub fn entry(&self, name: &str) -> DirectoryEntry<S> {
        self.party(name).entry.clone()
    }

    pub fn public_key(&self, name: &str) -> Bytes {
        self.party(name).key.public_key_der().clone()
    }

    /// The server key as a group lists it.
    pub fn server_json(&self, with_private: bool) -> ServerKey {
        ServerKey {
            public_key: Hex(self.server.public_key_der().as_slice().to_vec()),
            private_key: with_private.then(|| self.server.to_pkcs8_pem().to_string()),
        }
    }

    /// The parties as a group lists them; `me` (if any) with its private key.
    pub fn parties_json(&self, names: &[&str], me: Option<&str>) -> Vec<Party> {
        names
            .iter()
            .map(|name| {
                let p = self.party(name);
                Party {
                    name: p.name.to_string(),
                    phone: p.phone.to_string(),
                    public_key: Hex(p.key.public_key_der().as_slice().to_vec()),
                    entry_signature: Hex(p.entry.signature.as_slice().to_vec()),
                    private_key: (me == Some(*name)).then(|| p.key.to_pkcs8_pem().to_string()),
                }
            })
            .collect()
    }

    pub fn encode(&self, message: &Message<S>) -> Result<Hex, VectorError> {
        ee2e::codec::encode(self.profile.wire(), message)
            .map(Hex)
            .map_err(|e| self.fail(format!("encoding {:?}: {e}", message.kind())))
    }

    /// Encodes for the other profile's wire (its messages are `WrongVersion` here).
    pub fn encode_other(&self, message: &Message<S>) -> Result<Hex, VectorError> {
        let other = match self.profile.wire() {
            ee2e_spec::Wire::Seed => ee2e_spec::Wire::Hardened,
            ee2e_spec::Wire::Hardened => ee2e_spec::Wire::Seed,
        };
        ee2e::codec::encode(other, message).map(Hex).map_err(|e| self.fail(format!("encoding: {e}")))
    }

    /// A registered client of this world (reached with a 1-iteration PBKDF2: its
    /// registration values are not part of any vector it helps to make).
    pub fn client(&self, name: &str) -> Result<Client<S>, VectorError> {
        let p = self.party(name);
        let params = Params { pbkdf2_iterations: 1, ..Params::default() };
        let mut client = Client::new(
            self.profile,
            params,
            p.phone.clone(),
            p.key.clone(),
            self.server.public_key_der().clone(),
        );
        let mut rng = seeded_rng([0; 32]);
        let err = |e| self.fail(format!("registering {name}: {e}"));
        client.register();
        client
            .otp_received(&Bytes::secret(&b"000000"[..]), &mut rng)
            .map_err(ClientError::from)
            .map_err(err)?;
        client.handle(Message::RegisterResult { entry: p.entry.clone() }, &mut rng).map_err(err)?;
        Ok(client)
    }

    /// `client` starts a session with `peer` using the randomness `label`; the transport it sends.
    pub fn initiate(
        &self,
        client: &mut Client<S>,
        peer: &str,
        label: &str,
    ) -> Result<Transport<S>, VectorError> {
        let me = client.phone().clone();
        let err = |e| self.fail(format!("{me} initiating with {peer}: {e}"));
        client.start_session(&self.phone(peer)).map_err(ClientError::from).map_err(err)?;
        let outputs =
            client.handle(Message::PeerKey { entry: self.entry(peer) }, &mut self.rng(label)).map_err(err)?;
        outputs
            .into_iter()
            .find_map(|o| match o {
                ClientOutput::Send(Message::KeyTransport { transport, .. }) => Some(transport),
                _ => None,
            })
            .ok_or_else(|| self.fail("no KeyTransport sent"))
    }

    /// `client` receives `message`; its outputs.
    pub fn deliver(
        &self,
        client: &mut Client<S>,
        message: Message<S>,
    ) -> Result<Vec<ClientOutput<S>>, VectorError> {
        let kind = message.kind();
        client
            .handle(message, &mut seeded_rng([0; 32]))
            .map_err(|e| self.fail(format!("{} receiving {kind:?}: {e}", client.phone())))
    }

    /// `client` seals `plaintext` for `peer` with the randomness `label`.
    pub fn seal(
        &self,
        client: &mut Client<S>,
        peer: &str,
        plaintext: &[u8],
        label: &str,
    ) -> Result<Sealed<S>, VectorError> {
        let outputs = client
            .send(&self.phone(peer), &Bytes::secret(plaintext), &mut self.rng(label))
            .map_err(|e| self.fail(format!("{} sending: {e}", client.phone())))?;
        outputs
            .into_iter()
            .find_map(|o| match o {
                ClientOutput::Send(Message::Data { sealed, .. }) => Some(sealed),
                _ => None,
            })
            .ok_or_else(|| self.fail("no Data sent"))
    }

    /// `client` accepts `from`'s message and returns its ACK body.
    pub fn acknowledge(
        &self,
        client: &mut Client<S>,
        from: &str,
        sealed: &Sealed<S>,
    ) -> Result<Ack<S>, VectorError> {
        let outputs =
            self.deliver(client, Message::DataDelivery { from: self.phone(from), sealed: sealed.clone() })?;
        outputs
            .into_iter()
            .find_map(|o| match o {
                ClientOutput::Send(Message::Ack { ack, .. }) => Some(ack),
                _ => None,
            })
            .ok_or_else(|| self.fail("no Ack sent"))
    }

    pub fn key_delivery(&self, from: &str, transport: &Transport<S>) -> Result<Hex, VectorError> {
        self.encode(&Message::KeyDelivery { from: self.entry(from), transport: transport.clone() })
    }

    pub fn data_delivery(&self, from: &str, sealed: &Sealed<S>) -> Result<Hex, VectorError> {
        self.encode(&Message::DataDelivery { from: self.phone(from), sealed: sealed.clone() })
    }

    pub fn ack_delivery(&self, from: &str, ack: &Ack<S>) -> Result<Hex, VectorError> {
        self.encode(&Message::AckDelivery { from: self.phone(from), ack: ack.clone() })
    }
}

/// `bytes` with bit `bit` (0 = most significant) of byte `index` flipped; a negative index
/// counts from the end.
pub(crate) fn flip(bytes: &[u8], index: isize, bit: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let i = if index < 0 { out.len() - index.unsigned_abs() } else { index.unsigned_abs() };
    out[i] ^= 0x80 >> bit;
    out
}

pub(crate) fn flip_value(value: &Bytes, index: isize) -> Bytes {
    Bytes::public(flip(value.as_slice(), index, 7))
}

pub(crate) fn public(bytes: &[u8]) -> Bytes {
    Bytes::public(bytes)
}
