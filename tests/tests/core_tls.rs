//! TLS against real servers: server-only and mutual TLS, the `tls://` scheme and the upgrade
//! a server's `INFO` asks for, host names, the errors of a wrong CA, a wrong name or a missing
//! client certificate, TLS first, a user-supplied rustls configuration, and TLS kept across a
//! reconnect and a cluster failover.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{next_msg, payload_string, recording_events, wait_for_event};
use nats_core::rustls::pki_types::pem::PemObject;
use nats_core::rustls::pki_types::CertificateDer;
use nats_core::rustls::{ClientConfig, RootCertStore};
use nats_core::{
    Client, ConnectError, ConnectErrorKind, ConnectOptions, Event, FlushErrorKind, State,
    Subscriber,
};
use nats_tests::{tls_conf, within, NatsCluster, NatsServer, PkiFile, TestPki, TlsMode};

/// How often the polling waits below look again.
const POLL: Duration = Duration::from_millis(10);

/// `tls://127.0.0.1:PORT` of `server`.
fn tls_url(server: &NatsServer) -> String {
    format!("tls://{}", server.host_port())
}

/// A server offering TLS to clients in `mode`.
fn tls_server(pki: &TestPki, mode: TlsMode) -> NatsServer {
    NatsServer::spawn_with_config(&tls_conf(pki, mode))
}

/// A TLS-only server presenting the certificate valid for `wrong.example` alone.
fn wrong_name_server(pki: &TestPki) -> NatsServer {
    let conf = format!(
        "tls {{\n  cert_file: {:?}\n  key_file: {:?}\n}}\n",
        pki.wrong_name_cert().display().to_string(),
        pki.wrong_name_key().display().to_string(),
    );
    NatsServer::spawn_with_config(&conf)
}

/// Options trusting the test CA only.
fn trusting_ca(pki: &TestPki) -> ConnectOptions {
    ConnectOptions::new().tls_ca_file(pki.ca_pem())
}

/// Connects, failing the test if it does not within `nats_tests::WAIT`.
async fn connect(options: ConnectOptions, url: &str) -> Client {
    within(&format!("connect to {url}"), options.connect(url))
        .await
        .unwrap_or_else(|err| panic!("connect to {url}: {err}"))
}

/// The error of a connection attempt that must fail, within `nats_tests::WAIT`.
async fn connect_error(options: ConnectOptions, url: &str) -> ConnectError {
    match within(&format!("failed connect to {url}"), options.connect(url)).await {
        Ok(client) => panic!(
            "connect to {url} succeeded, connected to {:?}",
            client.connected_url()
        ),
        Err(err) => {
            eprintln!(
                "connect to {url} failed as expected: {:?}: {err}",
                err.kind()
            );
            err
        }
    }
}

/// Asserts that `err` is a TLS error whose message names `host_port` and contains `why`.
fn assert_tls_error(err: &ConnectError, host_port: &str, why: &str) {
    let text = err.to_string();
    assert_eq!(err.kind(), ConnectErrorKind::Tls, "{text}");
    assert!(text.contains(host_port), "{text:?} names {host_port}");
    assert!(text.contains(why), "{text:?} says {why:?}");
}

/// Subscribes to `subject`, publishes to it and checks that the message comes back.
async fn round_trip(client: &Client, subject: &str) {
    let mut sub = within("subscribe", client.subscribe(subject))
        .await
        .expect("subscribe");
    within("flush", client.flush()).await.expect("flush");
    within("publish", client.publish(subject, "over tls"))
        .await
        .expect("publish");
    let msg = next_msg(&mut sub).await;
    assert_eq!(msg.subject, subject);
    assert_eq!(payload_string(&msg), "over tls");
}

/// Polls `done` until it holds, failing the test with `what` after `nats_tests::WAIT`.
async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    within(what, async {
        while !done() {
            tokio::time::sleep(POLL).await;
        }
    })
    .await;
}

