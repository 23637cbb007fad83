//! The vector generator: scenarios per protocol phase, run through the implementation, and
//! recorded with their outputs.
//!
//! Every test is produced the same way: a scenario names the party, its state, the input
//! and the outcome it intends (valid, or the exact error); the runner executes it against
//! the implementation exactly as the verifier will; the generator stops with an error if
//! the outcome differs from the intent, and otherwise records the outputs and intermediate
//! values. Randomness comes from seeds derived from the file name and a label, so the files
//! are reproducible byte for byte.

mod acks;
mod craft;
mod extra;
mod key_exchange;
mod messages;
mod pins;
mod presence;
mod registration;
mod rules;
mod samples;
mod wire;
pub(crate) mod world;

use std::collections::{BTreeMap, BTreeSet};

use ee2e_spec::Profile;

use crate::error::VectorError;
use crate::runner::{self, Observed, Problem};
use crate::schema::{
    ClientGroup, ClientInput, ClientStep, ClientTest, DecodeGroup, DecodeTest, DeliveryMode, ErrorType,
    Filler, Hex, MessageKeysGroup, MessageKeysTest, OtpPhones, OtpRequests, PendingOtp, Queued,
    RegistrationState, SCHEMA, SeenTransports, ServerGroup, ServerInput, ServerStep, ServerTest, TestGroup,
    TypedFile, TypedGroup, Verdict,
};
use world::S;
use world::World;

/// The meaning of every flag a file may use.
pub(crate) const FLAGS: &[(&str, &str)] = &[
    ("Honest", "An honest input, as the reference's own client or server produces it."),
    (
        "Randomized",
        "The step draws randomness: rngSeed gives it (see the header) and the intermediate values show what was drawn.",
    ),
    (
        "FullPbkdf2",
        "A registration computed with the specification's 600 000 PBKDF2 iterations (slow on purpose).",
    ),
    (
        "ReducedPbkdf2",
        "NOT the specification's PBKDF2 iteration count: an extra vector for quick checks of the registration formulas only.",
    ),
    ("Rsa3072", "3072-bit RSA keys."),
    ("BitFlip", "One bit of a field is flipped."),
    ("Truncated", "A field, or the whole message, is shorter than honest."),
    ("Extended", "A field, or the whole message, is longer than honest."),
    ("WrongKey", "Made or checked under a key other than the one the protocol prescribes."),
    ("WrongPeer", "Made for another sender or recipient than the one it is delivered as."),
    ("WrongLabel", "An RSA-OAEP label other than the prescribed one."),
    ("OtherScheme", "A signature or MAC built by another profile's construction or scheme."),
    ("Replay", "A message delivered again after it was accepted."),
    ("Stateful", "The outcome depends on state built by the setup steps or described in state."),
    ("OtpExpired", "The OTP is older than OTP_TTL."),
    ("OtpReuse", "The OTP is used again after a successful registration."),
    ("OtpAttempts", "Failed registration attempts are counted (E8)."),
    ("OtherProfile", "A message encoded for the other profile's wire version."),
    (
        "SeedFlaw",
        "The seed profile accepts this attack; the hardened profile rejects the same scenario (SPEC.md §12).",
    ),
    ("Unexpected", "A message the party did not ask for or does not accept in its state."),
    ("Reflection", "A party's own message delivered back to it as if its peer had sent it."),
    ("Crafted", "A malicious input built with knowledge of the session keys (a valid MAC over bad content)."),
    ("InvalidPublicKey", "A public key that is malformed or outside §2.1's policy."),
    ("Boundary", "A value at a limit of the specification (time to live, window, field size)."),
    ("SpecExample", "An example from SPEC.md §4.9."),
    ("Relay", "The server forwards or stores the message without checking its protected content."),
    ("Malformed", "Bytes that do not decode (SPEC.md §4.7)."),
    ("ApiMisuse", "A local action the client refuses in its state."),
];

