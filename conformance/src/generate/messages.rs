//! `messages_<profile>.json`: SPEC.md §7 — message keys, sealing, the server's relay of
//! `Data`, and every check of §7.4 on `DataDelivery`, with the replay window.

use ee2e::Bytes;
use ee2e_spec::hazmat::session_key;
use ee2e_spec::{Direction, Message, Profile, Sealed, Suite, Wire};

use super::world::{S, World, flip_value, public};
use super::{
    Case, ClientGroupBuilder, FileSpec, ServerCase, ServerGroupBuilder, message_keys_group, ok, ok_seeded,
    receive,
};
use crate::error::VectorError;
use crate::runner::{message_keys_for, tuple};
use crate::schema::{ClientInput, ClientStep, Hex, TypedGroup};

/// The main message: two AES blocks.
const M0: &[u8] = b"hello bob, this is alice";

pub(crate) fn build(profile: Profile) -> Result<FileSpec, VectorError> {
    let stem = format!("messages_{}", profile.name());
    let w = World::new(profile, &stem)?;
    let sessions = Sessions::new(&w)?;
    let mut groups = Vec::new();
    if profile.wire() == Wire::Hardened {
        groups.push(keys_group(&w, &sessions)?);
    }
    groups.push(sender_group(&w, &sessions)?);
    groups.push(receiver_group(&w, &sessions)?);
    groups.push(server_group(&w, &sessions)?);
    Ok(FileSpec {
        stem,
        algorithm: "EE2E messages",
        description: "Messages (SPEC.md §7): the session keys (§7.1), sealing a Data message (§7.2) with its full \
                      wire encoding, the server's relay (§7.3), and every check of §7.4 on DataDelivery in order, \
                      including the replay window in hardened.",
        profile,
        groups,
    })
}

/// The sessions and messages the scenarios share, made by real clients.
struct Sessions {
    /// Alice's key transports to bob: the first, then four more.
    transports: Vec<Hex>,
    /// Alice's messages to bob under the first session, seq 0..=64 (the first is `M0`).
    to_bob: Vec<Sealed<S>>,
    /// Alice's messages under her second session.
    second: Sealed<S>,
    /// Alice's message to carol.
    to_carol: Sealed<S>,
    /// Bob's messages to alice.
    to_alice: Vec<Sealed<S>>,
    /// The first session's key and id.
    key: Bytes,
    sid: Option<Bytes>,
}

impl Sessions {
    fn new(w: &World) -> Result<Self, VectorError> {
        let mut a = w.client("alice")?;
        let mut b = w.client("bob")?;
        let t1 = w.initiate(&mut a, "bob", "kx/1")?;
        let first = w.key_delivery("alice", &t1)?;
        w.deliver(&mut b, Message::KeyDelivery { from: w.entry("alice"), transport: t1 })?;
        let session = a.session_with(&w.phone("bob")).ok_or_else(|| w.fail("no session"))?.clone();
        let mut to_bob = vec![w.seal(&mut a, "bob", M0, "m/0")?];
        for i in 1..=64u32 {
            to_bob.push(w.seal(&mut a, "bob", format!("message {i}").as_bytes(), &format!("m/{i}"))?);
        }
        let to_alice = (0..2)
            .map(|i| {
                w.seal(&mut b, "alice", format!("hi alice, bob here ({i})").as_bytes(), &format!("b/{i}"))
            })
            .collect::<Result<_, _>>()?;
        w.initiate(&mut a, "carol", "kx/carol")?;
        let to_carol = w.seal(&mut a, "carol", b"hello carol", "c/0")?;
        let mut transports = vec![first];
        for i in 2..=5 {
            let t = w.initiate(&mut a, "bob", &format!("kx/{i}"))?;
            transports.push(w.key_delivery("alice", &t)?);
        }
        let second = w.seal(&mut a, "bob", b"in the newest session", "m/newest")?;
        Ok(Sessions {
            transports,
            to_bob,
            second,
            to_carol,
            to_alice,
            sid: session.id().cloned(),
            key: session_key(&session).clone(),
        })
    }
}

