//! `registration_<profile>.json`: SPEC.md §5 — the request, the client's computation, the
//! server's checks on `RegisterSubmit`, the directory signature, the result and error replies.

use ee2e::Bytes;
use ee2e_fixtures as fixtures;
use ee2e_spec::hazmat::{RegistrationValues, registration_label, sig_scheme};
use ee2e_spec::limits::PBKDF2_ITERATIONS;
use ee2e_spec::{DirectoryEntry, ErrorCode, Message, Phone, Profile, RegistrationProof, SigScheme, Wire};

use super::craft::{self, other_profile, other_scheme};
use super::world::{S, World, flip_value, public};
use super::{
    Case, ClientGroupBuilder, FileSpec, ServerCase, ServerGroupBuilder, ok, pending, receive, server_step,
};
use crate::error::VectorError;
use crate::runner::keystream;
use crate::schema::{ClientInput, Hex, RegistrationState, TypedGroup};

const T0: u64 = 1_000_000;
const NOW: u64 = T0 + 60_000;
const TTL: u64 = 300_000;
const OTP: &str = "123456";

pub(crate) fn build(profile: Profile) -> Result<FileSpec, VectorError> {
    let stem = format!("registration_{}", profile.name());
    let w = World::new(profile, &stem)?;
    let w3072 = World::with_server(profile, &stem, fixtures::server_key_3072())?;
    Ok(FileSpec {
        groups: vec![client_group(&w)?, client_3072(&w3072)?, server_group(&w)?],
        stem,
        algorithm: "EE2E registration",
        description: "Registration (SPEC.md §5): RegisterRequest, the client's computation of Salt, K_temp and the tag \
                      (and in hardened the sealed tag and proof of possession) with the specification's 600 000 \
                      PBKDF2 iterations, the server's checks on RegisterSubmit in order, the directory signature \
                      (§5.4), RegisterResult and error replies at the client.",
        profile,
    })
}

fn hardened(w: &World) -> bool {
    w.profile.wire() == Wire::Hardened
}

/// The flags of a step that draws randomness only in the hardened profile.
fn randomized(w: &World) -> &'static [&'static str] {
    if hardened(w) { &["Randomized"] } else { &[] }
}

