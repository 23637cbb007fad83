//! The concrete suites, and choosing one at run time.
//!
//! [`BytesSuite`] is what the concrete suites have in common beyond [`Suite`]: [`Bytes`]
//! values, the [`Rng`] stream, PKCS#8 PEM private keys. Code that runs on either (the
//! conformance runner, the benchmarks) is generic over it and is handed the suite a user
//! chose through [`SuiteKind::run`], which is the only place that knows which suites this
//! build has: [`ConcreteSuite`] always, `AwsLcSuite` with
//! the `aws-lc` feature (enabled by whichever crate of the build asks for it).

use std::fmt;

use ee2e_spec::Suite;

use crate::suite::{ConcreteSuite, KeyError, Rng};
use crate::value::Bytes;

/// A concrete suite: protocol values are [`Bytes`] and randomness is [`Rng`].
pub trait BytesSuite: Suite<Value = Bytes, Rng = Rng> {
    /// Which suite this is.
    const KIND: SuiteKind;

    /// Parses a PKCS#8 PEM RSA private key for this suite.
    ///
    /// # Errors
    /// [`KeyError::Parse`] if the suite refuses the text or the key.
    fn private_key_from_pem(pem: &str) -> Result<Self::PrivateKey, KeyError>;

    /// The key as PKCS#8 PEM, in memory that is zeroized on drop.
    fn private_key_to_pem(key: &Self::PrivateKey) -> zeroize::Zeroizing<String>;
}

impl BytesSuite for ConcreteSuite {
    const KIND: SuiteKind = SuiteKind::RustCrypto;

    fn private_key_from_pem(pem: &str) -> Result<Self::PrivateKey, KeyError> {
        crate::suite::PrivateKey::from_pkcs8_pem(pem)
    }

    fn private_key_to_pem(key: &Self::PrivateKey) -> zeroize::Zeroizing<String> {
        key.to_pkcs8_pem()
    }
}

#[cfg(feature = "aws-lc")]
impl BytesSuite for crate::suite_aws_lc::AwsLcSuite {
    const KIND: SuiteKind = SuiteKind::AwsLc;

    fn private_key_from_pem(pem: &str) -> Result<Self::PrivateKey, KeyError> {
        crate::suite_aws_lc::PrivateKey::from_pkcs8_pem(pem)
    }

    fn private_key_to_pem(key: &Self::PrivateKey) -> zeroize::Zeroizing<String> {
        key.to_pkcs8_pem()
    }
}

/// The concrete suites, whether or not this build has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SuiteKind {
    /// [`ConcreteSuite`]: RustCrypto's `rsa`, `aes`, `hmac`, `sha2`, `pbkdf2`, `hkdf`.
    RustCrypto,
    /// `AwsLcSuite`: AWS-LC through aws-lc-rs (cargo feature `aws-lc`).
    AwsLc,
}

/// A suite was asked for that this build does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this build has no {0} suite: build with `--features aws-lc`")]
pub struct SuiteUnavailable(pub SuiteKind);

/// Work to run on a suite chosen at run time (a generic closure, which Rust lacks).
pub trait SuiteTask {
    /// What the work returns.
    type Output;
    /// Runs the work on suite `S`.
    fn run<S: BytesSuite>(self) -> Self::Output;
}

impl SuiteKind {
    /// Every suite, the default first.
    pub const ALL: [SuiteKind; 2] = [SuiteKind::RustCrypto, SuiteKind::AwsLc];

    /// The name used on the command line and in reports: `rust-crypto` or `aws-lc`.
    pub fn name(self) -> &'static str {
        match self {
            SuiteKind::RustCrypto => "rust-crypto",
            SuiteKind::AwsLc => "aws-lc",
        }
    }

    /// Whether this build has the suite.
    pub fn is_available(self) -> bool {
        match self {
            SuiteKind::RustCrypto => true,
            SuiteKind::AwsLc => cfg!(feature = "aws-lc"),
        }
    }

    /// The suites this build has.
    pub fn available() -> Vec<SuiteKind> {
        Self::ALL.into_iter().filter(|k| k.is_available()).collect()
    }

    /// Runs `task` on the suite.
    ///
    /// # Errors
    /// [`SuiteUnavailable`] if this build does not have it.
    pub fn run<T: SuiteTask>(self, task: T) -> Result<T::Output, SuiteUnavailable> {
        match self {
            SuiteKind::RustCrypto => Ok(task.run::<ConcreteSuite>()),
            #[cfg(feature = "aws-lc")]
            SuiteKind::AwsLc => Ok(task.run::<crate::suite_aws_lc::AwsLcSuite>()),
            #[cfg(not(feature = "aws-lc"))]
            SuiteKind::AwsLc => {
                drop(task);
                Err(SuiteUnavailable(self))
            }
        }
    }
}

impl fmt::Display for SuiteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Name;

    impl SuiteTask for Name {
        type Output = SuiteKind;
        fn run<S: BytesSuite>(self) -> SuiteKind {
            S::KIND
        }
    }

    #[test]
    fn run_hands_the_task_the_suite_asked_for_or_says_it_is_missing() {
        assert_eq!(SuiteKind::RustCrypto.run(Name), Ok(SuiteKind::RustCrypto));
        let aws = SuiteKind::AwsLc.run(Name);
        if cfg!(feature = "aws-lc") {
            assert_eq!(aws, Ok(SuiteKind::AwsLc));
        } else {
            assert_eq!(aws, Err(SuiteUnavailable(SuiteKind::AwsLc)));
            assert_eq!(
                SuiteUnavailable(SuiteKind::AwsLc).to_string(),
                "this build has no aws-lc suite: build with `--features aws-lc`"
            );
        }
        assert_eq!(SuiteKind::available().contains(&SuiteKind::AwsLc), cfg!(feature = "aws-lc"));
    }

    #[test]
    fn names_are_the_command_line_ones() {
        assert_eq!(SuiteKind::ALL.map(SuiteKind::name), ["rust-crypto", "aws-lc"]);
        assert_eq!(SuiteKind::AwsLc.to_string(), "aws-lc");
    }
}
