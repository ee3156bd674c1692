//! The server's `-ERR`s as the client classifies them: permissions violations that end one
//! subscription or refuse one publish and leave the connection up, and credentials the
//! server refuses, which end a client that cannot get back in.

mod common;

use common::{events_so_far, recording_events, wait_for_event};

use std::error::Error as _;
use std::time::Duration;

use nats_core::{
    Client, ConnectErrorKind, ConnectOptions, Event, PermissionOperation, ServerError, State,
    SubscribeErrorKind, Subscriber,
};
use nats_tests::{within, ConfigFile, NatsServer, WAIT};

/// Alice may publish anywhere but under `forbidden.`, and subscribe anywhere but under
/// `secret.` and, in queue group `slackers`, to `jobs.*`. With deny lists only, `_INBOX.>`
/// (the request inboxes) stays allowed.
const PERMISSIONS: &str = r#"
authorization {
  users = [
    { user: "alice", password: "pw", permissions: {
        publish: { deny: ["forbidden.>"] },
        subscribe: { deny: ["secret.>", "jobs.* slackers"] } } }
  ]
}
"#;

/// A server config with one user, `alice`, whose password is `password`, who may not
/// subscribe to the subjects of `sub_deny`.
fn alice_config(password: &str, sub_deny: &[&str]) -> String {
    let deny: Vec<String> = sub_deny.iter().map(|s| format!("{s:?}")).collect();
    format!(
        "authorization {{ users = [ {{ user: \"alice\", password: \"{password}\", \
         permissions: {{ subscribe: {{ deny: [{}] }} }} }} ] }}\n",
        deny.join(", ")
    )
}