fn client_group(w: &World) -> Result<TypedGroup, VectorError> {
    use RegistrationState::*;
    let p = w.profile;
    let mut g = ClientGroupBuilder::new(
        w,
        "alice registers: the request, the computation when the OTP arrives (§5.2), the result (§5.5) and error \
         replies",
        "alice",
        &["alice", "bob", "eve"],
        Some(PBKDF2_ITERATIONS),
    );
    g.add(Case::new("alice asks for an OTP", ClientInput::Register {}).unregistered().flags(&["Honest"]))?;
    g.add(
        Case::new("alice asks again while waiting for the OTP", ClientInput::Register {})
            .registration(AwaitingOtp)
            .state("awaiting the OTP")
            .flags(&["Honest"]),
    )?;
    let what = if hardened(w) {
        "Salt, K_temp, tag, sealed tag and proof of possession"
    } else {
        "Salt, K_temp and tag"
    };
    for (i, otp) in ["123456", "000000"].into_iter().enumerate() {
        let mut case =
            Case::new(format!("the OTP {otp} arrives: {what}"), ClientInput::OtpReceived { otp: otp.into() })
                .registration(AwaitingOtp)
                .state("awaiting the OTP")
                .flags(&["Honest", "FullPbkdf2"])
                .flags(randomized(w));
        if hardened(w) {
            case = case.seed(w.seed(&format!("otp/{i}")));
        }
        g.add(case)?;
    }
    g.add(
        Case::new("an OTP arrives although none was requested", ClientInput::OtpReceived { otp: OTP.into() })
            .unregistered()
            .flags(&["ApiMisuse"])
            .invalid("NoRegistrationInProgress"),
    )?;
    g.add(
        Case::new("an OTP arrives after the proof was sent", ClientInput::OtpReceived { otp: OTP.into() })
            .registration(AwaitingResult)
            .state("awaiting the registration result")
            .flags(&["ApiMisuse"])
            .invalid("NoRegistrationInProgress"),
    )?;

    let rr = |entry: DirectoryEntry<S>| w.encode(&Message::RegisterResult { entry });
    let own = w.entry("alice");
    let awaiting = "awaiting the registration result";
    g.add(
        Case::new("the server's signed entry for alice's phone and key", receive(rr(own.clone())?))
            .registration(AwaitingResult)
            .state(awaiting)
            .flags(&["Honest"]),
    )?;
    for (state, text) in
        [(AwaitingOtp, "awaiting the OTP"), (Registered, "registered"), (Unregistered, "unregistered")]
    {
        g.add(
            Case::new(format!("a RegisterResult while {text}"), receive(rr(own.clone())?))
                .registration(state)
                .state(text)
                .flags(&["Unexpected"])
                .invalid("UnexpectedMessage"),
        )?;
    }
    g.add(
        Case::new("the result is bob's entry", receive(rr(w.entry("bob"))?))
            .registration(AwaitingResult)
            .state(awaiting)
            .flags(&["WrongPeer"])
            .invalid("RegistrationMismatch"),
    )?;
    let eve_key_entry = w.sign(&w.phone("alice"), &w.public_key("eve"), "entry/alice-with-eve-key")?;
    g.add(
        Case::new(
            "the result binds alice's phone to eve's key (validly signed)",
            receive(rr(eve_key_entry)?),
        )
        .registration(AwaitingResult)
        .state(awaiting)
        .flags(&["WrongKey"])
        .invalid("RegistrationMismatch"),
    )?;
    let with_signature = |signature: Bytes| DirectoryEntry { signature, ..own.clone() };
    let alice = (w.phone("alice"), w.public_key("alice"));
    let tampered: Vec<(&str, &[&'static str], Bytes)> = vec![
        ("first bit of the signature flipped", &["BitFlip"], flip_value(&own.signature, 0)),
        ("last bit of the signature flipped", &["BitFlip"], flip_value(&own.signature, -1)),
        ("signature one byte short", &["Truncated"], craft::truncate(&own.signature)),
        ("signature one byte long", &["Extended"], craft::extend(&own.signature)),
        ("signature by eve's key instead of the server's", &["WrongKey"], {
            let e =
                craft::entry_signed(w, &alice.0, &alice.1, &w.party("eve").key, p, sig_scheme(p), "sig/eve")?;
            e.signature
        }),
        ("signature with the other scheme over the right input", &["OtherScheme"], {
            craft::entry_signed(w, &alice.0, &alice.1, &w.server, p, other_scheme(p), "sig/scheme")?.signature
        }),
        ("signature with the right scheme over the other profile's input", &["OtherScheme"], {
            craft::entry_signed(
                w,
                &alice.0,
                &alice.1,
                &w.server,
                other_profile(p),
                sig_scheme(p),
                "sig/input",
            )?
            .signature
        }),
        ("bob's entry signature on alice's entry", &["WrongPeer"], w.entry("bob").signature),
    ];
    for (what, flags, signature) in tampered {
        g.add(
            Case::new(format!("RegisterResult: {what}"), receive(rr(with_signature(signature))?))
                .registration(AwaitingResult)
                .state(awaiting)
                .flags(flags)
                .invalid("BadDirectorySignature"),
        )?;
    }
    let error = |code: ErrorCode| w.encode(&Message::Error { code });
    for (code, after) in [
        (ErrorCode::RegistrationRejected, "awaiting the OTP again (the OTP may be retyped)"),
        (ErrorCode::OtpExpired, "unregistered"),
        (ErrorCode::NoPendingRegistration, "unregistered"),
        (ErrorCode::TooManyAttempts, "unregistered"),
    ] {
        g.add(
            Case::new(
                format!("error reply {code:?} while awaiting the result: {after}"),
                receive(error(code)?),
            )
            .registration(AwaitingResult)
            .state(awaiting)
            .flags(&["Honest"]),
        )?;
    }
    g.add(
        Case::new(
            "error reply UnknownPeer while registered: reported, state unchanged",
            receive(error(ErrorCode::UnknownPeer)?),
        )
        .flags(&["Honest"]),
    )?;
    g.add(
        Case::new(
            "RegisterResult after the RegistrationRejected reply (back to awaiting the OTP)",
            receive(rr(own.clone())?),
        )
        .registration(AwaitingResult)
        .state("awaiting the result; then the reply RegistrationRejected")
        .setup(vec![ok(receive(error(ErrorCode::RegistrationRejected)?))])
        .flags(&["Stateful", "Unexpected"])
        .invalid("UnexpectedMessage"),
    )?;
    g.add(
        Case::new(
            "the other profile's RegisterResult",
            receive(w.encode_other(&Message::RegisterResult { entry: own })?),
        )
        .registration(AwaitingResult)
        .state(awaiting)
        .flags(&["OtherProfile"])
        .invalid("WrongVersion"),
    )?;
    Ok(g.finish())
}

fn client_3072(w: &World) -> Result<TypedGroup, VectorError> {
    let mut g = ClientGroupBuilder::new(
        w,
        "dora registers with a 3072-bit key against a 3072-bit server key",
        "dora",
        &["dora", "alice"],
        Some(PBKDF2_ITERATIONS),
    );
    let mut case = Case::new(
        "the OTP 987654 arrives (3072-bit keys)",
        ClientInput::OtpReceived { otp: "987654".into() },
    )
    .registration(RegistrationState::AwaitingOtp)
    .state("awaiting the OTP")
    .flags(&["Honest", "FullPbkdf2", "Rsa3072"])
    .flags(randomized(w));
    if hardened(w) {
        case = case.seed(w.seed("otp-3072"));
    }
    g.add(case)?;
    g.add(
        Case::new(
            "the server's signed entry (3072-bit keys)",
            receive(w.encode(&Message::RegisterResult { entry: w.entry("dora") })?),
        )
        .registration(RegistrationState::AwaitingResult)
        .state("awaiting the registration result")
        .flags(&["Honest", "Rsa3072"]),
    )?;
    Ok(g.finish())
}

/// Builds `RegisterSubmit` messages for the server tests.
struct Submissions<'w> {
    w: &'w World,
}

