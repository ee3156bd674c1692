//! A client's life: connecting (to a server list, or to nothing), what it learns from the
//! server, flushing, counting, draining and closing.

mod common;

use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use common::{next_msg, within};
use nats_core::{ConnectErrorKind, FlushErrorKind, PublishErrorKind, State, SubscribeErrorKind};
use nats_tests::NatsServer;

/// A local URL on which nothing listens.
fn dead_url() -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a free port");
    let port = listener.local_addr().expect("local address").port();
    // Dropping the listener closes the port again.
    drop(listener);
    format!("nats://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_a_closed_port_fails_quickly_with_an_io_error() {
    let started = Instant::now();
    let err = within("connect", nats_core::connect(dead_url()))
        .await
        .expect_err("nothing listens there");
    assert_eq!(err.kind(), ConnectErrorKind::Io, "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_list_skips_a_dead_server() {
    let server = NatsServer::spawn();
    let client = within("connect", nats_core::connect([dead_url(), server.url()]))
        .await
        .expect("the second server accepts");

    let url = client.connected_url().expect("connected");
    assert!(url.ends_with(&format!(":{}", server.port())), "{url}");
    let mut sub = client.subscribe("alive").await.expect("subscribe");
    client.publish("alive", "yes").await.expect("publish");
    assert_eq!(next_msg(&mut sub).await.payload, "yes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reports_what_the_server_said_about_itself() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");

    let info = client.server_info();
    assert!(!client.server_version().is_empty());
    assert_eq!(client.server_version(), info.version);
    assert!(client.max_payload() > 0);
    assert_eq!(client.max_payload(), info.max_payload);
    assert!(client.client_id() > 0);
    assert_eq!(info.port, server.port());
    let url = client.connected_url().expect("connected");
    assert!(url.ends_with(&format!(":{}", server.port())), "{url}");
    assert!(client.is_connected());
    assert_eq!(client.last_error(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_count_messages_and_bytes_both_ways() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut sub = client.subscribe("counted").await.expect("subscribe");

    for payload in ["one", "two", "three"] {
        client.publish("counted", payload).await.expect("publish");
    }
    for _ in 0..3 {
        next_msg(&mut sub).await;
    }
    within("flush", client.flush()).await.expect("flush");

    let stats = client.statistics();
    assert_eq!(stats.out_msgs, 3);
    assert_eq!(stats.out_bytes, 11);
    assert_eq!(stats.in_msgs, 3);
    assert_eq!(stats.in_bytes, 11);
    assert_eq!(stats.reconnects, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_returns_once_the_server_has_everything() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let sub = client.subscribe("flushed").await.expect("subscribe");
    for i in 0..100 {
        client
            .publish("flushed", i.to_string())
            .await
            .expect("publish");
    }

    within("flush", client.flush()).await.expect("flush");
    // The server routed every message back before answering the flush.
    assert_eq!(sub.pending_messages(), 100);
    assert_eq!(client.pending_data_size(), 0);
    client
        .flush_timeout(Duration::from_secs(5))
        .await
        .expect("flush_timeout on a live server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_hands_over_every_received_message_then_closes() {
    const K: usize = 500;
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut sub = client.subscribe("work").await.expect("subscribe");
    let consumer = tokio::spawn(async move {
        let mut got = Vec::new();
        while let Some(msg) = sub.next().await {
            got.push(msg.payload);
        }
        got
    });

    for i in 0..K {
        client
            .publish("work", i.to_string())
            .await
            .expect("publish");
    }
    // No flush: draining must itself write what was published before unsubscribing.
    within("drain", client.drain()).await.expect("drain");

    assert_eq!(client.state(), State::Closed);
    assert!(client.is_closed());
    let got = within("consumer", consumer).await.expect("consumer task");
    assert_eq!(got.len(), K, "messages lost in the drain");
    for (i, payload) in got.iter().enumerate() {
        assert_eq!(payload, &i.to_string());
    }
    let err = client
        .publish("work", "late")
        .await
        .expect_err("closed client");
    assert_eq!(err.kind(), PublishErrorKind::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_does_not_wait_for_a_subscriber_nobody_reads_and_its_messages_stay_readable() {
    const K: usize = 20;
    let server = NatsServer::spawn();
    let client = nats_core::ConnectOptions::new()
        .drain_timeout(Duration::from_secs(30))
        .connect(server.url())
        .await
        .expect("connect");
    let mut unread = client.subscribe("kept").await.expect("subscribe");
    for i in 0..K {
        client
            .publish("kept", i.to_string())
            .await
            .expect("publish");
    }
    client.flush().await.expect("flush");
    let started = Instant::now();
    within("drain", client.drain()).await.expect("drain");
    // Far below the 30 s drain timeout: nobody reading is no reason to wait.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(client.is_closed());
    for i in 0..K {
        assert_eq!(next_msg(&mut unread).await.payload, i.to_string());
    }
    assert!(
        within("end", unread.next()).await.is_none(),
        "then the stream ends"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_ends_subscriptions_and_refuses_further_work() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut sub = client.subscribe("closing").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    within("close", client.close()).await;

    assert!(client.is_closed());
    assert_eq!(client.connected_url(), None);
    assert!(within("stream end", sub.next()).await.is_none());
    let err = client.publish("closing", "x").await.expect_err("closed");
    assert_eq!(err.kind(), PublishErrorKind::Closed);
    let err = client.flush().await.expect_err("closed");
    assert_eq!(err.kind(), FlushErrorKind::Closed);
    let err = client.subscribe("closing").await.expect_err("closed");
    assert_eq!(err.kind(), SubscribeErrorKind::Closed);
    // Closing twice is harmless.
    within("second close", client.close()).await;
}
