//! The authentication methods of the client against real servers configured for each: user
//! and password (from the options or the URL, percent-encoded or not), tokens (fixed, in the
//! URL, or from a callback asked again on reconnect), NKey seeds, user JWTs (from a `.creds`
//! file, its text, or a pair of callbacks), how refusals and unusable credentials are told
//! apart, and that no secret shows in `Debug` output or errors.

mod common;

use common::{recording_events, wait_for_event, wait_for_state};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use nats_core::{
    Client, ConnectError, ConnectErrorKind, ConnectOptions, Event, ServerAddr, ServerError,
    ServerRefusal, State,
};
use nats_tests::{within, ConfigFile, NatsServer, NkeyUser, OperatorMode, UserOptions, WAIT};

/// One user, `alice`, whose password is `secret`.
const ALICE: &str = r#"authorization { users = [ { user: "alice", password: "secret" } ] }"#;

/// One user, `alice`, whose password needs percent-encoding in a URL.
const ALICE_SPECIAL: &str =
    r#"authorization { users = [ { user: "alice", password: "p@ss:w/rd" } ] }"#;

/// `p@ss:w/rd`, percent-encoded for the password part of a URL.
const ALICE_SPECIAL_ENCODED: &str = "p%40ss%3Aw%2Frd";

/// A server that takes one token.
fn token_config(token: &str) -> String {
    format!("authorization {{ token: \"{token}\" }}\n")
}

/// `nats://USERINFO@127.0.0.1:PORT` for `server`.
fn url_with(userinfo: &str, server: &NatsServer) -> String {
    format!("nats://{userinfo}@{}", server.host_port())
}

/// Connects with `options`, failing the test if it does not.
async fn connect(what: &str, options: ConnectOptions, servers: &str) -> Client {
    within(what, options.connect(servers))
        .await
        .unwrap_or_else(|err| panic!("{what}: {err} ({err:?})"))
}

/// The error of a connect that must fail.
async fn refused(what: &str, options: ConnectOptions, servers: &str) -> ConnectError {
    match within(what, options.connect(servers)).await {
        Ok(client) => panic!("{what}: connected to {:?}", client.connected_url()),
        Err(err) => err,
    }
}

/// Publishes on a fresh subject and receives it back: the connection is really usable.
async fn round_trip(what: &str, client: &Client) {
    let subject = format!("auth.check.{}", client.new_inbox().replace('.', "_"));
    let mut sub = client.subscribe(&subject).await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");
    client
        .publish(&subject, what.to_owned())
        .await
        .expect("publish");
    let msg = within(what, sub.next())
        .await
        .unwrap_or_else(|| panic!("{what}: the subscription ended"));
    assert_eq!(msg.payload, what.as_bytes(), "{what}");
}

/// Connects, round-trips a message and closes.
async fn logs_in(what: &str, options: ConnectOptions, servers: &str) {
    let client = connect(what, options, servers).await;
    assert!(client.is_connected(), "{what}: {:?}", client.state());
    round_trip(what, &client).await;
    within("close", client.close()).await;
}

/// The server's refusal behind `err`.
fn refusal_of(err: &ConnectError) -> &ServerRefusal {
    std::error::Error::source(err)
        .and_then(|source| source.downcast_ref::<ServerRefusal>())
        .unwrap_or_else(|| panic!("the source of {err:?} is the server's refusal"))
}

/// Asserts that `err` is the authorization violation of `server`, in its words.
fn assert_refused_by(what: &str, err: &ConnectError, server: &NatsServer) {
    assert_eq!(
        err.kind(),
        ConnectErrorKind::AuthorizationViolation,
        "{what}: {err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&server.host_port()),
        "{what}: names the server: {text}"
    );
    assert!(
        text.contains("Authorization Violation"),
        "{what}: in the server's words: {text}"
    );
    let refusal = refusal_of(err);
    assert!(
        refusal.error().is_auth_error(),
        "{what}: {:?}",
        refusal.error()
    );
}

/// Asserts that `err` is an unusable-credentials error, found before the server judged them.
fn assert_credentials_error(what: &str, err: &ConnectError) {
    assert_eq!(err.kind(), ConnectErrorKind::Credentials, "{what}: {err}");
}

/// How many refused logins `server` has logged.
fn refused_logins(server: &NatsServer) -> usize {
    server.logs().matches("authentication error").count()
}

