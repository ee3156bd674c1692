//! The scenarios: each file adds its rows to [`all`].
//!
//! A scenario is a name and two runners, one per client. A runner does one timed run against
//! the shared server and returns its metrics; the orchestrator in `main.rs` alternates the two
//! runners, and `report.rs` turns the runs into rows. Adding a scenario is one more file with a
//! `scenarios()` function and one line in [`all`].

use std::future::Future;
use std::pin::Pin;

use crate::client::BenchError;

mod consume;
mod jetstream;
mod memory;
mod micro;
mod publish;
mod pubsub;
mod request;
mod scaling;

pub(crate) use memory::child_main as memory_child_main;
pub(crate) use memory::CHILD_FLAG as MEMORY_CHILD_FLAG;
pub(crate) use request::concurrent_name;

/// Every scenario, in the order the table shows them.
pub(crate) fn all() -> Vec<Scenario> {
    let mut all = Vec::new();
    all.extend(publish::scenarios());
    all.extend(pubsub::scenarios());
    all.extend(request::scenarios());
    all.extend(micro::scenarios());
    all.extend(scaling::scenarios());
    all.extend(jetstream::scenarios());
    all.extend(consume::scenarios());
    all.extend(memory::scenarios());
    all
}

/// What every run gets.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    /// The shared server's URL.
    pub(crate) url: String,
    /// Keep each library's default subscription limits instead of raising them.
    pub(crate) default_limits: bool,
}

/// Whether a bigger value is a better one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Better {
    /// Throughput.
    Higher,
    /// Latency, memory.
    Lower,
}

/// One number measured by one run.
#[derive(Debug, Clone)]
pub(crate) struct Metric {
    /// Its unit, which also names the row: `msg/s`, `p99 us`, ...
    pub(crate) unit: &'static str,
    /// Which way is better.
    pub(crate) better: Better,
    /// The value.
    pub(crate) value: f64,
}

impl Metric {
    /// A throughput.
    pub(crate) fn higher(unit: &'static str, value: f64) -> Self {
        Metric {
            unit,
            better: Better::Higher,
            value,
        }
    }

    /// A latency or a size.
    pub(crate) fn lower(unit: &'static str, value: f64) -> Self {
        Metric {
            unit,
            better: Better::Lower,
            value,
        }
    }
}

/// What a runner returns.
pub(crate) type RunFuture = Pin<Box<dyn Future<Output = Result<Vec<Metric>, BenchError>> + Send>>;

/// One side's timed run.
pub(crate) type Runner = Box<dyn Fn(Ctx) -> RunFuture + Send + Sync>;

/// A benchmark scenario: the same work done by each client.
pub(crate) struct Scenario {
    /// Shown in the table and matched by `--only`.
    pub(crate) name: String,
    /// A remark printed under the table, such as raised limits.
    pub(crate) note: Option<String>,
    /// nats-core's run.
    pub(crate) ours: Runner,
    /// async-nats' run.
    pub(crate) theirs: Runner,
    /// The same work over raw sockets with pre-encoded frames: the physical limit our rows
    /// are measured against (a fraction for throughput, microseconds added for latency).
    pub(crate) ceiling: Option<Runner>,
}

/// Boxes an async function of the context into a [`Runner`].
pub(crate) fn runner<F, Fut>(run: F) -> Runner
where
    F: Fn(Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Vec<Metric>, BenchError>> + Send + 'static,
{
    Box::new(move |ctx| Box::pin(run(ctx)))
}

/// A name no run used before, for streams and buckets of its own: `<prefix>_<n>`.
pub(crate) fn fresh(prefix: &str) -> String {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    format!(
        "{prefix}_{}",
        RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// A payload of `size` bytes.
pub(crate) fn payload(size: usize) -> bytes::Bytes {
    bytes::Bytes::from(vec![b'x'; size])
}

/// `1000000` as `1,000,000`, for scenario names.
pub(crate) fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A payload size for scenario names: `16 B`, `1 KiB`.
pub(crate) fn size_name(size: usize) -> String {
    if size >= 1024 && size % 1024 == 0 {
        format!("{} KiB", size / 1024)
    } else {
        format!("{size} B")
    }
}
