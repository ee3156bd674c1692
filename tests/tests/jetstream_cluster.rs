//! JetStream on a 3-node cluster: an R3 stream keeps accepting publishes and a pull
//! consumer's `messages()` keeps delivering while the node leading the stream is killed.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use nats_core::jetstream::{ConsumerConfig, Context, PublishOptions, StreamConfig};
use nats_core::ConnectOptions;
use nats_tests::NatsCluster;

/// How long a step that waits on an election may take.
const ELECTION: Duration = Duration::from_secs(30);

/// Retries `attempt` until it succeeds or [`ELECTION`] passes (the meta leader and the
/// stream's leader are elected after the nodes start).
async fn retry<T, E: std::fmt::Display, F: std::future::Future<Output = Result<T, E>>>(
    what: &str,
    mut attempt: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + ELECTION;
    loop {
        match attempt().await {
            Ok(value) => return value,
            Err(err) if Instant::now() < deadline => {
                eprintln!("{what}: {err}; again");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(err) => panic!("{what}: {err}"),
        }
    }
}

/// Publishes `s.<i>` = `"<i>"` with message id `i`, retrying through a leader election
/// (the id makes a retried publish land once).
async fn publish(js: &Context, range: std::ops::Range<usize>) {
    for i in range {
        let subject = format!("s.{i}");
        retry("publish", || {
            js.publish_with(
                &subject,
                i.to_string(),
                PublishOptions::new().message_id(i.to_string()),
            )
        })
        .await;
    }
}

fn number(message: &nats_core::jetstream::Message) -> usize {
    std::str::from_utf8(&message.payload)
        .expect("utf8")
        .parse()
        .expect("a number")
}

/// `major.minor` of the `nats-server` binary the harness runs.
fn binary_version() -> (u32, u32) {
    let output = std::process::Command::new(nats_tests::nats_server_bin())
        .arg("--version")
        .output()
        .expect("nats-server --version");
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text.trim().rsplit(' ').next().unwrap_or_default();
    let mut parts = version.trim_start_matches('v').split('.');
    let mut next = || parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (next(), next())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_r3_stream_survives_the_loss_of_its_leader() {
    if binary_version() < (2, 10) {
        eprintln!("skipped: the cluster harness waits for 2.10+ route pools");
        return;
    }
    let mut cluster = NatsCluster::spawn_with_config(3, "jetstream: enabled\n");
    let client = tokio::time::timeout(
        Duration::from_secs(10),
        ConnectOptions::new()
            .reconnect_time_wait(Duration::from_millis(100))
            .max_reconnect_attempts(None)
            .connect(cluster.urls()),
    )
    .await
    .expect("connect in time")
    .expect("connect");
    let js = client.jetstream();
    let config = StreamConfig {
        subjects: vec!["s.>".into()],
        num_replicas: Some(3),
        ..StreamConfig::new("S")
    };
    retry("create stream", || js.create_stream(&config)).await;
    let durable = ConsumerConfig {
        ack_wait: Some(Duration::from_secs(5)),
        ..ConsumerConfig::durable("D")
    };
    retry("create consumer", || js.create_consumer("S", &durable)).await;
    publish(&js, 0..300).await;

    let consumer = retry("consumer", || js.consumer("S", "D")).await;
    let mut messages = consumer
        .messages()
        .max_messages(50)
        .expires(Duration::from_secs(2))
        .idle_heartbeat(Duration::from_millis(500))
        .await
        .expect("messages");
    let mut seen = BTreeSet::new();
    let first = async {
        while seen.len() < 200 {
            let message = messages.try_next().await.expect("no error").expect("open");
            seen.insert(number(&message));
            let _ = message.ack().await;
        }
    };
    tokio::time::timeout(ELECTION, first)
        .await
        .expect("first 200");

    let info = retry("stream info", || js.stream_info("S")).await;
    let leader = info.cluster.and_then(|c| c.leader).expect("a leader");
    let index = (0..cluster.len())
        .find(|&i| cluster.server_name(i) == leader)
        .expect("the leader is a node");
    cluster.kill(index);

    publish(&js, 300..600).await;
    let rest = async {
        while seen.len() < 600 {
            let message = messages.try_next().await.expect("no error").expect("open");
            seen.insert(number(&message));
            // An ack lost in the election only means a redelivery.
            let _ = message.ack().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), rest)
        .await
        .expect("every message after the leader was killed");
    assert_eq!(seen, (0..600).collect());
    let after = retry("stream info", || js.stream_info("S")).await;
    assert_eq!(after.state.messages, 600, "each publish stored once");
    assert_ne!(after.cluster.and_then(|c| c.leader), Some(leader));
}
