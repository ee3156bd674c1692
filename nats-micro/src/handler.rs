//! Plain async functions as endpoint handlers: the [`Handler`] trait, implemented for functions
//! whose arguments are all [extractors](crate::extract), and [`HandlerService`], the
//! `tower::Service` that runs one.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use tower::Service;

use crate::extract::{extract_or_reject, FromRequest};
use crate::reply::{IntoReply, Reply};
use crate::request::Request;

/// The future of a handler: the reply it answers with.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Reply> + Send + 'static>>;

/// An async function usable as an endpoint handler.
///
/// Implemented for every `async fn` (or closure returning a future) of up to twelve arguments
/// that are all [`FromRequest`] extractors, returning anything [`IntoReply`]. `T` is the tuple
/// of argument types (it only tells the implementations apart) and `S` the state given to
/// [`handler_with_state`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot serve an endpoint",
    note = "a handler is an async function whose arguments all implement `FromRequest` (extractors) and whose output implements `IntoReply`"
)]
pub trait Handler<T, S>: Clone + Send + Sync + 'static {
    /// Extracts the arguments from `request` and runs the function. A rejected argument is
    /// answered with its error without running the function.
    fn call(self, request: Request, state: &S) -> HandlerFuture;
}

macro_rules! impl_handler {
    ($($arg:ident),*) => {
        impl<F, Fut, R, S, $($arg,)*> Handler<($($arg,)*), S> for F
        where
            F: FnOnce($($arg),*) -> Fut + Clone + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoReply,
            $($arg: FromRequest<S> + Send + 'static,)*
        {
            #[allow(non_snake_case, unused_variables)]
            fn call(self, request: Request, state: &S) -> HandlerFuture {
                $(
                    let $arg = match extract_or_reject::<$arg, S>(&request, state) {
                        Ok(value) => value,
                        Err(reply) => return Box::pin(std::future::ready(reply)),
                    };
                )*
                Box::pin(async move { self($($arg),*).await.into_reply() })
            }
        }
    };
}

impl_handler!();
impl_handler!(T1);
impl_handler!(T1, T2);
impl_handler!(T1, T2, T3);
impl_handler!(T1, T2, T3, T4);
impl_handler!(T1, T2, T3, T4, T5);
impl_handler!(T1, T2, T3, T4, T5, T6);
impl_handler!(T1, T2, T3, T4, T5, T6, T7);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11);
impl_handler!(T1, T2, T3, T4, T5, T6, T7, T8, T9, T10, T11, T12);

/// A handler function as a `tower::Service<Request>`, so that it serves an endpoint and any
/// tower middleware wraps it.
///
/// ```
/// use nats_micro::{handler_fn, Json, Request};
/// use tower::ServiceExt;
///
/// async fn double(Json(n): Json<i64>) -> Json<i64> {
///     Json(n * 2)
/// }
///
/// # tokio_test_block(async {
/// let reply = handler_fn(double).oneshot(Request::new("math.double", "21")).await.unwrap();
/// assert_eq!(reply.payload().unwrap(), "42");
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub struct HandlerService<H, T, S> {
    handler: H,
    state: S,
    _arguments: PhantomData<fn() -> T>,
}

/// Serves `handler`, a function without state.
pub fn handler_fn<H, T>(handler: H) -> HandlerService<H, T, ()>
where
    H: Handler<T, ()>,
{
    handler_with_state(handler, ())
}

/// Serves `handler` with `state`, which its [`State`](crate::extract::State) arguments get.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use nats_micro::extract::State;
/// use nats_micro::handler_with_state;
///
/// async fn next_id(State(counter): State<Arc<AtomicU64>>) -> String {
///     counter.fetch_add(1, Ordering::Relaxed).to_string()
/// }
///
/// let service = handler_with_state(next_id, Arc::new(AtomicU64::new(1)));
/// ```
pub fn handler_with_state<H, T, S>(handler: H, state: S) -> HandlerService<H, T, S>
where
    H: Handler<T, S>,
{
    HandlerService {
        handler,
        state,
        _arguments: PhantomData,
    }
}

impl<H: Clone, T, S: Clone> Clone for HandlerService<H, T, S> {
    fn clone(&self) -> Self {
        HandlerService {
            handler: self.handler.clone(),
            state: self.state.clone(),
            _arguments: PhantomData,
        }
    }
}

impl<H, T, S> fmt::Debug for HandlerService<H, T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerService")
            .field("handler", &std::any::type_name::<H>())
            .finish_non_exhaustive()
    }
}

impl<H, T, S> Service<Request> for HandlerService<H, T, S>
where
    H: Handler<T, S>,
{
    type Response = Reply;
    type Error = Infallible;
    type Future = HandlerResponse;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> HandlerResponse {
        HandlerResponse {
            future: self.handler.clone().call(request, &self.state),
        }
    }
}

/// The response future of a [`HandlerService`].
pub struct HandlerResponse {
    future: HandlerFuture,
}

impl fmt::Debug for HandlerResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerResponse").finish_non_exhaustive()
    }
}

impl Future for HandlerResponse {
    type Output = Result<Reply, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.future.as_mut().poll(cx).map(Ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Headers, State, Subject};
    use crate::{Json, ServiceError};
    use bytes::Bytes;
    use tower::ServiceExt;

    async fn call<H: Handler<T, S>, T, S>(
        service: HandlerService<H, T, S>,
        request: Request,
    ) -> Reply {
        match service.oneshot(request).await {
            Ok(reply) => reply,
            Err(never) => match never {},
        }
    }

    #[tokio::test]
    async fn functions_of_several_extractors() {
        async fn describe(
            Subject(subject): Subject,
            Headers(headers): Headers,
            State(prefix): State<&'static str>,
            body: Bytes,
        ) -> String {
            let tag = headers.get("Tag").unwrap_or("-").to_owned();
            format!("{prefix} {subject} {tag} {}", body.len())
        }
        let reply = call(
            handler_with_state(describe, ">"),
            Request::new("a.b", "1234"),
        )
        .await;
        assert_eq!(reply, Reply::new("> a.b - 4"));
    }

    #[tokio::test]
    async fn rejections_skip_the_function() {
        async fn never_called(Json(_): Json<u8>) -> &'static str {
            panic!("must not run")
        }
        let reply = call(handler_fn(never_called), Request::new("s", "300")).await;
        assert_eq!(reply.error().map(|e| e.code.as_str()), Some("400"));
    }

    #[tokio::test]
    async fn zero_arguments_and_results() {
        let reply = call(handler_fn(|| async { "pong" }), Request::new("s", "")).await;
        assert_eq!(reply, Reply::new("pong"));
        let failing = || async { Err::<(), _>(ServiceError::new(418, "teapot")) };
        let reply = call(handler_fn(failing), Request::new("s", "")).await;
        assert_eq!(reply.error(), Some(&ServiceError::new(418, "teapot")));
    }
}
