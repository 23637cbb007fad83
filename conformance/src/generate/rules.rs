//! `rules_<profile>.json`: the rules the other files do not pin, one scenario each — the OTP
//! request limit and its window (§5.1), a new OTP's fresh attempt count, the queue bound and
//! the delivery modes (§9.2), error codes 10 and 11 (§4.5), the registration state after an
//! error reply and `register` in every state (§5.1, §5.5), sessions counted per peer and
//! sending in the newest (§2.2, §7.2), sequence numbers per session and their end (§7.2),
//! `MessageTooLarge`, the client's own transports among the seen ones (§6.4 check 4), ACKs of
//! replaced sessions (§8.3), PSS's 32-byte salt (§1), and the public-key policy of §2.1 (an
//! even modulus, a non-canonical DER).

use ee2e::{Bytes, PrivateKey};
use ee2e_spec::{
    Ack, DirectoryEntry, ErrorCode, Message, Params, Profile, RegistrationProof, Sealed, Transport, Wire,
};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};

use super::world::{S, World};
use super::{
    Case, ClientGroupBuilder, DecodeGroupBuilder, EncodeGroupBuilder, FieldValue, FileSpec, Intent,
    ServerCase, ServerGroupBuilder, ok, ok_seeded, receive, server_step,
};
use crate::error::VectorError;
use crate::schema::{ClientInput, ClientStep, DeliveryMode, Hex, RegistrationState, TypedGroup};

const NOW: u64 = 2_000_000;

pub(crate) fn build(profile: Profile) -> Result<FileSpec, VectorError> {
    let stem = format!("rules_{}", profile.name());
    let w = World::new(profile, &stem)?;
    Ok(FileSpec {
        groups: vec![
            server_group(&w)?,
            registration_group(&w)?,
            sessions_group(&w)?,
            keys_group(&w)?,
            decode_group(&w)?,
            encode_group(&w)?,
        ],
        stem,
        algorithm: "EE2E rules",
        description: "Rules the other files leave unpinned (SPEC.md §1, §2.1, §2.2, §4.5, §5.1, §5.5, §6.4, §7.2, §8.3, \
                      §9.2): the OTP request limit, the queue bound and delivery modes, the registration state after \
                      an error reply, sessions per peer, sequence numbers per session, MessageTooLarge, the client's \
                      own transports, ACKs of replaced sessions, PSS salt length and the public-key policy.",
        profile,
    })
}

fn hardened(w: &World) -> bool {
    w.profile.wire() == Wire::Hardened
}

/// A registration proof for `name` from `otp`, with the cheapest PBKDF2 when it is never checked.
fn proof(w: &World, name: &str, otp: &str, iterations: u32, label: &str) -> Result<Hex, VectorError> {
    let p = w.party(name);
    let proof = RegistrationProof::<S>::build(
        w.profile,
        iterations,
        &Bytes::secret(otp.as_bytes()),
        &p.phone,
        &p.key,
        p.key.public_key_der(),
        w.server.public_key_der(),
        &mut w.rng(label),
    )
    .map_err(|e| w.fail(format!("building a proof: {e}")))?;
    w.encode(&Message::RegisterSubmit {
        phone: p.phone.clone(),
        public_key: p.key.public_key_der().clone(),
        proof,
    })
}

/// A submission of `public_key` for alice's phone (the proof is never reached: §5.3 check 2).
fn submit_key(w: &World, public_key: Bytes) -> Result<Hex, VectorError> {
    let p = w.party("alice");
    let proof = RegistrationProof::<S>::build(
        w.profile,
        1,
        &Bytes::secret(&b"123456"[..]),
        &p.phone,
        &p.key,
        &public_key,
        w.server.public_key_der(),
        &mut w.rng("submit-key"),
    )
    .map_err(|e| w.fail(format!("building a proof: {e}")))?;
    w.encode(&Message::RegisterSubmit { phone: p.phone.clone(), public_key, proof })
}

/// An RSASSA-PSS-SHA-256 signature by `key` over `input` with a `salt_len`-byte salt.
fn pss_with_salt(
    w: &World,
    key: &PrivateKey,
    input: &Bytes,
    salt_len: usize,
    label: &str,
) -> Result<Bytes, VectorError> {
    let rsa_key = rsa::PrivateKey::from_pkcs8_pem(&key.to_pkcs8_pem())
        .map_err(|e| w.fail(format!("reading a fixture key: {e}")))?;
    let signer = rsa::pss::SigningKey::<rsa::sha2::Sha256>::new_with_salt_len(rsa_key, salt_len);
    let signature = signer
        .try_sign_with_rng(&mut w.rng(label), input.as_slice())
        .map_err(|e| w.fail(format!("PSS signing: {e}")))?;
    Ok(Bytes::public(signature.to_vec()))
}

