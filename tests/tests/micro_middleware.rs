//! Tower middleware on endpoints: service-wide layers (which reach endpoints added after
//! start), per-endpoint layers, a timeout, a rate limit, and a custom middleware.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, within, RequireHeaderLayer};
use nats_core::{Client, HeaderMap};
use nats_micro::{handler_fn, CallError, Service, ServiceError};
use nats_tests::NatsServer;
use tower::limit::RateLimitLayer;
use tower::timeout::TimeoutLayer;
use tower::ServiceBuilder;

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_millis(500)).await;
    "too late"
}

fn authorized() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("Authorization", "yes");
    headers
}

async fn call(client: &Client, subject: &str, headers: HeaderMap) -> Result<String, CallError> {
    let options = nats_core::RequestOptions::new()
        .headers(headers)
        .timeout(Duration::from_secs(5));
    let reply = within(subject, nats_micro::send_request(client, subject, options)).await?;
    Ok(String::from_utf8(reply.payload.to_vec()).expect("UTF-8"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_wide_layers_wrap_every_endpoint() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = Service::builder("guarded", "1.0.0")
        .layer(RequireHeaderLayer::new(
            "Authorization",
            ServiceError::new(401, "unauthorized"),
        ))
        .layer(TimeoutLayer::new(Duration::from_millis(100)))
        .endpoint("fast", handler_fn(|| async { "fast" }))
        .start(&client)
        .await
        .expect("start");
    service
        .add_endpoint("slow", handler_fn(slow))
        .await
        .expect("added after start");

    assert_eq!(
        call(&client, "fast", authorized()).await.expect("ok"),
        "fast"
    );
    for subject in ["fast", "slow"] {
        match call(&client, subject, HeaderMap::new()).await {
            Err(CallError::Service(error)) => assert_eq!(error.code, "401", "{subject}"),
            other => panic!("{subject}: expected 401, got {other:?}"),
        }
    }
    match call(&client, "slow", authorized()).await {
        Err(CallError::Service(error)) => {
            assert_eq!(error, ServiceError::new(504, "request timed out"));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    let stats = service.stats();
    let slow_stats = &stats.endpoints[1];
    assert_eq!((slow_stats.num_requests, slow_stats.num_errors), (2, 2));
    assert_eq!(slow_stats.last_error, "504:request timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_endpoint_rate_limit_spaces_requests() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let limited = ServiceBuilder::new()
        .layer(RateLimitLayer::new(5, Duration::from_millis(200)))
        .service(handler_fn(|| async { "ok" }));
    let _service = Service::builder("rated", "1.0.0")
        .endpoint("limited", limited)
        .endpoint("free", handler_fn(|| async { "ok" }))
        .start(&client)
        .await
        .expect("start");

    let started = tokio::time::Instant::now();
    for _ in 0..15 {
        call(&client, "limited", HeaderMap::new())
            .await
            .expect("every request is served, later");
    }
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "15 requests at 5 per 200 ms took only {:?}",
        started.elapsed()
    );
    // The layer wraps only its endpoint.
    for _ in 0..15 {
        call(&client, "free", HeaderMap::new()).await.expect("ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_for_one_named_endpoint_of_the_builder() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = Service::builder("named-layer", "1.0.0")
        .endpoint("slow", handler_fn(slow))
        .endpoint("also_slow", handler_fn(slow))
        .endpoint_layer("slow", TimeoutLayer::new(Duration::from_millis(50)))
        .start(&client)
        .await
        .expect("start");
    match call(&client, "slow", HeaderMap::new()).await {
        Err(CallError::Service(error)) => assert_eq!(error.code, "504"),
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(
        call(&client, "also_slow", HeaderMap::new())
            .await
            .expect("ok"),
        "too late"
    );
    service.stop().await;

    let error = Service::builder("named-layer", "1.0.0")
        .endpoint("slow", handler_fn(slow))
        .endpoint_layer("typo", TimeoutLayer::new(Duration::from_millis(50)))
        .start(&client)
        .await
        .expect_err("no endpoint is called typo");
    let config_error = error.config_error().expect("a config error");
    assert_eq!(
        config_error.kind(),
        nats_micro::ConfigErrorKind::UnknownEndpoint
    );
    assert_eq!(config_error.value(), "typo");
}
