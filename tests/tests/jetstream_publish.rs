//! Acknowledged publishing against a real server: PubAck fields, deduplication, expected
//! state checks, TTL, no stream, no JetStream, domains, retries while a stream appears, and
//! asynchronous publishing with a bound on the acknowledgements in flight.

mod common;

use std::time::Duration;

use common::{within, WAIT};
use nats_core::jetstream::{
    Context, ContextOptions, ErrorCode, MessageSelector, MessageTtl, PublishErrorKind,
    PublishOptions, StorageType, StreamConfig,
};
use nats_tests::NatsServer;

async fn connect(server: &NatsServer) -> nats_core::Client {
    within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect")
}

async fn with_stream(js: &Context, name: &str, subjects: &[&str]) {
    let config = StreamConfig {
        subjects: subjects.iter().map(|s| s.to_string()).collect(),
        storage: StorageType::Memory,
        ..StreamConfig::new(name)
    };
    within("create", js.create_stream(&config))
        .await
        .expect("create");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_is_acknowledged_with_stream_and_sequence() {
    let server = NatsServer::spawn_jetstream();
    let js = connect(&server).await.jetstream();
    with_stream(&js, "ORDERS", &["orders.>"]).await;
    for expected in 1..=3 {
        let ack = within("publish", js.publish("orders.new", "o"))
            .await
            .expect("publish");
        assert_eq!(ack.stream, "ORDERS");
        assert_eq!(ack.sequence, expected);
        assert!(!ack.duplicate);
        assert_eq!(ack.domain, None);
    }
    let stored = js
        .get_last_message("ORDERS", "orders.new")
        .await
        .expect("get");
    assert_eq!(stored.sequence, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_message_id_is_a_duplicate_of_the_original() {
    let server = NatsServer::spawn_jetstream();
    let js = connect(&server).await.jetstream();
    with_stream(&js, "D", &["d"]).await;
    let first = js
        .publish_with("d", "one", PublishOptions::new().message_id("m-1"))
        .await
        .expect("publish");
    js.publish("d", "between").await.expect("publish");
    let again = js
        .publish_with("d", "one again", PublishOptions::new().message_id("m-1"))
        .await
        .expect("a duplicate is not an error");
    assert!(again.duplicate);
    assert_eq!(again.sequence, first.sequence, "the original's sequence");
    let info = js.stream_info("D").await.expect("info");
    assert_eq!(info.state.messages, 2, "the duplicate was not stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_expectations_are_typed_errors() {
    let server = NatsServer::spawn_jetstream();
    let js = connect(&server).await.jetstream();
    with_stream(&js, "E", &["e.>"]).await;
    with_stream(&js, "OTHER", &["other"]).await;
    js.publish_with("e.a", "1", PublishOptions::new().message_id("id-1"))
        .await
        .expect("publish");

    let ok = js
        .publish_with("e.a", "2", PublishOptions::new().expected_last_sequence(1))
        .await
        .expect("the last sequence is 1");
    assert_eq!(ok.sequence, 2);
    let err = js
        .publish_with("e.a", "3", PublishOptions::new().expected_last_sequence(1))
        .await
        .expect_err("the last sequence is 2");
    assert_eq!(err.kind(), PublishErrorKind::WrongLastSequence);
    assert_eq!(
        err.error_code(),
        Some(ErrorCode::STREAM_WRONG_LAST_SEQUENCE)
    );

    // 0: nothing on the subject yet.
    js.publish_with(
        "e.b",
        "b",
        PublishOptions::new().expected_last_subject_sequence(0),
    )
    .await
    .expect("e.b is empty");
    let err = js
        .publish_with(
            "e.b",
            "b",
            PublishOptions::new().expected_last_subject_sequence(0),
        )
        .await
        .expect_err("e.b has a message");
    assert_eq!(err.kind(), PublishErrorKind::WrongLastSequence);
    let checked_elsewhere = PublishOptions::new()
        .expected_last_subject_sequence(2)
        .expected_last_subject_sequence_subject("e.a");
    js.publish_with("e.c", "c", checked_elsewhere)
        .await
        .expect("the last message on e.a is 2");

    let err = js
        .publish_with(
            "e.a",
            "x",
            PublishOptions::new().expected_last_message_id("nope"),
        )
        .await
        .expect_err("wrong last msg id");
    assert_eq!(err.kind(), PublishErrorKind::WrongLastMessageId);
    assert_eq!(err.error_code(), Some(ErrorCode::STREAM_WRONG_LAST_MSG_ID));

    let err = js
        .publish_with("e.a", "x", PublishOptions::new().expected_stream("OTHER"))
        .await
        .expect_err("e.a is in E");
    assert_eq!(err.kind(), PublishErrorKind::StreamMismatch);
    assert_eq!(err.error_code(), Some(ErrorCode::STREAM_NOT_MATCH));
    js.publish_with("e.a", "x", PublishOptions::new().expected_stream("E"))
        .await
        .expect("e.a is in E");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_ttl_needs_a_stream_that_allows_it() {
    let server = NatsServer::spawn_jetstream();
    let js = connect(&server).await.jetstream();
    with_stream(&js, "PLAIN", &["plain"]).await;
    let config = StreamConfig {
        subjects: vec!["ttl".into()],
        storage: StorageType::Memory,
        allow_msg_ttl: true,
        ..StreamConfig::new("TTL")
    };
    within("create", js.create_stream(&config))
        .await
        .expect("create");
    let ttl = MessageTtl::After(Duration::from_secs(60));
    let ack = js
        .publish_with("ttl", "x", PublishOptions::new().ttl(ttl))
        .await
        .expect("allowed");
    let stored = js
        .get_message("TTL", MessageSelector::sequence(ack.sequence))
        .await
        .expect("get");
    assert_eq!(
        stored
            .headers
            .and_then(|h| h.get("Nats-TTL").map(str::to_owned))
            .as_deref(),
        Some("60s")
    );
    js.publish_with("ttl", "y", PublishOptions::new().ttl(MessageTtl::Never))
        .await
        .expect("never is a TTL");

    let err = js
        .publish_with("plain", "x", PublishOptions::new().ttl(ttl))
        .await
        .expect_err("not allowed");
    assert_eq!(err.kind(), PublishErrorKind::Api);
    assert_eq!(err.error_code(), Some(ErrorCode::MESSAGE_TTL_DISABLED));
    let err = js
        .publish_with(
            "ttl",
            "x",
            PublishOptions::new().ttl(MessageTtl::After(Duration::from_millis(10))),
        )
        .await
        .expect_err("below a second");
    assert_eq!(err.error_code(), Some(ErrorCode::MESSAGE_TTL_INVALID));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_without_a_stream_is_no_stream() {
    let server = NatsServer::spawn_jetstream();
    let client = connect(&server).await;
    let js = client.jetstream();
    with_stream(&js, "S", &["s"]).await;
    let err = within("publish", js.publish("not.a.stream", "x"))
        .await
        .expect_err("no stream");
    assert_eq!(err.kind(), PublishErrorKind::NoStream);
    // A context that never used the API asks it whether JetStream is on: it is.
    let fresh = client.jetstream();
    let err = within("publish", fresh.publish("not.a.stream", "x"))
        .await
        .expect_err("no stream");
    assert_eq!(err.kind(), PublishErrorKind::NoStream);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_jetstream_a_publish_is_not_enabled() {
    let server = NatsServer::spawn();
    let js = connect(&server).await.jetstream();
    let err = within("publish", js.publish("orders.new", "x"))
        .await
        .expect_err("jetstream is off");
    assert_eq!(err.kind(), PublishErrorKind::NotEnabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_retries_while_its_stream_appears() {
    let server = NatsServer::spawn_jetstream();
    let client = connect(&server).await;
    // Plenty of retries: the test must not depend on how fast the stream is created.
    let options = ContextOptions::new()
        .publish_retries(50, Duration::from_millis(100))
        .timeout(WAIT);
    let js = client.jetstream_with(options);
    let publisher = tokio::spawn({
        let js = js.clone();
        async move { js.publish("late", "x").await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    with_stream(&js, "LATE", &["late"]).await;
    let ack = within("publish", publisher)
        .await
        .expect("task")
        .expect("stored once the stream exists");
    assert_eq!((ack.stream.as_str(), ack.sequence), ("LATE", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_context_reaches_its_domain_only() {
    let server = NatsServer::spawn_with_config("jetstream: { domain: hub }\n");
    let client = connect(&server).await;
    let hub = client.jetstream_with(ContextOptions::new().domain("hub"));
    let account = within("account info", hub.account_info())
        .await
        .expect("account info");
    assert_eq!(account.domain.as_deref(), Some("hub"));
    with_stream(&hub, "H", &["h"]).await;
    let ack = hub.publish("h", "x").await.expect("publish");
    assert_eq!(ack.domain.as_deref(), Some("hub"));
    let info = hub.stream_info("H").await.expect("info through the domain");
    assert_eq!(info.state.messages, 1);

    let elsewhere = client.jetstream_with(ContextOptions::new().domain("edge"));
    let err = within("account info", elsewhere.account_info())
        .await
        .expect_err("no such domain");
    assert_eq!(
        err.kind(),
        nats_core::jetstream::JetStreamErrorKind::NotEnabled
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_cannot_be_sent_is_refused_before_sending() {
    let server = NatsServer::spawn_jetstream();
    let client = connect(&server).await;
    let js = client.jetstream();
    with_stream(&js, "S", &["s.>"]).await;
    let err = js.publish("s.a b", "x").await.expect_err("bad subject");
    assert_eq!(err.kind(), PublishErrorKind::Publish);
    let err = js.publish("s.*", "x").await.expect_err("wildcard");
    assert_eq!(err.kind(), PublishErrorKind::Publish);
    let injected = PublishOptions::new().message_id("id\r\nNats-Rollup: all");
    let err = js
        .publish_with("s.a", "x", injected)
        .await
        .expect_err("bad header value");
    assert_eq!(err.kind(), PublishErrorKind::Publish);
    let info = js.stream_info("S").await.expect("info");
    assert_eq!(info.state.messages, 0, "nothing was sent");

    client.close().await;
    let err = js.publish("s.a", "x").await.expect_err("closed");
    assert_eq!(err.kind(), PublishErrorKind::Closed);
}
