//! [`ErrorHandling`]: middleware that turns every error and every panic of the service it wraps
//! into a `500` service error with a description of the user's choosing, and logs the cause.
//! The Rust shape of the `with_error_handling` middleware of nats-py's documentation.
//!
//! Errors a handler returns as replies (such as a deliberate `404`) are replies, not service
//! errors: they pass through untouched.
//!
//! ```
//! use nats_micro::layer::ErrorHandlingLayer;
//! use nats_micro::Request;
//! use tower::{service_fn, ServiceBuilder, ServiceExt};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let service = ServiceBuilder::new()
//!     .layer(ErrorHandlingLayer::new("something went wrong"))
//!     .service(service_fn(|_request: Request| async {
//!         Err::<String, _>(std::io::Error::other("disk on fire"))
//!     }));
//! let error = service.oneshot(Request::new("s", "")).await.unwrap_err();
//! assert_eq!((error.code.as_str(), error.description.as_str()), ("500", "something went wrong"));
//! # });
//! ```

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::task::{Context, Poll};

use tower::Service;

use crate::error::{BoxError, ServiceError};

mod future;
mod layer;

pub use future::ResponseFuture;
pub use layer::ErrorHandlingLayer;

/// Wraps a service: its errors and panics become a `500` [`ServiceError`] with `description`;
/// errors that already are a [`ServiceError`] go through unchanged.
#[derive(Debug, Clone)]
pub struct ErrorHandling<S> {
    inner: S,
    error: ServiceError,
}

impl<S> ErrorHandling<S> {
    /// Wraps `inner`; failures are answered with `error`.
    pub fn new(inner: S, error: ServiceError) -> Self {
        ErrorHandling { inner, error }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, R> Service<R> for ErrorHandling<S>
where
    S: Service<R>,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = ServiceError;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ServiceError>> {
        match panic::catch_unwind(AssertUnwindSafe(|| self.inner.poll_ready(cx))) {
            Ok(Poll::Ready(Ok(()))) => Poll::Ready(Ok(())),
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(Err(error))) => Poll::Ready(Err(failed(&self.error, error.into()))),
            Err(payload) => Poll::Ready(Err(panicked(&self.error, payload.as_ref()))),
        }
    }

    fn call(&mut self, request: R) -> Self::Future {
        match panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
            Ok(future) => ResponseFuture::new(future, self.error.clone()),
            Err(payload) => ResponseFuture::failed(panicked(&self.error, payload.as_ref())),
        }
    }
}

/// The error to answer for `cause`: a [`ServiceError`] is a deliberate answer (middleware
/// refusing a request, a handler's own error) and goes through unchanged; anything else is
/// logged and hidden behind the configured error.
pub(crate) fn failed(error: &ServiceError, cause: BoxError) -> ServiceError {
    match cause.downcast::<ServiceError>() {
        Ok(deliberate) => *deliberate,
        Err(cause) => {
            tracing::error!(error = %cause, "handler failed");
            error.clone()
        }
    }
}

/// Logs a panic and returns the configured error.
pub(crate) fn panicked(error: &ServiceError, payload: &(dyn Any + Send)) -> ServiceError {
    tracing::error!(panic = panic_message(payload), "handler panicked");
    error.clone()
}

/// The message of a panic, when it has one.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "panic without a message"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{handler_fn, Reply, Request};
    use tower::{service_fn, Layer, ServiceExt};

    #[tokio::test]
    async fn panics_become_the_configured_error() {
        let service = ErrorHandlingLayer::new("oops").layer(handler_fn(|| async {
            panic!("boom");
            #[allow(unreachable_code)]
            ()
        }));
        let error = service
            .oneshot(Request::new("s", ""))
            .await
            .expect_err("panicked");
        assert_eq!(error, ServiceError::internal("oops"));
    }

    #[tokio::test]
    async fn panics_in_call_are_caught_too() {
        #[derive(Clone)]
        struct PanicsInCall;
        impl Service<Request> for PanicsInCall {
            type Response = Reply;
            type Error = BoxError;
            type Future = std::future::Ready<Result<Reply, BoxError>>;
            fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
                Poll::Ready(Ok(()))
            }
            fn call(&mut self, _: Request) -> Self::Future {
                panic!("in call")
            }
        }
        let error = ErrorHandlingLayer::new("oops")
            .layer(PanicsInCall)
            .oneshot(Request::new("s", ""))
            .await
            .expect_err("panicked");
        assert_eq!(error.description, "oops");
    }

    #[tokio::test]
    async fn replies_pass_through() {
        let service = ErrorHandlingLayer::new("oops").layer(service_fn(|_: Request| async {
            Ok::<_, BoxError>(Reply::error_reply(ServiceError::not_found("nope")))
        }));
        let reply = service
            .oneshot(Request::new("s", ""))
            .await
            .expect("a reply");
        assert_eq!(reply.error().map(|e| e.code.as_str()), Some("404"));
    }

    #[tokio::test]
    async fn other_errors_are_hidden_and_service_errors_go_through() {
        let hidden = ErrorHandlingLayer::new("oops")
            .layer(service_fn(|_: Request| async {
                Err::<Reply, BoxError>("connection to the database refused".into())
            }))
            .oneshot(Request::new("s", ""))
            .await
            .expect_err("failed");
        assert_eq!(hidden, ServiceError::internal("oops"));
        let deliberate = ErrorHandlingLayer::new("oops")
            .layer(service_fn(|_: Request| async {
                Err::<Reply, BoxError>(Box::new(ServiceError::new("FORBIDDEN", "admins only")))
            }))
            .oneshot(Request::new("s", ""))
            .await
            .expect_err("refused");
        assert_eq!(deliberate, ServiceError::new("FORBIDDEN", "admins only"));
    }
}
