//! The connection task against scripted servers over in-memory streams: what no real server
//! sends on demand (malformed frames, a lone first `INFO`, refusals at chosen moments).

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::scripted_server::{info, ScriptedDialer, STEP};
use crate::{Client, ConnectOptions, Event, State, SubscribeErrorKind};

/// Options with the scripted dialer, the configured order kept, and events recorded.
fn options(dialer: &ScriptedDialer) -> (ConnectOptions, Arc<Mutex<Vec<Event>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let options = ConnectOptions::new()
        .dialer(dialer.clone())
        .dont_randomize(true)
        .event_callback(move |event| {
            let seen = Arc::clone(&seen);
            async move { seen.lock().push(event) }
        });
    (options, events)
}

async fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    tokio::time::timeout(STEP, async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what}: not within {STEP:?}"));
}

/// Connects to `url` with `options` while `listener` answers the handshake with `info`.
async fn connect_scripted(
    options: ConnectOptions,
    url: &'static str,
    listener: &mut crate::scripted_server::Listener,
    info: &str,
) -> (Client, crate::scripted_server::ServerConn) {
    let connecting = tokio::spawn(connect(options, url));
    let conn = listener.accept_with_info(info).await;
    (connecting.await.expect("join"), conn)
}

async fn connect(options: ConnectOptions, url: &str) -> Client {
    tokio::time::timeout(STEP, options.connect(url))
        .await
        .expect("connect in time")
        .expect("connect")
}

#[tokio::test]
async fn the_connect_urls_of_the_first_info_alone_are_enough_to_fail_over() {
    let dialer = ScriptedDialer::default();
    let mut seed = dialer.listen("seed:4222");
    let mut other = dialer.listen("other:4222");
    let (options, _) = options(&dialer);
    let (client, mut seed_conn) = connect_scripted(
        options,
        "nats://seed:4222",
        &mut seed,
        &info(r#""connect_urls":["seed:4222","other:4222"]"#),
    )
    .await;
    assert_eq!(client.discovered_servers(), ["nats://other:4222"]);
    let mut sub = client.subscribe("orders.>").await.expect("subscribe");
    assert_eq!(seed_conn.expect_line("SUB").await, "SUB orders.> 1");

    // The seed goes away for good, having sent no other INFO.
    dialer.refuse("seed:4222");
    drop(seed_conn);
    let mut other_conn = other.accept_with_info(&info("")).await;
    assert_eq!(
        other_conn.expect_line("SUB").await,
        "SUB orders.> 1",
        "subscriptions follow"
    );
    other_conn.send(b"MSG orders.1 1 2\r\nhi\r\n").await;
    let msg = tokio::time::timeout(STEP, sub.next())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(&msg.payload[..], b"hi");
    assert_eq!(client.connected_url().as_deref(), Some("nats://other:4222"));
    assert_eq!(
        dialer.dialed()[..2],
        ["seed:4222".to_owned(), "other:4222".to_owned()]
    );
}

#[tokio::test]
async fn a_malformed_message_is_dropped_and_the_session_goes_on() {
    let dialer = ScriptedDialer::default();
    let mut server = dialer.listen("s:4222");
    let (options, events) = options(&dialer);
    let (client, mut conn) =
        connect_scripted(options, "nats://s:4222", &mut server, &info("")).await;
    let mut sub = client.subscribe("svc").await.expect("subscribe");
    conn.expect_line("SUB svc").await;
    // A header block that is not one, a subject that is not UTF-8, an INFO of the wrong
    // shape, an oversized message: each dropped or ignored, then a good message.
    conn.send(b"HMSG svc 1 5 5\r\nhello\r\n").await;
    conn.send(b"MSG \xff 1 1\r\nx\r\n").await;
    conn.send(b"INFO {\"max_payload\":\"big\"}\r\n").await;
    let huge = 1_048_576 + 64 * 1024 + 1;
    conn.send(format!("MSG svc 1 {huge}\r\n").as_bytes()).await;
    let chunk = vec![b'z'; 64 * 1024];
    let mut left = huge + 2;
    while left > 0 {
        let n = left.min(chunk.len());
        conn.send(&chunk[..n]).await;
        left -= n;
    }
    conn.send(b"MSG svc 1 2\r\nok\r\n").await;
    let msg = tokio::time::timeout(STEP, sub.next())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(&msg.payload[..], b"ok");
    assert_eq!(client.state(), State::Connected);
    assert_eq!(dialer.dialed().len(), 1, "no reconnect");
    wait_for("error events", || {
        events
            .lock()
            .iter()
            .filter(|e| matches!(e, Event::Error(_)))
            .count()
            >= 2
    })
    .await;
    let events = events.lock().clone();
    let texts: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::Error(text) => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("invalid header block on svc")),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t.contains("INFO")), "{texts:?}");
    assert!(!events.contains(&Event::Disconnected), "{events:?}");
}