/// A rustls client configuration trusting exactly the certificates of `ca_pem`.
fn client_config_trusting(ca_pem: &str) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots
            .add(cert.expect("CA certificate PEM"))
            .expect("usable CA certificate");
    }
    assert!(!roots.is_empty(), "no certificate in the CA PEM");
    ClientConfig::builder_with_provider(Arc::new(
        nats_core::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth()
}

#[tokio::test]
async fn server_only_tls_works_with_tls_and_nats_urls() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, TlsMode::ServerOnly);

    let url = tls_url(&server);
    let client = connect(trusting_ca(&pki), &url).await;
    assert!(client.server_info().tls_required);
    assert_eq!(client.connected_url().as_deref(), Some(url.as_str()));
    round_trip(&client, "tls.scheme").await;

    // The server's plaintext INFO says tls_required: the client upgrades.
    let client = connect(trusting_ca(&pki), &server.url()).await;
    assert!(client.server_info().tls_required);
    round_trip(&client, "tls.upgrade").await;

    let client = connect(trusting_ca(&pki).require_tls(true), &server.url()).await;
    assert!(client.server_info().tls_required);
    round_trip(&client, "tls.required").await;
}

#[tokio::test]
async fn optional_tls_server_is_upgraded_when_the_options_ask_for_tls() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, TlsMode::Optional);

    let client = connect(trusting_ca(&pki), &server.url()).await;
    assert!(client.server_info().tls_available);
    round_trip(&client, "optional.tls").await;

    let client = connect(trusting_ca(&pki), &tls_url(&server)).await;
    round_trip(&client, "optional.scheme").await;

    // Without any TLS option the client stays in plaintext, which the server allows.
    let client = connect(ConnectOptions::new(), &server.url()).await;
    round_trip(&client, "optional.plain").await;
}

#[tokio::test]
async fn the_certificate_is_verified_against_the_host_name_of_the_url() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, TlsMode::ServerOnly);
    let url = format!("tls://localhost:{}", server.port());
    let client = connect(trusting_ca(&pki), &url).await;
    assert!(client.server_info().tls_required);
    round_trip(&client, "tls.localhost").await;
}

#[tokio::test]
async fn a_server_signed_by_another_ca_is_refused_as_unknown_issuer() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, TlsMode::ServerOnly);
    for url in [tls_url(&server), server.url()] {
        let options = ConnectOptions::new().tls_ca_file(pki.other_ca_pem());
        let err = connect_error(options, &url).await;
        assert_tls_error(&err, &server.host_port(), "unknown issuer");
    }
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_unless_tls_hostname_names_it() {
    let pki = TestPki::generate();
    let server = wrong_name_server(&pki);
    let url = tls_url(&server);

    let err = connect_error(trusting_ca(&pki), &url).await;
    assert_tls_error(&err, &server.host_port(), "name mismatch");

    let client = connect(trusting_ca(&pki).tls_hostname(nats_tests::WRONG_NAME), &url).await;
    assert!(client.server_info().tls_required);
    round_trip(&client, "tls.hostname").await;
}

#[tokio::test]
async fn mutual_tls_works_with_a_client_certificate_from_files_or_pem() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, TlsMode::Mutual);
    let url = tls_url(&server);

    let options = trusting_ca(&pki).tls_client_cert_files(pki.client_cert(), pki.client_key());
    let client = connect(options, &url).await;
    assert!(client.server_info().tls_verify);
    round_trip(&client, "mtls.files").await;

    let options = ConnectOptions::new()
        .tls_ca_pem(pki.pem(PkiFile::Ca))
        .tls_client_cert_pem(pki.pem(PkiFile::ClientCert), pki.pem(PkiFile::ClientKey));
    let client = connect(options, &server.url()).await;
    assert!(client.server_info().tls_verify);
    round_trip(&client, "mtls.pem").await;
}

#[tokio::test]
async fn mutual_tls_refuses_a_client_without_a_trusted_certificate() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, TlsMode::Mutual);
    let url = tls_url(&server);
    let without = trusting_ca(&pki).allow_reconnect(false);
    let untrusted = trusting_ca(&pki)
        .allow_reconnect(false)
        .tls_client_cert_files(pki.untrusted_client_cert(), pki.untrusted_client_key());
    for (what, options) in [("no certificate", without), ("untrusted", untrusted)] {
        let err = connect_error(options, &url).await;
        let text = err.to_string();
        // With TLS 1.3 the client's side of the handshake is done before the server checks
        // the certificate: its refusal comes as an alert on the first read after CONNECT.
        assert_eq!(err.kind(), ConnectErrorKind::Tls, "{what}: {text}");
        assert!(
            text.contains("refused the client certificate"),
            "{what}: {text:?} says why"
        );
        assert!(
            text.contains(&server.host_port()),
            "{what}: {text:?} names the server"
        );
    }
}

