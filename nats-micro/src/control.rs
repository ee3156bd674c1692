//! Replacement handlers for the control replies: [`ControlHandler`], a tower service of the
//! user's that answers PING, INFO or STATS in place of the runtime, and [`ControlRequest`],
//! what it receives (the request and the reply the runtime would have sent).
//!
//! The monitor never waits for such a handler: every call runs on a task of its own, at most
//! `max_concurrency` per verb at once (past that the request is answered `429` at once), so a
//! slow, stuck or failing handler of one verb cannot keep the others from being answered.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::FutureExt;
use nats_core::{Client, Message};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::util::BoxCloneSyncService;
use tower::{Service as TowerService, ServiceExt};
use tracing::Instrument;

use crate::dispatch::{finish, panicked};
use crate::error::{ServiceError, RATE_LIMITED};
use crate::monitor::ServiceVerb;
use crate::reply::{IntoReply, Reply};
use crate::request::{Request, Responder};
use crate::schema;
use crate::stats::Counters;
use crate::trace;

/// A control request (`$SRV.PING`, `$SRV.INFO` or `$SRV.STATS`) handed to a replacement
/// handler, with the reply the runtime would have sent in its place: `T` is
/// [`PingResponse`](crate::schema::PingResponse), [`InfoResponse`](crate::schema::InfoResponse)
/// or [`StatsResponse`](crate::schema::StatsResponse).
///
/// ```
/// use nats_micro::schema::PingResponse;
/// use nats_micro::{ControlRequest, Request, ServiceVerb};
///
/// let ping = PingResponse {
///     name: "calc".into(),
///     id: "ID".into(),
///     version: "1.0.0".into(),
///     metadata: Default::default(),
///     kind: nats_micro::PING_RESPONSE_TYPE.into(),
/// };
/// let control = ControlRequest::new(ServiceVerb::Ping, Request::new("$SRV.PING", ""), ping);
/// assert_eq!(control.verb(), ServiceVerb::Ping);
/// assert_eq!(control.default_response().name, "calc");
/// ```
#[derive(Debug, Clone)]
pub struct ControlRequest<T> {
    verb: ServiceVerb,
    request: Request,
    default: T,
}

impl<T> ControlRequest<T> {
    /// A control request for `verb` made of `request`, whose default reply is `default`: for
    /// testing a handler without a server.
    pub fn new(verb: ServiceVerb, request: Request, default: T) -> Self {
        ControlRequest {
            verb,
            request,
            default,
        }
    }

    /// The verb asked for.
    pub fn verb(&self) -> ServiceVerb {
        self.verb
    }

    /// The request as it arrived: subject (which of the three control subjects), headers,
    /// payload. It can also [`respond`](Request::respond) itself, as an endpoint's can.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// What the runtime would have answered, to extend rather than rewrite.
    pub fn default_response(&self) -> &T {
        &self.default
    }

    /// The request and the default reply.
    pub fn into_parts(self) -> (Request, T) {
        (self.request, self.default)
    }
}

impl<T: Serialize> ControlRequest<T> {
    /// The reply the runtime would have sent, byte for byte (JSON written as nats.go writes
    /// it); a `500` error reply if it cannot be serialized.
    pub fn default_reply(&self) -> Reply {
        go_json_reply(self.verb, &self.default)
    }
}

/// `value` as nats.go writes a control reply, or the `500` error reply saying why not.
pub(crate) fn go_json_reply<T: Serialize>(verb: ServiceVerb, value: &T) -> Reply {
    match schema::to_go_json(value) {
        Ok(json) => Reply::new(json),
        Err(error) => Reply::error_reply(ServiceError::internal(format!(
            "Error handling {} request: {error}",
            verb.as_str()
        ))),
    }
}