fn server_group(w: &World) -> Result<TypedGroup, VectorError> {
    let params = Params::default();
    let mut g = ServerGroupBuilder::new(
        w,
        "the OTP request limit and window (§5.1), a new OTP's attempt count (§5.3 check 5), the offline queue's \
         bound (§9.2 check 1) and the delivery modes (§9.2), and §2.1's key policy at registration",
        &["alice", "bob"],
        ee2e_spec::limits::PBKDF2_ITERATIONS,
    );
    let alice = w.phone_text("alice");
    let request = w.encode(&Message::RegisterRequest { phone: w.phone("alice") })?;
    let window = params.otp_request_window_ms;
    g.add(
        ServerCase::new("alice asks for an OTP: 6 ASCII digits by SMS", alice.clone(), request.clone(), NOW)
            .state("alice and bob registered")
            .seed(w.seed("digits"))
            .flags(&["Honest", "Randomized"])
            .pins(&["OTP_DIGITS"]),
    )?;
    let max = u64::from(params.max_otp_requests);
    if hardened(w) {
        let times: Vec<u64> = (0..max).map(|i| NOW - 1000 + i).collect();
        g.add(
            ServerCase::new("a fourth OTP request within the window", alice.clone(), request.clone(), NOW)
                .otp_requests(alice.clone(), &times)
                .state("alice and bob registered; alice asked for an OTP 3 times in the last second")
                .flags(&["Stateful", "Boundary"])
                .invalid("RateLimited"),
        )?;
        g.add(
            ServerCase::new("a third OTP request within the window", alice.clone(), request.clone(), NOW)
                .otp_requests(alice.clone(), &times[..2])
                .state("alice and bob registered; alice asked for an OTP twice in the last second")
                .seed(w.seed("limit/third"))
                .flags(&["Stateful", "Boundary", "Randomized"])
                .pins(&["S5.1.1", "MAX_OTP_REQUESTS"]),
        )?;
        let old = [NOW - window, NOW - 10, NOW - 5];
        g.add(
            ServerCase::new(
                "the oldest of 3 requests is exactly OTP_REQUEST_WINDOW old: it no longer counts",
                alice.clone(),
                request.clone(),
                NOW,
            )
            .otp_requests(alice.clone(), &old)
            .state("alice asked for an OTP 900000 ms, 10 ms and 5 ms ago")
            .seed(w.seed("limit/slide"))
            .flags(&["Stateful", "Boundary", "Randomized"])
            .pins(&["S5.1.1", "OTP_REQUEST_WINDOW"]),
        )?;
        let inside = [NOW - window + 1, NOW - 10, NOW - 5];
        g.add(
            ServerCase::new(
                "the oldest of 3 requests is 1 ms inside OTP_REQUEST_WINDOW: it still counts",
                alice.clone(),
                request.clone(),
                NOW,
            )
            .otp_requests(alice.clone(), &inside)
            .state("alice asked for an OTP 899999 ms, 10 ms and 5 ms ago")
            .flags(&["Stateful", "Boundary"])
            .invalid("RateLimited"),
        )?;
        let mut steps: Vec<_> = (0..max)
            .map(|i| {
                let mut step = server_step(alice.clone(), request.clone(), i, "ok");
                step.rng_seed = Some(w.seed(&format!("limit/setup/{i}")));
                step
            })
            .collect();
        steps.push(server_step(alice.clone(), request.clone(), max, "RateLimited"));
        g.add(
            ServerCase::new(
                "a refused request is not recorded: once the first request leaves the window, one more is accepted",
                alice.clone(),
                request.clone(),
                window + 1,
            )
            .state("alice asked at 0, 1 and 2 ms (accepted) and at 3 ms (refused)")
            .setup(steps)
            .seed(w.seed("limit/after"))
            .flags(&["Stateful", "Boundary", "Randomized"])
            .pins(&["S5.1.1", "OTP_REQUEST_WINDOW"]),
        )?;

        // The new OTP starts at 0 attempts: with the old count (2) one more failure would void it.
        let issued = server_step(alice.clone(), request.clone(), NOW, "ok");
        let issued = super::ServerStep { rng_seed: Some(w.seed("reset/issue")), ..issued };
        let otp = crate::runner::server_otp(Some(&w.seed("reset/issue")))
            .map_err(|p| w.fail(format!("drawing the OTP: {p:?}")))?;
        let wrong = if otp == "000000" { "111111" } else { "000000" };
        let bad = proof(w, "alice", wrong, ee2e_spec::limits::PBKDF2_ITERATIONS, "reset/bad")?;
        g.add(
            ServerCase::new(
                "a new OTP request resets the failed attempts: a second wrong proof is still only rejected",
                alice.clone(),
                bad.clone(),
                NOW + 2,
            )
            .directory(&["bob"])
            .pending(vec![super::pending(alice.clone(), "654321", NOW - 1000, 2)])
            .state("bob registered; alice's OTP 654321 pending with 2 failed attempts; she asks for a new one and submits a wrong proof")
            .setup(vec![issued, server_step(alice.clone(), bad.clone(), NOW + 1, "BadRegistrationTag")])
            .flags(&["Stateful", "OtpAttempts", "FullPbkdf2"])
            .pins(&["S5.3.5", "MAX_OTP_ATTEMPTS"])
            .invalid("BadRegistrationTag"),
        )?;
    }

    // The offline queue's bound (§9.2): 1000 messages wait for bob.
    let data = w.encode(&Message::Data { to: w.phone("bob"), sealed: sample_sealed(w) })?;
    let stored = w.encode(&Message::DataDelivery { from: w.phone("alice"), sealed: sample_sealed(w) })?;
    let full = params.max_queued;
    // `count` messages for bob from senders other than alice, at most `max_queued_per_sender`
    // from each, so that only the count bound (§9.2 check 1) is reached.
    let per_sender = params.max_queued_per_sender;
    let fill = |mut case: ServerCase, count: usize| -> Result<ServerCase, VectorError> {
        let mut left = count;
        for sender in ["carol", "dora", "weak", "eve"] {
            if left == 0 {
                break;
            }
            let n = left.min(per_sender);
            let message =
                w.encode(&Message::DataDelivery { from: w.phone(sender), sealed: sample_sealed(w) })?;
            case = case.queued("bob", message, n);
            left -= n;
        }
        assert_eq!(left, 0, "too few senders to fill the queue");
        Ok(case)
    };
    g.add(
        fill(
            ServerCase::new("a message for bob, offline with a full queue", alice.clone(), data.clone(), NOW),
            full,
        )?
        .state("alice and bob registered, bob offline with 1000 messages waiting from 4 other senders")
        .flags(&["Stateful", "Boundary", "Relay"])
        .pins(&["S9.2.1"])
        .invalid("QueueFull"),
    )?;
    let ack = w.encode(&Message::Ack { to: w.phone("bob"), ack: sample_ack(w) })?;
    g.add(
        fill(ServerCase::new("an ACK for bob, offline with a full queue", alice.clone(), ack, NOW), full)?
            .state("alice and bob registered, bob offline with 1000 messages waiting from 4 other senders")
            .flags(&["Stateful", "Boundary", "Relay"])
            .pins(&["S9.2.1"])
            .invalid("QueueFull"),
    )?;
    g.add(
        fill(
            ServerCase::new(
                "a message for bob, offline with 999 messages waiting",
                alice.clone(),
                data.clone(),
                NOW,
            ),
            full - 1,
        )?
        .state("alice and bob registered, bob offline with 999 messages waiting from 4 other senders")
        .flags(&["Stateful", "Boundary", "Relay"])
        .pins(&["S9.2.1", "MAX_QUEUED_MESSAGES"]),
    )?;
    // §9.2 check 3: 250 messages from alice already wait for bob; her 251st is refused, while
    // with 249 of hers waiting it is stored.
    g.add(
        ServerCase::new("alice's 251st message for bob, offline", alice.clone(), data.clone(), NOW)
            .queued("bob", stored.clone(), per_sender)
            .state("alice and bob registered, bob offline with 250 messages from alice waiting")
            .flags(&["Stateful", "Boundary", "Relay"])
            .pins(&["S9.2.3", "MAX_QUEUED_PER_SENDER"])
            .invalid("QueueFull"),
    )?;
    g.add(
        ServerCase::new("alice's 250th message for bob, offline", alice.clone(), data.clone(), NOW)
            .queued("bob", stored.clone(), per_sender - 1)
            .state("alice and bob registered, bob offline with 249 messages from alice waiting")
            .flags(&["Stateful", "Boundary", "Relay"])
            .pins(&["S9.2.3", "MAX_QUEUED_PER_SENDER"]),
    )?;
    byte_bounds(w, &mut g, &alice, &data)?;
    batches(w, &mut g)?;
    otp_table(w, &mut g, &alice, &request)?;
    let connect = w.encode(&Message::Connect { phone: w.phone("bob") })?;
    let disconnect = w.encode(&Message::Disconnect { phone: w.phone("bob") })?;
    let bob = w.phone_text("bob");
    g.add(
        ServerCase::new(
            "bob online with a full queue of unconfirmed messages: a message is relayed, not stored",
            alice.clone(),
            data.clone(),
            NOW,
        )
        .queued("bob", stored.clone(), full)
        .delivery(DeliveryMode::Confirmed)
        .state("delivery on confirmation; bob has 1000 messages waiting, connected, has confirmed none")
        .setup(vec![server_step(bob.clone(), connect.clone(), NOW - 1, "ok")])
        .flags(&["Stateful", "Relay"])
        .pins(&["S9.2.1"]),
    )?;
    g.add(
        ServerCase::new(
            "delivery on confirmation: bob reconnects without confirming and gets his message again",
            bob.clone(),
            connect.clone(),
            NOW,
        )
        .queued("bob", stored.clone(), 1)
        .delivery(DeliveryMode::Confirmed)
        .state("delivery on confirmation; one message waits for bob; he connected and disconnected confirming nothing")
        .setup(vec![
            server_step(bob.clone(), connect.clone(), NOW - 2, "ok"),
            server_step(bob.clone(), disconnect.clone(), NOW - 1, "ok"),
        ])
        .flags(&["Stateful"]),
    )?;
    g.add(
        ServerCase::new(
            "delivery at Connect: bob reconnects and his queue was emptied the first time",
            bob.clone(),
            connect.clone(),
            NOW,
        )
        .queued("bob", stored, 1)
        .state("one message waited for bob; he connected (receiving it) and disconnected")
        .setup(vec![
            server_step(bob.clone(), connect.clone(), NOW - 2, "ok"),
            server_step(bob, disconnect, NOW - 1, "ok"),
        ])
        .flags(&["Stateful"]),
    )?;

    // §2.1's key policy at registration (§5.3 check 2).
    g.add(
        ServerCase::new(
            "a public key with an even modulus",
            alice.clone(),
            submit_key(w, even_of(w, "alice")?)?,
            NOW,
        )
        .directory(&["bob"])
        .state("bob registered")
        .flags(&["InvalidPublicKey"])
        .invalid("InvalidPublicKey"),
    )?;
    g.add(
        ServerCase::new(
            "a public key in BER with a non-minimal length (not canonical DER)",
            alice.clone(),
            submit_key(w, ber_of(w, "alice")?)?,
            NOW,
        )
        .directory(&["bob"])
        .state("bob registered")
        .flags(&["InvalidPublicKey"])
        .invalid("InvalidPublicKey"),
    )?;
    Ok(g.finish())
}

