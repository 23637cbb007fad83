//! Every server check of SPEC.md (§5.3, §6.1, §6.3, §7.3, §8.2, §9.1, and the `Store` and
//! `Crypto` failures of §10.1), each with a test that triggers it and asserts the exact
//! [`ServerError`], its wire [`ErrorCode`] and the `Error` reply of [`Server::step`]; the honest
//! message passes, and a rejected message leaves the server exactly as it was — except the
//! attempt counter of §5.3 [E8] and the deletion of an expired or voided OTP (§5.3 #4, #5),
//! which SPEC.md documents.
//!
//! Checks that exist in both profiles run as `seed::<name>` and `hardened::<name>`; checks tagged
//! [E*n*] run in `hardened`, with a counterpart showing that `hardened` without that erratum
//! does not raise the error. The core is driven directly with fixture keys and seeded
//! randomness.

mod common;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::rc::Rc;

use common::*;
use ee2e::{Bytes, ConcreteSuite, PrivateKey, Rng};
use ee2e_fixtures as fixtures;
use ee2e_spec::hazmat::{RegistrationValues, registration_label};
use ee2e_spec::{
    Client, ClientOutput, CryptoError, DirectoryEntry, ErrorCode, Fix, Fresh, Input, MemoryStore, Message,
    OtpCutoff, Params, PendingOtp, Phone, Profile, QueueBound, QueueUsage, RegistrationProof, Server,
    ServerError, ServerEvent, ServerOutput, SigScheme, Store, StoreError, Suite,
};

// ---- helpers ----

/// Asserts that `server` rejects `message` from `from` at `now` with exactly `error`, that the
/// wire code of `error` is `code`, and that [`Server::step`] replies `Error { code }` to the
/// sender and reports the rejection. `server` is left as the rejection left it.
fn reject<Su, St>(
    server: &mut Server<Su, St>,
    from: &Phone,
    message: Message<Su>,
    now: u64,
    error: ServerError,
    code: ErrorCode,
) where
    Su: Suite<Rng = Rng>,
    St: Store<Su> + Clone + PartialEq + Debug,
{
    assert_eq!(error.code(), code, "wire code of {error:?}");
    let mut stepped = server.clone();
    let replies = stepped.step(from, message.clone(), now, &mut rng(9));
    assert_eq!(
        replies,
        vec![
            ServerOutput::Send { to: from.clone(), message: Message::Error { code }, stored: false },
            ServerOutput::Event(ServerEvent::Rejected { from: from.clone(), error: error.clone() }),
        ],
        "error reply of step"
    );
    assert_eq!(server.handle(from, message, now, &mut rng(9)), Err(error));
    assert_eq!(*server, stepped, "step changes exactly what handle changes");
}

/// The pending OTP of `phone`.
fn pending<St: Store<S>>(server: &Server<S, St>, phone: &Phone) -> Option<PendingOtp<S>> {
    server.store().pending_otp(phone).expect("store")
}

/// The failed attempts of the pending OTP of `phone`.
fn attempts(server: &TestServer, phone: &Phone) -> u32 {
    pending(server, phone).expect("an OTP is pending").attempts
}

/// Asserts that `server` differs from `before` only in the attempt counter of `phone`'s OTP,
/// which is now `expected` (the documented exception to "a rejection changes nothing").
fn assert_only_attempts_changed(server: &TestServer, before: &TestServer, phone: &Phone, expected: u32) {
    let (now, then) = (pending(server, phone).expect("pending"), pending(before, phone).expect("pending"));
    assert_eq!((&now.otp, now.issued_at, now.attempts), (&then.otp, then.issued_at, expected));
    assert!(server.store().directory().eq(before.store().directory()), "directory unchanged");
    assert_eq!(server.online(), before.online(), "online set unchanged");
}

/// Submits the honest registration at `now` and checks that it registers the client's key.
fn assert_registers(r: &mut Registering, now: u64) {
    let phone = r.phone();
    let outputs = r.submit(r.honest.clone(), now).expect("the honest submission is accepted");
    let Message::RegisterResult { entry } = register_result(&outputs, &phone) else { unreachable!() };
    assert_eq!((&entry.phone, &entry.public_key), (&phone, r.client.public_key()));
    assert_eq!(r.server.store().entry(&phone).expect("store"), Some(entry));
    assert_eq!(r.client.handle(register_result(&outputs, &phone), &mut r.rng).map(|_| ()), Ok(()));
}

/// A clone of the hardened submission `message` with its sealed tag and possession proof edited.
fn edit_hardened_proof(message: &Message<S>, edit: impl FnOnce(&mut Bytes, &mut Bytes)) -> Message<S> {
    tampered(message, |m| match proof_mut(m) {
        RegistrationProof::Hardened { sealed_tag, possession } => edit(sealed_tag, possession),
        RegistrationProof::Seed { .. } => panic!("expected a hardened proof"),
    })
}

/// The tag of `phone` registering `public_key` with `otp` (§5.2).
fn tag(otp: &Bytes, phone: &Phone, public_key: &Bytes) -> Bytes {
    RegistrationValues::<S>::compute(otp, phone, public_key, FAST_PBKDF2_ITERATIONS).tag().clone()
}

/// `tag` sealed to the server under the registration label of `phone` (§5.2 [E7]).
fn seal_tag(tag: &Bytes, phone: &Phone) -> Bytes {
    S::pke_encrypt(&server_public(), &registration_label::<S>(phone), tag, &mut rng(4)).expect("seal")
}

/// Alice's honest `KeyRequest` for Bob.
fn key_request(w: &mut World) -> Message<S> {
    only_sent(&w.alice.start_session(&phone("bob")).expect("start session"))
}

/// Alice's honest `KeyTransport` to Bob (not yet relayed).
fn key_transport<St: Store<S>>(w: &mut World<St>) -> Message<S> {
    let (alice, bob) = (phone("alice"), phone("bob"));
    let request = only_sent(&w.alice.start_session(&bob).expect("start session"));
    let peer_key = w.relay(&alice, request);
    only_sent(&w.alice.handle(peer_key, &mut w.rng).expect("alice accepts the peer key"))
}

// ---- §5.3 RegisterSubmit ----

/// §5.3 #1: the proof must have the server's layout.
fn server_rejects_submission_in_the_other_profiles_layout(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let alice = r.phone();
    let before = r.server.clone();
    let other = tampered(&r.honest, |m| {
        let proof = proof_mut(m);
        *proof = other_layout_proof(proof);
    });
    reject(&mut r.server, &alice, other, NOW, ServerError::WrongProfile, ErrorCode::BadRequest);
    assert_eq!(r.server, before, "no attempt counted, the OTP is kept");
    assert_registers(&mut r, NOW);
}

/// §5.3 #1 before #2.
fn server_checks_layout_before_public_key(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let alice = r.phone();
    let both = tampered(&r.honest, |m| {
        let proof = proof_mut(m);
        *proof = other_layout_proof(proof);
        *submitted_key_mut(m) = public_key("weak-1024");
    });
    reject(&mut r.server, &alice, both, NOW, ServerError::WrongProfile, ErrorCode::BadRequest);
}

/// §5.3 #2 (§2.1): a 1024-bit key, bytes that are no key, a truncated key.
fn server_rejects_submission_with_invalid_public_key(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let alice = r.phone();
    let before = r.server.clone();
    let honest_key = r.client.public_key().clone();
    for bad in [public_key("weak-1024"), public(b"not a public key"), truncate(&honest_key)] {
        let message = tampered(&r.honest, |m| *submitted_key_mut(m) = bad.clone());
        reject(
            &mut r.server,
            &alice,
            message,
            NOW,
            ServerError::InvalidPublicKey,
            ErrorCode::InvalidPublicKey,
        );
        assert_eq!(r.server, before);
    }
    assert_registers(&mut r, NOW);
}

/// §2.1: a 3072-bit key is valid too.
fn server_accepts_submission_with_3072_bit_key(profile: Profile) {
    let client = Client::new(profile, params(), phone("alice"), key("alice-3072"), server_public());
    let mut r = Registering::with_server(new_server(profile), client);
    assert_registers(&mut r, NOW);
}

/// §5.3 #3: no OTP was issued for the phone (none at all, or only for another phone).
fn server_rejects_submission_without_pending_otp(profile: Profile) {
    let r = Registering::new(profile, "alice");
    let (alice, bob) = (phone("alice"), phone("bob"));
    let mut server = new_server(profile);
    let before = server.clone();
    let error = ServerError::NoPendingRegistration(alice.clone());
    reject(&mut server, &alice, r.honest.clone(), NOW, error.clone(), ErrorCode::NoPendingRegistration);
    assert_eq!(server, before);
    server.handle(&bob, Message::RegisterRequest { phone: bob.clone() }, NOW, &mut rng(5)).expect("request");
    reject(&mut server, &alice, r.honest.clone(), NOW, error, ErrorCode::NoPendingRegistration);
    // #2 before #3.
    let weak = tampered(&r.honest, |m| *submitted_key_mut(m) = public_key("weak-1024"));
    reject(&mut server, &alice, weak, NOW, ServerError::InvalidPublicKey, ErrorCode::InvalidPublicKey);
}

/// §5.3 #4: one millisecond past `OTP_TTL`; the expired OTP is deleted.
fn server_rejects_expired_otp(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let alice = r.phone();
    let late = NOW + OTP_TTL_MS + 1;
    reject(
        &mut r.server,
        &alice,
        r.honest.clone(),
        late,
        ServerError::OtpExpired(alice.clone()),
        ErrorCode::OtpExpired,
    );
    assert_eq!(pending(&r.server, &alice), None, "the expired OTP is deleted");
    let error = ServerError::NoPendingRegistration(alice.clone());
    reject(&mut r.server, &alice, r.honest.clone(), NOW, error, ErrorCode::NoPendingRegistration);
}

