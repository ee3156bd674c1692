//! Pull consumers against a real server: fetch by batch, bytes, expiry and no-wait, status
//! messages never surfacing, the acknowledgements (nak with and without delay, term,
//! in-progress, double ack, acking twice), redelivery after the ack wait and its end at
//! max_deliver, and fetching from a deleted consumer.

mod common;

use std::time::Duration;

use common::within;
use nats_core::jetstream::{
    AckErrorKind, ConsumeErrorKind, Consumer, ConsumerConfig, Context, Message, StorageType,
    StreamConfig,
};
use nats_tests::NatsServer;

async fn jetstream(server: &NatsServer) -> Context {
    let client = within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect");
    client.jetstream()
}

/// A memory stream `S` on `s.>` with `count` messages `s.<i>` = `"<i>"`, and a pull
/// consumer made from `config`.
async fn consumer_with(js: &Context, count: usize, config: ConsumerConfig) -> Consumer {
    let stream = StreamConfig {
        subjects: vec!["s.>".into()],
        storage: StorageType::Memory,
        ..StreamConfig::new("S")
    };
    within("create stream", js.create_stream(&stream))
        .await
        .expect("create stream");
    publish(js, 0..count).await;
    let stream = within("stream", js.stream("S")).await.expect("stream");
    within("create consumer", stream.create_consumer(&config))
        .await
        .expect("create consumer")
}

async fn publish(js: &Context, range: std::ops::Range<usize>) {
    for i in range {
        within("publish", js.publish(format!("s.{i}"), i.to_string()))
            .await
            .expect("publish");
    }
}

fn payload(message: &Message) -> String {
    String::from_utf8(message.payload.to_vec()).expect("utf8")
}

