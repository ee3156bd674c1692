//! Errors users must be able to tell apart, and that must not break the connection: checks the
//! client makes before sending, a server `-ERR` that is not fatal, refused credentials.

mod common;

use common::{next_msg, recording_events, spawn_echo, wait_for_event, within};
use nats_core::{
    ConnectErrorKind, ConnectOptions, Event, HeaderMap, PermissionOperation, PublishErrorKind,
    ServerError, SubscribeErrorKind,
};
use nats_tests::NatsServer;

/// A user who may publish anywhere but under `secret.`.
const RESTRICTED_USER: &str = r#"
authorization {
  users = [
    { user: alice, password: s3cret, permissions: { publish: { deny: ["secret.>"] } } }
  ]
}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_over_max_payload_is_refused_before_sending() {
    let server = NatsServer::spawn_with_config("max_payload: 1024\n");
    let client = nats_core::connect(server.url()).await.expect("connect");
    assert_eq!(client.max_payload(), 1024);
    let mut sub = client.subscribe("sized").await.expect("subscribe");

    let err = client
        .publish("sized", vec![b'x'; 2000])
        .await
        .expect_err("too big");
    assert_eq!(err.kind(), PublishErrorKind::MaxPayloadExceeded, "{err}");
    // Headers count towards the limit.
    let headers: HeaderMap = [("Padding", "p".repeat(100))].into_iter().collect();
    let err = client
        .publish_with_headers("sized", headers, vec![b'x'; 1000])
        .await
        .expect_err("too big with headers");
    assert_eq!(err.kind(), PublishErrorKind::MaxPayloadExceeded, "{err}");
    assert_eq!(client.statistics().out_msgs, 0, "nothing may be sent");

    // Had it been sent, the server would have closed the connection.
    client
        .publish("sized", vec![b'y'; 1024])
        .await
        .expect("exactly max_payload is fine");
    let msg = next_msg(&mut sub).await;
    assert_eq!(msg.payload.len(), 1024);
    assert!(client.is_connected());
    assert_eq!(client.last_error(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_subjects_are_refused_with_typed_errors() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");

    for subject in ["a b", "", "a..b", "a.*", "a.>", "a\r\nPUB b 1"] {
        let err = client
            .publish(subject, "x")
            .await
            .expect_err("invalid publish subject");
        assert_eq!(err.kind(), PublishErrorKind::InvalidSubject, "{subject:?}");
    }
    let err = client
        .publish_with_reply("ok", "bad reply", "x")
        .await
        .expect_err("invalid reply subject");
    assert_eq!(err.kind(), PublishErrorKind::InvalidReply);
    for subject in ["a.>.b", ">.a", "a b", "", "a..b"] {
        let err = client
            .subscribe(subject)
            .await
            .expect_err("invalid subscribe subject");
        assert_eq!(
            err.kind(),
            SubscribeErrorKind::InvalidSubject,
            "{subject:?}"
        );
    }
    let err = client
        .queue_subscribe("ok", "bad group")
        .await
        .expect_err("invalid queue group");
    assert_eq!(err.kind(), SubscribeErrorKind::InvalidQueueGroup);

    // Nothing reached the server, and the connection works as before.
    let mut sub = client.subscribe("a.*").await.expect("subscribe");
    client.publish("a.b", "fine").await.expect("publish");
    assert_eq!(next_msg(&mut sub).await.payload, "fine");
    assert_eq!(client.last_error(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_violation_is_reported_and_the_connection_stays() {
    let server = NatsServer::spawn_with_config(RESTRICTED_USER);
    let (options, mut events) = recording_events();
    let client = options
        .user_and_password("alice", "s3cret")
        .connect(server.url())
        .await
        .expect("connect");
    spawn_echo(&client, client.subscribe("echo").await.expect("subscribe"));

    client.publish("secret.x", "leak").await.expect("queued");
    let (event, _) = wait_for_event(&mut events, |e| matches!(e, Event::ServerError(_))).await;
    let Event::ServerError(err) = event else {
        unreachable!("the filter only lets server errors through")
    };
    assert_eq!(
        err,
        ServerError::PermissionsViolation {
            operation: PermissionOperation::Publish,
            subject: "secret.x".into(),
            queue: None,
            sid: None,
        }
    );
    let text = err.to_string();
    assert!(text.contains("permissions violation"), "{text}");
    assert_eq!(client.last_error().as_deref(), Some(text.as_str()));

    assert!(client.is_connected(), "{:?}", client.state());
    let reply = within("request", client.request("echo", "still works"))
        .await
        .expect("request after the violation");
    assert_eq!(reply.payload, "still works");
    assert_eq!(client.statistics().reconnects, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_an_authorization_violation() {
    let server = NatsServer::spawn_with_config(RESTRICTED_USER);
    let err = within(
        "connect",
        ConnectOptions::new()
            .user_and_password("alice", "wrong")
            .connect(server.url()),
    )
    .await
    .expect_err("wrong password");
    assert_eq!(
        err.kind(),
        ConnectErrorKind::AuthorizationViolation,
        "{err}"
    );
}
