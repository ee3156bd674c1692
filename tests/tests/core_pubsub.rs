//! Publish and subscribe through a real server: exact payloads, reply subjects, wildcards,
//! queue groups and headers.

mod common;

use std::collections::BTreeSet;

use common::{next_msg, received_so_far, within};
use nats_core::{Bytes, HeaderMap};
use nats_tests::NatsServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_arrives_with_its_subject_reply_and_exact_payload() {
    let server = NatsServer::spawn();
    let client = within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect");
    let mut sub = client.subscribe("greet.joe").await.expect("subscribe");

    // Bytes that would break a text protocol if the client mangled lengths or line ends.
    let payload = Bytes::from_static(b"hi\r\nPUB x 1\r\n\0\xff end");
    client
        .publish_with_reply("greet.joe", "answers.here", payload.clone())
        .await
        .expect("publish with reply");
    client
        .publish("greet.joe", "")
        .await
        .expect("publish empty");

    let msg = next_msg(&mut sub).await;
    assert_eq!(msg.subject, "greet.joe");
    assert_eq!(msg.reply.as_deref(), Some("answers.here"));
    assert_eq!(msg.payload, payload);
    assert_eq!(msg.headers, None);
    assert_eq!(msg.status, None);

    let empty = next_msg(&mut sub).await;
    assert_eq!(empty.reply, None);
    assert!(empty.payload.is_empty(), "{:?}", empty.payload);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_larger_than_the_read_buffer_arrives_intact() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut sub = client.subscribe("big").await.expect("subscribe");

    let payload: Bytes = (0..512 * 1024)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<_>>()
        .into();
    client
        .publish("big", payload.clone())
        .await
        .expect("publish");

    let msg = next_msg(&mut sub).await;
    assert_eq!(msg.payload.len(), payload.len());
    assert!(msg.payload == payload, "payload bytes differ");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wildcards_match_exactly_the_subjects_they_should() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut one_token = client.subscribe("orders.*").await.expect("subscribe *");
    let mut the_rest = client.subscribe("orders.>").await.expect("subscribe >");
    let mut middle = client
        .subscribe("orders.*.created")
        .await
        .expect("subscribe middle *");

    let subjects = [
        "orders",
        "orders.eu",
        "orders.eu.created",
        "orders.eu.updated",
        "orders.us.created.late",
        "other.eu",
        "ordersx.eu",
    ];
    for subject in subjects {
        // The payload names the subject so that each delivery can be told apart.
        client.publish(subject, subject).await.expect("publish");
    }

    assert_eq!(
        received_so_far(&client, &mut one_token).await,
        ["orders.eu"]
    );
    assert_eq!(
        received_so_far(&client, &mut the_rest).await,
        [
            "orders.eu",
            "orders.eu.created",
            "orders.eu.updated",
            "orders.us.created.late"
        ]
    );
    assert_eq!(
        received_so_far(&client, &mut middle).await,
        ["orders.eu.created"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_group_delivers_each_message_to_exactly_one_member() {
    const N: usize = 300;
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(
            client
                .queue_subscribe("jobs", "workers")
                .await
                .expect("queue subscribe"),
        );
    }
    // A plain subscriber on the same subject still sees every message.
    let mut observer = client.subscribe("jobs").await.expect("subscribe");

    for i in 0..N {
        client
            .publish("jobs", i.to_string())
            .await
            .expect("publish");
    }

    let mut seen = BTreeSet::new();
    let mut total = 0;
    let mut busy_members = 0;
    for member in &mut members {
        let got = received_so_far(&client, member).await;
        total += got.len();
        busy_members += usize::from(!got.is_empty());
        for payload in got {
            assert!(
                seen.insert(payload.clone()),
                "{payload} went to two members"
            );
        }
    }
    let expected: BTreeSet<String> = (0..N).map(|i| i.to_string()).collect();
    assert_eq!(total, N);
    assert_eq!(seen, expected);
    assert!(busy_members > 1, "one member took all {N} messages");
    assert_eq!(received_so_far(&client, &mut observer).await.len(), N);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_keep_every_value_their_case_and_their_order() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut sub = client.subscribe("with.headers").await.expect("subscribe");

    let mut headers = HeaderMap::new();
    headers.insert("X-Trace-Id", "abc-123");
    headers.append("tag", "first");
    headers.append("Mixed-CASE", "Value With Spaces");
    headers.append("tag", "second");
    headers.append("tag", "third");
    client
        .publish_with_headers("with.headers", headers.clone(), "body")
        .await
        .expect("publish with headers");

    let msg = next_msg(&mut sub).await;
    assert_eq!(msg.payload, "body");
    assert_eq!(msg.status, None);
    let got = msg.headers.expect("headers arrived");
    assert_eq!(
        got.iter().collect::<Vec<_>>(),
        headers.iter().collect::<Vec<_>>()
    );
    assert_eq!(
        got.get_all("tag").collect::<Vec<_>>(),
        ["first", "second", "third"]
    );
    assert_eq!(got.get("Mixed-CASE"), Some("Value With Spaces"));
    assert_eq!(got.get("mixed-case"), None, "names must keep their case");
    assert_eq!(got.get_ignore_case("x-trace-id"), Some("abc-123"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_may_carry_headers_and_no_payload() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let mut sub = client.subscribe("only.headers").await.expect("subscribe");

    let headers: HeaderMap = [("Kind", "ping")].into_iter().collect();
    client
        .publish_with_headers("only.headers", headers.clone(), "")
        .await
        .expect("publish with headers");
    client
        .publish("only.headers", "after")
        .await
        .expect("publish");

    let msg = next_msg(&mut sub).await;
    assert!(msg.payload.is_empty(), "{:?}", msg.payload);
    assert_eq!(msg.headers, Some(headers));
    assert_eq!(msg.status, None);
    assert!(!msg.is_no_responders());
    // The stream stays in step: the next message is the plain one.
    let next = next_msg(&mut sub).await;
    assert_eq!(next.payload, "after");
    assert_eq!(next.headers, None);
}
