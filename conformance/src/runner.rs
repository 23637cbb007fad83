//! Runs one test against the implementation and reports what it observed.
//!
//! The same code serves the generator (which records what it observes) and the verifier
//! (which compares it with the file). A client or server is brought into the test's
//! described state by driving the real state machine (`ee2e_spec::Client`,
//! `ee2e_spec::Server`) through the public API, then given the test's input.

mod client;
mod encode;
mod intermediate;
mod server;

use std::collections::BTreeMap;

use ee2e::codec::{self, DecodeError};
use ee2e::suite::seeded_rng;
use ee2e::{Bytes, BytesSuite, ConcreteSuite};
use ee2e_spec::{ClientError, DirectoryEntry, Phone, Profile, ServerError};
use rand_core::Rng as _;

use crate::schema::{
    ClientOutputs, ErrorType, Hex, Intermediate, MessageKeysTest, Party, ServerOutputs, Verdict,
};

pub(crate) use client::run_client;
pub(crate) use encode::run_encode;
pub(crate) use intermediate::{input_bytes, tuple};
pub(crate) use server::run_server;

/// Why a test could not be run or compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Problem {
    /// The test itself is malformed (unknown party, bad phone, missing key, …).
    Malformed(String),
    /// A setup step did not behave as the test says; the test fails.
    Setup(String),
}

/// What running a test produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Observed {
    pub verdict: Option<Verdict>,
    pub error: Option<String>,
    pub error_type: Option<ErrorType>,
    pub error_field: Option<String>,
    pub error_code: Option<String>,
    pub intermediate: Option<Intermediate>,
    pub client_output: Option<ClientOutputs>,
    pub server_output: Option<ServerOutputs>,
}

impl Observed {
    /// The verdict (invalid where none), error, error type, error field and intermediate
    /// values: what a client or server test records of its run besides its outputs.
    pub fn into_outcome(
        self,
    ) -> (Verdict, Option<String>, Option<ErrorType>, Option<String>, Option<Intermediate>) {
        (
            self.verdict.unwrap_or(Verdict::Invalid),
            self.error,
            self.error_type,
            self.error_field,
            self.intermediate,
        )
    }

    fn valid() -> Self {
        Observed { verdict: Some(Verdict::Valid), ..Observed::default() }
    }

    fn failed(error: &StepError) -> Self {
        Observed {
            verdict: Some(Verdict::Invalid),
            error: Some(error.name()),
            error_type: Some(error.kind()),
            error_field: error.field(),
            error_code: error.code(),
            ..Observed::default()
        }
    }
}

/// An error one step produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepError {
    Decode(DecodeError),
    Client(ClientError),
    Server(ServerError),
}

impl StepError {
    pub(crate) fn name(&self) -> String {
        match self {
            StepError::Decode(e) => e.name().to_string(),
            StepError::Client(e) => e.name().to_string(),
            StepError::Server(e) => e.name().to_string(),
        }
    }

    fn kind(&self) -> ErrorType {
        match self {
            StepError::Decode(_) => ErrorType::DecodeError,
            StepError::Client(_) => ErrorType::ClientError,
            StepError::Server(_) => ErrorType::ServerError,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            StepError::Decode(e) => decode_field(e),
            _ => None,
        }
    }

    fn code(&self) -> Option<String> {
        match self {
            StepError::Server(e) => Some(e.code().name().to_string()),
            _ => None,
        }
    }
}

/// The field a decoding error names (SPEC.md §4.7).
pub(crate) fn decode_field(error: &DecodeError) -> Option<String> {
    match error {
        DecodeError::Truncated { field }
        | DecodeError::FieldTooLong { field, .. }
        | DecodeError::EmptyField { field }
        | DecodeError::InvalidPhone { field } => Some((*field).to_string()),
        _ => None,
    }
}

/// A party of a group, parsed.
#[derive(Debug, Clone)]
pub(crate) struct PartyInfo<S: BytesSuite> {
    pub phone: Phone,
    pub entry: DirectoryEntry<S>,
    pub private_key: Option<S::PrivateKey>,
}

/// Parses a group's parties by name.
pub(crate) fn parse_parties<S: BytesSuite>(
    parties: &[Party],
) -> Result<BTreeMap<String, PartyInfo<S>>, Problem> {
    let mut out = BTreeMap::new();
    for party in parties {
        let phone = parse_phone(&party.phone)?;
        let private_key = match &party.private_key {
            Some(pem) => Some(parse_key::<S>(pem, &party.name)?),
            None => None,
        };
        let entry = DirectoryEntry {
            phone: phone.clone(),
            public_key: Bytes::public(party.public_key.as_slice()),
            signature: Bytes::public(party.entry_signature.as_slice()),
        };
        if out.insert(party.name.clone(), PartyInfo { phone, entry, private_key }).is_some() {
            return Err(Problem::Malformed(format!("party {} is listed twice", party.name)));
        }
    }
    Ok(out)
}

/// A group's PBKDF2 iteration count: SPEC.md's, or fewer (the reduced files), never more —
/// a hostile file must not make the verifier run for hours.
pub(crate) fn iterations(count: u32) -> Result<u32, Problem> {
    if count == 0 || count > ee2e_spec::limits::PBKDF2_ITERATIONS {
        return Err(Problem::Malformed(format!(
            "pbkdf2Iterations {count} is not between 1 and PBKDF2_ITERATIONS ({})",
            ee2e_spec::limits::PBKDF2_ITERATIONS
        )));
    }
    Ok(count)
}

pub(crate) fn parse_phone(text: &str) -> Result<Phone, Problem> {
    Phone::parse(text).map_err(|_| Problem::Malformed(format!("{text:?} is not an E.164 phone number")))
}

