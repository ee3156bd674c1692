//! JetStream consumer management against a real server: create / info / update / delete,
//! the `action` rules (create of an existing consumer with another config fails, create of
//! the same config does not, update of an absent one fails, create-or-update does both),
//! ephemerals with generated names, names and list over more than one page, pause and
//! resume, and the handles of streams and consumers.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::within;
use nats_core::jetstream::{
    AckPolicy, ConsumerConfig, Context, DeliverPolicy, ErrorCode, JetStreamErrorKind, StorageType,
    StreamConfig,
};
use nats_tests::NatsServer;
use tokio::task::JoinSet;

async fn jetstream(server: &NatsServer) -> Context {
    let client = within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect");
    client.jetstream()
}

async fn memory_stream(js: &Context, name: &str, subjects: &[&str]) {
    let config = StreamConfig {
        subjects: subjects.iter().map(|s| s.to_string()).collect(),
        storage: StorageType::Memory,
        ..StreamConfig::new(name)
    };
    within("create stream", js.create_stream(&config))
        .await
        .expect("create stream");
}

/// `major.minor` of the server the context's client is connected to.
fn minor_version(js: &Context) -> (u32, u32) {
    let version = js.client().server_version();
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_durable_consumer_is_created_read_updated_and_deleted() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    memory_stream(&js, "S", &["s.>"]).await;
    for i in 0..3 {
        js.publish(format!("s.{i}"), "x").await.expect("publish");
    }

    let config = ConsumerConfig {
        description: Some("first".into()),
        filter_subject: Some("s.1".into()),
        ack_wait: Some(Duration::from_secs(7)),
        max_deliver: Some(3),
        ..ConsumerConfig::durable("D")
    };
    let created = within("create", js.create_consumer("S", &config))
        .await
        .expect("create");
    assert_eq!(
        (created.stream_name.as_str(), created.name.as_str()),
        ("S", "D")
    );
    assert_eq!(created.config.ack_policy, AckPolicy::Explicit);
    assert_eq!(created.config.ack_wait, Some(Duration::from_secs(7)));
    assert_eq!(created.config.filter_subject.as_deref(), Some("s.1"));
    assert_eq!(created.num_pending, 1, "one message on s.1");

    let info = within("info", js.consumer_info("S", "D"))
        .await
        .expect("info");
    assert_eq!(info.config.description.as_deref(), Some("first"));
    assert_eq!(info.config.max_deliver, Some(3));

    let changed = ConsumerConfig {
        description: Some("second".into()),
        ..config.clone()
    };
    let updated = within("update", js.update_consumer("S", &changed))
        .await
        .expect("update");
    assert_eq!(updated.config.description.as_deref(), Some("second"));

    within("delete", js.delete_consumer("S", "D"))
        .await
        .expect("delete");
    let err = within("info", js.consumer_info("S", "D"))
        .await
        .expect_err("deleted");
    assert_eq!(err.kind(), JetStreamErrorKind::ConsumerNotFound);
    assert_eq!(err.error_code(), Some(ErrorCode::CONSUMER_NOT_FOUND));
    let err = within("delete", js.delete_consumer("S", "D"))
        .await
        .expect_err("deleted twice");
    assert_eq!(err.kind(), JetStreamErrorKind::ConsumerNotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_action_rules_hold() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    memory_stream(&js, "S", &["s.>"]).await;
    if minor_version(&js) < (2, 10) {
        eprintln!("skipped: servers before 2.10 ignore the action field");
        return;
    }
    let config = ConsumerConfig {
        description: Some("one".into()),
        ..ConsumerConfig::durable("D")
    };
    within("create", js.create_consumer("S", &config))
        .await
        .expect("create");
    within("same again", js.create_consumer("S", &config))
        .await
        .expect("creating the same config again is not an error");

    let other = ConsumerConfig {
        description: Some("two".into()),
        ..config.clone()
    };
    let err = within("create other", js.create_consumer("S", &other))
        .await
        .expect_err("another config");
    assert_eq!(err.kind(), JetStreamErrorKind::ConsumerAlreadyExists);
    assert_eq!(err.error_code(), Some(ErrorCode::CONSUMER_ALREADY_EXISTS));
    let info = within("info", js.consumer_info("S", "D"))
        .await
        .expect("still there");
    assert_eq!(info.config.description.as_deref(), Some("one"), "unchanged");

    let err = within(
        "update absent",
        js.update_consumer("S", &ConsumerConfig::durable("X")),
    )
    .await
    .expect_err("absent");
    assert_eq!(err.kind(), JetStreamErrorKind::ConsumerNotFound);
    assert_eq!(err.error_code(), Some(ErrorCode::CONSUMER_DOES_NOT_EXIST));
    let err = within("names", js.consumer_names("S"))
        .await
        .expect("names");
    assert_eq!(
        err,
        vec!["D".to_owned()],
        "the failed update created nothing"
    );

    let upserted = within("upsert", js.create_or_update_consumer("S", &other))
        .await
        .expect("create or update an existing one");
    assert_eq!(upserted.config.description.as_deref(), Some("two"));
    let fresh = within(
        "upsert",
        js.create_or_update_consumer("S", &ConsumerConfig::durable("N")),
    )
    .await
    .expect("create or update an absent one");
    assert_eq!(fresh.name, "N");

    let err = within(
        "update without name",
        js.update_consumer("S", &ConsumerConfig::default()),
    )
    .await
    .expect_err("no name");
    assert_eq!(err.kind(), JetStreamErrorKind::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemerals_get_names_and_filters_are_checked() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    memory_stream(&js, "S", &["s.>"]).await;

    let generated = within(
        "ephemeral",
        js.create_consumer("S", &ConsumerConfig::default()),
    )
    .await
    .expect("ephemeral");
    assert!(!generated.name.is_empty());
    assert_eq!(generated.config.durable_name, None);
    assert!(
        generated.config.inactive_threshold.is_some(),
        "server default"
    );

    let wildcard = ConsumerConfig {
        filter_subject: Some("s.*.x".into()),
        deliver_policy: DeliverPolicy::New,
        ..ConsumerConfig::ephemeral("W")
    };
    let info = within("wildcard filter", js.create_consumer("S", &wildcard))
        .await
        .expect("wildcard filter");
    assert_eq!(info.config.filter_subject.as_deref(), Some("s.*.x"));
    assert_eq!(info.config.deliver_policy, DeliverPolicy::New);

    if minor_version(&js) >= (2, 10) {
        let many = ConsumerConfig {
            filter_subjects: vec!["s.a".into(), "s.b.>".into()],
            ..ConsumerConfig::durable("M")
        };
        let info = within("filters", js.create_consumer("S", &many))
            .await
            .expect("filter_subjects");
        assert_eq!(info.config.filter_subjects, many.filter_subjects);
        let overlapping = ConsumerConfig {
            filter_subjects: vec!["s.>".into(), "s.a".into()],
            ..ConsumerConfig::durable("O")
        };
        let err = within("overlap", js.create_consumer("S", &overlapping))
            .await
            .expect_err("overlapping filters");
        assert_eq!(
            err.error_code(),
            Some(ErrorCode::CONSUMER_OVERLAPPING_SUBJECT_FILTERS)
        );
    }

    let err = within(
        "missing stream",
        js.create_consumer("NOPE", &ConsumerConfig::durable("D")),
    )
    .await
    .expect_err("no stream");
    assert_eq!(err.kind(), JetStreamErrorKind::StreamNotFound);
    let err = within("bad name", js.consumer_info("S", "a.b"))
        .await
        .expect_err("bad name");
    assert_eq!(err.kind(), JetStreamErrorKind::InvalidName);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_and_list_cover_more_than_one_page() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    memory_stream(&js, "S", &["s.>"]).await;
    const COUNT: usize = 300;
    let mut tasks = JoinSet::new();
    for chunk in 0..10 {
        let js = js.clone();
        tasks.spawn(async move {
            for i in (chunk..COUNT).step_by(10) {
                let config = ConsumerConfig {
                    inactive_threshold: Some(Duration::from_secs(600)),
                    ..ConsumerConfig::ephemeral(format!("c{i:03}"))
                };
                js.create_consumer("S", &config).await.expect("create");
            }
        });
    }
    within("create 300 consumers", async {
        while let Some(done) = tasks.join_next().await {
            done.expect("creator task");
        }
    })
    .await;

    let names = within("names", js.consumer_names("S"))
        .await
        .expect("names");
    let expected: BTreeSet<String> = (0..COUNT).map(|i| format!("c{i:03}")).collect();
    assert_eq!(names.len(), COUNT);
    assert_eq!(names.into_iter().collect::<BTreeSet<_>>(), expected);

    let list = within("list", js.consumers("S")).await.expect("list");
    assert_eq!(list.consumers.len(), COUNT, "more than one page of 256");
    let listed: BTreeSet<String> = list.consumers.into_iter().map(|c| c.name).collect();
    assert_eq!(listed, expected);
    assert!(list.missing.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_pauses_and_resumes() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    memory_stream(&js, "S", &["s.>"]).await;
    if minor_version(&js) < (2, 11) {
        eprintln!("skipped: pausing needs nats-server 2.11");
        return;
    }
    within(
        "create",
        js.create_consumer("S", &ConsumerConfig::durable("D")),
    )
    .await
    .expect("create");
    let until = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let paused = within("pause", js.pause_consumer("S", "D", until))
        .await
        .expect("pause");
    assert!(paused.paused);
    let deadline = paused.pause_until.expect("a deadline");
    assert!(
        (deadline - until).abs() < time::Duration::seconds(1),
        "{deadline}"
    );
    assert!(paused
        .pause_remaining
        .is_some_and(|r| r > Duration::from_secs(3000)));
    let info = within("info", js.consumer_info("S", "D"))
        .await
        .expect("info");
    assert!(info.paused);
    assert!(info.config.pause_until.is_some());

    let resumed = within("resume", js.resume_consumer("S", "D"))
        .await
        .expect("resume");
    assert!(!resumed.paused);
    assert_eq!(resumed.pause_until, None);
    let info = within("info", js.consumer_info("S", "D"))
        .await
        .expect("info");
    assert!(!info.paused);

    let err = within("pause absent", js.pause_consumer("S", "X", until))
        .await
        .expect_err("absent");
    assert_eq!(err.kind(), JetStreamErrorKind::ConsumerNotFound);

    let created_paused = ConsumerConfig {
        pause_until: Some(until),
        ..ConsumerConfig::durable("P")
    };
    let info = within("create paused", js.create_consumer("S", &created_paused))
        .await
        .expect("create paused");
    assert!(info.paused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_and_consumer_handles() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    memory_stream(&js, "S", &["s.>"]).await;
    let mut stream = within("stream", js.stream("S")).await.expect("stream");
    assert_eq!(stream.name(), "S");
    js.publish("s.1", "x").await.expect("publish");
    assert_eq!(stream.cached_info().state.messages, 0);
    let info = within("refresh", stream.info()).await.expect("refresh");
    assert_eq!(info.state.messages, 1);

    let mut consumer = within(
        "create",
        stream.create_consumer(&ConsumerConfig::durable("D")),
    )
    .await
    .expect("create");
    assert_eq!((consumer.stream_name(), consumer.name()), ("S", "D"));
    assert_eq!(consumer.cached_info().num_pending, 1);
    let again = within("get", stream.consumer("D")).await.expect("get");
    assert_eq!(again.name(), "D");
    let info = within("info", consumer.info()).await.expect("info");
    assert_eq!(info.name, "D");
    assert_eq!(
        within("names", stream.consumer_names())
            .await
            .expect("names"),
        vec!["D".to_owned()]
    );

    let push = ConsumerConfig {
        deliver_subject: Some("deliver.here".into()),
        ..ConsumerConfig::durable("PUSH")
    };
    let err = within("push via pull handle", stream.create_consumer(&push))
        .await
        .expect_err("push config");
    assert_eq!(err.kind(), JetStreamErrorKind::InvalidRequest);
    within("push", js.create_consumer("S", &push))
        .await
        .expect("a push consumer through the context");
    let err = within("pull handle of push", js.consumer("S", "PUSH"))
        .await
        .expect_err("push consumer");
    assert_eq!(err.kind(), JetStreamErrorKind::InvalidRequest);

    within("delete", stream.delete_consumer("D"))
        .await
        .expect("delete");
    let err = within("get deleted", stream.consumer("D"))
        .await
        .expect_err("deleted");
    assert_eq!(err.kind(), JetStreamErrorKind::ConsumerNotFound);
    let err = within("missing stream", js.stream("NOPE"))
        .await
        .expect_err("no stream");
    assert_eq!(err.kind(), JetStreamErrorKind::StreamNotFound);
}
