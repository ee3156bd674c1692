//! Requests on one endpoint run concurrently, up to a limit: the endpoint's own
//! `max_concurrency`, or tower's `ConcurrencyLimitLayer`. 1,000 concurrent requests never
//! exceed 8 in flight, and all succeed.

mod micro_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use micro_support::{connect, within};
use nats_core::{Client, RequestOptions};
use nats_micro::extract::State;
use nats_micro::{handler_with_state, EndpointConfig, Service};
use nats_tests::NatsServer;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::limit::ConcurrencyLimitLayer;
use tower::ServiceBuilder;

/// Requests in flight now, and the most seen at once.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

async fn tracked(State(gauge): State<Arc<Gauge>>, body: String) -> String {
    let now = gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
    gauge.max.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(2)).await;
    gauge.now.fetch_sub(1, Ordering::SeqCst);
    body
}

async fn fire(caller: &Client, subject: &'static str, count: usize) -> usize {
    let mut requests = JoinSet::new();
    for i in 0..count {
        let caller = caller.clone();
        requests.spawn(async move {
            let options = RequestOptions::new()
                .payload(i.to_string())
                .timeout(Duration::from_secs(30));
            let reply = caller.send_request(subject, options).await.expect("reply");
            assert_eq!(reply.payload, i.to_string());
        });
    }
    let mut succeeded = 0;
    while let Some(result) = within("requests", requests.join_next()).await {
        result.expect("request succeeded");
        succeeded += 1;
    }
    succeeded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_requests_never_exceed_the_endpoint_limit() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let caller = connect(&server.url()).await;
    let gauge = Arc::new(Gauge::default());
    let service = Service::builder("limited", "1.0.0")
        .endpoint(
            EndpointConfig::new("work").max_concurrency(8),
            handler_with_state(tracked, Arc::clone(&gauge)),
        )
        .start(&client)
        .await
        .expect("start");

    fire_within_limit_of_8(&caller, &gauge, &service).await;
    assert_eq!(service.stats().endpoints[0].num_errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_requests_never_exceed_a_tower_concurrency_limit() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let caller = connect(&server.url()).await;
    let gauge = Arc::new(Gauge::default());
    let limited = ServiceBuilder::new()
        .layer(ConcurrencyLimitLayer::new(8))
        .service(handler_with_state(tracked, Arc::clone(&gauge)));
    let service = Service::builder("tower-limited", "1.0.0")
        .endpoint("work", limited)
        .start(&client)
        .await
        .expect("start");

    fire_within_limit_of_8(&caller, &gauge, &service).await;
}

/// Sends 1,000 concurrent requests to `work` and checks that all succeeded, that at most 8
/// and more than one ran at once, and that STATS counted every one.
async fn fire_within_limit_of_8(caller: &Client, gauge: &Gauge, service: &Service) {
    assert_eq!(fire(caller, "work", 1000).await, 1000);
    let max = gauge.max.load(Ordering::SeqCst);
    assert!(max <= 8, "{max} requests were in flight at once");
    assert!(max > 1, "requests ran one at a time");
    assert_eq!(service.stats().endpoints[0].num_requests, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_on_one_endpoint_run_concurrently() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let caller = connect(&server.url()).await;
    async fn slow(body: String) -> String {
        tokio::time::sleep(Duration::from_millis(300)).await;
        body
    }
    let _service = Service::builder("parallel", "1.0.0")
        .endpoint("slow", nats_micro::handler_fn(slow))
        .start(&client)
        .await
        .expect("start");

    let started = Instant::now();
    assert_eq!(fire(&caller, "slow", 16).await, 16);
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(2400),
        "16 requests of 300 ms took {elapsed:?}: not concurrent"
    );
}
