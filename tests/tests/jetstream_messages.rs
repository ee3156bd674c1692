//! Stored messages against a real server: get by sequence, last and next by subject, direct
//! get in both forms, delete and erase, and stream info with subjects and deleted details
//! over more than one page.

mod common;

use common::within;
use nats_core::jetstream::{
    Context, ErrorCode, JetStreamErrorKind, MessageSelector, PublishOptions, StorageType,
    StreamConfig, StreamInfoOptions,
};
use nats_core::HeaderMap;
use nats_tests::NatsServer;

async fn jetstream(server: &NatsServer) -> Context {
    let client = within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect");
    client.jetstream()
}

/// A memory stream `M` on `m.>` holding, in order: `m.a` "a1" (with a header), `m.b` "b1",
/// `m.a` "a2", `m.b` "b2".
async fn stream_with_messages(js: &Context, allow_direct: bool) {
    let config = StreamConfig {
        subjects: vec!["m.>".into()],
        storage: StorageType::Memory,
        allow_direct,
        ..StreamConfig::new("M")
    };
    within("create", js.create_stream(&config))
        .await
        .expect("create");
    let mut headers = HeaderMap::new();
    headers.insert("Trace", "t-1");
    js.publish_with("m.a", "a1", PublishOptions::new().headers(headers))
        .await
        .expect("publish");
    for (subject, payload) in [("m.b", "b1"), ("m.a", "a2"), ("m.b", "b2")] {
        js.publish(subject, payload).await.expect("publish");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_are_read_by_sequence_and_by_subject() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    stream_with_messages(&js, false).await;

    let first = within("get", js.get_message("M", MessageSelector::sequence(1)))
        .await
        .expect("get 1");
    assert_eq!(first.subject, "m.a");
    assert_eq!(first.sequence, 1);
    assert_eq!(first.payload, "a1");
    let headers = first.headers.expect("stored headers");
    assert_eq!(headers.get("Trace"), Some("t-1"));

    let last_a = within("last", js.get_last_message("M", "m.a"))
        .await
        .expect("last m.a");
    assert_eq!((last_a.sequence, &last_a.payload[..]), (3, &b"a2"[..]));
    assert_eq!(last_a.headers, None);

    let next_b = within(
        "next",
        js.get_message("M", MessageSelector::next_by_subject("m.b", 3)),
    )
    .await
    .expect("next m.b from 3");
    assert_eq!((next_b.sequence, &next_b.payload[..]), (4, &b"b2"[..]));
    let next_any = within(
        "next",
        js.get_message("M", MessageSelector::next_by_subject("m.*", 2)),
    )
    .await
    .expect("next m.* from 2");
    assert_eq!(next_any.sequence, 2);
    assert!(first.time <= next_any.time);

    let err = within("get", js.get_message("M", MessageSelector::sequence(99)))
        .await
        .expect_err("no such sequence");
    assert_eq!(err.kind(), JetStreamErrorKind::MessageNotFound);
    assert_eq!(err.error_code(), Some(ErrorCode::NO_MESSAGE_FOUND));
    let err = within("last", js.get_last_message("M", "m.c"))
        .await
        .expect_err("nothing on m.c");
    assert_eq!(err.kind(), JetStreamErrorKind::MessageNotFound);
    let err = within("get", js.get_message("NOPE", MessageSelector::sequence(1)))
        .await
        .expect_err("no stream");
    assert_eq!(err.kind(), JetStreamErrorKind::StreamNotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_get_in_both_forms_reads_what_get_reads() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    stream_with_messages(&js, true).await;

    for selector in [
        MessageSelector::sequence(1),
        MessageSelector::last_by_subject("m.b"),
        MessageSelector::next_by_subject("m.a", 2),
    ] {
        let direct = within("direct get", js.direct_get("M", selector.clone()))
            .await
            .expect("direct get");
        let leader = within("get", js.get_message("M", selector.clone()))
            .await
            .expect("get");
        assert_eq!(direct, leader, "{selector:?}");
    }
    let first = js
        .direct_get("M", MessageSelector::sequence(1))
        .await
        .expect("direct get");
    assert_eq!(
        first.headers.as_ref().and_then(|h| h.get("Trace")),
        Some("t-1")
    );
    assert_eq!(
        first.headers.map(|h| h.len()),
        Some(1),
        "only the stored header"
    );

    let last_a = within("direct last", js.direct_get_last("M", "m.a"))
        .await
        .expect("direct last by subject");
    assert_eq!((last_a.sequence, &last_a.payload[..]), (3, &b"a2"[..]));
    let last_any = within("direct last", js.direct_get_last("M", "m.*"))
        .await
        .expect("wildcards are allowed");
    assert_eq!(last_any.sequence, 4);

    let err = within("direct", js.direct_get("M", MessageSelector::sequence(99)))
        .await
        .expect_err("not found");
    assert_eq!(err.kind(), JetStreamErrorKind::MessageNotFound);
    assert_eq!(err.api_error().map(|e| e.code), Some(404));
    let err = within("direct last", js.direct_get_last("M", "m.zzz"))
        .await
        .expect_err("not found");
    assert_eq!(err.kind(), JetStreamErrorKind::MessageNotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_get_without_allow_direct_has_no_responders() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    stream_with_messages(&js, false).await;
    let err = within("direct", js.direct_get("M", MessageSelector::sequence(1)))
        .await
        .expect_err("not allowed");
    assert_eq!(err.kind(), JetStreamErrorKind::DirectGetUnavailable);
    let err = within("direct", js.direct_get_last("NOPE", "m.a"))
        .await
        .expect_err("no stream");
    assert_eq!(err.kind(), JetStreamErrorKind::DirectGetUnavailable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_and_erased_messages_are_gone_and_listed_as_deleted() {
    let server = NatsServer::spawn_jetstream();
    let js = jetstream(&server).await;
    stream_with_messages(&js, false).await;

    within("delete", js.delete_message("M", 2))
        .await
        .expect("delete");
    within("erase", js.erase_message("M", 3))
        .await
        .expect("erase");
    for sequence in [2, 3] {
        let err = js
            .get_message("M", MessageSelector::sequence(sequence))
            .await
            .expect_err("deleted");
        assert_eq!(err.kind(), JetStreamErrorKind::MessageNotFound);
    }
    let last_a = js.get_last_message("M", "m.a").await.expect("m.a");
    assert_eq!(last_a.sequence, 1, "the erased a2 no longer counts");

    let info = within(
        "info",
        js.stream_info_with("M", StreamInfoOptions::new().deleted_details(true)),
    )
    .await
    .expect("info");
    assert_eq!(info.state.messages, 2);
    assert_eq!(info.state.num_deleted, 2);
    assert_eq!(info.state.deleted, [2, 3]);
    let plain = js.stream_info("M").await.expect("info");
    assert!(plain.state.deleted.is_empty(), "details only when asked");

    let err = within("delete", js.delete_message("M", 2))
        .await
        .expect_err("already gone");
    assert_eq!(err.kind(), JetStreamErrorKind::MessageNotFound);
    assert_eq!(err.error_code(), Some(ErrorCode::SEQUENCE_NOT_FOUND));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_info_collects_subjects_over_several_pages() {
    // The server sends 100,000 subjects per page; one page of them is over the default 1 MiB
    // max_payload, which bounds what the client reads: raise it.
    let server = NatsServer::spawn_with_config("max_payload: 8388608\njetstream: {}\n");
    let js = jetstream(&server).await;
    let config = StreamConfig {
        subjects: vec!["s.>".into()],
        storage: StorageType::Memory,
        ..StreamConfig::new("SUBJECTS")
    };
    within("create", js.create_stream(&config))
        .await
        .expect("create");
    const SUBJECTS: usize = 100_050;
    let mut acks = Vec::with_capacity(1000);
    for i in 0..SUBJECTS {
        acks.push(
            js.publish_async(format!("s.{i}"), "")
                .await
                .expect("publish"),
        );
        if acks.len() == 1000 {
            for ack in acks.drain(..) {
                ack.await.expect("ack");
            }
        }
    }
    for ack in acks {
        ack.await.expect("ack");
    }
    js.publish("s.7", "again").await.expect("publish");

    let info = within(
        "info with subjects",
        js.stream_info_with("SUBJECTS", StreamInfoOptions::new().subjects_filter(">")),
    )
    .await
    .expect("info");
    assert_eq!(info.state.num_subjects, SUBJECTS as u64);
    assert_eq!(info.state.subjects.len(), SUBJECTS);
    assert_eq!(info.state.subjects.get("s.7"), Some(&2));
    assert_eq!(info.state.subjects.get("s.100049"), Some(&1));

    let tens = within(
        "info with a filter",
        js.stream_info_with("SUBJECTS", StreamInfoOptions::new().subjects_filter("s.9")),
    )
    .await
    .expect("info");
    assert_eq!(tens.state.subjects.len(), 1);
}
