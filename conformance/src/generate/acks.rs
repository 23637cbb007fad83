//! `acks_<profile>.json`: SPEC.md §8 — creating the ACK, the server's relay, and every
//! check of §8.3 on `AckDelivery`.

use ee2e::Bytes;
use ee2e_spec::hazmat::labels;
use ee2e_spec::hazmat::session_key;
use ee2e_spec::{Ack, Direction, Input, Message, Profile, Sealed, Suite, Wire};

use super::world::{S, World, flip_value, public};
use super::{Case, ClientGroupBuilder, FileSpec, ServerCase, ServerGroupBuilder, ok, ok_seeded, receive};
use crate::error::VectorError;
use crate::runner::{message_keys_for, tuple};
use crate::schema::{ClientInput, ClientStep, Hex, TypedGroup};

pub(crate) fn build(profile: Profile) -> Result<FileSpec, VectorError> {
    let stem = format!("acks_{}", profile.name());
    let w = World::new(profile, &stem)?;
    let s = Shared::new(&w)?;
    Ok(FileSpec {
        groups: vec![acknowledger_group(&w, &s)?, sender_group(&w, &s)?, server_group(&w, &s)?],
        stem,
        algorithm: "EE2E acknowledgements",
        description: "Acknowledgements (SPEC.md §8): the ACK bob creates for an accepted message (§8.1), the server's \
                      relay (§8.2), and every check of §8.3 on AckDelivery at the sender, in order.",
        profile,
    })
}

/// Messages and ACKs made by real clients.
struct Shared {
    transport: Hex,
    /// Alice's messages to bob and bob's ACKs of them.
    messages: Vec<Sealed<S>>,
    acks: Vec<Ack<S>>,
    /// Bob's message to alice and alice's ACK of it.
    from_bob: Sealed<S>,
    alice_ack: Ack<S>,
    key: Bytes,
}

const TEXTS: [&[u8]; 2] = [b"first message", b"second message"];

impl Shared {
    fn new(w: &World) -> Result<Self, VectorError> {
        let mut a = w.client("alice")?;
        let mut b = w.client("bob")?;
        let t = w.initiate(&mut a, "bob", "kx/1")?;
        let transport = w.key_delivery("alice", &t)?;
        w.deliver(&mut b, Message::KeyDelivery { from: w.entry("alice"), transport: t })?;
        let key = a
            .session_with(&w.phone("bob"))
            .map(|s| session_key(s).clone())
            .ok_or_else(|| w.fail("no session"))?;
        let messages: Vec<Sealed<S>> = TEXTS
            .iter()
            .enumerate()
            .map(|(i, text)| w.seal(&mut a, "bob", text, &format!("m/{i}")))
            .collect::<Result<_, _>>()?;
        let acks = messages.iter().map(|m| w.acknowledge(&mut b, "alice", m)).collect::<Result<_, _>>()?;
        let from_bob = w.seal(&mut b, "alice", b"bob to alice", "b/0")?;
        let alice_ack = w.acknowledge(&mut a, "bob", &from_bob)?;
        Ok(Shared { transport, messages, acks, from_bob, alice_ack, key })
    }
}

fn acknowledger_group(w: &World, s: &Shared) -> Result<TypedGroup, VectorError> {
    let mut g = ClientGroupBuilder::new(
        w,
        "bob accepts alice's messages and creates their ACKs (§8.1)",
        "bob",
        &["alice", "bob"],
        None,
    );
    let dd = |i: usize| w.data_delivery("alice", &s.messages[i]);
    g.add(
        Case::new("bob acknowledges alice's first message", receive(dd(0)?))
            .state("registered; one session with alice")
            .setup(vec![ok(receive(s.transport.clone()))])
            .flags(&["Honest"]),
    )?;
    g.add(
        Case::new("bob acknowledges alice's second message", receive(dd(1)?))
            .state("registered; one session with alice; her first message accepted")
            .setup(vec![ok(receive(s.transport.clone())), ok(receive(dd(0)?))])
            .flags(&["Honest", "Stateful"]),
    )?;
    Ok(g.finish())
}

