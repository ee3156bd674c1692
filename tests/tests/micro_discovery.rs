//! The discovery client: PING, INFO and STATS for every service, one name, or one instance,
//! typed; and tolerant of what other implementations send.

mod micro_support;

use std::time::{Duration, UNIX_EPOCH};

use micro_support::{connect, discovery, within};
use nats_core::{Client, HeaderMap, Subscriber};
use nats_micro::{handler_fn, EndpointConfig, Service};
use nats_tests::NatsServer;

async fn start(client: &Client, name: &str) -> Service {
    Service::builder(name, "2.0.0")
        .description(format!("the {name} service"))
        .metadata("name", name)
        .endpoint(
            EndpointConfig::new("hello").subject(format!("{name}.hello")),
            handler_fn(|| async { "hi" }),
        )
        .start(client)
        .await
        .expect("start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovers_all_services_one_name_and_one_instance() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let alpha1 = start(&client, "alpha").await;
    let alpha2 = start(&client, "alpha").await;
    let beta = start(&client, "beta").await;
    within("request", client.request("alpha.hello", ""))
        .await
        .expect("request");
    let disco = discovery(&client);

    let mut ids: Vec<String> = within("ping", disco.ping())
        .await
        .expect("ping")
        .into_iter()
        .map(|p| p.id)
        .collect();
    ids.sort();
    let mut expected = vec![
        alpha1.id().to_owned(),
        alpha2.id().to_owned(),
        beta.id().to_owned(),
    ];
    expected.sort();
    assert_eq!(ids, expected);

    let alphas = within("ping", disco.ping_service("alpha"))
        .await
        .expect("ping");
    assert_eq!(alphas.len(), 2);
    assert!(alphas
        .iter()
        .all(|p| p.name == "alpha" && p.version == "2.0.0"));
    assert!(alphas
        .iter()
        .all(|p| p.kind == nats_micro::schema::PING_RESPONSE_TYPE));

    let one = within("ping", disco.ping_instance("beta", beta.id()))
        .await
        .expect("ping")
        .expect("the instance answers");
    assert_eq!(one.metadata["name"], "beta");
    let started = tokio::time::Instant::now();
    let none = within("ping", disco.ping_instance("beta", "NOSUCHID"))
        .await
        .expect("ping");
    assert!(none.is_none());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "no responders ends at once"
    );

    let infos = within("info", disco.info_service("alpha"))
        .await
        .expect("info");
    assert_eq!(infos.len(), 2);
    assert!(infos.iter().all(|i| i.description == "the alpha service"));
    assert_eq!(infos[0].endpoints[0].subject, "alpha.hello");
    let info = within("info", disco.info_instance("alpha", alpha1.id()))
        .await
        .expect("info")
        .expect("instance");
    assert_eq!(info.id, alpha1.id());
    assert_eq!(within("info", disco.info()).await.expect("info").len(), 3);

    let stats = within("stats", disco.stats_service("alpha"))
        .await
        .expect("stats");
    let requests: u64 = stats.iter().map(|s| s.endpoints[0].num_requests).sum();
    assert_eq!(requests, 1);
    assert!(stats.iter().all(|s| s.started > UNIX_EPOCH));
    assert_eq!(
        within("stats", disco.stats()).await.expect("stats").len(),
        3
    );
    let stat = within("stats", disco.stats_instance("beta", beta.id()))
        .await
        .expect("stats")
        .expect("instance");
    assert_eq!(stat.endpoints[0].num_requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_listening_is_an_empty_list() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let disco = discovery(&client);
    assert!(within("ping", disco.ping()).await.expect("ping").is_empty());
    assert!(within("stats", disco.stats_service("x"))
        .await
        .expect("stats")
        .is_empty());
}

/// Answers every request on `subscriber` with each of `replies` (a `None` body is an error
/// reply), as a foreign implementation would.
fn answer_with(client: &Client, mut subscriber: Subscriber, replies: Vec<Option<&'static str>>) {
    let client = client.clone();
    tokio::spawn(async move {
        while let Some(request) = subscriber.next().await {
            let Some(to) = request.reply else { continue };
            for reply in &replies {
                let sent = match reply {
                    Some(body) => client.publish(&to, *body).await,
                    None => {
                        let mut headers = HeaderMap::new();
                        headers.insert("Nats-Service-Error", "unavailable");
                        headers.insert("Nats-Service-Error-Code", "503");
                        client.publish_with_headers(&to, headers, "").await
                    }
                };
                sent.expect("reply");
            }
        }
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_of_other_implementations_parse_and_garbage_is_skipped() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let foreign = connect(&server.url()).await;
    let py_info = r#"{"type": "io.nats.micro.v1.info_response", "name": "py-echo", "id": "PY",
        "version": "1.2.3", "description": null, "metadata": {"lang": "python"},
        "endpoints": [{"name": "echo", "subject": "py.echo", "queue_group": "q", "metadata": null}]}"#;
    let js_info = r#"{"name":"js-echo","id":"JS","version":"1.0.0","description":"",
        "type":"io.nats.micro.v1.info_response",
        "endpoints":[{"name":"echo","subject":"js.echo","queue_group":"q"}]}"#;
    let rs_info = r#"{"name":"rs-echo","id":"RS","version":"0.1.0","description":"",
        "metadata":{},"type":"io.nats.micro.v1.info_response",
        "endpoints":[{"name":"echo","subject":"rs.echo","queue_group":"q","metadata":{}}]}"#;
    let info_sub = foreign.subscribe("$SRV.INFO").await.expect("subscribe");
    answer_with(
        &foreign,
        info_sub,
        vec![
            Some(py_info),
            Some(js_info),
            Some(rs_info),
            Some("not json"),
            None,
        ],
    );
    let py_stats = r#"{"type": "io.nats.micro.v1.stats_response", "name": "py-echo", "id": "PY",
        "version": "1.2.3", "started": "2024-05-01T10:00:00.123Z", "metadata": {"lang": "python"},
        "endpoints": [{"name": "echo", "subject": "py.echo", "queue_group": "q",
        "num_requests": 3, "num_errors": 1, "last_error": "422:bad thing",
        "processing_time": 3000, "average_processing_time": 1000, "data": null}]}"#;
    let js_stats = r#"{"name":"js-echo","id":"JS","version":"1.0.0",
        "type":"io.nats.micro.v1.stats_response","started":"2024-05-01T10:00:00.000Z",
        "endpoints":[{"name":"echo","subject":"js.echo","queue_group":"q","num_requests":2,
        "num_errors":0,"processing_time":2000000.0,"average_processing_time":1000000}]}"#;
    let stats_sub = foreign.subscribe("$SRV.STATS").await.expect("subscribe");
    answer_with(
        &foreign,
        stats_sub,
        vec![Some(py_stats), Some(js_stats), Some("{}")],
    );
    foreign.flush().await.expect("flush");

    let disco = discovery(&client);
    let infos = within("info", disco.info()).await.expect("info");
    let names: Vec<&str> = infos.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["py-echo", "js-echo", "rs-echo"]);
    assert_eq!(infos[0].description, "");
    assert_eq!(infos[0].endpoints[0].metadata, None);
    assert!(infos[1].metadata.is_empty());
    assert_eq!(infos[2].endpoints[0].metadata, Some(Default::default()));

    let stats = within("stats", disco.stats()).await.expect("stats");
    assert_eq!(stats.len(), 2);
    assert_eq!(stats[0].endpoints[0].last_error, "422:bad thing");
    assert_eq!(stats[1].endpoints[0].last_error, "");
    assert_eq!(
        stats[1].endpoints[0].processing_time,
        Duration::from_millis(2)
    );
}
