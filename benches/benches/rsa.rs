//! Criterion benchmarks of the RSA-bound phases, at 2048 and 3072 bits: key transport (send:
//! encrypt + sign; receive: verify + decrypt), the directory signature (create, verify) and a
//! key lookup served from the store (no private-key operation), registration on each side
//! at the spec's 600 000 PBKDF2 iterations, and key generation.
//!
//! Benchmarks are named `<phase>/<profile>/<bits>`; throughput is one operation.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use ee2e::sqlite::SqliteStore;
use ee2e::suite::seeded_rng;
use ee2e_benches::{
    DirectoryFixture, PROFILES, RSA_BITS, RegistrationFixture, TransportFixture, directory_server,
    generate_key, lookup,
};
use ee2e_spec::{MemoryStore, Params, Profile};

fn key_transport(c: &mut Criterion) {
    let mut send = c.benchmark_group("key_transport/send");
    send.throughput(Throughput::Elements(1));
    for (name, profile) in PROFILES {
        for bits in RSA_BITS {
            let mut fixture = TransportFixture::new(profile, bits).expect("transport fixture");
            send.bench_function(format!("{name}/{bits}"), |b| {
                b.iter(|| black_box(fixture.send().expect("send")))
            });
        }
    }
    send.finish();
    let mut receive = c.benchmark_group("key_transport/receive");
    receive.throughput(Throughput::Elements(1));
    for (name, profile) in PROFILES {
        for bits in RSA_BITS {
            let mut fixture = TransportFixture::new(profile, bits).expect("transport fixture");
            let prepared = fixture.prepared.clone();
            receive.bench_function(format!("{name}/{bits}"), |b| {
                b.iter(|| black_box(fixture.receive(black_box(&prepared)).expect("receive")))
            });
        }
    }
    receive.finish();
}

fn directory(c: &mut Criterion) {
    for (phase, verify) in [("directory/sign", false), ("directory/verify", true)] {
        let mut group = c.benchmark_group(phase);
        group.throughput(Throughput::Elements(1));
        for (name, profile) in PROFILES {
            for bits in RSA_BITS {
                let mut fixture = DirectoryFixture::new(profile, bits).expect("directory fixture");
                if verify {
                    let entry = fixture.entry.clone();
                    group.bench_function(format!("{name}/{bits}"), |b| {
                        b.iter(|| fixture.verify(black_box(&entry)).expect("verify"))
                    });
                } else {
                    group.bench_function(format!("{name}/{bits}"), |b| {
                        b.iter(|| black_box(fixture.sign().expect("sign")))
                    });
                }
            }
        }
        group.finish();
    }
    // A key lookup serves the signature stored at registration: no private-key operation.
    let mut group = c.benchmark_group("directory/lookup");
    group.throughput(Throughput::Elements(1));
    let mut rng = seeded_rng([1; 32]);
    let mut memory = directory_server(Profile::HARDENED, MemoryStore::default(), 8).expect("server");
    group.bench_function("hardened/memory", |b| {
        b.iter(|| black_box(lookup(&mut memory, &mut rng).expect("lookup")))
    });
    let store = SqliteStore::in_memory(Profile::HARDENED.wire()).expect("sqlite");
    let mut sqlite = directory_server(Profile::HARDENED, store, 8).expect("server");
    group.bench_function("hardened/sqlite", |b| {
        b.iter(|| black_box(lookup(&mut sqlite, &mut rng).expect("lookup")))
    });
    group.finish();
}

fn registration(c: &mut Criterion) {
    let params = Params::default();
    for (phase, server_side) in [("registration/client", false), ("registration/server", true)] {
        let mut group = c.benchmark_group(phase);
        group.throughput(Throughput::Elements(1));
        // ~0.3 s per operation: ten flat samples of one iteration each.
        group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(8));
        for (name, profile) in PROFILES {
            let fixture = RegistrationFixture::new(profile, params, 2048).expect("registration fixture");
            let mut rng = seeded_rng([2; 32]);
            if server_side {
                group.bench_function(format!("{name}/2048"), |b| {
                    b.iter_batched(
                        || (fixture.server_with_pending_otp().expect("server"), fixture.submission.clone()),
                        |(mut server, submission)| {
                            black_box(
                                fixture.server_accept(&mut server, submission, &mut rng).expect("accepted"),
                            )
                        },
                        BatchSize::PerIteration,
                    )
                });
            } else {
                group.bench_function(format!("{name}/2048"), |b| {
                    b.iter_batched(
                        || fixture.awaiting_otp().expect("client"),
                        |mut client| {
                            black_box(fixture.client_submit(&mut client, &mut rng).expect("submitted"))
                        },
                        BatchSize::PerIteration,
                    )
                });
            }
        }
        group.finish();
    }
}

fn keygen(c: &mut Criterion) {
    let mut group = c.benchmark_group("keygen");
    group.throughput(Throughput::Elements(1));
    group.sampling_mode(SamplingMode::Flat).sample_size(10).measurement_time(Duration::from_secs(10));
    let mut rng = seeded_rng([4; 32]);
    for bits in RSA_BITS {
        group.bench_function(format!("rsa/{bits}"), |b| {
            b.iter(|| black_box(generate_key(bits, &mut rng).expect("key generation")))
        });
    }
    group.finish();
}

criterion_group!(benches, key_transport, directory, registration, keygen);
criterion_main!(benches);
