//! `Service::stop` is bounded by the service's drain timeout, returns promptly when the server
//! is gone, cancels and counts handlers that never finish, and is cancellation-safe.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, within};
use nats_micro::{handler_fn, Service};
use nats_tests::NatsServer;
use tokio::time::Instant;

/// A service whose `hang` endpoint never answers and whose `echo` endpoint does.
async fn service_with_a_hanging_handler(client: &nats_core::Client, drain: Duration) -> Service {
    Service::builder("stopper", "1.0.0")
        .drain_timeout(drain)
        .endpoint(
            "hang",
            handler_fn(|| async {
                std::future::pending::<()>().await;
            }),
        )
        .endpoint("echo", handler_fn(|body: String| async move { body }))
        .start(client)
        .await
        .expect("start")
}

/// Sends a request to `hang` from `caller` and waits until the service has it in a handler.
async fn send_a_request_that_hangs(
    service: &Service,
    caller: &nats_core::Client,
) -> tokio::task::JoinHandle<Result<nats_core::Message, nats_core::RequestError>> {
    let request = tokio::spawn({
        let caller = caller.clone();
        async move { caller.request("hang", "").await }
    });
    // The request is in the handler once the service counted it.
    within("request received", async {
        while service
            .stats()
            .endpoints
            .iter()
            .all(|e| e.num_requests == 0)
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    request
}

fn errors_of(service: &Service, endpoint: &str) -> u64 {
    service
        .stats()
        .endpoints
        .iter()
        .find(|e| e.name == endpoint)
        .map(|e| e.num_errors)
        .expect("endpoint in STATS")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_that_never_finishes_is_cancelled_at_the_drain_timeout_and_counted() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = service_with_a_hanging_handler(&client, Duration::from_millis(300)).await;
    let caller = connect(&server.url()).await;
    let hanging = send_a_request_that_hangs(&service, &caller).await;
    let started = Instant::now();
    within("stop", service.stop()).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(250),
        "it waited for the handler first: {took:?}"
    );
    assert!(
        took < Duration::from_secs(5),
        "then cancelled it at the bound: {took:?}"
    );
    assert!(service.is_stopped());
    assert_eq!(
        errors_of(&service, "hang"),
        1,
        "the cancelled request is an error"
    );
    hanging.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_returns_promptly_when_the_server_is_gone() {
    let mut server = NatsServer::spawn();
    let client = nats_core::ConnectOptions::new()
        .max_reconnect_attempts(None)
        .connect(server.url())
        .await
        .expect("connect");
    let service = service_with_a_hanging_handler(&client, Duration::from_secs(30)).await;
    server.stop();
    within("reconnecting", async {
        while client.is_connected() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let started = Instant::now();
    within("stop", service.stop()).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no waiting for a server that is not there: {:?}",
        started.elapsed()
    );
    assert!(service.is_stopped());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_cut_short_still_stops_and_stopped_resolves() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = service_with_a_hanging_handler(&client, Duration::from_millis(300)).await;
    let caller = connect(&server.url()).await;
    let _hanging = send_a_request_that_hangs(&service, &caller).await;
    // The caller gives up on stop long before it is done.
    let cut = tokio::time::timeout(Duration::from_millis(20), service.stop()).await;
    assert!(cut.is_err(), "the stop was still waiting for the handler");
    within("stopped", service.stopped()).await;
    within("stop again", service.stop()).await;
    assert!(service.is_stopped());
    // The service no longer answers, and the server soon knows nobody listens: a stop that
    // reached its deadline drops the subscription without waiting for the server to confirm
    // the UNSUB, so a request racing it may time out first.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let err = caller
            .send_request(
                "echo",
                nats_core::RequestOptions::new()
                    .payload("x")
                    .timeout(Duration::from_millis(200)),
            )
            .await
            .expect_err("a stopped service answered");
        match err.kind() {
            nats_core::RequestErrorKind::NoResponders => break,
            nats_core::RequestErrorKind::TimedOut if Instant::now() < deadline => {}
            _ => panic!("expected no responders: {err}"),
        }
    }
}