/// §5.3 #4 (I5): `now − issued_at ≤ OTP_TTL` — exactly 300 000 ms is still valid.
fn server_accepts_otp_at_exactly_its_lifetime(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    assert_registers(&mut r, NOW + OTP_TTL_MS);
}

/// §5.3 #4 before #8: a late and wrong submission is reported as late.
fn server_checks_expiry_before_the_tag(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let alice = r.phone();
    let wrong = r.wrong_submission();
    let late = NOW + OTP_TTL_MS + 1;
    reject(&mut r.server, &alice, wrong, late, ServerError::OtpExpired(alice.clone()), ErrorCode::OtpExpired);
}

/// §5.3 #8: the tag of a mistyped OTP; [E8] counts the attempt, the seed counts nothing.
fn server_rejects_wrong_otp(profile: Profile) {
    let mut r = Registering::new(profile, "alice");
    let alice = r.phone();
    let before = r.server.clone();
    let wrong = r.wrong_submission();
    reject(
        &mut r.server,
        &alice,
        wrong,
        NOW,
        ServerError::BadRegistrationTag,
        ErrorCode::RegistrationRejected,
    );
    if profile.has(Fix::OtpLimits) {
        assert_only_attempts_changed(&r.server, &before, &alice, 1);
    } else {
        assert_eq!(r.server, before);
    }
    assert_registers(&mut r, NOW);
}

/// §5.3 #8 (seed): the tag covers the key, so a key swapped in transit does not register.
#[test]
fn seed_server_rejects_tag_computed_for_another_public_key() {
    let mut r = Registering::new(Profile::SEED, "alice");
    let alice = r.phone();
    let before = r.server.clone();
    let swapped = tampered(&r.honest, |m| *submitted_key_mut(m) = public_key("eve"));
    reject(
        &mut r.server,
        &alice,
        swapped,
        NOW,
        ServerError::BadRegistrationTag,
        ErrorCode::RegistrationRejected,
    );
    assert_eq!(r.server, before);
    assert_registers(&mut r, NOW);
}

/// Submits the honest registration twice; returns the second answer.
fn submit_twice(profile: Profile) -> (Registering, Result<Vec<ServerOutput<S>>, ServerError>) {
    let mut r = Registering::new(profile, "alice");
    assert_registers(&mut r, NOW);
    let again = r.submit(r.honest.clone(), NOW + 1);
    (r, again)
}

/// §5.3 [E8] single use: the OTP is deleted on success, so the same submission finds none.
#[test]
fn hardened_server_rejects_reused_otp() {
    let (mut r, _) = submit_twice(Profile::HARDENED);
    let alice = r.phone();
    assert_eq!(pending(&r.server, &alice), None, "deleted on success");
    let error = ServerError::NoPendingRegistration(alice.clone());
    reject(&mut r.server, &alice, r.honest.clone(), NOW + 1, error, ErrorCode::NoPendingRegistration);
}

/// Documented seed flaw (§5.3, I6): the OTP stays valid after use and registers again.
#[test]
fn seed_server_accepts_reused_otp() {
    let (r, again) = submit_twice(Profile::SEED);
    register_result(&again.expect("the seed accepts the same OTP twice"), &r.phone());
}

/// Without E8 the hardened server does not void a used OTP either.
#[test]
fn server_without_otp_limits_accepts_reused_otp() {
    let (r, again) = submit_twice(Profile::HARDENED.without(Fix::OtpLimits));
    register_result(&again.expect("accepted again without E8"), &r.phone());
}

/// Rejects `failures` wrong submissions with `BadRegistrationTag`.
fn fail_attempts(r: &mut Registering, failures: u32) {
    let alice = r.phone();
    let wrong = r.wrong_submission();
    for _ in 0..failures {
        let error = ServerError::BadRegistrationTag;
        reject(&mut r.server, &alice, wrong.clone(), NOW, error, ErrorCode::RegistrationRejected);
    }
}

/// §5.3 #5 [E8]: after 3 failed attempts even the right OTP is refused, and the OTP is void.
#[test]
fn hardened_server_rejects_correct_otp_after_three_failed_attempts() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    let alice = r.phone();
    fail_attempts(&mut r, 3);
    assert_eq!(attempts(&r.server, &alice), 3);
    let error = ServerError::TooManyAttempts(alice.clone());
    reject(&mut r.server, &alice, r.honest.clone(), NOW, error, ErrorCode::TooManyAttempts);
    assert_eq!(pending(&r.server, &alice), None, "the OTP is deleted");
    let error = ServerError::NoPendingRegistration(alice.clone());
    reject(&mut r.server, &alice, r.honest.clone(), NOW, error, ErrorCode::NoPendingRegistration);
}

/// §5.3 #5 [E8]: `attempts < MAX_OTP_ATTEMPTS` — two failures leave one attempt.
#[test]
fn hardened_server_accepts_correct_otp_after_two_failed_attempts() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    fail_attempts(&mut r, 2);
    assert_registers(&mut r, NOW);
}

/// §5.3 #7 [E8]: a sealed tag that does not decrypt counts as a failed attempt too.
#[test]
fn hardened_server_rejects_correct_otp_after_three_bad_sealed_tags() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    let alice = r.phone();
    let garbage = edit_hardened_proof(&r.honest, |sealed, _| *sealed = flip(sealed));
    for n in 1..=3 {
        let error = ServerError::BadSealedTag;
        reject(&mut r.server, &alice, garbage.clone(), NOW, error, ErrorCode::RegistrationRejected);
        assert_eq!(attempts(&r.server, &alice), n);
    }
    let error = ServerError::TooManyAttempts(alice.clone());
    reject(&mut r.server, &alice, r.honest.clone(), NOW, error, ErrorCode::TooManyAttempts);
}

/// Documented seed flaw (§5.3, §14): unlimited online guesses within the OTP's lifetime.
#[test]
fn seed_server_accepts_correct_otp_after_many_failed_attempts() {
    let mut r = Registering::new(Profile::SEED, "alice");
    fail_attempts(&mut r, 10);
    assert_registers(&mut r, NOW);
}

/// Without E8 the hardened server counts no attempts.
#[test]
fn server_without_otp_limits_accepts_correct_otp_after_three_failed_attempts() {
    let mut r = Registering::new(Profile::HARDENED.without(Fix::OtpLimits), "alice");
    let alice = r.phone();
    fail_attempts(&mut r, 3);
    assert_eq!(attempts(&r.server, &alice), 0, "nothing counted");
    assert_registers(&mut r, NOW);
}

/// §5.3 #4 before #5.
#[test]
fn hardened_server_checks_expiry_before_attempts() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    let alice = r.phone();
    fail_attempts(&mut r, 3);
    let late = NOW + OTP_TTL_MS + 1;
    reject(
        &mut r.server,
        &alice,
        r.honest.clone(),
        late,
        ServerError::OtpExpired(alice.clone()),
        ErrorCode::OtpExpired,
    );
}

/// §5.3 #5 before #6.
#[test]
fn hardened_server_checks_attempts_before_possession_proof() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    let alice = r.phone();
    fail_attempts(&mut r, 3);
    let bad = edit_hardened_proof(&r.honest, |_, possession| *possession = flip(possession));
    let error = ServerError::TooManyAttempts(alice.clone());
    reject(&mut r.server, &alice, bad, NOW, error, ErrorCode::TooManyAttempts);
}

/// §5.3 #6 [E9]: a tampered or missing proof of possession; it does not count an attempt.
#[test]
fn hardened_server_rejects_bad_possession_proof() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    let alice = r.phone();
    let before = r.server.clone();
    for edit in [flip as fn(&Bytes) -> Bytes, |_: &Bytes| public(b"")] {
        let bad = edit_hardened_proof(&r.honest, |_, possession| *possession = edit(possession));
        let error = ServerError::BadPossessionProof;
        reject(&mut r.server, &alice, bad, NOW, error, ErrorCode::RegistrationRejected);
        assert_eq!(r.server, before, "no attempt counted");
    }
    assert_registers(&mut r, NOW);
}

/// §5.3 #6 [E9]: Alice's key submitted under her proof is fine, Eve's key swapped in is not.
#[test]
fn hardened_server_rejects_submission_with_swapped_public_key() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    let alice = r.phone();
    let swapped = tampered(&r.honest, |m| *submitted_key_mut(m) = public_key("eve"));
    reject(
        &mut r.server,
        &alice,
        swapped,
        NOW,
        ServerError::BadPossessionProof,
        ErrorCode::RegistrationRejected,
    );
}

/// Flaw 7 (E9): Eve, knowing her own OTP, submits Bob's public key for her phone with a correct
/// tag; she cannot sign for Bob's key, so her possession proof is her own.
fn eve_submits_bobs_key(profile: Profile) -> (Registering, Message<S>) {
    let r = Registering::new(profile, "eve");
    let (eve, bobs_key) = (r.phone(), public_key("bob"));
    let tag = tag(&r.otp, &eve, &bobs_key);
    let sealed = if profile.has(Fix::SealedTag) { seal_tag(&tag, &eve) } else { tag };
    let claim = tampered(&r.honest, |m| *submitted_key_mut(m) = bobs_key.clone());
    let claim = edit_hardened_proof(&claim, |sealed_tag, _| *sealed_tag = sealed);
    (r, claim)
}

/// §5.3 #6 [E9] stops flaw 7.
#[test]
fn hardened_server_rejects_eves_registration_of_bobs_key() {
    let (mut r, claim) = eve_submits_bobs_key(Profile::HARDENED);
    let eve = r.phone();
    let before = r.server.clone();
    reject(&mut r.server, &eve, claim, NOW, ServerError::BadPossessionProof, ErrorCode::RegistrationRejected);
    assert_eq!(r.server, before);
}

