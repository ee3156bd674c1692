//! Ordered consumers against a real server: every message once and in order over 5,000
//! messages and a server restart in the middle; resets when its consumer is deleted
//! under it; filters and deliver policies; the end when the stream goes; no consumer left
//! behind once dropped.

mod common;

use std::time::Duration;

use common::within;
use nats_core::jetstream::{
    ConsumeErrorKind, Context, DeliverPolicy, Message, OrderedConfig, OrderedMessages, StorageType,
    StreamConfig,
};
use nats_core::ConnectOptions;
use nats_tests::NatsServer;

async fn jetstream(server: &NatsServer) -> Context {
    let client = within(
        "connect",
        ConnectOptions::new()
            .reconnect_time_wait(Duration::from_millis(100))
            .max_reconnect_attempts(None)
            .connect(server.url()),
    )
    .await
    .expect("connect");
    client.jetstream()
}

async fn create_stream(js: &Context, storage: StorageType) {
    let config = StreamConfig {
        subjects: vec!["s.>".into()],
        storage,
        ..StreamConfig::new("S")
    };
    within("create stream", js.create_stream(&config))
        .await
        .expect("create stream");
}

/// Publishes `s.<i % 10>.<i>` = `"<i>"` for `i` in `range`, many acks in flight.
async fn publish(js: &Context, range: std::ops::Range<usize>) {
    let sent = async {
        for i in range {
            let subject = format!("s.{}.{i}", i % 10);
            // The acks are waited for all at once below.
            drop(
                js.publish_async(subject, i.to_string())
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

/// `major.minor` of the server the context's client is connected to.
fn minor_version(js: &Context) -> (u32, u32) {
    let version = js.client().server_version();
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn number(message: &Message) -> usize {
    std::str::from_utf8(&message.payload)
        .expect("utf8")
        .parse()
        .expect("a number")
}

/// Reads the next `count` messages and checks they are `from`, `from + 1`, ...
async fn expect_in_order(messages: &mut OrderedMessages, from: usize, count: usize) {
    let read = async {
        for expected in from..from + count {
            let message = messages.try_next().await.expect("no error").expect("open");
            assert_eq!(number(&message), expected, "in order, no gap, no duplicate");
            let info = message.info().expect("metadata");
            assert_eq!(info.stream_sequence, expected as u64 + 1);
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("messages in time");
}

fn quick() -> OrderedConfig {
    OrderedConfig {
        max_messages: Some(200),
        expires: Some(Duration::from_secs(2)),
        idle_heartbeat: Some(Duration::from_millis(500)),
        ..OrderedConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_in_order_across_a_server_restart() {
    let mut server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    create_stream(&js, StorageType::File).await;
    publish(&js, 0..5000).await;
    let mut messages = within("ordered", js.ordered_consumer("S", quick()))
        .await
        .expect("ordered");
    expect_in_order(&mut messages, 0, 2500).await;
    assert_eq!(messages.resets(), 0);

    server.restart();
    expect_in_order(&mut messages, 2500, 2500).await;
    assert!(
        messages.resets() >= 1,
        "the memory consumer was lost and replaced"
    );
    // Nothing more than the 5,000, and new ones follow.
    publish(&js, 5000..5100).await;
    expect_in_order(&mut messages, 5000, 100).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_consumer_is_replaced_without_gap_or_duplicate() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    create_stream(&js, StorageType::Memory).await;
    publish(&js, 0..300).await;
    let mut messages = within("ordered", js.ordered_consumer("S", quick()))
        .await
        .expect("ordered");
    expect_in_order(&mut messages, 0, 100).await;
    let first = messages.consumer_name().expect("a consumer");
    let names = within("names", js.consumer_names("S"))
        .await
        .expect("names");
    assert_eq!(
        names,
        vec![first.clone()],
        "one consumer, the ordered one's"
    );

    within("delete", js.delete_consumer("S", &first))
        .await
        .expect("delete");
    publish(&js, 300..400).await;
    expect_in_order(&mut messages, 100, 300).await;
    assert!(messages.resets() >= 1);
    let second = messages.consumer_name().expect("a consumer");
    assert_ne!(first, second);

    // Dropped: its consumer is deleted behind it.
    drop(messages);
    let gone = async {
        while !js.consumer_names("S").await.expect("names").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    within("consumer deleted after drop", gone).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_deliver_policies() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    create_stream(&js, StorageType::Memory).await;
    publish(&js, 0..30).await;

    let only_3 = OrderedConfig {
        filter_subjects: vec!["s.3.*".into()],
        ..quick()
    };
    let mut messages = within("filtered", js.ordered_consumer("S", only_3))
        .await
        .expect("ordered");
    for expected in [3, 13, 23] {
        let message = within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
        assert_eq!(number(&message), expected);
    }

    let two = OrderedConfig {
        filter_subjects: vec!["s.1.*".into(), "s.2.*".into()],
        ..quick()
    };
    if minor_version(&js) >= (2, 10) {
        let mut messages = within("two filters", js.ordered_consumer("S", two))
            .await
            .expect("ordered");
        for expected in [1, 2, 11, 12, 21, 22] {
            let message = within("next", messages.try_next())
                .await
                .expect("ok")
                .expect("open");
            assert_eq!(number(&message), expected);
        }
    } else {
        eprintln!("skipped two filters: filter_subjects needs nats-server 2.10");
        let err = within("two filters", js.ordered_consumer("S", two))
            .await
            .expect_err("unsupported");
        assert_eq!(err.kind(), ConsumeErrorKind::Api, "{err}");
    }

    let last = OrderedConfig {
        deliver_policy: DeliverPolicy::LastPerSubject,
        filter_subjects: vec!["s.4.*".into()],
        ..quick()
    };
    let mut messages = within("last per subject", js.ordered_consumer("S", last))
        .await
        .expect("ordered");
    // Every subject `s.<d>.<i>` is distinct, so all of them are "last".
    for expected in [4, 14, 24] {
        let message = within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
        assert_eq!(number(&message), expected);
    }
    let everything_last = OrderedConfig {
        deliver_policy: DeliverPolicy::LastPerSubject,
        ..quick()
    };
    let mut messages = within(
        "last per subject, all",
        js.ordered_consumer("S", everything_last),
    )
    .await
    .expect("ordered");
    let message = within("next", messages.try_next())
        .await
        .expect("ok")
        .expect("open");
    assert_eq!(
        number(&message),
        0,
        "every subject is distinct: all are last"
    );

    let from_20 = OrderedConfig {
        deliver_policy: DeliverPolicy::ByStartSequence,
        opt_start_seq: Some(21),
        headers_only: true,
        ..quick()
    };
    let mut messages = within("from 21", js.ordered_consumer("S", from_20))
        .await
        .expect("ordered");
    let message = within("next", messages.try_next())
        .await
        .expect("ok")
        .expect("open");
    assert_eq!(message.info().expect("info").stream_sequence, 21);
    assert!(message.payload.is_empty(), "headers only");
    let size = message
        .headers
        .as_ref()
        .and_then(|h| h.get("Nats-Msg-Size"));
    assert_eq!(size, Some("2"));

    let new = OrderedConfig {
        deliver_policy: DeliverPolicy::New,
        ..quick()
    };
    let mut messages = within("new", js.ordered_consumer("S", new))
        .await
        .expect("ordered");
    publish(&js, 30..32).await;
    for expected in [30, 31] {
        let message = within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
        assert_eq!(number(&message), expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_ends_when_the_stream_is_gone() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let err = within("no stream", js.ordered_consumer("NOPE", quick()))
        .await
        .expect_err("no stream");
    assert_eq!(err.kind(), ConsumeErrorKind::Api);

    create_stream(&js, StorageType::Memory).await;
    publish(&js, 0..5).await;
    let mut messages = within("ordered", js.ordered_consumer("S", quick()))
        .await
        .expect("ordered");
    expect_in_order(&mut messages, 0, 5).await;
    within("delete stream", js.delete_stream("S"))
        .await
        .expect("delete stream");
    let err = within("the end", messages.try_next())
        .await
        .expect_err("ends with an error");
    assert_eq!(err.kind(), ConsumeErrorKind::Api, "{err}");
    assert!(within("after", messages.next()).await.is_none());
}
