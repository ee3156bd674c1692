//! Error replies are always sendable and always reach the caller: empty codes and line breaks
//! are sanitised (STATS records what was sent), a reply over the server's `max_payload` becomes
//! a `500` error reply instead of a timeout, a bad JSON body is a `400` a caller can act on,
//! and the protocol's names are public constants.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, discovery, raw_reply, within};
use nats_core::{Client, Message, RequestOptions};
use nats_micro::schema::EndpointStats;
use nats_micro::{
    handler_fn, Json, Request, RespondErrorKind, Service, ServiceError, DEFAULT_PREFIX,
    DEFAULT_QUEUE_GROUP, ERROR_CODE_HEADER, ERROR_HEADER, INFO_RESPONSE_TYPE, INTERNAL_ERROR,
    INVALID_INPUT, NOT_FOUND, PING_RESPONSE_TYPE, RATE_LIMITED, STATS_RESPONSE_TYPE, UNAUTHORIZED,
};
use nats_tests::NatsServer;
use serde::Deserialize;

/// The server's `max_payload` in these tests: small, so replies can exceed it cheaply.
const MAX_PAYLOAD: usize = 4096;

/// The size of the replies that exceed it.
const TOO_LARGE: usize = 8192;

#[derive(Debug, Deserialize)]
struct Point {
    #[allow(dead_code)]
    x: i64,
}

async fn start(client: &Client) -> Service {
    let service = Service::builder("replies", "1.0.0")
        .start(client)
        .await
        .expect("start");
    let no_code = || async { Err::<(), _>(ServiceError::new("", "first\r\nsecond")) };
    service
        .add_endpoint("no_code", handler_fn(no_code))
        .await
        .expect("add");
    let bad_code = || async { Err::<(), _>(ServiceError::new("4\r\n04", "bad\ttab\u{1}end")) };
    service
        .add_endpoint("bad_code", handler_fn(bad_code))
        .await
        .expect("add");
    service
        .add_endpoint("respond_error", handler_fn(respond_error_with_newline))
        .await
        .expect("add");
    let huge = || async { vec![b'x'; TOO_LARGE] };
    service
        .add_endpoint("huge", handler_fn(huge))
        .await
        .expect("add");
    service
        .add_endpoint("huge_respond", handler_fn(huge_respond))
        .await
        .expect("add");
    let points = |Json(point): Json<Point>| async move { format!("{point:?}") };
    service
        .add_endpoint("points", handler_fn(points))
        .await
        .expect("add");
    service
}

/// nats-py style: an error reply whose description spans two lines.
async fn respond_error_with_newline(request: Request) {
    request
        .respond_error(NOT_FOUND, "no such\nthing", "", None)
        .await
        .expect("the error reply is sent");
}

/// Responds through the request with a payload over `max_payload`.
async fn huge_respond(request: Request) {
    let sent = request.respond(vec![b'y'; TOO_LARGE], None).await;
    assert_eq!(
        sent.expect_err("too large").kind(),
        RespondErrorKind::Publish
    );
}

/// The raw reply to `subject`: it must arrive, well before a caller would give up.
async fn reply(client: &Client, subject: &str, body: &'static str) -> Message {
    let options = RequestOptions::new()
        .payload(body)
        .timeout(Duration::from_secs(2));
    within(subject, client.send_request(subject, options))
        .await
        .unwrap_or_else(|error| panic!("{subject}: no reply ({error})"))
}

async fn service_error(client: &Client, subject: &str, body: &'static str) -> ServiceError {
    let message = reply(client, subject, body).await;
    ServiceError::from_message(&message)
        .unwrap_or_else(|| panic!("{subject}: not an error reply: {message:?}"))
}

