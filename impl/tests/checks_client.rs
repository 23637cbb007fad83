//! Every client check of SPEC.md (§5.2, §5.5, §6.2, §6.4, §7.2, §7.4, §8.3, and the API errors
//! and `Crypto` failure of §10.2), each with a test that triggers it and asserts the exact
//! [`ClientError`]; the honest message passes, and a rejected message leaves the client exactly
//! as it was (`client == before`).
//!
//! Checks that exist in both profiles run as `seed::<name>` and `hardened::<name>`; checks tagged
//! [E*n*] run in `hardened`, with a counterpart showing that `hardened` without that erratum
//! does not raise the error (and, where SPEC.md documents it, the seed flaw). Tampered messages
//! are clones of honest ones with one field edited. The core is driven directly with fixture
//! keys and seeded randomness.

mod common;

use common::*;
use ee2e::Bytes;
use ee2e_spec::Opened;
use ee2e_spec::hazmat::{self, DirectionKeys};
use ee2e_spec::hazmat::{sig_scheme, transport_label, with_transport_input};
use ee2e_spec::{
    Ack, CallError, Client, ClientError, ClientEvent, ClientOutput, CryptoError, Direction, DirectoryEntry,
    Fix, Input, Message, MessageType, Phone, Profile, Rejection, Sealed, Suite, Transport, UsageError,
};

// ---- helpers ----

/// Asserts that `client` rejects `message` with exactly `error` and is left exactly as it was.
fn refuse(client: &mut TestClient, message: Message<S>, error: ClientError) {
    let before = client.clone();
    assert_eq!(client.handle(message, &mut rng(9)).map(|_| ()), Err(error));
    assert_eq!(*client, before, "a rejected message changes nothing");
}

/// Asserts that the API call `call` fails with exactly `error` and leaves `client` as it was.
fn refuse_call<E: Into<ClientError>>(
    client: &mut TestClient,
    error: ClientError,
    call: impl FnOnce(&mut TestClient) -> Result<Vec<ClientOutput<S>>, E>,
) {
    let before = client.clone();
    assert_eq!(call(client).map(|_| ()).map_err(Into::into), Err(error));
    assert_eq!(*client, before, "a failed call changes nothing");
}

/// The events of a client step.
fn events(outputs: &[ClientOutput<S>]) -> Vec<ClientEvent<S>> {
    outputs
        .iter()
        .filter_map(|o| match o {
            ClientOutput::Event(event) => Some(event.clone()),
            _ => None,
        })
        .collect()
}

/// The plaintext of the message a client step accepted.
fn accepted(outputs: &[ClientOutput<S>]) -> (Phone, Bytes) {
    events(outputs)
        .into_iter()
        .find_map(|e| match e {
            ClientEvent::MessageAccepted { from, plaintext, .. } => Some((from, plaintext)),
            _ => None,
        })
        .expect("a message was accepted")
}

/// The local id of the message an ACK acknowledged.
fn acked(outputs: &[ClientOutput<S>]) -> u64 {
    events(outputs)
        .into_iter()
        .find_map(|e| match e {
            ClientEvent::AckAccepted { id, .. } => Some(id),
            _ => None,
        })
        .expect("an ACK was accepted")
}

/// The session key `K` of `client`'s newest session with `peer`.
fn session_key(client: &TestClient, peer: &str) -> Bytes {
    hazmat::session_key(client.session_with(&phone(peer)).expect("a session")).clone()
}

/// A transport of `key` from Alice to Bob as an honest Alice would make it (§6.2), but
/// encrypted under `recipient_key` with the OAEP label `label`.
fn alice_transport(profile: Profile, recipient_key: &Bytes, label: &Bytes, key: &Bytes) -> Transport<S> {
    let mut rng = rng(10);
    let ciphertext = S::pke_encrypt(recipient_key, label, key, &mut rng).expect("encrypt");
    let alice_key = common::key("alice");
    let signature = if profile.has(Fix::TransportBinding) {
        with_transport_input::<S, _>(&phone("alice"), &phone("bob"), &ciphertext, |input| {
            S::sign(&alice_key, sig_scheme(profile), input, &mut rng)
        })
    } else {
        S::sign(&alice_key, sig_scheme(profile), Input::Raw(key), &mut rng)
    }
    .expect("sign");
    Transport { ciphertext, signature }
}

/// The label of a transport from Alice to Bob in `profile`.
fn alice_to_bob_label(profile: Profile) -> Bytes {
    transport_label::<S>(profile, &phone("alice"), &phone("bob"))
}

/// Recomputes the hardened MAC of `sealed` as Alice would for Bob (§7.2 [E4]), so that only the
/// field a test edited is wrong.
fn remac_as_alice(w: &World, sealed: &mut Sealed<S>) {
    let Sealed::Hardened { session, seq, iv, ciphertext, mac } = sealed else { panic!("a hardened body") };
    let key =
        hazmat::session_key(w.alice.sessions().iter().find(|s| s.id() == Some(session)).expect("session"));
    let keys = DirectionKeys::<S>::derive(key, session, Direction::InitiatorToResponder).expect("keys");
    let (version, alice, bob) =
        (public(&[2]), public(phone("alice").as_bytes()), public(phone("bob").as_bytes()));
    let seq = public(&seq.to_be_bytes());
    *mac = S::hmac(keys.mac(), Input::Tuple(&[&version, session, &alice, &bob, &seq, iv, ciphertext]));
}

// ---- §5.2 OTP entry, §5.5 RegisterResult ----

/// §5.2: an OTP entered when none was requested, or after the proof was sent, or once registered.
fn client_rejects_otp_without_registration_in_progress(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let otp = r.otp.clone();
    let mut fresh = new_client(profile, "alice");
    refuse_call(&mut fresh, ClientError::Usage(UsageError::NoRegistrationInProgress), |c| {
        c.otp_received(&otp, &mut rng(1))
    });
    refuse_call(&mut r.client, ClientError::Usage(UsageError::NoRegistrationInProgress), |c| {
        c.otp_received(&otp, &mut rng(1))
    });
    let outputs = r.submit(r.honest.clone(), NOW).expect("registered");
    r.client.handle(register_result(&outputs, &r.phone()), &mut rng(1)).expect("result");
    refuse_call(&mut r.client, ClientError::Usage(UsageError::NoRegistrationInProgress), |c| {
        c.otp_received(&otp, &mut rng(1))
    });
    fresh.register();
    fresh.otp_received(&otp, &mut rng(1)).expect("accepted once requested");
}

/// §5.5 #1: a registration result when none is awaited (never asked, awaiting the OTP, or
/// already registered: a replayed result).
fn client_rejects_registration_result_when_not_awaiting_one(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let result = register_result(&r.submit(r.honest.clone(), NOW).expect("registered"), &r.phone());
    let error = ClientError::Rejected(Rejection::UnexpectedMessage(MessageType::RegisterResult));
    let mut fresh = new_client(profile, "alice");
    refuse(&mut fresh, result.clone(), error.clone());
    fresh.register();
    refuse(&mut fresh, result.clone(), error.clone());
    r.client.handle(result.clone(), &mut rng(1)).expect("accepted while awaiting it");
    refuse(&mut r.client, result, error);
}

/// §5.5 #2: a result naming another phone or another key than the ones submitted — even a
/// validly signed entry (Bob's).
fn client_rejects_registration_result_for_another_phone_or_key(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let result = register_result(&r.submit(r.honest.clone(), NOW).expect("registered"), &r.phone());
    let bobs_entry = World::registered(profile).entry("bob");
    let others = [
        tampered(&result, |m| entry_mut(m).phone = phone("bob")),
        tampered(&result, |m| entry_mut(m).public_key = public_key("eve")),
        tampered(&result, |m| *entry_mut(m) = bobs_entry),
    ];
    for other in others {
        refuse(&mut r.client, other, ClientError::Rejected(Rejection::RegistrationMismatch));
    }
    r.client.handle(result, &mut rng(1)).expect("the honest result");
    assert!(r.client.is_registered());
}

/// §5.5 #3 (§5.4): the client's own key is not a valid public key (a 1024-bit key); checked
/// before the signature.
fn client_rejects_registration_result_with_invalid_public_key(profile: Profile) {
    let alice = phone("alice");
    let r = Registering::new(profile, "alice");
    let mut weak = Client::new(profile, params(), alice.clone(), key("weak-1024"), server_public());
    weak.register();
    weak.otp_received(&r.otp, &mut rng(1)).expect("the client does not check its own key");
    let mut r = r;
    let result = register_result(&r.submit(r.honest.clone(), NOW).expect("registered"), &alice);
    let for_weak = tampered(&result, |m| entry_mut(m).public_key = public_key("weak-1024"));
    refuse(&mut weak, for_weak, ClientError::Rejected(Rejection::InvalidPublicKey(alice)));
}