/// Alice's setup: ask for bob's key, receive it with the randomness of the shared session.
fn start_bob(w: &World) -> Result<Vec<ClientStep>, VectorError> {
    Ok(vec![
        ok(ClientInput::StartSession { peer: w.phone_text("bob") }),
        ok_seeded(receive(w.encode(&Message::PeerKey { entry: w.entry("bob") })?), w.seed("kx/1")),
    ])
}

fn keys_group(w: &World, s: &Sessions) -> Result<TypedGroup, VectorError> {
    let sid = s.sid.clone().ok_or_else(|| w.fail("hardened session without id"))?;
    let synthetic_sid = S::sha256(ee2e_spec::Input::Raw(&public(b"a session id")));
    message_keys_group(
        w,
        &[
            (
                "alice and bob's first session in this file".into(),
                vec!["Honest"],
                s.key.as_slice().to_vec(),
                sid.as_slice().to_vec(),
            ),
            ("K = 00 01 … 1f".into(), vec![], (0u8..32).collect(), synthetic_sid.as_slice().to_vec()),
            ("K = ff × 32, sid = 00 × 32".into(), vec!["Boundary"], vec![0xff; 32], vec![0; 32]),
        ],
    )
}

fn sender_group(w: &World, s: &Sessions) -> Result<TypedGroup, VectorError> {
    let p = w.profile;
    let mut g = ClientGroupBuilder::new(
        w,
        "alice (the initiator) seals messages for bob (§7.2) and opens bob's (§7.4)",
        "alice",
        &["alice", "bob", "carol"],
        None,
    );
    let state = "registered; one session with bob (alice initiated it)";
    let send = |text: &[u8]| ClientInput::Send { peer: w.phone_text("bob"), plaintext: Hex(text.to_vec()) };
    let lengths: [(usize, &str); 6] = [
        (0, "an empty message"),
        (1, "1 byte"),
        (15, "15 bytes"),
        (16, "16 bytes (one block)"),
        (17, "17 bytes"),
        (1000, "1000 bytes"),
    ];
    for (len, what) in lengths {
        let text: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
        g.add(
            Case::new(format!("alice seals {what}"), send(&text))
                .state(state)
                .setup(start_bob(w)?)
                .seed(w.seed(&format!("send/{len}")))
                .flags(&["Honest", "Randomized"]),
        )?;
    }
    g.add(
        Case::new("alice seals M0", send(M0))
            .state(state)
            .setup(start_bob(w)?)
            .seed(w.seed("m/0"))
            .flags(&["Honest", "Randomized"]),
    )?;
    let mut after_one = start_bob(w)?;
    after_one.push(ok_seeded(send(M0), w.seed("m/0")));
    g.add(
        Case::new("alice's second message (sequence number 1 in hardened)", send(b"message 1"))
            .state("registered; one session with bob; one message sent")
            .setup(after_one)
            .seed(w.seed("m/1"))
            .flags(&["Honest", "Randomized", "Stateful"]),
    )?;
    g.add(
        Case::new(
            "alice seals for carol, with whom she has no session",
            ClientInput::Send { peer: w.phone_text("carol"), plaintext: Hex(b"hi".to_vec()) },
        )
        .state(state)
        .setup(start_bob(w)?)
        .flags(&["ApiMisuse"])
        .invalid("NoSession"),
    )?;
    g.add(
        Case::new("alice seals before registering", send(M0))
            .unregistered()
            .flags(&["ApiMisuse"])
            .invalid("NotRegistered"),
    )?;
    let from_bob = |i: usize| w.data_delivery("bob", &s.to_alice[i]);
    g.add(
        Case::new("bob's first message to alice", receive(from_bob(0)?))
            .state(state)
            .setup(start_bob(w)?)
            .flags(&["Honest"]),
    )?;
    let mut after = start_bob(w)?;
    after.push(ok(receive(from_bob(0)?)));
    g.add(
        Case::new("bob's second message to alice", receive(from_bob(1)?))
            .state("registered; one session with bob; bob's first message accepted")
            .setup(after)
            .flags(&["Honest", "Stateful"]),
    )?;
    g.add(
        Case::new(
            "alice's own message to bob reflected back to her as bob's",
            receive(w.data_delivery("bob", &s.to_bob[0])?),
        )
        .state(state)
        .setup(start_bob(w)?)
        .flags(&["Reflection"])
        .seed_flaw(p, "BadMac"),
    )?;
    Ok(g.finish())
}

