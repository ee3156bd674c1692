//! The Object Store against a real server: round trips of every size around the chunk
//! boundaries with the digest other clients compute, listing, replacement purging the old
//! chunks, deletion, a tampered object detected, links, metadata updates and renames, and a
//! sealed bucket.

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use nats_core::jetstream::{Context, PublishOptions};
use nats_core::object_store::{
    ObjectMeta, ObjectStore, ObjectStoreConfig, ObjectStoreErrorKind, DEFAULT_CHUNK_SIZE,
};
use nats_core::HeaderMap;
use nats_tests::{within, NatsServer};
use sha2::{Digest, Sha256};

/// Deterministic bytes: `len` of them from `seed`.
fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn digest_of(bytes: &[u8]) -> String {
    format!("SHA-256={}", URL_SAFE.encode(Sha256::digest(bytes)))
}

async fn bucket(server: &NatsServer, name: &str) -> (Context, ObjectStore) {
    let client = within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect");
    let js = client.jetstream();
    let store = within(
        "create bucket",
        js.create_object_store(ObjectStoreConfig::new(name)),
    )
    .await
    .expect("create bucket");
    (js, store)
}

#[tokio::test]
async fn objects_round_trip_at_every_chunk_boundary() {
    let server = NatsServer::spawn_jetstream();
    let (_, files) = bucket(&server, "files").await;
    let chunk = DEFAULT_CHUNK_SIZE;
    for (i, len) in [0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + chunk / 2]
        .into_iter()
        .enumerate()
    {
        let name = format!("object-{len}");
        let bytes = data(len, i as u8);
        let info = files
            .put_bytes(name.as_str(), bytes.clone())
            .await
            .expect("put");
        assert_eq!(info.size, len as u64);
        assert_eq!(info.chunks, len.div_ceil(chunk) as u64, "{len}");
        assert_eq!(
            info.digest,
            digest_of(&bytes),
            "the digest other clients compute"
        );
        let back = files.get_bytes(&name).await.expect("get");
        assert_eq!(back.len(), len);
        assert!(back[..] == bytes[..], "{len} bytes came back different");
        let stored = files.info(&name).await.expect("info");
        assert_eq!(
            (stored.nuid.as_str(), stored.size),
            (info.nuid.as_str(), info.size)
        );
    }
    // Small chunks of one's own.
    let meta = ObjectMeta {
        chunk_size: Some(1000),
        description: Some("small chunks".into()),
        ..ObjectMeta::new("tiny-chunks")
    };
    let bytes = data(10_500, 9);
    let info = files.put(meta, &mut &bytes[..]).await.expect("put");
    assert_eq!((info.chunks, info.options.max_chunk_size), (11, Some(1000)));
    assert!(files.get_bytes("tiny-chunks").await.expect("get")[..] == bytes[..]);

    let mut names: Vec<String> = files
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.name)
        .collect();
    names.sort();
    assert_eq!(names.len(), 7);
    assert!(names.contains(&"object-0".to_owned()) && names.contains(&"tiny-chunks".to_owned()));
}

#[tokio::test]
async fn replacing_and_deleting_purge_the_chunks() {
    let server = NatsServer::spawn_jetstream();
    let (_, files) = bucket(&server, "docs").await;
    let big = data(5 * DEFAULT_CHUNK_SIZE, 1);
    files.put_bytes("report", big).await.expect("put");
    let before = files.status().await.expect("status").info.state.messages;
    assert_eq!(before, 6, "5 chunks and the metadata");
    let small = data(10, 2);
    files
        .put_bytes("report", small.clone())
        .await
        .expect("replace");
    let after = files.status().await.expect("status").info.state.messages;
    assert_eq!(
        after, 2,
        "the old chunks are purged: 1 chunk and the metadata"
    );
    assert!(files.get_bytes("report").await.expect("get")[..] == small[..]);

    files.delete("report").await.expect("delete");
    assert_eq!(
        files.info("report").await.expect_err("deleted").kind(),
        ObjectStoreErrorKind::NotFound
    );
    assert_eq!(
        files.get("report").await.expect_err("deleted").kind(),
        ObjectStoreErrorKind::NotFound
    );
    assert!(
        files.list().await.expect("list").is_empty(),
        "deleted objects are not listed"
    );
    assert_eq!(
        files.status().await.expect("status").info.state.messages,
        1,
        "only the deleted marker"
    );
    assert_eq!(
        files.delete("report").await.expect_err("twice").kind(),
        ObjectStoreErrorKind::NotFound
    );
    assert_eq!(
        files.info("").await.expect_err("empty name").kind(),
        ObjectStoreErrorKind::InvalidName
    );
}

