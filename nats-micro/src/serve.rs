//! The task that serves one endpoint's subscription.
//!
//! Requests run concurrently on this task, up to the endpoint's limit: each one's future is
//! polled here beside the subscription, so a request costs no task of its own and no extra
//! wake-up between receiving it and answering it. Middleware readiness is awaited while the
//! requests in flight keep running, so a layer that waits for one of them to finish (a
//! concurrency limit) cannot deadlock.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::FuturesUnordered;
use futures_util::StreamExt;
use nats_core::{DrainGuard, Subscriber};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::dispatch::{self, EndpointContext};
use crate::endpoint::BoxEndpoint;
use crate::error::{AsyncError, INTERNAL_ERROR};

/// The requests being handled, each answered when its future completes.
type InFlight<F> = FuturesUnordered<F>;

/// What the serving loop waits for next.
enum Next {
    Message(nats_core::Message),
    /// The service stops (by the deadline the outer timer holds).
    Shutdown,
    End,
}

/// The stop signal: `None` while the service runs, then the deadline of its drain.
pub(crate) type Shutdown = watch::Receiver<Option<Instant>>;

/// Serves `subscriber` until the service shuts down (then drains it and answers what was
/// already received, by the stop's deadline) or the subscription ends; returns once no
/// request is in flight. Requests still running at the deadline are cancelled and counted as
/// errors. `_drain_guard` holds a drain of the client back until then: a client drain ends
/// the subscription, and the replies of the requests in flight still go out before the
/// connection closes.
pub(crate) async fn serve(
    mut subscriber: Subscriber,
    mut service: BoxEndpoint,
    context: Arc<EndpointContext>,
    mut shutdown: Shutdown,
    _drain_guard: DrainGuard,
) {
    // The stop's deadline, once there is one: what is still running then is cancelled.
    let mut deadline_rx = shutdown.clone();
    let expiry = async move { tokio::time::sleep_until(deadline(&mut deadline_rx).await).await };
    let max = context.record.max_concurrency;
    let mut in_flight = InFlight::new();
    let finished = {
        let work = async {
            // One future for the whole life of the loop: re-creating it for every request
            // would register and unregister a waiter each time.
            let stop = deadline(&mut shutdown);
            tokio::pin!(stop);
            let mut draining = false;
            let mut dropped = 0;
            loop {
                while in_flight.len() >= max {
                    in_flight.next().await;
                }
                let next = alongside(
                    &mut in_flight,
                    next(&mut subscriber, stop.as_mut(), draining),
                )
                .await;
                let message = match next {
                    Next::Message(message) => message,
                    Next::End => break,
                    Next::Shutdown => {
                        // What the server already sent still comes out of the stream.
                        alongside(&mut in_flight, stop_receiving(&mut subscriber, &context)).await;
                        draining = true;
                        continue;
                    }
                };
                report_dropped(&subscriber, &context, &mut dropped);
                let incoming = dispatch::accept(message, &context);
                let ready = alongside(&mut in_flight, dispatch::ready(&mut service)).await;
                in_flight.push(incoming.handle(&mut service, ready));
            }
            while in_flight.next().await.is_some() {}
        };
        tokio::pin!(work);
        tokio::select! {
            () = &mut work => true,
            () = expiry => false,
        }
    };
    if !finished {
        cancel_in_flight(&context, in_flight.len());
    }
}

/// When the service stops, the deadline of its drain; a dropped sender (the service is gone)
/// means now.
async fn deadline(shutdown: &mut Shutdown) -> Instant {
    match shutdown.wait_for(Option::is_some).await {
        Ok(deadline) => deadline.unwrap_or_else(Instant::now),
        Err(_) => Instant::now(),
    }
}

/// Stops taking requests: drains the subscription while the connection is up (what the
/// server sent before the `UNSUB` still arrives), or just unsubscribes when it is not, since
/// no server can confirm the drain then.
async fn stop_receiving(subscriber: &mut Subscriber, context: &EndpointContext) {
    if context.client.is_connected() {
        if let Err(error) = subscriber.drain().await {
            tracing::debug!(%error, "endpoint subscription not drained");
        }
    } else if let Err(error) = subscriber.unsubscribe() {
        tracing::debug!(%error, "endpoint subscription not unsubscribed");
    }
}

/// Counts the `count` requests cancelled at the stop's deadline as errors.
fn cancel_in_flight(context: &EndpointContext, count: usize) {
    if count == 0 {
        return;
    }
    let record = &context.record;
    tracing::warn!(endpoint = %record.name, count, "handlers cancelled at the drain timeout");
    let mut counters = record.counters.lock();
    for _ in 0..count {
        counters.error(format!(
            "{INTERNAL_ERROR}:cancelled: the service stopped before the handler finished"
        ));
    }
}

/// Runs `future` while the requests in flight keep making progress.
async fn alongside<F, T>(in_flight: &mut InFlight<F>, future: impl Future<Output = T>) -> T
where
    F: Future<Output = ()>,
{
    tokio::pin!(future);
    loop {
        tokio::select! {
            // Requests in flight first: a reply that is ready goes out before the next request
            // is taken in, so a burst of requests does not hold back its own replies.
            biased;
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
            output = &mut future => return output,
        }
    }
}

async fn next(
    subscriber: &mut Subscriber,
    stop: Pin<&mut impl Future<Output = Instant>>,
    draining: bool,
) -> Next {
    if draining {
        return subscriber.next().await.map_or(Next::End, Next::Message);
    }
    tokio::select! {
        biased;
        _ = stop => Next::Shutdown,
        message = subscriber.next() => message.map_or(Next::End, Next::Message),
    }
}
/// Counts and reports requests the subscription dropped since the last check (a slow
/// consumer), as nats.go does with asynchronous subscription errors.
fn report_dropped(subscriber: &Subscriber, context: &EndpointContext, seen: &mut u64) {
    let dropped = subscriber.dropped();
    if dropped <= *seen {
        return;
    }
    let description = format!("slow consumer: {} requests dropped", dropped - *seen);
    *seen = dropped;
    let record = &context.record;
    tracing::warn!(endpoint = %record.name, subject = %record.subject, "{description}");
    record
        .counters
        .lock()
        .error(format!("{INTERNAL_ERROR}:{description}"));
    if let Some(handler) = &context.error_handler {
        handler(&AsyncError {
            endpoint: record.name.clone(),
            subject: record.subject.clone(),
            description,
        });
    }
}
