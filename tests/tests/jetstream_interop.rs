//! Key-Value and Object Store interop with nats-py 2.16, both ways: what one client writes the
//! other reads (values, revisions, deletes, objects with their digests), on the same server.

mod python_peer;

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use nats_core::kv::KvConfig;
use nats_core::object_store::{ObjectStoreConfig, DEFAULT_CHUNK_SIZE};
use nats_tests::NatsServer;
use python_peer::{nats_py_version, run_py_jetstream};
use serde_json::json;
use sha2::{Digest, Sha256};

fn data(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_value_entries_cross_between_us_and_nats_py() {
    nats_py_version().await;
    let server = NatsServer::spawn_jetstream();
    let url = server.url();
    let client = nats_core::connect(url.as_str()).await.expect("connect");
    let js = client.jetstream();

    // Ours → nats-py.
    let kv = js
        .create_key_value(KvConfig {
            history: 5,
            ..KvConfig::new("shared")
        })
        .await
        .expect("bucket");
    let revision = kv.put("greeting", "hello from rust").await.expect("put");
    kv.put("gone", "soon").await.expect("put");
    kv.delete("gone").await.expect("delete");
    let got = run_py_jetstream(&url, "kv-get", &["shared", "greeting"]).await;
    assert_eq!(
        got,
        json!({"value": "hello from rust", "revision": revision, "operation": null})
    );
    let gone = run_py_jetstream(&url, "kv-get", &["shared", "gone"]).await;
    assert_eq!(
        gone,
        json!({"missing": true}),
        "our delete marker is a delete to nats-py"
    );

    // nats-py → ours.
    let put = run_py_jetstream(
        &url,
        "kv-put",
        &["shared", "from.python", "hello from python"],
    )
    .await;
    let entry = kv
        .entry("from.python")
        .await
        .expect("entry")
        .expect("present");
    assert_eq!(&entry.value[..], b"hello from python");
    assert_eq!(Some(entry.revision), put["revision"].as_u64());
    // A bucket nats-py created is one of ours too, CAS included.
    run_py_jetstream(&url, "kv-put", &["pybucket", "k", "v1"]).await;
    let theirs = js.key_value("pybucket").await.expect("nats-py's bucket");
    let entry = theirs.entry("k").await.expect("entry").expect("present");
    theirs
        .update("k", "v2", entry.revision)
        .await
        .expect("update their key");
    let got = run_py_jetstream(&url, "kv-get", &["pybucket", "k"]).await;
    assert_eq!(got["value"], "v2");
    // And we watch what nats-py wrote: its keys, then the done signal.
    run_py_jetstream(&url, "kv-put", &["pybucket", "other.key", "from python"]).await;
    let mut watch = theirs.watch_all().await.expect("watch nats-py's bucket");
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), watch.next())
            .await
            .expect("bounded")
            .expect("open")
            .expect("event");
        match event {
            nats_core::kv::WatchEvent::Entry(entry) => seen.push((
                entry.key,
                String::from_utf8_lossy(&entry.value).into_owned(),
            )),
            nats_core::kv::WatchEvent::InitialValuesDone => break,
        }
    }
    assert_eq!(
        seen,
        [
            ("k".to_owned(), "v2".to_owned()),
            ("other.key".to_owned(), "from python".to_owned())
        ]
    );

    // nats-py watches what we wrote: the live keys with their revisions, then the done marker.
    let watched = run_py_jetstream(&url, "kv-watch", &["shared"]).await;
    let entries = watched["entries"].as_array().expect("entries");
    let live: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e["operation"].is_null())
        .map(|e| {
            (
                e["key"].as_str().unwrap_or(""),
                e["value"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert!(live.contains(&("greeting", "hello from rust")), "{watched}");
    assert!(
        live.contains(&("from.python", "hello from python")),
        "{watched}"
    );
    assert!(
        entries
            .iter()
            .any(|e| e["key"] == "gone" && e["operation"] == "DEL"),
        "the delete is seen as a delete: {watched}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_cross_between_us_and_nats_py() {
    nats_py_version().await;
    let server = NatsServer::spawn_jetstream();
    let url = server.url();
    let client = nats_core::connect(url.as_str()).await.expect("connect");
    let js = client.jetstream();

    // Ours → nats-py: several chunks, a name that needs base64url padding and `-`/`_`.
    let files = js
        .create_object_store(ObjectStoreConfig::new("shared"))
        .await
        .expect("bucket");
    let bytes = data(2 * DEFAULT_CHUNK_SIZE + 12_345, 5);
    let name = "dir/report?v=1.bin";
    let info = files.put_bytes(name, bytes.clone()).await.expect("put");
    let got = run_py_jetstream(&url, "obj-get", &["shared", name]).await;
    let expected = format!("SHA-256={}", URL_SAFE.encode(Sha256::digest(&bytes)));
    assert_eq!(
        got,
        json!({"size": bytes.len(), "sha256": expected, "digest": info.digest})
    );

    // nats-py → ours, verified by our reader.
    let size = 3 * DEFAULT_CHUNK_SIZE + 7;
    let put = run_py_jetstream(
        &url,
        "obj-put",
        &["pyfiles", "from-python.bin", &size.to_string(), "9"],
    )
    .await;
    let theirs = js.object_store("pyfiles").await.expect("nats-py's bucket");
    let info = theirs.info("from-python.bin").await.expect("info");
    assert_eq!(Some(info.size), put["size"].as_u64());
    assert_eq!(Some(info.digest.as_str()), put["digest"].as_str());
    let back = theirs
        .get_bytes("from-python.bin")
        .await
        .expect("get, digest checked");
    assert!(
        back[..] == data(size, 9)[..],
        "nats-py's object read back different"
    );
    let listed: Vec<String> = theirs
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(listed, ["from-python.bin"]);
}
