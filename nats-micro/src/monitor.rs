//! The `$SRV` monitor: nine plain subscriptions (`<prefix>.<VERB>`, `<prefix>.<VERB>.<name>`,
//! `<prefix>.<VERB>.<name>.<id>` for PING, INFO and STATS, the prefix `$SRV` unless
//! configured) served by one task that answers with the service's JSON, or hands the request
//! to the verb's replacement handler (see `control.rs`), which runs on a task of its own. Bad
//! input never ends the task: requests without a reply subject are ignored, payloads are never
//! read, and a reply that cannot be written becomes a `500` error reply.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;
use nats_core::{Client, DrainGuard, Message, SubscribeError, Subscriber};
use serde::Serialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::control::{ControlCalls, ControlHandler};
use crate::error::ServiceError;
use crate::reply::error_headers;
use crate::schema;
use crate::service::Service;

/// The root of every control subject unless
/// [`ServiceConfig::api_prefix`](crate::ServiceConfig::api_prefix) overrides it: `$SRV`.
pub const DEFAULT_PREFIX: &str = "$SRV";

/// The root of every control subject; the same as [`DEFAULT_PREFIX`].
pub const API_PREFIX: &str = DEFAULT_PREFIX;

/// A control verb of the Service API: what `<prefix>.<VERB>` asks for.
///
/// ```
/// use nats_micro::ServiceVerb;
/// assert_eq!(ServiceVerb::Stats.as_str(), "STATS");
/// assert_eq!(ServiceVerb::ALL.len(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceVerb {
    /// `PING`: who is there.
    Ping,
    /// `INFO`: the service and its endpoints.
    Info,
    /// `STATS`: the endpoints' counters.
    Stats,
}

impl ServiceVerb {
    /// Every verb, in the order PING, INFO, STATS.
    pub const ALL: [ServiceVerb; 3] = [ServiceVerb::Ping, ServiceVerb::Info, ServiceVerb::Stats];

    /// The verb as it appears in control subjects: `"PING"`, `"INFO"` or `"STATS"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceVerb::Ping => "PING",
            ServiceVerb::Info => "INFO",
            ServiceVerb::Stats => "STATS",
        }
    }

    /// Where the verb is in [`ALL`](Self::ALL).
    pub(crate) fn index(self) -> usize {
        match self {
            ServiceVerb::Ping => 0,
            ServiceVerb::Info => 1,
            ServiceVerb::Stats => 2,
        }
    }
}

impl fmt::Display for ServiceVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The control subject of `verb` under `prefix` for every service, the services named `name`,
/// or the instance `id` of them.
pub(crate) fn control_subject(
    prefix: &str,
    verb: ServiceVerb,
    name: Option<&str>,
    id: Option<&str>,
) -> String {
    let verb = verb.as_str();
    match (name, id) {
        (Some(name), Some(id)) => format!("{prefix}.{verb}.{name}.{id}"),
        (Some(name), None) => format!("{prefix}.{verb}.{name}"),
        (None, _) => format!("{prefix}.{verb}"),
    }
}

/// The running monitor: a way to stop it and its task.
#[derive(Debug)]
pub(crate) struct MonitorHandle {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl MonitorHandle {
    /// Drains the control subscriptions, answers what they already received, and waits for
    /// the task to end, until `deadline` at most (then the task is aborted).
    pub(crate) async fn stop(self, deadline: tokio::time::Instant) {
        // The task may have ended already (connection closed): nothing to tell it then.
        let _ = self.stop.send(());
        let task = self.task;
        tokio::pin!(task);
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            task.abort();
        }
    }
}

/// One control subscription; `None` once its stream ended.
type Slot = (ServiceVerb, Option<Subscriber>);

/// Subscribes the nine control subjects and starts answering them.
pub(crate) async fn start(service: &Service) -> Result<MonitorHandle, SubscribeError> {
    let client = service.client();
    let (name, id) = (service.name(), service.id());
    let prefix = service.config().api_prefix.as_str();
    let mut slots: Vec<Slot> = Vec::with_capacity(9);
    for verb in ServiceVerb::ALL {
        for (name, id) in [(None, None), (Some(name), None), (Some(name), Some(id))] {
            let subject = control_subject(prefix, verb, name, id);
            slots.push((verb, Some(client.subscribe(subject).await?)));
        }
    }
    let (stop, stopped) = oneshot::channel();
    // Taken before the task runs: a client drain waits for the control replies in flight.
    let guard = client.drain_guard();
    let task = tokio::spawn(run(service.clone(), slots, stopped, guard));
    Ok(MonitorHandle { stop, task })
}

/// What the monitor waits for next.
enum Event {
    Request(ServiceVerb, Message),
    /// A replacement handler's call finished.
    Reaped,
    Stop,
    Ended,
}