/// A tampered message: what changed, flags, the message, the seed error, the hardened error.
type Tampered<'a> = (&'a str, &'a [&'static str], Sealed<S>, &'static str, &'static str);

/// `sealed` with its fields changed by `f`.
fn tamper(
    sealed: &Sealed<S>,
    f: impl FnOnce(&mut Bytes, &mut Bytes, &mut Bytes, Option<(&mut Bytes, &mut u64)>),
) -> Sealed<S> {
    let mut sealed = sealed.clone();
    match &mut sealed {
        Sealed::Seed { iv, ciphertext, mac } => f(iv, ciphertext, mac, None),
        Sealed::Hardened { session, seq, iv, ciphertext, mac } => {
            f(iv, ciphertext, mac, Some((session, seq)))
        }
    }
    sealed
}

fn receiver_group(w: &World, s: &Sessions) -> Result<TypedGroup, VectorError> {
    let p = w.profile;
    let hardened = p.wire() == Wire::Hardened;
    let mut g = ClientGroupBuilder::new(
        w,
        "bob (the responder) opens alice's messages (§7.4), checks in order, and acknowledges them (§8.1)",
        "bob",
        &["alice", "bob", "carol"],
        None,
    );
    let state = "registered; one session with alice (alice initiated it)";
    let session = || vec![ok(receive(s.transports[0].clone()))];
    let dd = |sealed: &Sealed<S>| w.data_delivery("alice", sealed);
    let m = |i: usize| dd(&s.to_bob[i]);
    g.add(
        Case::new("alice's message M0 (two blocks)", receive(m(0)?))
            .state(state)
            .setup(session())
            .flags(&["Honest"]),
    )?;
    g.add(Case::new("alice's message 1", receive(m(1)?)).state(state).setup(session()).flags(&["Honest"]))?;
    let mut with = |setup_msgs: &[usize],
                    input: usize,
                    comment: &str,
                    flags: &[&'static str],
                    error: Option<&'static str>| {
        let mut setup = session();
        for i in setup_msgs {
            setup.push(ok(receive(m(*i)?)));
        }
        let accepted: Vec<String> = setup_msgs.iter().map(|i| format!("seq {i}")).collect();
        let mut case = Case::new(comment, receive(m(input)?))
            .state(format!("{state}; accepted from alice: {}", accepted.join(", ")))
            .setup(setup)
            .flags(flags);
        if let Some(error) = error {
            case = case.invalid(error);
        }
        g.add(case)
    };
    with(&[2], 0, "message 0 after message 2: out of order, accepted once", &["Honest", "Stateful"], None)?;
    with(&[64], 1, "message 1 after message 64: still inside the window", &["Boundary", "Stateful"], None)?;
    with(
        &[64],
        0,
        "message 0 after message 64: older than the 64-number window",
        &["Boundary", "Stateful"],
        hardened.then_some("MessageTooOld"),
    )?;
    let mut replay = |setup_msgs: &[usize], input: usize, comment: &str| -> Result<(), VectorError> {
        let mut setup = session();
        for i in setup_msgs {
            setup.push(ok(receive(m(*i)?)));
        }
        g.add(
            Case::new(comment, receive(m(input)?))
                .state(format!("{state}; message {input} accepted"))
                .setup(setup)
                .flags(&["Replay", "Stateful"])
                .seed_flaw(p, "ReplayedMessage"),
        )
    };
    replay(&[0], 0, "message 0 delivered twice (E5)")?;
    replay(&[0, 2, 1], 2, "message 2 replayed after messages 0, 2, 1")?;
    g.add(
        Case::new("a message before registering", receive(m(0)?))
            .unregistered()
            .flags(&["Unexpected"])
            .invalid("NotRegistered"),
    )?;
    g.add(
        Case::new("a message from alice without any session", receive(m(0)?))
            .flags(&["Unexpected"])
            .invalid_by(p, "NoSession", "UnknownSession"),
    )?;
    g.add(
        Case::new("alice's message relayed as from carol", receive(w.data_delivery("carol", &s.to_bob[0])?))
            .state(state)
            .setup(session())
            .flags(&["WrongPeer"])
            .invalid_by(p, "NoSession", "SessionPeerMismatch"),
    )?;
    let m0 = &s.to_bob[0];
    let cases: Vec<Tampered<'_>> = vec![
        (
            "the MAC's first bit flipped",
            &["BitFlip"],
            tamper(m0, |_, _, mac, _| *mac = flip_value(mac, 0)),
            "BadMac",
            "BadMac",
        ),
        (
            "the MAC's last bit flipped",
            &["BitFlip"],
            tamper(m0, |_, _, mac, _| *mac = flip_value(mac, -1)),
            "BadMac",
            "BadMac",
        ),
        (
            "the IV's first bit flipped",
            &["BitFlip"],
            tamper(m0, |iv, _, _, _| *iv = flip_value(iv, 0)),
            "BadMac",
            "BadMac",
        ),
        (
            "the IV's last bit flipped",
            &["BitFlip"],
            tamper(m0, |iv, _, _, _| *iv = flip_value(iv, -1)),
            "BadMac",
            "BadMac",
        ),
        (
            "the ciphertext's first bit flipped",
            &["BitFlip"],
            tamper(m0, |_, c, _, _| *c = flip_value(c, 0)),
            "BadMac",
            "BadMac",
        ),
        (
            "the ciphertext's last bit flipped",
            &["BitFlip"],
            tamper(m0, |_, c, _, _| *c = flip_value(c, -1)),
            "DecryptFailed",
            "BadMac",
        ),
        (
            "the ciphertext one byte short",
            &["Truncated"],
            tamper(m0, |_, c, _, _| *c = public(&c.as_slice()[..c.len() - 1])),
            "DecryptFailed",
            "BadMac",
        ),
        (
            "the ciphertext's last block removed",
            &["Truncated"],
            tamper(m0, |_, c, _, _| *c = public(&c.as_slice()[..c.len() - 16])),
            "DecryptFailed",
            "BadMac",
        ),
        (
            "an empty ciphertext",
            &["Truncated"],
            tamper(m0, |_, c, _, _| *c = public(b"")),
            "DecryptFailed",
            "BadMac",
        ),
        (
            "a zero block appended to the ciphertext",
            &["Extended"],
            tamper(m0, |_, c, _, _| {
                let mut bytes = c.as_slice().to_vec();
                bytes.extend_from_slice(&[0; 16]);
                *c = public(&bytes);
            }),
            "DecryptFailed",
            "BadMac",
        ),
    ];
    for (what, flags, sealed, seed_error, hardened_error) in cases {
        g.add(
            Case::new(format!("M0 with {what}"), receive(dd(&sealed)?))
                .state(state)
                .setup(session())
                .flags(flags)
                .invalid_by(p, seed_error, hardened_error),
        )?;
    }
    if hardened {
        let hard: Vec<(&str, &[&'static str], Sealed<S>, &'static str)> = vec![
            (
                "the sequence number changed from 0 to 1",
                &["BitFlip"],
                tamper(m0, |_, _, _, h| {
                    if let Some((_, seq)) = h {
                        *seq = 1
                    }
                }),
                "BadMac",
            ),
            (
                "the session id's first bit flipped",
                &["BitFlip"],
                tamper(m0, |_, _, _, h| {
                    if let Some((sid, _)) = h {
                        *sid = flip_value(sid, 0)
                    }
                }),
                "UnknownSession",
            ),
        ];
        for (what, flags, sealed, error) in hard {
            g.add(
                Case::new(format!("M0 with {what}"), receive(dd(&sealed)?))
                    .state(state)
                    .setup(session())
                    .flags(flags)
                    .invalid(error),
            )?;
        }
    }
    crafted(w, s, &mut g, state, &session)?;
    g.add(
        Case::new("a message in a session bob does not have (alice's newest)", receive(dd(&s.second)?))
            .state(state)
            .setup(session())
            .flags(&["WrongKey"])
            .invalid_by(p, "DecryptFailed", "UnknownSession"),
    )?;
    g.add(
        Case::new("alice's message for carol delivered to bob", receive(dd(&s.to_carol)?))
            .state(state)
            .setup(session())
            .flags(&["WrongPeer"])
            .invalid_by(p, "DecryptFailed", "UnknownSession"),
    )?;
    let two = vec![ok(receive(s.transports[0].clone())), ok(receive(s.transports[1].clone()))];
    let mut case =
        Case::new("message 0 of the first session after a second session was set up", receive(m(0)?))
            .state("registered; two sessions with alice")
            .setup(two)
            .flags(&["Stateful"]);
    if !hardened {
        case = case.invalid("DecryptFailed");
    }
    g.add(case)?;
    if hardened {
        let five: Vec<_> = s.transports.iter().map(|t| ok(receive(t.clone()))).collect();
        g.add(
            Case::new(
                "message 0 of the first session after four newer sessions (4 kept per peer)",
                receive(m(0)?),
            )
            .state("registered; five sessions with alice, the first forgotten")
            .setup(five)
            .flags(&["Stateful", "Boundary"])
            .invalid("UnknownSession"),
        )?;
    }
    g.add(
        Case::new(
            "the other profile's DataDelivery",
            receive(
                w.encode_other(&Message::DataDelivery { from: w.phone("alice"), sealed: other_layout(m0) })?,
            ),
        )
        .state(state)
        .setup(session())
        .flags(&["OtherProfile"])
        .invalid("WrongVersion"),
    )?;
    Ok(g.finish())
}