/// §5.5 #3 (§5.4): the server's signature on the entry does not verify under the pinned key.
fn client_rejects_registration_result_with_bad_directory_signature(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let alice = r.phone();
    let result = register_result(&r.submit(r.honest.clone(), NOW).expect("registered"), &alice);
    let forged = tampered(&result, |m| {
        let entry = entry_mut(m);
        entry.signature = flip(&entry.signature);
    });
    refuse(&mut r.client, forged, ClientError::Rejected(Rejection::BadDirectorySignature(alice)));
    r.client.handle(result, &mut rng(1)).expect("the honest result");
}

/// §5.2 [E7]: sealing the tag to a pinned server key that is not a valid key fails
/// (`Crypto`), and the client stays `AwaitingOtp`.
#[test]
fn hardened_client_rejects_otp_when_the_pinned_server_key_is_invalid() {
    for pinned in [public_key("weak-1024"), public(b"not a key")] {
        let mut client = Client::new(Profile::HARDENED, params(), phone("alice"), key("alice"), pinned);
        client.register();
        let error = ClientError::Crypto(CryptoError::InvalidKey);
        refuse_call(&mut client, error, |c| c.otp_received(&public(b"123456"), &mut rng(1)));
    }
}

/// The client encrypts nothing to the server key during registration without E7 (and in the
/// seed), so the same pinned key raises no `Crypto` error there.
fn otp_with_invalid_pinned_server_key(profile: Profile) {
    let mut client: TestClient =
        Client::new(profile, params(), phone("alice"), key("alice"), public_key("weak-1024"));
    client.register();
    client.otp_received(&public(b"123456"), &mut rng(1)).expect("nothing sealed to the server");
}

#[test]
fn seed_client_accepts_otp_when_the_pinned_server_key_is_invalid() {
    otp_with_invalid_pinned_server_key(Profile::SEED);
}

#[test]
fn client_without_sealed_tag_accepts_otp_when_the_pinned_server_key_is_invalid() {
    otp_with_invalid_pinned_server_key(Profile::HARDENED.without(Fix::SealedTag));
}

// ---- §10.2 NotRegistered, UnexpectedMessage ----

/// §6.1, §7.2, §9.1: operations need a completed registration.
fn client_rejects_operations_before_registration(profile: Profile) {
    let bob = phone("bob");
    let mut r = Registering::new(profile, "alice");
    let mut unregistered = new_client(profile, "alice");
    let mut awaiting_otp = new_client(profile, "alice");
    awaiting_otp.register();
    for client in [&mut unregistered, &mut awaiting_otp, &mut r.client] {
        refuse_call(client, ClientError::Usage(UsageError::NotRegistered), |c| c.start_session(&bob));
        refuse_call(client, ClientError::Usage(UsageError::NotRegistered), |c| {
            c.send(&bob, &public(b"hi"), &mut rng(1))
        });
        refuse_call(client, ClientError::Usage(UsageError::NotRegistered), |c| c.connect());
        refuse_call(client, ClientError::Usage(UsageError::NotRegistered), |c| c.disconnect());
    }
    let result = register_result(&r.submit(r.honest.clone(), NOW).expect("registered"), &r.phone());
    r.client.handle(result, &mut rng(1)).expect("result");
    r.client.start_session(&bob).expect("allowed once registered");
}

/// §6.2 #1, §6.4 #1, §7.4 #1, §8.3 #1: relayed messages need a completed registration
/// (checked first: a body of the other layout is `NotRegistered` too).
fn client_rejects_relayed_messages_before_registration(profile: Profile) {
    let mut w = World::registered(profile);
    let (peer_key, key_delivery) = w.start_session(&phone("bob"));
    w.bob_handles(key_delivery.clone()).expect("session");
    let data = w.data(b"hello");
    let ack = w.ack(data.clone());
    let other_layout = tampered(&data, |m| {
        let sealed = sealed_mut(m);
        *sealed = other_layout_sealed(sealed);
    });
    let mut unregistered = new_client(profile, "bob");
    for message in [peer_key, key_delivery, data, ack, other_layout] {
        refuse(&mut unregistered, message, ClientError::Usage(UsageError::NotRegistered));
    }
}

/// §10.2: a client-to-server message received by a client.
fn client_rejects_messages_meant_for_the_server(profile: Profile) {
    let mut w = World::registered(profile);
    let alice = phone("alice");
    let request = only_sent(&w.alice.start_session(&phone("bob")).expect("start"));
    let peer_key = w.relay(&alice, request.clone());
    let transport = only_sent(&w.alice.handle(peer_key, &mut rng(1)).expect("peer key"));
    let key_delivery = w.relay(&alice, transport.clone());
    w.bob_handles(key_delivery).expect("session");
    let data = w.data_from_alice(b"hello");
    let delivery = w.relay(&alice, data.clone());
    let ack = w.ack_from_bob(delivery);
    let messages = [
        Message::RegisterRequest { phone: alice.clone() },
        Registering::new(profile, "alice").honest,
        request,
        transport,
        data,
        ack,
        only_sent(&w.alice.connect().expect("connect")),
        only_sent(&w.alice.disconnect().expect("disconnect")),
    ];
    for message in messages {
        let error = ClientError::Rejected(Rejection::UnexpectedMessage(message.kind()));
        refuse(&mut w.bob, message, error);
    }
}

// ---- §6.2 PeerKey ----

/// §6.2 #2: a peer key nobody asked for (a second copy, or to a client that never asked);
/// checked before the entry.
fn client_rejects_unsolicited_peer_key(profile: Profile) {
    let mut w = World::registered(profile);
    let (bob, alice) = (phone("bob"), phone("alice"));
    let (peer_key, _) = w.start_session(&bob);
    refuse(&mut w.alice, peer_key.clone(), ClientError::Rejected(Rejection::UnexpectedPeerKey(bob.clone())));
    let forged = tampered(&peer_key, |m| {
        let entry = entry_mut(m);
        entry.signature = flip(&entry.signature);
    });
    refuse(&mut w.alice, forged, ClientError::Rejected(Rejection::UnexpectedPeerKey(bob)));
    let alices_entry = Message::PeerKey { entry: w.entry("alice") };
    refuse(&mut w.bob, alices_entry, ClientError::Rejected(Rejection::UnexpectedPeerKey(alice)));
}

/// Alice asks for Bob's key; returns the honest `PeerKey` reply, not yet handled.
fn requested_peer_key(w: &mut World) -> Message<S> {
    let request = only_sent(&w.alice.start_session(&phone("bob")).expect("start"));
    w.relay(&phone("alice"), request)
}

/// §6.2 #3 (§5.4): the peer's key is not a valid public key.
fn client_rejects_peer_key_with_invalid_public_key(profile: Profile) {
    let mut w = World::registered(profile);
    let bob = phone("bob");
    let peer_key = requested_peer_key(&mut w);
    for bad in [public_key("weak-1024"), public(b"not a key")] {
        let message = tampered(&peer_key, |m| entry_mut(m).public_key = bad.clone());
        refuse(&mut w.alice, message, ClientError::Rejected(Rejection::InvalidPublicKey(bob.clone())));
    }
    w.alice_handles(peer_key).expect("the honest peer key");
    assert_eq!(w.alice.peers().get(&bob).map(|e| &e.public_key), Some(&public_key("bob")));
}

/// §6.2 #3 (§5.4): the directory signature does not verify (tampered, or over another key).
fn client_rejects_peer_key_with_bad_directory_signature(profile: Profile) {
    let mut w = World::registered(profile);
    let bob = phone("bob");
    let peer_key = requested_peer_key(&mut w);
    let forged = [
        tampered(&peer_key, |m| {
            let entry = entry_mut(m);
            entry.signature = flip(&entry.signature);
        }),
        tampered(&peer_key, |m| entry_mut(m).public_key = public_key("eve")),
    ];
    for message in forged {
        refuse(&mut w.alice, message, ClientError::Rejected(Rejection::BadDirectorySignature(bob.clone())));
    }
    w.alice_handles(peer_key).expect("the honest peer key");
}

/// Flaw 1 (E1): Alice asks for Bob's key; the attacker answers with Eve's own signed entry
/// relabelled as Bob's.
fn relabelled_peer_key(profile: Profile) -> (World, Message<S>) {
    let mut w = World::registered(profile);
    w.register("eve");
    let honest = requested_peer_key(&mut w);
    let eves_entry = w.entry("eve");
    let relabelled = tampered(&honest, |m| {
        *entry_mut(m) = DirectoryEntry {
            phone: phone("bob"),
            public_key: eves_entry.public_key.clone(),
            signature: eves_entry.signature.clone(),
        }
    });
    (w, relabelled)
}

