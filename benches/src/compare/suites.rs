//! The concrete suites side by side (`bench compare --suite …`): each suite's primitives,
//! called through `ee2e_spec::Suite` exactly as the protocol calls them, against the same
//! OpenSSL operations. The protocol-step rows above them run on `ConcreteSuite` only (their
//! fixtures, in `ee2e-benches`, are not generic over the suite).

use std::hint::black_box;

use crate::{FixtureError, RSA_BITS, plaintext};
use ee2e::Bytes;
use ee2e::suite::seeded_rng;
use ee2e::suites::{BytesSuite, SuiteKind, SuiteTask, SuiteUnavailable};
use ee2e_spec::{Fresh, Input, SigScheme};

use super::openssl::Op;
use super::{Spec, timed};

/// The report group of these rows.
pub(super) const GROUP: &str = "suite";

/// The rows of `kind`, named `<suite>: <operation>`.
///
/// # Errors
/// [`SuiteUnavailable`] if this build lacks the suite.
pub(super) fn specs(kind: SuiteKind) -> Result<Vec<Spec>, SuiteUnavailable> {
    kind.run(Rows)
}

/// The name of the row of `operation` on `kind`, as the report's targets look it up.
pub(super) fn row_name(kind: SuiteKind, operation: &str) -> String {
    format!("{kind}: {operation}")
}

/// The rows of one suite.
struct Rows;

impl SuiteTask for Rows {
    type Output = Vec<Spec>;

    fn run<S: BytesSuite>(self) -> Vec<Spec> {
        let mut specs = Vec::new();
        let name = |op: &str| row_name(S::KIND, op);
        for bits in RSA_BITS {
            for (scheme, label) in [(SigScheme::Pkcs1v15Sha256, "pkcs1"), (SigScheme::PssSha256, "pss")] {
                specs.push(
                    Spec::new(
                        name(&format!("rsa sign {label} {bits}")),
                        GROUP,
                        vec![Op::RsaPrivate(bits)],
                        {
                            Box::new(move |plan, _| {
                                let key = key::<S>(bits)?;
                                let (message, mut rng) =
                                    (Bytes::public(b"directory entry".to_vec()), seeded_rng([1; 32]));
                                timed(plan, || {
                                    black_box(S::sign(&key, scheme, Input::Raw(&message), &mut rng)?);
                                    Ok(())
                                })
                            })
                        },
                    )
                    .note("one private-key op (SHA-256 of 15 B, padding, blinded)"),
                );
                specs.push(
                    Spec::new(
                        name(&format!("rsa verify {label} {bits}")),
                        GROUP,
                        vec![Op::RsaPublic(bits)],
                        {
                            Box::new(move |plan, _| {
                                let key = key::<S>(bits)?;
                                let message = Bytes::public(b"directory entry".to_vec());
                                let signature =
                                    S::sign(&key, scheme, Input::Raw(&message), &mut seeded_rng([1; 32]))?;
                                let public = S::public_key(&key);
                                timed(plan, || {
                                    Ok(S::verify(&public, scheme, Input::Raw(&message), &signature)?)
                                })
                            })
                        },
                    )
                    .note("one public-key op; key parsed and checked each time"),
                );
            }
            specs.push(
                Spec::new(name(&format!("rsa oaep decrypt {bits}")), GROUP, vec![Op::RsaPrivate(bits)], {
                    Box::new(move |plan, _| {
                        let key = key::<S>(bits)?;
                        let mut rng = seeded_rng([2; 32]);
                        let (label, session_key) =
                            (Bytes::public(b"label".to_vec()), S::random(&mut rng, Fresh::SessionKey));
                        let ciphertext =
                            S::pke_encrypt(&S::public_key(&key), &label, &session_key, &mut rng)?;
                        timed(plan, || {
                            black_box(S::pke_decrypt(&key, &label, &ciphertext, &mut rng)?);
                            Ok(())
                        })
                    })
                })
                .note("one private-key op + OAEP decoding of a 32-byte key"),
            );
            specs.push(
                Spec::new(name(&format!("rsa oaep encrypt {bits}")), GROUP, vec![Op::RsaPublic(bits)], {
                    Box::new(move |plan, _| {
                        let key = key::<S>(bits)?;
                        let mut rng = seeded_rng([3; 32]);
                        let (public, label) = (S::public_key(&key), Bytes::public(b"label".to_vec()));
                        let session_key = S::random(&mut rng, Fresh::SessionKey);
                        timed(plan, || {
                            black_box(S::pke_encrypt(&public, &label, &session_key, &mut rng)?);
                            Ok(())
                        })
                    })
                })
                .note("OAEP encoding + one public-key op; key parsed and checked each time"),
            );
        }
        for (size, len) in [("1KiB", 1024), ("64KiB", 65536)] {
            // The suite pads: a whole block more than the plaintext.
            let padded = len + 16;
            specs.push(
                Spec::new(name(&format!("encrypt {size}")), GROUP, vec![Op::AesEncrypt(padded)], {
                    Box::new(move |plan, _| {
                        let key = S::cipher_key(&Bytes::secret(vec![7; 32]))?;
                        let (iv, message) = (Bytes::public(vec![1; 16]), plaintext(len));
                        timed(plan, || {
                            black_box(S::encrypt(&key, &iv, &message)?);
                            Ok(())
                        })
                    })
                })
                .note("AES-256-CBC + PKCS#7, output allocated"),
            );
            specs.push(
                Spec::new(name(&format!("decrypt {size}")), GROUP, vec![Op::AesDecrypt(padded)], {
                    Box::new(move |plan, _| {
                        let key = S::cipher_key(&Bytes::secret(vec![7; 32]))?;
                        let iv = Bytes::public(vec![1; 16]);
                        let ciphertext = S::encrypt(&key, &iv, &plaintext(len))?;
                        timed(plan, || {
                            black_box(S::decrypt(&key, &iv, &ciphertext)?);
                            Ok(())
                        })
                    })
                })
                .note("AES-256-CBC + unpadding, output allocated"),
            );
            specs.push(
                Spec::new(name(&format!("hmac {size}")), GROUP, vec![Op::Hmac(len)], {
                    Box::new(move |plan, _| {
                        let key = S::mac_key(&Bytes::secret(vec![7; 32]));
                        let message = Bytes::public(vec![5; len]);
                        timed(plan, || {
                            black_box(S::hmac(&key, Input::Raw(&message)));
                            Ok(())
                        })
                    })
                })
                .note("HMAC-SHA-256, prepared key"),
            );
        }
        specs
    }
}

/// The benchmark key of `bits` bits, loaded into suite `S`.
fn key<S: BytesSuite>(bits: usize) -> Result<S::PrivateKey, FixtureError> {
    let (key, _) = crate::key_pair(bits)?;
    S::private_key_from_pem(&key.to_pkcs8_pem()).map_err(|e| FixtureError::Server(e.to_string()))
}