/// One vector file's content before numbering.
pub(crate) struct FileSpec {
    pub stem: String,
    pub algorithm: &'static str,
    pub description: &'static str,
    pub profile: Profile,
    pub groups: Vec<TypedGroup>,
}

/// The randomness paragraph of every header.
pub(crate) const RANDOMNESS: &str = "Randomness: a step that draws randomness has an rngSeed (32 bytes); its random source is \
     ChaCha20 (RFC 8439 block function, 20 rounds) keyed with rngSeed, nonce and block counter zero, and the draws are \
     consecutive slices of that keystream in this order. OTP: repeat {w = next 4 bytes as a little-endian u32; if w < \
     4294000000 stop}; the OTP is w mod 1000000 as 6 ASCII digits with leading zeros. K: 32 bytes. IV: 16 bytes. \
     RSA-OAEP: the 32-byte seed of RFC 8017 §7.1.1 step 2d. RSASSA-PSS: the 32-byte salt of RFC 8017 §9.1.1 step 4 \
     (whatever a signature draws after its salt, such as blinding, does not change its bytes). Order within a step: \
     client otpReceived: OAEP seed of the sealed tag, then the PSS salt of the proof of possession; client receiving \
     PeerKey: K, then the OAEP seed, then (hardened) the PSS salt of the transport signature; client send: IV; server \
     RegisterRequest: the OTP; server RegisterSubmit: (hardened) the PSS salt of the directory signature. \
     PKCS#1 v1.5 signatures and every receive-side check are deterministic. Seeds are SHA-256 of \
     \"ee2e-conformance/<file stem>/<label>\", but any 32 bytes would do.";

/// Every file the generator writes, in order.
pub(crate) fn build_all() -> Result<Vec<FileSpec>, VectorError> {
    let mut files = Vec::new();
    for profile in [Profile::SEED, Profile::HARDENED] {
        files.push(registration::build(profile)?);
        files.push(key_exchange::build(profile)?);
        files.push(messages::build(profile)?);
        files.push(acks::build(profile)?);
        files.push(presence::build(profile)?);
        files.push(wire::build(profile)?);
        files.push(extra::build(profile)?);
        files.push(rules::build(profile)?);
    }
    Ok(files)
}

/// The file names the generator writes.
pub fn file_names() -> Vec<String> {
    let stems = [
        "registration",
        "key_exchange",
        "messages",
        "acks",
        "presence",
        "wire",
        "extra_reduced_pbkdf2",
        "rules",
    ];
    ["seed", "hardened"].iter().flat_map(|p| stems.iter().map(move |s| format!("{s}_{p}.json"))).collect()
}

/// Numbers the tests, collects the notes, and makes the file.
pub(crate) fn assemble(spec: FileSpec) -> Result<TypedFile, VectorError> {
    let mut groups = spec.groups;
    let mut next = 1;
    let mut used = BTreeSet::new();
    let mut number = |tc_id: &mut u32, flags: &[String]| {
        *tc_id = next;
        next += 1;
        used.extend(flags.iter().cloned());
    };
    for group in &mut groups {
        match group {
            TestGroup::ClientSteps(g) => g.tests.iter_mut().for_each(|t| number(&mut t.tc_id, &t.flags)),
            TestGroup::ServerSteps(g) => g.tests.iter_mut().for_each(|t| number(&mut t.tc_id, &t.flags)),
            TestGroup::Decode(g) => g.tests.iter_mut().for_each(|t| number(&mut t.tc_id, &t.flags)),
            TestGroup::MessageKeys(g) => g.tests.iter_mut().for_each(|t| number(&mut t.tc_id, &t.flags)),
            TestGroup::Encode(g) => g.tests.iter_mut().for_each(|t| number(&mut t.tc_id, &t.flags)),
        }
    }
    let known: BTreeMap<&str, &str> = FLAGS.iter().copied().collect();
    let mut notes = BTreeMap::new();
    for flag in used {
        let meaning = known.get(flag.as_str()).ok_or_else(|| VectorError::Generate {
            file: spec.stem.clone(),
            message: format!("flag {flag} has no meaning in FLAGS"),
        })?;
        notes.insert(flag, (*meaning).to_string());
    }
    Ok(TypedFile {
        algorithm: spec.algorithm.to_string(),
        schema: SCHEMA.to_string(),
        profile: spec.profile.name(),
        number_of_tests: (next - 1) as usize,
        header: vec![
            spec.description.to_string(),
            format!(
                "Profile {}: wire version {}. Generated by `ee2e vectors generate` from the reference \
                 implementation and its committed test keys (fixtures/keys); checked by `ee2e vectors verify` \
                 and by conformance/python/check_vectors.py. Test keys only: they protect nothing.",
                spec.profile.name(),
                spec.profile.wire() as u8
            ),
            RANDOMNESS.to_string(),
        ],
        notes,
        test_groups: groups,
    })
}

