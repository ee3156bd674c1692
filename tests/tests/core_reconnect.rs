//! The client survives the loss of its server: it reconnects, subscribes again, and writes
//! what was published during the outage.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nats_core::{ConnectOptions, Event, State};
use nats_tests::NatsServer;

const WAIT: Duration = Duration::from_secs(10);

async fn wait_for_state(client: &nats_core::Client, state: State) {
    tokio::time::timeout(WAIT, async {
        while client.state() != state {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("client never reached {state:?}, still {:?}", client.state()));
}

#[tokio::test]
async fn reconnects_resubscribes_and_delivers_what_was_published_during_the_outage() {
    let mut server = NatsServer::spawn();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let client = ConnectOptions::new()
        .reconnect_time_wait(Duration::from_millis(50))
        .event_callback(move |event| {
            let seen = Arc::clone(&seen);
            async move { seen.lock().expect("events").push(event) }
        })
        .connect(server.url())
        .await
        .expect("connect");
    let mut sub = client.subscribe("outage.>").await.expect("subscribe");
    client.flush().await.expect("flush");

    server.stop();
    wait_for_state(&client, State::Reconnecting).await;
    for i in 0..100 {
        client
            .publish(format!("outage.{i}"), format!("{i}"))
            .await
            .expect("publish while reconnecting is buffered");
    }
    server.start_again();
    wait_for_state(&client, State::Connected).await;
    client.flush().await.expect("flush after reconnect");

    for i in 0..100 {
        let msg = tokio::time::timeout(WAIT, sub.next())
            .await
            .expect("message in time")
            .expect("subscription alive");
        assert_eq!(msg.subject, format!("outage.{i}").as_str());
    }
    assert_eq!(client.statistics().reconnects, 1);
    let events = events.lock().expect("events").clone();
    assert!(events.contains(&Event::Disconnected), "{events:?}");
    assert!(events.contains(&Event::Reconnected), "{events:?}");
}

#[tokio::test]
async fn requests_work_after_a_reconnect() {
    let mut server = NatsServer::spawn();
    let client = ConnectOptions::new()
        .reconnect_time_wait(Duration::from_millis(50))
        .connect(server.url())
        .await
        .expect("connect");
    let mut echo = client.subscribe("echo").await.expect("subscribe");
    let responder = client.clone();
    tokio::spawn(async move {
        while let Some(msg) = echo.next().await {
            if let Some(reply) = &msg.reply {
                let _ = responder.publish(reply, msg.payload.clone()).await;
            }
        }
    });
    let reply = client.request("echo", "one").await.expect("first request");
    assert_eq!(&reply.payload[..], b"one");

    server.restart();
    wait_for_state(&client, State::Connected).await;
    client.flush().await.expect("flush");
    let reply = client
        .request("echo", "two")
        .await
        .expect("request after reconnect");
    assert_eq!(&reply.payload[..], b"two");
}

#[tokio::test]
async fn without_reconnect_the_client_closes_on_server_loss() {
    let mut server = NatsServer::spawn();
    let client = ConnectOptions::new()
        .allow_reconnect(false)
        .connect(server.url())
        .await
        .expect("connect");
    let mut sub = client.subscribe("x").await.expect("subscribe");
    server.stop();
    wait_for_state(&client, State::Closed).await;
    let ended = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("stream ends");
    assert!(ended.is_none());
    assert!(client.last_error().is_some());
}