/// Alice's setup: the session with bob, then her messages `0..sent`.
fn alice_setup(w: &World, sent: usize) -> Result<Vec<ClientStep>, VectorError> {
    let mut steps = vec![
        ok(ClientInput::StartSession { peer: w.phone_text("bob") }),
        ok_seeded(receive(w.encode(&Message::PeerKey { entry: w.entry("bob") })?), w.seed("kx/1")),
    ];
    for (i, text) in TEXTS.iter().enumerate().take(sent) {
        steps.push(ok_seeded(
            ClientInput::Send { peer: w.phone_text("bob"), plaintext: Hex(text.to_vec()) },
            w.seed(&format!("m/{i}")),
        ));
    }
    Ok(steps)
}

fn with_ack(ack: &Ack<S>, f: impl FnOnce(&mut Ack<S>)) -> Ack<S> {
    let mut ack = ack.clone();
    f(&mut ack);
    ack
}

fn sender_group(w: &World, s: &Shared) -> Result<TypedGroup, VectorError> {
    let p = w.profile;
    let hardened = p.wire() == Wire::Hardened;
    let mut g = ClientGroupBuilder::new(
        w,
        "alice checks bob's ACKs (§8.3) against her outstanding messages",
        "alice",
        &["alice", "bob", "carol"],
        None,
    );
    let one = "registered; one session with bob; message 0 sent, not acknowledged";
    let two = "registered; one session with bob; messages 0 and 1 sent, not acknowledged";
    let ad = |ack: &Ack<S>| w.ack_delivery("bob", ack);
    g.add(
        Case::new("bob's ACK of message 0", receive(ad(&s.acks[0])?))
            .state(one)
            .setup(alice_setup(w, 1)?)
            .flags(&["Honest"]),
    )?;
    let comment = if hardened {
        "bob's ACK of message 1 while 0 and 1 are outstanding: acknowledges message 1"
    } else {
        "bob's ACK of message 1 while 0 and 1 are outstanding: the seed ACK names no message and acknowledges the oldest, 0"
    };
    g.add(
        Case::new(comment, receive(ad(&s.acks[1])?))
            .state(two)
            .setup(alice_setup(w, 2)?)
            .flags(&["Honest", "Stateful"]),
    )?;
    let mut acked = alice_setup(w, 1)?;
    acked.push(ok(receive(ad(&s.acks[0])?)));
    g.add(
        Case::new("the same ACK a second time", receive(ad(&s.acks[0])?))
            .state("registered; one session with bob; message 0 sent and acknowledged")
            .setup(acked.clone())
            .flags(&["Replay", "Stateful"])
            .invalid("UnexpectedAck"),
    )?;
    let mut then_send = acked;
    then_send.push(ok_seeded(
        ClientInput::Send { peer: w.phone_text("bob"), plaintext: Hex(TEXTS[1].to_vec()) },
        w.seed("m/1"),
    ));
    g.add(
        Case::new("the ACK of message 0 replayed after message 1 was sent (E6)", receive(ad(&s.acks[0])?))
            .state("registered; one session with bob; message 0 acknowledged, message 1 outstanding")
            .setup(then_send)
            .flags(&["Replay", "Stateful"])
            .seed_flaw(p, "UnexpectedAck"),
    )?;
    g.add(
        Case::new("an ACK while nothing is outstanding", receive(ad(&s.acks[0])?))
            .state("registered; one session with bob; nothing sent")
            .setup(alice_setup(w, 0)?)
            .flags(&["Unexpected", "Stateful"])
            .invalid("UnexpectedAck"),
    )?;
    g.add(
        Case::new("an ACK before registering", receive(ad(&s.acks[0])?))
            .unregistered()
            .flags(&["Unexpected"])
            .invalid("NotRegistered"),
    )?;
    g.add(
        Case::new("bob's ACK relayed as from carol", receive(w.ack_delivery("carol", &s.acks[0])?))
            .state(one)
            .setup(alice_setup(w, 1)?)
            .flags(&["WrongPeer"])
            .invalid_by(p, "NoSession", "SessionPeerMismatch"),
    )?;
    let ack0 = &s.acks[0];
    let mac_flip = |i: isize| {
        with_ack(ack0, |a| match a {
            Ack::Seed { mac, .. } | Ack::Hardened { mac, .. } => *mac = flip_value(mac, i),
        })
    };
    for (what, i) in [("first", 0), ("last", -1)] {
        g.add(
            Case::new(format!("the ACK MAC's {what} bit flipped"), receive(ad(&mac_flip(i))?))
                .state(one)
                .setup(alice_setup(w, 1)?)
                .flags(&["BitFlip"])
                .invalid("BadMac"),
        )?;
    }
    if hardened {
        hardened_acks(w, s, &mut g, one, two)?;
    } else {
        let k = S::mac_key(&s.key);
        for text in [&b"ACK!"[..], b"ack", b""] {
            let text_value = public(text);
            let mac = S::hmac(&k, Input::Raw(&text_value));
            let ack = Ack::Seed { text: text_value, mac };
            g.add(
                Case::new(
                    format!("the ACK text {:?} with a valid MAC over it", String::from_utf8_lossy(text)),
                    receive(ad(&ack)?),
                )
                .state(one)
                .setup(alice_setup(w, 1)?)
                .flags(&["Crafted"])
                .invalid("MalformedAck"),
            )?;
        }
    }
    let mut reflected = alice_setup(w, 1)?;
    reflected.push(ok(receive(w.data_delivery("bob", &s.from_bob)?)));
    g.add(
        Case::new(
            "alice's own ACK of bob's message reflected back to her as bob's",
            receive(ad(&s.alice_ack)?),
        )
        .state("registered; one session with bob; message 0 sent; bob's message accepted and acknowledged")
        .setup(reflected)
        .flags(&["Reflection", "Stateful"])
        .seed_flaw(p, "BadMac"),
    )?;
    let other = w.encode_other(&Message::AckDelivery { from: w.phone("bob"), ack: other_layout(ack0) })?;
    g.add(
        Case::new("the other profile's AckDelivery", receive(other))
            .state(one)
            .setup(alice_setup(w, 1)?)
            .flags(&["OtherProfile"])
            .invalid("WrongVersion"),
    )?;
    Ok(g.finish())
}

