//! The JSON of every `$SRV` reply, read as raw JSON and checked field by field against the
//! protocol, at all three subject levels: for a service with groups, custom queue groups, a
//! disabled queue group, metadata and a stats handler, and for a bare one.

mod micro_support;

use std::time::{Duration, SystemTime};

use micro_support::{assert_go_time, connect, key_order, raw_replies, with_id, within};
use nats_core::Client;
use nats_micro::{handler_fn, EndpointConfig, GroupConfig, Service, ServiceError};
use nats_tests::NatsServer;
use serde_json::{json, Value};

const PING_KEYS: [&str; 5] = ["name", "id", "version", "metadata", "type"];
const INFO_KEYS: [&str; 7] = [
    "name",
    "id",
    "version",
    "metadata",
    "type",
    "description",
    "endpoints",
];
const STATS_KEYS: [&str; 7] = [
    "name",
    "id",
    "version",
    "metadata",
    "type",
    "started",
    "endpoints",
];

/// `(name, subject, queue_group, metadata)` of each endpoint, in the order added.
type Expected = [(&'static str, &'static str, &'static str, Value)];

async fn start_full(client: &Client) -> Service {
    let service = Service::builder("shapes", "1.2.3-beta.1+build.5")
        .description("shape test")
        .metadata("team", "qa")
        .metadata("env", "test")
        .queue_group("svc-q")
        .stats_handler(|endpoint| json!({"endpoint": endpoint.name, "answer": 42}))
        .endpoint("plain", handler_fn(|| async { "plain" }))
        .start(client)
        .await
        .expect("start");
    let custom = EndpointConfig::new("custom")
        .subject("shapes.custom.*")
        .queue_group("ep-q")
        .metadata("kind", "wildcard");
    let failing = || async { Err::<(), _>(ServiceError::new(409, "conflict")) };
    service
        .add_endpoint(custom, handler_fn(failing))
        .await
        .expect("custom endpoint");
    let g1 = service.add_group(GroupConfig::new("g1").queue_group("g-q"));
    g1.add_endpoint("in_group", handler_fn(|| async { "g" }))
        .await
        .expect("group endpoint");
    let g2 = g1.add_group(GroupConfig::new("g2").disable_queue_group());
    g2.add_endpoint("nested", handler_fn(|| async { "n" }))
        .await
        .expect("nested endpoint");
    service
}

fn full_endpoints() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        ("plain", "plain", "svc-q", Value::Null),
        (
            "custom",
            "shapes.custom.*",
            "ep-q",
            json!({"kind": "wildcard"}),
        ),
        ("in_group", "g1.in_group", "g-q", Value::Null),
        ("nested", "g1.g2.nested", "", Value::Null),
    ]
}

fn check_identity(reply: &Value, service: &Service, metadata: &Value) {
    assert_eq!(reply["name"], service.name());
    assert_eq!(reply["id"], service.id());
    assert_eq!(reply["version"], service.version());
    let id = reply["id"].as_str().expect("id is a string");
    assert!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()),
        "id {id:?} must match the name rule"
    );
    assert!(reply["metadata"].is_object(), "metadata is an object");
    assert_eq!(&reply["metadata"], metadata);
}