#[tokio::test]
async fn garbage_where_a_frame_must_start_ends_the_session_and_the_client_reconnects() {
    let dialer = ScriptedDialer::default();
    let mut server = dialer.listen("s:4222");
    let (options, _) = options(&dialer);
    let (client, mut conn) = connect_scripted(
        options.reconnect_time_wait(Duration::from_millis(10)),
        "nats://s:4222",
        &mut server,
        &info(""),
    )
    .await;
    conn.send(b"GARBAGE\r\n").await;
    let _again = server.accept_with_info(&info("")).await;
    wait_for("reconnected", || client.statistics().reconnects == 1).await;
    assert!(client
        .last_error()
        .unwrap_or_default()
        .contains("protocol error"));
}

#[tokio::test]
async fn a_refused_subscription_ends_with_its_error_and_the_others_go_on() {
    let dialer = ScriptedDialer::default();
    let mut server = dialer.listen("s:4222");
    let (options, events) = options(&dialer);
    let (client, mut conn) =
        connect_scripted(options, "nats://s:4222", &mut server, &info("")).await;
    let mut denied = client.subscribe("secret.>").await.expect("subscribe");
    let mut allowed = client.subscribe("public").await.expect("subscribe");
    conn.expect_line("SUB secret.>").await;
    conn.expect_line("SUB public").await;
    conn.send(b"MSG secret.x 1 1\r\na\r\n").await;
    conn.send(b"-ERR 'Permissions Violation for Subscription to \"secret.>\"'\r\n")
        .await;
    conn.send(b"MSG public 2 1\r\nb\r\n").await;
    let first = tokio::time::timeout(STEP, denied.try_next())
        .await
        .expect("in time");
    assert_eq!(
        &first
            .expect("message before the error")
            .expect("some")
            .payload[..],
        b"a"
    );
    let err = tokio::time::timeout(STEP, denied.try_next())
        .await
        .expect("in time")
        .expect_err("the refusal");
    assert_eq!(err.kind(), SubscribeErrorKind::PermissionDenied);
    assert!(err.to_string().contains("secret.>"), "{err}");
    assert!(matches!(denied.try_next().await, Ok(None)), "then the end");
    let msg = tokio::time::timeout(STEP, allowed.next())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(&msg.payload[..], b"b");
    assert_eq!(client.state(), State::Connected);
    wait_for("server error event", || {
        events
            .lock()
            .iter()
            .any(|e| matches!(e, Event::ServerError(_)))
    })
    .await;
}

