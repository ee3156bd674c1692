//! `Client::drain` on the connection of running services answers every request received
//! before the drain (the replies of handlers still running go out before the close, none
//! counts as an error), and still returns within its bound when a handler never finishes.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, within};
use nats_core::{Client, ConnectOptions, DrainErrorKind, Message, RequestError, RequestOptions};
use nats_micro::schema::StatsResponse;
use nats_micro::{handler_fn, ControlHandler, ControlRequest, EndpointConfig, Service};
use nats_tests::NatsServer;
use tokio::task::JoinHandle;

/// How long the slow handlers take.
const SLOW: Duration = Duration::from_millis(300);

/// How long a caller waits for a reply that must come.
const REPLY_WAIT: Duration = Duration::from_secs(8);

async fn connect_with_drain_timeout(url: &str, drain_timeout: Duration) -> Client {
    within(
        "connect",
        ConnectOptions::new()
            .drain_timeout(drain_timeout)
            .connect(url),
    )
    .await
    .expect("connect")
}

/// A service whose `slow` endpoint answers `done <body>` after [`SLOW`], at most
/// `max_concurrency` at once, and whose `hang` endpoint never answers.
async fn slow_service(client: &Client, max_concurrency: usize) -> Service {
    Service::builder("drained", "1.0.0")
        .max_concurrency(max_concurrency)
        .endpoint(
            "slow",
            handler_fn(|body: String| async move {
                tokio::time::sleep(SLOW).await;
                format!("done {body}")
            }),
        )
        .endpoint(
            EndpointConfig::new("hang"),
            handler_fn(std::future::pending::<()>),
        )
        .start(client)
        .await
        .expect("start")
}

/// Sends `count` requests to `subject` from `caller`, each with its number as the body, each
/// waiting `timeout` for its reply.
fn send_requests(
    caller: &Client,
    subject: &str,
    count: usize,
    timeout: Duration,
) -> Vec<JoinHandle<Result<Message, RequestError>>> {
    (0..count)
        .map(|i| {
            let caller = caller.clone();
            let subject = subject.to_owned();
            tokio::spawn(async move {
                let options = RequestOptions::new()
                    .payload(i.to_string())
                    .timeout(timeout);
                caller.send_request(subject, options).await
            })
        })
        .collect()
}