/// A sealed body of the profile's layout (its content is never opened by the server).
/// The stored size (§9.2) of a filler from `sender` with an `n`-byte ciphertext.
fn filler_size(w: &World, sender: &str, n: usize) -> usize {
    w.phone_text(sender).len() + if hardened(w) { 88 } else { 48 } + n
}

/// The smallest filler ciphertext (a multiple of 16) from `sender` whose stored size is over
/// `room`.
fn filler_over(w: &World, sender: &str, room: usize) -> usize {
    let fixed = filler_size(w, sender, 0);
    (room.saturating_sub(fixed) / 16 + 1) * 16
}

/// §9.2 checks 2 and 4: the queue's bytes and one sender's bytes, each at its boundary — the
/// message that would take them one byte group past the bound is refused, one 16 bytes
/// smaller in the queue before it is stored. Fillers (1 MiB ciphertexts) keep the files small.
fn byte_bounds(w: &World, g: &mut ServerGroupBuilder, alice: &str, data: &Hex) -> Result<(), VectorError> {
    let params = Params::default();
    let m = Message::DataDelivery { from: w.phone("alice"), sealed: sample_sealed(w) }.stored_size();
    let big = ee2e_spec::limits::MAX_PLAINTEXT;
    // One sender: 15 large fillers and one that leaves less room than alice's message.
    let sender_room = params.max_queued_bytes_per_sender - 15 * filler_size(w, "alice", big) - m;
    let c = filler_over(w, "alice", sender_room);
    for (what, n, refused) in [("just over", c, true), ("at", c - 16, false)] {
        let case = ServerCase::new(
            format!("alice's message for bob would take her queued bytes {what} MAX_QUEUED_BYTES_PER_SENDER"),
            alice.to_string(),
            data.clone(),
            NOW,
        )
        .filler("bob", alice, big, 15)
        .filler("bob", alice, n, 1)
        .state(format!(
            "alice and bob registered, bob offline with 16 messages from alice waiting: 15 with 1 MiB ciphertexts, \
             one with {n} bytes"
        ))
        .flags(&["Stateful", "Boundary", "Relay"])
        .pins(&["S9.2.4", "MAX_QUEUED_BYTES_PER_SENDER"]);
        g.add(if refused { case.invalid("QueueFull") } else { case })?;
    }
    // The whole queue: 15 large fillers from each of four senders, 3 from alice, and one of
    // alice's that leaves less room than her message.
    let others = ["carol", "dora", "weak", "eve"];
    let queued: usize =
        others.iter().map(|o| 15 * filler_size(w, o, big)).sum::<usize>() + 3 * filler_size(w, "alice", big);
    let room = params.max_queued_bytes - queued - m;
    let c = filler_over(w, "alice", room);
    for (what, n, refused) in [("just over", c, true), ("at", c - 16, false)] {
        let mut case = ServerCase::new(
            format!("alice's message for bob would take bob's queued bytes {what} MAX_QUEUED_BYTES"),
            alice.to_string(),
            data.clone(),
            NOW,
        );
        for other in others {
            case = case.filler("bob", &w.phone_text(other), big, 15);
        }
        let case = case
            .filler("bob", alice, big, 3)
            .filler("bob", alice, n, 1)
            .state(format!(
                "alice and bob registered, bob offline with 64 messages waiting: 15 with 1 MiB ciphertexts from each \
                 of 4 other senders, 3 from alice, and one from alice with {n} bytes"
            ))
            .flags(&["Stateful", "Boundary", "Relay"])
            .pins(&["S9.2.2", "MAX_QUEUED_BYTES"]);
        g.add(if refused { case.invalid("QueueFull") } else { case })?;
    }
    Ok(())
}