#[tokio::test]
async fn handshake_first_needs_the_client_to_start_tls() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, TlsMode::HandshakeFirst);

    let client = connect(
        trusting_ca(&pki).tls_handshake_first(true),
        &tls_url(&server),
    )
    .await;
    round_trip(&client, "tls.first").await;

    let client = connect(trusting_ca(&pki).tls_handshake_first(true), &server.url()).await;
    round_trip(&client, "tls.first.nats").await;

    // Without it the client waits for a plaintext INFO that never comes: it gives up at its
    // connect timeout (or when the server's TLS timeout closes the connection first).
    let options = trusting_ca(&pki).connect_timeout(Duration::from_secs(1));
    let err = connect_error(options, &tls_url(&server)).await;
    assert!(
        matches!(
            err.kind(),
            ConnectErrorKind::TimedOut | ConnectErrorKind::Io
        ),
        "{:?}: {err}",
        err.kind()
    );
    assert!(err.to_string().contains(&server.host_port()), "{err}");
}

#[tokio::test]
async fn handshake_first_with_fallback_takes_both_kinds_of_clients() {
    let pki = TestPki::generate();
    let mode = TlsMode::HandshakeFirstFallback(Duration::from_millis(100));
    let server = tls_server(&pki, mode);

    let client = connect(
        trusting_ca(&pki).tls_handshake_first(true),
        &tls_url(&server),
    )
    .await;
    round_trip(&client, "fallback.first").await;

    let client = connect(trusting_ca(&pki), &tls_url(&server)).await;
    assert!(client.server_info().tls_required);
    round_trip(&client, "fallback.upgrade").await;
}

#[tokio::test]
async fn a_user_supplied_client_config_is_used_as_it_is() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, TlsMode::ServerOnly);
    let url = tls_url(&server);

    let config = client_config_trusting(pki.pem(PkiFile::Ca));
    let client = connect(ConnectOptions::new().tls_client_config(config), &url).await;
    assert!(client.server_info().tls_required);
    round_trip(&client, "tls.custom").await;

    // A configuration trusting another CA fails, even with the right CA in the options:
    // nothing is added to a configuration the user supplies.
    let config = client_config_trusting(pki.pem(PkiFile::OtherCa));
    let options = ConnectOptions::new()
        .tls_ca_file(pki.ca_pem())
        .tls_client_config(config);
    let err = connect_error(options, &url).await;
    assert_tls_error(&err, &server.host_port(), "unknown issuer");

    // The same holds when the upgrade is asked for by the server's INFO.
    let config = client_config_trusting(pki.pem(PkiFile::OtherCa));
    let options = trusting_ca(&pki).tls_client_config(config);
    let err = connect_error(options, &server.url()).await;
    assert_tls_error(&err, &server.host_port(), "unknown issuer");
}

#[tokio::test]
async fn a_tls_server_reached_without_a_ca_is_checked_against_the_system_roots() {
    let pki = TestPki::generate();
    let server = tls_server(&pki, TlsMode::ServerOnly);
    let options = ConnectOptions::new().require_tls(false);
    let err = connect_error(options, &server.url()).await;
    assert_tls_error(&err, &server.host_port(), "unknown issuer");
}

#[tokio::test]
async fn tls_is_refused_by_a_server_that_does_not_offer_it() {
    let server = NatsServer::spawn();

    let options = ConnectOptions::new().require_tls(true);
    let err = connect_error(options, &server.url()).await;
    assert_tls_error(&err, &server.host_port(), "does not offer TLS");

    let err = connect_error(ConnectOptions::new(), &tls_url(&server)).await;
    assert_tls_error(&err, &server.host_port(), "does not offer TLS");
}

