//! How cost grows with the work: many subscriptions on distinct subjects, and one subject fanned
//! out to many subscribers in the same process. (The requester curve is in `request.rs`.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::{grouped, payload, runner, Ctx, Metric, Scenario};
use crate::client::{BenchClient, BenchError, BenchSub, Limits, Ours, Theirs};

const SIZE: usize = 16;
const SUBJECTS: usize = 10_000;
const SUBJECTS_TOTAL: usize = 200_000;
const FAN_OUT: usize = 100;
const FAN_OUT_MESSAGES: usize = 2_000;
/// No delivery for this long: messages were lost.
const STALL: Duration = Duration::from_secs(10);

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: format!(
                "pub+sub {} x 16 B over {} subjects",
                grouped(SUBJECTS_TOTAL),
                grouped(SUBJECTS)
            ),
            note: Some(format!(
                "subjects: one subscription and one task per subject, messages published \
                 round-robin over the {} subjects",
                grouped(SUBJECTS)
            )),
            ours: runner(distinct_subjects::<Ours>),
            theirs: runner(distinct_subjects::<Theirs>),
            ceiling: None,
        },
        Scenario {
            name: format!(
                "fan-out {} x 16 B to {FAN_OUT} subscribers",
                grouped(FAN_OUT_MESSAGES)
            ),
            note: None,
            ours: runner(fan_out::<Ours>),
            theirs: runner(fan_out::<Theirs>),
            ceiling: None,
        },
    ]
}

/// `bench.scale.0` .. `bench.scale.9999`, made once for the whole run.
fn subjects() -> &'static [&'static str] {
    static SUBJECTS_CELL: OnceLock<Vec<&'static str>> = OnceLock::new();
    SUBJECTS_CELL.get_or_init(|| {
        (0..SUBJECTS)
            .map(|i| &*Box::leak(format!("bench.scale.{i}").into_boxed_str()))
            .collect()
    })
}

/// Counts deliveries across subscriptions and wakes the run when all arrived.
#[derive(Default)]
struct Deliveries {
    count: AtomicU64,
    done: Notify,
}

impl Deliveries {
    /// Spawns a task counting `sub`'s messages until `expected` arrived in total.
    fn consume<S: BenchSub>(self: &Arc<Self>, tasks: &mut JoinSet<()>, mut sub: S, expected: u64) {
        let deliveries = Arc::clone(self);
        tasks.spawn(async move {
            while sub.next_len().await.is_some() {
                if deliveries.count.fetch_add(1, Ordering::Relaxed) + 1 == expected {
                    deliveries.done.notify_one();
                }
            }
        });
    }

    /// Waits until `expected` deliveries, failing when nothing arrives for [`STALL`].
    async fn wait(&self, expected: u64) -> Result<(), BenchError> {
        let mut last = u64::MAX;
        loop {
            let now = self.count.load(Ordering::Relaxed);
            if now >= expected {
                return Ok(());
            }
            if now == last {
                return Err(format!("LOST MESSAGES: {now} of {expected} delivered").into());
            }
            last = now;
            let _ = tokio::time::timeout(STALL, self.done.notified()).await;
        }
    }
}

async fn distinct_subjects<C: BenchClient>(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let client = C::connect(&ctx.url, None).await?;
    let deliveries = Arc::new(Deliveries::default());
    let mut tasks = JoinSet::new();
    for subject in subjects() {
        let sub = client.subscribe((*subject).to_owned()).await?;
        deliveries.consume(&mut tasks, sub, SUBJECTS_TOTAL as u64);
    }
    client.flush().await?;
    let payload = payload(SIZE);
    let start = Instant::now();
    for subject in subjects().iter().cycle().take(SUBJECTS_TOTAL) {
        client.publish(subject, payload.clone()).await?;
    }
    client.flush().await?;
    deliveries.wait(SUBJECTS_TOTAL as u64).await?;
    let secs = start.elapsed().as_secs_f64();
    Ok(vec![Metric::higher("msg/s", SUBJECTS_TOTAL as f64 / secs)])
}

async fn fan_out<C: BenchClient>(ctx: Ctx) -> Result<Vec<Metric>, BenchError> {
    let limits = Limits {
        msgs: FAN_OUT_MESSAGES,
        bytes: FAN_OUT_MESSAGES * SIZE,
    };
    let client = C::connect(&ctx.url, Some(limits)).await?;
    let expected = (FAN_OUT * FAN_OUT_MESSAGES) as u64;
    let deliveries = Arc::new(Deliveries::default());
    let mut tasks = JoinSet::new();
    for _ in 0..FAN_OUT {
        let sub = client.subscribe("bench.fanout".to_owned()).await?;
        deliveries.consume(&mut tasks, sub, expected);
    }
    client.flush().await?;
    let payload = payload(SIZE);
    let start = Instant::now();
    for _ in 0..FAN_OUT_MESSAGES {
        client.publish("bench.fanout", payload.clone()).await?;
    }
    client.flush().await?;
    deliveries.wait(expected).await?;
    let secs = start.elapsed().as_secs_f64();
    Ok(vec![Metric::higher("deliveries/s", expected as f64 / secs)])
}
