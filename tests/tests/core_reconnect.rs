//! The client survives the loss of its server: it reconnects, subscribes again, and writes
//! what was published during the outage.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nats_core::{ConnectOptions, Event, FlushErrorKind, PublishErrorKind, State};
use nats_tests::{within, NatsServer, WAIT};

async fn wait_for_state(client: &nats_core::Client, state: State) {
    tokio::time::timeout(WAIT, async {
        while client.state() != state {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("client never reached {state:?}, still {:?}", client.state()));
}

/// Subscribes to `outage.>`, makes sure the server has the subscription, then stops the
/// server and waits until the client knows.
async fn subscribe_then_lose_the_server(
    client: &nats_core::Client,
    server: &mut NatsServer,
) -> nats_core::Subscriber {
    let sub = client.subscribe("outage.>").await.expect("subscribe");
    client.flush().await.expect("flush");
    server.stop();
    wait_for_state(client, State::Reconnecting).await;
    sub
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
    let mut sub = subscribe_then_lose_the_server(&client, &mut server).await;
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
    // The echo's reply went to the old server after its last PONG: the first flush may say
    // that it could have been lost. The next one confirms the new connection.
    if let Err(err) = client.flush().await {
        assert_eq!(err.kind(), FlushErrorKind::ConnectionLost, "{err}");
    }
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

/// Each frame the publisher below writes: `PUB outage.NNN 100\r\n`, 100 bytes, `\r\n`.
const FRAME: usize = 20 + 100 + 2;

/// Most messages the publisher below sends: its subjects have three digits.
const MAX_COUNT: usize = 1000;

/// Publishes `count` messages of 100 bytes on `outage.NNN`, counting each one accepted.
fn spawn_publisher(
    client: &nats_core::Client,
    count: usize,
    accepted: &Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<Result<(), nats_core::PublishError>> {
    let (client, accepted) = (client.clone(), Arc::clone(accepted));
    assert!(count <= MAX_COUNT, "subjects have three digits");
    tokio::spawn(async move {
        for i in 0..count {
            client
                .publish(format!("outage.{i:03}"), vec![b'x'; 100])
                .await?;
            accepted.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    })
}

#[tokio::test]
async fn with_reconnect_buffer_wait_a_full_buffer_makes_publishers_wait_and_loses_nothing() {
    const PENDING_SIZE: usize = 1024;
    const COUNT: usize = 200;
    let mut server = NatsServer::spawn();
    let client = ConnectOptions::new()
        .reconnect_time_wait(Duration::from_millis(50))
        .max_reconnect_attempts(None)
        .pending_size(PENDING_SIZE)
        .reconnect_buffer_wait(true)
        .connect(server.url())
        .await
        .expect("connect");
    let mut sub = subscribe_then_lose_the_server(&client, &mut server).await;
    let accepted = Arc::new(AtomicUsize::new(0));
    let publisher = spawn_publisher(&client, COUNT, &accepted);
    // The buffer takes messages while it holds less than `PENDING_SIZE` bytes, so the one
    // that crosses the limit is the last it takes.
    let most = PENDING_SIZE.div_ceil(FRAME);
    within("the buffer to fill", async {
        while accepted.load(Ordering::SeqCst) < most {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        most,
        "a {PENDING_SIZE}-byte buffer with no server takes {most} messages of {FRAME} bytes"
    );
    assert!(!publisher.is_finished(), "the publisher must wait for room");
    assert_eq!(client.pending_data_size(), most * FRAME);

    server.start_again();
    within("the publisher", publisher)
        .await
        .expect("join")
        .expect("every publish succeeds once reconnected");
    client.flush().await.expect("flush after reconnect");
    for i in 0..COUNT {
        let msg = within("a message", sub.next())
            .await
            .expect("subscription alive");
        assert_eq!(
            msg.subject,
            format!("outage.{i:03}").as_str(),
            "in order, none lost"
        );
    }
}

#[tokio::test]
async fn closing_releases_a_publisher_waiting_for_room() {
    let mut server = NatsServer::spawn();
    let client = ConnectOptions::new()
        .reconnect_time_wait(Duration::from_millis(50))
        .max_reconnect_attempts(None)
        .pending_size(256)
        .reconnect_buffer_wait(true)
        .connect(server.url())
        .await
        .expect("connect");
    server.stop();
    wait_for_state(&client, State::Reconnecting).await;
    let accepted = Arc::new(AtomicUsize::new(0));
    let publisher = spawn_publisher(&client, 100, &accepted);
    within("the buffer to fill", async {
        while accepted.load(Ordering::SeqCst) < 256usize.div_ceil(FRAME) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!publisher.is_finished(), "the publisher waits for room");
    client.close().await;
    let result = within("the waiting publisher", publisher)
        .await
        .expect("join");
    let error = result.expect_err("a publish waiting when the client closes fails");
    assert_eq!(error.kind(), PublishErrorKind::Closed);
}
