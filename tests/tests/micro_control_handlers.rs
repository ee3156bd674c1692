//! Replacement handlers for PING, INFO and STATS (`ping_handler`, `info_handler`,
//! `stats_reply_handler`): their replies reach discovery and raw requests, the other verbs keep
//! the default, errors go out with the error headers, and a stuck handler holds back nobody
//! else.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, discovery, raw_reply, within};
use nats_core::{Client, RequestErrorKind, RequestOptions};
use nats_micro::schema::{InfoResponse, PingResponse, StatsResponse};
use nats_micro::{
    handler_fn, BoxError, ControlHandler, ControlRequest, Json, Service, ServiceBuilder,
    ServiceError, ERROR_CODE_HEADER, ERROR_HEADER,
};
use nats_tests::NatsServer;
use serde_json::{json, Value};
use tokio::sync::mpsc;

fn builder(name: &str) -> ServiceBuilder {
    Service::builder(name, "1.0.0")
        .description("the default description")
        .endpoint("echo", handler_fn(|body: String| async move { body }))
}

/// PING with one more metadata entry: the default, extended.
fn ping_with_region() -> ControlHandler<PingResponse> {
    ControlHandler::new(tower::service_fn(
        |control: ControlRequest<PingResponse>| async move {
            let mut ping = control.default_response().clone();
            ping.metadata.insert("region".into(), "eu-west".into());
            Ok::<_, ServiceError>(Json(ping))
        },
    ))
}

/// A handler that fails with `404 nothing here`.
fn failing<T: Send + 'static>() -> ControlHandler<T> {
    ControlHandler::new(tower::service_fn(|_: ControlRequest<T>| async move {
        Err::<(), _>(ServiceError::not_found("nothing here"))
    }))
}

/// A handler that never answers; it tells `entered` of every call it has begun.
fn stuck<T: Send + 'static>(entered: mpsc::UnboundedSender<()>) -> ControlHandler<T> {
    ControlHandler::new(tower::service_fn(move |_: ControlRequest<T>| {
        let _ = entered.send(());
        async move { std::future::pending::<Result<(), ServiceError>>().await }
    }))
}

/// The subject of `verb` for the one instance `service`.
fn instance_subject(verb: &str, service: &Service) -> String {
    format!("$SRV.{verb}.{}.{}", service.name(), service.id())
}