/// What a scenario intends: valid, or the name of the exact error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intent {
    Valid,
    Invalid(&'static str),
}

fn check_intent(
    world: &World,
    comment: &str,
    intent: Intent,
    observed: &Observed,
) -> Result<(), VectorError> {
    let ok = match intent {
        Intent::Valid => observed.verdict == Some(Verdict::Valid) && observed.error.is_none(),
        Intent::Invalid(name) => {
            observed.verdict == Some(Verdict::Invalid) && observed.error.as_deref() == Some(name)
        }
    };
    if ok {
        Ok(())
    } else {
        Err(world.fail(format!(
            "{comment:?}: intended {intent:?}, the implementation gave {:?} {:?} {:?}",
            observed.verdict, observed.error, observed.error_field
        )))
    }
}

fn problem(world: &World, comment: &str, problem: Problem) -> VectorError {
    world.fail(format!("{comment:?}: {problem:?}"))
}

/// A setup step that must succeed.
pub(crate) fn ok(input: ClientInput) -> ClientStep {
    ClientStep { input, rng_seed: None, expect: "ok".into() }
}

/// A setup step that must succeed, with its randomness.
pub(crate) fn ok_seeded(input: ClientInput, seed: Hex) -> ClientStep {
    ClientStep { input, rng_seed: Some(seed), expect: "ok".into() }
}

pub(crate) fn receive(message: Hex) -> ClientInput {
    ClientInput::Receive { message }
}

/// A client scenario.
#[derive(Debug, Clone)]
pub(crate) struct Case {
    comment: String,
    flags: Vec<&'static str>,
    state: String,
    registration: RegistrationState,
    setup: Vec<ClientStep>,
    input: ClientInput,
    seed: Option<Hex>,
    intent: Intent,
    pins: Vec<&'static str>,
    seen_transports: Vec<SeenTransports>,
}

