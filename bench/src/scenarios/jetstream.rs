//! JetStream, Key-Value and the Object Store: each library's own API on a file-stored stream of
//! its own per run (deleted after it), against the same server.

use std::collections::VecDeque;
use std::time::Instant;

use futures_util::future::BoxFuture;

use super::request::percentile;
use super::{fresh, grouped, payload, runner, Ctx, Metric, Scenario};
use crate::client::BenchError;
use crate::raw_jetstream::{self, RawJs};

const SIZE: usize = 128;
const ACKED: usize = 5_000;
const ASYNC: usize = 100_000;
const IN_FLIGHT: usize = 256;
const KV_OPS: usize = 5_000;
const KV_KEYS: usize = 500;
const OBJECT: usize = 50 * 1024 * 1024;

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: format!("JetStream publish {} x 128 B, ack each", grouped(ACKED)),
            note: Some("JetStream rows: file storage, a stream of its own per run".to_owned()),
            ours: runner(|ctx| acked(ctx, Side::Ours)),
            theirs: runner(|ctx| acked(ctx, Side::Theirs)),
            ceiling: Some(runner(raw_acked)),
        },
        Scenario {
            name: format!(
                "JetStream async publish {} x 128 B, {IN_FLIGHT} in flight",
                grouped(ASYNC)
            ),
            note: None,
            ours: runner(|ctx| async_publish(ctx, Side::Ours)),
            theirs: runner(|ctx| async_publish(ctx, Side::Theirs)),
            ceiling: Some(runner(raw_async_publish)),
        },
        Scenario {
            name: format!("KV put {} sequential x 128 B", grouped(KV_OPS)),
            note: None,
            ours: runner(|ctx| kv(ctx, Side::Ours, KvOp::Put)),
            theirs: runner(|ctx| kv(ctx, Side::Theirs, KvOp::Put)),
            ceiling: Some(runner(|ctx| raw_kv(ctx, KvOp::Put))),
        },
        Scenario {
            name: format!("KV get {} sequential x 128 B", grouped(KV_OPS)),
            note: None,
            ours: runner(|ctx| kv(ctx, Side::Ours, KvOp::Get)),
            theirs: runner(|ctx| kv(ctx, Side::Theirs, KvOp::Get)),
            ceiling: Some(runner(|ctx| raw_kv(ctx, KvOp::Get))),
        },
        Scenario {
            name: "object store put 50 MiB".to_owned(),
            note: Some(
                "object store: peak RSS is the growth of the bench process's high-water mark \
                 during the run (reset before it through /proc/self/clear_refs)"
                    .to_owned(),
            ),
            ours: runner(|ctx| object(ctx, Side::Ours, ObjectOp::Put)),
            theirs: runner(|ctx| object(ctx, Side::Theirs, ObjectOp::Put)),
            ceiling: None,
        },
        Scenario {
            name: "object store get 50 MiB".to_owned(),
            note: None,
            ours: runner(|ctx| object(ctx, Side::Ours, ObjectOp::Get)),
            theirs: runner(|ctx| object(ctx, Side::Theirs, ObjectOp::Get)),
            ceiling: Some(runner(raw_object_get)),
        },
    ]
}

#[derive(Clone, Copy)]
enum Side {
    Ours,
    Theirs,
}

#[derive(Clone, Copy, PartialEq)]
enum KvOp {
    Put,
    Get,
}

#[derive(Clone, Copy, PartialEq)]
enum ObjectOp {
    Put,
    Get,
}

/// A file-stored stream `name` on `name.>`, made with our client (the same for both sides).
pub(super) async fn stream(
    ctx: &Ctx,
    name: &str,
) -> Result<nats_core::jetstream::Context, BenchError> {
    let client = nats_core::connect(ctx.url.as_str()).await?;
    let js = client.jetstream();
    js.create_stream(&nats_core::jetstream::StreamConfig {
        subjects: vec![format!("{name}.>")],
        ..nats_core::jetstream::StreamConfig::new(name)
    })
    .await?;
    Ok(js)
}

fn latencies(mut micros: Vec<f64>, secs: f64) -> Vec<Metric> {
    micros.sort_by(f64::total_cmp);
    vec![
        Metric::lower("p50 us", percentile(&micros, 0.50)),
        Metric::lower("p99 us", percentile(&micros, 0.99)),
        Metric::higher("msg/s", micros.len() as f64 / secs),
    ]
}

