//! # ee2e — the concrete implementation of EE2E
//!
//! The protocol core of `ee2e-spec`, run on real bytes: [`ConcreteSuite`] (RustCrypto RSA,
//! AES-256-CBC, HMAC/PBKDF2/HKDF-SHA-256) and, with the `aws-lc` feature, the same on AWS-LC
//! (`suite_aws_lc`; choosing one at run time: [`suites`]), the binary wire [`codec`], the server's SQLite
//! store (`sqlite`, feature `sqlite`), the client keystore (`keystore`, feature `keystore`),
//! OTP delivery, and an in-process runtime with network taps (`runtime`, feature `runtime`).
//! The three features are on by default; without them the crate is the suites and the codec.
//! With `runtime`, [`demo`] is the scripted session `ee2e demo` prints.
#![deny(missing_docs)]

pub mod codec;
#[cfg(feature = "runtime")]
pub mod demo;
#[cfg(feature = "keystore")]
pub mod keystore;
pub mod otp;
#[cfg(feature = "runtime")]
pub mod runtime;
#[cfg(feature = "sqlite")]
pub mod sqlite;
pub mod suite;
#[cfg(feature = "aws-lc")]
pub mod suite_aws_lc;
pub mod suites;
pub mod value;

// The unit tests' keys: the source of `ee2e-fixtures` compiled into this crate's test build only
// (never into the library). A dev-dependency on that crate would link a second `ee2e`, whose
// types differ from this one's; `extern crate self` lets its `ee2e::` paths name this crate.
#[cfg(test)]
extern crate self as ee2e;
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../fixtures/src/lib.rs"]
mod fixtures;

pub use suite::{ConcreteSuite, PrivateKey, Rng};
#[cfg(feature = "aws-lc")]
pub use suite_aws_lc::AwsLcSuite;
pub use suites::{BytesSuite, SuiteKind};
pub use value::Bytes;
