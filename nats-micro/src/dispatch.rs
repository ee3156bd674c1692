//! One request, from the message to the reply: counted on arrival, handed to the endpoint's
//! service when it is ready, run on its own task (so requests on one endpoint run
//! concurrently), answered, and timed. Panics anywhere in the handler are caught and answered
//! with a `500` error; they never end the endpoint's task.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use nats_core::{Client, Message, Subject};
use tokio::sync::OwnedSemaphorePermit;
use tower::{Service as TowerService, ServiceExt};
use tracing::Instrument;

use crate::config::ErrorHandler;
use crate::endpoint::{BoxEndpoint, EndpointRecord};
use crate::error::{RespondErrorKind, ServiceError};
use crate::layer::error_handling::panic_message;
use crate::reply::{Reply, ReplyKind};
use crate::request::{Request, Responder};

/// The description of the error answered when a handler panics.
pub(crate) const PANIC_DESCRIPTION: &str = "handler panicked";

/// What the serving of one endpoint shares with its requests.
pub(crate) struct EndpointContext {
    pub(crate) client: Client,
    pub(crate) service_name: Arc<str>,
    pub(crate) record: Arc<EndpointRecord>,
    pub(crate) error_handler: Option<ErrorHandler>,
}

/// The future of a call to an endpoint's service.
type CallFuture = <BoxEndpoint as TowerService<Request>>::Future;

/// Counts `message`, waits until `service` is ready, calls it, and spawns the rest; `permit`
/// is held until the reply is sent.
pub(crate) async fn dispatch(
    service: &mut BoxEndpoint,
    message: Message,
    context: &Arc<EndpointContext>,
    permit: OwnedSemaphorePermit,
) {
    let record = &context.record;
    record.counters.lock().request();
    let started = Instant::now();
    let span = tracing::info_span!(
        "request",
        service = %context.service_name,
        endpoint = %record.name,
        subject = %message.subject,
    );
    let responder = Responder::new(context.client.clone(), Arc::clone(&record.counters));
    let reply_to = message.reply.clone();
    let request = Request::bound(message, responder.clone());
    let call = start_call(service, request).instrument(span.clone()).await;
    tokio::spawn(
        async move {
            let reply = match call {
                Ok(future) => run(future).await,
                Err(error) => Reply::error_reply(error),
            };
            finish(&responder, reply_to.as_ref(), reply, started).await;
            drop(permit);
        }
        .instrument(span),
    );
}

/// Waits for readiness and calls the service; a readiness error or a panic becomes the error.
async fn start_call(
    service: &mut BoxEndpoint,
    request: Request,
) -> Result<CallFuture, ServiceError> {
    match AssertUnwindSafe(service.ready()).catch_unwind().await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => return Err(error),
        Err(payload) => return Err(panicked(payload.as_ref())),
    }
    panic::catch_unwind(AssertUnwindSafe(|| service.call(request)))
        .map_err(|payload| panicked(payload.as_ref()))
}

/// Runs the handler's future to its reply.
async fn run(future: CallFuture) -> Reply {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(Ok(reply)) => reply,
        Ok(Err(error)) => Reply::error_reply(error),
        Err(payload) => Reply::error_reply(panicked(payload.as_ref())),
    }
}

fn panicked(payload: &(dyn std::any::Any + Send)) -> ServiceError {
    tracing::error!(panic = panic_message(payload), "handler panicked");
    ServiceError::internal(PANIC_DESCRIPTION)
}

/// Records the processing time, then sends the reply (errors are counted before they leave,
/// so the caller's next STATS request sees them).
async fn finish(responder: &Responder, to: Option<&Subject>, reply: Reply, started: Instant) {
    responder.processed(started.elapsed());
    let Reply { kind, headers } = reply;
    let sent = match kind {
        ReplyKind::Nothing => return,
        ReplyKind::Error(mut error) => {
            if error.description.is_empty() {
                error.description = "unknown error".to_owned();
            }
            responder.send_error(to, &error, headers).await
        }
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