/// §6.2 #3 [E1]: the hardened signature covers the phone.
#[test]
fn hardened_client_rejects_relabelled_peer_key() {
    let (mut w, relabelled) = relabelled_peer_key(Profile::HARDENED);
    refuse(&mut w.alice, relabelled, ClientError::Rejected(Rejection::BadDirectorySignature(phone("bob"))));
}

/// Accepts the relabelled entry: Alice now encrypts the session key "for Bob" to Eve, who
/// decrypts it.
fn assert_relabelled_peer_key_accepted(profile: Profile) {
    let (mut w, relabelled) = relabelled_peer_key(profile);
    let bob = phone("bob");
    let outputs = w.alice_handles(relabelled).expect("the relabelled entry verifies");
    assert_eq!(w.alice.peers().get(&bob).map(|e| &e.public_key), Some(&public_key("eve")));
    let Message::KeyTransport { transport, .. } = only_sent(&outputs) else { panic!("a key transport") };
    let label = transport_label::<S>(profile, &phone("alice"), &bob);
    let k = S::pke_decrypt(&key("eve"), &label, &transport.ciphertext, &mut rng(12)).expect("eve decrypts");
    assert_eq!(k, session_key(&w.alice, "bob"));
}

/// Documented seed flaw 1 (§12 E1).
#[test]
fn seed_client_accepts_relabelled_peer_key() {
    assert_relabelled_peer_key_accepted(Profile::SEED);
}

#[test]
fn client_without_directory_binding_accepts_relabelled_peer_key() {
    assert_relabelled_peer_key_accepted(Profile::HARDENED.without(Fix::DirectoryBinding));
}

// ---- §6.4 KeyDelivery ----

/// §6.4 #2 (§5.4): the sender's key in the delivery is not a valid public key.
fn client_rejects_key_delivery_with_invalid_sender_key(profile: Profile) {
    let mut w = World::registered(profile);
    let delivery = w.key_delivery();
    let bad = tampered(&delivery, |m| entry_mut(m).public_key = public_key("weak-1024"));
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::InvalidPublicKey(phone("alice"))));
    w.bob_handles(delivery).expect("the honest delivery");
}

/// §6.4 #2 (§5.4): the sender's entry signature does not verify; checked before the transport
/// (a delivery with everything tampered is reported as a bad entry).
fn client_rejects_key_delivery_with_bad_sender_signature(profile: Profile) {
    let mut w = World::registered(profile);
    let alice = phone("alice");
    let delivery = w.key_delivery();
    let bad_entry = tampered(&delivery, |m| {
        let entry = entry_mut(m);
        entry.signature = flip(&entry.signature);
    });
    refuse(
        &mut w.bob,
        bad_entry.clone(),
        ClientError::Rejected(Rejection::BadDirectorySignature(alice.clone())),
    );
    let everything = tampered(&bad_entry, |m| {
        let transport = transport_mut(m);
        transport.signature = flip(&transport.signature);
        transport.ciphertext = flip(&transport.ciphertext);
    });
    refuse(&mut w.bob, everything, ClientError::Rejected(Rejection::BadDirectorySignature(alice)));
    w.bob_handles(delivery).expect("the honest delivery");
}

/// §6.4 #3 [E2] (hardened) and #7 (seed): the sender's transport signature does not verify.
fn client_rejects_key_transport_with_bad_signature(profile: Profile) {
    let mut w = World::registered(profile);
    let delivery = w.key_delivery();
    let bad = tampered(&delivery, |m| {
        let transport = transport_mut(m);
        transport.signature = flip(&transport.signature);
    });
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::BadTransportSignature(phone("alice"))));
    w.bob_handles(delivery).expect("the honest delivery");
}

/// A delivery whose signature and ciphertext are both tampered.
fn doubly_tampered_key_delivery(profile: Profile) -> (World, Message<S>) {
    let mut w = World::registered(profile);
    let delivery = w.key_delivery();
    let bad = tampered(&delivery, |m| {
        let transport = transport_mut(m);
        transport.signature = flip(&transport.signature);
        transport.ciphertext = flip(&transport.ciphertext);
    });
    (w, bad)
}

/// §6.4 #3 before #5: the hardened client verifies the signature before decrypting, so an
/// unauthenticated ciphertext never reaches the RSA decryption.
#[test]
fn hardened_client_verifies_transport_signature_before_decrypting() {
    let (mut w, bad) = doubly_tampered_key_delivery(Profile::HARDENED);
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::BadTransportSignature(phone("alice"))));
}

/// §6.4 #5 and #6 before #7: the seed decrypts (and checks the key length) first.
#[test]
fn seed_client_decrypts_key_transport_before_verifying_signature() {
    let (mut w, bad) = doubly_tampered_key_delivery(Profile::SEED);
    refuse(&mut w.bob, bad.clone(), ClientError::Rejected(Rejection::TransportDecrypt));
    let short_key = alice_transport(Profile::SEED, &public_key("bob"), &public(b""), &Bytes::secret([7; 16]));
    let short_unsigned = tampered(&bad, |m| {
        *entry_mut(m) = w.entry("alice");
        transport_mut(m).ciphertext = short_key.ciphertext.clone();
    });
    refuse(&mut w.bob, short_unsigned, ClientError::Rejected(Rejection::InvalidSessionKey));
}

/// §6.4 #5: the key transport does not decrypt under Bob's key (it was encrypted to Eve's),
/// although Alice signed it.
fn client_rejects_key_transport_that_does_not_decrypt(profile: Profile) {
    let mut w = World::registered(profile);
    let delivery = w.key_delivery();
    let k = session_key(&w.alice, "bob");
    let label = alice_to_bob_label(profile);
    let to_eve = alice_transport(profile, &public_key("eve"), &label, &k);
    refuse(
        &mut w.bob,
        tampered(&delivery, |m| *transport_mut(m) = to_eve),
        ClientError::Rejected(Rejection::TransportDecrypt),
    );
    let to_bob = alice_transport(profile, &public_key("bob"), &label, &k);
    w.bob_handles(tampered(&delivery, |m| *transport_mut(m) = to_bob)).expect("the same made for Bob");
    assert_eq!(session_key(&w.bob, "alice"), k);
}

/// §6.4 #5 [E2]: the OAEP label names sender and recipient; a key encrypted to Bob with the
/// label of a transport to Carol does not decrypt, although Alice signed it.
#[test]
fn hardened_client_rejects_key_transport_labelled_for_another_recipient() {
    let profile = Profile::HARDENED;
    let mut w = World::registered(profile);
    let delivery = w.key_delivery();
    let k = session_key(&w.alice, "bob");
    let label = transport_label::<S>(profile, &phone("alice"), &phone("carol"));
    let mislabelled = alice_transport(profile, &public_key("bob"), &label, &k);
    refuse(
        &mut w.bob,
        tampered(&delivery, |m| *transport_mut(m) = mislabelled),
        ClientError::Rejected(Rejection::TransportDecrypt),
    );
}

/// §6.4 #6: the transported key is 16 bytes, although encrypted and signed as Alice would.
fn client_rejects_transported_key_of_wrong_length(profile: Profile) {
    let mut w = World::registered(profile);
    let delivery = w.key_delivery();
    let label = alice_to_bob_label(profile);
    let short = alice_transport(profile, &public_key("bob"), &label, &Bytes::secret([7; 16]));
    refuse(
        &mut w.bob,
        tampered(&delivery, |m| *transport_mut(m) = short),
        ClientError::Rejected(Rejection::InvalidSessionKey),
    );
    let full = alice_transport(profile, &public_key("bob"), &label, &Bytes::secret([7; 32]));
    w.bob_handles(tampered(&delivery, |m| *transport_mut(m) = full)).expect("a 32-byte key");
}

/// Flaw 2 (E2): Alice starts a session with Eve; Eve decrypts `K`, re-encrypts it to Bob and
/// forwards it with Alice's entry and signature. Returns the forged delivery and `K`.
fn eve_forwards_alices_key_to_bob(profile: Profile) -> (World, Message<S>, Bytes) {
    let mut w = World::registered(profile);
    w.register("eve");
    let (alice, bob, eve) = (phone("alice"), phone("bob"), phone("eve"));
    let (_, to_eve) = w.start_session(&eve);
    let Message::KeyDelivery { transport, .. } = &to_eve else { panic!("a key delivery") };
    let eve_label = transport_label::<S>(profile, &alice, &eve);
    let k =
        S::pke_decrypt(&key("eve"), &eve_label, &transport.ciphertext, &mut rng(12)).expect("eve decrypts");
    let bob_label = transport_label::<S>(profile, &alice, &bob);
    let for_bob = S::pke_encrypt(&public_key("bob"), &bob_label, &k, &mut rng(11)).expect("encrypt");
    let forged = tampered(&to_eve, |m| transport_mut(m).ciphertext = for_bob);
    (w, forged, k)
}