/// The same fields in the other wire's layout.
pub(crate) fn other_layout(sealed: &Sealed<S>) -> Sealed<S> {
    match sealed.clone() {
        Sealed::Seed { iv, ciphertext, mac } => {
            Sealed::Hardened { session: public(&[0xaa; 32]), seq: 0, iv, ciphertext, mac }
        }
        Sealed::Hardened { iv, ciphertext, mac, .. } => Sealed::Seed { iv, ciphertext, mac },
    }
}

/// Inputs made with the session keys: a valid MAC over bad content.
fn crafted(
    w: &World,
    s: &Sessions,
    g: &mut ClientGroupBuilder<'_>,
    state: &str,
    session: &dyn Fn() -> Vec<ClientStep>,
) -> Result<(), VectorError> {
    let m0 = &s.to_bob[0];
    let dd = |sealed: &Sealed<S>| w.data_delivery("alice", sealed);
    match (m0, &s.sid) {
        (Sealed::Hardened { session: sid, seq, iv, ciphertext, .. }, Some(_)) => {
            let keys =
                message_keys_for::<S>(s.key.as_slice(), sid.as_slice(), Direction::InitiatorToResponder);
            let mac_key = S::mac_key(&Bytes::secret(keys.mac.as_slice()));
            let mac_over = |seq: u64, iv: &[u8], c: &[u8]| {
                let input = tuple(&[
                    &[2],
                    sid.as_slice(),
                    w.phone("alice").as_bytes(),
                    w.phone("bob").as_bytes(),
                    &seq.to_be_bytes(),
                    iv,
                    c,
                ]);
                S::hmac(&mac_key, ee2e_spec::Input::Raw(&public(&input)))
            };
            // M0 is 24 bytes: its last block ends in eight padding bytes 0x08. Flipping the
            // low bit of the first ciphertext block's last byte turns the last one into 0x09.
            let mut c = ciphertext.as_slice().to_vec();
            let n = c.len();
            c[n - 17] ^= 0x01;
            let bad_padding = Sealed::Hardened {
                session: sid.clone(),
                seq: *seq,
                iv: iv.clone(),
                ciphertext: public(&c),
                mac: mac_over(*seq, iv.as_slice(), &c),
            };
            g.add(
                Case::new(
                    "a valid MAC over a ciphertext whose padding is broken",
                    receive(dd(&bad_padding)?),
                )
                .state(state)
                .setup(session())
                .flags(&["Crafted"])
                .invalid("DecryptFailed"),
            )?;
            let seed_style = Sealed::Hardened {
                session: sid.clone(),
                seq: *seq,
                iv: iv.clone(),
                ciphertext: ciphertext.clone(),
                mac: S::hmac(&S::mac_key(&s.key), ee2e_spec::Input::Raw(&public(M0))),
            };
            g.add(
                Case::new("the seed's MAC, HMAC(K, M), on a hardened message", receive(dd(&seed_style)?))
                    .state(state)
                    .setup(session())
                    .flags(&["OtherScheme", "Crafted"])
                    .invalid("BadMac"),
            )?;
            end_of_sequence_space(g, state, session, &|seq| {
                let sealed = Sealed::Hardened {
                    session: sid.clone(),
                    seq,
                    iv: iv.clone(),
                    ciphertext: ciphertext.clone(),
                    mac: mac_over(seq, iv.as_slice(), ciphertext.as_slice()),
                };
                dd(&sealed)
            })?;
        }
        (Sealed::Seed { iv, ciphertext, .. }, None) => {
            let other = Sealed::Seed {
                iv: iv.clone(),
                ciphertext: ciphertext.clone(),
                mac: S::hmac(
                    &S::mac_key(&s.key),
                    ee2e_spec::Input::Raw(&public(b"hello bob, this is carol")),
                ),
            };
            g.add(
                Case::new(
                    "a ciphertext that decrypts, with the MAC of another plaintext",
                    receive(dd(&other)?),
                )
                .state(state)
                .setup(session())
                .flags(&["Crafted"])
                .invalid("BadMac"),
            )?;
            let padding = {
                let mut c = ciphertext.as_slice().to_vec();
                let n = c.len();
                c[n - 17] ^= 0x01;
                Sealed::Seed {
                    iv: iv.clone(),
                    ciphertext: public(&c),
                    mac: S::hmac(&S::mac_key(&s.key), ee2e_spec::Input::Raw(&public(M0))),
                }
            };
            g.add(
                Case::new(
                    "the last padding byte changed (0x08 to 0x09), with the honest MAC",
                    receive(dd(&padding)?),
                )
                .state(state)
                .setup(session())
                .flags(&["BitFlip"])
                .invalid("DecryptFailed"),
            )?;
        }
        _ => return Err(w.fail("session and message layouts disagree")),
    }
    Ok(())
}

