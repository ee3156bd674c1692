//! The client against a three-node cluster: it learns the cluster from one seed, fails over
//! when its node dies, keeps its subscriptions across a move, follows lame duck mode, detects
//! a frozen (stale) server, and tells through `flush` which messages may have been lost while
//! its node was killed again and again.

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use common::{payload_string, recording_events, spawn_echo, wait_for_event};
use nats_core::{
    Client, ConnectOptions, Event, FlushError, FlushErrorKind, PublishErrorKind, RequestOptions,
    State, SubscribeOptions, Subscriber,
};
use nats_tests::{within, NatsCluster, NatsServer};

/// How often the polling waits below look again.
const POLL: Duration = Duration::from_millis(10);

/// Polls `done` until it holds, failing the test with `what` after `limit`.
async fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(limit, async {
        while !done() {
            tokio::time::sleep(POLL).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{what}: not within {limit:?}");
}

/// The index in `urls` of the server `client` is connected to, if it is connected.
fn node_index(urls: &[String], client: &Client) -> Option<usize> {
    let current = client.connected_url()?;
    urls.iter().position(|url| *url == current)
}

/// Waits until `client` is connected to a node of `urls` other than `not`, and returns it.
async fn wait_moved_off(urls: &[String], client: &Client, not: usize, limit: Duration) -> usize {
    let mut found = None;
    wait_until(
        &format!(
            "client connected to a node other than {not} (now {:?}, {:?})",
            client.connected_url(),
            client.state()
        ),
        limit,
        || {
            found = node_index(urls, client)
                .filter(|&node| node != not && client.state() == State::Connected);
            found.is_some()
        },
    )
    .await;
    found.unwrap_or_else(|| unreachable!("wait_until returned, so a node was found"))
}

/// Publishes `probe-N` on `subject` through `publisher` (with a flush) until one reaches
/// `sub`: then the subscription is known to the publisher's node, routes included. Returns
/// the number of probes sent.
async fn probe_until_received(publisher: &Client, sub: &mut Subscriber, subject: &str) -> usize {
    let probing = async {
        for n in 1.. {
            publisher
                .publish(subject, format!("probe-{n}"))
                .await
                .expect("publish a probe");
            within("flush a probe", publisher.flush())
                .await
                .expect("flush a probe");
            let deadline = tokio::time::Instant::now() + Duration::from_millis(200);
            while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, sub.next()).await {
                if payload_string(&msg).starts_with("probe-") {
                    return n;
                }
            }
        }
        unreachable!("the probe loop only ends by returning")
    };
    tokio::time::timeout(Duration::from_secs(20), probing)
        .await
        .unwrap_or_else(|_| panic!("no probe on {subject} reached the subscriber within 20 s"))
}

/// Publishes `0..count` on `subject`, flushes, and checks that `sub` receives each exactly
/// once (probes still in flight are skipped).
async fn publish_and_receive_all(
    publisher: &Client,
    sub: &mut Subscriber,
    subject: &str,
    count: u32,
) {
    for n in 0..count {
        publisher
            .publish(subject, n.to_string())
            .await
            .expect("publish");
    }
    within("flush", publisher.flush()).await.expect("flush");
    let mut seen = HashSet::new();
    while seen.len() < count as usize {
        let msg = within(
            &format!("message {} of {count} on {subject}", seen.len() + 1),
            sub.next(),
        )
        .await
        .expect("subscription alive");
        let text = payload_string(&msg);
        if text.starts_with("probe-") {
            continue;
        }
        let n: u32 = text.parse().expect("numbered payload");
        assert!(n < count, "unexpected message {n}");
        assert!(seen.insert(n), "message {n} received twice");
    }
}

/// Sends a request until a reply comes (the routes may still be learning the reply
/// subscription); returns the reply payload and the attempts it took.
async fn request_until_answered(client: &Client, subject: &str, payload: &str) -> (String, u32) {
    let asking = async {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let request = RequestOptions::new()
                .payload(payload.to_owned())
                .timeout(Duration::from_secs(2));
            match client.send_request(subject, request).await {
                Ok(reply) => return (payload_string(&reply), attempts),
                Err(err) => {
                    eprintln!("request attempt {attempts} on {subject}: {err}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), asking)
        .await
        .unwrap_or_else(|_| panic!("no reply on {subject} within 20 s"))
}

/// Runs blocking harness work (a kill, a restart, waiting for routes) off the async workers'
/// hot path.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(work)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_only_client_fails_over() {
    let mut cluster = NatsCluster::spawn(3);
    let urls = cluster.urls();
    let (options, mut events) = recording_events();
    let client = options
        .dont_randomize(true)
        .reconnect_time_wait(Duration::from_millis(50))
        .connect(cluster.url(0))
        .await
        .expect("connect to the seed");
    assert_eq!(client.connected_url(), Some(cluster.url(0)));

    wait_until(
        "the client learns both other nodes",
        Duration::from_secs(10),
        || client.discovered_servers().len() == 2,
    )
    .await;
    let mut discovered = client.discovered_servers();
    discovered.sort();
    let mut others = vec![cluster.url(1), cluster.url(2)];
    others.sort();
    assert_eq!(
        discovered, others,
        "discovered servers with the seed's nats:// scheme"
    );
    assert!(discovered.iter().all(|url| url.starts_with("nats://")));
    assert_eq!(client.servers().len(), 3, "{:?}", client.servers());

    // A responder on node 2, answered through the routes before and after the failover.
    let responder = ConnectOptions::new()
        .dont_randomize(true)
        .connect(cluster.url(2))
        .await
        .expect("responder connects");
    let echo = responder.subscribe("svc.echo").await.expect("subscribe");
    within("responder flush", responder.flush())
        .await
        .expect("responder flush");
    let _echo = spawn_echo(&responder, echo);
    let (reply, _) = request_until_answered(&client, "svc.echo", "before").await;
    assert_eq!(reply, "before");

    let killed_at = Instant::now();
    blocking(|| cluster.kill(0));
    let node = wait_moved_off(&urls, &client, 0, Duration::from_secs(10)).await;
    let failover = killed_at.elapsed();
    wait_for_event(&mut events, |event| *event == Event::Reconnected).await;
    eprintln!("seed killed: reconnected to node {node} after {failover:?}");
    assert!(node == 1 || node == 2, "connected to node {node}");
    assert_eq!(client.statistics().reconnects, 1);

    let (reply, attempts) = request_until_answered(&client, "svc.echo", "after").await;
    assert_eq!(reply, "after");
    eprintln!("request through the cluster after the failover took {attempts} attempt(s)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_survives_its_node_restarting() {
    let cluster = NatsCluster::spawn(3);
    let urls = cluster.urls();
    let (options, mut events) = recording_events();
    let subscriber = options
        .reconnect_time_wait(Duration::from_millis(50))
        .connect(cluster.urls())
        .await
        .expect("subscriber connects");
    let home = node_index(&urls, &subscriber).expect("subscriber is on a node");
    let other = (home + 1) % 3;
    let publisher = ConnectOptions::new()
        .dont_randomize(true)
        .connect(cluster.url(other))
        .await
        .expect("publisher connects");
    let subject = "restart.seq";
    let mut sub = subscriber.subscribe(subject).await.expect("subscribe");
    within("subscriber flush", subscriber.flush())
        .await
        .expect("subscriber flush");
    probe_until_received(&publisher, &mut sub, subject).await;

    // Kill the subscriber's node and bring it back while the subscriber fails over.
    let mut cluster = cluster;
    let restart = tokio::task::spawn_blocking(move || {
        cluster.kill(home);
        std::thread::sleep(Duration::from_millis(300));
        cluster.restart(home);
        cluster.wait_for_routes();
        cluster
    });
    let (_, before) = wait_for_event(&mut events, |event| *event == Event::Reconnected).await;
    assert!(before.contains(&Event::Disconnected), "{before:?}");
    within("subscriber flush after reconnecting", subscriber.flush())
        .await
        .expect("subscriber flush after reconnecting");
    let probes = probe_until_received(&publisher, &mut sub, subject).await;
    let cluster = within("the node restarts and rejoins", restart)
        .await
        .expect("restart task");
    let now_on = node_index(&urls, &subscriber);
    eprintln!(
        "subscriber moved from node {home} to {now_on:?}; {probes} probe(s) until the \
         subscription was routed again"
    );

    publish_and_receive_all(&publisher, &mut sub, subject, 200).await;
    drop(cluster);
}

/// The accounts of the cluster of the kill test: the system account (to kick a client off a
/// node) and an application account every client without credentials lands in.
const ACCOUNTS: &str = r#"
accounts {
  SYS: { users: [ { user: sys, password: sys } ] }
  APP: { users: [ { user: app, password: app } ] }
}
system_account: SYS
no_auth_user: app
"#;

/// Messages the kill test publishes.
const TOTAL: usize = 100_000;
/// A flush every this many messages (when the previous one has finished).
const SEGMENT: usize = 1_000;
/// Times the publisher's node is killed.
const KILLS: usize = 5;
/// Kill `r` comes once `r * KILL_EVERY` messages were published.
const KILL_EVERY: usize = 16_000;
/// The publisher may run this far past a kill's trigger before it waits for the kill.
const KILL_SLACK: usize = 8_000;
/// The subscriber's node, never killed.
const SUB_NODE: usize = 0;

/// A flush in flight: the messages it confirms end at `upto` (exclusive).
struct InFlight {
    upto: usize,
    flush: Pin<Box<dyn Future<Output = Result<(), FlushError>> + Send>>,
}

/// Starts a flush of `client` and polls it once, so that its `PING` is queued right now,
/// after the messages published so far and before the next ones.
async fn start_flush(
    client: &Client,
    upto: usize,
) -> Result<InFlight, (usize, Result<(), FlushError>)> {
    let client = client.clone();
    let mut flight = InFlight {
        upto,
        flush: Box::pin(async move { client.flush().await }),
    };
    match poll_once(&mut flight.flush).await {
        Some(result) => Err((upto, result)),
        None => Ok(flight),
    }
}

/// Polls `future` once with the current task's waker.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        Poll::Ready(match Pin::new(&mut *future).poll(cx) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        })
    })
    .await
}

/// What the publisher of the kill test saw.
#[derive(Default)]
struct Ledger {
    accepted: Vec<bool>,
    confirmed: Vec<bool>,
    rejected: usize,
    /// Flush outcomes: Ok, ConnectionLost, TimedOut, other.
    flush_ok: usize,
    flush_lost: usize,
    flush_timed_out: usize,
    flush_other: Vec<String>,
    /// Where the next flush's messages begin.
    segment_start: usize,
}

impl Ledger {
    fn new() -> Self {
        Ledger {
            accepted: vec![false; TOTAL],
            confirmed: vec![false; TOTAL],
            ..Ledger::default()
        }
    }

    /// A flush covering `segment_start..upto` ended with `result`.
    fn settle(&mut self, upto: usize, result: Result<(), FlushError>) {
        let range = self.segment_start..upto;
        self.segment_start = upto;
        match result {
            Ok(()) => {
                self.flush_ok += 1;
                for n in range {
                    self.confirmed[n] = self.accepted[n];
                }
            }
            Err(err) => match err.kind() {
                FlushErrorKind::ConnectionLost => self.flush_lost += 1,
                FlushErrorKind::TimedOut => self.flush_timed_out += 1,
                _ => self.flush_other.push(err.to_string()),
            },
        }
    }
}

/// Progress shared by the publisher and the killer.
#[derive(Default)]
struct Progress {
    published: AtomicUsize,
    kills: AtomicUsize,
}

/// Publishes `0..TOTAL` on `seq`, flushing every [`SEGMENT`] messages when the previous flush
/// is done, and never running more than [`KILL_SLACK`] messages past a kill that has not
/// happened yet.
async fn publish_through_kills(publisher: &Client, progress: &Progress) -> Ledger {
    let mut ledger = Ledger::new();
    let mut in_flight: Option<InFlight> = None;
    for n in 0..TOTAL {
        let kills = progress.kills.load(Ordering::SeqCst);
        if kills < KILLS && n >= (kills + 1) * KILL_EVERY + KILL_SLACK {
            wait_until(
                &format!("kill {} before message {n}", kills + 1),
                Duration::from_secs(60),
                || progress.kills.load(Ordering::SeqCst) > kills,
            )
            .await;
        }
        match publisher.publish("seq", n.to_string()).await {
            Ok(()) => ledger.accepted[n] = true,
            Err(err) if err.kind() == PublishErrorKind::ReconnectBufferFull => ledger.rejected += 1,
            Err(err) => panic!("publish {n} failed: {err}"),
        }
        progress.published.store(n + 1, Ordering::SeqCst);
        if let Some(flight) = &mut in_flight {
            if let Some(result) = poll_once(&mut flight.flush).await {
                ledger.settle(flight.upto, result);
                in_flight = None;
            }
        }
        if (n + 1) % SEGMENT == 0 && in_flight.is_none() {
            match start_flush(publisher, n + 1).await {
                Ok(flight) => in_flight = Some(flight),
                Err((upto, result)) => ledger.settle(upto, result),
            }
        }
        if (n + 1) % 100 == 0 {
            // Lets the other tasks run; the publisher itself never pauses, so a kill lands
            // in the middle of its stream.
            tokio::task::yield_now().await;
        }
    }
    if let Some(flight) = in_flight.take() {
        let result = tokio::time::timeout(Duration::from_secs(30), flight.flush)
            .await
            .expect("the last flush in flight ends (it has a 10 s timeout)");
        ledger.settle(flight.upto, result);
    }
    let last = tokio::time::timeout(Duration::from_secs(30), publisher.flush())
        .await
        .expect("the final flush ends (it has a 10 s timeout)");
    ledger.settle(TOTAL, last);
    ledger
}

/// Waits, on a blocking thread, until `done` holds; panics with `what` after `limit`.
fn wait_blocking(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Kicks `client` off the server it is connected to, through the system account.
async fn kick(sys: &Client, client: &Client) {
    let info = client.server_info();
    let subject = format!("$SYS.REQ.SERVER.{}.KICK", info.server_id);
    let request = RequestOptions::new()
        .payload(format!("{{\"cid\":{}}}", info.client_id))
        .timeout(Duration::from_secs(5));
    let reply = sys
        .send_request(&subject, request)
        .await
        .expect("kick request");
    let text = payload_string(&reply);
    assert!(!text.contains("\"error\""), "kick refused: {text}");
}

/// One publisher, one subscriber on node 0 (never killed), and the publisher's node killed
/// five times while it publishes 100,000 numbered messages.
///
/// Every 1,000 messages the publisher starts a flush unless the previous one is still in
/// flight: it never stops to wait, so it keeps publishing while its node dies, and each flush
/// result covers exactly the messages since the previous one. (Overlapping flushes are left
/// out on purpose: their order after a reconnect is another matter.) The publisher's pool
/// rotates through all three nodes, so it lands on node 0 in time; then the system account
/// kicks it off (`$SYS.REQ.SERVER.<id>.KICK`) before the next kill, as node 0 must stay up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publisher_through_five_kills_loses_nothing_flush_confirmed() {
    let cluster = NatsCluster::spawn_with_config(3, ACCOUNTS);
    let urls = cluster.urls();
    let first = 1;
    let third = 2;

    // The subscriber sits on the node that is never killed.
    let subscriber = ConnectOptions::new()
        .dont_randomize(true)
        .connect(cluster.url(SUB_NODE))
        .await
        .expect("subscriber connects");
    let mut sub = subscriber
        .subscribe_with(
            "seq",
            SubscribeOptions {
                pending_msgs_limit: Some(4 * TOTAL),
                pending_bytes_limit: Some(64 * TOTAL),
                ..SubscribeOptions::default()
            },
        )
        .await
        .expect("subscribe");
    within("subscriber flush", subscriber.flush())
        .await
        .expect("subscriber flush");

    let publisher = ConnectOptions::new()
        .dont_randomize(true)
        .reconnect_time_wait(Duration::from_millis(50))
        .pending_size(256 * 1024)
        .flush_timeout(Some(Duration::from_secs(10)))
        .connect(vec![
            cluster.url(first),
            cluster.url(third),
            cluster.url(SUB_NODE),
        ])
        .await
        .expect("publisher connects");
    assert_eq!(node_index(&urls, &publisher), Some(first));
    // The subscription is routed to both nodes the publisher starts on or moves to first.
    probe_until_received(&publisher, &mut sub, "seq").await;
    let prober = ConnectOptions::new()
        .connect(cluster.url(third))
        .await
        .expect("prober connects");
    probe_until_received(&prober, &mut sub, "seq").await;
    drop(prober);

    let sys = ConnectOptions::new()
        .user_and_password("sys", "sys")
        .dont_randomize(true)
        .connect(cluster.url(SUB_NODE))
        .await
        .expect("system user connects");

    // The reader keeps up with the subscription until told to stop, then takes what is left
    // until nothing came for a second.
    let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let reader = tokio::spawn(async move {
        let mut received: Vec<usize> = Vec::with_capacity(TOTAL);
        let mut probes = 0usize;
        let mut stopping = false;
        loop {
            let msg = if stopping {
                match tokio::time::timeout(Duration::from_secs(1), sub.next()).await {
                    Ok(msg) => msg,
                    Err(_) => break,
                }
            } else {
                tokio::select! {
                    msg = sub.next() => msg,
                    _ = &mut stopped => {
                        stopping = true;
                        continue;
                    }
                }
            };
            let Some(msg) = msg else { break };
            let text = payload_string(&msg);
            if text.starts_with("probe-") {
                probes += 1;
                continue;
            }
            received.push(text.parse().expect("numbered payload"));
        }
        (received, probes, sub.dropped())
    });

    // The killer: five times, kill the publisher's node (first kicking the publisher off the
    // subscriber's node if it went there), bring it back and let the routes settle.
    let progress = Arc::new(Progress::default());
    let killer = {
        let progress = Arc::clone(&progress);
        let publisher = publisher.clone();
        let urls = urls.clone();
        let runtime = tokio::runtime::Handle::current();
        let mut cluster = cluster;
        tokio::task::spawn_blocking(move || {
            let mut killed = Vec::new();
            let mut kicks = 0;
            for round in 1..=KILLS {
                wait_blocking(
                    &format!(
                        "{} messages published before kill {round}",
                        round * KILL_EVERY
                    ),
                    Duration::from_secs(60),
                    || progress.published.load(Ordering::SeqCst) >= round * KILL_EVERY,
                );
                let connected = || {
                    node_index(&urls, &publisher).filter(|_| publisher.state() == State::Connected)
                };
                wait_blocking(
                    "the publisher is connected",
                    Duration::from_secs(20),
                    || connected().is_some(),
                );
                let mut node = connected().unwrap_or_else(|| unreachable!("waited for it"));
                if node == SUB_NODE {
                    runtime.block_on(kick(&sys, &publisher));
                    kicks += 1;
                    wait_blocking(
                        "the kicked publisher connects to another node",
                        Duration::from_secs(20),
                        || connected().is_some_and(|n| n != SUB_NODE),
                    );
                    node = connected().unwrap_or_else(|| unreachable!("waited for it"));
                }
                cluster.kill(node);
                progress.kills.store(round, Ordering::SeqCst);
                killed.push(node);
                std::thread::sleep(Duration::from_millis(300));
                cluster.restart(node);
                cluster.wait_for_routes();
                std::thread::sleep(Duration::from_millis(300));
            }
            (cluster, killed, kicks)
        })
    };

    let ledger = tokio::time::timeout(
        Duration::from_secs(120),
        publish_through_kills(&publisher, &progress),
    )
    .await
    .expect("the publisher finishes within 120 s");
    let (cluster, killed, kicks) = tokio::time::timeout(Duration::from_secs(60), killer)
        .await
        .expect("the killer finishes")
        .expect("killer task");
    let _ = stop.send(());
    let (received, probes, dropped) = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the reader finishes")
        .expect("reader task");

    let accepted = ledger.accepted.iter().filter(|&&a| a).count();
    let confirmed = ledger.confirmed.iter().filter(|&&c| c).count();
    let mut seen = vec![0u32; TOTAL];
    for &n in &received {
        assert!(n < TOTAL, "unexpected message {n}");
        seen[n] += 1;
    }
    let duplicates: Vec<usize> = (0..TOTAL).filter(|&n| seen[n] > 1).collect();
    let received_rejected: Vec<usize> = (0..TOTAL)
        .filter(|&n| seen[n] > 0 && !ledger.accepted[n])
        .collect();
    let lost_confirmed: Vec<usize> = (0..TOTAL)
        .filter(|&n| ledger.confirmed[n] && seen[n] == 0)
        .collect();
    let lost_unconfirmed = (0..TOTAL)
        .filter(|&n| ledger.accepted[n] && !ledger.confirmed[n] && seen[n] == 0)
        .count();
    eprintln!(
        "kills of nodes {killed:?}, {kicks} kick(s) off node {SUB_NODE}, {} reconnect(s); \
         published {TOTAL}: accepted {accepted}, rejected {}, confirmed {confirmed}; \
         received {} (+{probes} probes), lost unconfirmed {lost_unconfirmed}, lost confirmed {}, \
         duplicates {}, dropped by the subscription {dropped}; flushes ok {}, connection lost {}, \
         timed out {}, other {:?}",
        publisher.statistics().reconnects,
        ledger.rejected,
        received.len(),
        lost_confirmed.len(),
        duplicates.len(),
        ledger.flush_ok,
        ledger.flush_lost,
        ledger.flush_timed_out,
        ledger.flush_other,
    );

    assert_eq!(killed.len(), KILLS);
    assert_eq!(dropped, 0, "the subscriber kept up");
    assert!(
        duplicates.is_empty(),
        "received twice: {:?}",
        &duplicates[..duplicates.len().min(20)]
    );
    assert!(
        received_rejected.is_empty(),
        "rejected but received: {:?}",
        &received_rejected[..received_rejected.len().min(20)]
    );
    assert!(
        lost_confirmed.is_empty(),
        "{} messages confirmed by a flush never arrived, first ones: {:?}",
        lost_confirmed.len(),
        &lost_confirmed[..lost_confirmed.len().min(20)]
    );
    assert!(
        confirmed >= TOTAL / 5,
        "only {confirmed} of {TOTAL} messages were confirmed: the test proved little"
    );
    assert!(ledger.flush_other.is_empty(), "{:?}", ledger.flush_other);
    drop(cluster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lame_duck_moves_the_client() {
    let mut cluster = NatsCluster::spawn(3);
    let urls = cluster.urls();
    let ducking = 1;
    let other = 2;
    let (options, mut events) = recording_events();
    let client = options
        .dont_randomize(true)
        .lame_duck_move_within(Some(Duration::from_millis(200)))
        .connect(cluster.url(ducking))
        .await
        .expect("connect");
    let subject = "ldm.seq";
    let mut sub = client.subscribe(subject).await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");
    let publisher = ConnectOptions::new()
        .dont_randomize(true)
        .connect(cluster.url(other))
        .await
        .expect("publisher connects");
    probe_until_received(&publisher, &mut sub, subject).await;
    wait_until(
        "the client learns the other nodes",
        Duration::from_secs(10),
        || client.discovered_servers().len() == 2,
    )
    .await;

    let entered = Instant::now();
    blocking(|| cluster.node_mut(ducking).lame_duck());
    wait_for_event(&mut events, |event| *event == Event::LameDuckMode).await;
    let (_, between) = wait_for_event(&mut events, |event| *event == Event::Reconnected).await;
    let moved_after = entered.elapsed();
    let node = wait_moved_off(&urls, &client, ducking, Duration::from_secs(10)).await;
    eprintln!("lame duck: moved from node {ducking} to node {node} after {moved_after:?}");
    assert!(
        between
            .iter()
            .any(|event| matches!(event, Event::Error(text) if text.contains("lame duck mode"))),
        "the client moved by itself, not because the server closed it: {between:?}"
    );
    assert!(
        moved_after < Duration::from_secs(10),
        "moved only after {moved_after:?}, past the server's 10 s grace period"
    );

    let probes = probe_until_received(&publisher, &mut sub, subject).await;
    eprintln!("{probes} probe(s) until the moved subscription was routed");
    publish_and_receive_all(&publisher, &mut sub, subject, 100).await;
}

/// Resumes a paused node when dropped, so a failing test leaves no frozen server behind.
struct Paused<'a>(&'a mut NatsServer);

impl<'a> Paused<'a> {
    fn new(server: &'a mut NatsServer) -> Self {
        server.pause();
        Paused(server)
    }
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        if self.0.is_paused() {
            self.0.resume();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_connection_is_detected_and_the_client_moves() {
    let mut cluster = NatsCluster::spawn(3);
    let urls = cluster.urls();
    let frozen = 2;
    let client = ConnectOptions::new()
        .dont_randomize(true)
        .ping_interval(Duration::from_millis(200))
        .max_outstanding_pings(2)
        .reconnect_time_wait(Duration::from_millis(100))
        .connect(cluster.url(frozen))
        .await
        .expect("connect");
    wait_until(
        "the client learns the other nodes",
        Duration::from_secs(10),
        || client.discovered_servers().len() == 2,
    )
    .await;

    let paused = blocking(|| Paused::new(cluster.node_mut(frozen)));
    let paused_at = Instant::now();
    let moved = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(node) = node_index(&urls, &client) {
                if node != frozen && client.state() == State::Connected {
                    return node;
                }
            }
            tokio::time::sleep(POLL).await;
        }
    })
    .await;
    let took = paused_at.elapsed();
    drop(paused);

    let node = moved.unwrap_or_else(|_| {
        panic!(
            "still not on another node 10 s after the freeze: {:?}, {:?}, last error {:?}",
            client.connected_url(),
            client.state(),
            client.last_error()
        )
    });
    eprintln!("stale connection: moved from node {frozen} to node {node} after {took:?}");
    let last_error = client.last_error().unwrap_or_default();
    assert!(
        last_error.contains("stale connection"),
        "last error: {last_error:?}"
    );
    within("flush on the new node", client.flush())
        .await
        .expect("flush on the new node");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_on_initial_connect_against_a_server_started_later() {
    let mut server = NatsServer::spawn();
    let url = server.url();
    server.stop();

    let (options, mut events) = recording_events();
    let client = options
        .retry_on_initial_connect(true)
        .reconnect_time_wait(Duration::from_millis(100))
        .max_reconnect_attempts(None)
        .connect(url.clone())
        .await
        .expect("with retry_on_initial_connect, connect returns a client");
    assert_eq!(client.state(), State::Connecting);
    assert_eq!(client.connected_url(), None);
    let mut sub = client
        .subscribe("late.greeting")
        .await
        .expect("subscribe while connecting");
    client
        .publish("late.greeting", "buffered")
        .await
        .expect("publish while connecting is buffered");

    blocking(|| server.start_again());
    let (_, before) = wait_for_event(&mut events, |event| *event == Event::Connected).await;
    assert!(
        before.iter().all(|event| matches!(event, Event::Error(_))),
        "only errors before the first connection: {before:?}"
    );
    assert_eq!(client.state(), State::Connected);
    assert_eq!(client.connected_url(), Some(url.clone()));
    within("flush", client.flush()).await.expect("flush");

    let other = nats_core::connect(url).await.expect("second client");
    other
        .publish("late.greeting", "hello")
        .await
        .expect("publish");
    within("flush", other.flush()).await.expect("flush");
    let mut got = Vec::new();
    for _ in 0..2 {
        let msg = within("a greeting", sub.next())
            .await
            .expect("subscription alive");
        got.push(payload_string(&msg));
    }
    assert_eq!(got, ["buffered", "hello"]);
}
