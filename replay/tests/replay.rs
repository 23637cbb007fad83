//! Attack replay: every counterexample `ee2e check` reports on `seed` under threat `network`
//! (default bounds) runs, step by step, on the implementation over real bytes and succeeds
//! there; the same trace on `hardened` fails at the step SPEC.md §12 names, with that error.
//!
//! The traces come from the model (the same breadth-first search as `ee2e check`); the
//! replay derives every concrete message from them (see `ee2e_replay`).

use std::sync::OnceLock;

use ee2e_model::properties::negation;
use ee2e_model::run::TRACE_SEARCH_LIMIT;
use ee2e_model::symbolic::shortest;
use ee2e_model::{Bounds, Config, Ee2eModel, Scenario, Threat};
use ee2e_replay::{Attack, Outcome, Rejection, Replay, replay, seed_attacks};
use ee2e_spec::{ClientError, Fix, MessageType, Phone, Profile, Rejection as Refused, ServerError};

fn attacks() -> &'static [Attack] {
    static ATTACKS: OnceLock<Vec<Attack>> = OnceLock::new();
    ATTACKS.get_or_init(|| seed_attacks(Bounds::default()))
}

fn attack(property: &str) -> &'static Attack {
    attacks()
        .iter()
        .find(|a| a.property == property)
        .unwrap_or_else(|| panic!("no seed attack on {property}"))
}

fn b() -> Phone {
    ee2e_model::symbolic::phone(ee2e_model::symbolic::B)
}

/// The seed replay: every step runs as in the model and the property is violated on the
/// implementation. Returns the violation's description.
fn seed_succeeds(property: &str) -> (Replay, String) {
    let r = replay(attack(property), Profile::SEED).unwrap_or_else(|e| panic!("{property} on seed: {e}"));
    for s in &r.steps {
        assert_eq!(s.outcome, Outcome::Done, "{property} on seed, step {} ({})", s.n, s.action);
    }
    let detail =
        r.success().unwrap_or_else(|| panic!("{property}: the attack failed on seed: {r:#?}")).detail.clone();
    (r, detail)
}

/// The hardened replay: the property holds on the implementation at the end.
fn hardened_holds(property: &str) -> Replay {
    let r =
        replay(attack(property), Profile::HARDENED).unwrap_or_else(|e| panic!("{property} on hardened: {e}"));
    assert!(r.success().is_none(), "{property}: the attack still works on hardened: {r:#?}");
    r
}

fn step(r: &Replay, n: usize) -> &Outcome {
    &r.steps.iter().find(|s| s.n == n).unwrap_or_else(|| panic!("no step {n}")).outcome
}

/// Asserts that client `party` rejected a `kind` message at step `n` with `error`, the check
/// of erratum `erratum`.
fn rejected_by_client(
    r: &Replay,
    n: usize,
    party: &str,
    kind: MessageType,
    error: ClientError,
    erratum: Option<&str>,
) {
    let expected = Rejection::Client { party: party.into(), kind, error };
    assert_eq!(step(r, n), &Outcome::Rejected(expected.clone()), "step {n}: {r:#?}");
    assert_eq!(expected.erratum(), erratum);
}

/// The first step at which the hardened run departs from the seed trace.
fn first_failure(r: &Replay) -> usize {
    r.first_failure().map_or(0, |s| s.n)
}

/// The directory forgery (E's signed entry relabelled as B's) at step 2 is rejected by A
/// with `BadDirectorySignature(B)`: erratum E1.
fn stopped_by_directory_binding(r: &Replay) {
    assert_eq!(first_failure(r), 2);
    rejected_by_client(
        r,
        2,
        "A",
        MessageType::PeerKey,
        ClientError::Rejected(Refused::BadDirectorySignature(b())),
        Some("E1"),
    );
}

#[test]
fn the_checker_finds_nine_seed_attacks() {
    let names: Vec<&str> = attacks().iter().map(|a| a.property).collect();
    assert_eq!(
        names,
        [
            "registration_binding",
            "key_possession",
            "directory_binding",
            "session_key_secrecy",
            "key_transport_agreement",
            "message_authenticity",
            "message_no_replay",
            "message_confidentiality",
            "ack_authenticity"
        ]
    );
    assert!(attacks()[..2].iter().all(|a| a.config.scenario == Scenario::Registration));
}