impl Submissions<'_> {
    fn tag(&self, otp: &str, phone: &Phone, pk: &Bytes) -> Bytes {
        RegistrationValues::<S>::compute(&Bytes::secret(otp.as_bytes()), phone, pk, PBKDF2_ITERATIONS)
            .tag()
            .clone()
    }

    fn seal(&self, tag: &Bytes, phone: &Phone, label: &str) -> Result<Bytes, VectorError> {
        craft::oaep(self.w, self.w.server.public_key_der(), &registration_label::<S>(phone), tag, label)
    }

    fn possess(
        &self,
        signer: &str,
        phone: &Phone,
        pk: &Bytes,
        scheme: SigScheme,
        label: &str,
    ) -> Result<Bytes, VectorError> {
        craft::sign(self.w, &self.w.party(signer).key, scheme, &craft::possession_input(phone, pk), label)
    }

    /// The submission with `tag`, sealed and proved honestly by `signer` in the hardened profile.
    fn honest(
        &self,
        phone: &Phone,
        pk: &Bytes,
        tag: &Bytes,
        signer: &str,
        label: &str,
    ) -> Result<Hex, VectorError> {
        let proof = if self.w.profile.wire() == Wire::Seed {
            RegistrationProof::Seed { tag: tag.clone() }
        } else {
            RegistrationProof::Hardened {
                sealed_tag: self.seal(tag, phone, &format!("{label}/seal"))?,
                possession: self.possess(
                    signer,
                    phone,
                    pk,
                    SigScheme::PssSha256,
                    &format!("{label}/possess"),
                )?,
            }
        };
        self.message(phone, pk, proof)
    }

    fn hardened(
        &self,
        phone: &Phone,
        pk: &Bytes,
        sealed_tag: Bytes,
        possession: Bytes,
    ) -> Result<Hex, VectorError> {
        self.message(phone, pk, RegistrationProof::Hardened { sealed_tag, possession })
    }

    fn message(&self, phone: &Phone, pk: &Bytes, proof: RegistrationProof<S>) -> Result<Hex, VectorError> {
        self.w.encode(&Message::RegisterSubmit { phone: phone.clone(), public_key: pk.clone(), proof })
    }
}