/// The same ACK in the other wire's layout.
fn other_layout(ack: &Ack<S>) -> Ack<S> {
    match ack.clone() {
        Ack::Seed { mac, .. } => {
            Ack::Hardened { session: public(&[0xaa; 32]), seq: 0, tag: public(&[0xdd; 32]), mac }
        }
        Ack::Hardened { mac, .. } => Ack::Seed { text: public(b"ACK"), mac },
    }
}

fn hardened_acks(
    w: &World,
    s: &Shared,
    g: &mut ClientGroupBuilder<'_>,
    one: &str,
    two: &str,
) -> Result<(), VectorError> {
    let Ack::Hardened { session: sid, tag, .. } = &s.acks[0] else {
        return Err(w.fail("hardened ACK expected"));
    };
    let ad = |ack: &Ack<S>| w.ack_delivery("bob", ack);
    let change = |f: &dyn Fn(&mut Bytes, &mut u64, &mut Bytes)| {
        with_ack(&s.acks[0], |a| {
            if let Ack::Hardened { session, seq, tag, .. } = a {
                f(session, seq, tag);
            }
        })
    };
    g.add(
        Case::new("the ACK's sequence number changed from 0 to 1", receive(ad(&change(&|_, q, _| *q = 1))?))
            .state(two)
            .setup(alice_setup(w, 2)?)
            .flags(&["BitFlip"])
            .invalid("BadMac"),
    )?;
    g.add(
        Case::new(
            "the ACK's tag's first bit flipped",
            receive(ad(&change(&|_, _, d| *d = flip_value(d, 0)))?),
        )
        .state(one)
        .setup(alice_setup(w, 1)?)
        .flags(&["BitFlip"])
        .invalid("BadMac"),
    )?;
    g.add(
        Case::new(
            "the ACK's session id's first bit flipped",
            receive(ad(&change(&|sid, _, _| *sid = flip_value(sid, 0)))?),
        )
        .state(one)
        .setup(alice_setup(w, 1)?)
        .flags(&["BitFlip"])
        .invalid("UnknownSession"),
    )?;
    // Bob's sending MAC key (direction 1) over the ACK input of alice's direction 0.
    let keys = message_keys_for::<S>(s.key.as_slice(), sid.as_slice(), Direction::ResponderToInitiator);
    let mac_key = S::mac_key(&Bytes::secret(keys.mac.as_slice()));
    let forge = |seq: u64, tag: &[u8]| {
        let input = tuple(&[labels::ACK, sid.as_slice(), &[0], &seq.to_be_bytes(), tag]);
        Ack::Hardened {
            session: sid.clone(),
            seq,
            tag: public(tag),
            mac: S::hmac(&mac_key, Input::Raw(&public(&input))),
        }
    };
    g.add(
        Case::new("a validly MACed ACK for message 0 with another tag", receive(ad(&forge(0, &[0x77; 32]))?))
            .state(one)
            .setup(alice_setup(w, 1)?)
            .flags(&["Crafted"])
            .invalid("AckMismatch"),
    )?;
    g.add(
        Case::new(
            "a validly MACed ACK for sequence number 7, never sent",
            receive(ad(&forge(7, tag.as_slice()))?),
        )
        .state(one)
        .setup(alice_setup(w, 1)?)
        .flags(&["Crafted"])
        .invalid("UnexpectedAck"),
    )?;
    let seed_style = Ack::Hardened {
        session: sid.clone(),
        seq: 0,
        tag: tag.clone(),
        mac: S::hmac(&S::mac_key(&s.key), Input::Raw(&public(b"ACK"))),
    };
    g.add(
        Case::new("the seed's ACK MAC, HMAC(K, \"ACK\"), on a hardened ACK", receive(ad(&seed_style)?))
            .state(one)
            .setup(alice_setup(w, 1)?)
            .flags(&["OtherScheme", "Crafted"])
            .invalid("BadMac"),
    )?;
    Ok(())
}

