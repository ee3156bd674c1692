//! The user service built with `#[service]` and the one built by hand are the same service on
//! the wire: identical INFO and PING (but for the id), STATS with the same fields, types,
//! endpoints and counters after the same requests, and the same replies (payloads and error
//! headers) to those requests.
//!
//! Both share one name and queue groups, so each sequence of requests runs with one instance
//! up at a time; the `$SRV` subjects are queried per instance id.

mod micro_support;

use examples::users::{manual_service, UserService, UserStore};
use micro_support::{connect, key_order, raw_replies, within};
use nats_core::Client;
use nats_micro::{Service, ERROR_CODE_HEADER, ERROR_HEADER};
use nats_tests::NatsServer;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy)]
enum Build {
    Macro,
    Manual,
}

async fn start(build: Build, client: &Client) -> Service {
    let started = match build {
        Build::Macro => UserService::new(UserStore::new()).start(client).await,
        Build::Manual => manual_service::start(client, UserStore::new()).await,
    };
    started.unwrap_or_else(|e| panic!("{build:?} version: {e}"))
}

/// Requests covering every endpoint and every error path.
const REQUESTS: &[(&str, &str)] = &[
    (
        "users.create",
        r#"{"name":"Ann","email":"ann@example.com"}"#,
    ),
    ("users.create", r#"{"name":" ","email":"x@example.com"}"#),
    ("users.create", r#"{"name":"Bob"}"#),
    ("users.create", "not json"),
    ("users.get", r#"{"id":1}"#),
    ("users.get", r#"{"id":42}"#),
    ("users.update", r#"{"id":1,"name":"Ann Lee"}"#),
    ("users.update", r#"{"id":1}"#),
    ("users.update", r#"{"id":42,"name":"Nobody"}"#),
    (
        "user-management.import",
        r#"[{"name":"Cy","email":"cy@example.com"},{"name":"Di","email":"di@example.com"}]"#,
    ),
    ("user-management.import", r#"[{"name":"Ed","email":"ed"}]"#),
    ("users.delete", r#"{"id":2}"#),
    ("users.delete", r#"{"id":2}"#),
];

/// A reply as the wire has it: error headers (or none) and payload.
#[derive(Debug, PartialEq, Eq)]
struct WireReply {
    error: Option<String>,
    code: Option<String>,
    payload: String,
}

/// Everything an instance showed: its replies to [`REQUESTS`], then its INFO, PING and STATS
/// (raw bytes, asked of this instance by id).
struct Observed {
    id: String,
    replies: Vec<WireReply>,
    info: Vec<u8>,
    ping: Vec<u8>,
    stats: Vec<u8>,
}

async fn observe(build: Build, client: &Client) -> Observed {
    let service = start(build, client).await;
    let mut replies = Vec::new();
    for (subject, body) in REQUESTS {
        let reply = within(subject, client.request(*subject, *body))
            .await
            .unwrap_or_else(|e| panic!("{build:?} {subject}: {e}"));
        let header = |name| {
            reply
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(str::to_owned)
        };
        replies.push(WireReply {
            error: header(ERROR_HEADER),
            code: header(ERROR_CODE_HEADER),
            payload: String::from_utf8(reply.payload.to_vec()).expect("UTF-8"),
        });
    }
    let control = |verb: &str| format!("$SRV.{verb}.user-service.{}", service.id());
    let observed = Observed {
        id: service.id().to_owned(),
        replies,
        info: raw(client, &control("INFO")).await,
        ping: raw(client, &control("PING")).await,
        stats: raw(client, &control("STATS")).await,
    };
    within("stop", service.stop()).await;
    observed
}

async fn raw(client: &Client, subject: &str) -> Vec<u8> {
    let reply = within(subject, client.request(subject, ""))
        .await
        .unwrap_or_else(|e| panic!("{subject}: {e}"));
    reply.payload.to_vec()
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("a JSON reply")
}

/// `reply` without what differs between instances (`id`, `started`) and between runs
/// (processing times, which must be integers).
fn without_instance_fields(mut reply: Value) -> Value {
    let object = reply.as_object_mut().expect("an object");
    assert!(object.remove("id").is_some_and(|id| id.is_string()));
    if let Some(started) = object.remove("started") {
        assert!(started.is_string(), "started is RFC 3339 text: {started}");
    }
    if let Some(Value::Array(endpoints)) = object.get_mut("endpoints") {
        for endpoint in endpoints {
            let endpoint = endpoint.as_object_mut().expect("an endpoint object");
            for field in ["processing_time", "average_processing_time"] {
                if let Some(nanos) = endpoint.remove(field) {
                    assert!(nanos.is_u64(), "{field} is integer nanoseconds: {nanos}");
                }
            }
        }
    }
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn macro_and_manual_versions_are_the_same_on_the_wire() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let by_macro = observe(Build::Macro, &client).await;
    let by_hand = observe(Build::Manual, &client).await;
    assert_ne!(by_macro.id, by_hand.id);

    // The same replies, error headers included, to the same requests.
    for ((request, a), b) in REQUESTS.iter().zip(&by_macro.replies).zip(&by_hand.replies) {
        assert_eq!(a, b, "replies to {request:?}");
    }
    let codes: Vec<Option<&str>> = by_macro.replies.iter().map(|r| r.code.as_deref()).collect();
    let (ok, invalid, missing) = (None, Some("INVALID_INPUT"), Some("USER_NOT_FOUND"));
    assert_eq!(
        codes,
        [
            ok, invalid, invalid, invalid, ok, missing, ok, invalid, missing, ok, invalid, ok,
            missing
        ]
    );
    assert_eq!(
        by_macro.replies[2].error.as_deref(),
        Some("invalid JSON body: missing field `email` at line 1 column 14")
    );
    assert_eq!(
        by_macro.replies[5],
        WireReply {
            error: Some("no user with id 42".into()),
            code: missing.map(str::to_owned),
            payload: String::new(),
        }
    );
    assert_eq!(by_macro.replies[9].payload, r#"{"imported":2,"ids":[2,3]}"#);

    // INFO and PING: identical but for the id, fields in the same order.
    for (a, b) in [
        (&by_macro.info, &by_hand.info),
        (&by_macro.ping, &by_hand.ping),
    ] {
        assert_eq!(key_order(a), key_order(b));
        assert_eq!(
            without_instance_fields(json(a)),
            without_instance_fields(json(b))
        );
    }
    let info = json(&by_macro.info);
    assert_eq!(info["id"], by_macro.id.as_str());
    assert_eq!(
        without_instance_fields(info),
        json!({
            "name": "user-service",
            "version": "1.2.0",
            "metadata": {"team": "backend"},
            "type": "io.nats.micro.v1.info_response",
            "description": "User management service",
            "endpoints": [
                {"name": "create", "subject": "users.create", "queue_group": "q", "metadata": null},
                {"name": "get", "subject": "users.get", "queue_group": "q", "metadata": null},
                {"name": "update", "subject": "users.update", "queue_group": "q", "metadata": null},
                {"name": "delete", "subject": "users.delete", "queue_group": "q", "metadata": null},
                {
                    "name": "import",
                    "subject": "user-management.import",
                    "queue_group": "bulk-import",
                    "metadata": null
                },
            ],
        })
    );

    // STATS: the same fields, types, endpoints and counters; only times and the id differ.
    assert_eq!(key_order(&by_macro.stats), key_order(&by_hand.stats));
    let stats = without_instance_fields(json(&by_macro.stats));
    assert_eq!(stats, without_instance_fields(json(&by_hand.stats)));
    let counters: Vec<(&str, u64, u64, &str)> = stats["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .map(|e| {
            assert_eq!(e["data"], json!({"users": 2}), "stats handler data");
            (
                e["name"].as_str().expect("name"),
                e["num_requests"].as_u64().expect("integer"),
                e["num_errors"].as_u64().expect("integer"),
                e["last_error"].as_str().expect("string"),
            )
        })
        .collect();
    assert_eq!(
        counters,
        [
            (
                "create",
                4,
                3,
                "INVALID_INPUT:invalid JSON body: expected ident at line 1 column 2"
            ),
            ("get", 2, 1, "USER_NOT_FOUND:no user with id 42"),
            ("update", 3, 2, "USER_NOT_FOUND:no user with id 42"),
            ("delete", 2, 1, "USER_NOT_FOUND:no user with id 2"),
            (
                "import",
                2,
                1,
                r#"INVALID_INPUT:users[0]: email "ed" is not a valid address"#
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_versions_side_by_side_describe_themselves_identically() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let by_macro = start(Build::Macro, &client).await;
    let by_hand = start(Build::Manual, &client).await;
    for verb in ["PING", "INFO", "STATS"] {
        let replies = raw_replies(&client, &format!("$SRV.{verb}.user-service")).await;
        assert_eq!(replies.len(), 2, "{verb}: one reply per instance");
        let mut ids: Vec<&str> = replies.iter().filter_map(|r| r["id"].as_str()).collect();
        ids.sort_unstable();
        let mut expected = [by_macro.id(), by_hand.id()];
        expected.sort_unstable();
        assert_eq!(ids, expected, "{verb}");
        assert_eq!(
            without_instance_fields(replies[0].clone()),
            without_instance_fields(replies[1].clone()),
            "{verb}"
        );
    }
    within("stop", by_macro.stop()).await;
    within("stop", by_hand.stop()).await;
}
