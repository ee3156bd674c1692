//! Interop with a peer no one here wrote: nats-py 2.16 (`nats.micro`), run from the workspace's
//! `.venv` (`./scripts/install-nats-server.sh --with-python-peers`; `$NATS_PY_PYTHON` overrides).
//!
//! - a nats-py service is found and read by our `Discovery` client, and called with
//!   [`nats_micro::request`];
//! - our service is queried by nats-py with plain requests, and its replies are what nats-py
//!   expects.
//!
//! Where nats-py deviates from the Go reference (see the spec's table), the tests assert what
//! nats-py 2.16 actually does.

mod micro_support;
mod python_peer;

use std::collections::BTreeMap;
use std::slice;
use std::time::{Duration, SystemTime};

use micro_support::{assert_go_time, connect, discovery, raw_reply, within};
use nats_micro::schema::{
    EndpointInfo, EndpointStats, InfoResponse, PingResponse, StatsResponse, INFO_RESPONSE_TYPE,
    PING_RESPONSE_TYPE, STATS_RESPONSE_TYPE,
};
use nats_micro::{
    handler_fn, CallError, EndpointConfig, GroupConfig, Json, Service, ServiceError,
    ERROR_CODE_HEADER, ERROR_HEADER,
};
use nats_tests::NatsServer;
use python_peer::{nats_py_version, run_py_query, start_py_service, PEER_WAIT};
use serde_json::{json, Value};

