//! Paths of the committed files, in the source tree these tests were compiled from (the
//! library resolves nothing at compile time: its callers pass their directories).

use std::path::{Path, PathBuf};

/// `conformance/vectors/`.
pub fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

/// `conformance/COVERAGE.md`.
#[allow(dead_code)] // not every test file reads the map
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("COVERAGE.md")
}