/// §6.4 #3 [E2]: Alice's signature names Eve as recipient and covers Eve's ciphertext.
#[test]
fn hardened_client_rejects_key_transport_reencrypted_by_eve() {
    let (mut w, forged, _) = eve_forwards_alices_key_to_bob(Profile::HARDENED);
    refuse(&mut w.bob, forged, ClientError::Rejected(Rejection::BadTransportSignature(phone("alice"))));
}

/// Bob accepts a key from "Alice" that Eve knows (unknown key-share).
fn assert_reencrypted_transport_accepted(profile: Profile) {
    let (mut w, forged, k) = eve_forwards_alices_key_to_bob(profile);
    w.bob_handles(forged).expect("accepted");
    assert_eq!(session_key(&w.bob, "alice"), k, "bob shares with 'alice' a key eve knows");
}

/// Documented seed flaw 2 (§12 E2).
#[test]
fn seed_client_accepts_key_transport_reencrypted_by_eve() {
    assert_reencrypted_transport_accepted(Profile::SEED);
}

#[test]
fn client_without_transport_binding_accepts_key_transport_reencrypted_by_eve() {
    assert_reencrypted_transport_accepted(Profile::HARDENED.without(Fix::TransportBinding));
}

/// Bob accepts Alice's honest key delivery; returns it for replay.
fn accepted_key_delivery(profile: Profile) -> (World, Message<S>) {
    let mut w = World::registered(profile);
    let delivery = w.key_delivery();
    w.bob_handles(delivery.clone()).expect("the honest delivery");
    (w, delivery)
}

/// §6.4 #4 [E3]: the same key transport twice.
#[test]
fn hardened_client_rejects_replayed_key_transport() {
    let (mut w, delivery) = accepted_key_delivery(Profile::HARDENED);
    refuse(&mut w.bob, delivery, ClientError::Rejected(Rejection::ReplayedKeyTransport));
}

/// §6.4 #3 before #4: a replay with a broken signature is reported as a bad signature.
#[test]
fn hardened_client_verifies_transport_signature_before_replay_check() {
    let (mut w, delivery) = accepted_key_delivery(Profile::HARDENED);
    let bad = tampered(&delivery, |m| {
        let transport = transport_mut(m);
        transport.signature = flip(&transport.signature);
    });
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::BadTransportSignature(phone("alice"))));
}

#[test]
fn client_without_transport_replay_accepts_replayed_key_transport() {
    let (mut w, delivery) = accepted_key_delivery(Profile::HARDENED.without(Fix::TransportReplay));
    w.bob_handles(delivery).expect("accepted again without E3");
    assert_eq!(w.bob.sessions().len(), 2);
}

/// Documented seed flaw (§12 E3): a replayed old key transport resets Bob's session to the
/// old key while Alice has moved on to a new one.
#[test]
fn seed_client_accepts_replayed_key_transport() {
    let (mut w, old) = accepted_key_delivery(Profile::SEED);
    let old_key = session_key(&w.bob, "alice");
    let new = w.key_delivery();
    w.bob_handles(new).expect("a new session");
    assert_ne!(session_key(&w.bob, "alice"), old_key);
    w.bob_handles(old).expect("the replay is accepted");
    assert_eq!(session_key(&w.bob, "alice"), old_key, "bob is back on the old key");
    assert_ne!(session_key(&w.alice, "bob"), old_key);
}

// ---- §7.2 sending, §7.4 DataDelivery ----

/// §7.2: sealing needs a session with the peer.
fn client_rejects_sending_without_session(profile: Profile) {
    let mut w = World::registered(profile);
    let bob = phone("bob");
    refuse_call(&mut w.alice, ClientError::Usage(UsageError::NoSession(bob.clone())), |c| {
        c.send(&bob, &public(b"hi"), &mut rng(1))
    });
    let delivery = w.key_delivery();
    w.bob_handles(delivery).expect("session");
    w.alice.send(&bob, &public(b"hi"), &mut rng(1)).expect("sent once a session exists");
}

/// §7.2 (§3 `MAX_PLAINTEXT`): a plaintext one byte over 1 MiB is refused before anything is
/// sealed; exactly 1 MiB is sealed, and its ciphertext is the largest the wire carries.
fn client_rejects_sending_an_oversized_plaintext(profile: Profile) {
    let mut w = World::with_session(profile);
    let bob = phone("bob");
    let max = ee2e_spec::limits::MAX_PLAINTEXT;
    let too_long = Bytes::secret(vec![0x42; max + 1]);
    refuse_call(&mut w.alice, ClientError::Usage(UsageError::MessageTooLarge { len: max + 1, max }), |c| {
        c.send(&bob, &too_long, &mut rng(1))
    });
    let outputs = w.alice.send(&bob, &Bytes::secret(vec![0x42; max]), &mut rng(1)).expect("1 MiB is sent");
    let sealed = match only_sent(&outputs) {
        Message::Data {
            sealed: Sealed::Seed { ciphertext, .. } | Sealed::Hardened { ciphertext, .. },
            ..
        } => ciphertext,
        other => panic!("expected Data, got {:?}", other.kind()),
    };
    assert_eq!(sealed.len(), ee2e::codec::MAX_CIPHERTEXT);
}

/// §7.4 #2 and §8.3 #2: a body of the other profile's layout (checked before the session:
/// from Carol, with whom there is none, it is `WrongProfile` too).
fn client_rejects_data_and_ack_in_the_other_profiles_layout(profile: Profile) {
    let mut w = World::with_session(profile);
    let data = w.data(b"hello");
    let ack = w.ack(data.clone());
    let other_data = tampered(&data, |m| {
        let sealed = sealed_mut(m);
        *sealed = other_layout_sealed(sealed);
    });
    let other_ack = tampered(&ack, |m| {
        let body = ack_mut(m);
        *body = other_layout_ack(body);
    });
    let from_carol = tampered(&other_data, |m| *relayed_from_mut(m) = phone("carol"));
    refuse(&mut w.bob, other_data, ClientError::Rejected(Rejection::WrongProfile));
    refuse(&mut w.bob, from_carol, ClientError::Rejected(Rejection::WrongProfile));
    refuse(&mut w.alice, other_ack, ClientError::Rejected(Rejection::WrongProfile));
    w.alice_handles(ack).expect("the honest ack");
}

/// §7.4 #3 and §8.3 #3 (seed): a message or ACK from a peer without a session.
#[test]
fn seed_client_rejects_data_and_ack_from_peer_without_session() {
    let mut w = World::with_session(Profile::SEED);
    let carol = phone("carol");
    let data = w.data(b"hello");
    let ack = w.ack(data.clone());
    let data_from_carol = tampered(&data, |m| *relayed_from_mut(m) = carol.clone());
    let ack_from_carol = tampered(&ack, |m| *relayed_from_mut(m) = carol.clone());
    refuse(&mut w.bob, data_from_carol, ClientError::Rejected(Rejection::NoSession(carol.clone())));
    refuse(&mut w.alice, ack_from_carol, ClientError::Rejected(Rejection::NoSession(carol)));
    w.alice_handles(ack).expect("the honest ack");
}

/// The session id field of a hardened body.
fn session_id_mut(message: &mut Message<S>) -> &mut Bytes {
    match message {
        Message::DataDelivery { sealed: Sealed::Hardened { session, .. }, .. }
        | Message::AckDelivery { ack: Ack::Hardened { session, .. }, .. } => session,
        other => panic!("no session id in {:?}", other.kind()),
    }
}

/// §7.4 #3 and §8.3 #3 (hardened): a session id the client does not have.
#[test]
fn hardened_client_rejects_data_and_ack_for_unknown_session() {
    let mut w = World::with_session(Profile::HARDENED);
    let data = w.data(b"hello");
    let unknown = tampered(&data, |m| *session_id_mut(m) = flip(session_id_mut(&mut data.clone())));
    refuse(&mut w.bob, unknown, ClientError::Rejected(Rejection::UnknownSession));
    let ack = w.ack(data);
    let unknown = tampered(&ack, |m| *session_id_mut(m) = flip(session_id_mut(&mut ack.clone())));
    refuse(&mut w.alice, unknown, ClientError::Rejected(Rejection::UnknownSession));
    w.alice_handles(ack).expect("the honest ack");
}

