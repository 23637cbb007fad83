//! SPEC.md §13 "Secrets in memory": no `Debug` (`{:?}`, `{:#?}`) or `Display` output of a
//! secret-bearing type shows secret bytes — session keys, derived message keys, OTPs,
//! `K_temp`, plaintexts, private keys.
//!
//! A real conversation runs on the runtime in both profiles (with a keystore, an offline
//! delivery and a pending OTP), the secrets are collected from it, and every value that holds
//! one is formatted and searched for each secret in hex (any 8-byte window), as a decimal byte
//! list, and, for printable secrets, as text.
//!
//! Zeroization on drop is not observable from safe code; where it happens is listed in
//! SPEC.md §13 (and checked by reading: secret `Bytes` wipe their buffer, `MacKey`,
//! `CipherKey` and the keystore's buffers use `zeroize`, the `rsa` crate's key zeroizes its
//! private parts).

use ee2e::keystore::Keystore;
use ee2e::runtime::Runtime;
use ee2e::{Bytes, ConcreteSuite};
use ee2e_fixtures as fixtures;
use ee2e_spec::hazmat::DirectionKeys;
use ee2e_spec::hazmat::RegistrationValues;
use ee2e_spec::{ClientEvent, Direction, Params, Persist, Phone, Profile, Role, ServerOutput, Store, Suite};

type S = ConcreteSuite;

/// A secret to look for, and what it is.
struct Secret {
    what: String,
    bytes: Vec<u8>,
}

/// Asserts that `text` (the formatting of `value`) shows none of `secrets`.
fn assert_hides(value: &str, text: &str, secrets: &[Secret]) {
    for secret in secrets {
        let hex = hex::encode(&secret.bytes);
        // Any 8 consecutive bytes of the secret, in hex.
        for start in (0..hex.len().saturating_sub(15)).step_by(2) {
            let window = &hex[start..(start + 16).min(hex.len())];
            assert!(!text.contains(window), "{value} shows {} in hex: {text}", secret.what);
        }
        // As Rust prints a byte slice.
        let list: Vec<String> = secret.bytes.iter().take(6).map(u8::to_string).collect();
        if secret.bytes.len() >= 6 {
            let needle = list.join(", ");
            assert!(!text.contains(&needle), "{value} shows {} as a byte list: {text}", secret.what);
        }
        // As text, if it is text (OTPs, plaintexts).
        if let Ok(text_secret) = std::str::from_utf8(&secret.bytes)
            && text_secret.len() >= 6
            && text_secret.chars().all(|c| c.is_ascii_graphic() || c == ' ')
        {
            assert!(!text.contains(text_secret), "{value} shows {} as text: {text}", secret.what);
        }
    }
}

/// Formats `value` with `{:?}` and `{:#?}` and checks both.
fn check_debug<T: std::fmt::Debug>(name: &str, value: &T, secrets: &[Secret]) {
    assert_hides(name, &format!("{value:?}"), secrets);
    assert_hides(name, &format!("{value:#?}"), secrets);
}