async fn endpoint_stats(client: &Client, service: &Service, name: &str) -> EndpointStats {
    let stats = within(
        "stats",
        discovery(client).stats_instance("replies", service.id()),
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

async fn assert_counted(client: &Client, service: &Service, name: &str, last: &str) {
    let stats = endpoint_stats(client, service, name).await;
    assert_eq!(
        (
            stats.num_requests,
            stats.num_errors,
            stats.last_error.as_str()
        ),
        (1, 1, last),
        "{name}"
    );
}

fn too_large_description(size: usize) -> String {
    format!("reply of {size} bytes exceeds the server's max_payload of {MAX_PAYLOAD}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_codes_and_line_breaks_are_sanitised() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start(&client).await;

    let message = reply(&client, "no_code", "").await;
    let headers = message.headers.as_ref().expect("error headers");
    assert_eq!(headers.get(ERROR_CODE_HEADER), Some(INTERNAL_ERROR));
    assert_eq!(headers.get(ERROR_HEADER), Some("first  second"));
    assert_counted(&client, &service, "no_code", "500:first  second").await;

    let error = service_error(&client, "bad_code", "").await;
    assert_eq!(
        (error.code.as_str(), error.description.as_str()),
        ("4  04", "bad tab end")
    );
    assert_counted(&client, &service, "bad_code", "4  04:bad tab end").await;

    let error = service_error(&client, "respond_error", "").await;
    assert_eq!(error, ServiceError::new(NOT_FOUND, "no such thing"));
    assert_counted(&client, &service, "respond_error", "404:no such thing").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_over_max_payload_is_a_500_error_reply() {
    let server = NatsServer::spawn_with_config(&format!("max_payload: {MAX_PAYLOAD}\n"));
    let client = connect(&server.url()).await;
    assert_eq!(client.max_payload(), MAX_PAYLOAD);
    let service = start(&client).await;

    let error = service_error(&client, "huge", "").await;
    let description = too_large_description(TOO_LARGE);
    assert_eq!(error, ServiceError::internal(description.clone()));
    assert_counted(&client, &service, "huge", &format!("500:{description}")).await;

    let error = service_error(&client, "huge_respond", "").await;
    assert_eq!(error, ServiceError::internal(description.clone()));
    assert_counted(
        &client,
        &service,
        "huge_respond",
        &format!("500:{description}"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_json_body_is_a_400_naming_the_problem() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start(&client).await;

    let serde_message = serde_json::from_str::<Point>("{\"x\": true}")
        .expect_err("invalid")
        .to_string();
    let error = service_error(&client, "points", "{\"x\": true}").await;
    assert_eq!(error.code, INVALID_INPUT);
    assert_eq!(
        error.description,
        format!("invalid JSON body: {serde_message}")
    );
    assert_counted(
        &client,
        &service,
        "points",
        &format!("400:invalid JSON body: {serde_message}"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_protocol_names_are_public_constants() {
    assert_eq!(DEFAULT_PREFIX, "$SRV");
    assert_eq!(DEFAULT_QUEUE_GROUP, "q");
    assert_eq!(
        [ERROR_HEADER, ERROR_CODE_HEADER],
        ["Nats-Service-Error", "Nats-Service-Error-Code"]
    );
    assert_eq!(
        [
            INVALID_INPUT,
            UNAUTHORIZED,
            NOT_FOUND,
            RATE_LIMITED,
            INTERNAL_ERROR
        ],
        ["400", "401", "404", "429", "500"]
    );

    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start(&client).await;
    let id = service.id();
    for (verb, kind) in [
        ("PING", PING_RESPONSE_TYPE),
        ("INFO", INFO_RESPONSE_TYPE),
        ("STATS", STATS_RESPONSE_TYPE),
    ] {
        let json = raw_reply(&client, &format!("{DEFAULT_PREFIX}.{verb}.replies.{id}")).await;
        assert_eq!(json["type"], kind, "{verb}");
    }
    let info = raw_reply(&client, &format!("{DEFAULT_PREFIX}.INFO.replies.{id}")).await;
    assert_eq!(info["endpoints"][0]["queue_group"], DEFAULT_QUEUE_GROUP);
}
