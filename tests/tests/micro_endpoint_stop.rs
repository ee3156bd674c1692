//! An endpoint added at run time can be stopped while its service goes on: it stops
//! answering, and INFO and STATS no longer list it.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, within};
use nats_core::{RequestErrorKind, RequestOptions};
use nats_micro::{handler_fn, Service};
use nats_tests::NatsServer;

fn short(payload: &'static str) -> RequestOptions {
    RequestOptions::new()
        .payload(payload)
        .timeout(Duration::from_secs(2))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_endpoint_stops_answering_and_leaves_info_and_stats() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = Service::builder("shrinking", "1.0.0")
        .start(&client)
        .await
        .expect("start");
    let echo = service
        .add_endpoint("echo", handler_fn(|body: String| async move { body }))
        .await
        .expect("add echo");
    let upper = service
        .add_endpoint(
            "upper",
            handler_fn(|body: String| async move { body.to_uppercase() }),
        )
        .await
        .expect("add upper");
    assert_eq!((upper.name(), upper.subject()), ("upper", "upper"));
    let caller = connect(&server.url()).await;
    let reply = within("upper", caller.send_request("upper", short("a")))
        .await
        .expect("upper answers");
    assert_eq!(reply.payload, "A");

    within("stop upper", upper.stop()).await;
    let err = within("upper again", caller.send_request("upper", short("a")))
        .await
        .expect_err("stopped");
    assert_eq!(err.kind(), RequestErrorKind::NoResponders, "{err}");
    let names: Vec<String> = service
        .info()
        .endpoints
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["echo"], "INFO");
    let names: Vec<String> = service
        .stats()
        .endpoints
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["echo"], "STATS");
    let reply = within("echo", caller.send_request("echo", short("b")))
        .await
        .expect("the rest goes on");
    assert_eq!(reply.payload, "b");

    // Stopping it again, or an endpoint after its service stopped, does nothing more.
    within("stop upper again", upper.stop()).await;
    within("service stop", service.stop()).await;
    within("stop echo after the service", echo.stop()).await;
    assert!(service.is_stopped());
}
