//! `extra_reduced_pbkdf2_<profile>.json`: registration vectors with PBKDF2 iteration counts
//! far below the specification's 600 000, for quick checks of the formulas. Clearly not the
//! protocol: an implementation that registers with these counts does not conform.

use ee2e::Bytes;
use ee2e_spec::hazmat::{RegistrationValues, registration_label};
use ee2e_spec::{Message, Profile, RegistrationProof, SigScheme, Wire};

use super::craft;
use super::world::World;
use super::{Case, ClientGroupBuilder, FileSpec, ServerCase, ServerGroupBuilder, pending};
use crate::error::VectorError;
use crate::schema::{ClientInput, RegistrationState};

const OTP: &str = "123456";

pub(crate) fn build(profile: Profile) -> Result<FileSpec, VectorError> {
    let stem = format!("extra_reduced_pbkdf2_{}", profile.name());
    let w = World::new(profile, &stem)?;
    let hardened = profile.wire() == Wire::Hardened;
    let mut groups = Vec::new();
    for iterations in [1u32, 2, 1000] {
        let mut g = ClientGroupBuilder::new(
            &w,
            &format!(
                "REDUCED PBKDF2 ({iterations} iterations, not the specification's 600 000): alice's registration computation"
            ),
            "alice",
            &["alice"],
            Some(iterations),
        );
        for otp in [OTP, "000000"] {
            let mut case = Case::new(
                format!("the OTP {otp} arrives; PBKDF2 with {iterations} iterations"),
                ClientInput::OtpReceived { otp: otp.into() },
            )
            .registration(RegistrationState::AwaitingOtp)
            .state("awaiting the OTP")
            .flags(&["ReducedPbkdf2"]);
            if hardened {
                case = case.seed(w.seed(&format!("otp/{iterations}/{otp}"))).flags(&["Randomized"]);
            }
            g.add(case)?;
        }
        groups.push(g.finish());
    }
    let iterations = 1;
    let mut g = ServerGroupBuilder::new(
        &w,
        "REDUCED PBKDF2 (1 iteration, not the specification's 600 000): the server's tag check (§5.3 check 8)",
        &["alice", "bob"],
        iterations,
    );
    let (phone, pk) = (w.phone("alice"), w.public_key("alice"));
    let submit = |otp: &str, label: &str| -> Result<_, VectorError> {
        let tag = RegistrationValues::<super::world::S>::compute(
            &Bytes::secret(otp.as_bytes()),
            &phone,
            &pk,
            iterations,
        )
        .tag()
        .clone();
        let proof = if hardened {
            RegistrationProof::Hardened {
                sealed_tag: craft::oaep(
                    &w,
                    w.server.public_key_der(),
                    &registration_label::<super::world::S>(&phone),
                    &tag,
                    &format!("{label}/seal"),
                )?,
                possession: craft::sign(
                    &w,
                    &w.party("alice").key,
                    SigScheme::PssSha256,
                    &craft::possession_input(&phone, &pk),
                    &format!("{label}/possess"),
                )?,
            }
        } else {
            RegistrationProof::Seed { tag }
        };
        w.encode(&Message::RegisterSubmit { phone: phone.clone(), public_key: pk.clone(), proof })
    };
    let state = "bob registered; alice's OTP 123456 issued at 1000000";
    let mut valid = ServerCase::new(
        "alice's submission, 1-iteration tag",
        w.phone_text("alice"),
        submit(OTP, "ok")?,
        1_060_000,
    )
    .directory(&["bob"])
    .pending(vec![pending(w.phone_text("alice"), OTP, 1_000_000, 0)])
    .state(state)
    .flags(&["ReducedPbkdf2"]);
    if hardened {
        valid = valid.seed(w.seed("directory")).flags(&["Randomized"]);
    }
    g.add(valid)?;
    g.add(
        ServerCase::new(
            "a 1-iteration tag from the wrong OTP 654321",
            w.phone_text("alice"),
            submit("654321", "wrong")?,
            1_060_000,
        )
        .directory(&["bob"])
        .pending(vec![pending(w.phone_text("alice"), OTP, 1_000_000, 0)])
        .state(state)
        .flags(&["ReducedPbkdf2", "WrongKey"])
        .invalid("BadRegistrationTag"),
    )?;
    groups.push(g.finish());
    Ok(FileSpec {
        stem,
        algorithm: "EE2E registration with REDUCED PBKDF2 iterations (extra, not conformance)",
        description: "EXTRA VECTORS WITH A REDUCED PBKDF2 ITERATION COUNT (1, 2 and 1000 instead of the specification's \
                      600 000). They check the registration formulas of SPEC.md §5.2 and §5.3 quickly; the conforming \
                      registration vectors are in registration_<profile>.json.",
        profile,
        groups,
    })
}
