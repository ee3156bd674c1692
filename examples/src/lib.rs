//! Shared bits of the examples: the server to connect to, the user service of the
//! documentation ([`users`]), serving until a signal ([`serve_until_signal`]), the table
//! of running services ([`services_table`]) that the `services` binary and the demo print,
//! and the synchronous sensor pipeline of the `sensors` binary ([`sensors`]).

pub mod sensors;
pub mod services_table;
mod signal;
pub mod users;

pub use signal::{serve_until_signal, shutdown_signal};

/// The Rust examples of the workspace's README, compiled as doctests so that they stay true:
/// this crate depends on every other, so each block can use any of them.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The server the examples connect to: `NATS_URL`, or a local server on the default port.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}
