//! Shared bits of the examples.

/// The server the examples connect to: `NATS_URL`, or a local server on the default port.
pub fn nats_url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}
