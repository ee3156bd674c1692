//! Request/reply: a responder on its own connection (same library, same process) echoes the
//! payload; one requester measures round trips one at a time, then many requesters measure
//! throughput.

use std::time::Instant;

use tokio::task::{JoinHandle, JoinSet};

use super::{grouped, payload, runner, Ctx, Metric, Scenario};
use crate::client::{BenchClient, BenchError, Ours, Theirs};

const SUBJECT: &str = "bench.echo";
const SIZE: usize = 16;
const SEQUENTIAL: usize = 20_000;
/// Unmeasured round trips first, so connections and buffers are warm.
const WARM_UP: usize = 200;
const REQUESTERS: usize = 64;
const CONCURRENT_TOTAL: usize = 100_000;

/// The scaling rows: how throughput and tail latency grow with the number of requesters.
const SCALING: [(usize, usize); 2] = [(1, 20_000), (512, 100_000)];

pub(super) fn scenarios() -> Vec<Scenario> {
    let mut scenarios = vec![
        Scenario {
            name: sequential_name("request"),
            note: None,
            ours: runner(sequential::<Ours>),
            theirs: runner(sequential::<Theirs>),
            ceiling: Some(runner(raw_sequential)),
        },
        Scenario {
            name: concurrent_name("request"),
            note: None,
            ours: runner(concurrent::<Ours>),
            theirs: runner(concurrent::<Theirs>),
            ceiling: None,
        },
    ];
    scenarios.extend(SCALING.into_iter().map(|(requesters, total)| Scenario {
        name: scaling_name(requesters, total),
        note: None,
        ours: runner(move |ctx| scaling::<Ours>(ctx, requesters, total)),
        theirs: runner(move |ctx| scaling::<Theirs>(ctx, requesters, total)),
        ceiling: None,
    }));
    scenarios
}

/// `request <total> by <n> task(s) x 16 B`.
fn scaling_name(requesters: usize, total: usize) -> String {
    let tasks = if requesters == 1 { "task" } else { "tasks" };
    format!("request {} by {requesters} {tasks} x 16 B", grouped(total))
}

/// The subjects of the raw round trip, apart from the clients' own.
const RAW_SUBJECT: &str = "bench.raw.echo";
const RAW_REPLY: &str = "bench.raw.reply";

/// The ceiling of a round trip: a raw requester and a raw responder, each frame pre-encoded.
pub(super) async fn raw_sequential(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let _responder =
        Responder(crate::raw::serve_echo(&ctx.url, RAW_SUBJECT, RAW_REPLY, SIZE).await?);
    let mut requester =
        crate::raw::RawRequester::new(&ctx.url, RAW_SUBJECT, RAW_REPLY, SIZE).await?;
    for _ in 0..WARM_UP {
        requester.round_trip().await?;
    }
    let mut micros = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let start = Instant::now();
        let len = requester.round_trip().await?;
        micros.push(start.elapsed().as_secs_f64() * 1e6);
        if len != SIZE {
            return Err(format!("raw reply of {len} bytes, expected {SIZE}").into());
        }
    }
    Ok(latencies(micros))
}

async fn scaling<C: BenchClient>(
    ctx: Ctx,
    requesters: usize,
    total: usize,
) -> Result<Vec<Metric>, BenchError> {
    let (client, _responder) = setup::<C>(&ctx).await?;
    let (rate, micros) = run_concurrent(&client, SUBJECT, requesters, total).await?;
    Ok(vec![
        Metric::higher("req/s", rate),
        Metric::lower("p99 us", percentile(&micros, 0.99)),
    ])
}

/// `<what> 20,000 sequential x 16 B`.
pub(super) fn sequential_name(what: &str) -> String {
    format!("{what} {} sequential x 16 B", grouped(SEQUENTIAL))
}

/// `<what> 100,000 by 64 tasks x 16 B`.
pub(crate) fn concurrent_name(what: &str) -> String {
    format!(
        "{what} {} by {REQUESTERS} tasks x 16 B",
        grouped(CONCURRENT_TOTAL)
    )
}

/// The responder's task, stopped when the run ends however it ends.
struct Responder(JoinHandle<()>);