/// Stored delivery in batches (§9.2), under delivery on confirmation: `Connect` sends the first
/// `DELIVERY_BATCH_MESSAGES` messages, or as many of the oldest as fit in
/// `DELIVERY_BATCH_BYTES`.
fn batches(w: &World, g: &mut ServerGroupBuilder) -> Result<(), VectorError> {
    let params = Params::default();
    let bob = w.phone_text("bob");
    let connect = w.encode(&Message::Connect { phone: w.phone("bob") })?;
    let stored = w.encode(&Message::DataDelivery { from: w.phone("alice"), sealed: sample_sealed(w) })?;
    let batch = params.batch_messages;
    for count in [batch, batch + 1] {
        g.add(
            ServerCase::new(
                format!("bob connects with {count} messages waiting"),
                bob.clone(),
                connect.clone(),
                NOW,
            )
            .queued("bob", stored.clone(), count)
            .delivery(DeliveryMode::Confirmed)
            .state(format!("delivery on confirmation; bob offline with {count} messages from alice waiting"))
            .flags(&["Stateful", "Boundary", "Relay"])
            .pins(&["DELIVERY_BATCH_MESSAGES"]),
        )?;
    }
    // Four fillers that fill the batch's bytes exactly, then one 16 bytes larger each.
    let alice = w.phone_text("alice");
    let fit = (params.batch_bytes / 4 - filler_size(w, "alice", 0)) / 16 * 16;
    for (what, n) in [("fit", fit), ("do not fit", fit + 16)] {
        g.add(
            ServerCase::new(
                format!(
                    "bob connects with 5 large messages waiting, 4 of which {what} in DELIVERY_BATCH_BYTES"
                ),
                bob.clone(),
                connect.clone(),
                NOW,
            )
            .filler("bob", &alice, n, 5)
            .delivery(DeliveryMode::Confirmed)
            .state(format!(
                "delivery on confirmation; bob offline with 5 messages from alice of {n}-byte ciphertexts"
            ))
            .flags(&["Stateful", "Boundary", "Relay"])
            .pins(&["DELIVERY_BATCH_BYTES"]),
        )?;
    }
    Ok(())
}

/// §5.1 check 2: the OTP tables hold rows for at most `MAX_OTP_PHONES` phones.
fn otp_table(w: &World, g: &mut ServerGroupBuilder, alice: &str, request: &Hex) -> Result<(), VectorError> {
    let params = Params::default();
    let full = params.max_otp_phones;
    let ttl = params.otp_ttl_ms;
    g.add(
        ServerCase::new(
            "alice asks for an OTP while the OTP tables are full",
            alice.to_string(),
            request.clone(),
            NOW,
        )
        .otp_phones(full, NOW - 1000)
        .state(format!("alice and bob registered; {full} other phones have OTPs pending since 1 s ago"))
        .flags(&["Stateful", "Boundary"])
        .invalid("OtpTableFull"),
    )?;
    g.add(
        ServerCase::new("alice asks for an OTP with one row free", alice.to_string(), request.clone(), NOW)
            .otp_phones(full - 1, NOW - 1000)
            .state(format!(
                "alice and bob registered; {} other phones have OTPs pending since 1 s ago",
                full - 1
            ))
            .seed(w.seed("table/free"))
            .flags(&["Stateful", "Boundary", "Randomized"])
            .pins(&["S5.1.2", "MAX_OTP_PHONES"]),
    )?;
    g.add(
        ServerCase::new(
            "alice asks again while the OTP tables are full, one row hers",
            alice.to_string(),
            request.clone(),
            NOW,
        )
        .otp_phones(full - 1, NOW - 1000)
        .pending(vec![super::pending(alice.to_string(), "654321", NOW - 1000, 0)])
        .state(format!("alice and bob registered; alice and {} other phones have OTPs pending", full - 1))
        .seed(w.seed("table/own"))
        .flags(&["Stateful", "Boundary", "Randomized"])
        .pins(&["S5.1.2", "MAX_OTP_PHONES"]),
    )?;
    g.add(
        ServerCase::new(
            "alice asks for an OTP while the OTP tables are full of expired rows: a sweep makes room",
            alice.to_string(),
            request.clone(),
            NOW,
        )
        .otp_phones(full, NOW - ttl - 1)
        .state(format!("alice and bob registered; {full} other phones have OTPs that expired 1 ms ago"))
        .seed(w.seed("table/swept"))
        .flags(&["Stateful", "Boundary", "Randomized"])
        .pins(&["S5.1.2", "MAX_OTP_PHONES", "OTP_TTL"]),
    )?;
    Ok(())
}

fn sample_sealed(w: &World) -> Sealed<S> {
    let b = |n: usize, v: u8| Bytes::public(vec![v; n]);
    if hardened(w) {
        Sealed::Hardened {
            session: b(32, 0xaa),
            seq: 7,
            iv: b(16, 0x11),
            ciphertext: b(32, 0xce),
            mac: b(32, 0x4d),
        }
    } else {
        Sealed::Seed { iv: b(16, 0x11), ciphertext: b(32, 0xce), mac: b(32, 0x4d) }
    }
}

fn sample_ack(w: &World) -> Ack<S> {
    let b = |n: usize, v: u8| Bytes::public(vec![v; n]);
    if hardened(w) {
        Ack::Hardened { session: b(32, 0xaa), seq: 7, tag: b(32, 0xdd), mac: b(32, 0x33) }
    } else {
        Ack::Seed { text: Bytes::public(&b"ACK"[..]), mac: b(32, 0x33) }
    }
}

fn error(w: &World, code: ErrorCode) -> Result<ClientInput, VectorError> {
    Ok(receive(w.encode(&Message::Error { code })?))
}