fn conversation(profile: Profile) {
    let params = Params { pbkdf2_iterations: 10, ..Params::default() };
    let mut rt = Runtime::builder(profile, fixtures::server_key())
        .params(params)
        .seed([4; 32])
        .build()
        .expect("runtime");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (alice, bob, carol) = (fixtures::phone("alice"), fixtures::phone("bob"), fixtures::phone("carol"));
    let alice_key = fixtures::named("alice").expect("key");
    let keystore = Keystore::create(tmp.path().join("alice")).expect("keystore");
    rt.add_client(alice.clone(), alice_key.clone(), Some(keystore)).expect("alice");
    let otp = rt.request_otp(&alice).expect("otp");
    let mut secrets = vec![Secret { what: "alice's OTP".into(), bytes: otp.as_slice().to_vec() }];
    let values =
        RegistrationValues::<S>::compute(&otp, &alice, alice_key.public_key_der(), params.pbkdf2_iterations);
    secrets.push(Secret { what: "K_temp".into(), bytes: values.k_temp().as_slice().to_vec() });
    if profile != Profile::SEED {
        // In the hardened profile the tag and salt never leave the client: they are OTP verifiers.
        secrets.push(Secret { what: "the registration tag".into(), bytes: values.tag().as_slice().to_vec() });
        secrets.push(Secret { what: "the OTP salt".into(), bytes: values.salt().as_slice().to_vec() });
    }
    rt.submit_otp(&alice, &otp).expect("alice registers");
    rt.connect(&alice).expect("alice online");
    rt.register(&bob, fixtures::named("bob").expect("key")).expect("bob registers");
    rt.add_client(carol.clone(), fixtures::named("carol").expect("key"), None).expect("carol");
    let carol_otp = rt.request_otp(&carol).expect("carol's OTP stays pending");
    secrets.push(Secret { what: "carol's pending OTP".into(), bytes: carol_otp.as_slice().to_vec() });

    rt.start_session(&alice, &bob).expect("session");
    rt.send(&alice, &bob, b"the first secret plaintext").expect("send");
    rt.disconnect(&bob).expect("bob offline");
    rt.send(&alice, &bob, b"a secret plaintext stored while bob is offline").expect("send");
    rt.connect(&bob).expect("bob online");
    for text in ["the first secret plaintext", "a secret plaintext stored while bob is offline"] {
        secrets.push(Secret { what: format!("plaintext {text:?}"), bytes: text.as_bytes().to_vec() });
    }

    // The session key and the message keys derived from it.
    let session = rt.client(&alice).expect("alice").session_with(&bob).expect("session").clone();
    let key = ee2e_spec::hazmat::session_key(&session).clone();
    secrets.push(Secret { what: "the session key K".into(), bytes: key.as_slice().to_vec() });
    if let Some(sid) = session.id() {
        for d in [0u8, 1] {
            for purpose in [&b"enc"[..], b"mac"] {
                let info = S::tuple(&[
                    &S::constant(b"EE2E-v2 message keys"),
                    &S::constant(&[d]),
                    &S::constant(purpose),
                ]);
                let derived = S::hkdf(&key, sid, &info);
                secrets.push(Secret {
                    what: format!("derived key {d} {purpose:?}"),
                    bytes: derived.as_slice().to_vec(),
                });
            }
        }
    }
    // The private key, as its PEM body (base64 lines) and its private exponent's bytes are in
    // it; any line of the body would do to find it in an output.
    let pem = alice_key.to_pkcs8_pem();
    for line in pem.lines().filter(|l| !l.starts_with("-----")).skip(2).take(8) {
        secrets.push(Secret {
            what: "a line of alice's private key PEM".into(),
            bytes: line.as_bytes().to_vec(),
        });
    }

    // Every secret-bearing value, formatted.
    check_debug("Bytes::secret", &key, &secrets);
    check_debug("PrivateKey", &alice_key, &secrets);
    check_debug("CipherKey", &S::cipher_key(&key).expect("key"), &secrets);
    check_debug("MacKey", &S::mac_key(&key), &secrets);
    check_debug("DirectionKeys", &DirectionKeys::<S>::from_session_key(&key).expect("keys"), &secrets);
    check_debug("Session", &session, &secrets);
    check_debug("Client (alice)", rt.client(&alice).expect("alice"), &secrets);
    check_debug("Client (bob)", rt.client(&bob).expect("bob"), &secrets);
    check_debug("Client (carol, awaiting her OTP)", rt.client(&carol).expect("carol"), &secrets);
    check_debug("RegistrationValues", &values, &secrets);
    let pending = rt.store().pending_otp(&carol).expect("store").expect("carol's OTP is pending");
    check_debug("PendingOtp", &pending, &secrets);
    check_debug(
        "ServerOutput::Sms",
        &ServerOutput::<S>::Sms { phone: carol.clone(), otp: carol_otp.clone() },
        &secrets,
    );
    let persist = Persist::<S>::SessionKey {
        peer: bob.clone(),
        role: Role::Initiator,
        session: session.id().cloned(),
        key: key.clone(),
    };
    check_debug("Persist::SessionKey", &persist, &secrets);
    for phone in [&alice, &bob] {
        for event in rt.events(phone) {
            check_debug("ClientEvent", event, &secrets);
            if let ClientEvent::SessionEstablished { .. } = event {
                check_debug("ClientEvent::SessionEstablished", event, &secrets);
            }
        }
    }
    let stored = rt.keystore(&alice).expect("alice's keystore").sessions().expect("sessions");
    assert!(!stored.is_empty());
    check_debug("StoredSession", &stored, &secrets);
    check_debug("Keystore", rt.keystore(&alice).expect("keystore"), &secrets);
    check_debug("SqliteStore", rt.store(), &secrets);
    // The whole transcript, as values and as the runtime's one-line descriptions.
    check_debug("transcript", &rt.transcript(), &secrets);
    for record in rt.transcript() {
        assert_hides("Record::describe", &record.describe(), &secrets);
    }
    check_debug("network log", &rt.log(), &secrets);
    // Direction is public, but its Debug is part of Session's.
    check_debug("Direction", &Direction::InitiatorToResponder, &secrets);
    let _: &Phone = &alice;
    let _ = Bytes::public(vec![]);
}

#[test]
fn seed_debug_and_display_show_no_secret_bytes() {
    conversation(Profile::SEED);
}

#[test]
fn hardened_debug_and_display_show_no_secret_bytes() {
    conversation(Profile::HARDENED);
}

/// The search itself works: a session key marked public (so that `Debug` prints its hex) is
/// found.
#[test]
fn the_search_finds_a_secret_printed_in_hex() {
    let key = vec![0x3c; 32];
    let secrets = [Secret { what: "a key".into(), bytes: key.clone() }];
    let leaked = std::panic::catch_unwind(|| check_debug("public Bytes", &Bytes::public(key), &secrets));
    assert!(leaked.is_err(), "a key printed in hex must be found");
    let listed = std::panic::catch_unwind(|| check_debug("Vec<u8>", &vec![0x3cu8; 32], &secrets));
    assert!(listed.is_err(), "a key printed as a byte list must be found");
}
