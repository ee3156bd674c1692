//! Request and reply: one reply, headers, no responders, timeouts, many replies, and many
//! requests in flight at once.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{payload_string, spawn_echo, within};
use nats_core::{HeaderMap, RequestErrorKind, RequestMany, RequestOptions};
use nats_tests::NatsServer;
use tokio::task::JoinSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_gets_the_responders_reply() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut service = client.subscribe("greet").await.expect("subscribe");
    let responder = client.clone();
    tokio::spawn(async move {
        while let Some(msg) = service.next().await {
            let answer = format!("hello, {}", payload_string(&msg));
            let reply = msg.reply.expect("a request carries a reply subject");
            responder.publish(reply, answer).await.expect("reply");
        }
    });

    let reply = within("request", client.request("greet", "joe"))
        .await
        .expect("request");
    assert_eq!(reply.payload, "hello, joe");
    let reply = within("request", client.request("greet", "ann"))
        .await
        .expect("second request");
    assert_eq!(reply.payload, "hello, ann");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_headers_reach_the_responder_and_come_back() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    spawn_echo(&client, client.subscribe("echo").await.expect("subscribe"));

    let mut headers = HeaderMap::new();
    headers.insert("Trace-Id", "t-1");
    headers.append("Hop", "a");
    headers.append("Hop", "b");
    let reply = within(
        "request",
        client.request_with_headers("echo", headers.clone(), "body"),
    )
    .await
    .expect("request with headers");
    assert_eq!(reply.payload, "body");
    assert_eq!(reply.headers, Some(headers.clone()));

    let request = RequestOptions::new()
        .payload("opts")
        .headers(headers.clone())
        .timeout(Duration::from_secs(5));
    let reply = within("send_request", client.send_request("echo", request))
        .await
        .expect("send_request");
    assert_eq!(reply.payload, "opts");
    assert_eq!(reply.headers, Some(headers));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_nobody_listens_to_fails_at_once_with_no_responders() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");

    let started = Instant::now();
    let err = within("request", client.request("nobody.home", "hello?"))
        .await
        .expect_err("no responders");
    assert_eq!(err.kind(), RequestErrorKind::NoResponders, "{err}");
    // The server answers at once; waiting for the 10 s request timeout would be a bug.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_nobody_answers_times_out_after_its_timeout() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    // Listens, so the server does not report no responders, but never answers.
    let _silent = client.subscribe("silent").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let request = RequestOptions::new().payload("hello?").timeout(timeout);
    let err = within("request", client.send_request("silent", request))
        .await
        .expect_err("timed out");
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), RequestErrorKind::TimedOut, "{err}");
    assert!(elapsed >= timeout, "gave up early, after {elapsed:?}");
    assert!(
        elapsed < Duration::from_secs(3),
        "gave up late, after {elapsed:?}"
    );
    // The connection is fine afterwards.
    within("flush", client.flush()).await.expect("flush");
}

/// Subscribes three responders on `subject`, each answering with its number.
async fn three_responders(client: &nats_core::Client, subject: &str) {
    for id in 0..3 {
        let mut sub = client.subscribe(subject).await.expect("subscribe");
        let responder = client.clone();
        tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                if let Some(reply) = msg.reply {
                    let _ = responder.publish(reply, id.to_string()).await;
                }
            }
        });
    }
    within("flush", client.flush()).await.expect("flush");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_many_stops_at_its_message_count() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    three_responders(&client, "census").await;

    let started = Instant::now();
    let limits = RequestMany::new()
        .max_messages(2)
        .timeout(Duration::from_secs(10));
    let replies = within("request_many", client.request_many("census", "", limits))
        .await
        .expect("request_many");
    assert_eq!(replies.len(), 2);
    // It returned on the count, not on the 10 s timeout.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let ids: BTreeSet<String> = replies.iter().map(payload_string).collect();
    assert_eq!(ids.len(), 2, "the same responder twice: {ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_many_collects_every_reply_until_the_replies_stall() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    three_responders(&client, "census").await;

    let started = Instant::now();
    let limits = RequestMany::new()
        .timeout(Duration::from_secs(10))
        .stall(Duration::from_millis(300));
    let replies = within("request_many", client.request_many("census", "", limits))
        .await
        .expect("request_many");
    // The stall ended it, not the 10 s timeout.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let ids: BTreeSet<String> = replies.iter().map(payload_string).collect();
    assert_eq!(replies.len(), 3);
    assert_eq!(ids, BTreeSet::from(["0".into(), "1".into(), "2".into()]));

    let err = within(
        "request_many",
        client.request_many("nobody", "", RequestMany::new()),
    )
    .await
    .expect_err("no responders");
    assert_eq!(err.kind(), RequestErrorKind::NoResponders, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_requests_each_get_their_own_reply() {
    const REQUESTS: usize = 1000;
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    spawn_echo(&client, client.subscribe("echo").await.expect("subscribe"));
    within("flush", client.flush()).await.expect("flush");

    let mut in_flight = JoinSet::new();
    for i in 0..REQUESTS {
        let client = client.clone();
        in_flight.spawn(async move {
            let reply = client.request("echo", format!("request {i}")).await;
            (i, reply)
        });
    }
    let mut answered = BTreeSet::new();
    while let Some(joined) = within("replies", in_flight.join_next()).await {
        let (i, reply) = joined.expect("request task");
        let reply = reply.unwrap_or_else(|err| panic!("request {i} failed: {err}"));
        assert_eq!(payload_string(&reply), format!("request {i}"));
        answered.insert(i);
    }
    assert_eq!(answered.len(), REQUESTS);
}