fn registration_group(w: &World) -> Result<TypedGroup, VectorError> {
    let mut g = ClientGroupBuilder::new(
        w,
        "alice's registration state after error replies (§5.5), register in every state (§5.1), and the first \
         check on what an unregistered client receives (§10.2)",
        "alice",
        &["alice", "bob"],
        Some(ee2e_spec::limits::PBKDF2_ITERATIONS),
    );
    use RegistrationState::*;
    for (code, name) in [(ErrorCode::RateLimited, "RateLimited"), (ErrorCode::Internal, "Internal")] {
        g.add(
            Case::new(format!("a {name} reply while awaiting the OTP: no SMS will come"), error(w, code)?)
                .registration(AwaitingOtp)
                .state("registration requested")
                .flags(&["Stateful"]),
        )?;
    }
    g.add(
        Case::new(
            "an OtpExpired reply while awaiting the OTP leaves the state",
            error(w, ErrorCode::OtpExpired)?,
        )
        .registration(AwaitingOtp)
        .state("registration requested")
        .flags(&["Stateful"]),
    )?;
    g.add(
        Case::new("a QueueFull reply to a registered client", error(w, ErrorCode::QueueFull)?)
            .flags(&["Stateful"]),
    )?;
    for state in [Unregistered, AwaitingOtp, AwaitingResult, Registered] {
        g.add(
            Case::new(format!("register while {state:?}"), ClientInput::Register {})
                .registration(state)
                .state(format!("{state:?}")),
        )?;
    }
    let result = receive(w.encode(&Message::RegisterResult { entry: w.entry("alice") })?);
    g.add(
        Case::new("a RegisterResult after register abandoned the submission", result)
            .registration(AwaitingResult)
            .state("submission sent, then register again")
            .setup(vec![ok(ClientInput::Register {})])
            .flags(&["Unexpected", "Stateful"])
            .invalid("UnexpectedMessage"),
    )?;
    let (mut bob, _) = (w.client("bob")?, ());
    let t = w.initiate(&mut bob, "alice", "reg/kx")?;
    let kd = w.key_delivery("bob", &t)?;
    g.add(
        Case::new("a key delivery while registering again", receive(kd.clone()))
            .state("registered, then register again")
            .setup(vec![ok(ClientInput::Register {})])
            .flags(&["Stateful"])
            .invalid("NotRegistered"),
    )?;
    let data = w.encode(&Message::Data { to: w.phone("alice"), sealed: sample_sealed(w) })?;
    g.add(
        Case::new(
            "an unregistered client receives a client→server type: the type comes first",
            receive(data),
        )
        .unregistered()
        .flags(&["Unexpected"])
        .invalid("UnexpectedMessage"),
    )?;
    let dd = w.encode(&Message::DataDelivery { from: w.phone("bob"), sealed: sample_sealed(w) })?;
    g.add(
        Case::new("an unregistered client receives a relayed message", receive(dd))
            .unregistered()
            .flags(&["Unexpected"])
            .invalid("NotRegistered"),
    )?;
    g.add(
        Case::new("an OTP while unregistered", ClientInput::OtpReceived { otp: "123456".into() })
            .unregistered()
            .flags(&["ApiMisuse"])
            .invalid("NoRegistrationInProgress"),
    )?;
    g.add(
        Case::new(
            "send while unregistered",
            ClientInput::Send { peer: w.phone_text("bob"), plaintext: Hex(b"hi".to_vec()) },
        )
        .unregistered()
        .flags(&["ApiMisuse"])
        .invalid("NotRegistered"),
    )?;
    Ok(g.finish())
}

/// Alice's steps to start a session with `peer` as initiator, with the randomness `label`.
fn initiate_steps(w: &World, peer: &str, label: &str) -> Result<Vec<ClientStep>, VectorError> {
    Ok(vec![
        ok(ClientInput::StartSession { peer: w.phone_text(peer) }),
        ok_seeded(receive(w.encode(&Message::PeerKey { entry: w.entry(peer) })?), w.seed(label)),
    ])
}

fn send_step(w: &World, peer: &str, text: &[u8], label: &str) -> ClientStep {
    ok_seeded(ClientInput::Send { peer: w.phone_text(peer), plaintext: Hex(text.to_vec()) }, w.seed(label))
}

/// `from`'s ACK, by a client that received `transports` (in order) and then `sealed`.
fn ack_of(
    w: &World,
    from: &str,
    transports: &[Transport<S>],
    sealed: &Sealed<S>,
) -> Result<Hex, VectorError> {
    let mut peer = w.client(from)?;
    for t in transports {
        w.deliver(&mut peer, Message::KeyDelivery { from: w.entry("alice"), transport: t.clone() })?;
    }
    let ack = w.acknowledge(&mut peer, "alice", sealed)?;
    w.ack_delivery(from, &ack)
}