impl Case {
    /// A registered client receiving `input`, intended valid.
    pub fn new(comment: impl Into<String>, input: ClientInput) -> Self {
        Case {
            comment: comment.into(),
            flags: Vec::new(),
            state: "registered".into(),
            registration: RegistrationState::Registered,
            setup: Vec::new(),
            input,
            seed: None,
            intent: Intent::Valid,
            pins: Vec::new(),
            seen_transports: Vec::new(),
        }
    }
    pub fn flags(mut self, flags: &[&'static str]) -> Self {
        self.flags.extend_from_slice(flags);
        self
    }
    /// Check ids and limits the case pins beyond those its error names (see `pins`).
    pub fn pins(mut self, ids: &[&'static str]) -> Self {
        self.pins.extend_from_slice(ids);
        self
    }
    /// `count` key transports with the party `peer` already recorded.
    pub fn seen_transports(mut self, peer: &str, count: usize) -> Self {
        self.seen_transports.push(SeenTransports { peer: peer.into(), count });
        self
    }
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = state.into();
        self
    }
    pub fn registration(mut self, registration: RegistrationState) -> Self {
        self.registration = registration;
        self
    }
    /// A client that has not registered yet.
    pub fn unregistered(self) -> Self {
        self.registration(RegistrationState::Unregistered).state("unregistered")
    }
    pub fn setup(mut self, steps: Vec<ClientStep>) -> Self {
        self.setup = steps;
        self
    }
    pub fn seed(mut self, seed: Hex) -> Self {
        self.seed = Some(seed);
        self
    }
    pub fn invalid(mut self, error: &'static str) -> Self {
        self.intent = Intent::Invalid(error);
        self
    }
    /// Valid in the seed profile (flagged `SeedFlaw`), `error` in the hardened one.
    pub fn seed_flaw(self, profile: Profile, error: &'static str) -> Self {
        if profile == Profile::SEED { self.flags(&["SeedFlaw"]) } else { self.invalid(error) }
    }
    /// `seed` error in the seed profile, `hardened` error in the hardened one.
    pub fn invalid_by(self, profile: Profile, seed: &'static str, hardened: &'static str) -> Self {
        self.invalid(if profile == Profile::SEED { seed } else { hardened })
    }
}

/// A client or server test of `case` before it runs: the fields the two share (the schema
/// declares them with `step_test!`) from the case or blank, and the listed `own` fields
/// moved from the case's fields of the same name.
macro_rules! not_run {
    ($test:ident, $case:ident { $($own:ident),* } $(, $field:ident: $value:expr)*) => {
        $test {
            tc_id: 0,
            comment: $case.comment.clone(),
            flags: $case.flags.iter().map(|f| f.to_string()).collect(),
            checks: Vec::new(),
            $($own: $case.$own,)*
            rng_seed: $case.seed,
            intermediate: None,
            output: None,
            result: Verdict::Valid,
            error: None,
            error_type: None,
            error_field: None,
            $($field: $value,)*
        }
    };
}

/// Builds a client group.
pub(crate) struct ClientGroupBuilder<'w> {
    world: &'w World,
    group: ClientGroup<ClientTest>,
}

impl<'w> ClientGroupBuilder<'w> {
    pub fn new(
        world: &'w World,
        description: &str,
        me: &str,
        names: &[&str],
        pbkdf2_iterations: Option<u32>,
    ) -> Self {
        ClientGroupBuilder {
            world,
            group: ClientGroup {
                description: description.into(),
                server: world.server_json(false),
                parties: world.parties_json(names, Some(me)),
                me: me.into(),
                pbkdf2_iterations,
                tests: Vec::new(),
            },
        }
    }

    /// Runs the scenario and records it.
    pub fn add(&mut self, case: Case) -> Result<(), VectorError> {
        let mut test = not_run!(ClientTest, case { state, registration, seen_transports, setup, input });
        let mut observed = runner::run_client::<S>(self.world.profile, &self.group, &test)
            .map_err(|p| problem(self.world, &case.comment, p))?;
        check_intent(self.world, &case.comment, case.intent, &observed)?;
        test.checks = pins::client(self.world, &test, observed.error.as_deref(), &case.pins)?;
        test.output = observed.client_output.take();
        (test.result, test.error, test.error_type, test.error_field, test.intermediate) =
            observed.into_outcome();
        self.group.tests.push(test);
        Ok(())
    }

    pub fn finish(self) -> TypedGroup {
        TestGroup::ClientSteps(self.group)
    }
}

/// A server scenario.
#[derive(Debug, Clone)]
pub(crate) struct ServerCase {
    comment: String,
    flags: Vec<&'static str>,
    state: String,
    directory: Vec<String>,
    pending: Vec<PendingOtp>,
    otp_requests: Vec<OtpRequests>,
    otp_phones: Option<OtpPhones>,
    queued: Vec<Queued>,
    delivery: DeliveryMode,
    online: Vec<String>,
    setup: Vec<ServerStep>,
    input: ServerInput,
    seed: Option<Hex>,
    intent: Intent,
    pins: Vec<&'static str>,
}

