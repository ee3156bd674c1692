//! Reading streams back: a pull consumer's continuous `messages()` and `fetch` in batches (both
//! acking each message), an ordered consumer replaying a stream, and a Key-Value watch
//! delivering the initial values of 10,000 keys. The stream is filled before the timer starts.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::{fresh, grouped, payload, runner, Ctx, Metric, Scenario};
use crate::client::BenchError;
use crate::raw_jetstream::{self, Pulls, RawJs};

const SIZE: usize = 128;
const STORED: usize = 200_000;
const BATCH: usize = 500;
const KEYS: usize = 10_000;

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: format!("pull consume {} x 128 B, messages() + ack", grouped(STORED)),
            note: None,
            ours: runner(|ctx| consume(ctx, Side::Ours, Mode::Messages)),
            theirs: runner(|ctx| consume(ctx, Side::Theirs, Mode::Messages)),
            ceiling: Some(runner(|ctx| raw_pull(ctx, Pulls::Continuous))),
        },
        Scenario {
            name: format!(
                "pull fetch {} x 128 B in batches of {BATCH} + ack",
                grouped(STORED)
            ),
            note: None,
            ours: runner(|ctx| consume(ctx, Side::Ours, Mode::Fetch)),
            theirs: runner(|ctx| consume(ctx, Side::Theirs, Mode::Fetch)),
            ceiling: Some(runner(|ctx| raw_pull(ctx, Pulls::OneAtATime))),
        },
        Scenario {
            name: format!("ordered consumer {} x 128 B", grouped(STORED)),
            note: None,
            ours: runner(|ctx| consume(ctx, Side::Ours, Mode::Ordered)),
            theirs: runner(|ctx| consume(ctx, Side::Theirs, Mode::Ordered)),
            ceiling: Some(runner(raw_replay)),
        },
        Scenario {
            name: format!("KV watch {} keys to the initial values' end", grouped(KEYS)),
            note: None,
            ours: runner(|ctx| watch(ctx, Side::Ours)),
            theirs: runner(|ctx| watch(ctx, Side::Theirs)),
            ceiling: Some(runner(raw_watch)),
        },
    ]
}

#[derive(Clone, Copy)]
enum Side {
    Ours,
    Theirs,
}

#[derive(Clone, Copy)]
enum Mode {
    Messages,
    Fetch,
    Ordered,
}

/// A stream `name` holding `STORED` messages, filled with our async publish.
async fn filled(ctx: &Ctx, name: &str) -> Result<nats_core::jetstream::Context, BenchError> {
    let js = super::jetstream::stream(ctx, name).await?;
    let subject = format!("{name}.x");
    let body = payload(SIZE);
    for _ in 0..STORED {
        drop(js.publish_async(subject.as_str(), body.clone()).await?);
    }
    js.wait_for_acks().await?;
    Ok(js)
}

async fn consume(ctx: Ctx, side: Side, mode: Mode) -> Result<Vec<Metric>, BenchError> {
    let name = fresh("BENCH_CONSUME");
    let admin = filled(&ctx, &name).await?;
    let start = Instant::now();
    let got = match side {
        Side::Ours => ours(&ctx, &name, mode).await?,
        Side::Theirs => theirs(&ctx, &name, mode).await?,
    };
    let secs = start.elapsed().as_secs_f64();
    admin.delete_stream(&name).await?;
    if got != STORED {
        return Err(format!("read {got} of {STORED}").into());
    }
    Ok(vec![Metric::higher("msg/s", STORED as f64 / secs)])
}

