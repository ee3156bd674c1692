//! Publish only: `count` messages of `size` bytes, timed until `flush` returns.

use std::time::Instant;

use super::{grouped, payload, runner, size_name, Ctx, Metric, Scenario};
use crate::client::{BenchClient, BenchError, Ours, Theirs};

const SUBJECT: &str = "bench.publish";

pub(super) fn scenarios() -> Vec<Scenario> {
    [(16, 1_000_000), (1024, 200_000)]
        .into_iter()
        .map(|(size, count)| Scenario {
            name: format!("publish {} x {}", grouped(count), size_name(size)),
            note: None,
            ours: runner(move |ctx| run::<Ours>(ctx, size, count)),
            theirs: runner(move |ctx| run::<Theirs>(ctx, size, count)),
            ceiling: Some(runner(move |ctx| raw(ctx, size, count))),
        })
        .collect()
}

async fn run<C: BenchClient>(
    ctx: Ctx,
    size: usize,
    count: usize,
) -> Result<Vec<Metric>, BenchError> {
    let client = C::connect(&ctx.url, None).await?;
    let payload = payload(size);
    let start = Instant::now();
    for _ in 0..count {
        client.publish(SUBJECT, payload.clone()).await?;
    }
    client.flush().await?;
    let secs = start.elapsed().as_secs_f64();
    Ok(vec![
        Metric::higher("msg/s", count as f64 / secs),
        Metric::higher("MB/s", (count * size) as f64 / secs / 1e6),
    ])
}

/// The ceiling: the same frames from one buffer over a raw socket, timed to the `PONG`.
async fn raw(ctx: Ctx, size: usize, count: usize) -> Result<Vec<Metric>, BenchError> {
    let secs = crate::raw::publish(&ctx.url, SUBJECT, size, count).await?;
    Ok(vec![
        Metric::higher("msg/s", count as f64 / secs),
        Metric::higher("MB/s", (count * size) as f64 / secs / 1e6),
    ])
}