pub(crate) fn parse_key<S: BytesSuite>(pem: &str, whose: &str) -> Result<S::PrivateKey, Problem> {
    S::private_key_from_pem(pem).map_err(|e| Problem::Malformed(format!("private key of {whose}: {e}")))
}

pub(crate) fn party<'a, S: BytesSuite>(
    parties: &'a BTreeMap<String, PartyInfo<S>>,
    name: &str,
) -> Result<&'a PartyInfo<S>, Problem> {
    parties.get(name).ok_or_else(|| Problem::Malformed(format!("no party named {name:?} in the group")))
}

/// The seed of a step's random source: the test's, or 32 zero bytes if it gives none.
pub(crate) fn rng_for(seed: Option<&Hex>) -> Result<ee2e::Rng, Problem> {
    let seed: [u8; 32] = match seed {
        None => [0; 32],
        Some(hex) => hex
            .as_slice()
            .try_into()
            .map_err(|_| Problem::Malformed(format!("rngSeed is {} bytes, not 32", hex.0.len())))?,
    };
    Ok(seeded_rng(seed))
}

/// The OTP a server step seeded with `seed` issues (SPEC.md §5.1; the vectors' draw order).
pub(crate) fn server_otp(seed: Option<&Hex>) -> Result<String, Problem> {
    let mut rng = rng_for(seed)?;
    let otp = <ConcreteSuite as ee2e_spec::Suite>::random(&mut rng, ee2e_spec::Fresh::Otp);
    Ok(String::from_utf8_lossy(otp.as_slice()).into_owned())
}

/// Bytes `start..end` of the keystream the seeded source produces (SPEC of the vectors:
/// ChaCha20 with the seed as key, zero nonce and counter).
pub(crate) fn keystream(seed: Option<&Hex>, start: usize, end: usize) -> Result<Vec<u8>, Problem> {
    let mut rng = rng_for(seed)?;
    let mut bytes = vec![0u8; end];
    rng.fill_bytes(&mut bytes);
    Ok(bytes[start..].to_vec())
}

/// Whether a step's expectation (`ok` or an error name) matches its outcome.
pub(crate) fn check_expect(
    step: usize,
    expect: &str,
    outcome: &Result<(), StepError>,
) -> Result<(), Problem> {
    let got = match outcome {
        Ok(()) => "ok".to_string(),
        Err(e) => e.name(),
    };
    if got == expect {
        Ok(())
    } else {
        Err(Problem::Setup(format!("setup step {step}: expected {expect}, got {got} ({outcome:?})")))
    }
}

/// Decodes a received message under the profile's wire version.
pub(crate) fn decode<S: BytesSuite>(
    profile: Profile,
    bytes: &Hex,
) -> Result<ee2e_spec::Message<S>, StepError> {
    codec::decode_for(profile.wire(), bytes.as_slice()).map_err(StepError::Decode)
}

/// Encodes a message for the profile's wire version.
pub(crate) fn encode<S: BytesSuite>(
    profile: Profile,
    message: &ee2e_spec::Message<S>,
) -> Result<Hex, Problem> {
    codec::encode_for(profile.wire(), message)
        .map(Hex)
        .map_err(|e| Problem::Setup(format!("the implementation produced a message it cannot encode: {e}")))
}

/// Runs a decoding test: the error, or the decoded type after checking that the message
/// re-encodes to the same bytes.
/// No primitive runs, so the messages are `ConcreteSuite`'s whichever suite is under test.
pub(crate) fn run_decode(profile: Profile, message: &Hex) -> (Observed, Option<String>) {
    match codec::decode(profile.wire(), message.as_slice()) {
        Err(e) => (Observed::failed(&StepError::Decode(e)), None),
        Ok(decoded) => {
            let kind = decoded.kind().name().to_string();
            match codec::encode(profile.wire(), &decoded) {
                Ok(again) if again == message.as_slice() => (Observed::valid(), Some(kind)),
                other => {
                    let mut observed = Observed::valid();
                    observed.error = Some(format!("decoded message re-encodes differently: {other:?}"));
                    (observed, Some(kind))
                }
            }
        }
    }
}

/// `enc_d` and `mac_d` of a session by SPEC.md §7.1, with their HKDF info strings.
pub(crate) fn message_keys_for<S: BytesSuite>(
    key: &[u8],
    sid: &[u8],
    direction: ee2e_spec::Direction,
) -> intermediate::MessageKeys {
    intermediate::message_keys::<S>(&Bytes::secret(key), &Bytes::public(sid), direction)
}

/// Recomputes a message-key test; the mismatches, if any.
pub(crate) fn run_message_keys<S: BytesSuite>(test: &MessageKeysTest) -> Vec<String> {
    let direction = match test.direction {
        0 => ee2e_spec::Direction::InitiatorToResponder,
        1 => ee2e_spec::Direction::ResponderToInitiator,
        d => return vec![format!("direction {d} is neither 0 nor 1")],
    };
    let key = Bytes::secret(test.session_key.as_slice());
    let sid = Bytes::public(test.session_id.as_slice());
    let keys = intermediate::message_keys::<S>(&key, &sid, direction);
    let mut problems = Vec::new();
    let mut check = |name: &str, want: &Hex, got: &[u8]| {
        if want.as_slice() != got {
            problems.push(format!("{name}: file {want:?}, computed {}", hex::encode(got)));
        }
    };
    check("encInfo", &test.enc_info, &keys.enc_info);
    check("macInfo", &test.mac_info, &keys.mac_info);
    check("encKey", &test.enc_key, &keys.enc);
    check("macKey", &test.mac_key, &keys.mac);
    if let Err(e) = intermediate::check_against_implementation::<S>(&key, &sid, direction, &keys) {
        problems.push(e);
    }
    problems
}
