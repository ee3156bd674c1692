//! JetStream stream management against a real server: account info, create / update / info
//! / delete, conflicts, names and list over several pages, purge.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::within;
use nats_core::jetstream::{
    Context, ErrorCode, JetStreamError, JetStreamErrorKind, PurgeOptions, RetentionPolicy,
    StorageType, StreamConfig,
};
use nats_tests::NatsServer;
use tokio::task::JoinSet;

async fn jetstream(server: &NatsServer) -> Context {
    let client = within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect");
    client.jetstream()
}

fn memory_stream(name: &str, subjects: &[&str]) -> StreamConfig {
    StreamConfig {
        subjects: subjects.iter().map(|s| s.to_string()).collect(),
        storage: StorageType::Memory,
        ..StreamConfig::new(name)
    }
}

/// `major.minor` of a version such as `2.15.1`.
fn minor_version(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_info_reports_usage_and_the_api_level() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let before = within("account info", js.account_info())
        .await
        .expect("account info");
    assert_eq!(before.streams, 0);
    if minor_version(&js.client().server_version()) >= (2, 11) {
        assert!(before.api_level() >= 1, "level {}", before.api_level());
    }
    within("create", js.create_stream(&memory_stream("A", &["a"])))
        .await
        .expect("create");
    let after = within("account info", js.account_info())
        .await
        .expect("account info");
    assert_eq!(after.streams, 1);
    assert!(after.api.total > before.api.total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_jetstream_the_api_says_not_enabled() {
    let server = NatsServer::spawn();
    let js = jetstream(&server).await;
    let err = within("account info", js.account_info())
        .await
        .expect_err("jetstream is off");
    assert_eq!(err.kind(), JetStreamErrorKind::NotEnabled);
    let err = within("create", js.create_stream(&StreamConfig::new("S")))
        .await
        .expect_err("jetstream is off");
    assert_eq!(err.kind(), JetStreamErrorKind::NotEnabled);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_is_created_updated_read_and_deleted() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let mut config = StreamConfig {
        retention: RetentionPolicy::Limits,
        max_msgs: Some(100),
        duplicate_window: Some(Duration::from_secs(30)),
        description: Some("orders of the day".into()),
        metadata: [("team".to_string(), "shop".to_string())].into(),
        ..memory_stream("ORDERS", &["orders.>"])
    };
    let created = within("create", js.create_stream(&config))
        .await
        .expect("create");
    assert_eq!(created.config.name, "ORDERS");
    assert_eq!(created.config.subjects, ["orders.>"]);
    assert_eq!(created.config.storage, StorageType::Memory);
    assert_eq!(created.config.max_msgs, Some(100));
    assert_eq!(
        created.config.duplicate_window,
        Some(Duration::from_secs(30))
    );
    assert_eq!(
        created.config.metadata.get("team").map(String::as_str),
        Some("shop")
    );
    assert_eq!(created.state.messages, 0);

    config.max_msgs = Some(5);
    config.subjects.push("returns.>".into());
    let updated = within("update", js.update_stream(&config))
        .await
        .expect("update");
    assert_eq!(updated.config.max_msgs, Some(5));
    assert_eq!(updated.config.subjects, ["orders.>", "returns.>"]);

    js.publish("returns.1", "r").await.expect("publish");
    let info = within("info", js.stream_info("ORDERS"))
        .await
        .expect("info");
    assert_eq!(info.config.max_msgs, Some(5));
    assert_eq!(info.state.messages, 1);
    assert_eq!(info.created, created.created);

    // A config read back from the server can be sent again as it is.
    within("update from info", js.update_stream(&info.config))
        .await
        .expect("update with the server's own config");

    within("delete", js.delete_stream("ORDERS"))
        .await
        .expect("delete");
    let err = within("info", js.stream_info("ORDERS"))
        .await
        .expect_err("deleted");
    assert_eq!(err.kind(), JetStreamErrorKind::StreamNotFound);
    assert_eq!(err.error_code(), Some(ErrorCode::STREAM_NOT_FOUND));
    let err = within("delete", js.delete_stream("ORDERS"))
        .await
        .expect_err("deleted");
    assert_eq!(err.kind(), JetStreamErrorKind::StreamNotFound);
    let err = within("update", js.update_stream(&config))
        .await
        .expect_err("deleted");
    assert_eq!(err.kind(), JetStreamErrorKind::StreamNotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_an_existing_stream_differently_is_a_typed_conflict() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    let config = memory_stream("S", &["s.>"]);
    within("create", js.create_stream(&config))
        .await
        .expect("create");
    within("create again", js.create_stream(&config))
        .await
        .expect("the same config again is not a conflict");
    let different = StreamConfig {
        max_msgs: Some(1),
        ..config
    };
    let err = within("create", js.create_stream(&different))
        .await
        .expect_err("conflict");
    assert_eq!(err.kind(), JetStreamErrorKind::StreamNameInUse);
    assert_eq!(err.error_code(), Some(ErrorCode::STREAM_NAME_IN_USE));

    let overlapping = memory_stream("T", &["s.x"]);
    let err = within("create", js.create_stream(&overlapping))
        .await
        .expect_err("overlap");
    assert_eq!(err.kind(), JetStreamErrorKind::Api);
    assert_eq!(err.error_code(), Some(ErrorCode::STREAM_SUBJECT_OVERLAP));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_stream_names_are_refused_before_sending() {
    // Without JetStream any request would say "not enabled": these never get that far.
    let server = NatsServer::spawn();
    let js = jetstream(&server).await;
    for name in ["", "a.b", "a*", "a>", "a b", "a/b"] {
        let err = js
            .create_stream(&StreamConfig::new(name))
            .await
            .expect_err(name);
        assert_eq!(err.kind(), JetStreamErrorKind::InvalidName, "{name:?}");
        let err = js.stream_info(name).await.expect_err(name);
        assert_eq!(err.kind(), JetStreamErrorKind::InvalidName, "{name:?}");
    }
}

/// Creates `count` memory streams `<prefix><i>` on subjects `<prefix>.<i>`, 16 at a time.
async fn create_many(js: &Context, prefix: &str, count: usize) {
    let mut tasks: JoinSet<Result<(), JetStreamError>> = JoinSet::new();
    for i in 0..count {
        if tasks.len() >= 16 {
            let done = tasks.join_next().await.expect("a task is running");
            done.expect("task").expect("create");
        }
        let js = js.clone();
        let (name, subject) = (format!("{prefix}{i:04}"), format!("{prefix}.{i}"));
        tasks.spawn(async move {
            within(
                "create",
                js.create_stream(&memory_stream(&name, &[&subject])),
            )
            .await
            .map(|_| ())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("create");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_and_list_collect_every_page_with_and_without_a_filter() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    // Names come 1024 per page and infos 256 per page: 1100 streams take several of each.
    create_many(&js, "ALPHA", 300).await;
    create_many(&js, "BETA", 800).await;

    let names = within("names", js.stream_names()).await.expect("names");
    assert_eq!(names.len(), 1100);
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), 1100, "no stream twice");
    assert!(names.iter().any(|n| n == "ALPHA0000"));
    assert!(names.iter().any(|n| n == "BETA0799"));

    let list = within("list", js.streams()).await.expect("list");
    assert_eq!(list.streams.len(), 1100);
    assert!(list.missing.is_empty());
    let listed: BTreeSet<&str> = list
        .streams
        .iter()
        .map(|s| s.config.name.as_str())
        .collect();
    assert_eq!(listed, unique.iter().map(|n| n.as_str()).collect());

    let alpha = within("names", js.stream_names_filtered("ALPHA.*"))
        .await
        .expect("filtered names");
    assert_eq!(alpha.len(), 300);
    assert!(alpha.iter().all(|n| n.starts_with("ALPHA")));
    let alpha = within("list", js.streams_filtered("ALPHA.>"))
        .await
        .expect("filtered list");
    assert_eq!(alpha.streams.len(), 300);

    let name = within("by subject", js.stream_name_by_subject("BETA.7"))
        .await
        .expect("found");
    assert_eq!(name, "BETA0007");
    let err = within("by subject", js.stream_name_by_subject("GAMMA.1"))
        .await
        .expect_err("none");
    assert_eq!(err.kind(), JetStreamErrorKind::StreamNotFound);
    let none = within("names", js.stream_names_filtered("GAMMA.>"))
        .await
        .expect("empty");
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_all_by_subject_keep_and_below_a_sequence() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    within("create", js.create_stream(&memory_stream("P", &["p.>"])))
        .await
        .expect("create");
    // Sequences 1-10 on p.a, 11-20 on p.b.
    for subject in ["p.a", "p.b"] {
        for i in 0..10 {
            js.publish(subject, format!("{i}")).await.expect("publish");
        }
    }

    let purged = within(
        "purge",
        js.purge_stream("P", PurgeOptions::new().filter("p.a").keep(3)),
    )
    .await
    .expect("purge keep");
    assert_eq!(purged, 7);
    let state = js.stream_info("P").await.expect("info").state;
    assert_eq!(state.messages, 13);
    assert_eq!(state.first_seq, 8, "p.a keeps 8, 9, 10");

    let purged = within(
        "purge",
        js.purge_stream("P", PurgeOptions::new().sequence(15)),
    )
    .await
    .expect("purge below");
    assert_eq!(purged, 7, "8-10 and 11-14");
    let state = js.stream_info("P").await.expect("info").state;
    assert_eq!(
        (state.messages, state.first_seq, state.last_seq),
        (6, 15, 20)
    );

    let purged = within(
        "purge",
        js.purge_stream("P", PurgeOptions::new().filter("p.b").sequence(17)),
    )
    .await
    .expect("purge subject below");
    assert_eq!(purged, 2);

    let err = js
        .purge_stream("P", PurgeOptions::new().keep(1).sequence(3))
        .await
        .expect_err("both");
    assert_eq!(err.kind(), JetStreamErrorKind::InvalidRequest);

    let purged = within("purge", js.purge_stream("P", PurgeOptions::new()))
        .await
        .expect("purge all");
    assert_eq!(purged, 4);
    let state = js.stream_info("P").await.expect("info").state;
    assert_eq!(
        (state.messages, state.first_seq, state.last_seq),
        (0, 21, 20)
    );

    let err = within("purge", js.purge_stream("NOPE", PurgeOptions::new()))
        .await
        .expect_err("no stream");
    assert_eq!(err.kind(), JetStreamErrorKind::StreamNotFound);
}