#[test]
fn registration_binding_online_otp_guess() {
    let (seed, detail) = seed_succeeds("registration_binding");
    assert_eq!(detail, "the server bound A's phone to E's key");
    // A real online dictionary attack: the seed sets no attempt limit, so E's submission
    // (A's phone, E's key) goes to S with every code in turn until S accepts one.
    let [guess] = seed.online_guesses.as_slice() else { panic!("one online guess expected: {seed:#?}") };
    let otp = guess.otp.as_deref().unwrap_or_else(|| panic!("the online guess failed on seed: {guess:?}"));
    assert_eq!(guess.owner, "A");
    assert!(otp.len() == 6 && otp.bytes().all(|c| c.is_ascii_digit()));
    // Codes are tried in order from 000000: the accepted one is the last try.
    assert_eq!(guess.tried, otp.parse::<u64>().unwrap() + 1);
    assert_eq!(guess.stopped_by, None);
    assert!(seed.brute_forces.is_empty());
    eprintln!("online guess: OTP {otp} after {} submissions in {:.2} s", guess.tried, guess.seconds);

    // Hardened (E8): the wrong guesses count as failed attempts (the replay runs the model's
    // scaled-down limit), and the next try is refused with `TooManyAttempts`; the OTP is
    // locked and nothing is registered.
    let hard = hardened_holds("registration_binding");
    let [guess] = hard.online_guesses.as_slice() else { panic!("one online guess expected: {hard:#?}") };
    let limit = u64::from(ee2e_model::symbolic::params().max_otp_attempts);
    assert_eq!((guess.otp.as_deref(), guess.tried), (None, limit + 1), "{guess:?}");
    let n = hard.first_failure().map(|s| s.n).expect("hardened departs from the trace");
    let rejection = Rejection::Server {
        kind: Some(MessageType::RegisterSubmit),
        error: ServerError::TooManyAttempts(ee2e_model::symbolic::phone(ee2e_model::symbolic::A)),
    };
    assert_eq!(step(&hard, n), &Outcome::Rejected(rejection.clone()), "{hard:#?}");
    assert_eq!(rejection.erratum(), Some("E8"));
}

/// The offline guess, where the online one is stopped: hardened without the sealed tag (E7)
/// keeps the attempt limit, so the shortest attack observes A's clear tag and brute-forces
/// it offline — for real, over every 6-digit code at the replay's PBKDF2 count.
#[test]
fn registration_binding_offline_otp_guess_without_the_sealed_tag() {
    let profile = Profile::HARDENED.without(Fix::SealedTag);
    let config = Config {
        profile,
        threat: Threat::Network,
        scenario: Scenario::Registration,
        bounds: Bounds::default(),
    };
    let model = Ee2eModel::new(config).without_reduction();
    let property = "registration_binding";
    let actions =
        shortest(&model, &[(property, negation(property).expect("a property"))], TRACE_SEARCH_LIMIT)
            .remove(0)
            .expect("E7 removed: registration_binding is violated");
    let r = replay(&Attack { property, config, actions }, profile).unwrap_or_else(|e| panic!("{e}"));
    assert!(r.success().is_some(), "the offline attack failed: {r:#?}");
    assert!(r.online_guesses.is_empty());
    let [bf] = r.brute_forces.as_slice() else { panic!("one brute force expected: {r:#?}") };
    assert_eq!((bf.owner.as_str(), bf.space, bf.iterations), ("A", 1_000_000, 16));
    assert!(bf.tried >= 1 && bf.tried <= bf.space);
    assert!(bf.otp.len() == 6 && bf.otp.bytes().all(|c| c.is_ascii_digit()));
    eprintln!(
        "brute force: OTP {} after {} guesses in {:.2} s ({:.0}/s, {} threads, {} iterations)",
        bf.otp,
        bf.tried,
        bf.seconds,
        bf.guesses_per_second(),
        bf.threads,
        bf.iterations
    );
}

#[test]
fn key_possession_someone_elses_key() {
    let (_, detail) = seed_succeeds("key_possession");
    assert_eq!(detail, "the server bound E's phone to A's key");

    // Hardened (E9): E cannot sign the proof of possession for A's key.
    let hard = hardened_holds("key_possession");
    assert_eq!(first_failure(&hard), 2);
    let rejection =
        Rejection::Server { kind: Some(MessageType::RegisterSubmit), error: ServerError::BadPossessionProof };
    assert_eq!(step(&hard, 2), &Outcome::Rejected(rejection.clone()));
    assert_eq!(rejection.erratum(), Some("E9"));
}