/// Without E9, Eve's phone is bound to Bob's key.
#[test]
fn server_without_possession_proof_accepts_eves_registration_of_bobs_key() {
    let (mut r, claim) = eve_submits_bobs_key(Profile::HARDENED.without(Fix::PossessionProof));
    let eve = r.phone();
    r.submit(claim, NOW).expect("accepted without E9");
    let entry = r.server.store().entry(&eve).expect("store").expect("eve registered");
    assert_eq!(entry.public_key, public_key("bob"));
}

/// §5.3 #6 before #7: garbage in both costs no private-key operation and no attempt.
#[test]
fn hardened_server_checks_possession_proof_before_sealed_tag() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    let alice = r.phone();
    let before = r.server.clone();
    let bad = edit_hardened_proof(&r.honest, |sealed, possession| {
        *sealed = flip(sealed);
        *possession = flip(possession);
    });
    reject(&mut r.server, &alice, bad, NOW, ServerError::BadPossessionProof, ErrorCode::RegistrationRejected);
    assert_eq!(r.server, before);
}

/// §5.3 #7 [E7]: a sealed tag that does not decrypt; [E8] counts the attempt.
#[test]
fn hardened_server_rejects_bad_sealed_tag() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    let alice = r.phone();
    let before = r.server.clone();
    let bad = edit_hardened_proof(&r.honest, |sealed, _| *sealed = flip(sealed));
    reject(&mut r.server, &alice, bad, NOW, ServerError::BadSealedTag, ErrorCode::RegistrationRejected);
    assert_only_attempts_changed(&r.server, &before, &alice, 1);
    assert_registers(&mut r, NOW);
}

/// §5.3 #7 [E7]: the right tag sealed under another phone's label does not decrypt.
#[test]
fn hardened_server_rejects_tag_sealed_for_another_phone() {
    let mut r = Registering::new(Profile::HARDENED, "alice");
    let alice = r.phone();
    let right_tag = tag(&r.otp, &alice, r.client.public_key());
    let sealed_for_bob = seal_tag(&right_tag, &phone("bob"));
    let bad = edit_hardened_proof(&r.honest, |sealed, _| *sealed = sealed_for_bob);
    reject(&mut r.server, &alice, bad, NOW, ServerError::BadSealedTag, ErrorCode::RegistrationRejected);
    // The same tag under Alice's label is accepted.
    let resealed = edit_hardened_proof(&r.honest, |sealed, _| *sealed = seal_tag(&right_tag, &alice));
    r.submit(resealed, NOW).expect("accepted");
}

/// Without E7 nothing is unsealed: the field is the tag in the clear (the offline verifier of
/// flaw 5), and garbage in it is a wrong tag, not a bad sealed tag.
#[test]
fn server_without_sealed_tag_rejects_garbage_tag_as_wrong_tag() {
    let mut r = Registering::new(Profile::HARDENED.without(Fix::SealedTag), "alice");
    let alice = r.phone();
    let clear = tag(&r.otp, &alice, r.client.public_key());
    let RegistrationProof::Hardened { sealed_tag, .. } = proof_mut(&mut r.honest.clone()).clone() else {
        panic!("a v2 proof")
    };
    assert_eq!(sealed_tag, clear, "the tag travels in the clear");
    let garbage = edit_hardened_proof(&r.honest, |sealed, _| *sealed = flip(sealed));
    let error = ServerError::BadRegistrationTag;
    reject(&mut r.server, &alice, garbage, NOW, error, ErrorCode::RegistrationRejected);
    assert_registers(&mut r, NOW);
}

/// §3: the default 600 000 PBKDF2 iterations, on both sides; a client computing the tag with
/// another count is refused with a wrong tag.
#[test]
fn hardened_server_accepts_registration_with_default_pbkdf2_iterations() {
    let profile = Profile::HARDENED;
    assert_eq!(Params::default().pbkdf2_iterations, 600_000);
    let server = Server::new(profile, Params::default(), fixtures::server_key(), MemoryStore::default());
    let fast_client = new_client(profile, "alice");
    let mut r = Registering::with_server(server, fast_client);
    let alice = r.phone();
    let fast = r.honest.clone();
    reject(
        &mut r.server,
        &alice,
        fast,
        NOW,
        ServerError::BadRegistrationTag,
        ErrorCode::RegistrationRejected,
    );
    let mut client = Client::new(profile, Params::default(), alice.clone(), key("alice"), server_public());
    client.register();
    let submit = only_sent(&client.otp_received(&r.otp, &mut rng(6)).expect("otp"));
    let outputs = r.submit(submit, NOW).expect("accepted with the default iteration count");
    client.handle(register_result(&outputs, &alice), &mut rng(6)).expect("result");
    assert!(client.is_registered());
}

// ---- §6.1 KeyRequest ----

/// §6.1 #1: the sender's address must be registered (checked before the peer).
fn server_rejects_key_request_from_unregistered_sender(profile: Profile) {
    let mut w = World::registered(profile);
    let (carol, alice) = (phone("carol"), phone("alice"));
    let request = key_request(&mut w);
    let before = w.server.clone();
    let error = ServerError::NotRegistered(carol.clone());
    reject(&mut w.server, &carol, request.clone(), NOW, error.clone(), ErrorCode::NotRegistered);
    assert_eq!(w.server, before);
    let for_eve = Message::KeyRequest { peer: phone("eve") };
    reject(&mut w.server, &carol, for_eve, NOW, error, ErrorCode::NotRegistered);
    assert_eq!(w.relay(&alice, request), Message::PeerKey { entry: w.entry("bob") });
}

/// §6.1 #2: the peer must be registered.
fn server_rejects_key_request_for_unknown_peer(profile: Profile) {
    let mut w = World::registered(profile);
    let alice = phone("alice");
    let request = key_request(&mut w);
    let for_carol = tampered(&request, |m| {
        if let Message::KeyRequest { peer } = m {
            *peer = phone("carol");
        }
    });
    let before = w.server.clone();
    let error = ServerError::UnknownPeer(phone("carol"));
    reject(&mut w.server, &alice, for_carol, NOW, error, ErrorCode::UnknownPeer);
    assert_eq!(w.server, before);
    assert_eq!(w.relay(&alice, request), Message::PeerKey { entry: w.entry("bob") });
}

// ---- §6.3 KeyTransport, §7.3 Data, §8.2 Ack: sender and recipient ----

/// Checks a relay message (`KeyTransport`, `Data`, `Ack`) from Alice to Bob: from an
/// unregistered address it is `NotRegistered` (checked before the recipient), to an unknown
/// recipient `UnknownPeer`; the honest one is relayed to Bob.
fn assert_relay_checks(w: &mut World, honest: Message<S>, relayed: impl Fn(&Message<S>) -> bool) {
    let (alice, carol) = (phone("alice"), phone("carol"));
    let before = w.server.clone();
    let error = ServerError::NotRegistered(carol.clone());
    reject(&mut w.server, &carol, honest.clone(), NOW, error.clone(), ErrorCode::NotRegistered);
    let to_eve = tampered(&honest, |m| *recipient_mut(m) = phone("eve"));
    reject(&mut w.server, &carol, to_eve, NOW, error, ErrorCode::NotRegistered);
    let to_carol = tampered(&honest, |m| *recipient_mut(m) = carol.clone());
    reject(
        &mut w.server,
        &alice,
        to_carol,
        NOW,
        ServerError::UnknownPeer(carol.clone()),
        ErrorCode::UnknownPeer,
    );
    assert_eq!(w.server, before);
    assert!(relayed(&w.relay(&alice, honest)), "the honest message is relayed");
}

/// §6.3 #1 and #2.
fn server_rejects_key_transport_from_unregistered_sender_or_to_unknown_peer(profile: Profile) {
    let mut w = World::registered(profile);
    let transport = key_transport(&mut w);
    let alice_entry = w.entry("alice");
    assert_relay_checks(
        &mut w,
        transport,
        |m| matches!(m, Message::KeyDelivery { from, .. } if *from == alice_entry),
    );
}

/// §7.3 #2 and #3.
fn server_rejects_data_from_unregistered_sender_or_to_unknown_peer(profile: Profile) {
    let mut w = World::with_session(profile);
    let data = w.data_from_alice(b"hello");
    assert_relay_checks(
        &mut w,
        data,
        |m| matches!(m, Message::DataDelivery { from, .. } if *from == phone("alice")),
    );
}

/// §8.2 (as §7.3 #2 and #3), for Bob's ACK to Alice, sent here from Alice's address: the
/// checks are about addresses, not about who acknowledges.
fn server_rejects_ack_from_unregistered_sender_or_to_unknown_peer(profile: Profile) {
    let mut w = World::with_session(profile);
    let delivery = w.data("hello".as_bytes());
    let ack = w.ack_from_bob(delivery);
    let to_bob = tampered(&ack, |m| *recipient_mut(m) = phone("bob"));
    assert_relay_checks(
        &mut w,
        to_bob,
        |m| matches!(m, Message::AckDelivery { from, .. } if *from == phone("alice")),
    );
}

/// §7.3 #1 and §8.2: the body must have the server's layout (checked before the sender).
fn server_rejects_data_and_ack_in_the_other_profiles_layout(profile: Profile) {
    let mut w = World::with_session(profile);
    let (alice, bob, carol) = (phone("alice"), phone("bob"), phone("carol"));
    let data = w.data_from_alice(b"hello");
    let delivery = w.relay(&alice, data.clone());
    let ack = w.ack_from_bob(delivery);
    let before = w.server.clone();
    let other_data = tampered(&data, |m| {
        let sealed = sealed_mut(m);
        *sealed = other_layout_sealed(sealed);
    });
    let other_ack = tampered(&ack, |m| {
        let body = ack_mut(m);
        *body = other_layout_ack(body);
    });
    for (from, message) in [(&alice, other_data), (&bob, other_ack)] {
        reject(&mut w.server, from, message.clone(), NOW, ServerError::WrongProfile, ErrorCode::BadRequest);
        reject(&mut w.server, &carol, message, NOW, ServerError::WrongProfile, ErrorCode::BadRequest);
    }
    assert_eq!(w.server, before);
    w.relay(&alice, data);
    w.relay(&bob, ack);
}