fn sessions_group(w: &World) -> Result<TypedGroup, VectorError> {
    let mut g = ClientGroupBuilder::new(
        w,
        "sessions per peer (§2.2), the newest session for sending and sequence numbers per session (§7.2), \
         MessageTooLarge, and ACKs of messages whose session was replaced (§8.3)",
        "alice",
        &["alice", "bob", "carol"],
        None,
    );
    let keep = if hardened(w) { ee2e_spec::limits::MAX_SESSIONS_PER_PEER } else { 1 };

    // Alice responds to carol once, then to bob keep + 1 times: bob's oldest session goes.
    let mut carol = w.client("carol")?;
    let tc = w.initiate(&mut carol, "alice", "per-peer/carol")?;
    let from_carol = w.seal(&mut carol, "alice", b"from carol", "per-peer/carol/m")?;
    let mut bob = w.client("bob")?;
    let mut steps = vec![ok(receive(w.key_delivery("carol", &tc)?))];
    let mut in_session = Vec::new();
    for i in 0..=keep {
        let t = w.initiate(&mut bob, "alice", &format!("per-peer/bob/{i}"))?;
        in_session.push(w.seal(
            &mut bob,
            "alice",
            format!("bob, session {i}").as_bytes(),
            &format!("per-peer/bob/{i}/m"),
        )?);
        steps.push(ok(receive(w.key_delivery("bob", &t)?)));
    }
    let state = format!("registered; a session with carol, then {} with bob", keep + 1);
    g.add(
        Case::new(
            "sessions are counted per peer: carol's older session is kept",
            receive(w.data_delivery("carol", &from_carol)?),
        )
        .state(state.clone())
        .setup(steps.clone())
        .flags(&["Stateful"])
        .pins(&["MAX_SESSIONS_PER_PEER"]),
    )?;
    let oldest = receive(w.data_delivery("bob", &in_session[0])?);
    let oldest_case = Case::new("a message in bob's oldest session, dropped for the newest", oldest)
        .state(state.clone())
        .setup(steps.clone())
        .flags(&["Stateful", "Boundary"])
        .pins(&["MAX_SESSIONS_PER_PEER"]);
    g.add(if hardened(w) {
        oldest_case.invalid("UnknownSession")
    } else {
        oldest_case.invalid("DecryptFailed")
    })?;
    g.add(
        Case::new("a message in bob's oldest kept session", receive(w.data_delivery("bob", &in_session[1])?))
            .state(state)
            .setup(steps)
            .flags(&["Stateful", "Boundary"])
            .pins(&["MAX_SESSIONS_PER_PEER"]),
    )?;

    // Alice initiates: bob, carol, bob again; she sends in the newest session with bob.
    let mut steps = initiate_steps(w, "bob", "newest/bob/0")?;
    steps.push(send_step(w, "bob", b"first", "newest/m/0"));
    steps.push(send_step(w, "bob", b"second", "newest/m/1"));
    steps.extend(initiate_steps(w, "carol", "newest/carol")?);
    let send = |text: &[u8]| ClientInput::Send { peer: w.phone_text("bob"), plaintext: Hex(text.to_vec()) };
    let send_carol = ClientInput::Send { peer: w.phone_text("carol"), plaintext: Hex(b"to carol".to_vec()) };
    g.add(
        Case::new("a new session with carol counts from sequence number 0", send_carol)
            .state("registered; session with bob (messages 0 and 1 sent), then one with carol")
            .setup(steps.clone())
            .seed(w.seed("newest/m/carol"))
            .flags(&["Stateful", "Randomized"])
            .pins(&["S7.2.3"]),
    )?;
    steps.extend(initiate_steps(w, "bob", "newest/bob/1")?);
    g.add(
        Case::new("alice sends in her newest session with bob, from sequence number 0", send(b"third"))
            .state("registered; session with bob (messages 0 and 1 sent), one with carol, a second with bob")
            .setup(steps)
            .seed(w.seed("newest/m/2"))
            .flags(&["Stateful", "Randomized"])
            .pins(&["S7.2.3"]),
    )?;

    let mut steps = initiate_steps(w, "bob", "end/bob")?;
    let big = vec![0x61; Params::default().max_plaintext + 1];
    g.add(
        Case::new(
            "a plaintext one byte over MAX_PLAINTEXT (checked before the session)",
            ClientInput::Send { peer: w.phone_text("carol"), plaintext: Hex(big) },
        )
        .state("registered; no session with carol")
        .flags(&["Boundary", "Extended", "ApiMisuse"])
        .invalid("MessageTooLarge"),
    )?;
    if hardened(w) {
        steps.push(ok(ClientInput::ResumeSequence { peer: w.phone_text("bob"), next: u64::MAX }));
        g.add(
            Case::new("alice seals sequence number 2^64-1", send(b"last"))
                .state("registered; a session with bob whose next sequence number is 2^64-1")
                .setup(steps.clone())
                .seed(w.seed("end/m/0"))
                .flags(&["Stateful", "Boundary", "Randomized"])
                .pins(&["S7.2.4"]),
        )?;
        steps.push(send_step(w, "bob", b"last", "end/m/0"));
        g.add(
            Case::new("after sequence number 2^64-1 the session seals no more", send(b"one more"))
                .state("registered; a session with bob that sealed sequence number 2^64-1")
                .setup(steps)
                .seed(w.seed("end/m/1"))
                .flags(&["Stateful", "Boundary"])
                .invalid("SequenceExhausted"),
        )?;
    }

    // ACKs of a message whose session was replaced (§8.3, "Replaced sessions").
    let mut alice = w.client("alice")?;
    let t0 = w.initiate(&mut alice, "bob", "replaced/kx/0")?;
    let m0 = w.seal(&mut alice, "bob", b"in the first session", "replaced/m/0")?;
    let t1 = w.initiate(&mut alice, "bob", "replaced/kx/1")?;
    let mut steps = initiate_steps(w, "bob", "replaced/kx/0")?;
    steps.push(send_step(w, "bob", b"in the first session", "replaced/m/0"));
    steps.extend(initiate_steps(w, "bob", "replaced/kx/1")?);
    let first_ack = ack_of(w, "bob", std::slice::from_ref(&t0), &m0)?;
    if hardened(w) {
        g.add(
            Case::new(
                "bob's ACK of a message in alice's replaced but kept session",
                receive(first_ack.clone()),
            )
            .state("registered; message 0 sent in a session with bob, then a second session with bob")
            .setup(steps.clone())
            .flags(&["Stateful"]),
        )?;
        let mut dropped = steps.clone();
        for i in 2..=keep {
            dropped.extend(initiate_steps(w, "bob", &format!("replaced/kx/{i}"))?);
        }
        g.add(
            Case::new("bob's ACK of a message whose session alice no longer keeps", receive(first_ack))
                .state("registered; message 0 sent in a session with bob, then 4 newer sessions with bob")
                .setup(dropped)
                .flags(&["Stateful", "Boundary"])
                .pins(&["MAX_SESSIONS_PER_PEER"])
                .invalid("UnknownSession"),
        )?;
    } else {
        let m1 = w.seal(&mut alice, "bob", b"in the second session", "replaced/m/1")?;
        let second_ack = ack_of(w, "bob", &[t0.clone(), t1.clone()], &m1)?;
        let mut both = steps.clone();
        both.push(send_step(w, "bob", b"in the second session", "replaced/m/1"));
        g.add(
            Case::new(
                "an ACK under the new K acknowledges the oldest message, sealed under the replaced K",
                receive(second_ack),
            )
            .state("registered; message 0 sent under K1, then K2 with bob and message 1 under it")
            .setup(both)
            .flags(&["Stateful", "SeedFlaw"]),
        )?;
        g.add(
            Case::new("an ACK under the replaced K", receive(first_ack))
                .state("registered; message 0 sent under K1, then K2 with bob")
                .setup(steps)
                .flags(&["Stateful", "WrongKey"])
                .invalid("BadMac"),
        )?;
    }
    Ok(g.finish())
}