impl Drop for Responder {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn setup<C: BenchClient>(ctx: &Ctx) -> Result<(C, Responder), BenchError> {
    let responder = C::connect(&ctx.url, None).await?;
    let task = Responder(responder.serve_echo(SUBJECT).await?);
    let requester = C::connect(&ctx.url, None).await?;
    warm_up(&requester, SUBJECT).await?;
    Ok((requester, task))
}

async fn sequential<C: BenchClient>(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let (client, _responder) = setup::<C>(&ctx).await?;
    measure_sequential(&client, SUBJECT).await
}

async fn concurrent<C: BenchClient>(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let (client, _responder) = setup::<C>(&ctx).await?;
    measure_concurrent(&client, SUBJECT).await
}

/// Sends unmeasured requests to `subject` so connections and buffers are warm.
pub(super) async fn warm_up<C: BenchClient>(
    client: &C,
    subject: &'static str,
) -> Result<(), BenchError> {
    for _ in 0..WARM_UP {
        check(&client.request(subject, payload(SIZE)).await?)?;
    }
    Ok(())
}

/// Round trips to `subject` one at a time: p50, p99 and mean latency.
pub(super) async fn measure_sequential<C: BenchClient>(
    client: &C,
    subject: &'static str,
) -> Result<Vec<Metric>, BenchError> {
    let payload = payload(SIZE);
    let mut micros = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let start = Instant::now();
        let reply = client.request(subject, payload.clone()).await?;
        micros.push(start.elapsed().as_secs_f64() * 1e6);
        check(&reply)?;
    }
    Ok(latencies(micros))
}

/// p50, p99 and mean of round trips in microseconds.
fn latencies(mut micros: Vec<f64>) -> Vec<Metric> {
    micros.sort_by(f64::total_cmp);
    let mean = micros.iter().sum::<f64>() / micros.len() as f64;
    vec![
        Metric::lower("p50 us", percentile(&micros, 0.50)),
        Metric::lower("p99 us", percentile(&micros, 0.99)),
        Metric::lower("mean us", mean),
    ]
}

/// Round trips to `subject` from many requesters at once: requests per second.
pub(super) async fn measure_concurrent<C: BenchClient>(
    client: &C,
    subject: &'static str,
) -> Result<Vec<Metric>, BenchError> {
    let (rate, _) = run_concurrent(client, subject, REQUESTERS, CONCURRENT_TOTAL).await?;
    Ok(vec![Metric::higher("req/s", rate)])
}

/// `total` round trips to `subject` from `requesters` tasks at once: requests per second and
/// every round trip's latency in microseconds, sorted.
async fn run_concurrent<C: BenchClient>(
    client: &C,
    subject: &'static str,
    requesters: usize,
    total: usize,
) -> Result<(f64, Vec<f64>), BenchError> {
    let start = Instant::now();
    // A JoinSet aborts the other requesters when one fails and the set is dropped.
    let mut tasks = JoinSet::new();
    for i in 0..requesters {
        let client = client.clone();
        // Spread the remainder so exactly `total` requests are sent.
        let share = total / requesters + usize::from(i < total % requesters);
        tasks.spawn(async move {
            let payload = payload(SIZE);
            let mut micros = Vec::with_capacity(share);
            for _ in 0..share {
                let sent = Instant::now();
                check(&client.request(subject, payload.clone()).await?)?;
                micros.push(sent.elapsed().as_secs_f64() * 1e6);
            }
            Ok::<_, BenchError>(micros)
        });
    }
    let mut micros = Vec::with_capacity(total);
    while let Some(done) = tasks.join_next().await {
        micros.extend(done??);
    }
    let secs = start.elapsed().as_secs_f64();
    micros.sort_by(f64::total_cmp);
    Ok((total as f64 / secs, micros))
}

pub(super) fn check(reply: &[u8]) -> Result<(), BenchError> {
    if reply.len() == SIZE {
        Ok(())
    } else {
        Err(format!("reply of {} bytes, expected {SIZE}", reply.len()).into())
    }
}

/// The value below which `q` of the sorted samples fall (nearest rank).
pub(super) fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
