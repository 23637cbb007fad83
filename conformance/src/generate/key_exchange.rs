//! `key_exchange_<profile>.json`: SPEC.md §6 — KeyRequest and PeerKey (with the directory
//! check of §5.4), the key transport a client makes, the server's relay, and every check of
//! §6.4 on KeyDelivery.

use ee2e::Bytes;
use ee2e_spec::hazmat::session_key;
use ee2e_spec::hazmat::{sig_scheme, transport_label};
use ee2e_spec::{DirectoryEntry, Fix, Message, Profile, SigScheme, Transport, Wire};

use super::craft::{self, other_profile, other_scheme};
use super::world::{S, World, flip_value, public};
use super::{Case, ClientGroupBuilder, FileSpec, ServerCase, ServerGroupBuilder, ok, ok_seeded, receive};
use crate::error::VectorError;
use crate::schema::{ClientInput, Hex, TypedGroup};

pub(crate) fn build(profile: Profile) -> Result<FileSpec, VectorError> {
    let stem = format!("key_exchange_{}", profile.name());
    let w = World::new(profile, &stem)?;
    Ok(FileSpec {
        groups: vec![server_group(&w)?, initiator_group(&w)?, responder_group(&w)?],
        stem,
        algorithm: "EE2E key exchange",
        description: "Key exchange (SPEC.md §6): KeyRequest at the server, PeerKey at the initiator (the directory \
                      check of §5.4, then K, its RSA-OAEP encryption, the transport signature and the session id), \
                      the server's relay of KeyTransport, and every check of §6.4 on KeyDelivery at the responder.",
        profile,
    })
}

fn start(w: &World, peer: &str) -> ClientInput {
    ClientInput::StartSession { peer: w.phone_text(peer) }
}

fn peer_key(w: &World, entry: DirectoryEntry<S>) -> Result<Hex, VectorError> {
    w.encode(&Message::PeerKey { entry })
}

fn server_group(w: &World) -> Result<TypedGroup, VectorError> {
    let mut g = ServerGroupBuilder::new(
        w,
        "the server answers KeyRequest with the stored entry (§6.1) and relays KeyTransport as KeyDelivery (§6.3) \
         without checking it",
        &["alice", "bob", "carol"],
        ee2e_spec::limits::PBKDF2_ITERATIONS,
    );
    let (alice, carol) = (w.phone_text("alice"), w.phone_text("carol"));
    let request = |peer: &str| w.encode(&Message::KeyRequest { peer: w.phone(peer) });
    g.add(ServerCase::new("alice asks for bob's key", alice.clone(), request("bob")?, 5).flags(&["Honest"]))?;
    g.add(
        ServerCase::new("alice asks for her own key", alice.clone(), request("alice")?, 5).flags(&["Honest"]),
    )?;
    g.add(
        ServerCase::new("an unregistered sender asks for bob's key", carol.clone(), request("bob")?, 5)
            .flags(&["Unexpected"])
            .invalid("NotRegistered"),
    )?;
    g.add(
        ServerCase::new("alice asks for an unregistered phone", alice.clone(), request("carol")?, 5)
            .flags(&["WrongPeer"])
            .invalid("UnknownPeer"),
    )?;

    let mut a = w.client("alice")?;
    let transport = w.initiate(&mut a, "bob", "kx/alice-bob")?;
    let kt =
        |to: &str, transport: Transport<S>| w.encode(&Message::KeyTransport { to: w.phone(to), transport });
    g.add(
        ServerCase::new(
            "alice's key transport for bob, bob online: relayed",
            alice.clone(),
            kt("bob", transport.clone())?,
            5,
        )
        .online(&["bob"])
        .state("alice and bob registered, bob online")
        .flags(&["Honest", "Relay"]),
    )?;
    g.add(
        ServerCase::new(
            "alice's key transport for bob, bob offline: stored",
            alice.clone(),
            kt("bob", transport.clone())?,
            5,
        )
        .flags(&["Honest", "Relay"]),
    )?;
    let tampered = Transport { signature: flip_value(&transport.signature, 0), ..transport.clone() };
    g.add(
        ServerCase::new(
            "a tampered signature is relayed unchanged: the recipient checks it",
            alice.clone(),
            kt("bob", tampered)?,
            5,
        )
        .online(&["bob"])
        .state("alice and bob registered, bob online")
        .flags(&["BitFlip", "Relay"]),
    )?;
    g.add(
        ServerCase::new(
            "a key transport from an unregistered sender",
            carol.clone(),
            kt("bob", transport.clone())?,
            5,
        )
        .flags(&["Unexpected"])
        .invalid("NotRegistered"),
    )?;
    g.add(
        ServerCase::new(
            "a key transport for an unregistered recipient",
            alice.clone(),
            kt("carol", transport.clone())?,
            5,
        )
        .flags(&["WrongPeer"])
        .invalid("UnknownPeer"),
    )?;
    let other = Message::KeyTransport { to: w.phone("bob"), transport };
    g.add(ServerCase::other_profile(w, "KeyTransport", alice, &other, 5)?)?;
    Ok(g.finish())
}

