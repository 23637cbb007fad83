//! Errors of the generator and the verifier.

use std::path::PathBuf;

/// Why vectors could not be generated or read. A test whose outcome differs from the file is
/// not an error but a failure ([`crate::Failure`]); these are problems with the files
/// themselves or with the directory.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VectorError {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not valid JSON of the schema (outside any test).
    #[error("{file}: {message}")]
    Format {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A test is malformed: a missing or unknown field, bad hex, an unknown party, a phone
    /// number that does not parse, a missing key, …
    #[error("{file} tcId {tc_id}: {message}")]
    Test {
        /// The file.
        file: String,
        /// The test (0 if the test has no readable `tcId`).
        tc_id: u32,
        /// What is wrong.
        message: String,
    },
    /// A vector file the reference generates is missing from the directory.
    #[error("{}: missing vector file {name} (run `ee2e vectors generate` to create it)", dir.display())]
    MissingFile {
        /// The directory.
        dir: PathBuf,
        /// The file name.
        name: String,
    },
    /// The generator's scenario and the implementation disagree: a test meant to fail with
    /// one error fails with another, or a setup step fails. Generation stops; this is a bug
    /// in the implementation or in the scenario.
    #[error("generating {file}: {message}")]
    Generate {
        /// The file being generated.
        file: String,
        /// What disagreed.
        message: String,
    },
    /// The suite asked for is not in this build (`--features aws-lc`).
    #[error(transparent)]
    Unavailable(#[from] ee2e::suites::SuiteUnavailable),
}
