//! The `$SRV` monitor: nine plain subscriptions (`<prefix>.<VERB>`, `<prefix>.<VERB>.<name>`,
//! `<prefix>.<VERB>.<name>.<id>` for PING, INFO and STATS, the prefix `$SRV` unless configured) served by one task that answers with the
//! service's JSON. Bad input never ends the task: requests without a reply subject are ignored,
//! payloads are never read, and a reply that cannot be written becomes a `500` error reply.

use std::fmt;
use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use nats_core::{Client, Message, SubscribeError, Subscriber};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

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
    let task = tokio::spawn(run(service.clone(), slots, stopped));
    Ok(MonitorHandle { stop, task })
}

/// What the monitor waits for next.
enum Event {
    Request(ServiceVerb, Message),
    Stop,
    Ended,
}

async fn run(service: Service, mut slots: Vec<Slot>, mut stop: oneshot::Receiver<()>) {
    let mut turn = 0;
    let stopped = loop {
        match next_event(&mut slots, &mut stop, &mut turn).await {
            Event::Request(verb, message) => answer(&service, verb, message).await,
            Event::Stop => break true,
            Event::Ended => break false,
        }
    };
    if !stopped {
        // Every subscription ended without a stop: the connection closed. Stop the service
        // from another task, since stopping waits for this one.
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
        answer(&service, verb, message).await;
    }
}

async fn next_event(
    slots: &mut [Slot],
    stop: &mut oneshot::Receiver<()>,
    turn: &mut usize,
) -> Event {
    tokio::select! {
        biased;
        // A dropped sender means the service handle is gone: stop as well.
        _ = stop => Event::Stop,
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

/// Answers one control request; the payload is ignored.
async fn answer(service: &Service, verb: ServiceVerb, message: Message) {
    let Some(reply) = message.reply else {
        return;
    };
    let body = match verb {
        ServiceVerb::Ping => schema::to_go_json(&service.ping()),
        ServiceVerb::Info => schema::to_go_json(&service.info()),
        ServiceVerb::Stats => schema::to_go_json(&service.stats()),
    };
    let client: &Client = service.client();
    let sent = match body {
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
