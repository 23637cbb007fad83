//! # ee2e-net — EE2E over TCP
//!
//! The reference server's network front end and client driver (SPEC.md §2.5, "TCP binding"):
//! the sans-IO [`Server`](ee2e_spec::Server) and [`Client`](ee2e_spec::Client) of `ee2e-spec`
//! behind length-prefixed frames on TCP, with tokio. [`host`] is the transport-independent part
//! (also used by `ee2e serve-queue`), [`frame`] the frames, [`server`] the front end and
//! [`client`] a client's connection.
#![deny(missing_docs)]

pub mod client;
mod conn;
pub mod driver;
pub mod frame;
pub mod host;
pub mod load;
pub mod mitm;
mod router;
pub mod server;