#[tokio::test]
async fn lame_duck_mode_moves_the_client_with_its_subscriptions() {
    let dialer = ScriptedDialer::default();
    let mut old = dialer.listen("old:4222");
    let mut new = dialer.listen("new:4222");
    let (options, events) = options(&dialer);
    let options = options.lame_duck_move_within(Some(Duration::from_millis(20)));
    let (client, mut old_conn) = connect_scripted(
        options,
        "nats://old:4222",
        &mut old,
        &info(r#""connect_urls":["old:4222","new:4222"]"#),
    )
    .await;
    let _sub = client.subscribe("work").await.expect("subscribe");
    old_conn.expect_line("SUB work").await;
    old_conn
        .send(
            format!(
                "INFO {}\r\n",
                info(r#""ldm":true,"connect_urls":["new:4222"]"#)
            )
            .as_bytes(),
        )
        .await;
    // Before leaving, the client asks the old server to confirm what it wrote.
    old_conn.expect_line("PING").await;
    old_conn.send(b"PONG\r\n").await;
    let mut new_conn = new.accept_with_info(&info("")).await;
    assert_eq!(new_conn.expect_line("SUB").await, "SUB work 1");
    wait_for("reconnected", || {
        client.connected_url().as_deref() == Some("nats://new:4222")
    })
    .await;
    wait_for("lame duck event", || {
        events.lock().contains(&Event::LameDuckMode)
    })
    .await;
}

#[tokio::test]
async fn lame_duck_mode_with_no_other_server_only_reports() {
    let dialer = ScriptedDialer::default();
    let mut only = dialer.listen("only:4222");
    let (options, events) = options(&dialer);
    let options = options.lame_duck_move_within(Some(Duration::from_millis(1)));
    let (client, mut conn) =
        connect_scripted(options, "nats://only:4222", &mut only, &info("")).await;
    conn.send(format!("INFO {}\r\n", info(r#""ldm":true"#)).as_bytes())
        .await;
    wait_for("lame duck event", || {
        events.lock().contains(&Event::LameDuckMode)
    })
    .await;
    let flush = tokio::spawn({
        let client = client.clone();
        async move { client.flush().await }
    });
    conn.expect_line("PING").await;
    conn.send(b"PONG\r\n").await;
    let flushed = tokio::time::timeout(STEP, flush)
        .await
        .expect("in time")
        .expect("join");
    flushed.expect("still connected to the only server");
    assert_eq!(dialer.dialed().len(), 1);
}

#[tokio::test]
async fn a_server_that_stops_answering_pings_is_left() {
    let dialer = ScriptedDialer::default();
    let mut mute = dialer.listen("mute:4222");
    let mut alive = dialer.listen("alive:4222");
    let (options, _) = options(&dialer);
    let options = options
        .ping_interval(Duration::from_millis(30))
        .max_outstanding_pings(2);
    let (client, mut mute_conn) = connect_scripted(
        options,
        "nats://mute:4222,nats://alive:4222",
        &mut mute,
        &info(""),
    )
    .await;
    // Read the keep-alive PINGs and never answer.
    let _reader = tokio::spawn(async move {
        loop {
            let _ = mute_conn.read_line().await;
        }
    });
    let _alive_conn = alive.accept_with_info(&info("")).await;
    wait_for("moved", || {
        client.connected_url().as_deref() == Some("nats://alive:4222")
    })
    .await;
    assert!(client
        .last_error()
        .unwrap_or_default()
        .contains("stale connection"));
}

#[tokio::test]
async fn credentials_refused_twice_by_every_server_end_the_client() {
    let dialer = ScriptedDialer::default();
    let mut a = dialer.listen("a:4222");
    let b = dialer.listen("b:4222");
    let (options, events) = options(&dialer);
    let options = options.reconnect_time_wait(Duration::from_millis(5));
    let (client, first) =
        connect_scripted(options, "nats://a:4222,nats://b:4222", &mut a, &info("")).await;
    drop(first);
    // From now on both servers refuse: two rounds, then the client gives up.
    let refuse = |mut listener: crate::scripted_server::Listener| {
        tokio::spawn(async move {
            loop {
                let mut conn = listener.accept().await;
                conn.send(format!("INFO {}\r\n", info("")).as_bytes()).await;
                let _connect = conn.read_line().await;
                conn.send(b"-ERR 'Authorization Violation'\r\n").await;
            }
        })
    };
    let _a = refuse(a);
    let _b = refuse(b);
    wait_for("closed", || client.state() == State::Closed).await;
    let last = client.last_error().unwrap_or_default();
    assert!(last.contains("refused the credentials"), "{last}");
    assert!(last.contains("Authorization Violation"), "{last}");
    assert!(dialer.dialed().len() <= 6, "{:?}", dialer.dialed());
    wait_for("closed event", || events.lock().contains(&Event::Closed)).await;
}

#[tokio::test]
async fn retry_on_initial_connect_returns_a_client_that_connects_later() {
    let dialer = ScriptedDialer::default();
    let (options, events) = options(&dialer);
    let options = options
        .retry_on_initial_connect(true)
        .reconnect_time_wait(Duration::from_millis(20));
    let client = connect(options, "nats://late:4222").await;
    assert_eq!(client.state(), State::Connecting);
    let mut sub = client
        .subscribe("early")
        .await
        .expect("subscribe before connecting");
    client.publish("early", "buffered").await.expect("buffered");
    let flushed = tokio::spawn({
        let client = client.clone();
        async move { client.flush().await }
    });
    let mut late = dialer.listen("late:4222");
    let mut conn = late.accept_with_info(&info("")).await;
    assert_eq!(conn.expect_line("SUB").await, "SUB early 1");
    assert_eq!(conn.read_line().await, "PUB early 8");
    assert_eq!(conn.read_line().await, "buffered");
    conn.expect_line("PING").await;
    conn.send(b"PONG\r\nMSG early 1 8\r\nbuffered\r\n").await;
    flushed
        .await
        .expect("join")
        .expect("flush answered on the first connection");
    let msg = tokio::time::timeout(STEP, sub.next())
        .await
        .expect("in time")
        .expect("open");
    assert_eq!(&msg.payload[..], b"buffered");
    assert_eq!(client.state(), State::Connected);
    wait_for("connected event", || {
        events.lock().contains(&Event::Connected)
    })
    .await;
    assert!(!events.lock().contains(&Event::Reconnected));
}

#[tokio::test]
async fn flush_and_requests_on_a_closed_client_fail_at_once() {
    let dialer = ScriptedDialer::default();
    let mut server = dialer.listen("s:4222");
    let (options, _) = options(&dialer);
    let (client, conn) = connect_scripted(options, "nats://s:4222", &mut server, &info("")).await;
    drop(conn);
    client.close().await;
    for _ in 0..20 {
        let flush = tokio::time::timeout(STEP, client.flush())
            .await
            .expect("no hang");
        assert_eq!(
            flush.expect_err("closed").kind(),
            crate::FlushErrorKind::Closed
        );
        let request = tokio::time::timeout(STEP, client.request("x", ""))
            .await
            .expect("no hang");
        assert_eq!(
            request.expect_err("closed").kind(),
            crate::RequestErrorKind::Closed
        );
    }
}

#[tokio::test]
async fn a_refused_reply_inbox_fails_requests_at_once_instead_of_timing_out() {
    let dialer = ScriptedDialer::default();
    let mut server = dialer.listen("s:4222");
    let (options, _) = options(&dialer);
    let (client, mut conn) = connect_scripted(
        options.request_timeout(Duration::from_secs(30)),
        "nats://s:4222",
        &mut server,
        &info(""),
    )
    .await;
    let request = tokio::spawn({
        let client = client.clone();
        async move { client.request("svc", "hi").await }
    });
    let sub = conn.expect_line("SUB _INBOX.").await;
    let inbox = sub.split(' ').nth(1).expect("subject").to_owned();
    conn.expect_line("PUB svc").await;
    conn.send(
        format!("-ERR 'Permissions Violation for Subscription to \"{inbox}\"'\r\n").as_bytes(),
    )
    .await;
    let err = tokio::time::timeout(STEP, request)
        .await
        .expect("well before the 30 s timeout")
        .expect("join")
        .expect_err("refused");
    assert_eq!(err.kind(), crate::RequestErrorKind::Subscribe, "{err}");
    let again = tokio::time::timeout(STEP, client.request("svc", "hi"))
        .await
        .expect("at once");
    assert_eq!(
        again.expect_err("refused").kind(),
        crate::RequestErrorKind::Subscribe
    );
}