/// §7.4 #4 and §8.3 #3 (hardened): the session exists but belongs to another peer than the
/// relayed sender.
#[test]
fn hardened_client_rejects_data_and_ack_from_another_peer_than_the_session() {
    let mut w = World::with_session(Profile::HARDENED);
    let carol = phone("carol");
    let data = w.data(b"hello");
    let from_carol = tampered(&data, |m| *relayed_from_mut(m) = carol.clone());
    refuse(&mut w.bob, from_carol, ClientError::Rejected(Rejection::SessionPeerMismatch(carol.clone())));
    let ack = w.ack(data);
    let from_carol = tampered(&ack, |m| *relayed_from_mut(m) = carol.clone());
    refuse(&mut w.alice, from_carol, ClientError::Rejected(Rejection::SessionPeerMismatch(carol)));
    w.alice_handles(ack).expect("the honest ack");
}

/// §7.4 seed #5 / hardened #5 [E4]: a tampered MAC.
fn client_rejects_tampered_mac(profile: Profile) {
    let mut w = World::with_session(profile);
    let data = w.data(b"hello");
    let bad = tampered(&data, |m| {
        let mac = mac_mut(sealed_mut(m));
        *mac = flip(mac);
    });
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::BadMac));
    let (from, plaintext) = accepted(&w.bob_handles(data).expect("the honest message"));
    assert_eq!((from, plaintext.as_slice()), (phone("alice"), &b"hello"[..]));
}

/// A message with both a tampered MAC and a ciphertext that does not decrypt.
fn mac_and_ciphertext_tampered(profile: Profile) -> (World, Message<S>) {
    let mut w = World::with_session(profile);
    let data = w.data(b"hello");
    let bad = tampered(&data, |m| {
        let sealed = sealed_mut(m);
        *mac_mut(sealed) = flip(mac_mut(sealed));
        *ciphertext_mut(sealed) = truncate(ciphertext_mut(sealed));
    });
    (w, bad)
}

/// §7.4 hardened #5 before #7 [E4]: the MAC is verified before decryption.
#[test]
fn hardened_client_verifies_mac_before_decrypting() {
    let (mut w, bad) = mac_and_ciphertext_tampered(Profile::HARDENED);
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::BadMac));
}

/// §7.4 seed #4 before #5 (I18): the seed decrypts first.
#[test]
fn seed_client_decrypts_before_verifying_mac() {
    let (mut w, bad) = mac_and_ciphertext_tampered(Profile::SEED);
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::DecryptFailed));
}

/// §7.4 hardened #5 [E4]: the MAC covers the ciphertext, so a tampered ciphertext alone is a
/// bad MAC.
#[test]
fn hardened_client_rejects_tampered_ciphertext_as_bad_mac() {
    let mut w = World::with_session(Profile::HARDENED);
    let data = w.data(b"hello");
    let bad = tampered(&data, |m| {
        let ciphertext = ciphertext_mut(sealed_mut(m));
        *ciphertext = truncate(ciphertext);
    });
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::BadMac));
}

/// §7.4 seed #4 / hardened #7: the ciphertext is not a whole number of blocks. In the hardened
/// profile the MAC is recomputed as Alice would, so that only decryption fails.
fn client_rejects_ciphertext_that_does_not_decrypt(profile: Profile) {
    let mut w = World::with_session(profile);
    let data = w.data(b"hello");
    if profile.has(Fix::EncryptThenMac) {
        let mut check = data.clone();
        remac_as_alice(&w, sealed_mut(&mut check));
        assert_eq!(check, data, "the recomputed MAC is Alice's");
    }
    let bad = tampered(&data, |m| {
        let sealed = sealed_mut(m);
        *ciphertext_mut(sealed) = truncate(ciphertext_mut(sealed));
        if profile.has(Fix::EncryptThenMac) {
            remac_as_alice(&w, sealed);
        }
    });
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::DecryptFailed));
    w.bob_handles(data).expect("the honest message");
}

/// Flaws 3 and 6 (E4): Alice's own message reflected back to her as if from Bob.
fn reflected_message(profile: Profile) -> (World, Message<S>) {
    let mut w = World::with_session(profile);
    let data = w.data_from_alice(b"pay eve 100");
    let Message::Data { sealed, .. } = data else { panic!("data") };
    (w, Message::DataDelivery { from: phone("bob"), sealed })
}

/// §7.4 hardened #5 [E4]: the direction's own MAC key and the header reject the reflection.
#[test]
fn hardened_client_rejects_reflected_message() {
    let (mut w, reflected) = reflected_message(Profile::HARDENED);
    refuse(&mut w.alice, reflected, ClientError::Rejected(Rejection::BadMac));
}

/// One key for both directions: Alice accepts her own message as Bob's.
fn assert_reflected_message_accepted(profile: Profile) {
    let (mut w, reflected) = reflected_message(profile);
    let (from, plaintext) = accepted(&w.alice_handles(reflected).expect("accepted"));
    assert_eq!((from, plaintext.as_slice()), (phone("bob"), &b"pay eve 100"[..]));
}

/// Documented seed flaw 3 (§12 E4).
#[test]
fn seed_client_accepts_reflected_message() {
    assert_reflected_message_accepted(Profile::SEED);
}

#[test]
fn client_without_encrypt_then_mac_accepts_reflected_message() {
    assert_reflected_message_accepted(Profile::HARDENED.without(Fix::EncryptThenMac));
}

/// Bob accepts a message from Alice; returns it for replay.
fn accepted_message(profile: Profile) -> (World, Message<S>) {
    let mut w = World::with_session(profile);
    let data = w.data(b"transfer 100");
    w.bob_handles(data.clone()).expect("the honest message");
    (w, data)
}

/// §7.4 hardened #6 [E5]: the same message twice.
#[test]
fn hardened_client_rejects_replayed_message() {
    let (mut w, data) = accepted_message(Profile::HARDENED);
    refuse(&mut w.bob, data, ClientError::Rejected(Rejection::ReplayedMessage(0)));
}

/// §7.4 hardened #5 before #6: a replay with a broken MAC is reported as a bad MAC.
#[test]
fn hardened_client_verifies_mac_before_replay_window() {
    let (mut w, data) = accepted_message(Profile::HARDENED);
    let bad = tampered(&data, |m| {
        let mac = mac_mut(sealed_mut(m));
        *mac = flip(mac);
    });
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::BadMac));
}

/// §7.4 hardened #6 before #7: a used sequence number is refused before decryption (a message
/// reusing number 0 whose ciphertext does not decrypt, with Alice's MAC).
#[test]
fn hardened_client_checks_replay_window_before_decrypting() {
    let (mut w, data) = accepted_message(Profile::HARDENED);
    let bad = tampered(&data, |m| {
        let sealed = sealed_mut(m);
        *ciphertext_mut(sealed) = truncate(ciphertext_mut(sealed));
        remac_as_alice(&w, sealed);
    });
    refuse(&mut w.bob, bad, ClientError::Rejected(Rejection::ReplayedMessage(0)));
}

fn assert_replayed_message_accepted(profile: Profile) {
    let (mut w, data) = accepted_message(profile);
    let (_, plaintext) = accepted(&w.bob_handles(data).expect("the replay is accepted"));
    assert_eq!(plaintext.as_slice(), b"transfer 100");
}

#[test]
fn client_without_replay_window_accepts_replayed_message() {
    assert_replayed_message_accepted(Profile::HARDENED.without(Fix::ReplayWindow));
}

/// Documented seed flaw 3 (§12 E5).
#[test]
fn seed_client_accepts_replayed_message() {
    assert_replayed_message_accepted(Profile::SEED);
}

/// Alice sends 65 messages (sequence numbers 0 to 64); Bob receives number 64 first.
fn sixty_five_messages_newest_first(profile: Profile) -> (World, Vec<Message<S>>) {
    let mut w = World::with_session(profile);
    let deliveries: Vec<_> = (0..=64).map(|i| w.data(format!("message {i}").as_bytes())).collect();
    w.bob_handles(deliveries[64].clone()).expect("the newest message");
    (w, deliveries)
}

/// §7.4 hardened #6 [E5]: number 0 is 64 below the highest accepted, outside the 64-wide window;
/// number 1 is inside it and accepted exactly once.
#[test]
fn hardened_client_rejects_message_older_than_the_replay_window() {
    let (mut w, deliveries) = sixty_five_messages_newest_first(Profile::HARDENED);
    refuse(&mut w.bob, deliveries[0].clone(), ClientError::Rejected(Rejection::MessageTooOld(0)));
    w.bob_handles(deliveries[1].clone()).expect("inside the window, out of order");
    refuse(&mut w.bob, deliveries[1].clone(), ClientError::Rejected(Rejection::ReplayedMessage(1)));
}