/// Waits until the service has counted `count` requests on `endpoint`.
async fn wait_for_requests(service: &Service, endpoint: &str, count: u64) {
    within("requests received", async {
        while endpoint_stats(service, endpoint).num_requests < count {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

fn endpoint_stats(service: &Service, endpoint: &str) -> nats_micro::schema::EndpointStats {
    service
        .stats()
        .endpoints
        .into_iter()
        .find(|e| e.name == endpoint)
        .expect("endpoint in STATS")
}

/// Asserts that request `i` of `requests` got `done i`.
async fn assert_real_replies(requests: Vec<JoinHandle<Result<Message, RequestError>>>) {
    for (i, request) in requests.into_iter().enumerate() {
        let reply = within("reply", request)
            .await
            .expect("joined")
            .unwrap_or_else(|e| panic!("request {i} got no reply: {e}"));
        assert!(reply.headers.is_none(), "request {i}: an error reply");
        assert_eq!(reply.payload, format!("done {i}"), "request {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_answers_every_request_in_a_handler() {
    const N: usize = 12;
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = slow_service(&client, 64).await;
    let caller = connect(&server.url()).await;
    let requests = send_requests(&caller, "slow", N, REPLY_WAIT);
    wait_for_requests(&service, "slow", N as u64).await;

    within("drain", client.drain()).await.expect("drain");

    assert!(client.is_closed());
    assert_real_replies(requests).await;
    let stats = endpoint_stats(&service, "slow");
    assert_eq!(stats.num_errors, 0, "{stats:?}");
    assert_eq!(stats.last_error, "");
    within("service stopped", service.stopped()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_answers_requests_still_waiting_for_a_handler() {
    const N: usize = 6;
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    // Two at a time: when the drain begins, four requests wait in the subscription.
    let service = slow_service(&client, 2).await;
    let caller = connect(&server.url()).await;
    let requests = send_requests(&caller, "slow", N, REPLY_WAIT);
    wait_for_requests(&service, "slow", 2).await;
    // Once every request is published and the caller's flush returns, the server has them
    // all, and delivers them to the service before it confirms the service's drain.
    within("published", async {
        while caller.statistics().out_msgs < N as u64 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    within("flush", caller.flush()).await.expect("flush");

    within("drain", client.drain()).await.expect("drain");

    assert_real_replies(requests).await;
    let stats = endpoint_stats(&service, "slow");
    assert_eq!((stats.num_requests, stats.num_errors), (N as u64, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_returns_within_its_bound_when_a_handler_never_finishes() {
    let server = NatsServer::spawn();
    let client = connect_with_drain_timeout(&server.url(), Duration::from_millis(1500)).await;
    let service = slow_service(&client, 64).await;
    let caller = connect(&server.url()).await;
    let hanging = send_requests(&caller, "hang", 1, Duration::from_secs(3));
    let slow = send_requests(&caller, "slow", 3, REPLY_WAIT);
    wait_for_requests(&service, "hang", 1).await;
    wait_for_requests(&service, "slow", 3).await;

    let error = within("drain", client.drain())
        .await
        .expect_err("the hanging handler outlived the drain timeout");
    assert_eq!(error.kind(), DrainErrorKind::TimedOut);
    assert!(client.is_closed());
    // The handlers that finished were answered all the same.
    assert_real_replies(slow).await;
    let hung = within("hanging request", hanging.into_iter().next().expect("one"))
        .await
        .expect("joined");
    assert!(hung.is_err(), "never answered: {hung:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_cut_short_still_answers_and_closes() {
    const N: usize = 4;
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = slow_service(&client, 64).await;
    let caller = connect(&server.url()).await;
    let requests = send_requests(&caller, "slow", N, REPLY_WAIT);
    wait_for_requests(&service, "slow", N as u64).await;

    // The caller of drain gives up (long before the handlers are done).
    let _ = tokio::time::timeout(Duration::from_millis(20), client.drain()).await;

    assert_real_replies(requests).await;
    within("closed", async {
        while !client.is_closed() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(endpoint_stats(&service, "slow").num_errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drain_answers_a_control_request_in_a_replacement_handler() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let (entered, mut calls) = tokio::sync::mpsc::unbounded_channel();
    let slow_stats = ControlHandler::new(tower::service_fn(
        move |control: ControlRequest<StatsResponse>| {
            let _ = entered.send(());
            async move {
                tokio::time::sleep(SLOW).await;
                Ok::<_, nats_micro::ServiceError>(control.default_reply())
            }
        },
    ));
    let service = Service::builder("drained", "1.0.0")
        .stats_reply_handler(slow_stats)
        .start(&client)
        .await
        .expect("start");
    let caller = connect(&server.url()).await;
    let subject = format!("$SRV.STATS.drained.{}", service.id());
    let stats = tokio::spawn(async move { caller.request(subject, "").await });
    within("handler entered", calls.recv())
        .await
        .expect("a call");

    within("drain", client.drain()).await.expect("drain");

    let reply = within("STATS reply", stats)
        .await
        .expect("joined")
        .expect("a STATS reply");
    let stats: StatsResponse = serde_json::from_slice(&reply.payload).expect("STATS JSON");
    assert_eq!(stats.id, service.id());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drain_guard_holds_a_plain_client_drain_back_until_the_reply_is_out() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let mut requests = client.subscribe("work").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");
    let guard = client.drain_guard();
    let worker = tokio::spawn({
        let client = client.clone();
        async move {
            let _guard = guard;
            while let Some(request) = requests.next().await {
                tokio::time::sleep(SLOW).await;
                if let Some(reply) = request.reply {
                    client.publish(reply, "worked").await.expect("publish");
                }
            }
        }
    });
    let caller = connect(&server.url()).await;
    let reply = tokio::spawn(async move { caller.request("work", "").await });
    within("received", async {
        while client.statistics().in_msgs == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;

    within("drain", client.drain()).await.expect("drain");

    let reply = within("reply", reply)
        .await
        .expect("joined")
        .expect("reply");
    assert_eq!(reply.payload, "worked");
    within("worker", worker).await.expect("worker");
}