/// Keys: the client's own transports (E3), PSS salt length, §2.1's policy at the client.
fn keys_group(w: &World) -> Result<TypedGroup, VectorError> {
    let mut g = ClientGroupBuilder::new(
        w,
        "keys at the client: its own transports are seen ones (§6.4 check 4), PSS verifies only a 32-byte salt \
         (§1), and §2.1's public-key policy for a peer's entry (§6.2 check 3)",
        "alice",
        &["alice", "bob"],
        None,
    );
    let start = ok(ClientInput::StartSession { peer: w.phone_text("bob") });
    let bob_pk = w.public_key("bob");
    let peer_key = |pk: &Bytes, label: &str| -> Result<ClientInput, VectorError> {
        let entry = w.sign(&w.phone("bob"), pk, label)?;
        Ok(receive(w.encode(&Message::PeerKey { entry })?))
    };
    g.add(
        Case::new(
            "bob's entry with an even modulus, signed by the server",
            peer_key(&even_of(w, "bob")?, "even")?,
        )
        .state("registered; bob's key requested")
        .setup(vec![start.clone()])
        .flags(&["InvalidPublicKey"])
        .invalid("InvalidPublicKey"),
    )?;
    g.add(
        Case::new(
            "bob's entry in BER (not canonical DER), signed by the server",
            peer_key(&ber_of(w, "bob")?, "ber")?,
        )
        .state("registered; bob's key requested")
        .setup(vec![start.clone()])
        .flags(&["InvalidPublicKey"])
        .invalid("InvalidPublicKey"),
    )?;
    if hardened(w) {
        // The directory signature with a 20-byte salt (else honest).
        let input = super::craft::directory_input(w.profile, &w.phone("bob"), &bob_pk);
        let signature = pss_with_salt(w, &w.server, &input, 20, "salt/dir")?;
        let entry = DirectoryEntry { phone: w.phone("bob"), public_key: bob_pk.clone(), signature };
        g.add(
            Case::new(
                "bob's directory signature is PSS with a 20-byte salt",
                receive(w.encode(&Message::PeerKey { entry })?),
            )
            .state("registered; bob's key requested")
            .setup(vec![start])
            .flags(&["OtherScheme"])
            .invalid("BadDirectorySignature"),
        )?;
        // Bob's transport to alice, its signature with a 20-byte salt.
        let mut bob = w.client("bob")?;
        let t = w.initiate(&mut bob, "alice", "salt/kx")?;
        let sig_input = super::craft::transport_input(&w.phone("bob"), &w.phone("alice"), &t.ciphertext);
        let signature = pss_with_salt(w, &w.party("bob").key, &sig_input, 20, "salt/kx/sig")?;
        let salted = Transport { ciphertext: t.ciphertext.clone(), signature };
        g.add(
            Case::new(
                "bob's transport signature is PSS with a 20-byte salt",
                receive(w.key_delivery("bob", &salted)?),
            )
            .flags(&["OtherScheme"])
            .invalid("BadTransportSignature"),
        )?;
        // §6.2 check 4 and §6.4 check 2a: MAX_TRANSPORTS_PER_PEER transports with bob recorded.
        let max = ee2e_spec::limits::MAX_TRANSPORTS_PER_PEER;
        let bob_key = receive(w.encode(&Message::PeerKey { entry: w.entry("bob") })?);
        let lookup = ok(ClientInput::StartSession { peer: w.phone_text("bob") });
        for (count, refused) in [(max, true), (max - 1, false)] {
            let case = Case::new(
                format!("bob's key arrives with {count} transports with bob recorded"),
                bob_key.clone(),
            )
            .seen_transports("bob", count)
            .state(format!("registered; {count} key transports with bob recorded; bob's key requested"))
            .setup(vec![lookup.clone()])
            .seed(w.seed(&format!("transports/start/{count}")))
            .flags(&["Stateful", "Boundary"])
            .pins(&["S6.2.4", "MAX_TRANSPORTS_PER_PEER"]);
            g.add(if refused { case.invalid("TooManyTransports") } else { case })?;
        }
        let mut bob_client = w.client("bob")?;
        let t = w.initiate(&mut bob_client, "alice", "transports/kx")?;
        for (count, refused) in [(max, true), (max - 1, false)] {
            let case = Case::new(
                format!("bob's key transport arrives with {count} transports with bob recorded"),
                receive(w.key_delivery("bob", &t)?),
            )
            .seen_transports("bob", count)
            .state(format!("registered; {count} key transports with bob recorded"))
            .flags(&["Stateful", "Boundary"])
            .pins(&["S6.4.2a", "MAX_TRANSPORTS_PER_PEER"]);
            g.add(if refused { case.invalid("TooManyTransports") } else { case })?;
        }
        // Alice's own transport to bob, signed back to her by bob.
        let mut alice = w.client("alice")?;
        let own = w.initiate(&mut alice, "bob", "own/kx")?;
        let back_input = super::craft::transport_input(&w.phone("bob"), &w.phone("alice"), &own.ciphertext);
        let signature = super::craft::sign(
            w,
            &w.party("bob").key,
            ee2e_spec::SigScheme::PssSha256,
            &back_input,
            "own/sig",
        )?;
        let reflected = Transport { ciphertext: own.ciphertext.clone(), signature };
        g.add(
            Case::new(
                "alice's own transport to bob, signed back to her by bob",
                receive(w.key_delivery("bob", &reflected)?),
            )
            .state("registered; alice started a session with bob")
            .setup(initiate_steps(w, "bob", "own/kx")?)
            .flags(&["Reflection", "Crafted", "Stateful"])
            .invalid("ReplayedKeyTransport"),
        )?;
    }
    Ok(g.finish())
}

/// `name`'s public key with an even modulus: the modulus's last byte, just before the
/// exponent `02 03 01 00 01` that ends the DER, with its low bit cleared.
fn even_of(w: &World, name: &str) -> Result<Bytes, VectorError> {
    let mut der = w.public_key(name).as_slice().to_vec();
    let at = der.len().checked_sub(6).ok_or_else(|| w.fail("short DER"))?;
    if der[at + 1..] != [0x02, 0x03, 0x01, 0x00, 0x01] || der[at] & 1 == 0 {
        return Err(w.fail(format!("{name}'s DER does not end with an odd modulus and e = 65537")));
    }
    der[at] &= 0xfe;
    Ok(Bytes::public(der))
}

/// `name`'s public key with its outer SEQUENCE length in a longer form than DER's shortest
/// (`30 82 hi lo` as `30 83 00 hi lo`): BER, not the canonical DER §2.1 requires.
fn ber_of(w: &World, name: &str) -> Result<Bytes, VectorError> {
    let der = w.public_key(name).as_slice().to_vec();
    if der.get(..2) != Some(&[0x30, 0x82][..]) {
        return Err(w.fail(format!("{name}'s DER does not start with a two-byte length")));
    }
    let mut out = vec![0x30, 0x83, 0x00];
    out.extend_from_slice(&der[2..]);
    Ok(Bytes::public(out))
}

fn decode_group(w: &World) -> Result<TypedGroup, VectorError> {
    let mut g =
        DecodeGroupBuilder::new(w, "the error codes added with the request limit and the queue bound (§4.5)");
    let v = w.profile.wire() as u8;
    g.add("Error RateLimited (code 10)", &["Boundary"], vec![v, 0x7f, 0x0a], Intent::Valid)?;
    g.add("Error QueueFull (code 11)", &["Boundary"], vec![v, 0x7f, 0x0b], Intent::Valid)?;
    g.add(
        "Error with code 12, the first unknown above the table",
        &["Boundary", "Malformed"],
        vec![v, 0x7f, 0x0c],
        Intent::Invalid("UnknownErrorCode"),
    )?;
    Ok(g.finish())
}