fn check_keys(reply: &Value, expected: &[&str]) {
    let object = reply.as_object().expect("reply is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let mut wanted = expected.to_vec();
    keys.sort_unstable();
    wanted.sort_unstable();
    assert_eq!(keys, wanted, "keys of {reply}");
}

fn check_ping(reply: &Value, service: &Service, metadata: &Value) {
    check_keys(reply, &PING_KEYS);
    check_identity(reply, service, metadata);
    assert_eq!(reply["type"], "io.nats.micro.v1.ping_response");
}

fn check_info(
    reply: &Value,
    service: &Service,
    metadata: &Value,
    description: &str,
    endpoints: &Expected,
) {
    check_keys(reply, &INFO_KEYS);
    check_identity(reply, service, metadata);
    assert_eq!(reply["type"], "io.nats.micro.v1.info_response");
    assert_eq!(reply["description"], description);
    let listed = reply["endpoints"]
        .as_array()
        .expect("endpoints is an array");
    assert_eq!(listed.len(), endpoints.len());
    for (endpoint, (name, subject, queue_group, metadata)) in listed.iter().zip(endpoints) {
        check_keys(endpoint, &["name", "subject", "queue_group", "metadata"]);
        assert_eq!(endpoint["name"], *name);
        assert_eq!(endpoint["subject"], *subject);
        assert_eq!(endpoint["queue_group"], *queue_group);
        assert_eq!(&endpoint["metadata"], metadata);
    }
}

fn check_stats(
    reply: &Value,
    service: &Service,
    metadata: &Value,
    endpoints: &Expected,
    with_data: bool,
) {
    check_keys(reply, &STATS_KEYS);
    check_identity(reply, service, metadata);
    assert_eq!(reply["type"], "io.nats.micro.v1.stats_response");
    check_started(reply["started"].as_str().expect("started is a string"));
    let listed = reply["endpoints"]
        .as_array()
        .expect("endpoints is an array");
    assert_eq!(listed.len(), endpoints.len());
    for (endpoint, (name, subject, queue_group, _)) in listed.iter().zip(endpoints) {
        let mut keys = vec![
            "name",
            "subject",
            "queue_group",
            "num_requests",
            "num_errors",
            "last_error",
            "processing_time",
            "average_processing_time",
        ];
        if with_data {
            keys.push("data");
            assert_eq!(endpoint["data"], json!({"endpoint": name, "answer": 42}));
        }
        check_keys(endpoint, &keys);
        assert_eq!(endpoint["name"], *name);
        assert_eq!(endpoint["subject"], *subject);
        assert_eq!(endpoint["queue_group"], *queue_group);
        let requests = endpoint["num_requests"].as_u64().expect("integer requests");
        let errors = endpoint["num_errors"].as_u64().expect("integer errors");
        let total = endpoint["processing_time"]
            .as_u64()
            .expect("integer nanoseconds");
        let average = endpoint["average_processing_time"]
            .as_u64()
            .expect("integer nanoseconds");
        assert!(
            endpoint["last_error"].is_string(),
            "last_error is always a string"
        );
        match total.checked_div(requests) {
            None => {
                assert_eq!((total, average, errors), (0, 0, 0));
                assert_eq!(endpoint["last_error"], "");
            }
            Some(expected_average) => {
                assert!(total > 0, "processing time is counted");
                assert_eq!(average, expected_average);
            }
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`, close to now.
fn check_started(started: &str) {
    assert_go_time(started);
    let parsed: nats_micro::schema::StatsResponse = serde_json::from_value(json!({
        "name": "n", "id": "i", "started": started
    }))
    .expect("started is RFC 3339");
    let age = SystemTime::now()
        .duration_since(parsed.started)
        .expect("started is in the past");
    assert!(age < Duration::from_secs(60), "started {started} is recent");
}

/// Replies of `verb` at the three levels, each narrowed to `service`'s.
async fn three_levels(client: &Client, verb: &str, service: &Service) -> Vec<Value> {
    let mut found = Vec::new();
    for subject in [
        format!("$SRV.{verb}"),
        format!("$SRV.{verb}.{}", service.name()),
        format!("$SRV.{verb}.{}.{}", service.name(), service.id()),
    ] {
        let replies = raw_replies(client, &subject).await;
        let ours = with_id(&replies, service.id());
        assert_eq!(ours.len(), 1, "{subject}: one reply from the instance");
        found.push(ours[0].clone());
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reply_of_a_full_service_has_the_protocol_shape() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start_full(&client).await;
    for subject in ["plain", "shapes.custom.x", "g1.in_group", "g1.g2.nested"] {
        within(subject, client.request(subject, ""))
            .await
            .expect("request");
    }
    let metadata = json!({"team": "qa", "env": "test"});
    let endpoints = full_endpoints();

    for ping in three_levels(&client, "PING", &service).await {
        check_ping(&ping, &service, &metadata);
    }
    for info in three_levels(&client, "INFO", &service).await {
        check_info(&info, &service, &metadata, "shape test", &endpoints);
    }
    for stats in three_levels(&client, "STATS", &service).await {
        check_stats(&stats, &service, &metadata, &endpoints, true);
        let custom = &stats["endpoints"][1];
        assert_eq!(
            (
                custom["num_requests"].as_u64(),
                custom["num_errors"].as_u64()
            ),
            (Some(1), Some(1))
        );
        assert_eq!(custom["last_error"], "409:conflict");
        assert_eq!(stats["endpoints"][0]["num_requests"], 1);
    }
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_service_shows_empty_metadata_and_description() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = nats_micro::add_service(&client, nats_micro::ServiceConfig::new("bare", "0.0.1"))
        .await
        .expect("start");
    service
        .add_endpoint("only", handler_fn(|| async {}))
        .await
        .expect("endpoint");
    let metadata = json!({});
    let endpoints = [("only", "only", "q", Value::Null)];
    for ping in three_levels(&client, "PING", &service).await {
        check_ping(&ping, &service, &metadata);
    }
    for info in three_levels(&client, "INFO", &service).await {
        check_info(&info, &service, &metadata, "", &endpoints);
    }
    for stats in three_levels(&client, "STATS", &service).await {
        check_stats(&stats, &service, &metadata, &endpoints, false);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strings_are_escaped_as_go_escapes_them() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = Service::builder("escapes", "1.0.0")
        .description("a <b> & c\u{2028}")
        .metadata("q&a", "x>y")
        .stats_handler(|_| json!({"html": "<i>"}))
        .endpoint("only", handler_fn(|| async {}))
        .start(&client)
        .await
        .expect("start");
    let raw = |verb: &'static str| {
        let subject = format!("$SRV.{verb}.escapes.{}", service.id());
        let client = client.clone();
        async move {
            let reply = within(verb, client.request(&subject, ""))
                .await
                .expect("reply");
            String::from_utf8(reply.payload.to_vec()).expect("utf8")
        }
    };
    let info = raw("INFO").await;
    assert!(
        info.contains(r#""description":"a \u003cb\u003e \u0026 c\u2028""#),
        "{info}"
    );
    assert!(
        info.contains(r#""metadata":{"q\u0026a":"x\u003ey"}"#),
        "{info}"
    );
    let stats = raw("STATS").await;
    assert!(
        stats.contains(r#""data":{"html":"\u003ci\u003e"}"#),
        "{stats}"
    );
    // Escaped or not, it is the same JSON.
    let parsed: Value = serde_json::from_str(&info).expect("json");
    assert_eq!(parsed["description"], "a <b> & c\u{2028}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_are_written_in_the_go_reference_key_order() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start_full(&client).await;
    for (verb, keys) in [
        ("PING", &PING_KEYS[..]),
        ("INFO", &INFO_KEYS),
        ("STATS", &STATS_KEYS),
    ] {
        let subject = format!("$SRV.{verb}.shapes.{}", service.id());
        let reply = within(verb, client.request(&subject, ""))
            .await
            .expect("reply");
        assert_eq!(key_order(&reply.payload), keys, "{verb}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_control_task_survives_bad_input() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start_full(&client).await;
    for verb in ["PING", "INFO", "STATS"] {
        for subject in [format!("$SRV.{verb}"), format!("$SRV.{verb}.shapes")] {
            // No reply subject, garbage payloads, headers: all must be shrugged off.
            client.publish(&subject, "").await.expect("publish");
            client
                .publish(&subject, vec![0xff, 0, 1])
                .await
                .expect("publish");
            let mut headers = nats_core::HeaderMap::new();
            headers.insert("Nats-Service-Error", "x");
            client
                .publish_with_headers(&subject, headers, "{")
                .await
                .expect("publish");
            let reply = within("request", client.request(&subject, "not json at all"))
                .await
                .expect("still answered");
            assert!(serde_json::from_slice::<Value>(&reply.payload).is_ok());
        }
    }
    let pings = raw_replies(&client, "$SRV.PING.shapes").await;
    assert_eq!(with_id(&pings, service.id()).len(), 1);
}
