//! Asynchronous JetStream publishing: many acknowledgements in flight, never more than the
//! bound, all of them arriving, and waiting for the outstanding ones.

mod common;

use std::time::Duration;

use common::{next_msg, within};
use nats_core::jetstream::{ContextOptions, PubAckFuture, StorageType, StreamConfig};
use nats_tests::NatsServer;

async fn connect(server: &NatsServer) -> nats_core::Client {
    within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_async_publishes_are_all_acknowledged_in_order() {
    let server = NatsServer::spawn_jetstream();
    const BOUND: usize = 64;
    let js = connect(&server)
        .await
        .jetstream_with(ContextOptions::new().max_pending_acks(BOUND));
    let config = StreamConfig {
        subjects: vec!["events.>".into()],
        storage: StorageType::Memory,
        ..StreamConfig::new("EVENTS")
    };
    within("create", js.create_stream(&config))
        .await
        .expect("create");

    const COUNT: u64 = 20_000;
    let mut acks = Vec::with_capacity(COUNT as usize);
    let mut most_pending = 0;
    for i in 0..COUNT {
        let ack = within("publish", js.publish_async("events.tick", format!("{i}")))
            .await
            .expect("publish");
        most_pending = most_pending.max(js.pending_acks());
        acks.push(ack);
    }
    assert!(most_pending <= BOUND, "{most_pending} outstanding");
    let mut sequences = Vec::with_capacity(acks.len());
    for ack in acks {
        let ack = within("ack", ack).await.expect("acknowledged");
        assert_eq!(ack.stream, "EVENTS");
        sequences.push(ack.sequence);
    }
    assert_eq!(sequences, (1..=COUNT).collect::<Vec<_>>());
    let info = js.stream_info("EVENTS").await.expect("info");
    assert_eq!(info.state.messages, COUNT);
    assert_eq!(js.pending_acks(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_past_the_bound_waits_until_an_ack_arrives() {
    // A responder of our own stands in for the stream: it decides when acks come.
    let server = NatsServer::spawn();
    let client = connect(&server).await;
    let mut requests = client.subscribe("fake.stream").await.expect("subscribe");
    client.flush().await.expect("flush");
    let js = client.jetstream_with(ContextOptions::new().max_pending_acks(4));

    let mut acks: Vec<PubAckFuture> = Vec::new();
    for i in 0..4 {
        let ack = within("publish", js.publish_async("fake.stream", format!("{i}")))
            .await
            .expect("room for four");
        acks.push(ack);
    }
    let mut received = Vec::new();
    for _ in 0..4 {
        received.push(next_msg(&mut requests).await);
    }
    assert_eq!(js.pending_acks(), 4);

    let fifth = tokio::spawn({
        let js = js.clone();
        async move { js.publish_async("fake.stream", "4").await }
    });
    // Nothing answered: the fifth must stay unsent however long we look.
    let early = tokio::time::timeout(Duration::from_millis(300), requests.next()).await;
    assert!(early.is_err(), "a fifth message went out past the bound");
    assert!(!fifth.is_finished());

    // One ack, not yet read by anyone, makes room for exactly one more.
    let first_reply = received[0].reply.clone().expect("a reply subject");
    client
        .publish(&first_reply, r#"{"stream":"FAKE","seq":1}"#)
        .await
        .expect("ack");
    let fifth = within("fifth publish", fifth)
        .await
        .expect("task")
        .expect("sent once an ack arrived");
    let message = next_msg(&mut requests).await;
    assert_eq!(message.payload, "4");
    assert_eq!(js.pending_acks(), 4);

    let first = within("first ack", acks.remove(0)).await.expect("ack");
    assert_eq!((first.stream.as_str(), first.sequence), ("FAKE", 1));
    // Dropped futures keep their places until their acks arrive (or time out).
    drop(acks);
    drop(fifth);
    assert_eq!(js.pending_acks(), 4, "dropped futures keep their places");
    for (seq, request) in received
        .iter()
        .skip(1)
        .chain(std::iter::once(&message))
        .enumerate()
    {
        let reply = request.reply.clone().expect("a reply subject");
        let ack = format!(r#"{{"stream":"FAKE","seq":{}}}"#, seq + 2);
        client.publish(&reply, ack).await.expect("ack");
    }
    within("the acks arrive", js.wait_for_acks())
        .await
        .expect("all arrived");
    assert_eq!(js.pending_acks(), 0, "arrived acks give their places back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_acks_returns_once_every_outstanding_ack_arrived() {
    let server = NatsServer::spawn_jetstream();
    let js = connect(&server).await.jetstream();
    let config = StreamConfig {
        subjects: vec!["w".into()],
        storage: StorageType::Memory,
        ..StreamConfig::new("W")
    };
    within("create", js.create_stream(&config))
        .await
        .expect("create");
    let mut acks = Vec::new();
    for _ in 0..1000 {
        acks.push(js.publish_async("w", "x").await.expect("publish"));
    }
    within("wait for acks", js.wait_for_acks())
        .await
        .expect("all arrived");
    assert_eq!(js.pending_acks(), 0);
    let info = js.stream_info("W").await.expect("info");
    assert_eq!(info.state.messages, 1000);
    for ack in acks {
        // Already arrived: reading them takes no round trip.
        let ack = tokio::time::timeout(Duration::from_secs(1), ack)
            .await
            .expect("ready")
            .expect("stored");
        assert_eq!(ack.stream, "W");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_that_never_come_time_out_and_free_their_place() {
    let server = NatsServer::spawn();
    let client = connect(&server).await;
    let _silent = client.subscribe("silent").await.expect("subscribe");
    client.flush().await.expect("flush");
    let options = ContextOptions::new()
        .max_pending_acks(2)
        .timeout(Duration::from_millis(300));
    let js = client.jetstream_with(options);
    let a = js.publish_async("silent", "a").await.expect("publish");
    let _b = js.publish_async("silent", "b").await.expect("publish");
    let err = js
        .publish_async("silent", "c")
        .await
        .expect_err("no room within the timeout");
    assert_eq!(err.kind(), nats_core::jetstream::PublishErrorKind::TimedOut);
    let err = within("ack", a).await.expect_err("no ack");
    assert_eq!(err.kind(), nats_core::jetstream::PublishErrorKind::TimedOut);
    assert_eq!(js.pending_acks(), 1, "the awaited one gave its place back");
    let err = js.wait_for_acks().await.expect_err("b never arrives");
    assert_eq!(err.kind(), nats_core::jetstream::PublishErrorKind::TimedOut);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_futures_still_count_against_the_bound() {
    let server = NatsServer::spawn_jetstream();
    const BOUND: usize = 32;
    let js = connect(&server)
        .await
        .jetstream_with(ContextOptions::new().max_pending_acks(BOUND));
    let config = StreamConfig {
        subjects: vec!["fire.>".into()],
        ..StreamConfig::new("FIRE")
    };
    within("create", js.create_stream(&config))
        .await
        .expect("create");
    // Fire and forget, as nats.go's PublishAsync users do: the bound still holds, so the
    // stream is never flooded past what it acknowledges, and every message is stored.
    const COUNT: u64 = 30_000;
    let mut most_pending = 0;
    for i in 0..COUNT {
        let ack = within("publish", js.publish_async("fire.tick", format!("{i}")))
            .await
            .expect("publish");
        drop(ack);
        most_pending = most_pending.max(js.pending_acks());
    }
    assert!(most_pending <= BOUND, "{most_pending} outstanding");
    within("wait for acks", js.wait_for_acks())
        .await
        .expect("all acknowledged");
    assert_eq!(js.pending_acks(), 0);
    let info = js.stream_info("FIRE").await.expect("info");
    assert_eq!(info.state.messages, COUNT, "every message stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_ack_that_never_comes_gives_its_place_back_after_its_timeout() {
    let server = NatsServer::spawn();
    let client = connect(&server).await;
    let _silent = client.subscribe("silent").await.expect("subscribe");
    client.flush().await.expect("flush");
    let options = ContextOptions::new()
        .max_pending_acks(1)
        .timeout(Duration::from_millis(300));
    let js = client.jetstream_with(options);
    drop(js.publish_async("silent", "a").await.expect("publish"));
    assert_eq!(js.pending_acks(), 1, "the dropped future keeps its place");
    // The next publish waits (up to 2 s); once the first ack's 300 ms are up, its place
    // comes back.
    let patient = nats_core::jetstream::PublishOptions::new().timeout(Duration::from_secs(2));
    let next = within(
        "publish after the timeout",
        js.publish_async_with("silent", "b", patient),
    )
    .await
    .expect("room once the abandoned ack expired");
    drop(next);
}
