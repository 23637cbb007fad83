//! `ee2e bench compare` and `ee2e bench results`: our crypto hot path against OpenSSL, in
//! one run on this machine.
//!
//! Our side is timed in process with the loop of [`crate::timing`] (warm-up, then the median
//! of several batches) over the very operations the criterion benchmarks time (this crate's
//! fixtures: the spec's `Session::seal`/`open`, the key-transport and directory
//! constructions, registration through the state machines). OpenSSL's side is `openssl
//! speed` for the primitives and RSA, `openssl kdf` for PBKDF2 and `openssl genpkey` for key
//! generation; a protocol step is compared with the sum of the OpenSSL operations it is made
//! of (e.g. seal 1 KiB = AES-256-CBC over the padded 1040 bytes + HMAC-SHA-256 over header
//! and ciphertext). [`Report::markdown`] is `benches/RESULTS.md`, with the machine's
//! description and every command run. The last group puts the concrete suites side by side,
//! primitive by primitive, against the same OpenSSL operations (module `suites`).

mod openssl;
mod report;
pub mod results;
mod suites;

use std::hint::black_box;

use ee2e::SuiteKind;
use ee2e::sqlite::SqliteStore;
use ee2e::suite::hazmat::{cbc_decrypt_blocks, cbc_encrypt_blocks};
use ee2e::suite::seeded_rng;
use ee2e::suites::SuiteUnavailable;
use ee2e::{Bytes, ConcreteSuite as S};
use ee2e_spec::{Fix, Input, MemoryStore, Params, Profile, SigScheme, Suite};

use self::openssl::{Op, OpenSsl};
pub use self::report::Report;
use self::report::Row;
use crate::timing::{Clock, Plan, Stats, measure, measure_each};
use crate::{
    DirectoryFixture, FixtureError, PROFILES, RSA_BITS, RegistrationFixture, SIZES, SessionPair,
    TransportFixture, directory_server, generate_key, lookup, plaintext, raw, seal_lengths,
};

/// What a comparison times and how.
#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// Shorter measurements (5 batches of 40 ms, one sample of the slow operations).
    pub quick: bool,
    /// The clock both sides are timed with.
    pub clock: Clock,
    /// The OpenSSL binary.
    pub openssl: String,
    /// `openssl speed -seconds`.
    pub seconds: u32,
    /// Only the operations whose name contains one of these texts (none: every one).
    pub only: Vec<String>,
    /// The suites whose primitives are compared side by side.
    pub suites: Vec<SuiteKind>,
}

/// Why a comparison could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CompareError {
    /// A suite this build does not have.
    #[error(transparent)]
    Suite(#[from] SuiteUnavailable),
    /// OpenSSL cannot be run.
    #[error("cannot run {0:?} (`openssl version` failed); is OpenSSL installed?")]
    NoOpenSsl(String),
}

/// Times every operation (whose name contains one of `only`, if any) and its OpenSSL
/// equivalent; `out` receives the table as it is measured, a line at a time, and every
/// failure. Returns the report and whether an operation or OpenSSL failed.
pub fn compare(options: &CompareOptions, out: &mut dyn FnMut(&str)) -> Result<(Report, bool), CompareError> {
    let mut all = specs();
    for kind in &options.suites {
        all.extend(suites::specs(*kind)?);
    }
    let quick = options.quick;
    let plan = Plan { clock: options.clock, ..if quick { Plan::QUICK } else { Plan::DEFAULT } };
    let samples = if quick { 1 } else { 5 };
    let mut openssl =
        OpenSsl::new(&options.openssl, options.seconds, options.clock, if quick { 1 } else { 3 });
    if !openssl.available() {
        return Err(CompareError::NoOpenSsl(options.openssl.clone()));
    }
    let mut report = Report::new(plan, samples, &openssl);
    out(&report.preamble_text());
    let mut failed = false;
    for spec in all {
        if !options.only.is_empty() && !options.only.iter().any(|text| spec.name.contains(text.as_str())) {
            continue;
        }
        let ours = match (spec.ours)(plan, samples) {
            Ok(stats) => stats,
            Err(error) => {
                out(&format!("{}: {error}", spec.name));
                failed = true;
                continue;
            }
        };
        for (suffix, reference) in &spec.references {
            let mut total = 0.0;
            let mut problem = None;
            for op in reference {
                match openssl.ns(*op) {
                    Ok(ns) => total += ns,
                    Err(error) => problem = Some(error),
                }
            }
            if let Some(error) = &problem {
                out(&format!("{}: OpenSSL: {error}", spec.name));
                failed = true;
            }
            let row = Row {
                name: format!("{}{suffix}", spec.name),
                group: spec.group,
                ours,
                openssl_ns: if problem.is_none() && !reference.is_empty() { Some(total) } else { None },
                equivalent: reference.iter().map(|op| op.describe()).collect::<Vec<_>>().join(" + "),
                note: spec.note.clone(),
            };
            out(&row.text());
            report.rows.push(row);
        }
    }
    report.finish(&openssl);
    out("");
    out(&report.targets_text());
    Ok((report, failed))
}

