//! What other connections and outages must not do to a client: malformed messages published
//! by another connection do not break it (nor a service on it), a full reconnect buffer
//! fails or holds publishers as configured, and requests and flushes never hang.

mod common;

use common::{events_so_far, recording_events, wait_for_event, wait_for_state};

use std::time::Duration;

use nats_core::{
    Client, ConnectOptions, Event, FlushErrorKind, PublishErrorKind, RequestErrorKind,
    RequestOptions, State, Subscriber,
};
use nats_micro::{handler_fn, Service};
use nats_tests::{within, NatsServer, WAIT};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn connect(options: ConnectOptions, server: &NatsServer) -> Client {
    within("connect", options.connect(server.url()))
        .await
        .expect("connect")
}

/// The payload of the next message of `sub`.
async fn next_payload(sub: &mut Subscriber) -> String {
    let msg = within("next message", sub.next())
        .await
        .expect("subscription ended before the expected message");
    String::from_utf8(msg.payload.to_vec()).expect("UTF-8 payload")
}

/// Every subject `sub` received for what `client` published so far: after a flush the
/// server has routed every earlier publish and sent this client its messages before the
/// `PONG`; unsubscribing then ends the stream right after them.
async fn subjects_so_far(client: &Client, sub: &mut Subscriber) -> Vec<String> {
    within("flush", client.flush()).await.expect("flush");
    sub.unsubscribe().expect("unsubscribe");
    let mut subjects = Vec::new();
    while let Some(msg) = within("end of the subscription", sub.next()).await {
        subjects.push(msg.subject.to_string());
    }
    subjects
}

/// Writes `protocol` on a raw connection of its own to `server`, after a `CONNECT` that
/// declares headers, and waits for the `PONG` of a final `PING`: by then the server has
/// routed everything before it. Fails on any `-ERR`.
async fn raw_publish(server: &NatsServer, protocol: &[u8]) {
    within("raw connection", async {
        let mut stream = TcpStream::connect(server.host_port())
            .await
            .expect("raw connect");
        let mut frames =
            b"CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true}\r\n".to_vec();
        frames.extend_from_slice(protocol);
        frames.extend_from_slice(b"PING\r\n");
        stream.write_all(&frames).await.expect("raw write");
        let mut read = Vec::new();
        let mut chunk = [0u8; 4096];
        while !read.windows(6).any(|w| w == b"PONG\r\n") {
            let n = stream.read(&mut chunk).await.expect("raw read");
            assert!(
                n > 0,
                "server closed the raw connection: {}",
                String::from_utf8_lossy(&read)
            );
            read.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&read);
        assert!(!text.contains("-ERR"), "the server refused: {text}");
    })
    .await;
}

