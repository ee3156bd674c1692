//! The life of a subscription: auto-unsubscribe, unsubscribe, drop, and falling behind its
//! pending limits.

mod common;

use common::{next_msg, read_to_end, recording_events, wait_for_event, within};
use nats_core::{Event, RequestErrorKind, SubscribeOptions};
use nats_tests::NatsServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_msgs_delivers_that_many_then_ends_the_stream() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let options = SubscribeOptions {
        max_msgs: Some(5),
        ..SubscribeOptions::default()
    };
    let mut sub = client
        .subscribe_with("limited", options)
        .await
        .expect("subscribe");

    for i in 0..10 {
        client
            .publish("limited", i.to_string())
            .await
            .expect("publish");
    }

    assert_eq!(read_to_end(&mut sub).await, ["0", "1", "2", "3", "4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_after_counts_the_messages_already_received() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut sub = client.subscribe("counted").await.expect("subscribe");
    for i in 0..3 {
        client
            .publish("counted", i.to_string())
            .await
            .expect("publish");
    }
    for i in 0..3 {
        assert_eq!(next_msg(&mut sub).await.payload, i.to_string());
    }

    // Five in all: three came already, so two more.
    sub.unsubscribe_after(5).expect("unsubscribe after");
    for i in 3..10 {
        client
            .publish("counted", i.to_string())
            .await
            .expect("publish");
    }

    assert_eq!(read_to_end(&mut sub).await, ["3", "4"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsubscribe_ends_the_stream_after_what_was_received() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut sub = client.subscribe("stop").await.expect("subscribe");
    client.publish("stop", "before").await.expect("publish");
    within("flush", client.flush()).await.expect("flush");

    sub.unsubscribe().expect("unsubscribe");
    client.publish("stop", "after").await.expect("publish");

    assert_eq!(read_to_end(&mut sub).await, ["before"]);
    // The server forgot the subscription too: nobody answers a request on its subject.
    let err = client.request("stop", "").await.expect_err("no responders");
    assert_eq!(err.kind(), RequestErrorKind::NoResponders);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_subscriber_unsubscribes_it_at_the_server() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let sub = client.subscribe("dropped").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    drop(sub);
    within("flush", client.flush()).await.expect("flush");

    let err = within("request", client.request("dropped", "anyone?"))
        .await
        .expect_err("the dropped subscriber must not count as a responder");
    assert_eq!(err.kind(), RequestErrorKind::NoResponders);
    // Other subscriptions on the subject keep working.
    let mut again = client.subscribe("dropped").await.expect("subscribe again");
    client
        .publish("dropped", "still here")
        .await
        .expect("publish");
    assert_eq!(next_msg(&mut again).await.payload, "still here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_drops_over_its_limit_and_is_reported_once() {
    let server = NatsServer::spawn();
    let (options, mut events) = recording_events();
    let client = options.connect(server.url()).await.expect("connect");
    let limits = SubscribeOptions {
        pending_msgs_limit: Some(10),
        ..SubscribeOptions::default()
    };
    let mut sub = client
        .subscribe_with("firehose", limits)
        .await
        .expect("subscribe");

    for i in 0..1000 {
        client
            .publish("firehose", i.to_string())
            .await
            .expect("publish");
    }
    // Every message came back before the flush's PONG, so all were delivered or dropped.
    within("flush", client.flush()).await.expect("flush");

    assert_eq!(sub.pending_messages(), 10);
    assert_eq!(sub.dropped(), 990);
    for i in 0..10 {
        assert_eq!(next_msg(&mut sub).await.payload, i.to_string());
    }
    // Caught up: the subscription delivers again.
    client
        .publish("firehose", "recovered")
        .await
        .expect("publish");
    assert_eq!(next_msg(&mut sub).await.payload, "recovered");

    // Closing emits Closed after every earlier event: the list is complete there.
    client.close().await;
    let (_, before_close) = wait_for_event(&mut events, |e| *e == Event::Closed).await;
    let slow: Vec<&Event> = before_close
        .iter()
        .filter(|e| matches!(e, Event::SlowConsumer { .. }))
        .collect();
    assert_eq!(
        slow,
        [&Event::SlowConsumer {
            sid: sub.sid(),
            subject: "firehose".into(),
        }],
        "one event for the whole episode; all events: {before_close:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_falls_behind_again_is_reported_again() {
    let server = NatsServer::spawn();
    let (options, mut events) = recording_events();
    let client = options
        .subscription_pending_limits(5, 1024 * 1024)
        .connect(server.url())
        .await
        .expect("connect");
    let mut sub = client.subscribe("bursty").await.expect("subscribe");

    for burst in 0..2 {
        for i in 0..50 {
            client
                .publish("bursty", format!("{burst}.{i}"))
                .await
                .expect("publish");
        }
        within("flush", client.flush()).await.expect("flush");
        // Reading what was kept ends the episode.
        for i in 0..5 {
            assert_eq!(next_msg(&mut sub).await.payload, format!("{burst}.{i}"));
        }
    }
    assert_eq!(sub.dropped(), 90);

    client.close().await;
    let (_, before_close) = wait_for_event(&mut events, |e| *e == Event::Closed).await;
    let slow = before_close
        .iter()
        .filter(|e| matches!(e, Event::SlowConsumer { .. }))
        .count();
    assert_eq!(
        slow, 2,
        "one event per episode; all events: {before_close:?}"
    );
}