#[test]
fn client_without_replay_window_accepts_message_older_than_the_window() {
    let (mut w, deliveries) = sixty_five_messages_newest_first(Profile::HARDENED.without(Fix::ReplayWindow));
    w.bob_handles(deliveries[0].clone()).expect("no window without E5");
}

// ---- §7.4 the end of the sequence space ----

const MAX: u64 = u64::MAX;

/// Alice's honest delivery to Bob, renumbered to `seq` with Alice's valid MAC: what a peer that
/// holds the session's MAC key can send.
fn delivery_numbered(w: &World, honest: &Message<S>, seq: u64) -> Message<S> {
    tampered(honest, |m| {
        let sealed = sealed_mut(m);
        let Sealed::Hardened { seq: field, .. } = sealed else { panic!("a hardened body") };
        *field = seq;
        remac_as_alice(w, sealed);
    })
}

/// Bob, with a fresh session from Alice, accepts `accepted` in order and then refuses `last`
/// with exactly `error`, changing nothing.
fn bob_refuses_after(accepted: &[u64], last: u64, error: ClientError) {
    let mut w = World::with_session(Profile::HARDENED);
    let honest = w.data(b"near the end");
    for &seq in accepted {
        let outputs = w.bob_handles(delivery_numbered(&w, &honest, seq)).expect("a new number");
        assert_eq!(accepted_seq(&outputs), Some(seq));
    }
    let highest = accepted.iter().max().copied();
    let message = delivery_numbered(&w, &honest, last);
    refuse(&mut w.bob, message, error);
    let window = w.bob.session_with(&phone("alice")).expect("a session").window().clone();
    assert_eq!(window.highest(), highest);
}

/// The sequence number of the message a client step accepted.
fn accepted_seq(outputs: &[ClientOutput<S>]) -> Option<u64> {
    events(outputs).into_iter().find_map(|e| match e {
        ClientEvent::MessageAccepted { seq, .. } => seq,
        _ => None,
    })
}

/// §7.4 [E5]: accepting 2^64-1 must not wrap the window (it used to become empty again).
#[test]
fn hardened_client_rejects_the_last_sequence_number_twice() {
    bob_refuses_after(&[MAX], MAX, ClientError::Rejected(Rejection::ReplayedMessage(MAX)));
}

#[test]
fn hardened_client_rejects_zero_after_the_last_sequence_number() {
    bob_refuses_after(&[MAX], 0, ClientError::Rejected(Rejection::MessageTooOld(0)));
}

#[test]
fn hardened_client_rejects_a_replay_across_the_last_sequence_number() {
    bob_refuses_after(&[5, MAX], 5, ClientError::Rejected(Rejection::MessageTooOld(5)));
}

#[test]
fn hardened_client_rejects_a_replay_just_below_the_last_sequence_number() {
    bob_refuses_after(&[MAX - 1, MAX], MAX - 1, ClientError::Rejected(Rejection::ReplayedMessage(MAX - 1)));
}

#[test]
fn hardened_client_rejects_a_number_just_outside_the_window_below_the_last() {
    bob_refuses_after(&[MAX], MAX - 64, ClientError::Rejected(Rejection::MessageTooOld(MAX - 64)));
}

/// The window's oldest number below 2^64-1 is still accepted, once.
#[test]
fn hardened_client_accepts_the_oldest_number_in_the_window_below_the_last() {
    bob_refuses_after(
        &[MAX, MAX - 63],
        MAX - 63,
        ClientError::Rejected(Rejection::ReplayedMessage(MAX - 63)),
    );
}

/// §7.2: a session that sealed 2^64-1 refuses to seal again, and changes nothing; Bob accepts
/// the last message it sealed.
#[test]
fn hardened_session_refuses_to_seal_after_the_last_sequence_number() {
    let mut w = World::with_session(Profile::HARDENED);
    let mut session = w.alice.session_with(&phone("bob")).expect("a session").clone();
    session.resume_seq(MAX);
    let (alice, bob, text) = (phone("alice"), phone("bob"), Bytes::secret(b"the last one"));
    let (sealed, outstanding) = session.seal(&alice, 0, &text, public(&[1; 16])).expect("the last number");
    assert_eq!(outstanding.seq, Some(MAX));
    assert_eq!(session.next_seq(), None);
    let before = session.clone();
    assert_eq!(
        session.seal(&alice, 1, &text, public(&[2; 16])).map(|_| ()),
        Err(CallError::Usage(UsageError::SequenceExhausted))
    );
    assert_eq!(session, before, "a refused seal changes nothing");
    let delivery = w.relay(&alice, Message::Data { to: bob, sealed });
    let (from, plaintext) = accepted(&w.bob_handles(delivery).expect("bob accepts 2^64-1"));
    assert_eq!((from, plaintext.as_slice()), (alice, &b"the last one"[..]));
}

// ---- §8.3 AckDelivery ----

/// §8.3 #5: a tampered ACK MAC.
fn client_rejects_ack_with_tampered_mac(profile: Profile) {
    let mut w = World::with_session(profile);
    let data = w.data(b"hello");
    let ack = w.ack(data);
    let bad = tampered(&ack, |m| {
        let mac = ack_mac_mut(ack_mut(m));
        *mac = flip(mac);
    });
    refuse(&mut w.alice, bad, ClientError::Rejected(Rejection::BadMac));
    assert_eq!(acked(&w.alice_handles(ack).expect("the honest ack")), 0);
    assert!(w.alice.outstanding().is_empty());
}

/// §8.3 #6: a second copy of an ACK finds nothing outstanding; a tampered copy fails the MAC
/// first (#5 before #6).
fn client_rejects_duplicate_ack(profile: Profile) {
    let mut w = World::with_session(profile);
    let data = w.data(b"hello");
    let ack = w.ack(data);
    w.alice_handles(ack.clone()).expect("the honest ack");
    let tampered_copy = tampered(&ack, |m| {
        let mac = ack_mac_mut(ack_mut(m));
        *mac = flip(mac);
    });
    refuse(&mut w.alice, tampered_copy, ClientError::Rejected(Rejection::BadMac));
    refuse(&mut w.alice, ack, ClientError::Rejected(Rejection::UnexpectedAck));
}

/// §8.3 #4 (seed): the ACK text is not `ACK` — even with a MAC under the session key, and
/// checked before the MAC.
#[test]
fn seed_client_rejects_malformed_ack_text() {
    let mut w = World::with_session(Profile::SEED);
    let data = w.data(b"hello");
    let ack = w.ack(data);
    let nak = public(b"NAK");
    let mac_key = S::mac_key(&session_key(&w.bob, "alice"));
    let macced = S::hmac(&mac_key, Input::Raw(&nak));
    for mac in [None, Some(macced)] {
        let bad = tampered(&ack, |m| {
            if let Ack::Seed { text, mac: old } = ack_mut(m) {
                *text = nak.clone();
                *old = mac.unwrap_or_else(|| old.clone());
            }
        });
        refuse(&mut w.alice, bad, ClientError::Rejected(Rejection::MalformedAck));
    }
    w.alice_handles(ack).expect("the honest ack");
}

/// Bob accepts a message; returns his ACK (relayed, not yet handled by Alice) and the data.
fn acked_message(profile: Profile) -> (World, Message<S>) {
    let mut w = World::with_session(profile);
    let data = w.data(b"hello");
    let ack = w.ack(data);
    (w, ack)
}

/// The tag field of a hardened ACK.
fn tag_mut(message: &mut Message<S>) -> &mut Bytes {
    match ack_mut(message) {
        Ack::Hardened { tag, .. } => tag,
        Ack::Seed { .. } => panic!("a hardened ACK"),
    }
}

/// §8.3 #7 [E6]: an ACK, validly MACed by Bob's session, whose tag is not the MAC of the
/// message Alice sent; an edited tag without Bob's MAC is a bad MAC.
#[test]
fn hardened_client_rejects_ack_with_mismatched_tag() {
    let profile = Profile::HARDENED;
    let (mut w, ack) = acked_message(profile);
    let Message::AckDelivery { ack: Ack::Hardened { seq, tag, .. }, .. } = &ack else { panic!("v2 ack") };
    let wrong = Opened::<S> { plaintext: Bytes::secret(b"hello"), seq: Some(*seq), tag: flip(tag) };
    let bobs_mac = w.bob.session_with(&phone("alice")).expect("session").ack(&wrong);
    let mismatched = tampered(&ack, |m| *ack_mut(m) = bobs_mac);
    refuse(&mut w.alice, mismatched, ClientError::Rejected(Rejection::AckMismatch));
    let edited = tampered(&ack, |m| *tag_mut(m) = flip(tag_mut(&mut ack.clone())));
    refuse(&mut w.alice, edited, ClientError::Rejected(Rejection::BadMac));
    w.alice_handles(ack).expect("the honest ack");
}