/// Sends a request to `subject` that gives up after `timeout`.
async fn request(client: &Client, subject: &str, timeout: Duration) -> nats_core::Message {
    let options = RequestOptions::new().timeout(timeout);
    within(subject, client.send_request(subject, options))
        .await
        .unwrap_or_else(|e| panic!("{subject}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_ping_is_what_discovery_and_raw_requests_see() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = builder("pinged")
        .metadata("team", "core")
        .ping_handler(ping_with_region())
        .start(&client)
        .await
        .expect("start");

    let pings = within("ping", discovery(&client).ping_service("pinged"))
        .await
        .expect("ping");
    assert_eq!(pings.len(), 1, "{pings:?}");
    assert_eq!(pings[0].id, service.id());
    assert_eq!(pings[0].metadata["region"], "eu-west");
    assert_eq!(
        pings[0].metadata["team"], "core",
        "the default's entries stay"
    );

    for subject in [
        "$SRV.PING".to_owned(),
        "$SRV.PING.pinged".to_owned(),
        instance_subject("PING", &service),
    ] {
        let raw = raw_reply(&client, &subject).await;
        assert_eq!(
            raw["metadata"],
            json!({"region": "eu-west", "team": "core"})
        );
        assert_eq!(raw["type"], "io.nats.micro.v1.ping_response", "{subject}");
    }

    // INFO and STATS keep the default, metadata without the handler's entry.
    let info = raw_reply(&client, &instance_subject("INFO", &service)).await;
    assert_eq!(info["type"], "io.nats.micro.v1.info_response");
    assert_eq!(info["metadata"], json!({"team": "core"}));
    assert_eq!(info["description"], "the default description");
    let stats = raw_reply(&client, &instance_subject("STATS", &service)).await;
    assert_eq!(stats["type"], "io.nats.micro.v1.stats_response");
    assert_eq!(stats["metadata"], json!({"team": "core"}));
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_info_and_stats_extend_the_default() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let info_handler = ControlHandler::new(tower::service_fn(
        |control: ControlRequest<InfoResponse>| async move {
            let mut info = serde_json::to_value(control.default_response())?;
            info["description"] = json!("described by the handler");
            info["x_owner"] = json!("team core");
            Ok::<_, BoxError>(Json(info))
        },
    ));
    // STATS answered through the request, as nats-py handlers do; `data` is added to every
    // endpoint.
    let stats_handler = ControlHandler::new(tower::service_fn(
        |control: ControlRequest<StatsResponse>| async move {
            let (request, mut stats) = control.into_parts();
            for endpoint in &mut stats.endpoints {
                endpoint.data = Some(json!({"replaced": true}));
            }
            request.respond_json(&stats).await?;
            Ok::<_, BoxError>(())
        },
    ));
    let service = builder("extended")
        .info_handler(info_handler)
        .stats_reply_handler(stats_handler)
        .start(&client)
        .await
        .expect("start");
    within("echo", client.request("echo", "x"))
        .await
        .expect("echo");

    let disco = discovery(&client);
    let info = within("info", disco.info_instance("extended", service.id()))
        .await
        .expect("info")
        .expect("an INFO reply");
    assert_eq!(info.description, "described by the handler");
    assert_eq!(info.endpoints.len(), 1);
    assert_eq!(info.endpoints[0].name, "echo");
    let raw = raw_reply(&client, &instance_subject("INFO", &service)).await;
    assert_eq!(raw["x_owner"], "team core");

    let stats = within("stats", disco.stats_service("extended"))
        .await
        .expect("stats");
    assert_eq!(stats.len(), 1, "{stats:?}");
    let endpoint = &stats[0].endpoints[0];
    assert_eq!(endpoint.num_requests, 1, "the default's counters stay");
    assert_eq!(endpoint.data, Some(json!({"replaced": true})));

    // PING keeps the default.
    let ping = raw_reply(&client, &instance_subject("PING", &service)).await;
    assert_eq!(ping["id"], service.id());
    assert_eq!(ping["metadata"], json!({}));
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erroring_handler_answers_with_the_error_headers() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = builder("failing")
        .stats_reply_handler(failing())
        .start(&client)
        .await
        .expect("start");

    let reply = request(
        &client,
        &instance_subject("STATS", &service),
        Duration::from_secs(5),
    )
    .await;
    let headers = reply.headers.as_ref().expect("error headers");
    assert_eq!(headers.get(ERROR_CODE_HEADER), Some("404"));
    assert_eq!(headers.get(ERROR_HEADER), Some("nothing here"));
    assert!(reply.payload.is_empty());
    let error = nats_micro::check_reply(reply).expect_err("an error reply");
    assert_eq!(error, ServiceError::not_found("nothing here"));

    // Discovery skips error replies; PING and INFO still answer.
    let disco = discovery(&client);
    let stats = within("stats", disco.stats_service("failing"))
        .await
        .expect("stats");
    assert!(stats.is_empty(), "{stats:?}");
    let pings = within("ping", disco.ping_service("failing"))
        .await
        .expect("ping");
    assert_eq!(pings.len(), 1);
    let info = raw_reply(&client, &instance_subject("INFO", &service)).await;
    assert_eq!(info["endpoints"][0]["name"], "echo");
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_handler_holds_back_no_other_verb_and_a_full_verb_answers_429() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let (entered, mut calls) = mpsc::unbounded_channel();
    let service = builder("stuck")
        .max_concurrency(2)
        .drain_timeout(Duration::from_millis(300))
        .stats_reply_handler(stuck(entered))
        .start(&client)
        .await
        .expect("start");
    let stats_subject = instance_subject("STATS", &service);

    // Two STATS requests hang in the handler (the verb's limit is 2)...
    let mut hanging = Vec::new();
    for _ in 0..2 {
        let client = client.clone();
        let subject = stats_subject.clone();
        hanging.push(tokio::spawn(async move {
            let options = RequestOptions::new().timeout(Duration::from_secs(2));
            client.send_request(subject, options).await
        }));
        within("handler entered", calls.recv())
            .await
            .expect("a call");
    }
    // ...so a third one is refused at once...
    let reply = request(&client, &stats_subject, Duration::from_secs(5)).await;
    let refused = nats_micro::check_reply(reply).expect_err("an error reply");
    assert_eq!(refused.code, nats_micro::RATE_LIMITED);
    assert!(refused.description.contains("STATS"), "{refused:?}");

    // ...while PING and INFO answer, through discovery and raw requests.
    let disco = discovery(&client);
    let pings = within("ping", disco.ping_service("stuck"))
        .await
        .expect("ping");
    assert_eq!(pings.len(), 1);
    let info = raw_reply(&client, &instance_subject("INFO", &service)).await;
    assert_eq!(info["name"], "stuck");
    within("echo", client.request("echo", "still served"))
        .await
        .expect("the endpoint still answers");

    for request in hanging {
        let result = within("hanging STATS", request).await.expect("joined");
        let kind = result.map(|_| ()).map_err(|e| e.kind());
        assert_eq!(kind, Err(RequestErrorKind::TimedOut), "never answered");
    }
    // The stop is bounded by the drain timeout despite the stuck calls.
    within("stop", service.stop()).await;
    assert!(service.is_stopped());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_on_a_control_subject_reaches_the_handler_as_sent() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    // The handler sees the subject, headers and payload of the request it answers.
    let echo_request = ControlHandler::new(tower::service_fn(
        |control: ControlRequest<PingResponse>| async move {
            let request = control.request();
            let header = request
                .headers()
                .and_then(|h| h.get("X-Probe"))
                .unwrap_or("")
                .to_owned();
            let mut ping = serde_json::to_value(control.default_response())?;
            ping["x_seen"] = json!({
                "subject": request.subject(),
                "header": header,
                "payload": String::from_utf8_lossy(request.data()),
            });
            Ok::<_, BoxError>(Json::<Value>(ping))
        },
    ));
    let service = builder("probed")
        .ping_handler(echo_request)
        .start(&client)
        .await
        .expect("start");
    let mut headers = nats_core::HeaderMap::new();
    headers.insert("X-Probe", "1");
    let subject = instance_subject("PING", &service);
    let reply = within(
        "ping",
        client.request_with_headers(&subject, headers, "hello"),
    )
    .await
    .expect("ping");
    let raw: Value = serde_json::from_slice(&reply.payload).expect("JSON");
    assert_eq!(
        raw["x_seen"],
        json!({"subject": subject, "header": "1", "payload": "hello"})
    );
    service.stop().await;
}
