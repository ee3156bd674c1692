//! [`ResponseFuture`]: the future of [`ErrorHandling`](super::ErrorHandling).

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::{failed, panicked};
use crate::error::{BoxError, ServiceError};

pin_project! {
    /// The response of [`ErrorHandling`](super::ErrorHandling): the inner response, or the
    /// configured error if the inner future failed or panicked.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    #[derive(Debug)]
    enum State<F> {
        Running { #[pin] future: F, error: ServiceError },
        Failed { error: Option<ServiceError> },
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(future: F, error: ServiceError) -> Self {
        ResponseFuture {
            state: State::Running { future, error },
        }
    }

    pub(super) fn failed(error: ServiceError) -> Self {
        ResponseFuture {
            state: State::Failed { error: Some(error) },
        }
    }
}

impl<F, T, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<T, E>>,
    E: Into<BoxError>,
{
    type Output = Result<T, ServiceError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Running { future, error } => {
                match panic::catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
                    Ok(Poll::Pending) => Poll::Pending,
                    Ok(Poll::Ready(Ok(response))) => Poll::Ready(Ok(response)),
                    Ok(Poll::Ready(Err(cause))) => Poll::Ready(Err(failed(error, cause.into()))),
                    Err(payload) => Poll::Ready(Err(panicked(error, payload.as_ref()))),
                }
            }
            StateProj::Failed { error } => Poll::Ready(Err(error
                .take()
                .unwrap_or_else(|| ServiceError::internal("polled after completion")))),
        }
    }
}
