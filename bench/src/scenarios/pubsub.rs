//! Publish and subscribe in one process: the client that publishes also holds the subscription,
//! and the run is timed until the subscriber has every message.
//!
//! Both libraries drop messages for a subscriber that falls more than its pending limit behind
//! (nats-core: 65,536 messages or 64 MiB; async-nats: a 65,536-message channel). Unless
//! `--default-limits` is given, both limits are raised to hold the whole run, so the row measures
//! throughput rather than who drops first; a lost message fails the run either way.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::{grouped, payload, runner, size_name, Ctx, Metric, Scenario};
use crate::client::{BenchClient, BenchError, BenchSub, Limits, Ours, Theirs};

const SUBJECT: &str = "bench.pubsub";

/// How long the subscriber may go without a message before the run is declared lossy.
const STALL: Duration = Duration::from_secs(5);

pub(super) fn scenarios() -> Vec<Scenario> {
    [(16, 1_000_000), (1024, 200_000)]
        .into_iter()
        .map(|(size, count)| Scenario {
            name: format!("pub+sub {} x {}", grouped(count), size_name(size)),
            note: Some(format!(
                "pub+sub {}: pending limits raised to {} msgs / {} bytes (nats-core \
                 subscribe_with, async-nats subscription_capacity) unless --default-limits",
                size_name(size),
                grouped(count),
                grouped(count * size),
            )),
            ours: runner(move |ctx| run::<Ours>(ctx, size, count)),
            theirs: runner(move |ctx| run::<Theirs>(ctx, size, count)),
            ceiling: None,
        })
        .collect()
}

async fn run<C: BenchClient>(
    ctx: Ctx,
    size: usize,
    count: usize,
) -> Result<Vec<Metric>, BenchError> {
    let limits = (!ctx.default_limits).then_some(Limits {
        msgs: count,
        bytes: count * size,
    });
    let client = C::connect(&ctx.url, limits).await?;
    let mut sub = client.subscribe(SUBJECT.to_owned()).await?;
    client.flush().await?;

    let received = Arc::new(AtomicU64::new(0));
    let progress = Arc::clone(&received);
    let (stop_tx, mut stop) = oneshot::channel::<()>();
    let mut consumer = tokio::spawn(async move {
        let mut bytes = 0;
        for n in 1..=count as u64 {
            // Biased: while messages are waiting, the stop signal is never polled.
            tokio::select! {
                biased;
                next = sub.next_len() => match next {
                    Some(len) => bytes += len,
                    None => break,
                },
                _ = &mut stop => break,
            }
            progress.store(n, Ordering::Relaxed);
        }
        (bytes, sub)
    });

    let payload = payload(size);
    let start = Instant::now();
    for _ in 0..count {
        client.publish(SUBJECT, payload.clone()).await?;
    }
    client.flush().await?;

    let mut last = 0;
    let mut stop_tx = Some(stop_tx);
    let (bytes, sub) = loop {
        tokio::select! {
            done = &mut consumer => break done?,
            () = tokio::time::sleep(STALL) => {
                let now = received.load(Ordering::Relaxed);
                if now == last {
                    // Stalled: messages were lost. Stop the consumer to read its drop count.
                    if let Some(tx) = stop_tx.take() {
                        let _ = tx.send(());
                    }
                }
                last = now;
            }
        }
    };
    let secs = start.elapsed().as_secs_f64();
    let got = received.load(Ordering::Relaxed);
    if got != count as u64 || bytes != count * size {
        return Err(lost(count, got, sub.dropped()));
    }
    Ok(vec![
        Metric::higher("msg/s", count as f64 / secs),
        Metric::higher("MB/s", bytes as f64 / secs / 1e6),
    ])
}

fn lost(count: usize, got: u64, dropped: Option<u64>) -> BenchError {
    let dropped = dropped.map_or_else(String::new, |d| format!(", client reports {d} dropped"));
    format!(
        "LOST MESSAGES: subscriber received {got} of {count} (nothing for {}s){dropped}",
        STALL.as_secs()
    )
    .into()
}
