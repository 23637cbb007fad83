//! What the TCP front-end tests share: a hardened server on a free port, and the frame
//! layout (SPEC.md §2.5).

use std::time::Duration;

use ee2e::otp::ChannelOtp;
use ee2e::sqlite::SqliteStore;
use ee2e::suite::os_rng;
use ee2e_fixtures as fixtures;
use ee2e_net::host::Host;
use ee2e_net::server::{self, Limits, Running};
use ee2e_spec::{Params, Profile};

/// How long a test waits for an answer the server owes it.
pub const WAIT: Duration = Duration::from_secs(5);

/// A hardened server with an empty in-memory store on 127.0.0.1, under `limits`.
pub async fn start(limits: Limits) -> Running {
    let store = SqliteStore::in_memory(Profile::HARDENED.wire()).expect("store");
    let host = Host::new(Profile::HARDENED, Params::default(), fixtures::server_key(), store, os_rng());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let (otp, _inbox) = ChannelOtp::new();
    server::start(listener, host, Box::new(otp), limits)
}

/// `payload` as one frame: its length as a big-endian u32, then the bytes.
pub fn framed(payload: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(payload.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}
