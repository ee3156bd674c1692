//! The life of a service: configuration errors before anything is subscribed, endpoints added
//! after start, reset, a graceful stop with requests in flight, stopping when the connection
//! closes, and asynchronous subscription errors.

mod micro_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use micro_support::{connect, discovery, raw_replies, with_id, within};
use nats_core::RequestErrorKind;
use nats_micro::{
    add_service, handler_fn, AsyncError, ConfigErrorKind, EndpointConfig, Service, ServiceConfig,
    StartErrorKind,
};
use nats_tests::NatsServer;
use tokio::task::JoinSet;
use tokio::time::Instant;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_configurations_are_typed_and_subscribe_nothing() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;

    let error = add_service(&client, ServiceConfig::new("bad-version", "1.0"))
        .await
        .expect_err("invalid version");
    assert_eq!(error.kind(), StartErrorKind::InvalidConfig);
    let config_error = error.config_error().expect("a config error");
    assert_eq!(config_error.kind(), ConfigErrorKind::Version);
    assert_eq!(
        (config_error.field(), config_error.value()),
        ("version", "1.0")
    );

    let error = Service::builder("bad-endpoint", "1.0.0")
        .endpoint("has space", handler_fn(|| async {}))
        .start(&client)
        .await
        .expect_err("invalid endpoint name");
    let config_error = error.config_error().expect("a config error");
    assert_eq!(config_error.field(), "endpoint.name");

    let error = add_service(&client, ServiceConfig::new("bad name", "1.0.0"))
        .await
        .expect_err("invalid name");
    assert_eq!(
        error.config_error().map(|e| e.kind()),
        Some(ConfigErrorKind::Name)
    );

    assert!(
        raw_replies(&client, "$SRV.PING").await.is_empty(),
        "nothing started"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_added_after_start_appear_and_reset_zeroes_counters() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = add_service(&client, ServiceConfig::new("later", "1.0.0"))
        .await
        .expect("start");
    assert!(service.info().endpoints.is_empty());
    service
        .add_endpoint(
            EndpointConfig::new("late").queue_group("lq"),
            handler_fn(|| async { "late" }),
        )
        .await
        .expect("add");
    let reply = within("request", client.request("late", ""))
        .await
        .expect("reply");
    assert_eq!(reply.payload, "late");
    // Without a reply subject: handled, counted, nothing sent.
    client.publish("late", "one-way").await.expect("publish");

    let disco = discovery(&client);
    let info = within("info", disco.info_instance("later", service.id()))
        .await
        .expect("info")
        .expect("instance");
    assert_eq!(info.endpoints[0].name, "late");
    let deadline = Instant::now() + micro_support::WAIT;
    while service.stats().endpoints[0].num_requests < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = within("stats", disco.stats_instance("later", service.id()))
        .await
        .expect("stats")
        .expect("instance");
    assert_eq!(before.endpoints[0].num_requests, 2);
    assert_eq!(before.endpoints[0].num_errors, 0);

    tokio::time::sleep(Duration::from_millis(5)).await;
    service.reset();
    let after = service.stats();
    let endpoint = &after.endpoints[0];
    assert_eq!((endpoint.num_requests, endpoint.num_errors), (0, 0));
    assert_eq!(endpoint.processing_time, Duration::ZERO);
    assert_eq!(endpoint.queue_group, "lq", "reset keeps the queue group");
    assert!(after.started > before.started);
    assert!(after.started <= SystemTime::now());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_answers_every_received_request_then_leaves() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let caller = connect(&server.url()).await;
    let slow = handler_fn(|body: String| async move {
        tokio::time::sleep(Duration::from_millis(250)).await;
        format!("done {body}")
    });
    let service = Service::builder("stopping", "1.0.0")
        .endpoint(EndpointConfig::new("slow").max_concurrency(4), slow)
        .start(&client)
        .await
        .expect("start");

    let mut requests = JoinSet::new();
    for i in 0..20 {
        let caller = caller.clone();
        requests.spawn(async move {
            let options = nats_core::RequestOptions::new()
                .payload(i.to_string())
                .timeout(Duration::from_secs(10));
            caller.send_request("slow", options).await
        });
    }
    caller.flush().await.expect("flush");
    // Let the server deliver all twenty: four run, sixteen wait in the subscription.
    tokio::time::sleep(Duration::from_millis(150)).await;

    let started = Instant::now();
    within("stop", service.stop()).await;
    assert!(
        started.elapsed() >= Duration::from_millis(750),
        "stop waited for the queued requests ({:?})",
        started.elapsed()
    );
    let mut answered = 0;
    while let Some(result) = requests.join_next().await {
        let reply = result
            .expect("task")
            .expect("every received request is answered");
        assert!(reply.payload.starts_with(b"done "));
        answered += 1;
    }
    assert_eq!(answered, 20);

    assert!(service.is_stopped());
    within("stopped", service.stopped()).await;
    within("second stop", service.stop()).await;
    let pings = raw_replies(&caller, "$SRV.PING").await;
    assert!(with_id(&pings, service.id()).is_empty(), "gone from PING");
    assert_eq!(
        caller
            .request("slow", "")
            .await
            .map(|_| ())
            .map_err(|e| e.kind()),
        Err(RequestErrorKind::NoResponders)
    );
    let error = service
        .add_endpoint("again", handler_fn(|| async {}))
        .await
        .expect_err("stopped");
    assert_eq!(error.kind(), StartErrorKind::Stopped);
    assert_eq!(service.stats().endpoints[0].num_requests, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_connection_stops_the_service() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = add_service(&client, ServiceConfig::new("closing", "1.0.0"))
        .await
        .expect("start");
    service
        .add_endpoint("e", handler_fn(|| async {}))
        .await
        .expect("add");
    client.close().await;
    within("stopped after close", service.stopped()).await;
    assert!(service.is_stopped());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_is_counted_and_reported() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let reported: Arc<Mutex<Vec<AsyncError>>> = Arc::default();
    let sink = Arc::clone(&reported);
    let slow = handler_fn(|| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
    });
    let service = Service::builder("laggard", "1.0.0")
        .error_handler(move |error| sink.lock().expect("lock").push(error.clone()))
        .endpoint(
            EndpointConfig::new("slow")
                .max_concurrency(1)
                .pending_limits(5, 1024 * 1024),
            slow,
        )
        .start(&client)
        .await
        .expect("start");
    let publisher = connect(&server.url()).await;
    for i in 0..100 {
        publisher
            .publish("slow", i.to_string())
            .await
            .expect("publish");
    }
    publisher.flush().await.expect("flush");
    // One more after the flood so the endpoint notices the drops.
    tokio::time::sleep(Duration::from_millis(500)).await;
    publisher.publish("slow", "last").await.expect("publish");

    let deadline = Instant::now() + micro_support::WAIT;
    while reported.lock().expect("lock").is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = reported
        .lock()
        .expect("lock")
        .first()
        .cloned()
        .expect("reported");
    assert_eq!(
        (first.endpoint.as_str(), first.subject.as_str()),
        ("slow", "slow")
    );
    assert!(first.description.starts_with("slow consumer"), "{first}");
    let stats = service.stats();
    assert!(stats.endpoints[0].num_errors >= 1);
    assert!(stats.endpoints[0]
        .last_error
        .starts_with("500:slow consumer"));
    service.stop().await;
}