/// The ceiling of the pull rows: the same durable consumer (made with our client before the
/// timer), read and acked over a raw socket: requests of `BATCH` kept topped up for
/// `messages()`, one at a time for `fetch`, with the expiry each row's client asks for.
async fn raw_pull(ctx: Ctx, pulls: Pulls) -> Result<Vec<Metric>, BenchError> {
    let name = fresh("BENCH_CONSUME_RAW");
    let admin = filled(&ctx, &name).await?;
    admin
        .stream(&name)
        .await?
        .create_consumer(&nats_core::jetstream::ConsumerConfig::durable("bench"))
        .await?;
    let expires = match pulls {
        // nats-core's `messages()` default; `fetch` as the rows ask.
        Pulls::Continuous => Duration::from_secs(30),
        Pulls::OneAtATime => Duration::from_secs(5),
    };
    let start = Instant::now();
    let mut raw = RawJs::connect(&ctx.url).await?;
    let inbox = format!("_RAW.{name}");
    let pull = raw_jetstream::Pull {
        stream: &name,
        consumer: "bench",
        inbox: &inbox,
        count: STORED,
        batch: BATCH,
        expires,
        pulls,
    };
    raw_jetstream::pull(&mut raw, pull).await?;
    let secs = start.elapsed().as_secs_f64();
    admin.delete_stream(&name).await?;
    Ok(vec![Metric::higher("msg/s", STORED as f64 / secs)])
}

/// The ceiling of the ordered consumer: the server's fastest replay, a raw push consumer
/// without acks (flow control and heartbeats as an ordered consumer has).
async fn raw_replay(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let name = fresh("BENCH_CONSUME_RAW");
    let admin = filled(&ctx, &name).await?;
    let start = Instant::now();
    let mut raw = RawJs::connect(&ctx.url).await?;
    let inbox = format!("_RAW.{name}");
    raw_jetstream::push_replay(&mut raw, &name, None, "all", &inbox, STORED).await?;
    let secs = start.elapsed().as_secs_f64();
    admin.delete_stream(&name).await?;
    Ok(vec![Metric::higher("msg/s", STORED as f64 / secs)])
}

async fn ours(ctx: &Ctx, name: &str, mode: Mode) -> Result<usize, BenchError> {
    use nats_core::jetstream::{ConsumerConfig, OrderedConfig};
    let js = nats_core::connect(ctx.url.as_str()).await?.jetstream();
    let stream = js.stream(name).await?;
    let mut got = 0;
    match mode {
        Mode::Messages => {
            let consumer = stream
                .create_consumer(&ConsumerConfig::durable("bench"))
                .await?;
            let mut messages = consumer.messages().await?;
            while got < STORED {
                let Some(message) = messages.next().await else {
                    break;
                };
                message?.ack().await?;
                got += 1;
            }
        }
        Mode::Fetch => {
            let consumer = stream
                .create_consumer(&ConsumerConfig::durable("bench"))
                .await?;
            while got < STORED {
                let batch = consumer
                    .fetch()
                    .batch(BATCH)
                    .expires(Duration::from_secs(5))
                    .await?;
                for message in batch {
                    message.ack().await?;
                    got += 1;
                }
            }
        }
        Mode::Ordered => {
            let mut ordered = stream.ordered_consumer(OrderedConfig::default()).await?;
            while got < STORED {
                let Some(message) = ordered.next().await else {
                    break;
                };
                message?;
                got += 1;
            }
        }
    }
    Ok(got)
}

async fn theirs(ctx: &Ctx, name: &str, mode: Mode) -> Result<usize, BenchError> {
    use async_nats::jetstream::consumer::{pull, AckPolicy};
    let js = async_nats::jetstream::new(async_nats::connect(ctx.url.as_str()).await?);
    let stream = js.get_stream(name).await?;
    let durable = || pull::Config {
        durable_name: Some("bench".to_owned()),
        ack_policy: AckPolicy::Explicit,
        ..Default::default()
    };
    let mut got = 0;
    match mode {
        Mode::Messages => {
            let consumer = stream.create_consumer(durable()).await?;
            let mut messages = consumer.messages().await?;
            while got < STORED {
                let Some(message) = messages.next().await else {
                    break;
                };
                message?.ack().await?;
                got += 1;
            }
        }
        Mode::Fetch => {
            let consumer = stream.create_consumer(durable()).await?;
            while got < STORED {
                let mut batch = consumer
                    .fetch()
                    .max_messages(BATCH)
                    .expires(Duration::from_secs(5))
                    .messages()
                    .await?;
                while let Some(message) = batch.next().await {
                    message?.ack().await?;
                    got += 1;
                }
            }
        }
        Mode::Ordered => {
            let consumer = stream
                .create_consumer(pull::OrderedConfig::default())
                .await?;
            let mut messages = consumer.messages().await?;
            while got < STORED {
                let Some(message) = messages.next().await else {
                    break;
                };
                message?;
                got += 1;
            }
        }
    }
    Ok(got)
}