/// A handler that replaces the runtime's answer to one control verb: a tower service taking
/// a [`ControlRequest`] and answering like an endpoint (anything [`IntoReply`]; an error
/// becomes an error reply with the `Nats-Service-Error` headers).
///
/// **A reply of another shape breaks discovery tools**: natscli's `nats micro` validates
/// every reply against the Service API's JSON schemas and silently drops those that do not
/// match, and [`Discovery`](crate::Discovery) skips what does not parse. Start from the
/// [default](ControlRequest::default_response) and keep its fields.
///
/// The service is cloned for every call, and runs on a task of its own: a handler that is
/// slow or never finishes holds back only its own replies. At most the service's
/// `max_concurrency` calls of one verb run at once; a request past that is answered `429`.
///
/// ```
/// use nats_micro::schema::PingResponse;
/// use nats_micro::{ControlHandler, ControlRequest, Json, Service};
///
/// // PING answers as usual, with one more metadata entry.
/// let ping = ControlHandler::new(tower::service_fn(
///     |control: ControlRequest<PingResponse>| async move {
///         let mut ping = control.default_response().clone();
///         ping.metadata.insert("region".into(), "eu-west".into());
///         Ok::<_, nats_micro::ServiceError>(Json(ping))
///     },
/// ));
/// let builder = Service::builder("calc", "1.0.0").ping_handler(ping);
/// ```
pub struct ControlHandler<T> {
    service: BoxCloneSyncService<ControlRequest<T>, Reply, ServiceError>,
}

impl<T: Send + 'static> ControlHandler<T> {
    /// Boxes `service`, which must be `Clone` (it is cloned for every call).
    pub fn new<S>(service: S) -> Self
    where
        S: TowerService<ControlRequest<T>> + Clone + Send + Sync + 'static,
        S::Response: IntoReply,
        S::Error: Into<ServiceError>,
        S::Future: Send + 'static,
    {
        let service = service
            .map_response(IntoReply::into_reply)
            .map_err(Into::into);
        ControlHandler {
            service: BoxCloneSyncService::new(service),
        }
    }
}

impl<T> Clone for ControlHandler<T> {
    fn clone(&self) -> Self {
        ControlHandler {
            service: self.service.clone(),
        }
    }
}

impl<T> fmt::Debug for ControlHandler<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlHandler").finish_non_exhaustive()
    }
}

/// The calls of replacement handlers in flight, each on a task of its own.
pub(crate) struct ControlCalls {
    tasks: JoinSet<()>,
    /// One bound per verb, in the order of [`ServiceVerb::ALL`].
    permits: [Arc<Semaphore>; 3],
    client: Client,
    service_name: Arc<str>,
}

impl ControlCalls {
    /// No call yet; at most `max` calls of one verb at once.
    pub(crate) fn new(client: Client, service_name: Arc<str>, max: usize) -> Self {
        ControlCalls {
            tasks: JoinSet::new(),
            permits: std::array::from_fn(|_| Arc::new(Semaphore::new(max))),
            client,
            service_name,
        }
    }

    /// Whether no call is in flight.
    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Waits for one call to finish (forever when there is none).
    pub(crate) async fn reap(&mut self) {
        match self.tasks.join_next().await {
            Some(Err(error)) if error.is_panic() => {
                tracing::error!("control handler task panicked");
            }
            Some(_) => {}
            None => std::future::pending().await,
        }
    }

    /// Waits for every call in flight to finish.
    pub(crate) async fn finish(&mut self) {
        while self.tasks.join_next().await.is_some() {}
    }

    /// Hands `message`, a request for `verb` whose default reply is `default`, to `handler`
    /// on a task of its own; answers `429` at once when `verb` has too many calls in flight.
    pub(crate) async fn start<T: Send + 'static>(
        &mut self,
        handler: &ControlHandler<T>,
        verb: ServiceVerb,
        message: Message,
        default: T,
    ) {
        let responder = Responder::new(
            self.client.clone(),
            Arc::new(Mutex::new(Counters::default())),
        );
        let reply_to = message.reply.clone();
        let Ok(permit) = Arc::clone(&self.permits[verb.index()]).try_acquire_owned() else {
            let busy = ServiceError::new(
                RATE_LIMITED,
                format!("{verb} handler busy: too many requests in flight"),
            );
            tracing::warn!(%verb, "control request answered 429: handler busy");
            finish(
                &responder,
                reply_to.as_ref(),
                Reply::error_reply(busy),
                Instant::now(),
            )
            .await;
            return;
        };
        let span = tracing::info_span!(
            "control",
            service = %self.service_name,
            %verb,
            subject = %message.subject,
            trace_id = tracing::field::Empty,
            parent_id = tracing::field::Empty,
        );
        let (span, trace) = trace::request_span(span, message.headers.as_ref());
        let request =
            ControlRequest::new(verb, Request::bound(message, responder.clone()), default);
        let service = handler.service.clone();
        // A client drain waits for this reply (within its timeout).
        let guard = self.client.drain_guard();
        let call = async move {
            let _guard = guard;
            let started = Instant::now();
            let reply = call(service, request, permit).await;
            finish(&responder, reply_to.as_ref(), reply, started).await;
        };
        self.tasks
            .spawn(trace::in_context(trace, call).instrument(span));
    }
}

