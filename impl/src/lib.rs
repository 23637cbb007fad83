//! # ee2e — the concrete implementation of EE2E
//!
//! The protocol core of `ee2e-spec`, run on real bytes: [`ConcreteSuite`] (RustCrypto RSA,
//! AES-256-CBC, HMAC/PBKDF2/HKDF-SHA-256) and, with the `aws-lc` feature, the same on AWS-LC
//! (`suite_aws_lc`; choosing one at run time: [`suites`]), the binary wire [`codec`], the server's SQLite
//! [`store`](sqlite), the client [`keystore`], OTP delivery, and an in-process [`runtime`]
//! with network taps.
#![deny(missing_docs)]

pub mod codec;
pub mod fixtures;
pub mod keystore;
pub mod otp;
pub mod runtime;
pub mod sqlite;
pub mod suite;
#[cfg(feature = "aws-lc")]
pub mod suite_aws_lc;
pub mod suites;
pub mod value;

pub use suite::{ConcreteSuite, PrivateKey, Rng};
#[cfg(feature = "aws-lc")]
pub use suite_aws_lc::AwsLcSuite;
pub use suites::{BytesSuite, SuiteKind};
pub use value::Bytes;