// ---- §9.1 Connect and Disconnect ----

/// §9.1 #1: a presence message must name the sender's own address.
fn server_rejects_presence_for_another_address(profile: Profile) {
    let mut w = World::registered(profile);
    let (alice, bob) = (phone("alice"), phone("bob"));
    let connect = only_sent(&w.alice.connect().expect("connect"));
    let disconnect = only_sent(&w.alice.disconnect().expect("disconnect"));
    let before = w.server.clone();
    for honest in [&disconnect, &connect] {
        let error = ServerError::SenderMismatch(alice.clone());
        reject(&mut w.server, &bob, honest.clone(), NOW, error, ErrorCode::BadRequest);
        assert_eq!(w.server, before, "alice stays online");
    }
    w.server.handle(&alice, disconnect, NOW, &mut rng(7)).expect("own disconnect");
    assert!(!w.server.online().contains(&alice));
    w.server.handle(&alice, connect, NOW, &mut rng(7)).expect("own connect");
    assert!(w.server.online().contains(&alice));
}

/// §9.1 #2: only a registered phone may connect (after #1); disconnecting has no such check.
fn server_rejects_connect_of_unregistered_phone(profile: Profile) {
    let mut w = World::registered(profile);
    let (alice, carol) = (phone("alice"), phone("carol"));
    let connect = Message::Connect { phone: carol.clone() };
    let before = w.server.clone();
    let error = ServerError::NotRegistered(carol.clone());
    reject(&mut w.server, &carol, connect.clone(), NOW, error, ErrorCode::NotRegistered);
    let error = ServerError::SenderMismatch(carol.clone());
    reject(&mut w.server, &alice, connect, NOW, error, ErrorCode::BadRequest);
    assert_eq!(w.server, before);
    let disconnect = Message::Disconnect { phone: carol.clone() };
    let outputs = w.server.handle(&carol, disconnect, NOW, &mut rng(7)).expect("no registration check");
    assert_eq!(outputs, vec![ServerOutput::Event(ServerEvent::Offline(carol))]);
}

// ---- §10.1 UnexpectedMessage ----

/// A server-to-client message sent to the server.
fn server_rejects_messages_meant_for_clients(profile: Profile) {
    let mut w = World::registered(profile);
    let alice = phone("alice");
    let key_delivery = w.key_delivery();
    w.bob_handles(key_delivery.clone()).expect("session");
    let data_delivery = w.data(b"hello");
    let ack_delivery = w.ack(data_delivery.clone());
    let messages = [
        Message::RegisterResult { entry: w.entry("alice") },
        Message::PeerKey { entry: w.entry("bob") },
        key_delivery,
        data_delivery,
        ack_delivery,
        Message::Error { code: ErrorCode::Internal },
    ];
    let before = w.server.clone();
    for message in messages {
        let error = ServerError::UnexpectedMessage(message.kind());
        reject(&mut w.server, &alice, message, NOW, error, ErrorCode::BadRequest);
    }
    assert_eq!(w.server, before);
}

// ---- §5.1 [E8] OTP request limit; §13 what replies reveal ----

/// `RegisterRequest` for `phone` from its own address.
fn otp_request(phone: &Phone) -> Message<S> {
    Message::RegisterRequest { phone: phone.clone() }
}

/// `outputs` with every mention of `from` replaced by `to`, to compare the replies to two
/// phones.
fn renamed(outputs: &[ServerOutput<S>], from: &Phone, to: &Phone) -> Vec<ServerOutput<S>> {
    let swap = |p: &Phone| if p == from { to.clone() } else { p.clone() };
    outputs
        .iter()
        .map(|o| match o {
            ServerOutput::Sms { phone, otp } => ServerOutput::Sms { phone: swap(phone), otp: otp.clone() },
            ServerOutput::Event(ServerEvent::OtpIssued(p)) => {
                ServerOutput::Event(ServerEvent::OtpIssued(swap(p)))
            }
            ServerOutput::Event(ServerEvent::Rejected { from: f, error: ServerError::RateLimited(p) }) => {
                ServerOutput::Event(ServerEvent::Rejected {
                    from: swap(f),
                    error: ServerError::RateLimited(swap(p)),
                })
            }
            ServerOutput::Send { to: t, message, stored } => {
                ServerOutput::Send { to: swap(t), message: message.clone(), stored: *stored }
            }
            other => other.clone(),
        })
        .collect()
}

/// §5.1 [E8]: at most `MAX_OTP_REQUESTS` = 3 OTP requests per phone in any 15 minutes; the
/// fourth is `RateLimited` and changes nothing (the pending OTP stays the third); the window
/// slides, so the first request's slot frees exactly 15 minutes after it.
#[test]
fn hardened_server_rate_limits_otp_requests() {
    let profile = Profile::HARDENED;
    let mut server = new_server(profile);
    let alice = phone("alice");
    let window = ee2e_spec::limits::OTP_REQUEST_WINDOW_MS;
    for i in 0..3 {
        server.handle(&alice, otp_request(&alice), NOW + i, &mut rng(i as u8)).expect("within the limit");
    }
    let third = pending(&server, &alice).expect("pending");
    let before = server.clone();
    let error = ServerError::RateLimited(alice.clone());
    reject(&mut server, &alice, otp_request(&alice), NOW + 3, error.clone(), ErrorCode::RateLimited);
    reject(&mut server, &alice, otp_request(&alice), NOW + window - 1, error, ErrorCode::RateLimited);
    assert_eq!(server, before, "a rate-limited request changes nothing");
    assert_eq!(pending(&server, &alice), Some(third));
    // Other phones have their own limit.
    let bob = phone("bob");
    server.handle(&bob, otp_request(&bob), NOW + 3, &mut rng(5)).expect("bob's first request");
    // The first request leaves the window at NOW + window.
    server.handle(&alice, otp_request(&alice), NOW + window, &mut rng(6)).expect("one slot freed");
    let error = ServerError::RateLimited(alice.clone());
    reject(&mut server, &alice, otp_request(&alice), NOW + window, error, ErrorCode::RateLimited);
}

/// §5.1: the seed (I6) and `hardened-without-otp-limits` have no request limit.
#[test]
fn seed_and_server_without_otp_limits_do_not_rate_limit_otp_requests() {
    for profile in [Profile::SEED, Profile::HARDENED.without(Fix::OtpLimits)] {
        let mut server = new_server(profile);
        let alice = phone("alice");
        for i in 0..10 {
            server.handle(&alice, otp_request(&alice), NOW + i, &mut rng(1)).expect("no limit");
        }
        assert_eq!(server.store().otp_requests(&alice), Ok(vec![]), "{profile}: nothing recorded");
    }
}

/// §13: a `RegisterRequest` for a registered phone and one for an unregistered phone get the
/// same outputs (an SMS to that phone, no reply message), and the same `RateLimited` reply
/// once over the limit; a `RegisterSubmit` with a wrong proof gets the same error. The
/// requester learns nothing about registration from them. (Within 15 minutes of a phone's
/// own registration its earlier request still counts against the limit: that reveals recent
/// OTP requests, which the requester could have made itself, not registration.)
fn server_replies_alike_to_registered_and_unregistered_phones(profile: Profile) {
    let mut w = World::registered(profile);
    let (alice, carol) = (phone("alice"), phone("carol"));
    let requests = if profile.has(Fix::OtpLimits) { 4 } else { 2 };
    // After the window of Alice's own registration request.
    let later = NOW + ee2e_spec::limits::OTP_REQUEST_WINDOW_MS;
    for i in 0..requests {
        let for_alice = w.server.step(&alice, otp_request(&alice), later + i, &mut rng(3));
        let for_carol = w.server.step(&carol, otp_request(&carol), later + i, &mut rng(3));
        assert!(
            !for_alice.iter().any(|o| matches!(o, ServerOutput::Send { .. } if i < 3)),
            "no reply message"
        );
        assert_eq!(renamed(&for_alice, &alice, &carol), for_carol, "request {i}");
    }
    // Both now have an OTP pending; a proof computed from a wrong OTP fails alike.
    let wrong = |name: &str| {
        let mut client = new_client(profile, name);
        client.register();
        only_sent(&client.otp_received(&Bytes::secret(b"000000".to_vec()), &mut rng(4)).expect("otp"))
    };
    let alice_reply = w.server.step(&alice, wrong("alice"), later, &mut rng(4));
    let carol_reply = w.server.step(&carol, wrong("carol"), later, &mut rng(4));
    assert_eq!(renamed_rejection(&alice_reply, &alice, &carol), carol_reply);
    assert!(matches!(
        &carol_reply[..],
        [ServerOutput::Send { message: Message::Error { code: ErrorCode::RegistrationRejected }, .. }, _]
    ));
}

/// A rejection reply with `from` replaced by `to`.
fn renamed_rejection(outputs: &[ServerOutput<S>], from: &Phone, to: &Phone) -> Vec<ServerOutput<S>> {
    outputs
        .iter()
        .map(|o| match o {
            ServerOutput::Send { to: t, message, stored } if t == from => {
                ServerOutput::Send { to: to.clone(), message: message.clone(), stored: *stored }
            }
            ServerOutput::Event(ServerEvent::Rejected { from: f, error }) if f == from => {
                ServerOutput::Event(ServerEvent::Rejected { from: to.clone(), error: error.clone() })
            }
            other => other.clone(),
        })
        .collect()
}

