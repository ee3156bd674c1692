//! Tower middleware for endpoints, one module per middleware as tower arranges its own.
//!
//! Any tower middleware applies to endpoints (concurrency limits, timeouts, rate limits,
//! tracing); these are the ones specific to the Service API.

pub mod error_handling;

pub use error_handling::{ErrorHandling, ErrorHandlingLayer};