/// Waits until `server` has logged at least `count` refused logins (its log may lag a
/// little behind its answers).
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_and_password_from_the_options_or_the_url_log_in_and_a_wrong_one_is_refused() {
    let server = NatsServer::spawn_with_config(ALICE);
    let url = server.url();

    logs_in(
        "options",
        ConnectOptions::new().user_and_password("alice", "secret"),
        &url,
    )
    .await;
    logs_in(
        "URL",
        ConnectOptions::new(),
        &url_with("alice:secret", &server),
    )
    .await;
    // The URL's credentials come first.
    logs_in(
        "URL before the options",
        ConnectOptions::new().user_and_password("alice", "wrong"),
        &url_with("alice:secret", &server),
    )
    .await;

    let err = refused(
        "wrong password",
        ConnectOptions::new().user_and_password("alice", "wrong"),
        &url,
    )
    .await;
    assert_refused_by("wrong password", &err, &server);
    assert_eq!(
        refusal_of(&err).error(),
        &ServerError::AuthorizationViolation
    );
    assert!(
        refusal_of(&err).server().contains(&server.host_port()),
        "{:?}",
        refusal_of(&err)
    );

    let err = refused(
        "wrong password in the URL",
        ConnectOptions::new(),
        &url_with("alice:wrong", &server),
    )
    .await;
    assert_refused_by("wrong password in the URL", &err, &server);

    let err = refused("no credentials", ConnectOptions::new(), &url).await;
    assert_refused_by("no credentials", &err, &server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_percent_encoded_in_the_url_is_decoded() {
    let server = NatsServer::spawn_with_config(ALICE_SPECIAL);
    logs_in(
        "percent-encoded URL",
        ConnectOptions::new(),
        &url_with(&format!("alice:{ALICE_SPECIAL_ENCODED}"), &server),
    )
    .await;
    logs_in(
        "the same password in the options",
        ConnectOptions::new().user_and_password("alice", "p@ss:w/rd"),
        &server.url(),
    )
    .await;
    // Not decoded twice, nor taken as it is written.
    let err = refused(
        "encoded password in the options",
        ConnectOptions::new().user_and_password("alice", ALICE_SPECIAL_ENCODED),
        &server.url(),
    )
    .await;
    assert_refused_by("encoded password in the options", &err, &server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_the_options_or_the_url_logs_in_and_a_wrong_one_is_refused() {
    let server = NatsServer::spawn_with_config(&token_config("s3cr3t"));
    let url = server.url();

    logs_in("token option", ConnectOptions::new().token("s3cr3t"), &url).await;
    logs_in(
        "token in the URL",
        ConnectOptions::new(),
        &url_with("s3cr3t", &server),
    )
    .await;

    let err = refused("wrong token", ConnectOptions::new().token("guess"), &url).await;
    assert_refused_by("wrong token", &err, &server);
    let err = refused(
        "wrong token in the URL",
        ConnectOptions::new(),
        &url_with("guess", &server),
    )
    .await;
    assert_refused_by("wrong token in the URL", &err, &server);
    let err = refused("no token", ConnectOptions::new(), &url).await;
    assert_refused_by("no token", &err, &server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_callback_is_asked_again_on_reconnect_and_its_new_token_is_used() {
    let config = ConfigFile::new(&token_config("token-A"));
    let mut server = config.spawn();
    let current = Arc::new(Mutex::new("token-A".to_owned()));
    let calls = Arc::new(AtomicUsize::new(0));
    let (options, mut events) = recording_events();
    let options = options
        .reconnect_time_wait(Duration::from_millis(100))
        .max_reconnect_attempts(None)
        .token_callback({
            let current = Arc::clone(&current);
            let calls = Arc::clone(&calls);
            move || {
                calls.fetch_add(1, Ordering::SeqCst);
                current.lock().expect("token lock").clone()
            }
        });
    let client = connect("connect with token A", options, &server.url()).await;
    assert!(calls.load(Ordering::SeqCst) >= 1, "asked on connect");
    let mut sub = client.subscribe("rotation").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    server.stop();
    config.write(&token_config("token-B"));
    *current.lock().expect("token lock") = "token-B".to_owned();
    server.start_again();

    let (_, before) = wait_for_event(&mut events, |e| *e == Event::Reconnected).await;
    assert!(before.contains(&Event::Disconnected), "{before:?}");
    assert!(!before.contains(&Event::Closed), "{before:?}");
    wait_for_state(&client, State::Connected).await;
    client.publish("rotation", "after").await.expect("publish");
    let msg = within("message after the reconnect", sub.next())
        .await
        .expect("the subscription survived the reconnect");
    assert_eq!(msg.payload, "after");
    let asked = calls.load(Ordering::SeqCst);
    assert!(asked >= 2, "asked on connect and on reconnect: {asked}");

    // The server really takes only the new token now.
    let err = refused(
        "the old token",
        ConnectOptions::new().token("token-A"),
        &server.url(),
    )
    .await;
    assert_refused_by("the old token", &err, &server);
    within("close", client.close()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_nkey_seed_or_seed_file_logs_in_and_an_unknown_or_garbage_seed_does_not() {
    let user = NkeyUser::generate();
    let server = NatsServer::spawn_with_config(&user.server_conf());
    let url = server.url();

    logs_in(
        "nkey seed",
        ConnectOptions::new().nkey_seed(user.seed()),
        &url,
    )
    .await;
    logs_in(
        "nkey seed file",
        ConnectOptions::new().nkey_seed_file(user.seed_file()),
        &url,
    )
    .await;

    let stranger = NkeyUser::generate();
    let err = refused(
        "unknown user's seed",
        ConnectOptions::new().nkey_seed(stranger.seed()),
        &url,
    )
    .await;
    assert_refused_by("unknown user's seed", &err, &server);
    let err = refused(
        "unknown user's seed file",
        ConnectOptions::new().nkey_seed_file(stranger.seed_file()),
        &url,
    )
    .await;
    assert_refused_by("unknown user's seed file", &err, &server);

    // One not even base32, and one of a real seed's length whose checksum is wrong.
    let mut corrupted = user.seed().to_owned();
    let last = corrupted.pop().expect("a seed has characters");
    corrupted.push(if last == 'A' { 'B' } else { 'A' });
    for garbage in ["SUGARBAGE-not-a-seed-0123456789", corrupted.as_str()] {
        let err = refused(
            "garbage seed",
            ConnectOptions::new().nkey_seed(garbage),
            &url,
        )
        .await;
        assert_credentials_error("garbage seed", &err);
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(garbage), "the seed leaks: {shown}");
            assert!(!shown.contains(&garbage[..16]), "the seed leaks: {shown}");
        }
    }

    let missing = user.seed_file().with_file_name("no-such-seed.nk");
    let err = refused(
        "missing seed file",
        ConnectOptions::new().nkey_seed_file(&missing),
        &url,
    )
    .await;
    assert_credentials_error("missing seed file", &err);
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "names the file: {err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_jwt_from_a_creds_file_its_text_or_callbacks_logs_in() {
    let auth = OperatorMode::generate();
    let server = NatsServer::spawn_with_config(&auth.server_conf());
    let url = server.url();

    logs_in(
        "creds file",
        ConnectOptions::new().credentials_file(auth.creds_path()),
        &url,
    )
    .await;
    logs_in(
        "creds text",
        ConnectOptions::new().credentials(auth.creds_text()),
        &url,
    )
    .await;

    let jwt = auth.user_jwt().to_owned();
    let seed = auth.user_seed().to_owned();
    let jwt_calls = Arc::new(AtomicUsize::new(0));
    let signed = Arc::new(AtomicUsize::new(0));
    let options = ConnectOptions::new().jwt_callbacks(
        {
            let jwt_calls = Arc::clone(&jwt_calls);
            move || {
                jwt_calls.fetch_add(1, Ordering::SeqCst);
                Ok(jwt.clone())
            }
        },
        {
            let signed = Arc::clone(&signed);
            move |nonce: &[u8]| {
                signed.fetch_add(1, Ordering::SeqCst);
                assert!(!nonce.is_empty(), "the server's nonce is given to sign");
                nkeys::KeyPair::from_seed(&seed)
                    .and_then(|key| key.sign(nonce))
                    .map_err(|err| err.to_string())
            }
        },
    );
    logs_in("JWT callbacks", options, &url).await;
    assert_eq!(jwt_calls.load(Ordering::SeqCst), 1);
    assert_eq!(signed.load(Ordering::SeqCst), 1);

    // Another user of the account, written to a creds file of its own.
    let other = auth.issue_user("other", &UserOptions::default());
    let path = auth.write_creds(&other, "other.creds");
    logs_in(
        "another user's creds file",
        ConnectOptions::new().credentials_file(path),
        &url,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_or_unusable_user_jwts_are_told_apart() {
    let auth = OperatorMode::generate();
    let server = NatsServer::spawn_with_config(&auth.server_conf());
    let url = server.url();

    let stranger = auth.issue_unknown_account_user("stranger");
    let path = auth.write_creds(&stranger, "stranger.creds");
    let err = refused(
        "unknown account",
        ConnectOptions::new().credentials_file(path),
        &url,
    )
    .await;
    assert_refused_by("unknown account", &err, &server);

    let expired = UserOptions {
        expires: Some(SystemTime::now() - Duration::from_secs(60)),
        ..UserOptions::default()
    };
    let late = auth.issue_user("late", &expired);
    let err = refused(
        "expired user",
        ConnectOptions::new().credentials(late.creds_text()),
        &url,
    )
    .await;
    assert_eq!(
        err.kind(),
        ConnectErrorKind::AuthorizationViolation,
        "expired user: {err}"
    );
    assert!(
        refusal_of(&err).error().is_auth_error(),
        "{:?}",
        refusal_of(&err)
    );
    assert!(err.to_string().contains(&server.host_port()), "{err}");

    // The right JWT signed with another key.
    let jwt = auth.user_jwt().to_owned();
    let err = refused(
        "wrong signature",
        ConnectOptions::new().jwt_callbacks(
            move || Ok(jwt.clone()),
            |nonce: &[u8]| {
                nkeys::KeyPair::new_user()
                    .sign(nonce)
                    .map_err(|err| err.to_string())
            },
        ),
        &url,
    )
    .await;
    assert_refused_by("wrong signature", &err, &server);

    let missing = auth.dir().join("no-such.creds");
    let err = refused(
        "missing creds file",
        ConnectOptions::new().credentials_file(&missing),
        &url,
    )
    .await;
    assert_credentials_error("missing creds file", &err);
    assert!(
        err.to_string().contains(&missing.display().to_string()),
        "names the file: {err}"
    );

    let err = refused(
        "not a creds file",
        ConnectOptions::new().credentials("just some text"),
        &url,
    )
    .await;
    assert_credentials_error("not a creds file", &err);

    let seed = auth.user_seed().to_owned();
    let err = refused(
        "failing JWT callback",
        ConnectOptions::new().jwt_callbacks(
            || Err("vault down".to_owned()),
            move |nonce: &[u8]| {
                nkeys::KeyPair::from_seed(&seed)
                    .and_then(|key| key.sign(nonce))
                    .map_err(|err| err.to_string())
            },
        ),
        &url,
    )
    .await;
    assert_credentials_error("failing JWT callback", &err);
    assert!(err.to_string().contains("vault down"), "{err}");

    let jwt = auth.user_jwt().to_owned();
    let err = refused(
        "failing signature callback",
        ConnectOptions::new().jwt_callbacks(
            move || Ok(jwt.clone()),
            |_: &[u8]| Err("hsm offline".to_owned()),
        ),
        &url,
    )
    .await;
    assert_credentials_error("failing signature callback", &err);
    assert!(err.to_string().contains("hsm offline"), "{err}");
}

/// Asserts that none of `secrets` shows in `text`.
fn assert_hides(what: &str, text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{what} shows {secret:?}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_show_in_debug_output_or_errors() {
    let auth = OperatorMode::generate();
    let nkey = NkeyUser::generate();

    let options = ConnectOptions::new()
        .user_and_password("alice", "hunter2-password")
        .token("tok-3nigma")
        .nkey_seed(nkey.seed());
    assert_hides(
        "options",
        &format!("{options:?}"),
        &["hunter2-password", "tok-3nigma", nkey.seed()],
    );
    let options = ConnectOptions::new().credentials(auth.creds_text());
    assert_hides(
        "creds options",
        &format!("{options:?}"),
        &[auth.user_seed(), auth.user_jwt()],
    );
    let seed = auth.user_seed().to_owned();
    let jwt = auth.user_jwt().to_owned();
    let options = ConnectOptions::new()
        .token_callback(|| "tok-callback-secret".to_owned())
        .jwt_callbacks(
            move || Ok(jwt.clone()),
            move |_: &[u8]| Ok(seed.clone().into_bytes()),
        );
    assert_hides(
        "callback options",
        &format!("{options:?}"),
        &["tok-callback-secret", auth.user_seed(), auth.user_jwt()],
    );

    // A refused password is neither in the error nor in its refusal.
    let server = NatsServer::spawn_with_config(ALICE);
    for (what, options, servers) in [
        (
            "wrong password in the options",
            ConnectOptions::new().user_and_password("alice", "hunter2-password"),
            server.url(),
        ),
        (
            "wrong password in the URL",
            ConnectOptions::new(),
            url_with("alice:hunter2-password", &server),
        ),
    ] {
        let err = refused(what, options, &servers).await;
        assert_refused_by(what, &err, &server);
        assert_hides(what, &err.to_string(), &["hunter2-password"]);
        assert_hides(what, &format!("{err:?}"), &["hunter2-password"]);
        let refusal = refusal_of(&err);
        assert_hides(
            what,
            &format!("{refusal} {refusal:?}"),
            &["hunter2-password"],
        );
    }

    // Addresses show without their credentials, parsed or connected.
    for (url, secret) in [
        ("nats://alice:secret@127.0.0.1:4222", "secret"),
        ("nats://s3cr3t@127.0.0.1:4222", "s3cr3t"),
        (
            "nats://alice:p%40ss%3Aw%2Frd@127.0.0.1:4222",
            ALICE_SPECIAL_ENCODED,
        ),
    ] {
        let addr: ServerAddr = url.parse().expect("a valid address");
        assert_eq!(addr.to_string(), "nats://127.0.0.1:4222");
        assert_eq!(format!("{addr:?}"), "ServerAddr(nats://127.0.0.1:4222)");
        assert_hides(url, &format!("{addr} {addr:?}"), &[secret, "p@ss"]);
    }
    let client = connect(
        "URL credentials",
        ConnectOptions::new(),
        &url_with("alice:secret", &server),
    )
    .await;
    let connected = client.connected_url().expect("connected");
    assert_eq!(connected, server.url());
    assert_hides("connected_url", &connected, &["secret"]);
    assert_hides("servers", &client.servers().join(" "), &["secret"]);
    assert_hides("client", &format!("{client:?}"), &["secret"]);
    within("close", client.close()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_every_server_of_the_pool_refuses_fail_the_first_connect() {
    let first = NatsServer::spawn_with_config(ALICE);
    let second = NatsServer::spawn_with_config(ALICE);
    let servers = format!("{},{}", first.url(), second.url());
    let options = ConnectOptions::new()
        .retry_on_initial_connect(false)
        .reconnect_time_wait(Duration::from_millis(100))
        .max_reconnect_attempts(None)
        .user_and_password("alice", "wrong");
    let err = refused("a pool that refuses", options, &servers).await;
    assert_eq!(
        err.kind(),
        ConnectErrorKind::AuthorizationViolation,
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(&first.host_port()) || text.contains(&second.host_port()),
        "names a server of the pool: {text}"
    );
    assert!(text.contains("Authorization Violation"), "{text}");
    // Each server was asked, and refused.
    wait_for_refused_logins(&first, 1).await;
    wait_for_refused_logins(&second, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_does_not_parse_is_refused_without_showing_its_password() {
    for url in [
        "nats://alice:hunter2-password@127.0.0.1:notaport",
        "nats://alice:hunter2-password@127.0.0.1:4222/path",
        "http://alice:hunter2-password@127.0.0.1:4222",
    ] {
        let err = url.parse::<ServerAddr>().expect_err(url);
        assert_eq!(err.kind(), ConnectErrorKind::InvalidAddress, "{url}: {err}");
        assert_hides(url, &err.to_string(), &["hunter2-password"]);
        assert_hides(url, &format!("{err:?}"), &["hunter2-password"]);
        let err = refused(url, ConnectOptions::new(), url).await;
        assert_eq!(err.kind(), ConnectErrorKind::InvalidAddress, "{url}: {err}");
        assert_hides(url, &err.to_string(), &["hunter2-password"]);
    }
}