// ---- §9.2 offline queue: bound and confirmed delivery ----

/// A server over `w`'s store (Alice and Bob registered, both offline) with at most `max`
/// messages per offline queue, removing stored messages as `delivery` says.
fn offline_server(w: &World, max: usize, delivery: ee2e_spec::Delivery) -> TestServer {
    let params = Params { max_queued: max, ..params() };
    Server::new(w.profile, params, fixtures::server_key(), w.server.store().clone()).with_delivery(delivery)
}

/// §9.2: a message for an offline recipient whose queue holds `max_queued` messages is
/// refused with `QueueFull` (code `QueueFull`) and not stored; once delivered messages are
/// removed there is room again.
fn server_rejects_message_when_the_recipients_queue_is_full(profile: Profile) {
    let mut w = World::with_session(profile);
    let (alice, bob) = (phone("alice"), phone("bob"));
    let mut server = offline_server(&w, 3, ee2e_spec::Delivery::Confirmed);
    for i in 0..3u8 {
        let data = w.data_from_alice(&[i]);
        server.handle(&alice, data, NOW, &mut rng(1)).expect("queued");
    }
    let fourth = w.data_from_alice(b"one too many");
    let before = server.clone();
    let error = ServerError::QueueFull { to: bob.clone(), bound: QueueBound::Messages };
    reject(&mut server, &alice, fourth.clone(), NOW, error, ErrorCode::QueueFull);
    assert_eq!(server, before);
    assert_eq!(server.store().queue_len(&bob), Ok(3));
    // Bob connects: the three are sent but stay stored until confirmed.
    let sent =
        server.handle(&bob, Message::Connect { phone: bob.clone() }, NOW, &mut rng(1)).expect("connect");
    assert_eq!(sent.iter().filter(|o| matches!(o, ServerOutput::Send { stored: true, .. })).count(), 3);
    assert_eq!(server.store().queue_len(&bob), Ok(3));
    assert_eq!(server.confirm_delivery(&bob, 1).map(|c| c.removed), Ok(1));
    server.handle(&bob, Message::Disconnect { phone: bob.clone() }, NOW, &mut rng(1)).expect("offline");
    server.handle(&alice, fourth, NOW, &mut rng(1)).expect("room for one again");
    assert_eq!(server.store().queue_len(&bob), Ok(3));
}

/// §9.2 (`Delivery::Confirmed`): `Connect` sends the stored messages without removing them; a
/// second `Connect` sends the unconfirmed ones again, in order; `confirm_delivery` removes
/// the oldest, never more than there are. Under `Delivery::OnConnect` (the default) `Connect`
/// takes the queue and a confirmation changes nothing.
fn server_keeps_stored_messages_until_their_delivery_is_confirmed(profile: Profile) {
    let mut w = World::with_session(profile);
    let (alice, bob) = (phone("alice"), phone("bob"));
    let connect = Message::Connect { phone: bob.clone() };
    let sent = |outputs: Vec<ServerOutput<S>>| -> Vec<Message<S>> {
        outputs
            .into_iter()
            .filter_map(|o| match o {
                ServerOutput::Send { message, .. } => Some(message),
                _ => None,
            })
            .collect()
    };
    let messages: Vec<_> = (0..3u8).map(|i| w.data_from_alice(&[i])).collect();
    let mut confirmed = offline_server(&w, 10, ee2e_spec::Delivery::Confirmed);
    let mut on_connect = offline_server(&w, 10, ee2e_spec::Delivery::OnConnect);
    for server in [&mut confirmed, &mut on_connect] {
        for m in &messages {
            server.handle(&alice, m.clone(), NOW, &mut rng(1)).expect("queued");
        }
    }
    let first = sent(confirmed.handle(&bob, connect.clone(), NOW, &mut rng(1)).expect("connect"));
    assert_eq!(first.len(), 3);
    let again = sent(confirmed.handle(&bob, connect.clone(), NOW, &mut rng(1)).expect("connect again"));
    assert_eq!(again, first, "unconfirmed messages are sent again, in the same order");
    assert_eq!(confirmed.confirm_delivery(&bob, 2).map(|c| c.removed), Ok(2));
    let rest = sent(confirmed.handle(&bob, connect.clone(), NOW, &mut rng(1)).expect("connect"));
    assert_eq!(rest, first[2..].to_vec());
    assert_eq!(confirmed.confirm_delivery(&bob, 5).map(|c| c.removed), Ok(1), "only what is there");
    assert_eq!(confirmed.store().queue_len(&bob), Ok(0));

    let taken = sent(on_connect.handle(&bob, connect.clone(), NOW, &mut rng(1)).expect("connect"));
    assert_eq!(taken, first);
    assert_eq!(on_connect.store().queue_len(&bob), Ok(0));
    assert_eq!(on_connect.confirm_delivery(&bob, 1).map(|c| c.removed), Ok(0));
    assert!(sent(on_connect.handle(&bob, connect, NOW, &mut rng(1)).expect("connect")).is_empty());
}

/// §9.2: a confirmation the store cannot write is an error and leaves the message stored.
fn server_keeps_the_message_when_confirming_its_delivery_fails(profile: Profile) {
    let w = World::with_store(profile, FaultyStore::default());
    let (alice, bob) = (phone("alice"), phone("bob"));
    let mut server = Server::new(profile, params(), fixtures::server_key(), w.server.store().clone())
        .with_delivery(ee2e_spec::Delivery::Confirmed);
    let transport = {
        let mut w = w;
        key_transport(&mut w)
    };
    server.handle(&alice, transport, NOW, &mut rng(1)).expect("queued for offline bob");
    server.handle(&bob, Message::Connect { phone: bob.clone() }, NOW, &mut rng(1)).expect("connect");
    server.store().fail(Op::RemoveQueued);
    assert_eq!(server.confirm_delivery(&bob, 1), Err(ServerError::Store(injected(Op::RemoveQueued))));
    assert_eq!(server.store().queue_len(&bob), Ok(1));
    server.store().heal();
    assert_eq!(server.confirm_delivery(&bob, 1).map(|c| c.removed), Ok(1));
}

// ---- §9.2 offline queue: byte and per-sender bounds, batches ----

/// A server over `w`'s store (everyone offline) with parameters `params`, confirmed delivery.
fn bounded_server(w: &World, params: Params) -> TestServer {
    Server::new(w.profile, params, fixtures::server_key(), w.server.store().clone())
        .with_delivery(ee2e_spec::Delivery::Confirmed)
}