impl ServerCase {
    /// `from` sends `message` at time `now`; alice and bob are registered, intended valid.
    pub fn new(comment: impl Into<String>, from: String, message: Hex, now: u64) -> Self {
        ServerCase {
            comment: comment.into(),
            flags: Vec::new(),
            state: "alice and bob registered, nobody online".into(),
            directory: vec!["alice".into(), "bob".into()],
            pending: Vec::new(),
            otp_requests: Vec::new(),
            otp_phones: None,
            queued: Vec::new(),
            delivery: DeliveryMode::OnConnect,
            online: Vec::new(),
            setup: Vec::new(),
            input: ServerInput { from, message, now },
            seed: None,
            intent: Intent::Valid,
            pins: Vec::new(),
        }
    }
    /// `from` sends `message`, named `name`, encoded for the other profile's wire version at
    /// time `now`: refused with `WrongVersion`.
    pub fn other_profile(
        w: &World,
        name: &str,
        from: String,
        message: &ee2e_spec::Message<S>,
        now: u64,
    ) -> Result<Self, VectorError> {
        let case =
            ServerCase::new(format!("the other profile's {name}"), from, w.encode_other(message)?, now);
        Ok(case.flags(&["OtherProfile"]).invalid("WrongVersion"))
    }
    /// Check ids and limits the case pins beyond those its error names (see `pins`).
    pub fn pins(mut self, ids: &[&'static str]) -> Self {
        self.pins.extend_from_slice(ids);
        self
    }
    /// Past OTP requests of `phone` at `times`.
    pub fn otp_requests(mut self, phone: String, times: &[u64]) -> Self {
        self.otp_requests.push(OtpRequests { phone, times: times.to_vec() });
        self
    }
    /// `count` copies of `message` already queued for the party `to`.
    pub fn queued(mut self, to: &str, message: Hex, count: usize) -> Self {
        self.queued.push(Queued { to: to.into(), message: Some(message), filler: None, count });
        self
    }
    /// `count` filler messages from `from` with `ciphertext_length`-byte ciphertexts already
    /// queued for the party `to`.
    pub fn filler(mut self, to: &str, from: &str, ciphertext_length: usize, count: usize) -> Self {
        let filler = Filler { from: from.into(), ciphertext_length };
        self.queued.push(Queued { to: to.into(), message: None, filler: Some(filler), count });
        self
    }
    /// `count` more phones with OTPs pending since `issued_at`.
    pub fn otp_phones(mut self, count: usize, issued_at: u64) -> Self {
        self.otp_phones = Some(OtpPhones { count, issued_at });
        self
    }
    pub fn delivery(mut self, delivery: DeliveryMode) -> Self {
        self.delivery = delivery;
        self
    }
    pub fn flags(mut self, flags: &[&'static str]) -> Self {
        self.flags.extend_from_slice(flags);
        self
    }
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = state.into();
        self
    }
    pub fn directory(mut self, names: &[&str]) -> Self {
        self.directory = names.iter().map(|n| n.to_string()).collect();
        self
    }
    pub fn pending(mut self, pending: Vec<PendingOtp>) -> Self {
        self.pending = pending;
        self
    }
    pub fn online(mut self, names: &[&str]) -> Self {
        self.online = names.iter().map(|n| n.to_string()).collect();
        self
    }
    pub fn setup(mut self, steps: Vec<ServerStep>) -> Self {
        self.setup = steps;
        self
    }
    pub fn seed(mut self, seed: Hex) -> Self {
        self.seed = Some(seed);
        self
    }
    pub fn invalid(mut self, error: &'static str) -> Self {
        self.intent = Intent::Invalid(error);
        self
    }
    pub fn seed_flaw(self, profile: Profile, error: &'static str) -> Self {
        if profile == Profile::SEED { self.flags(&["SeedFlaw"]) } else { self.invalid(error) }
    }
}

/// A server setup step.
pub(crate) fn server_step(from: String, message: Hex, now: u64, expect: &str) -> ServerStep {
    ServerStep { input: ServerInput { from, message, now }, rng_seed: None, expect: expect.into() }
}

/// Builds a server group.
pub(crate) struct ServerGroupBuilder<'w> {
    world: &'w World,
    group: ServerGroup<ServerTest>,
}