fn initiator_group(w: &World) -> Result<TypedGroup, VectorError> {
    let p = w.profile;
    let mut g = ClientGroupBuilder::new(
        w,
        "alice (the initiator) asks for a key, checks the PeerKey entry (§6.2, §5.4) and makes the key transport",
        "alice",
        &["alice", "bob", "carol", "dora", "weak", "eve"],
        None,
    );
    g.add(Case::new("alice asks for bob's key", start(w, "bob")).flags(&["Honest"]))?;
    g.add(
        Case::new("alice asks for a key before registering", start(w, "bob"))
            .unregistered()
            .flags(&["ApiMisuse"])
            .invalid("NotRegistered"),
    )?;
    let lookup = "registered; bob's key requested";
    let bob_key = peer_key(w, w.entry("bob"))?;
    for (i, label) in ["kx/alice-bob", "kx/alice-bob/2"].into_iter().enumerate() {
        g.add(
            Case::new(
                format!("bob's entry arrives: K, its encryption, the signature (randomness {})", i + 1),
                receive(bob_key.clone()),
            )
            .state(lookup)
            .setup(vec![ok(start(w, "bob"))])
            .seed(w.seed(label))
            .flags(&["Honest", "Randomized"]),
        )?;
    }
    g.add(
        Case::new("dora's 3072-bit entry arrives", receive(peer_key(w, w.entry("dora"))?))
            .state("registered; dora's key requested")
            .setup(vec![ok(start(w, "dora"))])
            .seed(w.seed("kx/alice-dora"))
            .flags(&["Honest", "Randomized", "Rsa3072"]),
    )?;
    g.add(
        Case::new("a second session with bob", receive(bob_key.clone()))
            .state("registered; a session with bob; bob's key requested again")
            .setup(vec![
                ok(start(w, "bob")),
                ok_seeded(receive(bob_key.clone()), w.seed("kx/alice-bob")),
                ok(start(w, "bob")),
            ])
            .seed(w.seed("kx/alice-bob/2"))
            .flags(&["Honest", "Randomized", "Stateful"]),
    )?;
    g.add(
        Case::new("a PeerKey before registering", receive(bob_key.clone()))
            .unregistered()
            .flags(&["Unexpected"])
            .invalid("NotRegistered"),
    )?;
    g.add(
        Case::new("a PeerKey nobody asked for", receive(bob_key.clone()))
            .flags(&["Unexpected"])
            .invalid("UnexpectedPeerKey"),
    )?;
    g.add(
        Case::new("bob's entry while carol's was asked for", receive(bob_key.clone()))
            .state("registered; carol's key requested")
            .setup(vec![ok(start(w, "carol"))])
            .flags(&["Unexpected", "WrongPeer"])
            .invalid("UnexpectedPeerKey"),
    )?;
    g.add(
        Case::new("bob's entry a second time after it was used", receive(bob_key.clone()))
            .state("registered; bob's key requested and received")
            .setup(vec![ok(start(w, "bob")), ok_seeded(receive(bob_key.clone()), w.seed("kx/alice-bob"))])
            .flags(&["Unexpected", "Replay", "Stateful"])
            .invalid("UnexpectedPeerKey"),
    )?;
    let lookup_bob = || vec![ok(start(w, "bob"))];
    let bob = w.entry("bob");
    let entry = |public_key: Bytes, signature: Bytes| DirectoryEntry {
        phone: bob.phone.clone(),
        public_key,
        signature,
    };
    let keys: Vec<(&str, &[&'static str], Bytes)> = vec![
        ("bob's key one byte short", &["Truncated", "InvalidPublicKey"], craft::truncate(&bob.public_key)),
        (
            "bob's key with its last bit flipped (exponent 65536)",
            &["BitFlip", "InvalidPublicKey"],
            flip_value(&bob.public_key, -1),
        ),
        (
            "bob's key with public exponent 3",
            &["InvalidPublicKey"],
            craft::with_exponent(w, &w.party("bob").key, 3)?,
        ),
    ];
    for (what, flags, pk) in keys {
        g.add(
            Case::new(format!("PeerKey: {what}"), receive(peer_key(w, entry(pk, bob.signature.clone()))?))
                .state(lookup)
                .setup(lookup_bob())
                .flags(flags)
                .invalid("InvalidPublicKey"),
        )?;
    }
    g.add(
        Case::new("the server's entry for a 1024-bit key", receive(peer_key(w, w.entry("weak"))?))
            .state("registered; the weak party's key requested")
            .setup(vec![ok(start(w, "weak"))])
            .flags(&["InvalidPublicKey"])
            .invalid("InvalidPublicKey"),
    )?;
    let mut modulus_flip = bob.public_key.as_slice().to_vec();
    modulus_flip[100] ^= 0x01;
    let signatures: Vec<(&str, &[&'static str], DirectoryEntry<S>)> = vec![
        (
            "signature's first bit flipped",
            &["BitFlip"],
            entry(bob.public_key.clone(), flip_value(&bob.signature, 0)),
        ),
        (
            "signature's last bit flipped",
            &["BitFlip"],
            entry(bob.public_key.clone(), flip_value(&bob.signature, -1)),
        ),
        (
            "signature one byte short",
            &["Truncated"],
            entry(bob.public_key.clone(), craft::truncate(&bob.signature)),
        ),
        (
            "signature one byte long",
            &["Extended"],
            entry(bob.public_key.clone(), craft::extend(&bob.signature)),
        ),
        ("a bit of bob's modulus flipped", &["BitFlip"], entry(public(&modulus_flip), bob.signature.clone())),
        (
            "signed by eve's key",
            &["WrongKey"],
            craft::entry_signed(
                w,
                &bob.phone,
                &bob.public_key,
                &w.party("eve").key,
                p,
                sig_scheme(p),
                "sig/eve",
            )?,
        ),
        (
            "signed with the other scheme",
            &["OtherScheme"],
            craft::entry_signed(w, &bob.phone, &bob.public_key, &w.server, p, other_scheme(p), "sig/scheme")?,
        ),
        (
            "signed over the other profile's input",
            &["OtherScheme"],
            craft::entry_signed(
                w,
                &bob.phone,
                &bob.public_key,
                &w.server,
                other_profile(p),
                sig_scheme(p),
                "sig/input",
            )?,
        ),
        (
            "alice's entry signature",
            &["WrongPeer"],
            entry(bob.public_key.clone(), w.entry("alice").signature),
        ),
    ];
    for (what, flags, e) in signatures {
        g.add(
            Case::new(format!("PeerKey for bob: {what}"), receive(peer_key(w, e)?))
                .state(lookup)
                .setup(lookup_bob())
                .flags(flags)
                .invalid("BadDirectorySignature"),
        )?;
    }
    // Flaw 1 / E1: eve's own entry relabelled as bob's.
    let eve = w.entry("eve");
    let relabelled = DirectoryEntry { phone: bob.phone.clone(), ..eve };
    g.add(
        Case::new("eve's signed entry relabelled with bob's phone (E1)", receive(peer_key(w, relabelled)?))
            .state(lookup)
            .setup(lookup_bob())
            .seed(w.seed("kx/alice-relabelled"))
            .flags(&["WrongPeer", "Randomized"])
            .seed_flaw(p, "BadDirectorySignature"),
    )?;
    g.add(
        Case::new("the other profile's PeerKey", receive(w.encode_other(&Message::PeerKey { entry: bob })?))
            .state(lookup)
            .setup(lookup_bob())
            .flags(&["OtherProfile"])
            .invalid("WrongVersion"),
    )?;
    Ok(g.finish())
}

/// A key transport built piece by piece; `None` fields are honest.
#[derive(Default)]
struct Forge {
    key: Option<Vec<u8>>,
    encrypt_to: Option<&'static str>,
    label: Option<Bytes>,
    signer: Option<&'static str>,
    scheme: Option<SigScheme>,
    signed: Option<Bytes>,
    signed_for: Option<&'static str>,
}

impl Forge {
    /// The transport `from` makes for `to`, with the deviations set.
    fn make(&self, w: &World, from: &str, to: &str, label: &str) -> Result<Transport<S>, VectorError> {
        let p = w.profile;
        let key = Bytes::secret(self.key.clone().unwrap_or_else(|| vec![0x4b; 32]));
        let oaep_label =
            self.label.clone().unwrap_or_else(|| transport_label::<S>(p, &w.phone(from), &w.phone(to)));
        let c = craft::oaep(
            w,
            &w.public_key(self.encrypt_to.unwrap_or(to)),
            &oaep_label,
            &key,
            &format!("{label}/oaep"),
        )?;
        let signed_to = self.signed_for.unwrap_or(to);
        let input = self.signed.clone().unwrap_or_else(|| {
            if p.has(Fix::TransportBinding) {
                craft::transport_input(&w.phone(from), &w.phone(signed_to), &c)
            } else {
                key.clone()
            }
        });
        let signer = &w.party(self.signer.unwrap_or(from)).key;
        let signature =
            craft::sign(w, signer, self.scheme.unwrap_or(sig_scheme(p)), &input, &format!("{label}/sign"))?;
        Ok(Transport { ciphertext: c, signature })
    }
}

fn responder_group(w: &World) -> Result<TypedGroup, VectorError> {
    let p = w.profile;
    let hardened = p.wire() == Wire::Hardened;
    let mut g = ClientGroupBuilder::new(
        w,
        "bob (the responder) checks KeyDelivery (§6.4) in order and stores the session",
        "bob",
        &["alice", "bob", "carol", "dora", "weak", "eve"],
        None,
    );
    let mut a = w.client("alice")?;
    let transports: Vec<Transport<S>> =
        (1..=5).map(|i| w.initiate(&mut a, "bob", &format!("kx/alice-bob/{i}"))).collect::<Result<_, _>>()?;
    let kd = |t: &Transport<S>| w.key_delivery("alice", t);
    let first = kd(&transports[0])?;
    g.add(Case::new("alice's key transport", receive(first.clone())).flags(&["Honest"]))?;
    let mut d = w.client("dora")?;
    let from_dora = w.initiate(&mut d, "bob", "kx/dora-bob")?;
    g.add(
        Case::new("dora's key transport (3072-bit sender key)", receive(w.key_delivery("dora", &from_dora)?))
            .flags(&["Honest", "Rsa3072"]),
    )?;
    g.add(
        Case::new("a second key transport from alice", receive(kd(&transports[1])?))
            .state("registered; one session with alice")
            .setup(vec![ok(receive(first.clone()))])
            .flags(&["Honest", "Stateful"]),
    )?;
    g.add(
        Case::new("a key delivery before registering", receive(first.clone()))
            .unregistered()
            .flags(&["Unexpected"])
            .invalid("NotRegistered"),
    )?;
    let weak = Forge::default().make(w, "weak", "bob", "forge/weak")?;
    g.add(
        Case::new("the sender's entry has a 1024-bit key", receive(w.key_delivery("weak", &weak)?))
            .flags(&["InvalidPublicKey"])
            .invalid("InvalidPublicKey"),
    )?;
    let t = &transports[0];
    let with_entry =
        |entry: DirectoryEntry<S>| w.encode(&Message::KeyDelivery { from: entry, transport: t.clone() });
    let alice_entry = w.entry("alice");
    g.add(
        Case::new(
            "the sender's entry signature's first bit flipped",
            receive(with_entry(DirectoryEntry {
                signature: flip_value(&alice_entry.signature, 0),
                ..alice_entry.clone()
            })?),
        )
        .flags(&["BitFlip"])
        .invalid("BadDirectorySignature"),
    )?;
    g.add(
        Case::new(
            "alice's transport under eve's entry (eve relays it as her own)",
            receive(with_entry(w.entry("eve"))?),
        )
        .flags(&["WrongPeer"])
        .invalid("BadTransportSignature"),
    )?;
    let with = |transport: Transport<S>| w.key_delivery("alice", &transport);
    let sigs: Vec<(&str, &[&'static str], Bytes)> = vec![
        ("the transport signature's first bit flipped", &["BitFlip"], flip_value(&t.signature, 0)),
        ("the transport signature's last bit flipped", &["BitFlip"], flip_value(&t.signature, -1)),
        ("the transport signature one byte short", &["Truncated"], craft::truncate(&t.signature)),
        ("the transport signature one byte long", &["Extended"], craft::extend(&t.signature)),
    ];
    for (what, flags, signature) in sigs {
        g.add(
            Case::new(what, receive(with(Transport { signature, ..t.clone() })?))
                .flags(flags)
                .invalid("BadTransportSignature"),
        )?;
    }
    let cts: Vec<(&str, &[&'static str], Bytes)> = vec![
        ("the transport ciphertext's first bit flipped", &["BitFlip"], flip_value(&t.ciphertext, 0)),
        ("the transport ciphertext's last bit flipped", &["BitFlip"], flip_value(&t.ciphertext, -1)),
        ("the transport ciphertext one byte short", &["Truncated"], craft::truncate(&t.ciphertext)),
        ("the transport ciphertext one byte long", &["Extended"], craft::extend(&t.ciphertext)),
    ];
    for (what, flags, ciphertext) in cts {
        g.add(
            Case::new(what, receive(with(Transport { ciphertext, ..t.clone() })?)).flags(flags).invalid_by(
                p,
                "TransportDecrypt",
                "BadTransportSignature",
            ),
        )?;
    }
    let to_carol = w.initiate(&mut a, "carol", "kx/alice-carol")?;
    g.add(
        Case::new("alice's transport for carol delivered to bob", receive(with(to_carol)?))
            .flags(&["WrongPeer"])
            .invalid_by(p, "TransportDecrypt", "BadTransportSignature"),
    )?;
    // Flaw 2 / E2: alice starts a session with eve; eve re-encrypts K to bob under alice's name.
    let to_eve = w.initiate(&mut a, "eve", "kx/alice-eve")?;
    let k = a
        .session_with(&w.phone("eve"))
        .map(|s| session_key(s).clone())
        .ok_or_else(|| w.fail("no session with eve"))?;
    let label = transport_label::<S>(p, &w.phone("alice"), &w.phone("bob"));
    let reencrypted = craft::oaep(w, &w.public_key("bob"), &label, &k, "uks/oaep")?;
    g.add(
        Case::new(
            "eve re-encrypts the K alice sent her to bob and forwards alice's signature (unknown key share, E2)",
            receive(with(Transport { ciphertext: reencrypted, signature: to_eve.signature })?),
        )
        .flags(&["WrongPeer"])
        .seed_flaw(p, "BadTransportSignature"),
    )?;
    g.add(
        Case::new("the same key delivery twice (E3)", receive(first.clone()))
            .state("registered; alice's key transport accepted")
            .setup(vec![ok(receive(first.clone()))])
            .flags(&["Replay", "Stateful"])
            .seed_flaw(p, "ReplayedKeyTransport"),
    )?;
    let later: Vec<_> =
        transports[1..].iter().map(|t| kd(t).map(|m| ok(receive(m)))).collect::<Result<_, _>>()?;
    let mut replay_old = vec![ok(receive(first.clone()))];
    replay_old.extend(later);
    g.add(
        Case::new("the first key delivery replayed after four newer sessions", receive(first.clone()))
            .state("registered; five key transports from alice accepted (the first session forgotten)")
            .setup(replay_old)
            .flags(&["Replay", "Stateful"])
            .seed_flaw(p, "ReplayedKeyTransport"),
    )?;
    for (len, flags) in [(16usize, &["Truncated"][..]), (33, &["Extended"][..]), (0, &["Truncated"][..])] {
        let forged = Forge { key: Some(vec![0x5a; len]), ..Forge::default() }.make(
            w,
            "alice",
            "bob",
            &format!("forge/k{len}"),
        )?;
        g.add(
            Case::new(
                format!("an honestly encrypted and signed {len}-byte session key"),
                receive(with(forged)?),
            )
            .flags(flags)
            .invalid("InvalidSessionKey"),
        )?;
    }
    let other_label = transport_label::<S>(other_profile(p), &w.phone("alice"), &w.phone("bob"));
    let forged =
        Forge { label: Some(other_label), ..Forge::default() }.make(w, "alice", "bob", "forge/label")?;
    g.add(
        Case::new(
            "K encrypted with the other profile's OAEP label, correctly signed",
            receive(with(forged)?),
        )
        .flags(&["WrongLabel"])
        .invalid("TransportDecrypt"),
    )?;
    let forged =
        Forge { encrypt_to: Some("eve"), ..Forge::default() }.make(w, "alice", "bob", "forge/eve-key")?;
    g.add(
        Case::new("K encrypted to eve's key, correctly signed", receive(with(forged)?))
            .flags(&["WrongKey"])
            .invalid("TransportDecrypt"),
    )?;
    let other_input = if hardened {
        public(&[0x4b; 32])
    } else {
        craft::transport_input(&w.phone("alice"), &w.phone("bob"), &public(b"any ciphertext"))
    };
    let forged =
        Forge { signed: Some(other_input), ..Forge::default() }.make(w, "alice", "bob", "forge/input")?;
    g.add(
        Case::new("the signature over the other profile's input", receive(with(forged)?))
            .flags(&["OtherScheme"])
            .invalid("BadTransportSignature"),
    )?;
    let forged = Forge { scheme: Some(other_scheme(p)), ..Forge::default() }.make(
        w,
        "alice",
        "bob",
        "forge/scheme",
    )?;
    g.add(
        Case::new("the signature with the other scheme", receive(with(forged)?))
            .flags(&["OtherScheme"])
            .invalid("BadTransportSignature"),
    )?;
    let forged = Forge { signer: Some("eve"), ..Forge::default() }.make(w, "alice", "bob", "forge/signer")?;
    g.add(
        Case::new("the signature made with eve's key", receive(with(forged)?))
            .flags(&["WrongKey"])
            .invalid("BadTransportSignature"),
    )?;
    let forged = if hardened {
        Forge { signed_for: Some("carol"), ..Forge::default() }.make(w, "alice", "bob", "forge/for-carol")?
    } else {
        Forge { signed: Some(public(&[0x4c; 32])), ..Forge::default() }.make(
            w,
            "alice",
            "bob",
            "forge/other-k",
        )?
    };
    let what = if hardened {
        "the signature names carol as the recipient"
    } else {
        "the signature covers another K"
    };
    g.add(Case::new(what, receive(with(forged)?)).flags(&["WrongPeer"]).invalid("BadTransportSignature"))?;
    g.add(
        Case::new(
            "the other profile's KeyDelivery",
            receive(w.encode_other(&Message::KeyDelivery { from: alice_entry, transport: t.clone() })?),
        )
        .flags(&["OtherProfile"])
        .invalid("WrongVersion"),
    )?;
    Ok(g.finish())
}
