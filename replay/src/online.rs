//! The online OTP guess, done for real: the attacker submits the trace's registration
//! submission to the implementation's server with every 6-digit code in turn, until the
//! server accepts one (the seed profile sets no attempt limit) or refuses with something
//! other than a wrong tag (the attempt limit of erratum E8 locks the OTP after
//! `MAX_OTP_ATTEMPTS` wrong guesses).

use ee2e::Bytes;
use ee2e::runtime::Envelope;
use ee2e_model::symbolic::Term;
use ee2e_spec::{Message, ServerError};
use serde::Serialize;

use super::Rejection;
use super::attacker::Attacker;
use super::brute::OTP_SPACE;
use super::world::{World, addresses};
use ee2e::codec;

/// One online dictionary attack, as the implementation saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OnlineGuess {
    /// Whose OTP (A or B).
    pub owner: String,
    /// Submissions sent, the last one included.
    pub tried: u64,
    /// The code the server accepted, if it accepted one.
    pub otp: Option<String>,
    /// The server's refusal that ended the attack, if it did not accept any.
    pub stopped_by: Option<String>,
    /// Wall time of the whole attack.
    pub seconds: f64,
}

/// How an online guess ended.
pub(crate) enum Ended {
    /// The server accepted the submission built with this code.
    Accepted(Envelope, Bytes),
    /// The server refused a try for another reason than a wrong tag (the rejection is
    /// recorded in the transcript from the last try's position on).
    Refused,
}

/// Submits `submission` (built with each code in place of `secret`) until it ends; each
/// try's replies are discarded except those of the last, which stay captured for the
/// caller to compare with the model. Returns the end, the transcript position of the last
/// try (where its rejection, if any, is recorded) and the report.
pub(crate) fn guess(
    world: &mut World,
    att: &mut Attacker,
    submission: &ee2e_model::symbolic::Packet,
    secret: &Term,
    owner: String,
) -> Result<(Ended, usize, OnlineGuess), String> {
    let start = std::time::Instant::now();
    let (from, to) = addresses(&submission.hop);
    for code in 0..OTP_SPACE {
        let guess = Bytes::secret(format!("{code:06}").into_bytes());
        let message: Message<ee2e::ConcreteSuite> =
            att.build_guessing(&submission.message, secret, &guess)?;
        let bytes = codec::encode(world.wire, &message).map_err(|e| format!("cannot encode: {e}"))?;
        let envelope = Envelope { from: from.clone(), to: to.clone(), bytes };
        let mark = world.rt.transcript().len();
        world.send(envelope.clone())?;
        let report = |otp: Option<String>, stopped_by: Option<String>| OnlineGuess {
            owner: owner.clone(),
            tried: code + 1,
            otp,
            stopped_by,
            seconds: start.elapsed().as_secs_f64(),
        };
        match world.rejection_since(mark) {
            None => {
                att.observe(secret, &guess)?;
                let text = ee2e::otp::otp_text(&guess);
                return Ok((Ended::Accepted(envelope, guess), mark, report(Some(text), None)));
            }
            Some(Rejection::Server { error: ServerError::BadRegistrationTag, .. }) => {
                // A wrong guess: its error reply tells the attacker only that.
                world.take_captured();
            }
            Some(other) => {
                let why = other.to_string();
                return Ok((Ended::Refused, mark, report(None, Some(why))));
            }
        }
    }
    Err(format!("no code of the {OTP_SPACE} was accepted for {owner}'s OTP"))
}