fn server_group(w: &World) -> Result<TypedGroup, VectorError> {
    let p = w.profile;
    let mut g = ServerGroupBuilder::new(
        w,
        "the server issues OTPs (§5.1) and checks RegisterSubmit (§5.3) in order; on success it signs the entry \
         (§5.4) and replies RegisterResult to the registered phone",
        &["alice", "bob", "eve", "weak", "dora"],
        PBKDF2_ITERATIONS,
    );
    let alice = w.phone_text("alice");
    let request = |name: &str| w.encode(&Message::RegisterRequest { phone: w.phone(name) });

    g.add(
        ServerCase::new("alice asks for an OTP", alice.clone(), request("alice")?, NOW)
            .directory(&["bob"])
            .state("bob registered")
            .seed(w.seed("issue/0"))
            .flags(&["Honest", "Randomized"]),
    )?;
    let rejected = (0..100_000)
        .map(|i| format!("issue/reject/{i}"))
        .find(|label| {
            keystream(Some(&w.seed(label)), 0, 4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) >= 4_294_000_000)
                .unwrap_or(false)
        })
        .ok_or_else(|| w.fail("no seed with a rejected first OTP draw"))?;
    g.add(
        ServerCase::new(
            "alice asks for an OTP; the first 32-bit draw is rejected",
            alice.clone(),
            request("alice")?,
            NOW,
        )
        .directory(&["bob"])
        .state("bob registered")
        .seed(w.seed(&rejected))
        .flags(&["Randomized", "Boundary"]),
    )?;
    g.add(
        ServerCase::new(
            "a new request replaces the pending OTP and its attempts",
            alice.clone(),
            request("alice")?,
            NOW,
        )
        .directory(&["bob"])
        .pending(vec![pending(alice.clone(), "654321", T0, 2)])
        .state("bob registered; alice's OTP 654321 pending with 2 failed attempts")
        .seed(w.seed("issue/1"))
        .flags(&["Randomized", "Stateful"]),
    )?;

    let s = Submissions { w };
    let (a_phone, a_pk) = (w.phone("alice"), w.public_key("alice"));
    let tag = s.tag(OTP, &a_phone, &a_pk);
    let honest = s.honest(&a_phone, &a_pk, &tag, "alice", "submit/honest")?;
    let pend = || vec![pending(alice.clone(), OTP, T0, 0)];
    let state = "bob registered; alice's OTP 123456 issued at 1000000, no failed attempt";
    let sign_seed = |i: u32| w.seed(&format!("directory/{i}"));
    let submit = |comment: &str, message: Hex, now: u64| {
        let mut case = ServerCase::new(comment, alice.clone(), message, now)
            .directory(&["bob"])
            .pending(pend())
            .state(state);
        if hardened(w) {
            case = case.seed(sign_seed(0));
        }
        case
    };

    g.add(
        submit("alice's honest submission one minute after the OTP", honest.clone(), NOW)
            .flags(&["Honest", "FullPbkdf2"])
            .flags(randomized(w)),
    )?;
    g.add(
        submit("submitted exactly OTP_TTL after issue", honest.clone(), T0 + TTL)
            .flags(&["Boundary", "FullPbkdf2"])
            .flags(randomized(w)),
    )?;
    g.add(
        submit("alice re-registers: her entry is replaced (I25)", honest.clone(), NOW)
            .directory(&["alice", "bob"])
            .state("alice and bob registered; alice's OTP 123456 issued at 1000000")
            .flags(&["Honest", "FullPbkdf2"])
            .flags(randomized(w)),
    )?;
    let mut from_eve =
        submit("sent from eve's address: the result still goes to alice's phone", honest.clone(), NOW)
            .flags(&["FullPbkdf2"])
            .flags(randomized(w));
    from_eve.input_from(w.phone_text("eve"));
    g.add(from_eve)?;
    let attempts = if hardened(w) { 2 } else { 5 };
    g.add(
        submit(&format!("accepted with {attempts} failed attempts so far"), honest.clone(), NOW)
            .pending(vec![pending(alice.clone(), OTP, T0, attempts)])
            .state(format!(
                "bob registered; alice's OTP 123456 issued at 1000000 with {attempts} failed attempts"
            ))
            .flags(&["OtpAttempts", "Boundary", "FullPbkdf2"])
            .flags(randomized(w)),
    )?;
    g.add(
        submit("three failed attempts so far (E8 voids the OTP)", honest.clone(), NOW)
            .pending(vec![pending(alice.clone(), OTP, T0, 3)])
            .state("bob registered; alice's OTP 123456 issued at 1000000 with 3 failed attempts")
            .flags(&["OtpAttempts"])
            .seed_flaw(p, "TooManyAttempts"),
    )?;
    g.add(
        submit("no OTP pending", honest.clone(), NOW)
            .pending(vec![])
            .state("bob registered; nothing pending")
            .flags(&["Stateful"])
            .invalid("NoPendingRegistration"),
    )?;
    g.add(
        submit("an OTP is pending for bob only", honest.clone(), NOW)
            .pending(vec![pending(w.phone_text("bob"), OTP, T0, 0)])
            .state("bob registered; an OTP pending for bob only")
            .flags(&["WrongPeer", "Stateful"])
            .invalid("NoPendingRegistration"),
    )?;
    g.add(
        submit("one millisecond after OTP_TTL", honest.clone(), T0 + TTL + 1)
            .flags(&["OtpExpired", "Boundary"])
            .invalid("OtpExpired"),
    )?;
    g.add(
        submit("after an expired attempt the OTP is gone", honest.clone(), NOW)
            .setup(vec![server_step(alice.clone(), honest.clone(), T0 + TTL + 1, "OtpExpired")])
            .flags(&["OtpExpired", "Stateful"])
            .invalid("NoPendingRegistration"),
    )?;

    // Check 2: the public key.
    let weak_phone = w.phone("weak");
    let weak = s.hardened_or_seed(&weak_phone, &w.public_key("weak"), "weak")?;
    g.add(
        ServerCase::new("a 1024-bit public key", w.phone_text("weak"), weak, NOW)
            .directory(&["bob"])
            .pending(vec![pending(w.phone_text("weak"), OTP, T0, 0)])
            .state("bob registered; an OTP pending for the weak party")
            .flags(&["InvalidPublicKey"])
            .invalid("InvalidPublicKey"),
    )?;
    let bad_keys: Vec<(&str, &[&'static str], Bytes)> = vec![
        ("the public key one byte short", &["Truncated", "InvalidPublicKey"], craft::truncate(&a_pk)),
        ("the public key with a trailing zero byte", &["Extended", "InvalidPublicKey"], craft::extend(&a_pk)),
        ("the public key's first bit flipped", &["BitFlip", "InvalidPublicKey"], flip_value(&a_pk, 0)),
        (
            "alice's modulus with public exponent 3",
            &["InvalidPublicKey"],
            craft::with_exponent(w, &w.party("alice").key, 3)?,
        ),
        (
            "alice's modulus with public exponent 65539",
            &["InvalidPublicKey"],
            craft::with_exponent(w, &w.party("alice").key, 65539)?,
        ),
        ("an empty public key", &["Truncated", "InvalidPublicKey"], public(b"")),
        ("a public key that is not DER", &["InvalidPublicKey"], public(b"not a key")),
    ];
    for (what, flags, pk) in bad_keys {
        let message = s.honest_with_key(&a_phone, &pk, &tag, "alice", "submit/badkey")?;
        g.add(submit(what, message, NOW).flags(flags).invalid("InvalidPublicKey"))?;
    }

    if hardened(w) {
        hardened_proofs(w, &s, &mut g, &tag, &honest, &submit)?;
    } else {
        let seed_tag = |tag: Bytes| s.message(&a_phone, &a_pk, RegistrationProof::Seed { tag });
        g.add(
            submit("the tag's first bit flipped", seed_tag(flip_value(&tag, 0))?, NOW)
                .flags(&["BitFlip", "FullPbkdf2"])
                .invalid("BadRegistrationTag"),
        )?;
        g.add(
            submit("the tag's last bit flipped", seed_tag(flip_value(&tag, -1))?, NOW)
                .flags(&["BitFlip", "FullPbkdf2"])
                .invalid("BadRegistrationTag"),
        )?;
        g.add(
            submit(
                "a tag computed from the wrong OTP 654321",
                seed_tag(s.tag("654321", &a_phone, &a_pk))?,
                NOW,
            )
            .flags(&["WrongKey", "FullPbkdf2"])
            .invalid("BadRegistrationTag"),
        )?;
        g.add(
            submit(
                "a tag computed over eve's key, submitted with alice's",
                seed_tag(s.tag(OTP, &a_phone, &w.public_key("eve")))?,
                NOW,
            )
            .flags(&["WrongKey", "FullPbkdf2"])
            .invalid("BadRegistrationTag"),
        )?;
    }

    // The phone field changed to bob's (one bit of its last digit), with bob's OTP pending.
    let relabelled = {
        let bytes = honest.as_slice().to_vec();
        // Byte 2 is the phone's length (12); its last digit is byte 2 + 12: '1' becomes '2'.
        let mut bytes = bytes;
        bytes[2 + 12] ^= 0x03;
        Hex(bytes)
    };
    g.add(
        ServerCase::new(
            "the phone field's last digit changed from alice's to bob's",
            w.phone_text("bob"),
            relabelled,
            NOW,
        )
        .directory(&[])
        .pending(vec![pending(w.phone_text("bob"), OTP, T0, 0)])
        .state("nobody registered; bob's OTP 123456 pending")
        .flags(&["BitFlip", "WrongPeer"])
        .flags(if hardened(w) { &[][..] } else { &["FullPbkdf2"][..] })
        .invalid(if hardened(w) { "BadPossessionProof" } else { "BadRegistrationTag" }),
    )?;

    // Flaw 7 / E9: eve registers bob's public key under her own phone with her own OTP.
    let (e_phone, b_pk) = (w.phone("eve"), w.public_key("bob"));
    let eve_tag = s.tag(OTP, &e_phone, &b_pk);
    let eve_claims_bob = s.honest(&e_phone, &b_pk, &eve_tag, "eve", "submit/eve-claims-bob")?;
    let mut flaw = ServerCase::new(
        "eve registers bob's public key under her phone (E9)",
        w.phone_text("eve"),
        eve_claims_bob,
        NOW,
    )
    .directory(&["bob"])
    .pending(vec![pending(w.phone_text("eve"), OTP, T0, 0)])
    .state("bob registered; eve's OTP 123456 pending")
    .flags(&["WrongKey", "FullPbkdf2"])
    .seed_flaw(p, "BadPossessionProof");
    if hardened(w) {
        flaw = flaw.seed(sign_seed(1));
    }
    g.add(flaw)?;

    g.add(
        submit("the OTP used a second time", honest.clone(), NOW + 1000)
            .setup(vec![server_step(alice.clone(), honest.clone(), NOW, "ok")])
            .flags(&["OtpReuse", "Stateful", "FullPbkdf2"])
            .seed_flaw(p, "NoPendingRegistration"),
    )?;
    let other = s.other_profile_message(&a_phone, &a_pk, &tag)?;
    g.add(
        submit("the other profile's RegisterSubmit", other, NOW)
            .flags(&["OtherProfile"])
            .invalid("WrongVersion"),
    )?;
    Ok(g.finish())
}

