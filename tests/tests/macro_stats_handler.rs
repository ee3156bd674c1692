//! `#[stats_handler]` in a `#[service]` impl block: its value is each endpoint's `data` in
//! STATS, and the generated `serve` starts the service with it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use nats_micro::schema::EndpointStats;
use nats_micro::Discovery;
use nats_tests::NatsServer;
use serde_json::{json, Value};

#[derive(Default)]
struct Counter {
    calls: AtomicU64,
}

#[nats_micro::service(name = "counter", version = "1.0.0")]
impl Counter {
    #[endpoint("counter.hit")]
    async fn hit(&self) -> String {
        (self.calls.fetch_add(1, Ordering::Relaxed) + 1).to_string()
    }

    #[stats_handler]
    fn stats(&self, endpoint: &EndpointStats) -> Value {
        json!({ "endpoint": endpoint.name, "calls": self.calls.load(Ordering::Relaxed) })
    }
}

#[tokio::test]
async fn the_stats_handler_fills_data_in_stats() {
    let server = NatsServer::spawn();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let service = Counter::default().serve(&client).await.expect("start");
    let counter = CounterClient::new(&client);
    for expected in ["1", "2", "3"] {
        assert_eq!(counter.hit().await.expect("hit"), expected);
    }
    let stats = Discovery::new(&client)
        .timeout(Duration::from_secs(5))
        .stats_instance("counter", service.id())
        .await
        .expect("stats")
        .expect("this instance answers");
    let data = stats.endpoints[0].data.clone();
    assert_eq!(data, Some(json!({ "endpoint": "hit", "calls": 3 })));
    service.stop().await;
}