async fn run(
    service: Service,
    mut slots: Vec<Slot>,
    mut stop: oneshot::Receiver<()>,
    _drain_guard: DrainGuard,
) {
    let mut calls = ControlCalls::new(
        service.client().clone(),
        Arc::from(service.name()),
        service.config().max_concurrency,
    );
    let mut turn = 0;
    let stopped = loop {
        match next_event(&mut slots, &mut stop, &mut turn, &mut calls).await {
            Event::Request(verb, message) => answer(&service, &mut calls, verb, message).await,
            Event::Reaped => {}
            Event::Stop => break true,
            Event::Ended => break false,
        }
    };
    if !stopped {
        // Every subscription ended without a stop: the client drained or closed. Stop the
        // service from another task, since stopping waits for this one. Replacement handlers
        // still running may finish within the drain timeout (each holds the client's drain
        // back), then they are cancelled.
        let limit = service.config().drain_timeout;
        tokio::spawn(async move {
            let _ = tokio::time::timeout(limit, calls.finish()).await;
        });
        tokio::spawn(async move { service.stop().await });
        return;
    }
    // With the connection down no server can confirm a drain: just unsubscribe.
    let connected = service.client().is_connected();
    for (_, slot) in &mut slots {
        if let Some(subscriber) = slot {
            let done = if connected {
                subscriber.drain().await.map_err(|e| e.to_string())
            } else {
                subscriber.unsubscribe().map_err(|e| e.to_string())
            };
            if let Err(error) = done {
                tracing::debug!(%error, "control subscription not drained");
            }
        }
    }
    while let Some((verb, message)) = poll_fn(|cx| poll_slots(&mut slots, cx, &mut turn)).await {
        answer(&service, &mut calls, verb, message).await;
    }
    // Bounded by the stop's deadline, at which the task is aborted (and the calls with it).
    calls.finish().await;
}

async fn next_event(
    slots: &mut [Slot],
    stop: &mut oneshot::Receiver<()>,
    turn: &mut usize,
    calls: &mut ControlCalls,
) -> Event {
    let busy = !calls.is_empty();
    tokio::select! {
        biased;
        // A dropped sender means the service handle is gone: stop as well.
        _ = stop => Event::Stop,
        () = calls.reap(), if busy => Event::Reaped,
        next = poll_fn(|cx| poll_slots(slots, cx, turn)) => match next {
            Some((verb, message)) => Event::Request(verb, message),
            None => Event::Ended,
        },
    }
}

/// The next message of any subscription, starting from a different one each time so that a
/// flood on one subject cannot starve the others; `None` once all have ended.
fn poll_slots(
    slots: &mut [Slot],
    cx: &mut Context<'_>,
    turn: &mut usize,
) -> Poll<Option<(ServiceVerb, Message)>> {
    let count = slots.len();
    let mut open = false;
    for offset in 0..count {
        let index = (*turn + offset) % count;
        let (verb, slot) = &mut slots[index];
        let Some(subscriber) = slot else { continue };
        match Pin::new(subscriber).poll_next(cx) {
            Poll::Ready(Some(message)) => {
                *turn = index + 1;
                return Poll::Ready(Some((*verb, message)));
            }
            Poll::Ready(None) => *slot = None,
            Poll::Pending => open = true,
        }
    }
    if open {
        Poll::Pending
    } else {
        Poll::Ready(None)
    }
}

/// Answers one control request, or hands it to the verb's replacement handler; the payload
/// is ignored.
async fn answer(service: &Service, calls: &mut ControlCalls, verb: ServiceVerb, message: Message) {
    if message.reply.is_none() {
        return;
    }
    let config = service.config();
    match verb {
        ServiceVerb::Ping => {
            let handler = config.ping_handler.as_ref();
            hand_over(service, calls, handler, verb, message, service.ping()).await;
        }
        ServiceVerb::Info => {
            let handler = config.info_handler.as_ref();
            hand_over(service, calls, handler, verb, message, service.info()).await;
        }
        ServiceVerb::Stats => {
            let handler = config.stats_reply_handler.as_ref();
            hand_over(service, calls, handler, verb, message, service.stats()).await;
        }
    }
}

/// Gives the request to `handler`, or answers it with `default` when there is none.
async fn hand_over<T: Serialize + Send + 'static>(
    service: &Service,
    calls: &mut ControlCalls,
    handler: Option<&ControlHandler<T>>,
    verb: ServiceVerb,
    message: Message,
    default: T,
) {
    if let Some(handler) = handler {
        calls.start(handler, verb, message, default).await;
        return;
    }
    let Some(reply) = message.reply else {
        return;
    };
    let client: &Client = service.client();
    let sent = match schema::to_go_json(&default) {
        Ok(body) => client.publish(&reply, body).await,
        Err(error) => {
            let description = format!("Error handling {} request: {error}", verb.as_str());
            let error = ServiceError::internal(description);
            client
                .publish_with_headers(&reply, error_headers(&error, None), "")
                .await
        }
    };
    if let Err(error) = sent {
        tracing::warn!(%error, verb = verb.as_str(), "control reply not sent");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_subjects_at_three_levels() {
        assert_eq!(DEFAULT_PREFIX, "$SRV");
        assert_eq!(
            control_subject(DEFAULT_PREFIX, ServiceVerb::Ping, None, None),
            "$SRV.PING"
        );
        assert_eq!(
            control_subject(DEFAULT_PREFIX, ServiceVerb::Info, Some("calc"), None),
            "$SRV.INFO.calc"
        );
        assert_eq!(
            control_subject("$ALT.x", ServiceVerb::Stats, Some("calc"), Some("ID")),
            "$ALT.x.STATS.calc.ID"
        );
    }

    #[test]
    fn verbs() {
        let names: Vec<_> = ServiceVerb::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(names, ["PING", "INFO", "STATS"]);
        assert_eq!(ServiceVerb::Info.to_string(), "INFO");
    }
}