type SubmitFn<'a> = dyn Fn(&str, Hex, u64) -> ServerCase + 'a;

/// The hardened checks 6 and 7 (proof of possession, sealed tag) and their attempt counting.
fn hardened_proofs(
    w: &World,
    s: &Submissions<'_>,
    g: &mut ServerGroupBuilder<'_>,
    tag: &Bytes,
    honest: &Hex,
    submit: &SubmitFn<'_>,
) -> Result<(), VectorError> {
    let (a_phone, a_pk) = (w.phone("alice"), w.public_key("alice"));
    let alice = w.phone_text("alice");
    let sealed = s.seal(tag, &a_phone, "submit/honest/seal")?;
    let possession = s.possess("alice", &a_phone, &a_pk, SigScheme::PssSha256, "submit/honest/possess")?;
    let with_possession = |p: Bytes| s.hardened(&a_phone, &a_pk, sealed.clone(), p);
    let bad_possessions: Vec<(&str, &[&'static str], Bytes)> = vec![
        ("the proof of possession's first bit flipped", &["BitFlip"], flip_value(&possession, 0)),
        ("the proof of possession one byte short", &["Truncated"], craft::truncate(&possession)),
        ("the proof of possession one byte long", &["Extended"], craft::extend(&possession)),
        ("an empty proof of possession", &["Truncated"], public(b"")),
        (
            "the proof of possession signed by eve's key",
            &["WrongKey"],
            s.possess("eve", &a_phone, &a_pk, SigScheme::PssSha256, "possess/eve")?,
        ),
        (
            "the proof of possession made for bob's phone",
            &["WrongPeer"],
            s.possess("alice", &w.phone("bob"), &a_pk, SigScheme::PssSha256, "possess/bob")?,
        ),
        (
            "the proof of possession as a PKCS#1 v1.5 signature",
            &["OtherScheme"],
            s.possess("alice", &a_phone, &a_pk, SigScheme::Pkcs1v15Sha256, "possess/v15")?,
        ),
    ];
    let first_bad = with_possession(flip_value(&possession, 0))?;
    for (what, flags, p) in bad_possessions {
        g.add(submit(what, with_possession(p)?, NOW).flags(flags).invalid("BadPossessionProof"))?;
    }
    g.add(
        submit("three bad proofs of possession do not count as attempts", honest.clone(), NOW)
            .setup(vec![server_step(alice.clone(), first_bad.clone(), NOW, "BadPossessionProof"); 3])
            .flags(&["OtpAttempts", "Stateful", "FullPbkdf2", "Randomized"]),
    )?;

    let with_sealed = |t: Bytes| s.hardened(&a_phone, &a_pk, t, possession.clone());
    let empty_label_seal = craft::oaep(w, w.server.public_key_der(), &public(b""), tag, "seal/empty-label")?;
    let bad_seals: Vec<(&str, &[&'static str], Bytes)> = vec![
        ("the sealed tag's first bit flipped", &["BitFlip"], flip_value(&sealed, 0)),
        ("the sealed tag's last bit flipped", &["BitFlip"], flip_value(&sealed, -1)),
        ("the sealed tag one byte short", &["Truncated"], craft::truncate(&sealed)),
        ("the sealed tag one byte long", &["Extended"], craft::extend(&sealed)),
        (
            "the tag sealed with bob's phone in the label",
            &["WrongLabel"],
            s.seal(tag, &w.phone("bob"), "seal/bob")?,
        ),
        ("the tag sealed with an empty label", &["WrongLabel"], empty_label_seal),
        ("the tag sealed to eve's key instead of the server's", &["WrongKey"], {
            craft::oaep(w, &w.public_key("eve"), &registration_label::<S>(&a_phone), tag, "seal/eve")?
        }),
        (
            "the tag itself instead of a sealed tag (the seed's tag in the clear)",
            &["OtherScheme"],
            tag.clone(),
        ),
    ];
    let first_seal = with_sealed(flip_value(&sealed, 0))?;
    for (what, flags, t) in bad_seals {
        g.add(submit(what, with_sealed(t)?, NOW).flags(flags).invalid("BadSealedTag"))?;
    }
    g.add(
        submit("three failed attempts, then the right proof", honest.clone(), NOW)
            .setup(vec![server_step(alice.clone(), first_seal.clone(), NOW, "BadSealedTag"); 3])
            .flags(&["OtpAttempts", "Stateful"])
            .invalid("TooManyAttempts"),
    )?;
    let mut void = vec![server_step(alice.clone(), first_seal.clone(), NOW, "BadSealedTag"); 3];
    void.push(server_step(alice.clone(), honest.clone(), NOW, "TooManyAttempts"));
    g.add(
        submit("after TooManyAttempts the OTP is void", honest.clone(), NOW)
            .setup(void)
            .flags(&["OtpAttempts", "Stateful"])
            .invalid("NoPendingRegistration"),
    )?;
    g.add(
        submit(
            "a correctly sealed tag with its first bit flipped",
            with_sealed(s.seal(&flip_value(tag, 0), &a_phone, "seal/flipped")?)?,
            NOW,
        )
        .flags(&["BitFlip", "FullPbkdf2"])
        .invalid("BadRegistrationTag"),
    )?;
    let wrong_otp = s.tag("654321", &a_phone, &a_pk);
    g.add(
        submit(
            "a correctly sealed tag computed from the wrong OTP 654321",
            with_sealed(s.seal(&wrong_otp, &a_phone, "seal/wrong-otp")?)?,
            NOW,
        )
        .flags(&["WrongKey", "FullPbkdf2"])
        .invalid("BadRegistrationTag"),
    )?;
    Ok(())
}

impl Submissions<'_> {
    /// A submission for `phone` with some key (only check 2 matters).
    fn hardened_or_seed(&self, phone: &Phone, pk: &Bytes, signer: &str) -> Result<Hex, VectorError> {
        self.honest_with_key(phone, pk, &public(&[0; 32]), signer, "submit/any")
    }

    /// The honest proof shape around an arbitrary key bytes (signed by `signer`'s real key).
    fn honest_with_key(
        &self,
        phone: &Phone,
        pk: &Bytes,
        tag: &Bytes,
        signer: &str,
        label: &str,
    ) -> Result<Hex, VectorError> {
        self.honest(phone, pk, tag, signer, label)
    }

    /// The honest submission of the other profile, on the other wire.
    fn other_profile_message(&self, phone: &Phone, pk: &Bytes, tag: &Bytes) -> Result<Hex, VectorError> {
        let proof = if self.w.profile.wire() == Wire::Seed {
            RegistrationProof::Hardened {
                sealed_tag: self.seal(tag, phone, "other/seal")?,
                possession: self.possess("alice", phone, pk, SigScheme::PssSha256, "other/possess")?,
            }
        } else {
            RegistrationProof::Seed { tag: tag.clone() }
        };
        self.w.encode_other(&Message::RegisterSubmit { phone: phone.clone(), public_key: pk.clone(), proof })
    }
}

impl ServerCase {
    /// Changes the sender's address of the input.
    fn input_from(&mut self, from: String) {
        self.input.from = from;
    }
}