#[tokio::test]
async fn a_reconnect_keeps_tls_and_the_subscriptions() {
    let pki = TestPki::generate();
    let mut server = tls_server(&pki, TlsMode::ServerOnly);
    let url = tls_url(&server);
    let (options, mut events) = recording_events();
    let options = options
        .tls_ca_file(pki.ca_pem())
        .reconnect_time_wait(Duration::from_millis(50))
        .reconnect_jitter(Duration::ZERO, Duration::ZERO);
    let client = connect(options, &url).await;
    let mut sub = within("subscribe", client.subscribe("tls.reconnect"))
        .await
        .expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    server.restart();
    let (_, before) = wait_for_event(&mut events, |event| *event == Event::Reconnected).await;
    assert!(before.contains(&Event::Disconnected), "{before:?}");
    wait_until("client connected again", || {
        client.state() == State::Connected
    })
    .await;
    assert_eq!(client.connected_url().as_deref(), Some(url.as_str()));
    assert!(client.server_info().tls_required);
    assert_eq!(client.statistics().reconnects, 1);

    // The first flush may report that something written to the old server was lost.
    if let Err(err) = within("flush", client.flush()).await {
        assert_eq!(err.kind(), FlushErrorKind::ConnectionLost, "{err}");
    }
    within("flush", client.flush())
        .await
        .expect("flush after reconnect");
    within("publish", client.publish("tls.reconnect", "after"))
        .await
        .expect("publish");
    let msg = next_msg(&mut sub).await;
    assert_eq!(payload_string(&msg), "after");
}

/// Publishes `probe-N` on `subject` through `publisher` until one reaches `sub` (the routes
/// may still be learning the subscription), then `payload`, and waits for `payload`.
async fn deliver_through_cluster(
    publisher: &Client,
    sub: &mut Subscriber,
    subject: &str,
    payload: &str,
) {
    within(&format!("a probe on {subject}"), async {
        for n in 1.. {
            publisher
                .publish(subject, format!("probe-{n}"))
                .await
                .expect("publish a probe");
            publisher.flush().await.expect("flush a probe");
            let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
            while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, sub.next()).await {
                if payload_string(&msg).starts_with("probe-") {
                    return;
                }
            }
        }
    })
    .await;
    publisher
        .publish(subject, payload.to_owned())
        .await
        .expect("publish");
    within("flush", publisher.flush()).await.expect("flush");
    within(&format!("{payload} on {subject}"), async {
        loop {
            let msg = sub.next().await.expect("subscription alive");
            if payload_string(&msg) == payload {
                return;
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_tls_cluster_is_discovered_as_tls_and_failed_over_to_over_tls() {
    let pki = TestPki::generate();
    let mut cluster = NatsCluster::spawn_with_tls(3, &pki, Some(TlsMode::ServerOnly), true);
    let seed = tls_url(cluster.node(0));
    let options = trusting_ca(&pki)
        .dont_randomize(true)
        .reconnect_time_wait(Duration::from_millis(50))
        .reconnect_jitter(Duration::ZERO, Duration::ZERO);
    let client = connect(options, &seed).await;
    wait_until("the two other nodes discovered", || {
        client.discovered_servers().len() == 2
    })
    .await;
    let discovered = client.discovered_servers();
    assert!(
        discovered.iter().all(|url| url.starts_with("tls://")),
        "{discovered:?}"
    );
    let mut ports: Vec<u16> = discovered
        .iter()
        .map(|url| {
            let index = cluster.index_of_url(url).expect("a node of the cluster");
            cluster.node(index).port()
        })
        .collect();
    ports.sort_unstable();
    let mut others = vec![cluster.node(1).port(), cluster.node(2).port()];
    others.sort_unstable();
    assert_eq!(ports, others, "{discovered:?}");

    let mut before_kill = within("subscribe", client.subscribe("cluster.to.failed.over"))
        .await
        .expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    cluster.kill(0);
    wait_until("the client on another node", || {
        client.state() == State::Connected
            && client
                .connected_url()
                .and_then(|url| cluster.index_of_url(&url))
                .is_some_and(|index| index != 0)
    })
    .await;
    let now = client.connected_url().expect("connected");
    assert!(now.starts_with("tls://"), "{now}");
    assert!(client.server_info().tls_required);
    let node = cluster.index_of_url(&now).expect("a node of the cluster");
    let other = if node == 1 { 2 } else { 1 };

    let peer = connect(trusting_ca(&pki), &tls_url(cluster.node(other))).await;
    let mut on_peer = within("subscribe", peer.subscribe("cluster.to.peer"))
        .await
        .expect("subscribe");
    within("flush", peer.flush()).await.expect("flush");
    deliver_through_cluster(&client, &mut on_peer, "cluster.to.peer", "from-failed-over").await;
    deliver_through_cluster(
        &peer,
        &mut before_kill,
        "cluster.to.failed.over",
        "to-failed-over",
    )
    .await;
    assert!(client.statistics().reconnects >= 1);
}