fn server_group(w: &World, s: &Shared) -> Result<TypedGroup, VectorError> {
    let mut g = ServerGroupBuilder::new(
        w,
        "the server relays Ack as AckDelivery (§8.2) with the checks of §7.3",
        &["alice", "bob", "carol"],
        ee2e_spec::limits::PBKDF2_ITERATIONS,
    );
    let (bob, carol) = (w.phone_text("bob"), w.phone_text("carol"));
    let ack = |to: &str, ack: &Ack<S>| w.encode(&Message::Ack { to: w.phone(to), ack: ack.clone() });
    let a0 = &s.acks[0];
    g.add(
        ServerCase::new("bob's ACK for alice, alice online: relayed", bob.clone(), ack("alice", a0)?, 11)
            .online(&["alice"])
            .state("alice and bob registered, alice online")
            .flags(&["Honest", "Relay"]),
    )?;
    g.add(
        ServerCase::new("bob's ACK for alice, alice offline: stored", bob.clone(), ack("alice", a0)?, 11)
            .flags(&["Honest", "Relay"]),
    )?;
    let broken = with_ack(a0, |a| match a {
        Ack::Seed { mac, .. } | Ack::Hardened { mac, .. } => *mac = flip_value(mac, 0),
    });
    g.add(
        ServerCase::new(
            "an ACK with a broken MAC is relayed unchanged",
            bob.clone(),
            ack("alice", &broken)?,
            11,
        )
        .online(&["alice"])
        .state("alice and bob registered, alice online")
        .flags(&["BitFlip", "Relay"]),
    )?;
    g.add(
        ServerCase::new("an ACK from an unregistered sender", carol, ack("alice", a0)?, 11)
            .flags(&["Unexpected"])
            .invalid("NotRegistered"),
    )?;
    g.add(
        ServerCase::new("an ACK for an unregistered recipient", bob.clone(), ack("carol", a0)?, 11)
            .flags(&["WrongPeer"])
            .invalid("UnknownPeer"),
    )?;
    let other = Message::Ack { to: w.phone("alice"), ack: other_layout(a0) };
    g.add(ServerCase::other_profile(w, "Ack", bob, &other, 11)?)?;
    Ok(g.finish())
}