/// Header blocks nats-server passes on untouched and a client cannot read: not starting
/// with `NATS/1.0`, a line without a colon, not UTF-8, a status that is not a number.
fn malformed_hpubs(subject: &str, reply: Option<&str>) -> Vec<u8> {
    let blocks: [&[u8]; 4] = [
        b"hello",
        b"NATS/1.0\r\nxx",
        b"NATS/1.0\r\n\xff\xfe\r\n",
        b"NATS/1.0 abc\r\n\r\n",
    ];
    let mut out = Vec::new();
    for block in blocks {
        let reply = reply.map_or_else(String::new, |r| format!("{r} "));
        let len = block.len();
        out.extend_from_slice(format!("HPUB {subject} {reply}{len} {len}\r\n").as_bytes());
        out.extend_from_slice(block);
        out.extend_from_slice(b"\r\n");
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_header_blocks_from_another_connection_are_dropped_and_the_subscriber_carries_on()
{
    let server = NatsServer::spawn();
    let (options, mut events) = recording_events();
    let client = connect(options, &server).await;
    let mut topic = client.subscribe("topic").await.expect("subscribe");
    let mut ping = client.subscribe("$SRV.PING").await.expect("subscribe");
    let mut wild = client.subscribe("topic.*").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");

    let mut hostile = malformed_hpubs("$SRV.PING", None);
    hostile.extend(malformed_hpubs("topic", Some("_INBOX.raw")));
    // nats-server passes on subjects and replies that are not UTF-8, too.
    hostile.extend_from_slice(b"PUB topic.\xff\xfe 3\r\nbad\r\n");
    hostile.extend_from_slice(b"PUB topic.ok _INBOX.\xff 3\r\nbad\r\n");
    hostile.extend_from_slice(b"PUB topic 4\r\ngood\r\nPUB $SRV.PING 4\r\nalso\r\n");
    hostile.extend_from_slice(b"PUB topic.x 4\r\nfine\r\n");
    raw_publish(&server, &hostile).await;

    // The bad ones are dropped; the next good one arrives.
    assert_eq!(next_payload(&mut topic).await, "good");
    assert_eq!(next_payload(&mut ping).await, "also");
    let msg = within("next message", wild.next())
        .await
        .expect("subscription alive");
    assert_eq!(
        (msg.subject.as_str(), &msg.payload[..]),
        ("topic.x", &b"fine"[..])
    );
    let (_, before) = wait_for_event(&mut events, |e| matches!(e, Event::Error(_))).await;
    assert!(
        !before.contains(&Event::Disconnected),
        "the drop is reported, the connection stays: {before:?}"
    );

    // And the connection keeps working as before.
    client.publish("topic", "after").await.expect("publish");
    assert_eq!(next_payload(&mut topic).await, "after");
    within("flush", client.flush()).await.expect("flush");
    assert!(client.is_connected(), "{:?}", client.state());
    assert_eq!(client.statistics().reconnects, 0);
    let later = events_so_far(&mut events);
    assert!(
        !later
            .iter()
            .any(|e| matches!(e, Event::Disconnected | Event::Reconnected)),
        "{later:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_micro_service_keeps_answering_after_malformed_requests() {
    let server = NatsServer::spawn();
    let (options, mut events) = recording_events();
    let client = connect(options, &server).await;
    let service = Service::builder("hostile", "1.0.0")
        .endpoint("echo", handler_fn(|body: String| async move { body }))
        .start(&client)
        .await
        .expect("start the service");
    within("flush", client.flush()).await.expect("flush");

    let mut hostile = malformed_hpubs("$SRV.PING", None);
    hostile.extend(malformed_hpubs("$SRV.PING", Some("_INBOX.raw")));
    hostile.extend(malformed_hpubs("echo", Some("_INBOX.raw")));
    raw_publish(&server, &hostile).await;
    // They reached the service's connection, which dropped them.
    let (_, before) = wait_for_event(&mut events, |e| matches!(e, Event::Error(_))).await;
    assert!(!before.contains(&Event::Disconnected), "{before:?}");

    let caller = connect(ConnectOptions::new(), &server).await;
    let pong = within("$SRV.PING", caller.request("$SRV.PING", ""))
        .await
        .expect("the service answers PING");
    let pong: serde_json::Value = serde_json::from_slice(&pong.payload).expect("JSON");
    assert_eq!(pong["name"], "hostile", "{pong}");
    assert_eq!(pong["id"], service.id(), "{pong}");
    let reply = within("echo", caller.request("echo", "hi"))
        .await
        .expect("the endpoint answers");
    assert_eq!(reply.payload, "hi");

    assert!(client.is_connected(), "{:?}", client.state());
    assert_eq!(client.statistics().reconnects, 0);
    let seen = events_so_far(&mut events);
    assert!(!seen.contains(&Event::Disconnected), "{seen:?}");
}

/// Bytes the reconnect buffer holds in the tests below.
const PENDING_SIZE: usize = 64 * 1024;

/// Payload of each message published into the reconnect buffer.
const BODY: usize = 1000;

/// Options for the reconnect buffer tests: quick, unlimited reconnection.
fn buffered(options: ConnectOptions) -> ConnectOptions {
    options
        .pending_size(PENDING_SIZE)
        .reconnect_time_wait(Duration::from_millis(50))
        .max_reconnect_attempts(None)
}

/// Subscribes to `buf.>`, makes sure the server has the subscription, stops the server and
/// waits until the client knows.
async fn subscribe_then_lose_the_server(client: &Client, server: &mut NatsServer) -> Subscriber {
    let sub = client.subscribe("buf.>").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");
    server.stop();
    wait_for_state(client, State::Reconnecting).await;
    sub
}

fn buf_subject(i: usize) -> String {
    format!("buf.{i:04}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_reconnect_buffer_fails_publishes_at_once_and_delivers_those_it_took() {
    let mut server = NatsServer::spawn();
    let client = connect(buffered(ConnectOptions::new()), &server).await;
    let mut sub = subscribe_then_lose_the_server(&client, &mut server).await;

    let mut accepted = 0;
    let mut refused = None;
    for i in 0..4 * PENDING_SIZE / BODY {
        match within(
            "a publish while disconnected",
            client.publish(buf_subject(i), vec![b'x'; BODY]),
        )
        .await
        {
            Ok(()) => accepted += 1,
            Err(err) => {
                refused = Some(err);
                break;
            }
        }
    }
    let err = refused.expect("publishes past pending_size fail");
    assert_eq!(err.kind(), PublishErrorKind::ReconnectBufferFull, "{err}");
    assert!(
        accepted > 0 && accepted <= PENDING_SIZE / BODY + 1,
        "{accepted} messages of {BODY} bytes in a {PENDING_SIZE}-byte buffer"
    );
    assert!(client.pending_data_size() >= PENDING_SIZE);
    // Every later one fails too, however small, and none waits.
    for (i, size) in [BODY, 1, 0].into_iter().enumerate() {
        let err = within(
            "a publish into the full buffer",
            client.publish(buf_subject(accepted + 1 + i), vec![b'y'; size]),
        )
        .await
        .expect_err("the buffer is still full");
        assert_eq!(err.kind(), PublishErrorKind::ReconnectBufferFull, "{err}");
    }

    // A request cannot be queued either, and says why at once.
    let err = within(
        "a request into the full buffer",
        client.request("service", "q"),
    )
    .await
    .expect_err("the buffer is still full");
    assert_eq!(err.kind(), RequestErrorKind::Publish, "{err}");

    server.start_again();
    wait_for_state(&client, State::Connected).await;
    let expected: Vec<String> = (0..accepted).map(buf_subject).collect();
    assert_eq!(
        subjects_so_far(&client, &mut sub).await,
        expected,
        "the accepted messages arrive, in order; the refused ones do not"
    );
}

/// Publishes until the reconnect buffer holds `PENDING_SIZE` bytes: each of these is
/// accepted at once, as the buffer has room before it. Returns how many.
async fn fill_reconnect_buffer(client: &Client) -> usize {
    let mut accepted = 0;
    while client.pending_data_size() < PENDING_SIZE {
        within(
            "a publish into a buffer with room",
            client.publish(buf_subject(accepted), vec![b'x'; BODY]),
        )
        .await
        .expect("the buffer has room");
        accepted += 1;
    }
    accepted
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reconnect_buffer_wait_a_publish_past_the_limit_waits_for_the_server() {
    let mut server = NatsServer::spawn();
    let client = connect(
        buffered(ConnectOptions::new()).reconnect_buffer_wait(true),
        &server,
    )
    .await;
    let mut sub = subscribe_then_lose_the_server(&client, &mut server).await;
    let accepted = fill_reconnect_buffer(&client).await;

    let waiting = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .publish(buf_subject(accepted), vec![b'z'; BODY])
                .await
        })
    };
    // With no server there is nowhere for the buffer to go: the publish cannot finish.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiting.is_finished(), "the publish waits for room");
    assert_eq!(client.state(), State::Reconnecting);

    server.start_again();
    within("the waiting publish", waiting)
        .await
        .expect("join")
        .expect("the publish completes once the server is back");
    let expected: Vec<String> = (0..=accepted).map(buf_subject).collect();
    assert_eq!(subjects_so_far(&client, &mut sub).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_cannot_even_be_buffered_times_out_within_its_timeout() {
    let mut server = NatsServer::spawn();
    let client = connect(
        buffered(ConnectOptions::new()).reconnect_buffer_wait(true),
        &server,
    )
    .await;
    let _sub = subscribe_then_lose_the_server(&client, &mut server).await;
    fill_reconnect_buffer(&client).await;

    for _ in 0..2 {
        let err = within(
            "a request into a full buffer",
            client.send_request(
                "service",
                RequestOptions::new()
                    .payload("question")
                    .timeout(Duration::from_millis(300)),
            ),
        )
        .await
        .expect_err("no room, no server: no reply");
        assert_eq!(err.kind(), RequestErrorKind::TimedOut, "{err}");
    }
    assert_eq!(client.state(), State::Reconnecting);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_on_a_closed_client_fail_with_closed_every_time() {
    let server = NatsServer::spawn();

    // Never made a request: the request inbox was never subscribed.
    let fresh = connect(ConnectOptions::new(), &server).await;
    within("close", fresh.close()).await;
    // Made requests before closing.
    let used = connect(ConnectOptions::new(), &server).await;
    let mut echo = used.subscribe("echo").await.expect("subscribe");
    let responder = used.clone();
    tokio::spawn(async move {
        while let Some(msg) = echo.next().await {
            if let Some(reply) = msg.reply {
                let _ = responder.publish(reply, msg.payload).await;
            }
        }
    });
    let reply = within("request", used.request("echo", "hi"))
        .await
        .expect("request before closing");
    assert_eq!(reply.payload, "hi");
    within("close", used.close()).await;

    for client in [&fresh, &used] {
        for i in 0..20 {
            let err = if i % 2 == 0 {
                within("a request on a closed client", client.request("echo", "x")).await
            } else {
                within(
                    "a request with a timeout on a closed client",
                    client.send_request("echo", RequestOptions::new().timeout(WAIT * 2)),
                )
                .await
            }
            .expect_err("the client is closed");
            assert_eq!(err.kind(), RequestErrorKind::Closed, "request {i}: {err}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_on_a_closed_client_fails_with_closed_at_once() {
    let server = NatsServer::spawn();
    let client = connect(ConnectOptions::new(), &server).await;
    client.publish("x", "before").await.expect("publish");
    within("close", client.close()).await;
    for _ in 0..3 {
        let err = within("a flush on a closed client", client.flush())
            .await
            .expect_err("closed");
        assert_eq!(err.kind(), FlushErrorKind::Closed, "{err}");
        let err = within(
            "a flush with a timeout on a closed client",
            client.flush_timeout(WAIT * 2),
        )
        .await
        .expect_err("closed");
        assert_eq!(err.kind(), FlushErrorKind::Closed, "not a timeout: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_during_an_outage_completes_once_the_server_is_back() {
    let mut server = NatsServer::spawn();
    let client = connect(buffered(ConnectOptions::new()), &server).await;
    let mut sub = subscribe_then_lose_the_server(&client, &mut server).await;
    client
        .publish("buf.during", "during")
        .await
        .expect("buffered");

    let flush = {
        let client = client.clone();
        tokio::spawn(async move { client.flush().await })
    };
    // With no server nothing can answer the flush.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!flush.is_finished(), "the flush waits for the server");

    server.start_again();
    within("the flush", flush)
        .await
        .expect("join")
        .expect("nothing was lost: the buffered message went to the new connection");
    assert_eq!(next_payload(&mut sub).await, "during");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_flush_after_losing_unconfirmed_messages_reports_connection_lost() {
    let mut server = NatsServer::spawn();
    let client = connect(buffered(ConnectOptions::new()), &server).await;
    within("flush", client.flush()).await.expect("flush");

    // A frozen server reads nothing; the kernel still takes what the client writes.
    server.pause();
    for i in 0..50 {
        client
            .publish(buf_subject(i), vec![b'x'; 100])
            .await
            .expect("publish");
    }
    within("the writer to hand everything to the socket", async {
        while client.pending_data_size() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    // Killed before reading them: those messages are gone.
    server.stop();
    wait_for_state(&client, State::Reconnecting).await;
    server.start_again();

    let err = within("the first flush", client.flush())
        .await
        .expect_err("messages handed to the lost connection were never confirmed");
    assert_eq!(err.kind(), FlushErrorKind::ConnectionLost, "{err}");
    within("the next flush", client.flush())
        .await
        .expect("a loss is reported once");
    assert!(client.is_connected(), "{:?}", client.state());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_waiting_for_its_reply_fails_with_closed_when_the_client_closes() {
    let server = NatsServer::spawn();
    let client = connect(ConnectOptions::new(), &server).await;
    let listener = connect(ConnectOptions::new(), &server).await;
    // Receives the request and never answers.
    let mut silent = listener.subscribe("silent").await.expect("subscribe");
    within("flush", listener.flush()).await.expect("flush");

    let request = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .send_request("silent", RequestOptions::new().timeout(WAIT * 6))
                .await
        })
    };
    within("the request to arrive", silent.next())
        .await
        .expect("the request");
    within("close", client.close()).await;
    let err = within("the pending request", request)
        .await
        .expect("join")
        .expect_err("no reply can come any more");
    assert_eq!(err.kind(), RequestErrorKind::Closed, "not a timeout: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_waiting_for_the_server_fails_with_closed_when_the_client_closes() {
    let mut server = NatsServer::spawn();
    let client = connect(buffered(ConnectOptions::new()), &server).await;
    let _sub = subscribe_then_lose_the_server(&client, &mut server).await;
    let flush = {
        let client = client.clone();
        tokio::spawn(async move { client.flush().await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!flush.is_finished(), "the flush waits for the server");
    within("close", client.close()).await;
    let err = within("the waiting flush", flush)
        .await
        .expect("join")
        .expect_err("the client closed first");
    assert_eq!(err.kind(), FlushErrorKind::Closed, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flush_whose_ping_went_down_with_the_connection_reports_connection_lost() {
    let mut server = NatsServer::spawn();
    let client = connect(buffered(ConnectOptions::new()), &server).await;
    within("flush", client.flush()).await.expect("flush");

    server.pause();
    for i in 0..50 {
        client
            .publish(buf_subject(i), vec![b'x'; 100])
            .await
            .expect("publish");
    }
    // Its PING is handed to the frozen server's socket with the messages.
    let flush = {
        let client = client.clone();
        tokio::spawn(async move { client.flush().await })
    };
    within("the writer to hand everything to the socket", async {
        while client.pending_data_size() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    server.stop();
    wait_for_state(&client, State::Reconnecting).await;
    assert!(!flush.is_finished(), "nothing answered the flush");
    server.start_again();

    let err = within("the flush across the loss", flush)
        .await
        .expect("join")
        .expect_err("its messages were never confirmed");
    assert_eq!(err.kind(), FlushErrorKind::ConnectionLost, "{err}");
    within("the next flush", client.flush())
        .await
        .expect("a loss is reported once");
}