/// The encoder's refusals (§4.6): each case is an honest message with one field changed.
/// `fields` with the field `change` names, where there is a change, set to its bytes.
fn changed(
    mut fields: Vec<(&'static str, FieldValue)>,
    change: Option<(&'static str, Vec<u8>)>,
) -> Vec<(&'static str, FieldValue)> {
    if let Some((name, value)) = change {
        fields
            .iter_mut()
            .filter(|(n, _)| *n == name)
            .for_each(|(_, f)| *f = FieldValue::Bytes(value.clone()));
    }
    fields
}

fn encode_group(w: &World) -> Result<TypedGroup, VectorError> {
    use FieldValue::{Bytes as B, Text};
    let mut g = EncodeGroupBuilder::new(
        w,
        "the encoder (§4.6): a message with a body of the other layout, a field over its kind's maximum, an empty \
         signature, RSA ciphertext or sealed tag, a fixed field of the wrong size; nothing is sent",
    );
    let v = w.profile.wire() as u8;
    let other = 3 - v;
    let bob = || Text(w.phone_text("bob"));
    let data = |layout: u8, change: Option<(&'static str, Vec<u8>)>| {
        let mut fields = vec![("Data.to", bob())];
        if layout == 2 {
            fields.push(("Sealed.session", B(vec![0xaa; 32])));
            fields.push(("Sealed.seq", B(vec![0, 0, 0, 0, 0, 0, 0x12, 0x34])));
        }
        fields.extend([
            ("Sealed.iv", B(vec![0x11; 16])),
            ("Sealed.ciphertext", B(vec![0xce; 16])),
            ("Sealed.mac", B(vec![0x4d; 32])),
        ]);
        changed(fields, change)
    };
    g.add("an honest Data", &["Honest"], "Data", Some(v), &data(v, None), Intent::Valid)?;
    g.add(
        "Data with the other profile's Sealed layout",
        &["OtherProfile"],
        "Data",
        Some(other),
        &data(other, None),
        Intent::Invalid("WrongLayout"),
    )?;
    g.add(
        "an IV of 15 bytes",
        &["Truncated"],
        "Data",
        Some(v),
        &data(v, Some(("Sealed.iv", vec![0x11; 15]))),
        Intent::Invalid("WrongLength"),
    )?;
    g.add(
        "a MAC of 33 bytes",
        &["Extended"],
        "Data",
        Some(v),
        &data(v, Some(("Sealed.mac", vec![0x4d; 33]))),
        Intent::Invalid("WrongLength"),
    )?;
    let entry = |pk: usize, sig: usize| {
        vec![
            ("DirectoryEntry.phone", bob()),
            ("DirectoryEntry.public_key", B(vec![0x30; pk])),
            ("DirectoryEntry.signature", B(vec![0x5a; sig])),
        ]
    };
    g.add(
        "a public key of 1024 bytes, the maximum",
        &["Boundary"],
        "PeerKey",
        None,
        &entry(1024, 256),
        Intent::Valid,
    )?;
    g.add(
        "a public key of 1025 bytes",
        &["Boundary", "Extended"],
        "PeerKey",
        None,
        &entry(1025, 256),
        Intent::Invalid("FieldTooLong"),
    )?;
    g.add(
        "a signature of 1025 bytes",
        &["Boundary", "Extended"],
        "PeerKey",
        None,
        &entry(294, 1025),
        Intent::Invalid("FieldTooLong"),
    )?;
    g.add(
        "an empty signature",
        &["Truncated"],
        "PeerKey",
        None,
        &entry(294, 0),
        Intent::Invalid("EmptyField"),
    )?;
    let transport = |c: usize| {
        vec![
            ("KeyTransport.to", bob()),
            ("Transport.ciphertext", B(vec![0xc0; c])),
            ("Transport.signature", B(vec![0x5a; 256])),
        ]
    };
    g.add(
        "an empty RSA ciphertext",
        &["Truncated"],
        "KeyTransport",
        None,
        &transport(0),
        Intent::Invalid("EmptyField"),
    )?;
    g.add(
        "an RSA ciphertext of 1025 bytes",
        &["Boundary", "Extended"],
        "KeyTransport",
        None,
        &transport(1025),
        Intent::Invalid("FieldTooLong"),
    )?;
    let ack = |layout: u8, change: Option<(&'static str, Vec<u8>)>| {
        let mut fields = vec![("Ack.to", bob())];
        if layout == 2 {
            fields.extend([
                ("Ack.session", B(vec![0xaa; 32])),
                ("Ack.seq", B(vec![0; 8])),
                ("Ack.tag", B(vec![0xdd; 32])),
            ]);
        } else {
            fields.push(("Ack.text", B(b"ACK".to_vec())));
        }
        fields.push(("Ack.mac", B(vec![0x33; 32])));
        changed(fields, change)
    };
    g.add(
        "an Ack with the other profile's layout",
        &["OtherProfile"],
        "Ack",
        Some(other),
        &ack(other, None),
        Intent::Invalid("WrongLayout"),
    )?;
    let submit = |layout: u8, change: Option<(&'static str, Vec<u8>)>| {
        let mut fields =
            vec![("RegisterSubmit.phone", bob()), ("RegisterSubmit.public_key", B(vec![0x30; 294]))];
        if layout == 2 {
            fields.extend([
                ("RegistrationProof.sealed_tag", B(vec![0x7a; 256])),
                ("RegistrationProof.possession", B(vec![0x5a; 256])),
            ]);
        } else {
            fields.push(("RegistrationProof.tag", B(vec![0x7a; 32])));
        }
        changed(fields, change)
    };
    g.add(
        "a RegisterSubmit with the other profile's proof",
        &["OtherProfile"],
        "RegisterSubmit",
        Some(other),
        &submit(other, None),
        Intent::Invalid("WrongLayout"),
    )?;
    if v == 2 {
        g.add(
            "a session id of 31 bytes",
            &["Truncated"],
            "Data",
            Some(v),
            &data(v, Some(("Sealed.session", vec![0xaa; 31]))),
            Intent::Invalid("WrongLength"),
        )?;
        g.add(
            "an ACK tag of 33 bytes",
            &["Extended"],
            "Ack",
            Some(v),
            &ack(v, Some(("Ack.tag", vec![0xdd; 33]))),
            Intent::Invalid("WrongLength"),
        )?;
        g.add(
            "an empty sealed tag",
            &["Truncated"],
            "RegisterSubmit",
            Some(v),
            &submit(v, Some(("RegistrationProof.sealed_tag", Vec::new()))),
            Intent::Invalid("EmptyField"),
        )?;
        g.add(
            "an empty proof of possession is allowed (hardened-without-possession-proof)",
            &["Boundary"],
            "RegisterSubmit",
            Some(v),
            &submit(v, Some(("RegistrationProof.possession", Vec::new()))),
            Intent::Valid,
        )?;
    } else {
        g.add(
            "a seed tag of 31 bytes",
            &["Truncated"],
            "RegisterSubmit",
            Some(v),
            &submit(v, Some(("RegistrationProof.tag", vec![0x7a; 31]))),
            Intent::Invalid("WrongLength"),
        )?;
        g.add(
            "an ACK text of 16 bytes, the maximum",
            &["Boundary"],
            "Ack",
            Some(v),
            &ack(v, Some(("Ack.text", vec![0x41; 16]))),
            Intent::Valid,
        )?;
        g.add(
            "an ACK text of 17 bytes",
            &["Boundary", "Extended"],
            "Ack",
            Some(v),
            &ack(v, Some(("Ack.text", vec![0x41; 17]))),
            Intent::Invalid("FieldTooLong"),
        )?;
    }
    Ok(g.finish())
}