#[tokio::test]
async fn a_tampered_object_is_detected() {
    let server = NatsServer::spawn_jetstream();
    let (js, files) = bucket(&server, "tamper").await;
    // 3 chunks are read by direct gets, 8 through an ordered consumer: both must notice.
    for (name, chunks) in [("photo", 3), ("video", 8)] {
        let bytes = data(chunks * DEFAULT_CHUNK_SIZE, 3);
        let info = files.put_bytes(name, bytes).await.expect("put");
        let first_chunk = js
            .get_message(
                "OBJ_tamper",
                nats_core::jetstream::MessageSelector::next_by_subject(
                    format!("$O.tamper.C.{}", info.nuid),
                    0,
                ),
            )
            .await
            .expect("a chunk");
        js.delete_message("OBJ_tamper", first_chunk.sequence + 1)
            .await
            .expect("delete a chunk");
        let error = within("read", files.get_bytes(name))
            .await
            .expect_err("a chunk is missing");
        assert_eq!(
            error.kind(),
            ObjectStoreErrorKind::DigestMismatch,
            "{name}: {error}"
        );
    }
    let bytes = data(3 * DEFAULT_CHUNK_SIZE, 3);
    let info = files.put_bytes("photo", bytes).await.expect("put");

    // A chunk removed behind the bucket's back.
    let first_chunk = js
        .get_message(
            "OBJ_tamper",
            nats_core::jetstream::MessageSelector::next_by_subject(
                format!("$O.tamper.C.{}", info.nuid),
                0,
            ),
        )
        .await
        .expect("a chunk");
    js.delete_message("OBJ_tamper", first_chunk.sequence)
        .await
        .expect("delete a chunk");
    let error = files
        .get_bytes("photo")
        .await
        .expect_err("a chunk is missing");
    assert_eq!(
        error.kind(),
        ObjectStoreErrorKind::DigestMismatch,
        "{error}"
    );

    // Metadata whose digest is not the contents'.
    files.put_bytes("note", "the real text").await.expect("put");
    let mut forged = files.info("note").await.expect("info");
    forged.digest = digest_of(b"something else");
    let mut headers = HeaderMap::new();
    headers.insert("Nats-Rollup", "sub");
    js.publish_with(
        format!("$O.tamper.M.{}", URL_SAFE.encode("note")),
        serde_json::to_vec(&forged).expect("json"),
        PublishOptions::new().headers(headers),
    )
    .await
    .expect("forge");
    let mut reader = files.get("note").await.expect("open");
    let mut sink = Vec::new();
    let error = tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut sink)
        .await
        .expect_err("the digest differs");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("digest"), "{error}");
}

