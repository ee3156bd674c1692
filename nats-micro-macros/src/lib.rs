//! Attribute macros (`#[service]`, `#[endpoint]`) for nats-micro. Arrive with their own issue.