/// Without E6 the ACK MAC covers a constant and the tag is not compared.
#[test]
fn client_without_ack_binding_accepts_ack_with_edited_tag() {
    let (mut w, ack) = acked_message(Profile::HARDENED.without(Fix::AckBinding));
    let edited = tampered(&ack, |m| *tag_mut(m) = flip(tag_mut(&mut ack.clone())));
    assert_eq!(acked(&w.alice_handles(edited).expect("accepted without E6")), 0);
}

/// Flaw 4 (E6): Alice sends two messages, Bob gets only the first; the attacker replays Bob's
/// ACK of the first.
fn old_ack_for_newer_message(profile: Profile) -> Result<Vec<ClientOutput<S>>, ClientError> {
    let mut w = World::with_session(profile);
    let first = w.data(b"one");
    let _dropped = w.data(b"two");
    let ack = w.ack(first);
    assert_eq!(acked(&w.alice_handles(ack.clone()).expect("the honest ack")), 0);
    w.alice_handles(ack)
}

/// §8.3 #6 [E6]: the hardened ACK names its message, which is no longer outstanding.
#[test]
fn hardened_client_rejects_old_ack_for_newer_message() {
    assert_eq!(
        old_ack_for_newer_message(Profile::HARDENED).map(|_| ()),
        Err(ClientError::Rejected(Rejection::UnexpectedAck))
    );
}

/// Documented seed flaw 4 (§12 E6, I20): the replayed ACK acknowledges the dropped message.
#[test]
fn seed_client_accepts_old_ack_for_newer_message() {
    assert_eq!(acked(&old_ack_for_newer_message(Profile::SEED).expect("accepted")), 1);
}

in_both_profiles!(
    client_rejects_sending_an_oversized_plaintext,
    client_rejects_otp_without_registration_in_progress,
    client_rejects_registration_result_when_not_awaiting_one,
    client_rejects_registration_result_for_another_phone_or_key,
    client_rejects_registration_result_with_invalid_public_key,
    client_rejects_registration_result_with_bad_directory_signature,
    client_rejects_operations_before_registration,
    client_rejects_relayed_messages_before_registration,
    client_rejects_messages_meant_for_the_server,
    client_rejects_unsolicited_peer_key,
    client_rejects_peer_key_with_invalid_public_key,
    client_rejects_peer_key_with_bad_directory_signature,
    client_rejects_key_delivery_with_invalid_sender_key,
    client_rejects_key_delivery_with_bad_sender_signature,
    client_rejects_key_transport_with_bad_signature,
    client_rejects_key_transport_that_does_not_decrypt,
    client_rejects_transported_key_of_wrong_length,
    client_rejects_sending_without_session,
    client_rejects_data_and_ack_in_the_other_profiles_layout,
    client_rejects_tampered_mac,
    client_rejects_ciphertext_that_does_not_decrypt,
    client_rejects_ack_with_tampered_mac,
    client_rejects_duplicate_ack,
);

// ---- every variant has a test ----

/// Each `ClientError` variant and the tests that trigger it. A variant added to
/// `spec/src/error.rs` without an entry here fails `every_client_error_variant_has_a_test`.
const CLIENT_ERROR_TESTS: &[(&str, &[&str])] = &[
    (
        "WrongProfile",
        &[
            "seed::client_rejects_data_and_ack_in_the_other_profiles_layout",
            "hardened::client_rejects_data_and_ack_in_the_other_profiles_layout",
        ],
    ),
    (
        "UnexpectedMessage",
        &[
            "seed::client_rejects_registration_result_when_not_awaiting_one",
            "hardened::client_rejects_registration_result_when_not_awaiting_one",
            "seed::client_rejects_messages_meant_for_the_server",
            "hardened::client_rejects_messages_meant_for_the_server",
        ],
    ),
    (
        "NotRegistered",
        &[
            "seed::client_rejects_operations_before_registration",
            "hardened::client_rejects_operations_before_registration",
            "seed::client_rejects_relayed_messages_before_registration",
            "hardened::client_rejects_relayed_messages_before_registration",
        ],
    ),
    (
        "NoRegistrationInProgress",
        &[
            "seed::client_rejects_otp_without_registration_in_progress",
            "hardened::client_rejects_otp_without_registration_in_progress",
        ],
    ),
    (
        "RegistrationMismatch",
        &[
            "seed::client_rejects_registration_result_for_another_phone_or_key",
            "hardened::client_rejects_registration_result_for_another_phone_or_key",
        ],
    ),
    (
        "InvalidPublicKey",
        &[
            "seed::client_rejects_registration_result_with_invalid_public_key",
            "hardened::client_rejects_registration_result_with_invalid_public_key",
            "seed::client_rejects_peer_key_with_invalid_public_key",
            "hardened::client_rejects_peer_key_with_invalid_public_key",
            "seed::client_rejects_key_delivery_with_invalid_sender_key",
            "hardened::client_rejects_key_delivery_with_invalid_sender_key",
        ],
    ),
    (
        "BadDirectorySignature",
        &[
            "seed::client_rejects_registration_result_with_bad_directory_signature",
            "hardened::client_rejects_registration_result_with_bad_directory_signature",
            "seed::client_rejects_peer_key_with_bad_directory_signature",
            "hardened::client_rejects_peer_key_with_bad_directory_signature",
            "seed::client_rejects_key_delivery_with_bad_sender_signature",
            "hardened::client_rejects_key_delivery_with_bad_sender_signature",
            "hardened_client_rejects_relabelled_peer_key",
        ],
    ),
    (
        "UnexpectedPeerKey",
        &["seed::client_rejects_unsolicited_peer_key", "hardened::client_rejects_unsolicited_peer_key"],
    ),
    (
        "BadTransportSignature",
        &[
            "seed::client_rejects_key_transport_with_bad_signature",
            "hardened::client_rejects_key_transport_with_bad_signature",
            "hardened_client_verifies_transport_signature_before_decrypting",
            "hardened_client_rejects_key_transport_reencrypted_by_eve",
        ],
    ),
    (
        "TransportDecrypt",
        &[
            "seed::client_rejects_key_transport_that_does_not_decrypt",
            "hardened::client_rejects_key_transport_that_does_not_decrypt",
            "hardened_client_rejects_key_transport_labelled_for_another_recipient",
            "seed_client_decrypts_key_transport_before_verifying_signature",
        ],
    ),
    (
        "InvalidSessionKey",
        &[
            "seed::client_rejects_transported_key_of_wrong_length",
            "hardened::client_rejects_transported_key_of_wrong_length",
        ],
    ),
    ("ReplayedKeyTransport", &["hardened_client_rejects_replayed_key_transport"]),
    (
        "NoSession",
        &[
            "seed::client_rejects_sending_without_session",
            "hardened::client_rejects_sending_without_session",
            "seed_client_rejects_data_and_ack_from_peer_without_session",
        ],
    ),
    ("UnknownSession", &["hardened_client_rejects_data_and_ack_for_unknown_session"]),
    ("SessionPeerMismatch", &["hardened_client_rejects_data_and_ack_from_another_peer_than_the_session"]),
    (
        "BadMac",
        &[
            "seed::client_rejects_tampered_mac",
            "hardened::client_rejects_tampered_mac",
            "hardened_client_verifies_mac_before_decrypting",
            "hardened_client_rejects_reflected_message",
            "seed::client_rejects_ack_with_tampered_mac",
            "hardened::client_rejects_ack_with_tampered_mac",
        ],
    ),
    (
        "ReplayedMessage",
        &[
            "hardened_client_rejects_replayed_message",
            "hardened_client_checks_replay_window_before_decrypting",
            "hardened_client_rejects_the_last_sequence_number_twice",
            "hardened_client_rejects_a_replay_just_below_the_last_sequence_number",
        ],
    ),
    (
        "MessageTooOld",
        &[
            "hardened_client_rejects_message_older_than_the_replay_window",
            "hardened_client_rejects_zero_after_the_last_sequence_number",
            "hardened_client_rejects_a_replay_across_the_last_sequence_number",
            "hardened_client_rejects_a_number_just_outside_the_window_below_the_last",
        ],
    ),
    ("SequenceExhausted", &["hardened_session_refuses_to_seal_after_the_last_sequence_number"]),
    (
        "TooManyTransports",
        &[
            "hardened_client_refuses_a_key_transport_beyond_the_per_peer_limit",
            "hardened_client_starts_no_key_transport_beyond_the_per_peer_limit",
        ],
    ),
    (
        "DecryptFailed",
        &[
            "seed::client_rejects_ciphertext_that_does_not_decrypt",
            "hardened::client_rejects_ciphertext_that_does_not_decrypt",
            "seed_client_decrypts_before_verifying_mac",
        ],
    ),
    (
        "UnexpectedAck",
        &[
            "seed::client_rejects_duplicate_ack",
            "hardened::client_rejects_duplicate_ack",
            "hardened_client_rejects_old_ack_for_newer_message",
        ],
    ),
    ("AckMismatch", &["hardened_client_rejects_ack_with_mismatched_tag"]),
    ("MalformedAck", &["seed_client_rejects_malformed_ack_text"]),
    ("Crypto", &["hardened_client_rejects_otp_when_the_pinned_server_key_is_invalid"]),
    // The two blame classes themselves: a misuse by the application, a refusal of the peer.
    ("Usage", &["seed::client_rejects_operations_before_registration"]),
    ("Rejected", &["seed::client_rejects_registration_result_when_not_awaiting_one"]),
    (
        "MessageTooLarge",
        &[
            "seed::client_rejects_sending_an_oversized_plaintext",
            "hardened::client_rejects_sending_an_oversized_plaintext",
        ],
    ),
];