/// Makes the server read its config file again (`nats-server --signal reload=PID`).
async fn reload(server: &NatsServer) {
    let pid = server.pid();
    let output = within(
        "nats-server --signal reload",
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(nats_tests::nats_server_bin())
                .arg("--signal")
                .arg(format!("reload={pid}"))
                .output()
        }),
    )
    .await
    .expect("join")
    .expect("run nats-server --signal reload");
    assert!(
        output.status.success(),
        "reload failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Whether `event` is a permissions violation of `operation` on `subject`.
fn is_violation(event: &Event, operation: PermissionOperation, subject: &str) -> bool {
    matches!(
        event,
        Event::ServerError(ServerError::PermissionsViolation { operation: op, subject: s, .. })
            if *op == operation && s == subject
    )
}

/// Connects as alice with `password`.
async fn connect_alice(options: ConnectOptions, server: &NatsServer, password: &str) -> Client {
    within(
        "connect",
        options
            .user_and_password("alice", password)
            .connect(server.url()),
    )
    .await
    .expect("connect as alice")
}

/// The next message of `sub`, as its payload.
async fn next_payload(sub: &mut Subscriber) -> String {
    let msg = within("next message", sub.next())
        .await
        .expect("subscription ended before the expected message");
    String::from_utf8(msg.payload.to_vec()).expect("UTF-8 payload")
}

/// Answers every request on `subject` with its payload.
async fn spawn_echo(client: &Client, subject: &str) {
    let mut sub = client.subscribe(subject).await.expect("subscribe echo");
    within("flush", client.flush()).await.expect("flush");
    let client = client.clone();
    tokio::spawn(async move {
        while let Some(msg) = sub.next().await {
            if let Some(reply) = msg.reply {
                // A failure shows up as a timeout in the test that made the request.
                let _ = client.publish(reply, msg.payload).await;
            }
        }
    });
}

/// The refusal a subscription ended with: `try_next` yields it once, then the end.
async fn refusal_of(sub: &mut Subscriber) -> ServerError {
    let err = within("the refusal", sub.try_next())
        .await
        .expect_err("a refused subscription yields an error");
    assert_eq!(err.kind(), SubscribeErrorKind::PermissionDenied, "{err}");
    let refusal = err
        .source()
        .and_then(|source| source.downcast_ref::<ServerError>())
        .unwrap_or_else(|| panic!("the source of {err:?} is the server's error"))
        .clone();
    for _ in 0..2 {
        let after = within("the end after the refusal", sub.try_next())
            .await
            .expect("the refusal is told once");
        assert!(after.is_none(), "then the subscription has ended");
    }
    refusal
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_subscription_ends_with_permission_denied_and_the_rest_keeps_working() {
    let server = NatsServer::spawn_with_config(PERMISSIONS);
    let (options, mut events) = recording_events();
    let client = connect_alice(options, &server, "pw").await;
    spawn_echo(&client, "public.echo").await;
    let mut public = client.subscribe("public.>").await.expect("subscribe");
    let mut refused = client.subscribe("secret.x").await.expect("queued");
    let mut refused_too = client.subscribe("secret.y").await.expect("queued");

    let (_, before) = wait_for_event(&mut events, |e| {
        is_violation(e, PermissionOperation::Subscribe, "secret.x")
    })
    .await;
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, Event::Error(_) | Event::Disconnected)),
        "a refusal is a server error, not a client-side one: {before:?}"
    );
    assert_eq!(
        refusal_of(&mut refused).await,
        ServerError::PermissionsViolation {
            operation: PermissionOperation::Subscribe,
            subject: "secret.x".into(),
            queue: None,
            sid: None,
        }
    );
    // `next` just ends.
    let ended = within("the end of the other refused one", refused_too.next()).await;
    assert!(ended.is_none(), "{ended:?}");

    // The connection and the other subscriptions are untouched.
    client
        .publish("public.a", "still here")
        .await
        .expect("publish");
    assert_eq!(next_payload(&mut public).await, "still here");
    let reply = within("request", client.request("public.echo", "ping"))
        .await
        .expect("request after the refusal");
    assert_eq!(reply.payload, "ping");
    assert!(client.is_connected(), "{:?}", client.state());
    assert_eq!(client.statistics().reconnects, 0);
    let later = events_so_far(&mut events);
    assert!(!later.contains(&Event::Disconnected), "{later:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_queue_subscription_ends_only_that_queue_group() {
    let server = NatsServer::spawn_with_config(PERMISSIONS);
    let client = connect_alice(ConnectOptions::new(), &server, "pw").await;
    let mut plain = client.subscribe("jobs.a").await.expect("subscribe");
    let mut workers = client
        .queue_subscribe("jobs.a", "workers")
        .await
        .expect("subscribe workers");
    let mut slackers = client
        .queue_subscribe("jobs.a", "slackers")
        .await
        .expect("queued");

    let refusal = refusal_of(&mut slackers).await;
    assert!(
        matches!(
            &refusal,
            ServerError::PermissionsViolation {
                operation: PermissionOperation::Subscribe,
                subject,
                queue: Some(queue),
                ..
            } if subject == "jobs.a" && queue == "slackers"
        ),
        "{refusal:?}"
    );

    // Same subject, other groups: still subscribed.
    client.publish("jobs.a", "work").await.expect("publish");
    assert_eq!(next_payload(&mut plain).await, "work");
    assert_eq!(next_payload(&mut workers).await, "work");
    assert!(client.is_connected(), "{:?}", client.state());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_whose_permission_a_reload_takes_away_yields_what_it_holds_then_the_error() {
    let config = ConfigFile::new(&alice_config("pw", &["secret.>"]));
    let server = config.spawn();
    let (options, mut events) = recording_events();
    let client = connect_alice(options, &server, "pw").await;
    let mut news = client.subscribe("news.>").await.expect("subscribe news");
    let mut other = client.subscribe("other").await.expect("subscribe other");
    within("flush", client.flush()).await.expect("flush");
    client.publish("news.1", "one").await.expect("publish");
    client.publish("news.2", "two").await.expect("publish");
    // The server sent this client both messages before the PONG of the flush.
    within("flush", client.flush()).await.expect("flush");
    assert_eq!(next_payload(&mut news).await, "one");
    assert_eq!(news.pending_messages(), 1, "news.2 has arrived");

    config.write(&alice_config("pw", &["secret.>", "news.>"]));
    reload(&server).await;
    let sid = news.sid();
    let (event, _) = wait_for_event(&mut events, |e| {
        is_violation(e, PermissionOperation::Subscribe, "news.>")
    })
    .await;
    assert!(
        matches!(
            &event,
            Event::ServerError(ServerError::PermissionsViolation { sid: Some(s), .. }) if *s == sid
        ),
        "the server names the subscription (sid {sid}): {event:?}"
    );

    // What arrived before the refusal is still read, then the refusal, then the end.
    let held = within("the held message", news.try_next())
        .await
        .expect("the held message first")
        .expect("a message");
    assert_eq!(held.payload, "two");
    let refusal = refusal_of(&mut news).await;
    assert!(
        matches!(&refusal, ServerError::PermissionsViolation { subject, sid: Some(s), .. }
            if subject == "news.>" && *s == sid),
        "{refusal:?}"
    );

    client.publish("other", "fine").await.expect("publish");
    assert_eq!(next_payload(&mut other).await, "fine");
    assert!(client.is_connected(), "{:?}", client.state());
    assert_eq!(client.statistics().reconnects, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forbidden_publish_is_a_server_error_and_the_connection_stays() {
    let server = NatsServer::spawn_with_config(PERMISSIONS);
    let (options, mut events) = recording_events();
    let client = connect_alice(options, &server, "pw").await;
    spawn_echo(&client, "public.echo").await;

    client
        .publish("forbidden.x", "leak")
        .await
        .expect("queued: only the server knows the permissions");
    let (event, before) = wait_for_event(&mut events, |e| {
        is_violation(e, PermissionOperation::Publish, "forbidden.x")
    })
    .await;
    assert_eq!(
        event,
        Event::ServerError(ServerError::PermissionsViolation {
            operation: PermissionOperation::Publish,
            subject: "forbidden.x".into(),
            queue: None,
            sid: None,
        })
    );
    assert!(
        !before
            .iter()
            .any(|e| matches!(e, Event::Error(_) | Event::Disconnected)),
        "{before:?}"
    );
    let last = client
        .last_error()
        .expect("the violation is the last error");
    assert!(last.contains("forbidden.x"), "{last}");

    let reply = within("request", client.request("public.echo", "still works"))
        .await
        .expect("request after the violation");
    assert_eq!(reply.payload, "still works");
    assert!(client.is_connected(), "{:?}", client.state());
    assert_eq!(client.statistics().reconnects, 0);
    let later = events_so_far(&mut events);
    assert!(!later.contains(&Event::Disconnected), "{later:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_with_the_servers_address_and_words() {
    let server = NatsServer::spawn_with_config(PERMISSIONS);
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
    let text = err.to_string();
    assert!(
        text.contains(&server.host_port()),
        "names the server: {text}"
    );
    assert!(
        text.contains("Authorization Violation"),
        "in the server's words: {text}"
    );
}

/// How many refused logins `server` has logged.
fn refused_logins(server: &NatsServer) -> usize {
    server.logs().matches("authentication error").count()
}

/// Waits until `server` has logged at least `count` refused logins.
async fn wait_for_refused_logins(server: &NatsServer, count: usize) {
    tokio::time::timeout(WAIT, async {
        while refused_logins(server) < count {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the server refused {} logins, not {count}, within {WAIT:?}; its log:\n{}",
            refused_logins(server),
            server.logs()
        )
    });
}

/// Options that would reconnect for ever, quickly, were it not for refused credentials.
fn persistent(options: ConnectOptions) -> ConnectOptions {
    options
        .reconnect_time_wait(Duration::from_millis(100))
        .max_reconnect_attempts(None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_refused_after_a_restart_close_the_client_promptly() {
    let config = ConfigFile::new(&alice_config("pw", &[]));
    let mut server = config.spawn();
    let (options, mut events) = recording_events();
    let client = connect_alice(persistent(options), &server, "pw").await;
    let mut sub = client.subscribe("public.>").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    server.stop();
    config.write(&alice_config("rotated", &[]));
    server.start_again();

    // With no limit on attempts, only the refusals can end it.
    let (_, before) = wait_for_event(&mut events, |e| *e == Event::Closed).await;
    assert!(before.contains(&Event::Disconnected), "{before:?}");
    assert_eq!(client.state(), State::Closed);
    let last = client.last_error().expect("the refusal is the last error");
    assert!(
        last.to_ascii_lowercase()
            .contains("authorization violation"),
        "last error names the refusal: {last}"
    );
    // The server refused it twice (its log may lag a little behind its answers).
    wait_for_refused_logins(&server, 2).await;
    let ended = within("the end of the subscription", sub.next()).await;
    assert!(ended.is_none(), "{ended:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_ignore_auth_error_abort_the_client_keeps_trying_until_the_credentials_work() {
    let config = ConfigFile::new(&alice_config("pw", &[]));
    let mut server = config.spawn();
    let (options, mut events) = recording_events();
    let client = connect_alice(
        persistent(options).ignore_auth_error_abort(true),
        &server,
        "pw",
    )
    .await;
    let mut sub = client.subscribe("public.>").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    server.stop();
    config.write(&alice_config("rotated", &[]));
    server.start_again();
    // Well past the two refusals that would otherwise end it.
    wait_for_refused_logins(&server, 4).await;
    assert_eq!(client.state(), State::Reconnecting);
    let seen = events_so_far(&mut events);
    assert!(!seen.contains(&Event::Closed), "{seen:?}");

    server.stop();
    config.write(&alice_config("pw", &[]));
    server.start_again();
    wait_for_event(&mut events, |e| *e == Event::Reconnected).await;
    client
        .publish("public.back", "back")
        .await
        .expect("publish");
    assert_eq!(next_payload(&mut sub).await, "back");
    assert!(client.is_connected(), "{:?}", client.state());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retrying_a_first_connection_every_server_refuses_gives_up_promptly() {
    let first = NatsServer::spawn_with_config(PERMISSIONS);
    let second = NatsServer::spawn_with_config(PERMISSIONS);
    let (options, mut events) = recording_events();
    let client = within(
        "connect",
        persistent(options)
            .retry_on_initial_connect(true)
            .user_and_password("alice", "wrong")
            .connect([first.url(), second.url()]),
    )
    .await
    .expect("with retry_on_initial_connect, a client even when no server accepts");

    let (_, before) = wait_for_event(&mut events, |e| *e == Event::Closed).await;
    assert!(
        before.iter().any(|e| matches!(e, Event::Error(_))),
        "the failures are reported: {before:?}"
    );
    assert!(
        !before.contains(&Event::Connected),
        "never connected: {before:?}"
    );
    assert_eq!(client.state(), State::Closed);
    let last = client.last_error().expect("the refusal is the last error");
    assert!(
        last.to_ascii_lowercase()
            .contains("authorization violation"),
        "last error names the refusal: {last}"
    );
    // Each server refused twice before the client gave up.
    wait_for_refused_logins(&first, 2).await;
    wait_for_refused_logins(&second, 2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_of_an_authorization_violation_is_the_servers_error() {
    // error.rs documents `ConnectErrorKind::AuthorizationViolation` as having the
    // `ServerError` as its source.
    let server = NatsServer::spawn_with_config(PERMISSIONS);
    let err = within(
        "connect",
        ConnectOptions::new()
            .user_and_password("alice", "wrong")
            .connect(server.url()),
    )
    .await
    .expect_err("wrong password");
    assert_eq!(err.kind(), ConnectErrorKind::AuthorizationViolation);
    let mut chain = err.source();
    let mut found = None;
    while let Some(source) = chain {
        if let Some(server_error) = source.downcast_ref::<ServerError>() {
            found = Some(server_error.clone());
            break;
        }
        chain = source.source();
    }
    assert_eq!(
        found,
        Some(ServerError::AuthorizationViolation),
        "the source chain of {err:?} holds the classified -ERR"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_at_its_connection_limit_refuses_with_a_server_error() {
    let server = NatsServer::spawn_with_config("max_connections: 1\n");
    // The harness checks that the server is up with a TCP connection of its own, which the
    // server may still count for a moment.
    let first = within("the first connection", async {
        loop {
            match nats_core::connect(server.url()).await {
                Ok(client) => return client,
                Err(err) if err.kind() == ConnectErrorKind::ServerError => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => panic!("the first connection: {err}"),
            }
        }
    })
    .await;
    let err = within("connect", nats_core::connect(server.url()))
        .await
        .expect_err("the second does not");
    assert_eq!(err.kind(), ConnectErrorKind::ServerError, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("maximum connections exceeded"),
        "in the server's words: {text}"
    );
    assert!(
        text.contains(&server.host_port()),
        "names the server: {text}"
    );
    assert!(first.is_connected());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_over_the_servers_limit_is_a_server_error_and_the_connection_stays() {
    let server = NatsServer::spawn_with_config("max_subscriptions: 2\n");
    let (options, mut events) = recording_events();
    let client = within("connect", options.connect(server.url()))
        .await
        .expect("connect");
    let mut a = client.subscribe("a").await.expect("subscribe");
    let mut b = client.subscribe("b").await.expect("subscribe");
    let _over = client.subscribe("c").await.expect("queued");
    let (_, before) = wait_for_event(&mut events, |e| {
        *e == Event::ServerError(ServerError::MaxSubscriptionsExceeded)
    })
    .await;
    assert!(!before.contains(&Event::Disconnected), "{before:?}");

    client.publish("a", "one").await.expect("publish");
    client.publish("b", "two").await.expect("publish");
    assert_eq!(next_payload(&mut a).await, "one");
    assert_eq!(next_payload(&mut b).await, "two");
    assert!(client.is_connected(), "{:?}", client.state());
    assert_eq!(client.statistics().reconnects, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_err_after_which_the_server_closes_is_reported_then_the_client_reconnects() {
    let server = NatsServer::spawn_with_config("max_control_line: 256\n");
    let (options, mut events) = recording_events();
    let client = within("connect", persistent(options).connect(server.url()))
        .await
        .expect("connect");
    let mut sub = client.subscribe("ok").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    // The client does not know the server's control-line limit: the server does.
    let long = format!("long.{}", "x".repeat(300));
    client.publish(&long, "x").await.expect("queued");
    let (_, before) = wait_for_event(&mut events, |e| {
        *e == Event::ServerError(ServerError::MaxControlLineExceeded)
    })
    .await;
    assert!(!before.contains(&Event::Disconnected), "{before:?}");
    let (_, before) = wait_for_event(&mut events, |e| *e == Event::Reconnected).await;
    assert!(before.contains(&Event::Disconnected), "{before:?}");
    let why = before
        .iter()
        .find_map(|e| match e {
            Event::Error(text) => Some(text.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the loss is reported with its reason: {before:?}"));
    assert!(
        why.to_ascii_lowercase()
            .contains("maximum control line exceeded"),
        "the reason names the server's last error: {why}"
    );

    client.publish("ok", "after").await.expect("publish");
    assert_eq!(next_payload(&mut sub).await, "after");
    assert_eq!(client.statistics().reconnects, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_while_reconnecting_are_reported_even_when_the_client_keeps_trying() {
    // `Client::last_error` is "the latest error: an -ERR from the server or the reason the
    // connection was lost", and every -ERR is to reach the events.
    let config = ConfigFile::new(&alice_config("pw", &[]));
    let mut server = config.spawn();
    let (options, mut events) = recording_events();
    let client = connect_alice(
        persistent(options).ignore_auth_error_abort(true),
        &server,
        "pw",
    )
    .await;
    server.stop();
    config.write(&alice_config("rotated", &[]));
    server.start_again();
    wait_for_refused_logins(&server, 3).await;

    let names_refusal = |text: &str| {
        text.to_ascii_lowercase()
            .contains("authorization violation")
    };
    let latest = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(last) = client.last_error().filter(|last| names_refusal(last)) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "the latest error is the refusal, not the loss before it; it is {:?}",
            client.last_error()
        )
    });
    assert!(names_refusal(&latest), "{latest}");
    // And an event told of it (a `ServerError`, or an `Error` naming it).
    wait_for_event(&mut events, |e| match e {
        Event::ServerError(err) => err.is_auth_error(),
        Event::Error(text) => names_refusal(text),
        _ => false,
    })
    .await;
    assert_eq!(client.state(), State::Reconnecting);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_refused_when_sent_again_after_a_reconnect_ends_with_permission_denied() {
    let config = ConfigFile::new(&alice_config("pw", &[]));
    let mut server = config.spawn();
    let (options, mut events) = recording_events();
    let client = connect_alice(persistent(options), &server, "pw").await;
    let mut news = client.subscribe("news.>").await.expect("subscribe news");
    let mut other = client.subscribe("other").await.expect("subscribe other");
    within("flush", client.flush()).await.expect("flush");

    server.stop();
    config.write(&alice_config("pw", &["news.>"]));
    server.start_again();
    wait_for_event(&mut events, |e| *e == Event::Reconnected).await;

    let refusal = refusal_of(&mut news).await;
    assert!(
        matches!(&refusal, ServerError::PermissionsViolation { operation: PermissionOperation::Subscribe, subject, .. } if subject == "news.>"),
        "{refusal:?}"
    );
    client.publish("other", "fine").await.expect("publish");
    assert_eq!(next_payload(&mut other).await, "fine");
    assert!(client.is_connected(), "{:?}", client.state());
}
