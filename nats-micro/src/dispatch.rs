//! One request, from the message to the reply: counted on arrival, handed to the endpoint's
//! service once it is ready, answered, and timed. Panics anywhere in the handler are caught
//! and answered with a `500` error; they never end the endpoint's task.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use nats_core::{Client, Message, Subject};
use tower::{Service as TowerService, ServiceExt};
use tracing::Instrument;

use crate::config::ErrorHandler;
use crate::endpoint::{BoxEndpoint, EndpointRecord};
use crate::error::{RespondErrorKind, ServiceError};
use crate::layer::error_handling::panic_message;
use crate::reply::{Reply, ReplyKind};
use crate::request::{Request, Responder};
use crate::trace::{self, TraceContext};

/// The description of the error answered when a handler panics.
pub(crate) const PANIC_DESCRIPTION: &str = "handler panicked";

/// What the serving of one endpoint shares with its requests.
pub(crate) struct EndpointContext {
    pub(crate) client: Client,
    pub(crate) service_name: Arc<str>,
    pub(crate) record: Arc<EndpointRecord>,
    pub(crate) error_handler: Option<ErrorHandler>,
}

/// A request received and counted, not yet handed to the endpoint's service.
pub(crate) struct Incoming {
    request: Request,
    responder: Responder,
    reply_to: Option<Subject>,
    started: Instant,
    span: tracing::Span,
    /// What the handler's calls carry on: the request's trace with this hop's parent id.
    trace: Option<TraceContext>,
}

/// Counts `message` as a request of the endpoint and starts its clock.
pub(crate) fn accept(message: Message, context: &EndpointContext) -> Incoming {
    let record = &context.record;
    record.counters.lock().request();
    let span = tracing::info_span!(
        "request",
        service = %context.service_name,
        endpoint = %record.name,
        subject = %message.subject,
        queue_group = record.queue_group.as_deref().unwrap_or(""),
        trace_id = tracing::field::Empty,
        parent_id = tracing::field::Empty,
    );
    let (span, trace) = trace::request_span(span, message.headers.as_ref());
    let responder = Responder::new(context.client.clone(), Arc::clone(&record.counters));
    let reply_to = message.reply.clone();
    Incoming {
        request: Request::bound(message, responder.clone()),
        responder,
        reply_to,
        started: Instant::now(),
        span,
        trace,
    }
}

/// Waits until `service` can take a request; a readiness error or a panic is the answer.
pub(crate) async fn ready(service: &mut BoxEndpoint) -> Result<(), ServiceError> {
    match AssertUnwindSafe(service.ready()).catch_unwind().await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(error),
        Err(payload) => Err(panicked(payload.as_ref())),
    }
}

impl Incoming {
    /// Calls `service` (when it was `ready`) and returns the future that answers the request.
    pub(crate) fn handle(
        self,
        service: &mut BoxEndpoint,
        ready: Result<(), ServiceError>,
    ) -> impl Future<Output = ()> + Send + 'static {
        let Incoming {
            request,
            responder,
            reply_to,
            started,
            span,
            trace,
        } = self;
        let call = ready.and_then(|()| {
            let _entered = span.enter();
            let call = || trace::in_context_sync(trace.clone(), || service.call(request));
            panic::catch_unwind(AssertUnwindSafe(call))
                .map_err(|payload| panicked(payload.as_ref()))
        });
        let answer = async move {
            let reply = match call {
                Ok(future) => run(future).await,
                Err(error) => Reply::error_reply(error),
            };
            finish(&responder, reply_to.as_ref(), reply, started).await;
        };
        trace::in_context(trace, answer).instrument(span)
    }
}

/// The future of a call to an endpoint's service.
type CallFuture = <BoxEndpoint as TowerService<Request>>::Future;

/// Runs the handler's future to its reply.
async fn run(future: CallFuture) -> Reply {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(Ok(reply)) => reply,
        Ok(Err(error)) => Reply::error_reply(error),
        Err(payload) => Reply::error_reply(panicked(payload.as_ref())),
    }
}

pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> ServiceError {
    tracing::error!(panic = panic_message(payload), "handler panicked");
    ServiceError::internal(PANIC_DESCRIPTION)
}

/// Records the processing time, then sends the reply (errors are counted before they leave,
/// so the caller's next STATS request sees them).
pub(crate) async fn finish(
    responder: &Responder,
    to: Option<&Subject>,
    reply: Reply,
    started: Instant,
) {
    responder.processed(started.elapsed());
    let Reply { kind, headers } = reply;
    let sent = match kind {
        ReplyKind::Nothing => return,
        // `send_error` makes the error sendable (no empty code or description, no line break).
        ReplyKind::Error(error) => responder.send_error(to, &error, headers).await,
        // A request without a reply subject expects no answer: discard it.
        _ if to.is_none() => return,
        ReplyKind::Message(payload) => responder.send(to, payload, headers).await,
        ReplyKind::Empty if responder.responded() => return,
        ReplyKind::Empty => responder.send(to, bytes::Bytes::new(), headers).await,
    };
    match sent {
        Err(error) if error.kind() != RespondErrorKind::NoReplySubject => {
            tracing::warn!(%error, "reply not sent");
        }
        _ => {}
    }
}
