//! [`ErrorHandlingLayer`]: applies [`ErrorHandling`](super::ErrorHandling).

use tower::Layer;

use super::ErrorHandling;
use crate::error::ServiceError;

/// Applies [`ErrorHandling`](super::ErrorHandling): failures and panics of the wrapped service
/// become a service error with the code and description given here.
#[derive(Debug, Clone)]
pub struct ErrorHandlingLayer {
    error: ServiceError,
}

impl ErrorHandlingLayer {
    /// Failures become `500` errors described by `description`.
    pub fn new(description: impl Into<String>) -> Self {
        Self::with_error(ServiceError::internal(description))
    }

    /// Failures become `error`.
    pub fn with_error(error: ServiceError) -> Self {
        ErrorHandlingLayer { error }
    }
}

impl Default for ErrorHandlingLayer {
    /// Failures become `500` errors described as `internal error`.
    fn default() -> Self {
        Self::new("internal error")
    }
}

impl<S> Layer<S> for ErrorHandlingLayer {
    type Service = ErrorHandling<S>;

    fn layer(&self, inner: S) -> ErrorHandling<S> {
        ErrorHandling::new(inner, self.error.clone())
    }
}
