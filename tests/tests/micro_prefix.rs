//! The control prefix can be overridden (ADR-32): a service started with another `api_prefix`
//! answers `<prefix>.PING` and friends, not `$SRV`; discovery with the same prefix finds it;
//! an invalid prefix is refused before anything is subscribed.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, raw_replies, raw_reply, within};
use nats_core::{Client, RequestErrorKind};
use nats_micro::{
    handler_fn, ConfigErrorKind, Discovery, EndpointConfig, Service, ServiceVerb, StartErrorKind,
    DEFAULT_PREFIX,
};
use nats_tests::NatsServer;

const ALT: &str = "$ALT";

async fn start(client: &Client, name: &str, prefix: &str) -> Service {
    Service::builder(name, "1.0.0")
        .api_prefix(prefix)
        .endpoint(
            EndpointConfig::new("hello").subject(format!("{name}.hello")),
            handler_fn(|| async { "hi" }),
        )
        .start(client)
        .await
        .expect("start")
}

/// Asserts that a request to `subject` finds nobody listening.
async fn assert_no_responders(client: &Client, subject: &str) {
    let error = within(subject, client.request(subject, ""))
        .await
        .expect_err("nobody should answer");
    assert_eq!(
        error.kind(),
        RequestErrorKind::NoResponders,
        "{subject}: {error}"
    );
}

#[test]
fn verbs_spell_as_on_the_wire() {
    assert_eq!(ServiceVerb::Ping.as_str(), "PING");
    assert_eq!(ServiceVerb::Info.as_str(), "INFO");
    assert_eq!(ServiceVerb::Stats.as_str(), "STATS");
    assert_eq!(
        ServiceVerb::ALL,
        [ServiceVerb::Ping, ServiceVerb::Info, ServiceVerb::Stats]
    );
    assert_eq!(DEFAULT_PREFIX, "$SRV");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_answers_under_its_prefix_only() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = start(&client, "alt", ALT).await;
    let id = service.id().to_owned();
    assert_eq!(service.config().api_prefix, ALT);

    let pings = raw_replies(&client, "$ALT.PING").await;
    assert_eq!(pings.len(), 1, "{pings:?}");
    assert_eq!(pings[0]["id"], id.as_str());
    assert_eq!(pings[0]["type"], "io.nats.micro.v1.ping_response");

    let info = raw_reply(&client, "$ALT.INFO.alt").await;
    assert_eq!(info["name"], "alt");
    assert_eq!(info["id"], id.as_str());
    assert_eq!(info["endpoints"][0]["subject"], "alt.hello");

    let stats = raw_reply(&client, &format!("$ALT.STATS.alt.{id}")).await;
    assert_eq!(stats["type"], "io.nats.micro.v1.stats_response");
    assert_eq!(stats["id"], id.as_str());

    // Nothing under the default prefix.
    for verb in ServiceVerb::ALL {
        let verb = verb.as_str();
        assert_no_responders(&client, &format!("$SRV.{verb}")).await;
        assert_no_responders(&client, &format!("$SRV.{verb}.alt")).await;
        assert_no_responders(&client, &format!("$SRV.{verb}.alt.{id}")).await;
    }
    // Its endpoints are unaffected.
    let reply = within("hello", client.request("alt.hello", ""))
        .await
        .expect("hello");
    assert_eq!(&reply.payload[..], b"hi");
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_with_the_same_prefix_finds_it() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let alt = start(&client, "alt", ALT).await;
    let plain = start(&client, "plain", DEFAULT_PREFIX).await;

    let quick = |d: Discovery| {
        d.timeout(Duration::from_secs(3))
            .stall(Duration::from_millis(300))
    };
    let disco = quick(Discovery::with_prefix(&client, ALT));
    assert_eq!(disco.api_prefix(), ALT);

    let pings = within("ping", disco.ping()).await.expect("ping");
    assert_eq!(pings.len(), 1, "{pings:?}");
    assert_eq!(pings[0].id, alt.id());
    let infos = within("info", disco.info_service("alt"))
        .await
        .expect("info");
    assert_eq!(infos.len(), 1);
    assert_eq!(infos[0].endpoints[0].subject, "alt.hello");
    let stats = within("stats", disco.stats_instance("alt", alt.id()))
        .await
        .expect("stats")
        .expect("the instance");
    assert_eq!(stats.id, alt.id());
    assert!(within("other", disco.ping_service("plain"))
        .await
        .expect("ping plain")
        .is_empty());

    // The builder form, and the default prefix still sees only the default service.
    let built = quick(Discovery::new(&client).prefix(ALT));
    let pings = within("ping", built.ping()).await.expect("ping");
    assert_eq!(pings.len(), 1);
    let default = quick(Discovery::new(&client));
    assert_eq!(default.api_prefix(), DEFAULT_PREFIX);
    let pings = within("ping", default.ping()).await.expect("ping");
    assert_eq!(pings.len(), 1, "{pings:?}");
    assert_eq!(pings[0].id, plain.id());

    alt.stop().await;
    plain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_prefix_is_refused_at_start() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    for bad in ["a b", "a.*", "", "a.>", "a..b"] {
        let error = Service::builder("bad", "1.0.0")
            .api_prefix(bad)
            .endpoint(
                EndpointConfig::new("hello").subject("bad.hello"),
                handler_fn(|| async { "hi" }),
            )
            .start(&client)
            .await
            .expect_err("an invalid prefix");
        assert_eq!(error.kind(), StartErrorKind::InvalidConfig, "{bad:?}");
        let config_error = error.config_error().expect("a config error");
        assert_eq!(config_error.kind(), ConfigErrorKind::ApiPrefix, "{bad:?}");
        assert_eq!(config_error.field(), "api_prefix");
        assert_eq!(config_error.value(), bad);
        assert!(error.to_string().contains("api_prefix"), "{error}");
    }
    // Nothing was subscribed.
    assert_no_responders(&client, "bad.hello").await;
    assert_no_responders(&client, "$SRV.PING").await;
}