/// The stored messages among `outputs`.
fn stored_sends(outputs: &[ServerOutput<S>]) -> Vec<Message<S>> {
    outputs
        .iter()
        .filter_map(|o| match o {
            ServerOutput::Send { message, stored: true, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// §9.2 checks 2–4: a message that would take the recipient's queue past its bytes, or the
/// sender's share past its count or bytes, is refused with `QueueFull` naming the bound,
/// nothing is stored, and another sender still gets through.
fn server_rejects_message_past_the_queues_byte_and_sender_bounds(profile: Profile) {
    let mut w = World::with_session(profile);
    let carol = phone("carol");
    w.register("carol");
    let (alice, bob) = (phone("alice"), phone("bob"));
    let messages: Vec<_> = (0..3u8).map(|i| w.data_from_alice(&[i; 40])).collect();
    let size = delivery_from(&alice, &messages[0]).stored_size();
    assert!(size > 48, "the sizes count the ciphertext ({size})");
    let cases = [
        (Params { max_queued_bytes: 2 * size, ..params() }, QueueBound::Bytes, false),
        (Params { max_queued_per_sender: 2, ..params() }, QueueBound::SenderMessages, true),
        (Params { max_queued_bytes_per_sender: 2 * size + 1, ..params() }, QueueBound::SenderBytes, true),
    ];
    for (params, bound, others_fit) in cases {
        let mut server = bounded_server(&w, params);
        for m in &messages[..2] {
            server.handle(&alice, m.clone(), NOW, &mut rng(1)).expect("queued");
        }
        let before = server.clone();
        let error = ServerError::QueueFull { to: bob.clone(), bound };
        reject(&mut server, &alice, messages[2].clone(), NOW, error, ErrorCode::QueueFull);
        assert_eq!(server, before, "{bound:?}: nothing stored");
        assert_eq!(server.store().queue_len(&bob), Ok(2));
        // Carol's share is her own (Carol's relay carries her phone, same length as Alice's).
        let from_carol = server.handle(&carol, messages[2].clone(), NOW, &mut rng(1));
        assert_eq!(from_carol.is_ok(), others_fit, "{bound:?}: {from_carol:?}");
    }
}

/// §9.2 stored delivery: `Connect` sends only the first batch (by count, then by bytes);
/// the confirmation of a batch's last message sends the next; a `Disconnect` ends the chain
/// and the next `Connect` starts again at the oldest unconfirmed message; every message
/// arrives once per chain, in order, and leaves the store only when confirmed.
fn server_delivers_the_queue_in_batches(profile: Profile) {
    let mut w = World::with_session(profile);
    let (alice, bob) = (phone("alice"), phone("bob"));
    let connect = Message::Connect { phone: bob.clone() };
    let messages: Vec<_> = (0..5u8).map(|i| w.data_from_alice(&[i])).collect();
    let all: Vec<_> = messages.iter().map(|m| delivery_from(&alice, m)).collect();
    let mut server = bounded_server(&w, Params { batch_messages: 2, ..params() });
    for m in &messages {
        server.handle(&alice, m.clone(), NOW, &mut rng(1)).expect("queued");
    }
    let outputs = server.handle(&bob, connect.clone(), NOW, &mut rng(1)).expect("connect");
    assert_eq!(stored_sends(&outputs), all[..2].to_vec(), "the first batch only");
    assert!(outputs.contains(&ServerOutput::Event(ServerEvent::Online { phone: bob.clone(), delivered: 2 })));
    let first = server.confirm_delivery(&bob, 1).expect("confirm");
    assert_eq!((first.removed, first.outputs), (1, vec![]), "the batch is not done");
    let second = server.confirm_delivery(&bob, 1).expect("confirm");
    assert_eq!(second.removed, 1);
    assert_eq!(stored_sends(&second.outputs), all[2..4].to_vec(), "the next batch, in order");
    let next_batch = ServerEvent::NextBatch { phone: bob.clone(), delivered: 2 };
    assert!(second.outputs.contains(&ServerOutput::Event(next_batch)));
    assert_eq!(server.store().queue_len(&bob), Ok(3), "sent is not removed");
    // Offline in the middle of a batch: confirmations still remove, but send nothing.
    server.handle(&bob, Message::Disconnect { phone: bob.clone() }, NOW, &mut rng(1)).expect("offline");
    let late = server.confirm_delivery(&bob, 1).expect("confirm");
    assert_eq!((late.removed, late.outputs), (1, vec![]));
    let again = stored_sends(&server.handle(&bob, connect.clone(), NOW, &mut rng(1)).expect("connect"));
    assert_eq!(again, all[3..].to_vec(), "the rest, from the oldest unconfirmed");
    assert_eq!(server.confirm_delivery(&bob, 2).map(|c| (c.removed, c.outputs)), Ok((2, vec![])));
    assert_eq!(server.store().queue_len(&bob), Ok(0));
    // The byte bound: a batch of at most 2 messages' bytes, and at least one message.
    let size = all[0].stored_size();
    for (batch_bytes, expected) in [(2 * size, 2), (2 * size - 1, 1), (0, 1)] {
        let mut server = bounded_server(&w, Params { batch_messages: 100, batch_bytes, ..params() });
        for m in &messages {
            server.handle(&alice, m.clone(), NOW, &mut rng(1)).expect("queued");
        }
        let sent = stored_sends(&server.handle(&bob, connect.clone(), NOW, &mut rng(1)).expect("connect"));
        assert_eq!(sent, all[..expected].to_vec(), "{batch_bytes} bytes");
    }
}

/// The `DataDelivery` the server makes of `from`'s `Data`.
fn delivery_from(from: &Phone, data: &Message<S>) -> Message<S> {
    match data {
        Message::Data { sealed, .. } => Message::DataDelivery { from: from.clone(), sealed: sealed.clone() },
        other => panic!("not a Data: {other:?}"),
    }
}

/// The OTP parameters of the capacity tests: room for two phones, sweeps of 64 rows.
fn two_phone_otp_server(profile: Profile) -> TestServer {
    Server::new(
        profile,
        Params { max_otp_phones: 2, ..params() },
        fixtures::server_key(),
        MemoryStore::default(),
    )
}

/// §5.1 check 2: with rows for `MAX_OTP_PHONES` phones, a request for another phone is
/// refused (`OtpTableFull`, code `RateLimited`) and changes nothing; a phone that holds rows
/// may still ask; once rows expire, the request sweeps them and is accepted.
fn server_refuses_new_phones_when_the_otp_tables_are_full(profile: Profile) {
    let mut server = two_phone_otp_server(profile);
    let (alice, bob, carol) = (phone("alice"), phone("bob"), phone("carol"));
    for p in [&alice, &bob] {
        server.handle(p, otp_request(p), NOW, &mut rng(1)).expect("room");
    }
    assert_eq!(server.store().otp_phones(), Ok(2));
    let error = ServerError::OtpTableFull(carol.clone());
    reject(&mut server, &carol, otp_request(&carol), NOW + 1, error.clone(), ErrorCode::RateLimited);
    server.handle(&alice, otp_request(&alice), NOW + 2, &mut rng(1)).expect("alice holds rows already");
    // Past the OTP lifetime (seed) or the request window (hardened: the request times count
    // for the E8 limit until then) the rows are dead.
    let dead = if profile.has(Fix::OtpLimits) { params().otp_request_window_ms } else { OTP_TTL_MS + 1 };
    // Bob's rows (from NOW) die first; Alice asked again at NOW + 2.
    reject(&mut server, &carol, otp_request(&carol), NOW + dead - 1, error, ErrorCode::RateLimited);
    let outputs = server.handle(&carol, otp_request(&carol), NOW + dead, &mut rng(1)).expect("swept");
    assert!(outputs.iter().any(|o| matches!(o, ServerOutput::Sms { phone, .. } if *phone == carol)));
    assert_eq!(pending(&server, &bob), None, "bob's expired OTP was swept");
    assert_eq!(server.store().otp_requests(&bob), Ok(vec![]));
    assert_eq!(server.store().otp_phones(), Ok(2), "alice's live rows and carol's");
}

/// §5.1 sweeping: `Server::sweep` removes exactly the expired rows (an OTP older than its
/// lifetime, request times outside the window), at most `otp_sweep_batch` of each table,
/// oldest first; a submission for a swept OTP is `NoPendingRegistration`.
fn server_sweeps_expired_otp_rows_in_bounded_batches(profile: Profile) {
    let params = Params { otp_sweep_batch: 2, ..params() };
    let mut server = Server::new(profile, params, fixtures::server_key(), MemoryStore::<S>::default());
    let phones: Vec<_> = ["alice", "bob", "carol", "eve"].map(phone).to_vec();
    for (i, p) in phones.iter().enumerate() {
        server.handle(p, otp_request(p), NOW + i as u64, &mut rng(1)).expect("issued");
    }
    assert_eq!(server.sweep(NOW + OTP_TTL_MS), Ok(0), "nothing has expired");
    let after_ttl = NOW + OTP_TTL_MS + 1;
    assert_eq!(server.sweep(after_ttl), Ok(1), "alice's OTP only");
    assert_eq!(pending(&server, &phones[0]), None);
    assert!(pending(&server, &phones[1]).is_some());
    // Past the request window too: at most two rows of each table per sweep, oldest first.
    let late = NOW + params.otp_request_window_ms + 10;
    let requests: usize = if profile.has(Fix::OtpLimits) { 4 } else { 0 };
    assert_eq!(server.sweep(late), Ok(2 + requests.min(2)), "two of each table at most");
    assert_eq!(pending(&server, &phones[2]), None);
    assert!(pending(&server, &phones[3]).is_some(), "eve's is the youngest: left for the next sweep");
    assert_eq!(server.sweep(late), Ok(1 + requests.saturating_sub(2)));
    assert_eq!(server.sweep(late), Ok(0));
    assert_eq!(server.store().otp_phones(), Ok(0));
    // A submission for the swept OTP finds none.
    let mut client = new_client(profile, "alice");
    let request = only_sent(&client.register());
    let otp = sms(&server.handle(&phones[0], request, NOW, &mut rng(2)).expect("issued"));
    let submit = only_sent(&client.otp_received(&otp, &mut rng(2)).expect("submit"));
    assert_eq!(server.sweep(after_ttl), Ok(1));
    let error = ServerError::NoPendingRegistration(phones[0].clone());
    reject(&mut server, &phones[0], submit, after_ttl, error, ErrorCode::NoPendingRegistration);
}

// ---- §10.1 Store: a store that fails on demand ----

/// A store operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    PendingOtp,
    PutPendingOtp,
    RemovePendingOtp,
    Entry,
    PutEntry,
    Enqueue,
    TakeQueue,
    QueueLen,
    OtpRequests,
    PutOtpRequests,
    PeekQueue,
    RemoveQueued,
    OtpPhones,
    SweepOtps,
}

/// The in-memory store, failing the operations in `faults` (shared by clones, so that a
/// server's clone fails alike).
#[derive(Debug, Clone, PartialEq, Default)]
struct FaultyStore {
    inner: MemoryStore<S>,
    faults: Rc<RefCell<BTreeSet<Op>>>,
}

impl FaultyStore {
    fn fail(&self, op: Op) {
        self.faults.borrow_mut().insert(op);
    }
    fn heal(&self) {
        self.faults.borrow_mut().clear();
    }
    fn check(&self, op: Op) -> Result<(), StoreError> {
        if self.faults.borrow().contains(&op) { Err(injected(op)) } else { Ok(()) }
    }
}

/// The failure [`FaultyStore`] reports for `op`.
fn injected(op: Op) -> StoreError {
    StoreError::Backend { operation: "injected failure", detail: format!("{op:?}") }
}

impl Store<S> for FaultyStore {
    fn pending_otp(&self, phone: &Phone) -> Result<Option<PendingOtp<S>>, StoreError> {
        self.check(Op::PendingOtp)?;
        self.inner.pending_otp(phone)
    }
    fn put_pending_otp(&mut self, phone: &Phone, pending: &PendingOtp<S>) -> Result<(), StoreError> {
        self.check(Op::PutPendingOtp)?;
        self.inner.put_pending_otp(phone, pending)
    }
    fn remove_pending_otp(&mut self, phone: &Phone) -> Result<(), StoreError> {
        self.check(Op::RemovePendingOtp)?;
        self.inner.remove_pending_otp(phone)
    }
    fn entry(&self, phone: &Phone) -> Result<Option<DirectoryEntry<S>>, StoreError> {
        self.check(Op::Entry)?;
        self.inner.entry(phone)
    }
    fn commit_registration(
        &mut self,
        entry: &DirectoryEntry<S>,
        consume_otp: bool,
    ) -> Result<(), StoreError> {
        // Atomic like SQLite's transaction: check every fault before writing anything.
        self.check(Op::PutEntry)?;
        if consume_otp {
            self.check(Op::RemovePendingOtp)?;
        }
        self.inner.commit_registration(entry, consume_otp)
    }
    fn put_entry(&mut self, entry: &DirectoryEntry<S>) -> Result<(), StoreError> {
        self.check(Op::PutEntry)?;
        self.inner.put_entry(entry)
    }
    fn enqueue(
        &mut self,
        to: &Phone,
        from: &Phone,
        size: usize,
        message: &Message<S>,
    ) -> Result<(), StoreError> {
        self.check(Op::Enqueue)?;
        self.inner.enqueue(to, from, size, message)
    }
    fn queue_usage(&self, to: &Phone, from: &Phone) -> Result<QueueUsage, StoreError> {
        self.check(Op::QueueLen)?;
        self.inner.queue_usage(to, from)
    }
    fn otp_phones(&self) -> Result<usize, StoreError> {
        self.check(Op::OtpPhones)?;
        self.inner.otp_phones()
    }
    fn sweep_otps(&mut self, cutoff: OtpCutoff, max: usize) -> Result<usize, StoreError> {
        self.check(Op::SweepOtps)?;
        self.inner.sweep_otps(cutoff, max)
    }
    fn take_queue(&mut self, to: &Phone) -> Result<Vec<Message<S>>, StoreError> {
        self.check(Op::TakeQueue)?;
        self.inner.take_queue(to)
    }
    fn queue_len(&self, to: &Phone) -> Result<usize, StoreError> {
        self.check(Op::QueueLen)?;
        self.inner.queue_len(to)
    }
    fn otp_requests(&self, phone: &Phone) -> Result<Vec<u64>, StoreError> {
        self.check(Op::OtpRequests)?;
        self.inner.otp_requests(phone)
    }
    fn put_otp_requests(&mut self, phone: &Phone, times: &[u64]) -> Result<(), StoreError> {
        self.check(Op::PutOtpRequests)?;
        self.inner.put_otp_requests(phone, times)
    }
    fn peek_batch(
        &self,
        to: &Phone,
        max_messages: usize,
        max_bytes: usize,
    ) -> Result<Vec<Message<S>>, StoreError> {
        self.check(Op::PeekQueue)?;
        self.inner.peek_batch(to, max_messages, max_bytes)
    }
    fn remove_queued(&mut self, to: &Phone, count: usize) -> Result<usize, StoreError> {
        self.check(Op::RemoveQueued)?;
        self.inner.remove_queued(to, count)
    }
}

/// §5.1: storing the new OTP fails.
fn server_rejects_register_request_when_the_store_fails(profile: Profile) {
    let mut server = server_with(profile, FaultyStore::default());
    let alice = phone("alice");
    let request = only_sent(&new_client(profile, "alice").register());
    server.store().fail(Op::PutPendingOtp);
    let before = server.clone();
    let error = ServerError::Store(injected(Op::PutPendingOtp));
    reject(&mut server, &alice, request.clone(), NOW, error, ErrorCode::Internal);
    assert_eq!(server, before);
    server.store().heal();
    assert_eq!(pending(&server, &alice), None);
    server.handle(&alice, request, NOW, &mut rng(7)).expect("accepted once the store works");
    assert!(pending(&server, &alice).is_some());
}

/// §5.3: storing the new directory entry fails; the OTP stays pending.
fn server_rejects_register_submit_when_the_store_fails(profile: Profile) {
    let server = server_with(profile, FaultyStore::default());
    let mut r = Registering::with_server(server, new_client(profile, "alice"));
    let alice = r.phone();
    r.server.store().fail(Op::PutEntry);
    let before = r.server.clone();
    let error = ServerError::Store(injected(Op::PutEntry));
    reject(&mut r.server, &alice, r.honest.clone(), NOW, error, ErrorCode::Internal);
    assert_eq!(r.server, before);
    r.server.store().heal();
    assert_eq!(r.server.store().entry(&alice), Ok(None));
    r.submit(r.honest.clone(), NOW).expect("accepted once the store works");
}

/// §9.3: a failed message changes nothing but the attempt counter. Here the last write of a
/// successful hardened registration, deleting the used OTP [E8], fails: the reply is `Internal`
/// (the client returns to `Unregistered`), so the entry written just before must not stay.
#[test]
fn hardened_server_keeps_no_entry_when_deleting_the_used_otp_fails() {
    let profile = Profile::HARDENED;
    let mut r =
        Registering::with_server(server_with(profile, FaultyStore::default()), new_client(profile, "alice"));
    let alice = r.phone();
    r.server.store().fail(Op::RemovePendingOtp);
    let before = r.server.clone();
    let error = ServerError::Store(injected(Op::RemovePendingOtp));
    reject(&mut r.server, &alice, r.honest.clone(), NOW, error, ErrorCode::Internal);
    assert_eq!(r.server.store().entry(&alice), Ok(None), "no entry for a rejected registration");
    assert_eq!(r.server, before);
}

/// §6.1: reading the directory fails.
fn server_rejects_key_request_when_the_store_fails(profile: Profile) {
    let mut w = World::with_store(profile, FaultyStore::default());
    let alice = phone("alice");
    let request = only_sent(&w.alice.start_session(&phone("bob")).expect("start session"));
    w.server.store().fail(Op::Entry);
    let before = w.server.clone();
    reject(
        &mut w.server,
        &alice,
        request.clone(),
        NOW,
        ServerError::Store(injected(Op::Entry)),
        ErrorCode::Internal,
    );
    assert_eq!(w.server, before);
    w.server.store().heal();
    w.relay(&alice, request);
}

/// §9.2: storing a message for an offline recipient fails.
fn server_rejects_message_for_offline_peer_when_the_store_fails(profile: Profile) {
    let mut w = World::with_store(profile, FaultyStore::default());
    let (alice, bob) = (phone("alice"), phone("bob"));
    let transport = key_transport(&mut w);
    let disconnect = only_sent(&w.bob.disconnect().expect("disconnect"));
    w.server.handle(&bob, disconnect, NOW, &mut rng(7)).expect("bob goes offline");
    w.server.store().fail(Op::Enqueue);
    let before = w.server.clone();
    let error = ServerError::Store(injected(Op::Enqueue));
    reject(&mut w.server, &alice, transport.clone(), NOW, error, ErrorCode::Internal);
    assert_eq!(w.server, before);
    w.server.store().heal();
    assert_eq!(w.server.store().queue_len(&bob), Ok(0));
    w.server.handle(&alice, transport, NOW, &mut rng(7)).expect("stored once the store works");
    assert_eq!(w.server.store().queue_len(&bob), Ok(1));
}

/// §9.1: taking the offline queue on `Connect` fails; the client stays offline.
fn server_rejects_connect_when_the_store_fails(profile: Profile) {
    let mut w = World::with_store(profile, FaultyStore::default());
    let alice = phone("alice");
    let disconnect = only_sent(&w.alice.disconnect().expect("disconnect"));
    w.server.handle(&alice, disconnect, NOW, &mut rng(7)).expect("offline");
    let connect = only_sent(&w.alice.connect().expect("connect"));
    w.server.store().fail(Op::TakeQueue);
    let before = w.server.clone();
    reject(
        &mut w.server,
        &alice,
        connect.clone(),
        NOW,
        ServerError::Store(injected(Op::TakeQueue)),
        ErrorCode::Internal,
    );
    assert_eq!(w.server, before);
    assert!(!w.server.online().contains(&alice));
    w.server.store().heal();
    w.server.handle(&alice, connect, NOW, &mut rng(7)).expect("online once the store works");
    assert!(w.server.online().contains(&alice));
}

// ---- §10.1 Crypto: a suite whose signing with the server key fails ----

/// The concrete suite with one fault injected: signing with the fixture server key fails, as an
/// HSM refusing the operation would. With [`ConcreteSuite`] itself the server's signing cannot
/// fail: every key `PrivateKey` loads has at least 1024 bits, enough for PKCS#1 v1.5 and PSS
/// over SHA-256, so `ServerError::Crypto` is reachable only through such a fault.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct ServerSigningFails;

impl Suite for ServerSigningFails {
    type Value = Bytes;
    type PrivateKey = PrivateKey;
    type CipherKey = <ConcreteSuite as Suite>::CipherKey;
    type MacKey = <ConcreteSuite as Suite>::MacKey;
    type Rng = Rng;

    fn constant(bytes: &[u8]) -> Bytes {
        S::constant(bytes)
    }
    fn tuple(parts: &[&Bytes]) -> Bytes {
        S::tuple(parts)
    }
    fn public_key(key: &PrivateKey) -> Bytes {
        S::public_key(key)
    }
    fn check_public_key(public_key: &Bytes) -> Result<(), CryptoError> {
        S::check_public_key(public_key)
    }
    fn random(rng: &mut Rng, purpose: Fresh) -> Bytes {
        S::random(rng, purpose)
    }
    fn sha256(input: Input<'_, Bytes>) -> Bytes {
        S::sha256(input)
    }
    fn mac_key(key: &Bytes) -> Self::MacKey {
        S::mac_key(key)
    }
    fn hmac(key: &Self::MacKey, input: Input<'_, Bytes>) -> Bytes {
        S::hmac(key, input)
    }
    fn hmac_verify(key: &Self::MacKey, input: Input<'_, Bytes>, tag: &Bytes) -> bool {
        S::hmac_verify(key, input, tag)
    }
    fn ct_eq(a: &Bytes, b: &Bytes) -> bool {
        S::ct_eq(a, b)
    }
    fn pbkdf2(password: &Bytes, salt: &Bytes, iterations: u32) -> Bytes {
        S::pbkdf2(password, salt, iterations)
    }
    fn hkdf(ikm: &Bytes, salt: &Bytes, info: &Bytes) -> Bytes {
        S::hkdf(ikm, salt, info)
    }
    fn pke_encrypt(
        public_key: &Bytes,
        label: &Bytes,
        plaintext: &Bytes,
        rng: &mut Rng,
    ) -> Result<Bytes, CryptoError> {
        S::pke_encrypt(public_key, label, plaintext, rng)
    }
    fn pke_decrypt(
        key: &PrivateKey,
        label: &Bytes,
        ciphertext: &Bytes,
        rng: &mut Rng,
    ) -> Result<Bytes, CryptoError> {
        S::pke_decrypt(key, label, ciphertext, rng)
    }
    fn sign(
        key: &PrivateKey,
        scheme: SigScheme,
        input: Input<'_, Bytes>,
        rng: &mut Rng,
    ) -> Result<Bytes, CryptoError> {
        if *key == fixtures::server_key() {
            Err(CryptoError::Operation)
        } else {
            S::sign(key, scheme, input, rng)
        }
    }
    fn verify(
        public_key: &Bytes,
        scheme: SigScheme,
        input: Input<'_, Bytes>,
        signature: &Bytes,
    ) -> Result<(), CryptoError> {
        S::verify(public_key, scheme, input, signature)
    }
    fn cipher_key(key: &Bytes) -> Result<Self::CipherKey, CryptoError> {
        S::cipher_key(key)
    }
    fn encrypt(key: &Self::CipherKey, iv: &Bytes, plaintext: &Bytes) -> Result<Bytes, CryptoError> {
        S::encrypt(key, iv, plaintext)
    }
    fn decrypt(key: &Self::CipherKey, iv: &Bytes, ciphertext: &Bytes) -> Result<Bytes, CryptoError> {
        S::decrypt(key, iv, ciphertext)
    }
}

/// §5.3, §5.4: signing the directory entry of an otherwise valid registration fails; nothing is
/// stored, no attempt is counted, the OTP stays pending.
fn server_rejects_registration_when_signing_fails(profile: Profile) {
    type F = ServerSigningFails;
    fn send_of(outputs: Vec<ClientOutput<F>>) -> Message<F> {
        outputs
            .into_iter()
            .find_map(|o| if let ClientOutput::Send(m) = o { Some(m) } else { None })
            .expect("sent")
    }
    let alice = phone("alice");
    let mut server: Server<F, MemoryStore<F>> =
        Server::new(profile, params(), fixtures::server_key(), MemoryStore::default());
    let mut client: Client<F> = Client::new(profile, params(), alice.clone(), key("alice"), server_public());
    let mut rng = rng(8);
    let request = send_of(client.register());
    let outputs = server.handle(&alice, request, NOW, &mut rng).expect("request");
    let otp = outputs
        .into_iter()
        .find_map(|o| if let ServerOutput::Sms { otp, .. } = o { Some(otp) } else { None })
        .expect("sms");
    let submit = send_of(client.otp_received(&otp, &mut rng).expect("the client's own signing works"));
    let before = server.clone();
    let error = ServerError::Crypto(CryptoError::Operation);
    reject(&mut server, &alice, submit, NOW, error, ErrorCode::Internal);
    assert_eq!(server, before);
    assert_eq!(server.store().entry(&alice), Ok(None));
    assert_eq!(server.store().pending_otp(&alice).expect("store").map(|p| p.attempts), Some(0));
}

in_both_profiles!(
    server_replies_alike_to_registered_and_unregistered_phones,
    server_rejects_message_when_the_recipients_queue_is_full,
    server_keeps_stored_messages_until_their_delivery_is_confirmed,
    server_keeps_the_message_when_confirming_its_delivery_fails,
    server_rejects_message_past_the_queues_byte_and_sender_bounds,
    server_delivers_the_queue_in_batches,
    server_refuses_new_phones_when_the_otp_tables_are_full,
    server_sweeps_expired_otp_rows_in_bounded_batches,
    server_rejects_submission_in_the_other_profiles_layout,
    server_checks_layout_before_public_key,
    server_rejects_submission_with_invalid_public_key,
    server_accepts_submission_with_3072_bit_key,
    server_rejects_submission_without_pending_otp,
    server_rejects_expired_otp,
    server_accepts_otp_at_exactly_its_lifetime,
    server_checks_expiry_before_the_tag,
    server_rejects_wrong_otp,
    server_rejects_key_request_from_unregistered_sender,
    server_rejects_key_request_for_unknown_peer,
    server_rejects_key_transport_from_unregistered_sender_or_to_unknown_peer,
    server_rejects_data_from_unregistered_sender_or_to_unknown_peer,
    server_rejects_ack_from_unregistered_sender_or_to_unknown_peer,
    server_rejects_data_and_ack_in_the_other_profiles_layout,
    server_rejects_presence_for_another_address,
    server_rejects_connect_of_unregistered_phone,
    server_rejects_messages_meant_for_clients,
    server_rejects_register_request_when_the_store_fails,
    server_rejects_register_submit_when_the_store_fails,
    server_rejects_key_request_when_the_store_fails,
    server_rejects_message_for_offline_peer_when_the_store_fails,
    server_rejects_connect_when_the_store_fails,
    server_rejects_registration_when_signing_fails,
);

// ---- every variant has a test ----

/// Each `ServerError` variant and the tests that trigger it. A variant added to
/// `spec/src/error.rs` without an entry here fails `every_server_error_variant_has_a_test`.
const SERVER_ERROR_TESTS: &[(&str, &[&str])] = &[
    (
        "WrongProfile",
        &[
            "seed::server_rejects_submission_in_the_other_profiles_layout",
            "hardened::server_rejects_submission_in_the_other_profiles_layout",
            "seed::server_rejects_data_and_ack_in_the_other_profiles_layout",
            "hardened::server_rejects_data_and_ack_in_the_other_profiles_layout",
        ],
    ),
    (
        "UnexpectedMessage",
        &[
            "seed::server_rejects_messages_meant_for_clients",
            "hardened::server_rejects_messages_meant_for_clients",
        ],
    ),
    (
        "InvalidPublicKey",
        &[
            "seed::server_rejects_submission_with_invalid_public_key",
            "hardened::server_rejects_submission_with_invalid_public_key",
        ],
    ),
    (
        "NoPendingRegistration",
        &[
            "seed::server_rejects_submission_without_pending_otp",
            "hardened::server_rejects_submission_without_pending_otp",
            "hardened_server_rejects_reused_otp",
        ],
    ),
    ("OtpExpired", &["seed::server_rejects_expired_otp", "hardened::server_rejects_expired_otp"]),
    (
        "TooManyAttempts",
        &[
            "hardened_server_rejects_correct_otp_after_three_failed_attempts",
            "hardened_server_rejects_correct_otp_after_three_bad_sealed_tags",
        ],
    ),
    (
        "BadPossessionProof",
        &[
            "hardened_server_rejects_bad_possession_proof",
            "hardened_server_rejects_eves_registration_of_bobs_key",
        ],
    ),
    (
        "BadSealedTag",
        &["hardened_server_rejects_bad_sealed_tag", "hardened_server_rejects_tag_sealed_for_another_phone"],
    ),
    (
        "BadRegistrationTag",
        &[
            "seed::server_rejects_wrong_otp",
            "hardened::server_rejects_wrong_otp",
            "seed_server_rejects_tag_computed_for_another_public_key",
        ],
    ),
    (
        "SenderMismatch",
        &[
            "seed::server_rejects_presence_for_another_address",
            "hardened::server_rejects_presence_for_another_address",
        ],
    ),
    (
        "NotRegistered",
        &[
            "seed::server_rejects_key_request_from_unregistered_sender",
            "hardened::server_rejects_key_transport_from_unregistered_sender_or_to_unknown_peer",
            "seed::server_rejects_data_from_unregistered_sender_or_to_unknown_peer",
            "hardened::server_rejects_ack_from_unregistered_sender_or_to_unknown_peer",
            "seed::server_rejects_connect_of_unregistered_phone",
        ],
    ),
    (
        "UnknownPeer",
        &[
            "seed::server_rejects_key_request_for_unknown_peer",
            "hardened::server_rejects_key_request_for_unknown_peer",
            "seed::server_rejects_key_transport_from_unregistered_sender_or_to_unknown_peer",
            "seed::server_rejects_data_from_unregistered_sender_or_to_unknown_peer",
            "seed::server_rejects_ack_from_unregistered_sender_or_to_unknown_peer",
        ],
    ),
    ("RateLimited", &["hardened_server_rate_limits_otp_requests"]),
    (
        "OtpTableFull",
        &[
            "seed::server_refuses_new_phones_when_the_otp_tables_are_full",
            "hardened::server_refuses_new_phones_when_the_otp_tables_are_full",
        ],
    ),
    (
        "QueueFull",
        &[
            "seed::server_rejects_message_when_the_recipients_queue_is_full",
            "hardened::server_rejects_message_when_the_recipients_queue_is_full",
            "seed::server_rejects_message_past_the_queues_byte_and_sender_bounds",
        ],
    ),
    (
        "Crypto",
        &[
            "seed::server_rejects_registration_when_signing_fails",
            "hardened::server_rejects_registration_when_signing_fails",
        ],
    ),
    (
        "Store",
        &[
            "seed::server_rejects_register_request_when_the_store_fails",
            "hardened::server_rejects_register_submit_when_the_store_fails",
            "seed::server_rejects_key_request_when_the_store_fails",
            "hardened::server_rejects_message_for_offline_peer_when_the_store_fails",
            "seed::server_rejects_connect_when_the_store_fails",
        ],
    ),
];

#[test]
fn every_server_error_variant_has_a_test() {
    assert_every_variant_has_a_test(
        include_str!("../../spec/src/error.rs"),
        &["ServerError"],
        SERVER_ERROR_TESTS,
        include_str!("checks_server.rs"),
    );
}
