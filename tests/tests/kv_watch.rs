//! Key-Value watches against real servers: order and the "initial values done" signal (for
//! full, empty, tombstone-only and updates-only ranges), history, ignore-deletes, headers only,
//! several filters, keys and history built on them, purging old delete markers, and a watch
//! that survives a server restart without a gap, a repeat or a leaked consumer.

use std::time::Duration;

use nats_core::kv::{Entry, KvConfig, Operation, Store, Watch, WatchEvent, WatchOptions};
use nats_tests::{within, NatsServer};

async fn bucket(server: &NatsServer, name: &str, history: u8) -> Store {
    let client = within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect");
    within(
        "create bucket",
        client.jetstream().create_key_value(KvConfig {
            history,
            ..KvConfig::new(name)
        }),
    )
    .await
    .expect("create bucket")
}

/// The next event, within the harness's bound.
async fn next(watch: &mut Watch) -> WatchEvent {
    within("watch event", watch.next())
        .await
        .expect("the watch ended")
        .expect("watch error")
}

/// The entries up to the done signal.
async fn initial(watch: &mut Watch) -> Vec<Entry> {
    let mut entries = Vec::new();
    loop {
        match next(watch).await {
            WatchEvent::Entry(entry) => entries.push(entry),
            WatchEvent::InitialValuesDone => return entries,
        }
    }
}

fn shown(entries: &[Entry]) -> Vec<(String, String, Operation)> {
    entries
        .iter()
        .map(|e| {
            (
                e.key.clone(),
                String::from_utf8_lossy(&e.value).into_owned(),
                e.operation,
            )
        })
        .collect()
}

fn put(key: &str, value: &str) -> (String, String, Operation) {
    (key.to_owned(), value.to_owned(), Operation::Put)
}

async fn expect_entry(watch: &mut Watch) -> Entry {
    match next(watch).await {
        WatchEvent::Entry(entry) => entry,
        WatchEvent::InitialValuesDone => panic!("a second done signal"),
    }
}

#[tokio::test]
async fn latest_values_in_order_then_done_then_updates() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(&server, "watched", 5).await;
    kv.put("a", "1").await.expect("put");
    kv.put("b", "2").await.expect("put");
    kv.put("a", "3").await.expect("put");
    let mut watch = kv.watch_all().await.expect("watch");
    let entries = initial(&mut watch).await;
    assert_eq!(
        shown(&entries),
        [put("b", "2"), put("a", "3")],
        "latest per key, in revision order"
    );
    assert!(entries[0].revision < entries[1].revision);
    kv.put("c", "4").await.expect("put");
    kv.delete("b").await.expect("delete");
    let update = expect_entry(&mut watch).await;
    assert_eq!((update.key.as_str(), &update.value[..]), ("c", &b"4"[..]));
    let deleted = expect_entry(&mut watch).await;
    assert_eq!(
        (deleted.key.as_str(), deleted.operation),
        ("b", Operation::Delete)
    );
}

#[tokio::test]
async fn an_empty_bucket_signals_done_at_once() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(&server, "empty", 1).await;
    let mut watch = kv.watch_all().await.expect("watch");
    assert_eq!(next(&mut watch).await, WatchEvent::InitialValuesDone);
    kv.put("first", "x").await.expect("put");
    assert_eq!(expect_entry(&mut watch).await.key, "first");

    // A filter that matches nothing of a non-empty bucket is empty too.
    let mut other = kv.watch("nothing.here.>").await.expect("watch");
    assert_eq!(next(&mut other).await, WatchEvent::InitialValuesDone);
}

#[tokio::test]
async fn tombstones_only_with_ignore_deletes_still_signal_done() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(&server, "tombs", 1).await;
    for key in ["x", "y"] {
        kv.put(key, "v").await.expect("put");
        kv.delete(key).await.expect("delete");
    }
    let options = WatchOptions {
        ignore_deletes: true,
        ..WatchOptions::default()
    };
    let mut watch = kv.watch_with(&[">"], options).await.expect("watch");
    assert_eq!(
        next(&mut watch).await,
        WatchEvent::InitialValuesDone,
        "no entry is shown, done still comes"
    );
    kv.put("z", "alive").await.expect("put");
    assert_eq!(expect_entry(&mut watch).await.key, "z");
}