/// Accepted numbers, the number delivered next, what it is, flags, the error.
type EndCase<'a> = (&'a [u64], u64, &'a str, &'a [&'static str], &'static str);

/// SPEC.md §7.4 "End of the sequence space": M0 under sequence numbers near `u64::MAX`, each
/// with alice's valid MAC (`at(seq)`). A window that wrapped after accepting `u64::MAX` would
/// accept the last message of every sequence below.
fn end_of_sequence_space(
    g: &mut ClientGroupBuilder<'_>,
    state: &str,
    session: &dyn Fn() -> Vec<ClientStep>,
    at: &dyn Fn(u64) -> Result<Hex, VectorError>,
) -> Result<(), VectorError> {
    const MAX: u64 = u64::MAX;
    let width = ee2e_spec::limits::REPLAY_WINDOW;
    let with = |accepted: &[u64]| -> Result<Vec<ClientStep>, VectorError> {
        let mut setup = session();
        for seq in accepted {
            setup.push(ok(receive(at(*seq)?)));
        }
        Ok(setup)
    };
    let named = |accepted: &[u64]| {
        let names: Vec<String> = accepted.iter().map(|seq| seq_name(*seq)).collect();
        format!("{state}; accepted from alice: {}", names.join(", "))
    };
    g.add(
        Case::new("M0 with sequence number 2^64-1, the last there is", receive(at(MAX)?))
            .state(state)
            .setup(session())
            .flags(&["Boundary", "Crafted"]),
    )?;
    g.add(
        Case::new(
            "M0 with sequence number 2^64-1-63 after 2^64-1: the window's oldest",
            receive(at(MAX - width + 1)?),
        )
        .state(named(&[MAX]))
        .setup(with(&[MAX])?)
        .flags(&["Boundary", "Crafted", "Stateful"]),
    )?;
    let replay: &[&'static str] = &["Boundary", "Crafted", "Replay", "Stateful"];
    let old: &[&'static str] = &["Boundary", "Crafted", "Stateful"];
    let cases: [EndCase<'_>; 5] = [
        (&[MAX], MAX, "2^64-1 delivered twice", replay, "ReplayedMessage"),
        (&[MAX], 0, "0 after 2^64-1", old, "MessageTooOld"),
        (&[5, MAX], 5, "5 replayed after 2^64-1", replay, "MessageTooOld"),
        (&[MAX - 1, MAX], MAX - 1, "2^64-2 replayed after 2^64-1", replay, "ReplayedMessage"),
        (&[MAX], MAX - width, "2^64-1-64 after 2^64-1: just outside the window", old, "MessageTooOld"),
    ];
    for (accepted, input, what, flags, error) in cases {
        g.add(
            Case::new(format!("M0 with sequence number {what}"), receive(at(input)?))
                .state(named(accepted))
                .setup(with(accepted)?)
                .flags(flags)
                .invalid(error),
        )?;
    }
    Ok(())
}

/// A sequence number for a test's description: near `u64::MAX` as `2^64-n`.
fn seq_name(seq: u64) -> String {
    match u64::MAX - seq {
        gap if gap < 1000 => format!("seq 2^64-{}", gap + 1),
        _ => format!("seq {seq}"),
    }
}

fn server_group(w: &World, s: &Sessions) -> Result<TypedGroup, VectorError> {
    let mut g = ServerGroupBuilder::new(
        w,
        "the server relays Data as DataDelivery (§7.3): layout, sender registered, recipient registered; the body \
         is not checked",
        &["alice", "bob", "carol"],
        ee2e_spec::limits::PBKDF2_ITERATIONS,
    );
    let (alice, carol) = (w.phone_text("alice"), w.phone_text("carol"));
    let data =
        |to: &str, sealed: &Sealed<S>| w.encode(&Message::Data { to: w.phone(to), sealed: sealed.clone() });
    let m0 = &s.to_bob[0];
    g.add(
        ServerCase::new("alice's message for bob, bob online: relayed", alice.clone(), data("bob", m0)?, 9)
            .online(&["bob"])
            .state("alice and bob registered, bob online")
            .flags(&["Honest", "Relay"]),
    )?;
    g.add(
        ServerCase::new("alice's message for bob, bob offline: stored", alice.clone(), data("bob", m0)?, 9)
            .flags(&["Honest", "Relay"]),
    )?;
    let broken = tamper(m0, |_, _, mac, _| *mac = flip_value(mac, 0));
    g.add(
        ServerCase::new(
            "a message with a broken MAC is relayed unchanged",
            alice.clone(),
            data("bob", &broken)?,
            9,
        )
        .online(&["bob"])
        .state("alice and bob registered, bob online")
        .flags(&["BitFlip", "Relay"]),
    )?;
    g.add(
        ServerCase::new("a message from an unregistered sender", carol.clone(), data("bob", m0)?, 9)
            .flags(&["Unexpected"])
            .invalid("NotRegistered"),
    )?;
    g.add(
        ServerCase::new("a message for an unregistered recipient", alice.clone(), data("carol", m0)?, 9)
            .flags(&["WrongPeer"])
            .invalid("UnknownPeer"),
    )?;
    let other = Message::Data { to: w.phone("bob"), sealed: other_layout(m0) };
    g.add(ServerCase::other_profile(w, "Data", alice, &other, 9)?)?;
    Ok(g.finish())
}
