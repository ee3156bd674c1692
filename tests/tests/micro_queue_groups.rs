//! Load balancing and queue groups: instances of one service share requests through the queue
//! group; the queue group comes from the endpoint, then its group, then the service; a disabled
//! queue group delivers every request to every instance.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, discovery, total_requests, within, WAIT};
use nats_core::Client;
use nats_micro::{handler_fn, EndpointConfig, GroupConfig, QueueGroup, Service};
use nats_tests::NatsServer;
use tokio::time::Instant;

/// Starts an instance of `name` on its own connection, as a separate process would.
async fn instance(url: &str, name: &str, queue_group: QueueGroup) -> (Client, Service) {
    let client = connect(url).await;
    let service = Service::builder(name, "1.0.0")
        .queue_group(queue_group)
        .endpoint(
            EndpointConfig::new("work").subject(format!("{name}.work")),
            handler_fn(|| async { "done" }),
        )
        .start(&client)
        .await
        .expect("start");
    (client, service)
}

/// Polls until every instance's own STATS show `expected(service)` requests.
async fn wait_for_counts(services: &[Service], expected: impl Fn(u64) -> bool) -> Vec<u64> {
    let deadline = Instant::now() + WAIT;
    loop {
        let counts: Vec<u64> = services
            .iter()
            .map(|s| total_requests(&[s.stats()]))
            .collect();
        if expected(counts.iter().sum()) || Instant::now() > deadline {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_300_requests() {
    let server = NatsServer::spawn();
    let url = server.url();
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(instance(&url, "balanced", QueueGroup::Inherit).await);
    }
    let caller = connect(&url).await;
    for i in 0..300 {
        let reply = within("request", caller.request("balanced.work", i.to_string()))
            .await
            .expect("request");
        assert_eq!(reply.payload, "done");
    }

    let stats = within("stats", discovery(&caller).stats_service("balanced"))
        .await
        .expect("stats");
    assert_eq!(stats.len(), 3, "every instance answers STATS");
    for instance_stats in &stats {
        let endpoint = &instance_stats.endpoints[0];
        assert_eq!(endpoint.queue_group, "q");
        assert!(
            endpoint.num_requests > 0,
            "instance {} got none of the requests",
            instance_stats.id
        );
    }
    assert_eq!(total_requests(&stats), 300);
}

/// Subscribes a plain queue member next to the service; if the service subscribed in the same
/// queue group, the two split the messages; otherwise both would get all of them.
async fn assert_service_joins(client: &Client, service: &Service, subject: &str, queue: &str) {
    let info = service.info();
    let endpoint = info
        .endpoints
        .iter()
        .find(|e| e.subject == subject)
        .expect("endpoint listed");
    assert_eq!(endpoint.queue_group, queue, "INFO of {subject}");

    let mut member = client
        .queue_subscribe(subject, queue.to_owned())
        .await
        .expect("queue subscribe");
    client.flush().await.expect("flush");
    let publisher = connect(&client.connected_url().expect("connected")).await;
    for i in 0..200 {
        publisher
            .publish(subject, i.to_string())
            .await
            .expect("publish");
    }
    publisher.flush().await.expect("flush");
    let mut received_by_member = 0u64;
    while let Ok(Some(_)) = tokio::time::timeout(Duration::from_millis(200), member.next()).await {
        received_by_member += 1;
    }
    let served = |service: &Service| {
        service
            .stats()
            .endpoints
            .iter()
            .find(|e| e.subject == subject)
            .map(|e| e.num_requests)
            .unwrap_or_default()
    };
    let deadline = Instant::now() + WAIT;
    while served(service) + received_by_member < 200 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let by_service = served(service);
    assert_eq!(
        by_service + received_by_member,
        200,
        "{subject}: split, not duplicated"
    );
    assert!(
        by_service > 0 && received_by_member > 0,
        "{subject}: both members served"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_groups_come_from_endpoint_then_group_then_service() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = Service::builder("inherit", "1.0.0")
        .queue_group("svc-q")
        .start(&client)
        .await
        .expect("start");
    let ok = || handler_fn(|| async {});
    service
        .add_endpoint("from_service", ok())
        .await
        .expect("add");
    let group = service.add_group(GroupConfig::new("grp").queue_group("grp-q"));
    group.add_endpoint("from_group", ok()).await.expect("add");
    group
        .add_endpoint(EndpointConfig::new("own").queue_group("ep-q"), ok())
        .await
        .expect("add");
    let inheriting = group.add_group("inner");
    inheriting.add_endpoint("nested", ok()).await.expect("add");
    let empty = service.add_group(GroupConfig::new("empty").queue_group(""));
    empty.add_endpoint("blank", ok()).await.expect("add");

    assert_service_joins(&client, &service, "from_service", "svc-q").await;
    assert_service_joins(&client, &service, "grp.from_group", "grp-q").await;
    assert_service_joins(&client, &service, "grp.own", "ep-q").await;
    assert_service_joins(&client, &service, "grp.inner.nested", "grp-q").await;
    assert_service_joins(&client, &service, "empty.blank", "svc-q").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_queue_group_delivers_to_every_instance() {
    let server = NatsServer::spawn();
    let url = server.url();
    let mut services = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let (client, service) = instance(&url, "everyone", QueueGroup::Disabled).await;
        clients.push(client);
        services.push(service);
    }
    let caller = connect(&url).await;
    for i in 0..50 {
        within("request", caller.request("everyone.work", i.to_string()))
            .await
            .expect("request");
    }
    let counts = wait_for_counts(&services, |total| total >= 150).await;
    assert_eq!(counts, [50, 50, 50], "every instance got every request");
    for service in &services {
        assert_eq!(service.info().endpoints[0].queue_group, "");
        assert_eq!(service.stats().endpoints[0].queue_group, "");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_of_a_disabled_service_may_name_their_own_queue_group() {
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let service = Service::builder("mixed", "1.0.0")
        .disable_queue_group()
        .start(&client)
        .await
        .expect("start");
    let ok = || handler_fn(|| async {});
    service.add_endpoint("off", ok()).await.expect("add");
    let group = service.add_group("grp");
    group.add_endpoint("still_off", ok()).await.expect("add");
    group
        .add_endpoint(EndpointConfig::new("named").queue_group("mine"), ok())
        .await
        .expect("add");
    let queues: Vec<String> = service
        .info()
        .endpoints
        .into_iter()
        .map(|e| e.queue_group)
        .collect();
    assert_eq!(queues, ["", "", "mine"]);
    assert_service_joins(&client, &service, "grp.named", "mine").await;
}