/// A bucket of `KEYS` keys, written with our async publish: its admin context and name.
async fn watched(ctx: &Ctx) -> Result<(nats_core::jetstream::Context, String), BenchError> {
    let bucket = fresh("bench_watch");
    let client = nats_core::connect(ctx.url.as_str()).await?;
    let admin = client.jetstream();
    let kv = admin
        .create_key_value(nats_core::kv::KvConfig::new(bucket.as_str()))
        .await?;
    let body = payload(SIZE);
    let ack_js = client.jetstream();
    for i in 0..KEYS {
        drop(
            ack_js
                .publish_async(format!("$KV.{bucket}.key.{i}"), body.clone())
                .await?,
        );
    }
    ack_js.wait_for_acks().await?;
    drop(kv);
    Ok((admin, bucket))
}

/// The ceiling of the KV watch: a raw push consumer on the bucket's stream, the last value
/// per key, until all `KEYS` came.
async fn raw_watch(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let (admin, bucket) = watched(&ctx).await?;
    let start = Instant::now();
    let mut raw = RawJs::connect(&ctx.url).await?;
    let inbox = format!("_RAW.{bucket}");
    let stream = format!("KV_{bucket}");
    let filter = format!("$KV.{bucket}.>");
    let replayed = raw_jetstream::push_replay(
        &mut raw,
        &stream,
        Some(&filter),
        "last_per_subject",
        &inbox,
        KEYS,
    )
    .await?;
    let secs = start.elapsed().as_secs_f64();
    admin.delete_key_value(&bucket).await?;
    if replayed.bytes != KEYS * SIZE {
        return Err(format!("raw: {} bytes of values", replayed.bytes).into());
    }
    Ok(vec![Metric::lower("seconds", secs)])
}

async fn watch(ctx: Ctx, side: Side) -> Result<Vec<Metric>, BenchError> {
    let (admin, bucket) = watched(&ctx).await?;
    let start = Instant::now();
    let seen = match side {
        Side::Ours => {
            let js = nats_core::connect(ctx.url.as_str()).await?.jetstream();
            let kv = js.key_value(&bucket).await?;
            let mut watch = kv.watch_all().await?;
            let mut seen = 0;
            while let Some(event) = watch.next().await {
                match event? {
                    nats_core::kv::WatchEvent::Entry(_) => seen += 1,
                    nats_core::kv::WatchEvent::InitialValuesDone => break,
                }
            }
            seen
        }
        Side::Theirs => {
            let js = async_nats::jetstream::new(async_nats::connect(ctx.url.as_str()).await?);
            let kv = js.get_key_value(bucket.as_str()).await?;
            // `watch_all` only delivers updates in async-nats; the initial values come with
            // `watch_with_history`.
            let mut watch = kv.watch_with_history(">").await?;
            let mut seen = 0;
            // async-nats has no done marker: the initial values end with the entry whose
            // delta is 0.
            while let Some(entry) = watch.next().await {
                seen += 1;
                if entry?.delta == 0 {
                    break;
                }
            }
            seen
        }
    };
    let secs = start.elapsed().as_secs_f64();
    admin.delete_key_value(&bucket).await?;
    if seen != KEYS {
        return Err(format!("watched {seen} of {KEYS} keys").into());
    }
    Ok(vec![Metric::lower("seconds", secs)])
}