fn metadata(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Asserts `average == total / requests`, allowing nats-py's float division to round.
fn assert_average(stats: &EndpointStats) {
    let total = stats.processing_time.as_nanos();
    let average = stats.average_processing_time.as_nanos();
    let expected = total / u128::from(stats.num_requests.max(1));
    assert!(
        average.abs_diff(expected) <= 1,
        "{}: average {average}ns is not {total}ns / {} requests",
        stats.name,
        stats.num_requests
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_py_service_is_discovered_called_and_counted() {
    let version = nats_py_version().await;
    let server = NatsServer::spawn();
    let test_start = SystemTime::now();
    let (mut peer, id) = start_py_service(&server.url(), "echo").await;
    let client = connect(&server.url()).await;
    let context = |what: &str| format!("{what} (nats-py {version}, stderr: {})", peer.stderr());

    // Calls: echo three times, then the endpoint that answers with respond_error.
    for body in ["one", "two", "three"] {
        let reply = within("py.echo", nats_micro::request(&client, "py.echo", body))
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", context("py.echo")));
        assert_eq!(&reply.payload[..], body.as_bytes(), "echoed body");
    }
    match within("py.fail", nats_micro::request(&client, "py.fail", "x")).await {
        Err(CallError::Service(error)) => {
            assert_eq!(error, ServiceError::new("422", "bad thing"));
            assert_eq!(error.status(), Some(422));
        }
        other => panic!("py.fail: expected a service error, got {other:?}"),
    }

    let disco = discovery(&client);

    // PING: all, by name, by name and id.
    let ping = PingResponse {
        name: "py-echo".into(),
        id: id.clone(),
        version: "1.2.3".into(),
        metadata: metadata(&[("lang", "python")]),
        kind: PING_RESPONSE_TYPE.into(),
    };
    let all = within("ping", disco.ping()).await.expect("ping");
    assert_eq!(all, slice::from_ref(&ping), "{}", context("PING"));
    let by_name = within("ping", disco.ping_service("py-echo"))
        .await
        .expect("ping");
    assert_eq!(by_name, slice::from_ref(&ping));
    let one = within("ping", disco.ping_instance("py-echo", &id))
        .await
        .expect("ping");
    assert_eq!(one, Some(ping));
    let none = within("ping", disco.ping_instance("py-echo", "not-its-id"))
        .await
        .expect("ping");
    assert_eq!(none, None, "another id answers nothing");

    // INFO: description, endpoints in order, queue group "q", endpoint metadata null vs object.
    let info = InfoResponse {
        name: "py-echo".into(),
        id: id.clone(),
        version: "1.2.3".into(),
        metadata: metadata(&[("lang", "python")]),
        kind: INFO_RESPONSE_TYPE.into(),
        description: "echo written in python".into(),
        endpoints: vec![
            EndpointInfo {
                name: "echo".into(),
                subject: "py.echo".into(),
                queue_group: "q".into(),
                metadata: None,
            },
            EndpointInfo {
                name: "fail".into(),
                subject: "py.fail".into(),
                queue_group: "q".into(),
                metadata: Some(metadata(&[("kind", "error")])),
            },
        ],
    };
    let all = within("info", disco.info()).await.expect("info");
    assert_eq!(all, slice::from_ref(&info), "{}", context("INFO"));
    let by_name = within("info", disco.info_service("py-echo"))
        .await
        .expect("info");
    assert_eq!(by_name, slice::from_ref(&info));
    let one = within("info", disco.info_instance("py-echo", &id))
        .await
        .expect("info");
    assert_eq!(one, Some(info));

    // STATS: every request counted; respond_error is NOT counted as an error by nats-py 2.16
    // (the Go reference counts it).
    let stats: StatsResponse = within("stats", disco.stats_instance("py-echo", &id))
        .await
        .expect("stats")
        .unwrap_or_else(|| panic!("{}", context("no STATS reply")));
    assert_eq!(
        (&*stats.name, &*stats.id, &*stats.version, &*stats.kind),
        ("py-echo", &*id, "1.2.3", STATS_RESPONSE_TYPE)
    );
    assert_eq!(stats.metadata, metadata(&[("lang", "python")]));
    let slack = Duration::from_secs(2);
    assert!(
        stats.started + slack >= test_start && stats.started <= SystemTime::now() + slack,
        "started {:?} is not around {test_start:?}",
        stats.started
    );
    let [echo, fail] = &stats.endpoints[..] else {
        panic!("two endpoints expected: {:?}", stats.endpoints);
    };
    assert_eq!(
        (&*echo.name, &*echo.subject, &*echo.queue_group),
        ("echo", "py.echo", "q")
    );
    assert_eq!((echo.num_requests, echo.num_errors), (3, 0));
    assert_eq!(echo.last_error, "");
    assert!(echo.processing_time > Duration::ZERO);
    assert_average(echo);
    assert_eq!(echo.data, None, "nats-py writes \"data\": null");
    assert_eq!(
        (&*fail.name, &*fail.subject, &*fail.queue_group),
        ("fail", "py.fail", "q")
    );
    assert_eq!(fail.num_requests, 1);
    assert_eq!(
        (fail.num_errors, &*fail.last_error),
        (0, ""),
        "nats-py {version} does not count respond_error (Go would show 1 and \"422:bad thing\")"
    );
    assert_average(fail);
    let all = within("stats", disco.stats()).await.expect("stats");
    assert_eq!(all, slice::from_ref(&stats));
    let by_name = within("stats", disco.stats_service("py-echo"))
        .await
        .expect("stats");
    assert_eq!(by_name, [stats]);

    // The raw JSON, for the deviations our parser has to tolerate.
    let raw_info = raw_reply(&client, "$SRV.INFO.py-echo").await;
    assert_eq!(raw_info["description"], "echo written in python");
    assert_eq!(raw_info["endpoints"][0]["metadata"], Value::Null);
    assert_eq!(
        raw_info["endpoints"][1]["metadata"],
        json!({"kind": "error"})
    );
    let raw_stats = raw_reply(&client, "$SRV.STATS.py-echo").await;
    let endpoint = raw_stats["endpoints"][0]
        .as_object()
        .expect("an endpoint object");
    assert_eq!(endpoint.get("data"), Some(&Value::Null), "{raw_stats}");
    assert_eq!(endpoint["last_error"], "", "{raw_stats}");
    assert!(endpoint["processing_time"].is_u64(), "{raw_stats}");
    let started = raw_stats["started"].as_str().expect("started is a string");
    // nats-py writes milliseconds: "YYYY-MM-DDTHH:MM:SS.mmmZ".
    assert_eq!(started.len(), 24, "{started}");
    assert!(started.ends_with('Z'), "{started}");

    let (status, _) = peer.finish(PEER_WAIT).await;
    assert!(
        status.success(),
        "py_service.py exit ({status}): {}",
        peer.stderr()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_py_service_without_description_or_metadata_reads_as_empty() {
    let version = nats_py_version().await;
    let server = NatsServer::spawn();
    let (mut peer, id) = start_py_service(&server.url(), "bare").await;
    let client = connect(&server.url()).await;

    // What nats-py writes for unset fields.
    let raw = raw_reply(&client, "$SRV.INFO.py-bare").await;
    assert_eq!(raw["description"], Value::Null, "nats-py {version}: {raw}");
    assert_eq!(raw["metadata"], json!({}), "{raw}");
    assert_eq!(raw["endpoints"][0]["metadata"], Value::Null, "{raw}");
    let raw_ping = raw_reply(&client, "$SRV.PING.py-bare").await;
    assert_eq!(raw_ping["metadata"], json!({}), "{raw_ping}");

    // How our discovery reads it: "" and {}.
    let disco = discovery(&client);
    let info = within("info", disco.info_instance("py-bare", &id))
        .await
        .expect("info")
        .unwrap_or_else(|| panic!("no INFO from py-bare; stderr: {}", peer.stderr()));
    assert_eq!(
        info,
        InfoResponse {
            name: "py-bare".into(),
            id: id.clone(),
            version: "0.0.1".into(),
            metadata: BTreeMap::new(),
            kind: INFO_RESPONSE_TYPE.into(),
            description: String::new(),
            endpoints: vec![EndpointInfo {
                name: "noop".into(),
                subject: "py.bare".into(),
                queue_group: "q".into(),
                metadata: None,
            }],
        }
    );
    let stats = within("stats", disco.stats_instance("py-bare", &id))
        .await
        .expect("stats")
        .expect("STATS reply");
    assert!(stats.metadata.is_empty());
    let [noop] = &stats.endpoints[..] else {
        panic!("one endpoint expected: {:?}", stats.endpoints);
    };
    assert_eq!(
        (noop.num_requests, noop.num_errors, &*noop.last_error),
        (0, 0, "")
    );
    assert_eq!(noop.processing_time, Duration::ZERO);
    assert_eq!(noop.average_processing_time, Duration::ZERO);

    let (status, _) = peer.finish(PEER_WAIT).await;
    assert!(status.success(), "py_service.py exit: {}", peer.stderr());
}

/// Echoes a JSON body.
async fn echo(Json(body): Json<Value>) -> Json<Value> {
    Json(body)
}

/// Always fails, with a body.
async fn refuse() -> Result<(), ServiceError> {
    Err(ServiceError::new(418, "teapot refuses").with_data("sorry"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_service_reads_right_from_nats_py() {
    let version = nats_py_version().await;
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = Service::builder("rs-echo", "0.3.1-beta.1")
        .description("echo written in rust")
        .metadata("lang", "rust")
        .metadata("team", "interop")
        .endpoint(
            EndpointConfig::new("echo")
                .subject("rs.echo")
                .metadata("format", "json"),
            handler_fn(echo),
        )
        .group_endpoint(
            &GroupConfig::new("rs.admin").queue_group("admins"),
            "fail",
            handler_fn(refuse),
        )
        .start(&client)
        .await
        .expect("start");
    let id = service.id().to_owned();

    // Two calls of our own first, so that nats-py's STATS shows them too.
    for n in 0..2 {
        let reply: Value = within(
            "rs.echo",
            nats_micro::request_json(&client, "rs.echo", &json!({ "n": n })),
        )
        .await
        .expect("rs.echo");
        assert_eq!(reply, json!({ "n": n }));
    }

    let seen = run_py_query(&server.url(), "rs-echo", "rs.echo", "rs.admin.fail").await;
    let context = format!("nats-py {version} saw:\n{seen:#}");

    // The endpoint and the error reply, as nats-py sees them.
    let echoed: Value = serde_json::from_str(seen["endpoint_reply"].as_str().expect("text"))
        .unwrap_or_else(|e| panic!("echo reply is not JSON ({e}); {context}"));
    assert_eq!(echoed, json!({"hello": "from python"}), "{context}");
    assert_eq!(seen["endpoint_headers"], json!({}), "{context}");
    assert_eq!(
        seen["error_headers"],
        json!({ ERROR_HEADER: "teapot refuses", ERROR_CODE_HEADER: "418" }),
        "{context}"
    );
    assert_eq!(seen["error_body"], "sorry", "{context}");

    // The control replies, parsed by json.loads, exactly.
    let identity = |kind: &str| {
        json!({
            "type": kind,
            "name": "rs-echo",
            "id": id,
            "version": "0.3.1-beta.1",
            "metadata": {"lang": "rust", "team": "interop"},
        })
    };
    assert_eq!(seen["ping"], identity(PING_RESPONSE_TYPE), "{context}");
    let mut info = identity(INFO_RESPONSE_TYPE);
    info["description"] = json!("echo written in rust");
    info["endpoints"] = json!([
        {"name": "echo", "subject": "rs.echo", "queue_group": "q", "metadata": {"format": "json"}},
        {"name": "fail", "subject": "rs.admin.fail", "queue_group": "admins", "metadata": null},
    ]);
    assert_eq!(seen["info"], info, "{context}");

    let stats = &seen["stats"];
    for key in ["type", "name", "id", "version", "metadata"] {
        assert_eq!(
            stats[key],
            identity(STATS_RESPONSE_TYPE)[key],
            "{key}; {context}"
        );
    }
    assert_go_time(stats["started"].as_str().expect("started is a string"));
    let endpoints = stats["endpoints"].as_array().expect("endpoints");
    assert_eq!(endpoints.len(), 2, "{context}");
    let expected = [
        ("echo", "rs.echo", "q", 3, 0, ""),
        (
            "fail",
            "rs.admin.fail",
            "admins",
            1,
            1,
            "418:teapot refuses",
        ),
    ];
    for (endpoint, (name, subject, queue, requests, errors, last_error)) in
        endpoints.iter().zip(expected)
    {
        assert_eq!(endpoint["name"], name, "{context}");
        assert_eq!(endpoint["subject"], subject, "{name}; {context}");
        assert_eq!(endpoint["queue_group"], queue, "{name}; {context}");
        assert_eq!(endpoint["num_requests"], requests, "{name}; {context}");
        assert_eq!(endpoint["num_errors"], errors, "{name}; {context}");
        assert_eq!(endpoint["last_error"], last_error, "{name}; {context}");
        let total = endpoint["processing_time"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: processing_time is not integer ns; {context}"));
        let average = endpoint["average_processing_time"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: average is not integer ns; {context}"));
        assert!(total > 0, "{name}; {context}");
        assert_eq!(average, total / requests, "{name}; {context}");
        assert!(
            endpoint.get("data").is_none(),
            "no stats handler, no data; {context}"
        );
    }

    // nats-py's own dataclasses accept PING and INFO as they are.
    assert_eq!(seen["typed"]["ping"], "ok", "{context}");
    assert_eq!(seen["typed"]["info"], "ok", "{context}");
    // Known discrepancy: nats-py 2.16's ServiceStats.from_dict rejects our STATS, as it would
    // Go's: it parses "started" with strptime's %f (at most 6 digits; we and Go's RFC3339Nano
    // write up to 9) and requires an endpoint "data" key (Go and we omit it when there is no
    // stats handler). A fraction of 6 digits or fewer (one reply in a thousand) passes the
    // first check and meets the second. With only those two changes it accepts everything.
    assert_eq!(seen["typed"]["stats_normalized"], "ok", "{context}");
    let typed_stats = seen["typed"]["stats"].as_str().unwrap_or_default();
    assert!(
        typed_stats.starts_with("ValueError: time data '") || typed_stats == "KeyError: 'data'",
        "nats-py's STATS parser changed its verdict on our reply (update this test and the \
         report of the discrepancy): {typed_stats}; {context}"
    );

    service.stop().await;
}
