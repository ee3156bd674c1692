//! Push consumers against a real server: flow control with a slow reader (every message,
//! in order, and the flow control answers on the wire), heartbeats that never surface,
//! the end when the consumer is deleted, a deliver group shared by two subscribers.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::within;
use nats_core::jetstream::{
    ConsumeErrorKind, ConsumerConfig, Context, JetStreamErrorKind, Message, StorageType,
    StreamConfig,
};
use nats_tests::NatsServer;

async fn jetstream(server: &NatsServer) -> Context {
    let client = within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect");
    client.jetstream()
}

async fn create_stream(js: &Context) {
    let config = StreamConfig {
        subjects: vec!["s.>".into()],
        storage: StorageType::Memory,
        ..StreamConfig::new("S")
    };
    within("create stream", js.create_stream(&config))
        .await
        .expect("create stream");
}

async fn publish(js: &Context, range: std::ops::Range<usize>, size: usize) {
    let sent = async {
        for i in range {
            let mut payload = i.to_string().into_bytes();
            payload.resize(size.max(payload.len()), b' ');
            drop(
                js.publish_async(format!("s.{i}"), payload)
                    .await
                    .expect("publish"),
            );
        }
        js.wait_for_acks().await.expect("acks");
    };
    tokio::time::timeout(Duration::from_secs(60), sent)
        .await
        .expect("published in time");
}

fn number(message: &Message) -> usize {
    std::str::from_utf8(&message.payload)
        .expect("utf8")
        .trim()
        .parse()
        .expect("number")
}

fn push_config(name: &str, deliver: &str) -> ConsumerConfig {
    ConsumerConfig {
        deliver_subject: Some(deliver.into()),
        flow_control: true,
        idle_heartbeat: Some(Duration::from_millis(500)),
        ..ConsumerConfig::durable(name)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_control_keeps_a_slow_reader_supplied() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    create_stream(&js).await;
    // 4 MiB: past the server's first flow control window (2 MiB), so delivery stalls for
    // good unless the requests are answered.
    const COUNT: usize = 4000;
    publish(&js, 0..COUNT, 1024).await;
    let mut answers = js.client().subscribe("$JS.FC.>").await.expect("subscribe");

    let stream = within("stream", js.stream("S")).await.expect("stream");
    let consumer = within(
        "create push",
        stream.create_push_consumer(&push_config("P", "deliver.p")),
    )
    .await
    .expect("create push");
    let mut messages = within("messages", consumer.messages())
        .await
        .expect("messages");
    let read = async {
        for expected in 0..COUNT {
            let message = messages.try_next().await.expect("no error").expect("open");
            assert_eq!(number(&message), expected, "in order, nothing dropped");
            message.ack().await.expect("ack");
            if expected % 50 == 0 {
                // A slow reader: the server gets ahead and asks for flow control.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("every message in time");
    let answer = within("a flow control answer", answers.next())
        .await
        .expect("answered");
    assert!(answer.payload.is_empty());
    assert!(
        answer.subject.starts_with("$JS.FC.S.P."),
        "{}",
        answer.subject
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_never_surface_and_a_deleted_consumer_ends_the_stream() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    create_stream(&js).await;
    let stream = within("stream", js.stream("S")).await.expect("stream");
    let consumer = within(
        "create push",
        stream.create_push_consumer(&push_config("P", "deliver.p")),
    )
    .await
    .expect("create push");
    let mut messages = within("messages", consumer.messages())
        .await
        .expect("messages");
    // Heartbeats every 500 ms for 2 s: none of them is an item.
    let nothing = tokio::time::timeout(Duration::from_secs(2), messages.next()).await;
    assert!(nothing.is_err(), "nothing to read yet: {nothing:?}");
    publish(&js, 0..2, 10).await;
    for expected in 0..2 {
        let message = within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
        assert_eq!(number(&message), expected);
        message.ack().await.expect("ack");
    }

    within("delete", js.delete_consumer("S", "P"))
        .await
        .expect("delete");
    let err = within("the end", messages.try_next())
        .await
        .expect_err("ends with an error");
    assert_eq!(err.kind(), ConsumeErrorKind::ConsumerDeleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deliver_group_shares_the_messages() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    create_stream(&js).await;
    let config = ConsumerConfig {
        deliver_subject: Some("deliver.q".into()),
        deliver_group: Some("workers".into()),
        ..ConsumerConfig::durable("Q")
    };
    let stream = within("stream", js.stream("S")).await.expect("stream");
    let consumer = within("create push", stream.create_push_consumer(&config))
        .await
        .expect("create push");
    let mut first = within("first", consumer.messages()).await.expect("first");
    let mut second = within("second", consumer.messages()).await.expect("second");
    publish(&js, 0..100, 10).await;
    let mut seen = BTreeSet::new();
    let (mut from_first, mut from_second) = (0, 0);
    while seen.len() < 100 {
        let message = tokio::select! {
            m = first.try_next() => { from_first += 1; m }
            m = second.try_next() => { from_second += 1; m }
        };
        let message = message.expect("ok").expect("open");
        assert!(seen.insert(number(&message)), "each message once");
        message.ack().await.expect("ack");
    }
    assert_eq!(from_first + from_second, 100);

    let handle = within("handle", js.push_consumer("S", "Q"))
        .await
        .expect("handle");
    assert_eq!(handle.name(), "Q");
    within(
        "pull",
        js.create_consumer("S", &ConsumerConfig::durable("PULL")),
    )
    .await
    .expect("pull consumer");
    let err = within("push handle of pull", js.push_consumer("S", "PULL"))
        .await
        .expect_err("a pull consumer");
    assert_eq!(err.kind(), JetStreamErrorKind::InvalidRequest);
    let err = within(
        "push without deliver subject",
        stream.create_push_consumer(&ConsumerConfig::durable("X")),
    )
    .await
    .expect_err("no deliver subject");
    assert_eq!(err.kind(), JetStreamErrorKind::InvalidRequest);
}
