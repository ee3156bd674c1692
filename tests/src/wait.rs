//! Bounded waits for async tests: every step of a test has [`WAIT`] to finish, so a bug makes
//! the test fail instead of hanging.

use std::future::IntoFuture;
use std::time::Duration;

/// The longest any single step of a test may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// Awaits `future` (or anything that turns into one, such as a builder), failing the test
/// with `what` if it takes longer than [`WAIT`].
///
/// # Panics
/// When `future` is not done within [`WAIT`].
pub async fn within<F: IntoFuture>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing within {WAIT:?}"))
}