#[tokio::test]
async fn updates_only_history_headers_only_and_several_filters() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(&server, "options", 10).await;
    for (key, value) in [("a.1", "v1"), ("b.1", "v2"), ("a.1", "v3"), ("c.1", "v4")] {
        kv.put(key, value).await.expect("put");
    }
    let updates = WatchOptions {
        updates_only: true,
        ..WatchOptions::default()
    };
    let mut watch = kv.watch_with(&[">"], updates).await.expect("watch");
    assert_eq!(next(&mut watch).await, WatchEvent::InitialValuesDone);
    kv.put("b.1", "v5").await.expect("put");
    assert_eq!(shown(&[expect_entry(&mut watch).await]), [put("b.1", "v5")]);

    let history = WatchOptions {
        include_history: true,
        ..WatchOptions::default()
    };
    let mut watch = kv.watch_with(&["a.*"], history).await.expect("watch");
    assert_eq!(
        shown(&initial(&mut watch).await),
        [put("a.1", "v1"), put("a.1", "v3")]
    );

    let mut watch = kv
        .watch_with(&["a.*", "c.>"], WatchOptions::default())
        .await
        .expect("watch");
    assert_eq!(
        shown(&initial(&mut watch).await),
        [put("a.1", "v3"), put("c.1", "v4")]
    );

    let meta = WatchOptions {
        headers_only: true,
        ..WatchOptions::default()
    };
    let mut watch = kv.watch_with(&["c.1"], meta).await.expect("watch");
    let entries = initial(&mut watch).await;
    assert_eq!(entries.len(), 1);
    assert!(entries[0].value.is_empty(), "headers only: no value");

    let from = kv
        .entry("a.1")
        .await
        .expect("entry")
        .expect("present")
        .revision;
    let resume = WatchOptions {
        from_revision: Some(from),
        ..WatchOptions::default()
    };
    let mut watch = kv.watch_with(&[">"], resume).await.expect("watch");
    let entries = initial(&mut watch).await;
    assert_eq!(
        entries.first().map(|e| e.revision),
        Some(from),
        "resumes at the revision"
    );
    assert!(entries.iter().all(|e| e.revision >= from));
}

#[tokio::test]
async fn keys_history_and_purging_old_markers() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(&server, "listing", 5).await;
    assert!(
        kv.keys().await.expect("keys").is_empty(),
        "an empty bucket has no keys"
    );
    for key in ["a", "b", "c", "d"] {
        kv.put(key, "1").await.expect("put");
    }
    kv.put("a", "2").await.expect("put");
    kv.delete("b").await.expect("delete");
    kv.purge("c").await.expect("purge");
    let mut keys = kv.keys().await.expect("keys");
    keys.sort();
    assert_eq!(keys, ["a", "d"], "deleted and purged keys are not keys");

    let history = kv.history("a").await.expect("history");
    assert_eq!(shown(&history), [put("a", "1"), put("a", "2")]);
    let history = kv.history("b").await.expect("history");
    assert_eq!(
        history.iter().map(|e| e.operation).collect::<Vec<_>>(),
        [Operation::Put, Operation::Delete]
    );
    assert!(kv.history("never").await.expect("history").is_empty());

    // Markers younger than an hour stay; `None` removes every marker and what it hides.
    kv.purge_deletes(Some(Duration::from_secs(3600)))
        .await
        .expect("purge young");
    assert_eq!(
        kv.history("b").await.expect("history").len(),
        1,
        "the young marker is kept alone"
    );
    kv.purge_deletes(None).await.expect("purge all");
    assert!(kv.history("b").await.expect("history").is_empty());
    assert!(kv.history("c").await.expect("history").is_empty());
    assert_eq!(
        shown(&kv.history("a").await.expect("history")),
        [put("a", "1"), put("a", "2")],
        "values untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_survives_a_server_restart_without_gaps_repeats_or_leaks() {
    let mut server = NatsServer::spawn_jetstream();
    let kv = bucket(&server, "durable", 1).await;
    for i in 0..20 {
        kv.put(&format!("k{i}"), "before").await.expect("put");
    }
    let mut watch = kv.watch_all().await.expect("watch");
    let seen = initial(&mut watch).await;
    assert_eq!(seen.len(), 20);
    let last = seen.last().map(|e| e.revision).expect("entries");

    server.restart();
    // Writes after the restart (retried while JetStream comes back).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut written = Vec::new();
    for i in 0..10 {
        let revision = loop {
            match kv.put(&format!("after{i}"), "after").await {
                Ok(revision) => break revision,
                Err(error) => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "no write after the restart: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        written.push(revision);
    }
    let mut revisions = Vec::new();
    while revisions.len() < written.len() {
        let entry = expect_entry(&mut watch).await;
        assert!(
            entry.revision > last,
            "revision {} was delivered before the restart",
            entry.revision
        );
        revisions.push(entry.revision);
    }
    assert_eq!(revisions, written, "every update once, in order");

    // Only the watch's current consumer remains.
    let info = kv.context().stream_info("KV_durable").await.expect("info");
    assert!(
        info.state.consumer_count <= 1,
        "{} consumers left",
        info.state.consumer_count
    );
    drop(watch);
}
