//! Errors: a failing handler, a panicking one, a bad JSON body, `respond_error` and a reply that
//! cannot be sent each count in STATS with the right `last_error`, and reach the caller as a
//! typed service error.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, discovery, within};
use nats_core::{Client, HeaderMap, RequestOptions};
use nats_micro::layer::ErrorHandlingLayer;
use nats_micro::schema::EndpointStats;
use nats_micro::{
    handler_fn, BoxError, CallError, Json, Request, RespondErrorKind, Service, ServiceError,
};
use nats_tests::NatsServer;
use serde::Deserialize;
use tower::{service_fn, ServiceBuilder};

#[derive(Debug, Deserialize)]
struct Order {
    #[allow(dead_code)]
    id: u64,
}

async fn start(client: &Client) -> Service {
    let service = Service::builder("errors", "1.0.0")
        .start(client)
        .await
        .expect("start");
    let failing =
        service_fn(|_: Request| async { Err::<String, BoxError>("database unavailable".into()) });
    service.add_endpoint("failing", failing).await.expect("add");
    let conflict = || async { Err::<String, _>(ServiceError::new(409, "already exists")) };
    service
        .add_endpoint("conflict", handler_fn(conflict))
        .await
        .expect("add");
    let panicking = |body: String| async move {
        if body == "boom" {
            panic!("handler exploded");
        }
        body
    };
    service
        .add_endpoint("panicking", handler_fn(panicking))
        .await
        .expect("add");
    let wrapped = ServiceBuilder::new()
        .layer(ErrorHandlingLayer::new("order service failed"))
        .service(handler_fn(|| async {
            panic!("inside the layer");
            #[allow(unreachable_code)]
            "never"
        }));
    service.add_endpoint("wrapped", wrapped).await.expect("add");
    let orders = |Json(order): Json<Order>| async move { format!("{order:?}") };
    service
        .add_endpoint("orders", handler_fn(orders))
        .await
        .expect("add");
    service
        .add_endpoint("explicit", handler_fn(explicit))
        .await
        .expect("add");
    service
        .add_endpoint("huge", handler_fn(|| async { vec![b'x'; 2 * 1024 * 1024] }))
        .await
        .expect("add");
    service
}

/// nats-py style: answers with `respond_error`, then tries an empty description.
async fn explicit(request: Request) {
    let empty = request.respond_error(400, "", "", None).await;
    assert_eq!(
        empty.expect_err("empty description").kind(),
        RespondErrorKind::EmptyDescription
    );
    let mut headers = HeaderMap::new();
    headers.insert("Trace-Id", "t-9");
    request
        .respond_error(422, "bad thing", "details", Some(headers))
        .await
        .expect("error reply sent");
}

async fn call(client: &Client, subject: &str, body: &'static str) -> ServiceError {
    match within(subject, nats_micro::request(client, subject, body)).await {
        Err(CallError::Service(error)) => error,
        other => panic!("{subject}: expected a service error, got {other:?}"),
    }
}

async fn endpoint_stats(client: &Client, service: &Service, name: &str) -> EndpointStats {
    let stats = within(
        "stats",
        discovery(client).stats_instance("errors", service.id()),
    )
    .await
    .expect("stats")
    .expect("the instance answers");
    stats
        .endpoints
        .into_iter()
        .find(|e| e.name == name)
        .expect("endpoint in STATS")
}

async fn assert_counted(client: &Client, service: &Service, name: &str, requests: u64, last: &str) {
    let stats = endpoint_stats(client, service, name).await;
    assert_eq!(
        (
            stats.num_requests,
            stats.num_errors,
            stats.last_error.as_str()
        ),
        (requests, requests, last),
        "{name}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_handler_is_a_500() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start(&client).await;

    let error = call(&client, "failing", "").await;
    assert_eq!(error, ServiceError::internal("database unavailable"));
    assert_counted(&client, &service, "failing", 1, "500:database unavailable").await;

    let error = call(&client, "conflict", "").await;
    assert_eq!(
        (error.code.as_str(), error.description.as_str()),
        ("409", "already exists")
    );
    assert_counted(&client, &service, "conflict", 1, "409:already exists").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_is_a_500_and_the_endpoint_lives_on() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start(&client).await;

    for _ in 0..3 {
        let error = call(&client, "panicking", "boom").await;
        assert_eq!(error, ServiceError::internal("handler panicked"));
    }
    let reply = within("request", nats_micro::request(&client, "panicking", "fine"))
        .await
        .expect("the endpoint still answers");
    assert_eq!(reply.payload, "fine");
    let stats = endpoint_stats(&client, &service, "panicking").await;
    assert_eq!((stats.num_requests, stats.num_errors), (4, 3));
    assert_eq!(stats.last_error, "500:handler panicked");

    let error = call(&client, "wrapped", "").await;
    assert_eq!(error, ServiceError::internal("order service failed"));
    assert_counted(&client, &service, "wrapped", 1, "500:order service failed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_json_body_is_a_400_with_the_serde_message() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start(&client).await;

    let serde_message = serde_json::from_str::<Order>("{\"id\": \"seven\"}")
        .expect_err("invalid")
        .to_string();
    let serde_message = format!("invalid JSON body: {serde_message}");
    let error = call(&client, "orders", "{\"id\": \"seven\"}").await;
    assert_eq!(error, ServiceError::bad_request(serde_message.clone()));
    assert_counted(
        &client,
        &service,
        "orders",
        1,
        &format!("400:{serde_message}"),
    )
    .await;

    let reply = within(
        "request",
        nats_micro::request(&client, "orders", "{\"id\": 7}"),
    )
    .await
    .expect("a good body works");
    assert_eq!(reply.payload, "Order { id: 7 }");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn respond_error_sends_code_description_data_and_headers() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start(&client).await;

    let reply = within("request", client.request("explicit", ""))
        .await
        .expect("a reply");
    let headers = reply.headers.as_ref().expect("error headers");
    assert_eq!(headers.get("Nats-Service-Error"), Some("bad thing"));
    assert_eq!(headers.get("Nats-Service-Error-Code"), Some("422"));
    assert_eq!(headers.get("Trace-Id"), Some("t-9"));
    let error = call(&client, "explicit", "").await;
    assert_eq!(
        error,
        ServiceError::new(422, "bad thing").with_data("details")
    );
    let stats = endpoint_stats(&client, &service, "explicit").await;
    assert_eq!((stats.num_requests, stats.num_errors), (2, 2));
    assert_eq!(stats.last_error, "422:bad thing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_cannot_be_sent_counts_as_an_error() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start(&client).await;

    // Too large for the server: answered with a 500 error reply instead of a timeout.
    let description = format!(
        "reply of {} bytes exceeds the server's max_payload of {}",
        2 * 1024 * 1024,
        client.max_payload()
    );
    let request = RequestOptions::new().timeout(Duration::from_secs(2));
    let reply = within("request", client.send_request("huge", request))
        .await
        .expect("an error reply, not a timeout");
    assert_eq!(
        ServiceError::from_message(&reply),
        Some(ServiceError::internal(description.clone()))
    );
    assert_counted(&client, &service, "huge", 1, &format!("500:{description}")).await;
}
