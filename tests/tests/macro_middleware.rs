//! Middleware on a service written with `#[service]`: a service-wide layer added to the
//! generated builder wraps every endpoint, a per-endpoint layer added with
//! `endpoint_layer(name, ..)` wraps only that endpoint (inside the service-wide ones), and the
//! user service's error-handling layer turns a panic below it into its `500`.

mod micro_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use examples::users::{NewUser, UserId, UserService, UserServiceClient, FAILURE_DESCRIPTION};
use micro_support::{connect, discovery, within, RequireHeaderLayer};
use nats_core::{HeaderMap, RequestOptions};
use nats_micro::{CallError, ConfigErrorKind, Reply, Request, ServiceError};
use nats_tests::NatsServer;
use tower::layer::layer_fn;
use tower::util::MapRequestLayer;

/// Answers requests without an `X-Admin` header with a `FORBIDDEN` error reply.
fn admins_only() -> RequireHeaderLayer {
    RequireHeaderLayer::new("X-Admin", ServiceError::new("FORBIDDEN", "admins only"))
}

async fn explode(_request: Request) -> Result<Reply, ServiceError> {
    panic!("injected failure")
}

fn service_error<T: std::fmt::Debug>(result: Result<T, CallError>) -> ServiceError {
    match result {
        Err(CallError::Service(error)) => error,
        other => panic!("expected a service error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_wide_and_per_endpoint_layers_apply() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&calls);
    let service = UserService::default()
        .builder()
        .layer(MapRequestLayer::new(move |request: Request| {
            counter.fetch_add(1, Ordering::SeqCst);
            request
        }))
        .endpoint_layer("get", admins_only())
        .endpoint_layer("delete", layer_fn(|_inner| tower::service_fn(explode)))
        .start(&client);
    let service = within("start", service).await.expect("start");
    let users = UserServiceClient::new(&client);

    // Untouched endpoints work; the counting layer sees them.
    let ann = within("create", users.create(&NewUser::new("Ann", "a@x.org")))
        .await
        .expect("create");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // `get` is guarded: rejected without the header, served with it.
    let error = service_error(within("get", users.get(&UserId { id: ann.id })).await);
    assert_eq!(error, ServiceError::new("FORBIDDEN", "admins only"));
    let mut admin = HeaderMap::new();
    admin.insert("X-Admin", "yes");
    let options = RequestOptions::new().payload(r#"{"id":1}"#).headers(admin);
    let reply = within(
        "admin get",
        nats_micro::send_request(&client, "users.get", options),
    )
    .await
    .expect("an admin may read");
    let user: examples::users::User = serde_json::from_slice(&reply.payload).expect("a user");
    assert_eq!(user, ann);

    // `delete` panics below the error-handling layer: a 500 with its description.
    let error = service_error(within("delete", users.delete(&UserId { id: ann.id })).await);
    assert_eq!(error, ServiceError::internal(FAILURE_DESCRIPTION));

    // The service-wide layer wraps the per-endpoint ones: it counted every request.
    assert_eq!(calls.load(Ordering::SeqCst), 4);
    let stats = within(
        "stats",
        discovery(&client).stats_instance("user-service", service.id()),
    )
    .await
    .expect("stats request")
    .expect("this instance answers");
    let by_name = |name: &str| {
        let e = stats
            .endpoints
            .iter()
            .find(|e| e.name == name)
            .expect("endpoint");
        (e.num_requests, e.num_errors, e.last_error.clone())
    };
    assert_eq!(by_name("get"), (2, 1, "FORBIDDEN:admins only".to_owned()));
    assert_eq!(
        by_name("delete"),
        (1, 1, format!("500:{FAILURE_DESCRIPTION}"))
    );
    assert_eq!(by_name("create"), (1, 0, String::new()));
    // The user is still there: the panicking layer never reached the handler.
    let options = RequestOptions::new().payload(r#"{"id":1}"#).headers({
        let mut admin = HeaderMap::new();
        admin.insert("X-Admin", "yes");
        admin
    });
    within(
        "admin get",
        nats_micro::send_request(&client, "users.get", options),
    )
    .await
    .expect("still there");
    within("stop", service.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_layer_for_an_unknown_endpoint_is_a_start_error() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let started = UserService::default()
        .builder()
        .endpoint_layer("remove", admins_only())
        .start(&client);
    let error = within("start", started)
        .await
        .expect_err("no endpoint is named remove");
    let config = error.config_error().expect("a configuration error");
    assert_eq!(config.kind(), ConfigErrorKind::UnknownEndpoint);
    assert_eq!(config.value(), "remove");
}
