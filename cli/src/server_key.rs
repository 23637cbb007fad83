//! The server's signing key for `ee2e serve` and `ee2e serve-queue`: a PKCS#8 PEM file
//! (`--server-key`), or a fresh RSA-2048 key generated at startup (`--generate-server-key`).
//! There is no default: the committed test keys (`ee2e-fixtures`) are public. Also reads the
//! clients' `--key` files ([`read_private_key`]).

use std::path::PathBuf;

use clap::Args;
use ee2e::PrivateKey;
use ee2e::suite::os_rng;

/// Where the server key comes from (exactly one of the two is required).
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ServerKeyArgs {
    /// The server's RSA private key, PKCS#8 PEM (required unless --generate-server-key).
    #[arg(long, value_name = "PEM")]
    pub server_key: Option<PathBuf>,
    /// Generate a fresh RSA-2048 server key at startup instead of --server-key (kept in memory
    /// only: a restart has another key, which the clients must pin anew).
    #[arg(long)]
    pub generate_server_key: bool,
}

impl ServerKeyArgs {
    /// Reads the key file or generates a key; `command` names the command in the note on
    /// standard error that a key was generated (the key itself is never printed).
    pub fn load(&self, command: &str) -> Result<PrivateKey, String> {
        match &self.server_key {
            Some(path) => read_private_key(path),
            None => {
                let key = PrivateKey::generate(2048, &mut os_rng())
                    .map_err(|e| format!("cannot generate a server key: {e}"))?;
                eprintln!("{command}: generated a fresh RSA-2048 server key (not saved; lost at exit)");
                Ok(key)
            }
        }
    }
}

/// Reads an RSA private key from a PKCS#8 PEM file (the text is zeroized once parsed);
/// errors name the file.
pub(crate) fn read_private_key(path: &std::path::Path) -> Result<PrivateKey, String> {
    let pem = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
    );
    PrivateKey::from_pkcs8_pem(&pem).map_err(|e| format!("{}: {e}", path.display()))
}