impl<'w> ServerGroupBuilder<'w> {
    pub fn new(world: &'w World, description: &str, names: &[&str], pbkdf2_iterations: u32) -> Self {
        ServerGroupBuilder {
            world,
            group: ServerGroup {
                description: description.into(),
                server: world.server_json(true),
                parties: world.parties_json(names, None),
                pbkdf2_iterations,
                tests: Vec::new(),
            },
        }
    }

    pub fn add(&mut self, case: ServerCase) -> Result<(), VectorError> {
        let mut test = not_run!(ServerTest, case {
            state, directory, pending, otp_requests, otp_phones, queued, delivery, online, setup, input
        }, error_code: None);
        let mut observed = runner::run_server::<S>(self.world.profile, &self.group, &test)
            .map_err(|p| problem(self.world, &case.comment, p))?;
        check_intent(self.world, &case.comment, case.intent, &observed)?;
        test.checks = pins::server(self.world, &test, observed.error.as_deref(), &case.pins)?;
        test.error_code = observed.error_code.take();
        test.output = observed.server_output.take();
        (test.result, test.error, test.error_type, test.error_field, test.intermediate) =
            observed.into_outcome();
        self.group.tests.push(test);
        Ok(())
    }

    pub fn finish(self) -> TypedGroup {
        TestGroup::ServerSteps(self.group)
    }
}

/// Builds a decoding group.
pub(crate) struct DecodeGroupBuilder<'w> {
    world: &'w World,
    group: DecodeGroup<DecodeTest>,
}

impl<'w> DecodeGroupBuilder<'w> {
    pub fn new(world: &'w World, description: &str) -> Self {
        DecodeGroupBuilder {
            world,
            group: DecodeGroup { description: description.into(), tests: Vec::new() },
        }
    }

    pub fn add(
        &mut self,
        comment: impl Into<String>,
        flags: &[&'static str],
        message: Vec<u8>,
        intent: Intent,
    ) -> Result<(), VectorError> {
        let comment = comment.into();
        let message = Hex(message);
        let (observed, kind) = runner::run_decode(self.world.profile, &message);
        if observed.verdict == Some(Verdict::Valid) && observed.error.is_some() {
            return Err(self.world.fail(format!("{comment:?}: {:?}", observed.error)));
        }
        check_intent(self.world, &comment, intent, &observed)?;
        if observed.error_type.is_some_and(|t| t != ErrorType::DecodeError) {
            return Err(self.world.fail(format!("{comment:?}: not a decoding error")));
        }
        self.group.tests.push(DecodeTest {
            tc_id: 0,
            comment,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            checks: Vec::new(),
            message,
            message_type: kind,
            result: observed.verdict.unwrap_or(Verdict::Invalid),
            error: observed.error,
            error_field: observed.error_field,
        });
        Ok(())
    }

    pub fn finish(self) -> TypedGroup {
        TestGroup::Decode(self.group)
    }
}

/// Builds an encoding group: each case runs through the encoder and must give its intent.
pub(crate) struct EncodeGroupBuilder<'w> {
    world: &'w World,
    group: crate::schema::EncodeGroup<crate::schema::EncodeTest>,
}

impl<'w> EncodeGroupBuilder<'w> {
    pub fn new(world: &'w World, description: &str) -> Self {
        EncodeGroupBuilder {
            world,
            group: crate::schema::EncodeGroup { description: description.into(), tests: Vec::new() },
        }
    }

