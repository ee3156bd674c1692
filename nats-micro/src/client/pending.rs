//! [`Pending`]: the future of a typed client's call.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use nats_core::{Message, Subject};
use pin_project_lite::pin_project;
use tower::util::Oneshot;
use tower::{Service, ServiceExt};

use super::call::ClientCall;
use super::reply::ClientReply;
use crate::error::CallError;

pin_project! {
    /// A call of an endpoint whose reply type is `R`, going through the service `S`: resolves
    /// to `Result<R::Output, CallError>` (see [`ClientReply`]).
    ///
    /// Nothing is sent before it is first polled. Dropping it abandons the call: a request
    /// in flight is forgotten, and its reply, if one comes, is discarded.
    ///
    /// It names `R` rather than `R::Output` so that a method's signature holds for any
    /// return type: a type without [`ClientReply`] is an error where the call is awaited,
    /// not a second error beside the endpoint's own.
    #[must_use = "a call does nothing unless awaited"]
    pub struct Pending<S, R>
    where
        S: Service<ClientCall>,
    {
        #[pin]
        state: State<S>,
        _reply: PhantomData<fn() -> R>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S>
    where
        S: Service<ClientCall>,
    {
        /// Built, not sent yet.
        Start { service: Option<S>, call: Option<Result<ClientCall, CallError>> },
        /// On its way.
        Sending { subject: String, #[pin] call: Oneshot<S, ClientCall> },
        /// Resolved.
        Done,
    }
}

impl<S: Service<ClientCall>, R> Pending<S, R> {
    /// `call` (or why it could not be built) through `service`.
    pub(crate) fn new(service: S, call: Result<ClientCall, CallError>) -> Self {
        Pending {
            state: State::Start {
                service: Some(service),
                call: Some(call),
            },
            _reply: PhantomData,
        }
    }
}

impl<S, R> Future for Pending<S, R>
where
    S: Service<ClientCall, Response = Option<Message>>,
    S::Error: Into<CallError>,
    R: ClientReply,
{
    type Output = Result<R::Output, CallError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Start { service, call } => {
                    let (Some(service), Some(call)) = (service.take(), call.take()) else {
                        state.set(State::Done);
                        continue;
                    };
                    let mut call = match call {
                        Ok(call) => call,
                        Err(error) => {
                            state.set(State::Done);
                            return Poll::Ready(Err(error));
                        }
                    };
                    call.expects_reply = R::EXPECTS_REPLY;
                    let subject = call.subject.clone();
                    state.set(State::Sending {
                        subject,
                        call: service.oneshot(call),
                    });
                }
                StateProj::Sending { subject, call } => {
                    let result = ready!(call.poll(cx)).map_err(Into::into);
                    let subject = std::mem::take(subject);
                    state.set(State::Done);
                    return Poll::Ready(result.and_then(|reply| {
                        let reply = reply.unwrap_or_else(|| empty_reply(subject));
                        R::decode(reply).map_err(CallError::Decode)
                    }));
                }
                StateProj::Done => panic!("`Pending` polled after it resolved"),
            }
        }
    }
}

impl<S: Service<ClientCall>, R> fmt::Debug for Pending<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Start { .. } => "start",
            State::Sending { .. } => "sending",
            State::Done => "done",
        };
        f.debug_struct("Pending").field("state", &state).finish()
    }
}

/// What a call that expects no reply decodes.
fn empty_reply(subject: String) -> Message {
    Message {
        subject: Subject::from(subject),
        reply: None,
        payload: bytes::Bytes::new(),
        headers: None,
        status: None,
        description: None,
        length: 0,
    }
}