/// Runs one call of a replacement handler to its reply; a panic is a `500` error reply.
async fn call<T>(
    service: BoxCloneSyncService<ControlRequest<T>, Reply, ServiceError>,
    request: ControlRequest<T>,
    _permit: OwnedSemaphorePermit,
) -> Reply {
    let answered = AssertUnwindSafe(service.oneshot(request))
        .catch_unwind()
        .await;
    match answered {
        Ok(Ok(reply)) => reply,
        Ok(Err(error)) => Reply::error_reply(error),
        Err(payload) => Reply::error_reply(panicked(payload.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{PingResponse, PING_RESPONSE_TYPE};

    fn ping() -> PingResponse {
        PingResponse {
            name: "calc".into(),
            id: "ID".into(),
            version: "1.0.0".into(),
            metadata: [("a&b".to_owned(), "<x>".to_owned())].into(),
            kind: PING_RESPONSE_TYPE.into(),
        }
    }

    #[test]
    fn the_default_reply_is_written_as_nats_go_writes_it() {
        let control = ControlRequest::new(ServiceVerb::Ping, Request::new("$SRV.PING", ""), ping());
        let reply = control.default_reply();
        assert_eq!(
            reply.payload().map(|p| p.to_vec()),
            Some(
                br#"{"name":"calc","id":"ID","version":"1.0.0","metadata":{"a\u0026b":"\u003cx\u003e"},"type":"io.nats.micro.v1.ping_response"}"#
                    .to_vec()
            )
        );
    }

    #[tokio::test]
    async fn handlers_answer_like_endpoints() {
        let handler = ControlHandler::new(tower::service_fn(
            |control: ControlRequest<PingResponse>| async move {
                if control.request().subject().ends_with(".ID") {
                    Err(ServiceError::not_found("not this one"))
                } else {
                    Ok(control.default_reply())
                }
            },
        ));
        let permit = Arc::new(Semaphore::new(1))
            .try_acquire_owned()
            .expect("permit");
        let request = ControlRequest::new(ServiceVerb::Ping, Request::new("$SRV.PING", ""), ping());
        let reply = call(handler.service.clone(), request, permit).await;
        assert!(reply.payload().is_some_and(|p| p.starts_with(b"{\"name\"")));

        let permit = Arc::new(Semaphore::new(1))
            .try_acquire_owned()
            .expect("permit");
        let request = ControlRequest::new(
            ServiceVerb::Ping,
            Request::new("$SRV.PING.calc.ID", ""),
            ping(),
        );
        let reply = call(handler.service.clone(), request, permit).await;
        assert_eq!(
            reply.error(),
            Some(&ServiceError::not_found("not this one"))
        );
    }

    #[tokio::test]
    async fn a_panicking_handler_is_a_500() {
        let handler = ControlHandler::new(tower::service_fn(
            |_: ControlRequest<PingResponse>| async move {
                if true {
                    panic!("boom");
                }
                Ok::<_, ServiceError>(())
            },
        ));
        let permit = Arc::new(Semaphore::new(1))
            .try_acquire_owned()
            .expect("permit");
        let request = ControlRequest::new(ServiceVerb::Ping, Request::new("$SRV.PING", ""), ping());
        let reply = call(handler.service, request, permit).await;
        assert_eq!(reply.error().map(|e| e.code.as_str()), Some("500"));
    }
}