    /// `fields` by their §4.4 names: phones as text, the rest as bytes (hex in the file).
    pub fn add(
        &mut self,
        comment: &str,
        flags: &[&'static str],
        message_type: &str,
        layout: Option<u8>,
        fields: &[(&str, FieldValue)],
        intent: Intent,
    ) -> Result<(), VectorError> {
        let mut test = crate::schema::EncodeTest {
            tc_id: 0,
            comment: comment.into(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            message_type: message_type.into(),
            layout,
            fields: fields
                .iter()
                .map(|(name, value)| {
                    let text = match value {
                        FieldValue::Text(t) => t.clone(),
                        FieldValue::Bytes(b) => hex::encode(b),
                    };
                    (name.to_string(), text)
                })
                .collect(),
            result: Verdict::Valid,
            encoded: None,
            error: None,
            error_field: None,
        };
        let got =
            runner::run_encode(self.world.profile, &test).map_err(|p| problem(self.world, comment, p))?;
        match (intent, got) {
            (Intent::Valid, Ok(bytes)) => test.encoded = Some(bytes),
            (Intent::Invalid(name), Err((error, field))) if error == name => {
                test.result = Verdict::Invalid;
                test.error = Some(error);
                test.error_field = field;
            }
            (intent, got) => {
                return Err(self
                    .world
                    .fail(format!("{comment:?}: intended {intent:?}, the encoder gave {got:?}")));
            }
        }
        self.group.tests.push(test);
        Ok(())
    }

    pub fn finish(self) -> TypedGroup {
        TestGroup::Encode(self.group)
    }
}

/// A field of an encoding case.
#[derive(Debug, Clone)]
pub(crate) enum FieldValue {
    /// A phone number.
    Text(String),
    /// Any other field.
    Bytes(Vec<u8>),
}

/// A message-key case: comment, flags, `K`, `sid`.
pub(crate) type KeysCase = (String, Vec<&'static str>, Vec<u8>, Vec<u8>);

/// Builds a message-key group.
pub(crate) fn message_keys_group(world: &World, cases: &[KeysCase]) -> Result<TypedGroup, VectorError> {
    let mut tests = Vec::new();
    for (comment, flags, key, sid) in cases {
        for direction in [0u8, 1] {
            let mut test = MessageKeysTest {
                tc_id: 0,
                comment: format!("{comment}, direction {direction}"),
                flags: flags.iter().map(|f| f.to_string()).collect(),
                session_key: Hex(key.clone()),
                session_id: Hex(sid.clone()),
                direction,
                enc_info: Hex::default(),
                mac_info: Hex::default(),
                enc_key: Hex::default(),
                mac_key: Hex::default(),
                result: Verdict::Valid,
            };
            let d = if direction == 0 {
                ee2e_spec::Direction::InitiatorToResponder
            } else {
                ee2e_spec::Direction::ResponderToInitiator
            };
            let keys = runner::message_keys_for::<S>(key, sid, d);
            test.enc_info = Hex(keys.enc_info);
            test.mac_info = Hex(keys.mac_info);
            test.enc_key = Hex(keys.enc);
            test.mac_key = Hex(keys.mac);
            let problems = runner::run_message_keys::<S>(&test);
            if !problems.is_empty() {
                return Err(world.fail(format!("{comment}: {problems:?}")));
            }
            tests.push(test);
        }
    }
    Ok(TestGroup::MessageKeys(MessageKeysGroup {
        description: "HKDF-SHA-256 message keys of the hardened profile (SPEC.md §7.1): enc_d and mac_d for \
                      both directions of a session"
            .into(),
        tests,
    }))
}

/// A pending OTP.
pub(crate) fn pending(phone: String, otp: &str, issued_at: u64, attempts: u32) -> PendingOtp {
    PendingOtp { phone, otp: otp.into(), issued_at, attempts }
}