async fn acked(ctx: Ctx, side: Side) -> Result<Vec<Metric>, BenchError> {
    let name = fresh("BENCH_ACKED");
    let admin = stream(&ctx, &name).await?;
    let subject = format!("{name}.x");
    let body = payload(SIZE);
    let mut micros = Vec::with_capacity(ACKED);
    let start;
    match side {
        Side::Ours => {
            let js = nats_core::connect(ctx.url.as_str()).await?.jetstream();
            start = Instant::now();
            for _ in 0..ACKED {
                let sent = Instant::now();
                js.publish(subject.as_str(), body.clone()).await?;
                micros.push(sent.elapsed().as_secs_f64() * 1e6);
            }
        }
        Side::Theirs => {
            let js = async_nats::jetstream::new(async_nats::connect(ctx.url.as_str()).await?);
            start = Instant::now();
            for _ in 0..ACKED {
                let sent = Instant::now();
                js.publish(subject.clone(), body.clone()).await?.await?;
                micros.push(sent.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    admin.delete_stream(&name).await?;
    Ok(latencies(micros, secs))
}

/// The ceiling: a raw socket sending each `PUB` with a reply inbox and waiting for the `+ack`.
async fn raw_acked(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let name = fresh("BENCH_RAW");
    let admin = stream(&ctx, &name).await?;
    let subject = format!("{name}.x");
    let mut requester =
        crate::raw::RawRequester::new(&ctx.url, &subject, "bench.raw.ack", SIZE).await?;
    let mut micros = Vec::with_capacity(ACKED);
    let start = Instant::now();
    for _ in 0..ACKED {
        let sent = Instant::now();
        requester.round_trip().await?;
        micros.push(sent.elapsed().as_secs_f64() * 1e6);
    }
    let secs = start.elapsed().as_secs_f64();
    admin.delete_stream(&name).await?;
    Ok(latencies(micros, secs))
}

async fn async_publish(ctx: Ctx, side: Side) -> Result<Vec<Metric>, BenchError> {
    let name = fresh("BENCH_ASYNC");
    let admin = stream(&ctx, &name).await?;
    let subject = format!("{name}.x");
    let body = payload(SIZE);
    let start;
    match side {
        Side::Ours => {
            let options = nats_core::jetstream::ContextOptions::new().max_pending_acks(IN_FLIGHT);
            let js = nats_core::connect(ctx.url.as_str())
                .await?
                .jetstream_with(options);
            start = Instant::now();
            for _ in 0..ASYNC {
                // At most IN_FLIGHT unacknowledged: publish_async waits for a place.
                drop(js.publish_async(subject.as_str(), body.clone()).await?);
            }
            js.wait_for_acks().await?;
        }
        Side::Theirs => {
            let js = async_nats::jetstream::new(async_nats::connect(ctx.url.as_str()).await?);
            start = Instant::now();
            // async-nats' futures must be awaited (a window of them), or it stalls.
            let mut window: VecDeque<async_nats::jetstream::context::PublishAckFuture> =
                VecDeque::with_capacity(IN_FLIGHT);
            for _ in 0..ASYNC {
                if window.len() == IN_FLIGHT {
                    if let Some(oldest) = window.pop_front() {
                        oldest.await?;
                    }
                }
                window.push_back(js.publish(subject.clone(), body.clone()).await?);
            }
            for ack in window {
                ack.await?;
            }
        }
    }
    async_publish_rate(&admin, &name, start).await
}

/// The rate of an async publish run that started at `start`, once the stream `name` is seen
/// to hold every message (then it is deleted).
async fn async_publish_rate(
    admin: &nats_core::jetstream::Context,
    name: &str,
    start: Instant,
) -> Result<Vec<Metric>, BenchError> {
    let secs = start.elapsed().as_secs_f64();
    let stored = admin.stream_info(name).await?.state.messages;
    admin.delete_stream(name).await?;
    if stored != ASYNC as u64 {
        return Err(format!("{stored} of {ASYNC} stored").into());
    }
    Ok(vec![Metric::higher("msg/s", ASYNC as f64 / secs)])
}

/// The ceiling: a raw socket keeping `IN_FLIGHT` publishes in flight, each with a reply
/// subject of its own (what any client needs to match acks to messages), a new one written
/// for each ack that comes back.
async fn raw_async_publish(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let name = fresh("BENCH_RAW_ASYNC");
    let admin = stream(&ctx, &name).await?;
    let subject = format!("{name}.x");
    let reply = format!("_RAW.{name}");
    let mut raw = RawJs::connect(&ctx.url).await?;
    raw.queue(format!("SUB {reply}.* 1\r\n").as_bytes());
    raw.ping().await?;
    let frames = raw_jetstream::async_publish_frames(&subject, &reply, SIZE, ASYNC);
    let start = Instant::now();
    raw_jetstream::async_publish(&mut raw, &frames, &reply, IN_FLIGHT).await?;
    async_publish_rate(&admin, &name, start).await
}

async fn kv(ctx: Ctx, side: Side, op: KvOp) -> Result<Vec<Metric>, BenchError> {
    let bucket = fresh("bench_kv");
    let body = payload(SIZE);
    let keys: Vec<String> = (0..KV_KEYS).map(|i| format!("key.{i}")).collect();
    let mut micros = Vec::with_capacity(KV_OPS);
    let admin = nats_core::connect(ctx.url.as_str()).await?.jetstream();
    let start;
    match side {
        Side::Ours => {
            let js = nats_core::connect(ctx.url.as_str()).await?.jetstream();
            let kv = js
                .create_key_value(nats_core::kv::KvConfig::new(bucket.as_str()))
                .await?;
            for key in &keys {
                kv.put(key, body.clone()).await?;
            }
            start = Instant::now();
            for key in keys.iter().cycle().take(KV_OPS) {
                let sent = Instant::now();
                match op {
                    KvOp::Put => drop(kv.put(key, body.clone()).await?),
                    KvOp::Get => check_value(kv.get(key).await?.as_deref())?,
                }
                micros.push(sent.elapsed().as_secs_f64() * 1e6);
            }
        }
        Side::Theirs => {
            let js = async_nats::jetstream::new(async_nats::connect(ctx.url.as_str()).await?);
            let kv = js
                .create_key_value(async_nats::jetstream::kv::Config {
                    bucket: bucket.clone(),
                    history: 1,
                    ..Default::default()
                })
                .await?;
            for key in &keys {
                kv.put(key, body.clone()).await?;
            }
            start = Instant::now();
            for key in keys.iter().cycle().take(KV_OPS) {
                let sent = Instant::now();
                match op {
                    KvOp::Put => drop(kv.put(key, body.clone()).await?),
                    KvOp::Get => check_value(kv.get(key.as_str()).await?.as_deref())?,
                }
                micros.push(sent.elapsed().as_secs_f64() * 1e6);
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    admin.delete_key_value(&bucket).await?;
    Ok(kv_metrics(micros, secs))
}

/// The p50, p99 and op/s of a KV row.
fn kv_metrics(micros: Vec<f64>, secs: f64) -> Vec<Metric> {
    latencies(micros, secs)
        .into_iter()
        .map(|m| {
            if m.unit == "msg/s" {
                Metric::higher("op/s", m.value)
            } else {
                m
            }
        })
        .collect()
}

/// The ceiling of the KV rows, on a bucket made and filled with our client: a put is a raw
/// publish to `$KV.<bucket>.<key>` waiting for its ack, a get a raw direct get
/// (`$JS.API.DIRECT.GET.KV_<bucket>.$KV.<bucket>.<key>`) waiting for the message.
async fn raw_kv(ctx: Ctx, op: KvOp) -> Result<Vec<Metric>, BenchError> {
    let bucket = fresh("bench_kv_raw");
    let body = payload(SIZE);
    let keys: Vec<String> = (0..KV_KEYS).map(|i| format!("key.{i}")).collect();
    let js = nats_core::connect(ctx.url.as_str()).await?.jetstream();
    let kv = js
        .create_key_value(nats_core::kv::KvConfig::new(bucket.as_str()))
        .await?;
    for key in &keys {
        kv.put(key, body.clone()).await?;
    }
    let reply = format!("_RAW.{bucket}");
    let requests: Vec<Vec<u8>> = keys
        .iter()
        .map(|key| match op {
            KvOp::Put => {
                raw_jetstream::pub_frame(&format!("$KV.{bucket}.{key}"), Some(&reply), &body)
            }
            KvOp::Get => raw_jetstream::pub_frame(
                &format!("$JS.API.DIRECT.GET.KV_{bucket}.$KV.{bucket}.{key}"),
                Some(&reply),
                b"",
            ),
        })
        .collect();
    let mut raw = RawJs::connect(&ctx.url).await?;
    raw.queue(format!("SUB {reply} 1\r\n").as_bytes());
    raw.ping().await?;
    let mut micros = Vec::with_capacity(KV_OPS);
    let start = Instant::now();
    for request in requests.iter().cycle().take(KV_OPS) {
        let sent = Instant::now();
        let len = raw_jetstream::round_trip(&mut raw, request, &reply).await?;
        if op == KvOp::Get && len != SIZE {
            return Err(format!("raw: a value of {len} bytes").into());
        }
        micros.push(sent.elapsed().as_secs_f64() * 1e6);
    }
    let secs = start.elapsed().as_secs_f64();
    js.delete_key_value(&bucket).await?;
    Ok(kv_metrics(micros, secs))
}

fn check_value(value: Option<&[u8]>) -> Result<(), BenchError> {
    match value {
        Some(value) if value.len() == SIZE => Ok(()),
        other => Err(format!("unexpected value {other:?}").into()),
    }
}

/// Resets this process's peak resident set (`VmHWM`) to its current size.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// `VmRSS` or `VmHWM` of this process, in KiB.
fn status_kib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
        })
        .unwrap_or(0.0)
}

/// 50 MiB of a repeated non-trivial pattern.
fn object_source() -> tokio::io::Take<tokio::io::Repeat> {
    tokio::io::AsyncReadExt::take(tokio::io::repeat(0x5a), OBJECT as u64)
}

async fn object(ctx: Ctx, side: Side, op: ObjectOp) -> Result<Vec<Metric>, BenchError> {
    let bucket = fresh("bench_obj");
    let admin = nats_core::connect(ctx.url.as_str()).await?.jetstream();
    let (secs, peak_mib) = match side {
        Side::Ours => {
            let js = nats_core::connect(ctx.url.as_str()).await?.jetstream();
            let store = js
                .create_object_store(nats_core::object_store::ObjectStoreConfig::new(
                    bucket.as_str(),
                ))
                .await?;
            let work: BoxFuture<'_, Result<(), BenchError>> = match op {
                ObjectOp::Put => Box::pin(async {
                    store.put("large", &mut object_source()).await?;
                    Ok(())
                }),
                ObjectOp::Get => {
                    store.put("large", &mut object_source()).await?;
                    Box::pin(async {
                        let mut reader = store.get("large").await?;
                        let n = tokio::io::copy(&mut reader, &mut tokio::io::sink()).await?;
                        expect_size(n)
                    })
                }
            };
            measure(work).await?
        }
        Side::Theirs => {
            let js = async_nats::jetstream::new(async_nats::connect(ctx.url.as_str()).await?);
            let store = js
                .create_object_store(async_nats::jetstream::object_store::Config {
                    bucket: bucket.clone(),
                    ..Default::default()
                })
                .await?;
            let work: BoxFuture<'_, Result<(), BenchError>> = match op {
                ObjectOp::Put => Box::pin(async {
                    store.put("large", &mut object_source()).await?;
                    Ok(())
                }),
                ObjectOp::Get => {
                    store.put("large", &mut object_source()).await?;
                    Box::pin(async {
                        let mut object = store.get("large").await?;
                        let n = tokio::io::copy(&mut object, &mut tokio::io::sink()).await?;
                        expect_size(n)
                    })
                }
            };
            measure(work).await?
        }
    };
    admin.delete_object_store(&bucket).await?;
    Ok(vec![
        Metric::higher("MB/s", OBJECT as f64 / secs / 1e6),
        Metric::lower("peak RSS MiB", peak_mib),
    ])
}

/// The ceiling of the object get: the object put with our client, then its chunks
/// (`$O.<bucket>.C.<nuid>`) replayed by a raw push consumer (no digest check).
async fn raw_object_get(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let bucket = fresh("bench_obj_raw");
    let js = nats_core::connect(ctx.url.as_str()).await?.jetstream();
    let store = js
        .create_object_store(nats_core::object_store::ObjectStoreConfig::new(
            bucket.as_str(),
        ))
        .await?;
    let info = store.put("large", &mut object_source()).await?;
    let chunks = usize::try_from(info.chunks)?;
    let mut raw = RawJs::connect(&ctx.url).await?;
    let stream = format!("OBJ_{bucket}");
    let filter = format!("$O.{bucket}.C.{}", info.nuid);
    let inbox = format!("_RAW.{bucket}");
    let (secs, peak_mib) = measure(Box::pin(async {
        let replayed =
            raw_jetstream::push_replay(&mut raw, &stream, Some(&filter), "all", &inbox, chunks)
                .await?;
        expect_size(replayed.bytes as u64)
    }))
    .await?;
    js.delete_object_store(&bucket).await?;
    Ok(vec![
        Metric::higher("MB/s", OBJECT as f64 / secs / 1e6),
        Metric::lower("peak RSS MiB", peak_mib),
    ])
}

/// Runs `work`: seconds taken and the growth of the peak resident set, in MiB.
async fn measure(work: BoxFuture<'_, Result<(), BenchError>>) -> Result<(f64, f64), BenchError> {
    reset_peak();
    let before = status_kib("VmRSS:");
    let start = Instant::now();
    work.await?;
    let secs = start.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:");
    Ok((secs, (peak - before).max(0.0) / 1024.0))
}

fn expect_size(n: u64) -> Result<(), BenchError> {
    if n == OBJECT as u64 {
        Ok(())
    } else {
        Err(format!("read {n} of {OBJECT} bytes").into())
    }
}