/// How one of our operations is timed.
type Timer = Box<dyn Fn(Plan, usize) -> Result<Stats, FixtureError>>;

/// One of our operations and what it is compared with.
struct Spec {
    name: String,
    group: &'static str,
    ours: Timer,
    /// Row-name suffix and the OpenSSL operations whose times add up to the equivalent;
    /// one row each (an empty list: no OpenSSL equivalent).
    references: Vec<(&'static str, Vec<Op>)>,
    note: String,
}

impl Spec {
    fn new(name: String, group: &'static str, reference: Vec<Op>, ours: Timer) -> Self {
        Spec { name, group, ours, references: vec![("", reference)], note: String::new() }
    }

    fn note(mut self, note: &str) -> Self {
        self.note = note.to_string();
        self
    }
}

/// Times `f` with the in-process loop.
fn timed(plan: Plan, mut f: impl FnMut() -> Result<(), FixtureError>) -> Result<Stats, FixtureError> {
    f()?;
    let mut error = None;
    let stats = measure(plan, || {
        if let Err(e) = f() {
            error = Some(e);
        }
    });
    error.map_or(Ok(stats), Err)
}

/// Times `f` once per sample (slow operations).
fn timed_each(
    plan: Plan,
    samples: usize,
    mut f: impl FnMut() -> Result<(), FixtureError>,
) -> Result<Stats, FixtureError> {
    let mut error = None;
    let stats = measure_each(plan.clock, samples, || {
        if let Err(e) = f() {
            error = Some(e);
        }
    });
    error.map_or(Ok(stats), Err)
}

fn padded(len: usize) -> usize {
    (len / 16 + 1) * 16
}

/// Length of the hardened ACK MAC input: ("EE2E-v2 ack", sid, direction, seq, tag).
const HARDENED_ACK_INPUT: usize = 5 * 4 + 11 + 32 + 1 + 8 + 32;

/// Every comparison, in report order.
fn specs() -> Vec<Spec> {
    let mut specs = Vec::new();
    // ---- primitives ----
    for (size, len) in SIZES {
        specs.push(
            Spec::new(format!("aes-256-cbc encrypt {size} raw"), "primitive", vec![Op::AesEncrypt(len)], {
                Box::new(move |plan, _| {
                    let key = S::cipher_key(&Bytes::secret(vec![7; 32]))?;
                    let mut buffer = vec![0x42u8; len];
                    timed(plan, || Ok(cbc_encrypt_blocks(&key, &[9; 16], black_box(&mut buffer))?))
                })
            })
            .note("ee2e::suite::hazmat::cbc_encrypt_blocks in place: the suite's CBC loop"),
        );
        specs.push(
            Spec::new(
                format!("aes-256-cbc encrypt {size} suite"),
                "primitive",
                vec![Op::AesEncrypt(padded(len))],
                {
                    Box::new(move |plan, _| {
                        let key = S::cipher_key(&Bytes::secret(vec![7; 32]))?;
                        let (iv, message) = (Bytes::public(vec![9; 16]), plaintext(len));
                        timed(plan, || {
                            black_box(S::encrypt(&key, &iv, black_box(&message))?);
                            Ok(())
                        })
                    })
                },
            )
            .note("ConcreteSuite::encrypt: PKCS#7 adds a block, output allocated"),
        );
        specs.push(
            Spec::new(
                format!("aes-256-cbc encrypt {size} cbc-crate"),
                "primitive",
                vec![Op::AesEncrypt(len)],
                {
                    Box::new(move |plan, _| {
                        let cipher = raw::aes_key(&[7; 32]);
                        let mut buffer = vec![0x42u8; len];
                        timed(plan, || {
                            raw::aes_cbc_encrypt(&cipher, &[9; 16], black_box(&mut buffer));
                            Ok(())
                        })
                    })
                },
            )
            .note("cbc::Encryptor in place (the suite's loop before this change)"),
        );
        specs.push(
            Spec::new(
                format!("aes-256-cbc decrypt {size} suite"),
                "primitive",
                vec![Op::AesDecrypt(padded(len))],
                {
                    Box::new(move |plan, _| {
                        let key = S::cipher_key(&Bytes::secret(vec![7; 32]))?;
                        let iv = Bytes::public(vec![9; 16]);
                        let ciphertext = S::encrypt(&key, &iv, &plaintext(len))?;
                        timed(plan, || {
                            black_box(S::decrypt(&key, &iv, black_box(&ciphertext))?);
                            Ok(())
                        })
                    })
                },
            )
            .note("ConcreteSuite::decrypt: output allocated, unpadded, zeroized on drop"),
        );
        specs.push(
            Spec::new(format!("aes-256-cbc decrypt {size} raw"), "primitive", vec![Op::AesDecrypt(len)], {
                Box::new(move |plan, _| {
                    let key = S::cipher_key(&Bytes::secret(vec![7; 32]))?;
                    let (input, mut output) = (vec![0x42u8; len], vec![0u8; len]);
                    timed(plan, || Ok(cbc_decrypt_blocks(&key, &[9; 16], black_box(&input), &mut output)?))
                })
            })
            .note("ee2e::suite::hazmat::cbc_decrypt_blocks: cbc::Decryptor buffer to buffer"),
        );
        specs.push(
            Spec::new(
                format!("aes-256-cbc decrypt {size} cbc-crate"),
                "primitive",
                vec![Op::AesDecrypt(len)],
                {
                    Box::new(move |plan, _| {
                        let cipher = raw::aes_key(&[7; 32]);
                        let mut buffer = vec![0x42u8; len];
                        timed(plan, || {
                            raw::aes_cbc_decrypt(&cipher, &[9; 16], black_box(&mut buffer));
                            Ok(())
                        })
                    })
                },
            )
            .note("cbc::Decryptor in place (what the suite runs, buffer to buffer)"),
        );
        specs.push(
            Spec::new(format!("hmac-sha256 {size}"), "primitive", vec![Op::Hmac(len)], {
                Box::new(move |plan, _| {
                    let key = S::mac_key(&Bytes::secret(vec![8; 32]));
                    let message = plaintext(len);
                    timed(plan, || {
                        black_box(S::hmac(&key, Input::Raw(black_box(&message))));
                        Ok(())
                    })
                })
            })
            .note("ConcreteSuite::hmac, prepared key"),
        );
        specs.push(
            Spec::new(format!("sha256 {size}"), "primitive", vec![Op::Sha256(len)], {
                Box::new(move |plan, _| {
                    let message = plaintext(len);
                    timed(plan, || {
                        black_box(S::sha256(Input::Raw(black_box(&message))));
                        Ok(())
                    })
                })
            })
            .note("ConcreteSuite::sha256"),
        );
    }
    // ---- seal and open ----
    for (size, len) in SIZES {
        for (profile_name, profile) in PROFILES {
            let (aes, mac) = seal_lengths(profile, len);
            let mut seal = Spec::new(format!("seal {size} {profile_name}"), "message", vec![], {
                Box::new(move |plan, _| {
                    let mut pair = SessionPair::new(profile)?;
                    let message = plaintext(len);
                    timed(plan, || {
                        black_box(pair.seal(black_box(&message))?);
                        Ok(())
                    })
                })
            })
            .note("IV draw + Session::seal (the ACK names the message by its MAC: no digest)");
            seal.references = vec![("", vec![Op::AesEncrypt(aes), Op::Hmac(mac)])];
            specs.push(seal);
            let mut open = Spec::new(format!("open {size} {profile_name}"), "message", vec![], {
                Box::new(move |plan, _| {
                    let mut pair = SessionPair::new(profile)?;
                    let sealed = pair.seal(&plaintext(len))?;
                    timed(plan, || {
                        black_box(pair.open(black_box(&sealed))?);
                        Ok(())
                    })
                })
            })
            .note("Session::open (the ACK names the message by its MAC: no digest)");
            open.references = vec![("", vec![Op::AesDecrypt(aes), Op::Hmac(mac)])];
            specs.push(open);
        }
    }
    // ---- ACK ----
    for (profile_name, profile) in PROFILES {
        let ack_input = if profile.has(Fix::AckBinding) { HARDENED_ACK_INPUT } else { 3 };
        for verify in [false, true] {
            let verb = if verify { "verify" } else { "create" };
            specs.push(Spec::new(
                format!("ack {verb} {profile_name}"),
                "message",
                vec![Op::Hmac(ack_input)],
                {
                    Box::new(move |plan, _| {
                        let mut pair = SessionPair::new(profile)?;
                        let sealed = pair.seal(&plaintext(1024))?;
                        let opened = pair.open(&sealed)?;
                        let ack = pair.ack(&opened);
                        timed(plan, || {
                            if verify {
                                pair.verify_ack(black_box(&ack))
                            } else {
                                black_box(pair.ack(black_box(&opened)));
                                Ok(())
                            }
                        })
                    })
                },
            ));
        }
    }
    // ---- RSA ----
    for bits in RSA_BITS {
        specs.push(
            Spec::new(format!("rsa sign {bits}"), "rsa", vec![Op::RsaPrivate(bits)], {
                Box::new(move |plan, _| {
                    let (key, _) = crate::key_pair(bits)?;
                    let (message, mut rng) =
                        (Bytes::public(b"directory entry".to_vec()), seeded_rng([1; 32]));
                    timed(plan, || {
                        black_box(S::sign(&key, SigScheme::Pkcs1v15Sha256, Input::Raw(&message), &mut rng)?);
                        Ok(())
                    })
                })
            })
            .note("PKCS#1 v1.5 SHA-256 (one private-key op, blinded)"),
        );
        specs.push(
            Spec::new(format!("rsa verify {bits}"), "rsa", vec![Op::RsaPublic(bits)], {
                Box::new(move |plan, _| {
                    let (key, _) = crate::key_pair(bits)?;
                    let (message, mut rng) =
                        (Bytes::public(b"directory entry".to_vec()), seeded_rng([1; 32]));
                    let scheme = SigScheme::Pkcs1v15Sha256;
                    let signature = S::sign(&key, scheme, Input::Raw(&message), &mut rng)?;
                    let public = S::public_key(&key);
                    timed(plan, || Ok(S::verify(&public, scheme, Input::Raw(&message), &signature)?))
                })
            })
            .note("PKCS#1 v1.5 SHA-256, key parsed and checked each time"),
        );
        for (profile_name, profile) in PROFILES {
            specs.push(
                Spec::new(
                    format!("key_transport send {profile_name} {bits}"),
                    "rsa",
                    vec![Op::RsaPublic(bits), Op::RsaPrivate(bits)],
                    Box::new(move |plan, _| {
                        let mut fixture = TransportFixture::new(profile, bits)?;
                        timed(plan, || {
                            black_box(fixture.send()?);
                            Ok(())
                        })
                    }),
                )
                .note("OAEP encrypt (public op) + sign (private op)"),
            );
            specs.push(
                Spec::new(
                    format!("key_transport receive {profile_name} {bits}"),
                    "rsa",
                    vec![Op::RsaPublic(bits), Op::RsaPrivate(bits)],
                    Box::new(move |plan, _| {
                        let mut fixture = TransportFixture::new(profile, bits)?;
                        let prepared = fixture.prepared.clone();
                        timed(plan, || {
                            black_box(fixture.receive(&prepared)?);
                            Ok(())
                        })
                    }),
                )
                .note("verify (public op) + OAEP decrypt (private op)"),
            );
            specs.push(Spec::new(
                format!("directory sign {profile_name} {bits}"),
                "rsa",
                vec![Op::RsaPrivate(bits)],
                Box::new(move |plan, _| {
                    let mut fixture = DirectoryFixture::new(profile, bits)?;
                    timed(plan, || {
                        black_box(fixture.sign()?);
                        Ok(())
                    })
                }),
            ));
            specs.push(Spec::new(
                format!("directory verify {profile_name} {bits}"),
                "rsa",
                vec![Op::RsaPublic(bits)],
                Box::new(move |plan, _| {
                    let fixture = DirectoryFixture::new(profile, bits)?;
                    timed(plan, || fixture.verify(&fixture.entry))
                }),
            ));
        }
    }
    for (store, sqlite) in [("memory", false), ("sqlite", true)] {
        specs.push(
            Spec::new(
                format!("directory lookup hardened {store}"),
                "rsa",
                vec![],
                Box::new(move |plan, _| {
                    let mut rng = seeded_rng([1; 32]);
                    if sqlite {
                        let store = SqliteStore::in_memory(Profile::HARDENED.wire())
                            .map_err(|e| FixtureError::Server(e.to_string()))?;
                        let mut server = directory_server(Profile::HARDENED, store, 8)?;
                        timed(plan, || lookup(&mut server, &mut rng).map(drop))
                    } else {
                        let mut server = directory_server(Profile::HARDENED, MemoryStore::default(), 8)?;
                        timed(plan, || lookup(&mut server, &mut rng).map(drop))
                    }
                }),
            )
            .note("Server::handle(KeyRequest): serves the stored signature, no private-key op"),
        );
    }
    // ---- key generation, PBKDF2, registration ----
    for bits in RSA_BITS {
        specs.push(
            Spec::new(
                format!("keygen {bits}"),
                "slow",
                vec![Op::Keygen(bits)],
                Box::new(move |plan, samples| {
                    let mut rng = seeded_rng([4; 32]);
                    timed_each(plan, samples, || generate_key(bits, &mut rng).map(drop))
                }),
            )
            .note("very noisy (prime search); OpenSSL figure includes process start"),
        );
    }
    let iterations = Params::default().pbkdf2_iterations;
    specs.push(
        Spec::new(
            format!("pbkdf2-sha256 {iterations}"),
            "slow",
            vec![Op::Pbkdf2(iterations)],
            Box::new(move |plan, samples| {
                let (password, salt) = (Bytes::secret(b"314159".to_vec()), Bytes::public(vec![0; 32]));
                timed_each(plan, samples, || {
                    black_box(S::pbkdf2(&password, &salt, iterations));
                    Ok(())
                })
            }),
        )
        .note("OpenSSL figure includes process start"),
    );
    for (profile_name, profile) in PROFILES {
        let hardened = profile.has(Fix::SealedTag);
        let client = if hardened {
            vec![Op::Pbkdf2(iterations), Op::RsaPublic(2048), Op::RsaPrivate(2048)]
        } else {
            vec![Op::Pbkdf2(iterations)]
        };
        let server = if hardened {
            vec![Op::Pbkdf2(iterations), Op::RsaPublic(2048), Op::RsaPrivate(2048), Op::RsaPrivate(2048)]
        } else {
            vec![Op::Pbkdf2(iterations), Op::RsaPrivate(2048)]
        };
        specs.push(
            Spec::new(
                format!("registration client {profile_name} 2048"),
                "slow",
                client,
                Box::new(move |plan, samples| {
                    let fixture = RegistrationFixture::new(profile, Params::default(), 2048)?;
                    let mut rng = seeded_rng([2; 32]);
                    timed_each(plan, samples, || {
                        let mut client = fixture.awaiting_otp()?;
                        fixture.client_submit(&mut client, &mut rng).map(drop)
                    })
                }),
            )
            .note(if hardened {
                "PBKDF2 + OAEP-seal the tag + sign possession"
            } else {
                "PBKDF2 + 2 HMACs"
            }),
        );
        specs.push(
            Spec::new(
                format!("registration server {profile_name} 2048"),
                "slow",
                server,
                Box::new(move |plan, samples| {
                    let fixture = RegistrationFixture::new(profile, Params::default(), 2048)?;
                    let mut rng = seeded_rng([3; 32]);
                    timed_each(plan, samples, || {
                        let mut server = fixture.server_with_pending_otp()?;
                        fixture.server_accept(&mut server, fixture.submission.clone(), &mut rng).map(drop)
                    })
                }),
            )
            .note(if hardened {
                "verify possession + OAEP-unseal + PBKDF2 + sign entry"
            } else {
                "PBKDF2 + sign entry"
            }),
        );
    }
    specs
}