#[test]
fn every_client_error_variant_has_a_test() {
    assert_every_variant_has_a_test(
        include_str!("../../spec/src/error.rs"),
        &["ClientError", "UsageError", "Rejection"],
        CLIENT_ERROR_TESTS,
        include_str!("checks_client.rs"),
    );
}

// ---- bounded key transports and the durable state (SPEC.md §2.2, §6.2, §6.4) ----

/// `client` rebuilt from its own state with `extra` made-up session ids recorded as key
/// transports with `peer` (as if that many transports had been exchanged before).
fn with_recorded_transports(
    profile: Profile,
    client: &TestClient,
    name: &str,
    peer: &Phone,
    extra: usize,
) -> TestClient {
    let mut state = client.state();
    let seen = state.seen_transports.entry(peer.clone()).or_default();
    for n in 0..extra {
        seen.insert(Bytes::public(format!("made-up session id {n:08}").into_bytes()));
    }
    let own = match client.registration() {
        ee2e_spec::Registration::Registered(entry) => Some(entry.clone()),
        _ => None,
    };
    let saved = ee2e_spec::Saved {
        own_entry: own,
        peers: client.peers().values().cloned().collect(),
        session_keys: client
            .sessions()
            .iter()
            .map(|s| (s.peer.clone(), s.id().cloned(), hazmat::session_key(s).clone()))
            .collect(),
        state: Some(state),
    };
    Client::restore(profile, params(), phone(name), key(name), server_public(), saved).expect("restores")
}

/// §6.4 #3: a responder that recorded `MAX_TRANSPORTS_PER_PEER` transports with the sender
/// refuses the next one, before any RSA operation, and changes nothing.
#[test]
fn hardened_client_refuses_a_key_transport_beyond_the_per_peer_limit() {
    let max = ee2e_spec::limits::MAX_TRANSPORTS_PER_PEER;
    let mut w = World::registered(Profile::HARDENED);
    let alice = w.alice.phone().clone();
    w.bob = with_recorded_transports(Profile::HARDENED, &w.bob, "bob", &alice, max);
    let delivery = w.key_delivery();
    refuse(
        &mut w.bob,
        delivery.clone(),
        ClientError::Rejected(Rejection::TooManyTransports { peer: alice.clone(), max }),
    );
    // One below the limit the same delivery is accepted.
    let mut w2 = World::registered(Profile::HARDENED);
    w2.bob = with_recorded_transports(Profile::HARDENED, &w2.bob, "bob", &alice, max - 1);
    let delivery = w2.key_delivery();
    w2.bob_handles(delivery).expect("accepted below the limit");
    assert_eq!(w2.bob.state().seen_transports[&alice].len(), max);
}

/// §6.2 #4: an initiator at the limit sends no key transport for the peer key it asked for.
#[test]
fn hardened_client_starts_no_key_transport_beyond_the_per_peer_limit() {
    let max = ee2e_spec::limits::MAX_TRANSPORTS_PER_PEER;
    let mut w = World::registered(Profile::HARDENED);
    let bob = w.bob.phone().clone();
    w.alice = with_recorded_transports(Profile::HARDENED, &w.alice, "alice", &bob, max);
    let alice = w.alice.phone().clone();
    let request = only_sent(&w.alice.start_session(&bob).expect("the request is sent"));
    let peer_key = w.relay(&alice, request);
    refuse(&mut w.alice, peer_key, ClientError::Usage(UsageError::TooManyTransports { peer: bob, max }));
}

/// A restore refuses a state with more recorded transports than the limit.
#[test]
fn client_restore_refuses_more_recorded_transports_than_the_limit() {
    let max = ee2e_spec::limits::MAX_TRANSPORTS_PER_PEER;
    let w = World::registered(Profile::HARDENED);
    let alice = w.alice.phone().clone();
    let bob = with_recorded_transports(Profile::HARDENED, &w.bob, "bob", &alice, max);
    let mut state = bob.state();
    state.seen_transports.get_mut(&alice).unwrap().insert(Bytes::public(b"one too many".to_vec()));
    let saved = ee2e_spec::Saved {
        own_entry: Some(w.entry("bob")),
        peers: Vec::new(),
        session_keys: Vec::new(),
        state: Some(state),
    };
    let error =
        Client::restore(Profile::HARDENED, params(), phone("bob"), key("bob"), server_public(), saved)
            .unwrap_err();
    assert_eq!(error, ee2e_spec::RestoreError::TooManyTransports { peer: alice, count: max + 1, max });
}

/// §2.2: the fifth session with a peer drops the oldest; the step says to forget its key
/// after the state, which no longer names it, and the session's id stays recorded.
#[test]
fn hardened_client_forgets_the_key_of_a_session_beyond_the_per_peer_cap() {
    let mut w = World::registered(Profile::HARDENED);
    let alice = w.alice.phone().clone();
    let mut ids = Vec::new();
    let mut last = Vec::new();
    for _ in 0..5 {
        let delivery = w.key_delivery();
        last = w.bob_handles(delivery).expect("accepted");
        ids.push(w.bob.sessions().last().unwrap().id().cloned().unwrap());
    }
    let persists: Vec<_> = last
        .iter()
        .filter_map(|o| if let ClientOutput::Persist(p) = o { Some(p.clone()) } else { None })
        .collect();
    let state_at = persists.iter().position(|p| matches!(p, ee2e_spec::Persist::State(_))).expect("a state");
    let forget_at = persists
        .iter()
        .position(|p| matches!(p, ee2e_spec::Persist::ForgetSession { session: Some(s), peer } if *s == ids[0] && *peer == alice))
        .expect("the oldest session is forgotten");
    assert!(state_at < forget_at, "the key is deleted only after the state that drops it");
    let state = w.bob.state();
    assert_eq!(state.sessions.len(), 4);
    assert!(state.sessions.iter().all(|s| s.session.as_ref() != Some(&ids[0])));
    assert_eq!(state.seen_transports[&alice].len(), 5, "the forgotten session's transport is still refused");
    // A replay of the first transport is still refused.
    assert!(w.bob.state().seen_transports[&alice].contains(&ids[0]));
}

/// §2.2: a client rebuilt from its state refuses what it refused before the restart: a
/// replayed message and a replayed key transport; its send counter continues.
#[test]
fn hardened_client_restored_from_its_state_refuses_replays_and_continues_its_counter() {
    let mut w = World::registered(Profile::HARDENED);
    let key_delivery = w.key_delivery();
    w.bob_handles(key_delivery.clone()).expect("the key delivery");
    let data = w.data(b"once");
    w.bob_handles(data.clone()).expect("the message");
    let _ = w.data_from_alice(b"unsent");
    let bob_before = w.bob.clone();
    let mut bob = with_recorded_transports(Profile::HARDENED, &w.bob, "bob", w.alice.phone(), 0);
    assert_eq!(bob, bob_before, "the restored client equals the one that was saved");
    refuse(&mut bob, data, ClientError::Rejected(Rejection::ReplayedMessage(0)));
    refuse(&mut bob, key_delivery, ClientError::Rejected(Rejection::ReplayedKeyTransport));
    let alice = with_recorded_transports(Profile::HARDENED, &w.alice, "alice", w.bob.phone(), 0);
    assert_eq!(alice.sessions()[0].next_seq(), Some(2));
    assert_eq!(alice.outstanding().len(), 2);
}