#[tokio::test]
async fn links_to_objects_and_buckets() {
    let server = NatsServer::spawn_jetstream();
    let (js, files) = bucket(&server, "main").await;
    let other = js
        .create_object_store(ObjectStoreConfig::new("other"))
        .await
        .expect("other");
    let target = other
        .put_bytes("shared.txt", "shared text")
        .await
        .expect("put");

    let link = files.add_link("alias", &target).await.expect("link");
    assert!(link.is_link());
    assert_eq!(
        &files.get_bytes("alias").await.expect("follow the link")[..],
        b"shared text"
    );
    // No link to a link, no link over a real object, bucket links cannot be read.
    let error = files
        .add_link("alias2", &link)
        .await
        .expect_err("link to a link");
    assert_eq!(error.kind(), ObjectStoreErrorKind::InvalidLink);
    files.put_bytes("real", "x").await.expect("put");
    let error = files
        .add_link("real", &target)
        .await
        .expect_err("over an object");
    assert_eq!(error.kind(), ObjectStoreErrorKind::InvalidLink);
    files
        .add_bucket_link("everything", &other)
        .await
        .expect("bucket link");
    let error = files.get("everything").await.expect_err("a bucket link");
    assert_eq!(error.kind(), ObjectStoreErrorKind::InvalidLink);
    // A link to a deleted object reads as not found.
    other.delete("shared.txt").await.expect("delete the target");
    assert_eq!(
        files.get("alias").await.expect_err("target gone").kind(),
        ObjectStoreErrorKind::NotFound
    );
}

#[tokio::test]
async fn metadata_updates_renames_and_seal() {
    let server = NatsServer::spawn_jetstream();
    let (js, files) = bucket(&server, "meta").await;
    files.put_bytes("draft.txt", "text").await.expect("put");
    files.put_bytes("taken.txt", "other").await.expect("put");
    let renamed = files
        .update_meta(
            "draft.txt",
            ObjectMeta {
                description: Some("final".into()),
                ..ObjectMeta::new("final.txt")
            },
        )
        .await
        .expect("rename");
    assert_eq!(renamed.description.as_deref(), Some("final"));
    assert_eq!(
        files.info("draft.txt").await.expect_err("old name").kind(),
        ObjectStoreErrorKind::NotFound
    );
    assert_eq!(
        &files.get_bytes("final.txt").await.expect("new name")[..],
        b"text"
    );
    let error = files
        .update_meta("final.txt", "taken.txt")
        .await
        .expect_err("taken");
    assert_eq!(error.kind(), ObjectStoreErrorKind::InvalidName);

    files.seal().await.expect("seal");
    assert!(files.status().await.expect("status").sealed);
    let error = files.put_bytes("late.txt", "no").await.expect_err("sealed");
    assert_eq!(error.kind(), ObjectStoreErrorKind::Sealed, "{error}");
    assert_eq!(
        &files.get_bytes("final.txt").await.expect("still readable")[..],
        b"text"
    );

    let mut names = js.object_store_names().await.expect("names");
    names.sort();
    assert_eq!(names, ["meta"]);
    js.delete_object_store("meta").await.expect("delete bucket");
    assert_eq!(
        js.object_store("meta").await.expect_err("gone").kind(),
        ObjectStoreErrorKind::BucketNotFound
    );
}

#[tokio::test]
async fn a_watch_sees_current_objects_then_every_change() {
    let server = NatsServer::spawn_jetstream();
    let (_, files) = bucket(&server, "watched").await;
    files.put_bytes("one", "1").await.expect("put");
    files.put_bytes("two", "2").await.expect("put");
    let mut watch = files.watch(true).await.expect("watch");
    let mut names = Vec::new();
    for _ in 0..2 {
        let info = within("current", watch.next())
            .await
            .expect("open")
            .expect("info");
        names.push(info.name);
    }
    assert_eq!(names, ["one", "two"]);
    files.put_bytes("three", "3").await.expect("put");
    let added = within("added", watch.next())
        .await
        .expect("open")
        .expect("info");
    assert_eq!(
        (added.name.as_str(), added.size, added.deleted),
        ("three", 1, false)
    );
    files.delete("one").await.expect("delete");
    let deleted = within("deleted", watch.next())
        .await
        .expect("open")
        .expect("info");
    assert_eq!((deleted.name.as_str(), deleted.deleted), ("one", true));

    // Updates only.
    let mut live = files.watch(false).await.expect("watch");
    files.put_bytes("four", "4").await.expect("put");
    let next = within("live", live.next())
        .await
        .expect("open")
        .expect("info");
    assert_eq!(next.name, "four");
}