/// A fetch of everything that is there now, bounded.
async fn fetch_now(consumer: &Consumer) -> Vec<Message> {
    within("fetch no wait", consumer.fetch().batch(100).no_wait())
        .await
        .expect("fetch no wait")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_by_batch_no_wait_and_expiry() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let consumer = consumer_with(&js, 5, ConsumerConfig::durable("D")).await;

    let first = within("fetch 3", consumer.fetch().batch(3))
        .await
        .expect("fetch 3");
    assert_eq!(
        first.iter().map(payload).collect::<Vec<_>>(),
        ["0", "1", "2"]
    );
    for message in &first {
        message.ack().await.expect("ack");
    }
    // Only two left: a no-wait fetch returns them at once.
    let rest = fetch_now(&consumer).await;
    assert_eq!(rest.iter().map(payload).collect::<Vec<_>>(), ["3", "4"]);
    let info = rest[1].info().expect("metadata");
    assert_eq!((info.stream, info.consumer), ("S", "D"));
    assert_eq!((info.stream_sequence, info.consumer_sequence), (5, 5));
    assert_eq!((info.delivered, info.pending), (1, 0));
    for message in &rest {
        message.ack().await.expect("ack");
    }

    // Nothing left: no-wait is an empty result (404), an expiry too (408), never an error.
    assert!(fetch_now(&consumer).await.is_empty());
    let expired = within(
        "fetch with expiry",
        consumer
            .fetch()
            .batch(10)
            .expires(Duration::from_millis(300)),
    )
    .await
    .expect("an expired fetch is no error");
    assert!(expired.is_empty());
    let mut batch = within(
        "batch stream",
        consumer
            .fetch()
            .batch(10)
            .expires(Duration::from_millis(300))
            .messages(),
    )
    .await
    .expect("batch");
    assert!(within("end of batch", batch.try_next())
        .await
        .expect("no error")
        .is_none());

    // A message published while a fetch waits is delivered to it.
    let waiting = tokio::spawn({
        let consumer = consumer.clone();
        async move {
            consumer
                .fetch()
                .batch(1)
                .expires(Duration::from_secs(5))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    publish(&js, 5..6).await;
    let got = within("waiting fetch", waiting)
        .await
        .expect("task")
        .expect("fetch");
    assert_eq!(got.iter().map(payload).collect::<Vec<_>>(), ["5"]);
    let next = within("next", consumer.next()).await.expect("next");
    assert!(next.is_none() || next.is_some_and(|m| payload(&m) == "5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_by_bytes_stays_within_them() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let config = ConsumerConfig {
        ack_policy: nats_core::jetstream::AckPolicy::None,
        ..ConsumerConfig::durable("D")
    };
    let consumer = consumer_with(&js, 0, config).await;
    for i in 0..10 {
        js.publish(format!("s.{i}"), vec![b'x'; 100])
            .await
            .expect("publish");
    }
    let size = |m: &Message| m.subject.len() + m.reply.as_ref().map_or(0, |r| r.len()) + m.length;
    let limit = 450;
    let got = within("fetch bytes", consumer.fetch().max_bytes(limit).no_wait())
        .await
        .expect("fetch bytes");
    let total: usize = got.iter().map(size).sum();
    assert!(!got.is_empty() && got.len() < 10, "{} messages", got.len());
    assert!(total <= limit, "{total} bytes of {limit}");
    assert!(total + size(&got[0]) > limit, "as many as fit: {total}");

    // A message larger than the whole request ends the fetch with nothing (409 Message
    // Size Exceeds MaxBytes), which is no error for a fetch.
    let tiny = within(
        "fetch tiny",
        consumer
            .fetch()
            .max_bytes(10)
            .expires(Duration::from_secs(1)),
    )
    .await
    .expect("no error");
    assert!(tiny.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nak_redelivers_at_once_and_with_a_delay_later() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let consumer = consumer_with(&js, 1, ConsumerConfig::durable("D")).await;

    let first = fetch_now(&consumer).await;
    assert_eq!(first.len(), 1);
    first[0].nak().await.expect("nak");
    let again = within(
        "redelivery",
        consumer.fetch().batch(1).expires(Duration::from_secs(3)),
    )
    .await
    .expect("fetch");
    assert_eq!(again.len(), 1, "redelivered after a nak");
    assert_eq!(again[0].info().expect("info").delivered, 2);

    again[0]
        .nak_with_delay(Duration::from_secs(3))
        .await
        .expect("nak with delay");
    assert!(
        fetch_now(&consumer).await.is_empty(),
        "not before the delay"
    );
    let later = within(
        "delayed redelivery",
        consumer.fetch().batch(1).expires(Duration::from_secs(8)),
    )
    .await
    .expect("fetch");
    assert_eq!(later.len(), 1, "redelivered after the delay");
    assert_eq!(later[0].info().expect("info").delivered, 3);
    later[0].ack().await.expect("ack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn term_stops_redelivery_and_acks_are_refused_twice() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let config = ConsumerConfig {
        ack_wait: Some(Duration::from_millis(500)),
        ..ConsumerConfig::durable("D")
    };
    let consumer = consumer_with(&js, 2, config).await;
    let got = fetch_now(&consumer).await;
    assert_eq!(got.len(), 2);
    got[0].term_with_reason("not for us").await.expect("term");
    got[1].term().await.expect("term");
    let err = got[0].ack().await.expect_err("acked twice");
    assert_eq!(err.kind(), AckErrorKind::AlreadyAcknowledged);
    let err = got[1].in_progress().await.expect_err("progress after term");
    assert_eq!(err.kind(), AckErrorKind::AlreadyAcknowledged);
    assert!(got[0].is_acked());
    // Well past the ack wait, nothing comes back.
    let after = within(
        "after the ack wait",
        consumer.fetch().batch(2).expires(Duration::from_secs(2)),
    )
    .await
    .expect("fetch");
    assert!(after.is_empty(), "terminated messages are not redelivered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_messages_come_back_until_max_deliver() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let config = ConsumerConfig {
        ack_wait: Some(Duration::from_millis(500)),
        max_deliver: Some(2),
        ..ConsumerConfig::durable("D")
    };
    let consumer = consumer_with(&js, 1, config).await;
    let first = fetch_now(&consumer).await;
    assert_eq!(first.len(), 1);
    let second = within(
        "redelivery after ack wait",
        consumer.fetch().batch(1).expires(Duration::from_secs(5)),
    )
    .await
    .expect("fetch");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].info().expect("info").delivered, 2);
    let third = within(
        "no third delivery",
        consumer.fetch().batch(1).expires(Duration::from_secs(2)),
    )
    .await
    .expect("fetch");
    assert!(third.is_empty(), "max_deliver 2 stops it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_progress_extends_the_ack_wait() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let config = ConsumerConfig {
        ack_wait: Some(Duration::from_secs(3)),
        ..ConsumerConfig::durable("D")
    };
    let consumer = consumer_with(&js, 1, config).await;
    let got = fetch_now(&consumer).await;
    assert_eq!(got.len(), 1);
    // Five seconds of work, telling the server every second: past the 3 s ack wait, the
    // message was not redelivered.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        got[0].in_progress().await.expect("in progress");
    }
    assert!(fetch_now(&consumer).await.is_empty(), "still ours");
    got[0].double_ack().await.expect("double ack");
    let info = within("info", js.consumer_info("S", "D"))
        .await
        .expect("info");
    assert_eq!(info.ack_floor.stream_sequence, 1);
    assert_eq!(info.num_redelivered, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_ack_waits_for_the_server() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let consumer = consumer_with(&js, 3, ConsumerConfig::durable("D")).await;
    let got = fetch_now(&consumer).await;
    assert_eq!(got.len(), 3);
    for message in &got {
        within("double ack", message.double_ack())
            .await
            .expect("double ack");
    }
    // Confirmed: the consumer's info shows all three acknowledged, without waiting.
    let info = within("info", js.consumer_info("S", "D"))
        .await
        .expect("info");
    assert_eq!(info.ack_floor.stream_sequence, 3);
    assert_eq!(info.num_ack_pending, 0);
    let err = got[0].double_ack().await.expect_err("twice");
    assert_eq!(err.kind(), AckErrorKind::AlreadyAcknowledged);

    // A message that is not a JetStream message: typed errors, no panic.
    let plain = nats_core::Message {
        subject: "a".into(),
        reply: Some("_INBOX.x".into()),
        payload: "x".into(),
        headers: None,
        status: None,
        description: None,
        length: 1,
    };
    let plain = Message::new(js.clone(), plain);
    assert_eq!(
        plain.info().expect_err("no ack subject").kind(),
        AckErrorKind::NotJetStream
    );
    let mut no_reply = plain.into_message();
    no_reply.reply = None;
    let no_reply = Message::new(js.clone(), no_reply);
    assert_eq!(
        no_reply.ack().await.expect_err("no reply").kind(),
        AckErrorKind::NotJetStream
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetching_from_a_deleted_consumer_is_an_error() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let consumer = consumer_with(&js, 0, ConsumerConfig::durable("D")).await;

    // Deleted while a fetch waits: 409 Consumer Deleted.
    let waiting = tokio::spawn({
        let consumer = consumer.clone();
        async move {
            consumer
                .fetch()
                .batch(1)
                .expires(Duration::from_secs(8))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    within("delete", js.delete_consumer("S", "D"))
        .await
        .expect("delete");
    let err = within("waiting fetch", waiting)
        .await
        .expect("task")
        .expect_err("deleted");
    assert_eq!(err.kind(), ConsumeErrorKind::ConsumerDeleted);

    // Deleted before: nobody answers the pull subject (2.10+; older servers say nothing
    // until the fetch gives up), and the info says it is gone.
    let err = within(
        "fetch",
        consumer.fetch().batch(1).expires(Duration::from_secs(1)),
    )
    .await
    .expect_err("deleted");
    assert_eq!(err.kind(), ConsumeErrorKind::ConsumerDeleted);

    let err = within(
        "bad heartbeat",
        consumer
            .fetch()
            .expires(Duration::from_secs(1))
            .idle_heartbeat(Some(Duration::from_secs(1))),
    )
    .await
    .expect_err("heartbeat over half the expiry");
    assert_eq!(err.kind(), ConsumeErrorKind::InvalidOptions);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_with_heartbeats_and_consumer_caps() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let config = ConsumerConfig {
        max_batch: Some(2),
        ..ConsumerConfig::durable("D")
    };
    let consumer = consumer_with(&js, 3, config).await;
    let err = within("over max_batch", consumer.fetch().batch(3))
        .await
        .expect_err("max_batch 2");
    assert_eq!(err.kind(), ConsumeErrorKind::RequestRejected);
    assert!(err.to_string().contains("MaxRequestBatch"), "{err}");

    // Heartbeats keep a long fetch alive and never surface.
    let got = within(
        "heartbeat fetch",
        consumer
            .fetch()
            .batch(2)
            .expires(Duration::from_secs(2))
            .idle_heartbeat(Some(Duration::from_millis(500))),
    )
    .await
    .expect("fetch");
    assert_eq!(got.len(), 2);
}

/// `messages()` with short expiries and heartbeats: servers before 2.10 send neither a
/// 409 nor a 503 for a deleted consumer in some cases, and the missed heartbeats tell.
fn quick(consumer: &Consumer) -> nats_core::jetstream::MessagesBuilder<'_> {
    consumer
        .messages()
        .expires(Duration::from_secs(2))
        .idle_heartbeat(Duration::from_millis(500))
}

/// Publishes `count` messages `s.<i>` = `"<i>"` from `start` with many acks in flight.
async fn publish_many(js: &Context, start: usize, count: usize) {
    let sent = async {
        for i in start..start + count {
            // The acks are waited for all at once below.
            drop(
                js.publish_async(format!("s.{i}"), i.to_string())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_delivers_ten_thousand_in_order() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let consumer = consumer_with(&js, 0, ConsumerConfig::durable("D")).await;
    publish_many(&js, 0, 10_000).await;
    let mut messages = within("messages", consumer.messages().max_messages(300))
        .await
        .expect("messages");
    let read = async {
        for i in 0..10_000 {
            let message = messages.try_next().await.expect("no error").expect("open");
            assert_eq!(payload(&message), i.to_string());
            message.ack().await.expect("ack");
        }
    };
    tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .expect("10,000 messages in time");
    js.client().flush().await.expect("flush");
    let info = within("info", js.consumer_info("S", "D"))
        .await
        .expect("info");
    assert_eq!(info.delivered.stream_sequence, 10_000);
    assert_eq!(info.num_pending, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_keeps_at_most_its_maximum_outstanding() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let config = ConsumerConfig {
        ack_policy: nats_core::jetstream::AckPolicy::None,
        ..ConsumerConfig::durable("D")
    };
    let consumer = consumer_with(&js, 200, config).await;
    let mut messages = within("messages", consumer.messages().max_messages(20))
        .await
        .expect("messages");
    // Not reading: the server delivers what was asked for and no more.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let info = within("info", js.consumer_info("S", "D"))
        .await
        .expect("info");
    assert_eq!(info.delivered.stream_sequence, 20, "exactly the maximum");
    // Reading 11 drops the total below the threshold of 10: one top-up of 11.
    for _ in 0..11 {
        within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let info = within("info", js.consumer_info("S", "D"))
        .await
        .expect("info");
    assert_eq!(info.delivered.stream_sequence, 31);

    // By bytes: the server never delivers more than asked for either.
    drop(messages);
    let by_bytes = ConsumerConfig {
        ack_policy: nats_core::jetstream::AckPolicy::None,
        ..ConsumerConfig::durable("B")
    };
    let stream = within("stream", js.stream("S")).await.expect("stream");
    let consumer = within("create", stream.create_consumer(&by_bytes))
        .await
        .expect("create");
    let mut messages = within("messages", consumer.messages().max_bytes(1000))
        .await
        .expect("messages");
    let first = within("next", messages.try_next())
        .await
        .expect("ok")
        .expect("open");
    let size = first.subject.len() + first.reply.as_ref().map_or(0, |r| r.len()) + first.length;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let info = within("info", js.consumer_info("S", "B"))
        .await
        .expect("info");
    let delivered = usize::try_from(info.delivered.stream_sequence).expect("fits");
    assert!(
        delivered * size <= 1000 + size,
        "{delivered} of {size} bytes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_waits_through_expiries_and_heartbeats() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let consumer = consumer_with(&js, 0, ConsumerConfig::durable("D")).await;
    let mut messages = within(
        "messages",
        consumer
            .messages()
            .max_messages(5)
            .expires(Duration::from_secs(1))
            .idle_heartbeat(Duration::from_millis(300)),
    )
    .await
    .expect("messages");
    // Three expiries (408s) and many heartbeats pass; none of them is an item.
    let nothing = tokio::time::timeout(Duration::from_secs(3), messages.next()).await;
    assert!(nothing.is_err(), "nothing to read yet: {nothing:?}");
    publish(&js, 0..3).await;
    for i in 0..3 {
        let message = within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
        assert_eq!(payload(&message), i.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_ends_with_an_error_when_its_consumer_is_deleted() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let consumer = consumer_with(&js, 3, ConsumerConfig::durable("D")).await;
    // Short heartbeats: servers before 2.10 send neither a 409 nor a 503 here, and
    // the missed heartbeats tell.
    let mut messages = within("messages", quick(&consumer))
        .await
        .expect("messages");
    for _ in 0..3 {
        let message = within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
        message.ack().await.expect("ack");
    }
    within("delete", js.delete_consumer("S", "D"))
        .await
        .expect("delete");
    let err = within("the end", messages.try_next())
        .await
        .expect_err("ends with an error");
    assert_eq!(err.kind(), ConsumeErrorKind::ConsumerDeleted);
    assert!(
        within("after", messages.next()).await.is_none(),
        "then ends"
    );

    // Deleted while nothing is asked for (every request delivered, the messages buffered):
    // the next request finds no responders, and the consumer's info says it is gone.
    within(
        "create",
        js.create_consumer("S", &ConsumerConfig::durable("F")),
    )
    .await
    .expect("create");
    let consumer = within("consumer", js.consumer("S", "F"))
        .await
        .expect("consumer");
    let mut messages = within("messages", quick(&consumer).max_messages(3))
        .await
        .expect("messages");
    let delivered = async {
        while js
            .consumer_info("S", "F")
            .await
            .expect("info")
            .num_ack_pending
            < 3
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    within("all three delivered", delivered).await;
    within("delete", js.delete_consumer("S", "F"))
        .await
        .expect("delete");
    for _ in 0..3 {
        within("buffered", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
    }
    let err = within("the end", messages.try_next())
        .await
        .expect_err("ends with an error");
    assert_eq!(err.kind(), ConsumeErrorKind::ConsumerDeleted);

    // A consumer whose stream is deleted ends the same way.
    let other = within(
        "create",
        js.create_consumer("S", &ConsumerConfig::durable("E")),
    )
    .await
    .expect("create");
    let consumer = within("consumer", js.consumer("S", &other.name))
        .await
        .expect("consumer");
    let mut messages = within("messages", quick(&consumer))
        .await
        .expect("messages");
    for _ in 0..3 {
        within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
    }
    within("delete stream", js.delete_stream("S"))
        .await
        .expect("delete stream");
    let err = within("the end", messages.try_next())
        .await
        .expect_err("ends with an error");
    assert_eq!(err.kind(), ConsumeErrorKind::ConsumerDeleted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_refuses_impossible_options_and_oversized_messages() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let consumer = consumer_with(&js, 1, ConsumerConfig::durable("D")).await;
    let err = within("both", consumer.messages().max_messages(10).max_bytes(1000))
        .await
        .expect_err("both limits");
    assert_eq!(err.kind(), ConsumeErrorKind::InvalidOptions);
    let mut messages = within("tiny", consumer.messages().max_bytes(16))
        .await
        .expect("messages");
    let err = within("too large", messages.try_next())
        .await
        .expect_err("never fits");
    assert_eq!(err.kind(), ConsumeErrorKind::MessageTooLarge);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_survives_a_server_restart() {
    let mut server = NatsServer::spawn_jetstream();
    let client = within(
        "connect",
        nats_core::ConnectOptions::new()
            .reconnect_time_wait(Duration::from_millis(100))
            .max_reconnect_attempts(None)
            .connect(server.url()),
    )
    .await
    .expect("connect");
    let js = client.jetstream();
    // File storage: the stream and the durable consumer survive the restart.
    let stream = StreamConfig {
        subjects: vec!["s.>".into()],
        ..StreamConfig::new("S")
    };
    within("create stream", js.create_stream(&stream))
        .await
        .expect("create stream");
    publish_many(&js, 0, 1000).await;
    let config = ConsumerConfig {
        ack_wait: Some(Duration::from_secs(2)),
        ..ConsumerConfig::durable("D")
    };
    within("create", js.create_consumer("S", &config))
        .await
        .expect("create");
    let consumer = within("consumer", js.consumer("S", "D"))
        .await
        .expect("consumer");
    let mut messages = within(
        "messages",
        consumer
            .messages()
            .max_messages(100)
            .expires(Duration::from_secs(2)),
    )
    .await
    .expect("messages");

    let mut seen = std::collections::BTreeSet::new();
    while seen.len() < 400 {
        let message = within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
        seen.insert(payload(&message).parse::<usize>().expect("number"));
        message.ack().await.expect("ack");
    }
    server.restart();
    let published_after = tokio::spawn({
        let js = js.clone();
        async move { publish_many(&js, 1000, 500).await }
    });
    let rest = async {
        while seen.len() < 1500 {
            let message = messages.try_next().await.expect("no error").expect("open");
            seen.insert(payload(&message).parse::<usize>().expect("number"));
            // An ack lost in the restart only means a redelivery.
            let _ = message.ack().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), rest)
        .await
        .expect("every message after the restart");
    published_after.await.expect("publisher");
    assert_eq!(seen, (0..1500).collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_priority_groups_pull_with_their_group() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let version = js.client().server_version();
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    if (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) < (2, 11) {
        eprintln!("skipped: priority groups need nats-server 2.11");
        return;
    }
    let config = ConsumerConfig {
        priority_groups: vec!["jobs".into()],
        priority_policy: Some(nats_core::jetstream::PriorityPolicy::PinnedClient),
        // The fetch below is pinned: the stream's requests, without its pin id, get
        // messages once the pin expires.
        pinned_ttl: Some(Duration::from_secs(2)),
        ..ConsumerConfig::durable("D")
    };
    let consumer = consumer_with(&js, 4, config).await;
    let err = within("no group", consumer.fetch().batch(1))
        .await
        .expect_err("a group is required");
    assert_eq!(err.kind(), ConsumeErrorKind::BadRequest);
    assert!(err.to_string().contains("Priority Group"), "{err}");

    let got = within("fetch in group", consumer.fetch().batch(1).group("jobs"))
        .await
        .expect("fetch in group");
    assert_eq!(got.len(), 1);
    let pin = got[0].headers.as_ref().and_then(|h| h.get("Nats-Pin-Id"));
    assert!(
        pin.is_some(),
        "the pinned client's id comes with the message"
    );
    got[0].ack().await.expect("ack");

    let mut messages = within("messages in group", consumer.messages().group("jobs"))
        .await
        .expect("messages");
    for _ in 0..3 {
        let message = within("next", messages.try_next())
            .await
            .expect("ok")
            .expect("open");
        message.ack().await.expect("ack");
    }
}
