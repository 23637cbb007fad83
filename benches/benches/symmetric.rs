//! Criterion benchmarks of the per-message hot path: seal and open at 64 B, 1 KiB and 64 KiB
//! in both profiles, ACK create and verify, and the raw primitives they are built from.
//!
//! Groups are named by phase and size (`seal/1KiB`), with one benchmark per profile
//! (`seal/1KiB/hardened`); throughput is the plaintext size in bytes.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ee2e::Bytes;
use ee2e::suite::hazmat::{cbc_decrypt_blocks, cbc_encrypt_blocks};
use ee2e_benches::{PROFILES, S, SIZES, SessionPair, plaintext, raw};
use ee2e_spec::Suite;

fn seal_and_open(c: &mut Criterion) {
    for (size_name, len) in SIZES {
        let message = plaintext(len);
        let mut group = c.benchmark_group(format!("seal/{size_name}"));
        group.throughput(Throughput::Bytes(len as u64));
        for (profile_name, profile) in PROFILES {
            let mut pair = SessionPair::new(profile).expect("session pair");
            group.bench_function(profile_name, |b| {
                b.iter(|| black_box(pair.seal(black_box(&message)).expect("seal")))
            });
        }
        group.finish();

        let mut group = c.benchmark_group(format!("open/{size_name}"));
        group.throughput(Throughput::Bytes(len as u64));
        for (profile_name, profile) in PROFILES {
            let mut pair = SessionPair::new(profile).expect("session pair");
            let sealed = pair.seal(&message).expect("seal");
            group.bench_function(profile_name, |b| {
                b.iter(|| black_box(pair.open(black_box(&sealed)).expect("open")))
            });
        }
        group.finish();
    }
}

fn ack(c: &mut Criterion) {
    for (phase, verify) in [("ack/create", false), ("ack/verify", true)] {
        let mut group = c.benchmark_group(phase);
        group.throughput(Throughput::Elements(1));
        for (profile_name, profile) in PROFILES {
            let mut pair = SessionPair::new(profile).expect("session pair");
            let sealed = pair.seal(&plaintext(1024)).expect("seal");
            let opened = pair.open(&sealed).expect("open");
            let ack = pair.ack(&opened);
            if verify {
                group.bench_function(profile_name, |b| {
                    b.iter(|| pair.verify_ack(black_box(&ack)).expect("ACK verifies"))
                });
            } else {
                group.bench_function(profile_name, |b| b.iter(|| black_box(pair.ack(black_box(&opened)))));
            }
        }
        group.finish();
    }
}

fn primitives(c: &mut Criterion) {
    let cipher = raw::aes_key(&[7; 32]);
    let mac = raw::hmac_key(&[8; 32]);
    let iv = [9; 16];
    for (size_name, len) in SIZES {
        let mut group = c.benchmark_group(format!("primitive/{size_name}"));
        group.throughput(Throughput::Bytes(len as u64));
        let mut buffer = vec![0x42u8; len];
        // The suite's CBC loop (what `ConcreteSuite::encrypt` runs after padding).
        let suite_key = S::cipher_key(&Bytes::secret(vec![7; 32])).expect("key");
        group.bench_function("aes-256-cbc-encrypt", |b| {
            b.iter(|| cbc_encrypt_blocks(&suite_key, &iv, black_box(&mut buffer)).expect("whole blocks"))
        });
        // The `cbc` crate's loop, for comparison.
        group.bench_function("aes-256-cbc-encrypt-cbc-crate", |b| {
            b.iter(|| raw::aes_cbc_encrypt(&cipher, &iv, black_box(&mut buffer)))
        });
        let mut output = vec![0u8; len];
        group.bench_function("aes-256-cbc-decrypt", |b| {
            b.iter(|| {
                cbc_decrypt_blocks(&suite_key, &iv, black_box(&buffer), &mut output).expect("whole blocks")
            })
        });
        group.bench_function("aes-256-cbc-decrypt-cbc-crate", |b| {
            b.iter(|| raw::aes_cbc_decrypt(&cipher, &iv, black_box(&mut buffer)))
        });
        // The suite's own encrypt/decrypt: PKCS#7 padding (one more block) and the output
        // allocation included.
        let key = S::cipher_key(&Bytes::secret(vec![7; 32])).expect("key");
        let (iv_value, message) = (Bytes::public(iv.to_vec()), plaintext(len));
        let ciphertext = S::encrypt(&key, &iv_value, &message).expect("encrypt");
        group.bench_function("suite-encrypt", |b| {
            b.iter(|| black_box(S::encrypt(&key, &iv_value, black_box(&message)).expect("encrypt")))
        });
        group.bench_function("suite-decrypt", |b| {
            b.iter(|| black_box(S::decrypt(&key, &iv_value, black_box(&ciphertext)).expect("decrypt")))
        });
        group.bench_function("hmac-sha256", |b| {
            b.iter(|| black_box(raw::hmac_sha256(&mac, black_box(&buffer))))
        });
        group.bench_function("sha256", |b| b.iter(|| black_box(raw::sha256(black_box(&buffer)))));
        group.finish();
    }
}

criterion_group!(benches, seal_and_open, ack, primitives);
criterion_main!(benches);