#[test]
fn directory_binding_relabelled_entry() {
    let (_, detail) = seed_succeeds("directory_binding");
    assert_eq!(detail, "A accepted E's key as B's");
    stopped_by_directory_binding(&hardened_holds("directory_binding"));
}

#[test]
fn session_key_secrecy_key_encrypted_to_the_attacker() {
    let (_, detail) = seed_succeeds("session_key_secrecy");
    assert_eq!(detail, "E holds the key A uses with B (as K_A0)");
    stopped_by_directory_binding(&hardened_holds("session_key_secrecy"));
}

#[test]
fn key_transport_agreement_key_sent_back_as_from_b() {
    let (_, detail) = seed_succeeds("key_transport_agreement");
    assert_eq!(detail, "A accepted a session key as from B, which it never generated for it");
    let hard = hardened_holds("key_transport_agreement");
    stopped_by_directory_binding(&hard);
    // E's best key delivery (its own key, signed by E with the hardened input) carries the
    // same relabelled entry and is rejected for it again.
    rejected_by_client(
        &hard,
        3,
        "A",
        MessageType::KeyDelivery,
        ClientError::Rejected(Refused::BadDirectorySignature(b())),
        Some("E1"),
    );
}

#[test]
fn message_authenticity_forged_message() {
    let (_, detail) = seed_succeeds("message_authenticity");
    assert_eq!(detail, "A accepted 'forged by E (M_E201)' as from B, which B never sent it");
    let hard = hardened_holds("message_authenticity");
    stopped_by_directory_binding(&hard);
    // Without A's session key, E's message names a session A does not have.
    rejected_by_client(
        &hard,
        3,
        "A",
        MessageType::DataDelivery,
        ClientError::Rejected(Refused::UnknownSession),
        None,
    );
}

#[test]
fn message_no_replay_reflected_message() {
    let (_, detail) = seed_succeeds("message_no_replay");
    assert_eq!(detail, "A accepted 'hello B, this is A (message 1)' from B twice");

    // Hardened (E4): A's message to B, reflected to A as B's, fails B→A's MAC, twice.
    let hard = hardened_holds("message_no_replay");
    // (The attacker hands A the relabelled delivery itself: no detour through the server.)
    assert_eq!(first_failure(&hard), 5);
    for n in [5, 6] {
        rejected_by_client(
            &hard,
            n,
            "A",
            MessageType::DataDelivery,
            ClientError::Rejected(Refused::BadMac),
            Some("E4"),
        );
    }
}

#[test]
fn message_confidentiality_attacker_reads_the_message() {
    let (_, detail) = seed_succeeds("message_confidentiality");
    assert_eq!(detail, "E read 'hello B, this is A (message 1)' (A to B)");
    let hard = hardened_holds("message_confidentiality");
    stopped_by_directory_binding(&hard);
    // A never got a session with B, so it has nothing to send.
    assert!(
        matches!(step(&hard, 3), Outcome::NotPossible(why) if why.contains("no session with B")),
        "{hard:#?}"
    );
}

#[test]
fn ack_authenticity_forged_ack() {
    let (_, detail) = seed_succeeds("ack_authenticity");
    assert_eq!(
        detail,
        "A accepted B's ACK for its message #0 'hello B, this is A (message 1)', which B never received"
    );
    let hard = hardened_holds("ack_authenticity");
    stopped_by_directory_binding(&hard);
    assert!(matches!(step(&hard, 3), Outcome::NotPossible(_)), "{hard:#?}");
    rejected_by_client(
        &hard,
        4,
        "A",
        MessageType::AckDelivery,
        ClientError::Rejected(Refused::UnknownSession),
        None,
    );
}

/// The replay checks the attacker's means itself, independently of the model's synthesis: a
/// trace in which the attacker injects a message sealed with a session key it never learned
/// (here A's key with B, in the reflection trace) is refused, naming the missing value.
#[test]
fn a_trace_the_attacker_cannot_carry_out_is_refused() {
    let forged = attack("message_authenticity").actions.last().cloned().expect("a forged message");
    let mut trace = attack("message_no_replay").clone();
    trace.actions.truncate(5);
    trace.actions.push(forged);
    let error = replay(&trace, Profile::SEED).expect_err("the attacker does not know A's session key");
    assert_eq!(error.step, Some(6));
    assert!(error.message.contains("does not know K_A0"), "{error}");
}
