//! Key-Value against real servers: buckets, put/get/entry, create only if absent (also after
//! a delete or purge), compare-and-set updates, deletes and purges with expected revisions,
//! reads at a revision, key validation, per-key TTLs with limit markers, and an R3 bucket on
//! a 3-node cluster whose concurrent writers conflict (10071 here; 10164, the replicated
//! twin, maps to the same kinds, see the unit tests of `jetstream::errors`) and whose node is
//! killed.

use std::time::{Duration, Instant};

use nats_core::jetstream::StorageType;
use nats_core::kv::{KvConfig, KvErrorKind, Operation, Store};
use nats_tests::{within, NatsCluster, NatsServer};

async fn bucket(server: &NatsServer, config: KvConfig) -> Store {
    let client = within("connect", nats_core::connect(server.url()))
        .await
        .expect("connect");
    within("create bucket", client.jetstream().create_key_value(config))
        .await
        .expect("create bucket")
}

#[tokio::test]
async fn put_get_and_entries() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(
        &server,
        KvConfig {
            history: 3,
            ..KvConfig::new("profiles")
        },
    )
    .await;

    assert_eq!(kv.get("ann").await.expect("get"), None, "never written");
    let first = kv.put("ann", "v1").await.expect("put");
    let second = kv.put("ann", "v2").await.expect("put");
    assert!(second > first);
    assert_eq!(
        kv.get("ann").await.expect("get").as_deref(),
        Some(&b"v2"[..])
    );
    let entry = kv.entry("ann").await.expect("entry").expect("present");
    assert_eq!(
        (
            entry.bucket.as_str(),
            entry.key.as_str(),
            entry.revision,
            entry.operation
        ),
        ("profiles", "ann", second, Operation::Put)
    );
    assert_eq!(&entry.value[..], b"v2");
    // An old revision of the key reads back; another key's revision does not.
    let old = kv
        .entry_at("ann", first)
        .await
        .expect("at")
        .expect("kept by history");
    assert_eq!(&old.value[..], b"v1");
    let bob = kv.put("bob", "b").await.expect("put");
    assert!(kv.entry_at("ann", bob).await.expect("at").is_none());
    assert!(kv.entry_at("ann", 9_999).await.expect("at").is_none());

    // Keys with every allowed character, and empty values.
    kv.put("path/to=x_y-z.0", "").await.expect("allowed key");
    let empty = kv
        .entry("path/to=x_y-z.0")
        .await
        .expect("entry")
        .expect("present");
    assert!(empty.value.is_empty());
    assert_eq!(
        empty.operation,
        Operation::Put,
        "an empty value is still a value"
    );

    let status = kv.status().await.expect("status");
    assert_eq!(
        (status.bucket.as_str(), status.history, status.values),
        ("profiles", 3, 4)
    );
    assert_eq!(status.storage, StorageType::File);
}

#[tokio::test]
async fn create_only_if_absent_also_after_delete_or_purge() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(
        &server,
        KvConfig {
            history: 5,
            ..KvConfig::new("locks")
        },
    )
    .await;

    let revision = kv.create("job-1", "owner-a").await.expect("first create");
    let taken = kv.create("job-1", "owner-b").await.expect_err("taken");
    assert_eq!(taken.kind(), KvErrorKind::KeyExists, "{taken}");
    assert_eq!(
        kv.get("job-1").await.expect("get").as_deref(),
        Some(&b"owner-a"[..])
    );

    kv.delete("job-1").await.expect("delete");
    assert!(
        kv.get("job-1").await.expect("get").is_none(),
        "deleted reads as absent"
    );
    let after_delete = kv
        .create("job-1", "owner-c")
        .await
        .expect("create over a delete");
    assert!(after_delete > revision);

    kv.purge("job-1").await.expect("purge");
    kv.create("job-1", "owner-d")
        .await
        .expect("create over a purge");
    assert_eq!(
        kv.get("job-1").await.expect("get").as_deref(),
        Some(&b"owner-d"[..])
    );
    // The purge replaced the history: only the purge marker and the new value remain.
    let status = kv.status().await.expect("status");
    assert_eq!(status.values, 2);
}

#[tokio::test]
async fn compare_and_set_on_the_revision() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(&server, KvConfig::new("counters")).await;

    let r1 = kv.put("hits", "1").await.expect("put");
    let r2 = kv.update("hits", "2", r1).await.expect("update at r1");
    let stale = kv
        .update("hits", "3", r1)
        .await
        .expect_err("stale revision");
    assert_eq!(stale.kind(), KvErrorKind::WrongLastRevision, "{stale}");
    assert_eq!(
        kv.get("hits").await.expect("get").as_deref(),
        Some(&b"2"[..])
    );
    // Updating a key that does not exist expects revision 0.
    kv.update("fresh", "x", 0)
        .await
        .expect("update of an absent key at 0");

    let wrong = kv
        .delete_expecting("hits", r1)
        .await
        .expect_err("wrong revision");
    assert_eq!(wrong.kind(), KvErrorKind::WrongLastRevision);
    let wrong = kv
        .purge_expecting("hits", r1)
        .await
        .expect_err("wrong revision");
    assert_eq!(wrong.kind(), KvErrorKind::WrongLastRevision);
    kv.delete_expecting("hits", r2).await.expect("delete at r2");
    assert!(kv.get("hits").await.expect("get").is_none());
}

#[tokio::test]
async fn bad_keys_and_buckets_are_refused_before_sending() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(&server, KvConfig::new("strict")).await;
    for bad in [
        "",
        ".a",
        "a.",
        "a..b",
        "a b",
        "a*",
        ">",
        "ünïcode",
        "a\r\nPUB x 1",
    ] {
        let error = kv.put(bad, "x").await.expect_err(bad);
        assert_eq!(error.kind(), KvErrorKind::InvalidKey, "{bad:?}: {error}");
        assert_eq!(
            kv.get(bad).await.expect_err(bad).kind(),
            KvErrorKind::InvalidKey
        );
    }
    assert_eq!(
        kv.status().await.expect("status").values,
        0,
        "nothing was written"
    );

    // Legacy keys: validation can be switched off, subjects still rule.
    let legacy = kv.clone().validate_keys(false);
    legacy
        .put("user@example.com", "x")
        .await
        .expect("legacy key");
    assert_eq!(
        legacy
            .get("user@example.com")
            .await
            .expect("get")
            .as_deref(),
        Some(&b"x"[..])
    );
    assert_eq!(
        legacy
            .put("a b", "x")
            .await
            .expect_err("not a subject")
            .kind(),
        KvErrorKind::InvalidKey
    );

    let js = kv.context();
    let error = js.key_value("no.such").await.expect_err("bad name");
    assert_eq!(error.kind(), KvErrorKind::InvalidBucket);
    let error = js.key_value("missing").await.expect_err("absent");
    assert_eq!(error.kind(), KvErrorKind::BucketNotFound);
}

#[tokio::test]
async fn buckets_are_created_found_listed_and_deleted() {
    let server = NatsServer::spawn_jetstream();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let js = client.jetstream();
    let config = KvConfig {
        history: 2,
        max_age: Some(Duration::from_secs(3600)),
        description: Some("settings".into()),
        storage: StorageType::Memory,
        ..KvConfig::new("settings")
    };
    js.create_key_value(config.clone()).await.expect("create");
    js.create_key_value(config.clone())
        .await
        .expect("the same settings again are fine");
    let other = js
        .create_key_value(KvConfig {
            history: 7,
            ..config.clone()
        })
        .await
        .expect_err("other settings");
    assert_eq!(other.kind(), KvErrorKind::BucketExists, "{other}");
    js.update_key_value(KvConfig {
        history: 7,
        ..config
    })
    .await
    .expect("update");
    let status = js.key_value_status("settings").await.expect("status");
    assert_eq!(status.history, 7);
    assert_eq!(status.ttl, Some(Duration::from_secs(3600)));

    js.create_key_value(KvConfig::new("other"))
        .await
        .expect("create");
    let mut names = js.key_value_names().await.expect("names");
    names.sort();
    assert_eq!(names, ["other", "settings"]);
    let found = js.key_value("settings").await.expect("found");
    found
        .put("k", "v")
        .await
        .expect("put through the found handle");

    js.delete_key_value("settings").await.expect("delete");
    assert_eq!(
        js.key_value("settings").await.expect_err("gone").kind(),
        KvErrorKind::BucketNotFound
    );
    assert_eq!(
        found.get("k").await.expect_err("its bucket is gone").kind(),
        KvErrorKind::BucketNotFound
    );
}

#[tokio::test]
async fn per_key_ttls_with_limit_markers() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(
        &server,
        KvConfig {
            limit_marker_ttl: Some(Duration::from_secs(1)),
            ..KvConfig::new("sessions")
        },
    )
    .await;
    kv.create_with_ttl("s1", "token", Duration::from_secs(1))
        .await
        .expect("create with a TTL");
    kv.put("s2", "forever").await.expect("put");
    // The server removes s1 after its TTL; wait for it with a bound.
    let deadline = Instant::now() + Duration::from_secs(15);
    while kv.get("s1").await.expect("get").is_some() {
        assert!(Instant::now() < deadline, "s1 outlived its TTL");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(kv.get("s2").await.expect("get").is_some());
    // Once gone, the key can be created again.
    kv.create("s1", "again").await.expect("create after expiry");

    // A bucket without limit markers refuses per-key TTLs.
    let plain = bucket(&server, KvConfig::new("plain")).await;
    let error = plain
        .create_with_ttl("k", "v", Duration::from_secs(5))
        .await
        .expect_err("no per-key TTLs");
    assert_eq!(error.kind(), KvErrorKind::NotAllowed, "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_r3_bucket_refuses_concurrent_writers_and_survives_a_node_kill() {
    let mut cluster = NatsCluster::spawn_with_config(3, "jetstream: enabled");
    let client = within("connect", nats_core::connect(cluster.urls()))
        .await
        .expect("connect");
    let js = client.jetstream();
    // A fresh cluster elects its JetStream meta leader first: retry until it answers.
    let deadline = Instant::now() + Duration::from_secs(30);
    let kv = loop {
        let config = KvConfig {
            replicas: 3,
            history: 2,
            ..KvConfig::new("r3")
        };
        match js.create_key_value(config).await {
            Ok(kv) => break kv,
            Err(error) => {
                assert!(Instant::now() < deadline, "no R3 bucket: {error}");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };

    let base = kv.put("k", "0").await.expect("put");
    // Concurrent compare-and-sets on one revision: exactly one wins, the others get a
    // typed wrong-revision error whichever code (10071 or 10164) the cluster answers with.
    let attempts = (0..8).map(|n| {
        let kv = kv.clone();
        tokio::spawn(async move { kv.update("k", format!("w{n}"), base).await })
    });
    let mut won = 0;
    for attempt in attempts {
        match attempt.await.expect("task") {
            Ok(_) => won += 1,
            Err(error) => assert_eq!(error.kind(), KvErrorKind::WrongLastRevision, "{error}"),
        }
    }
    assert_eq!(won, 1, "one compare-and-set wins");
    let created = (0..6).map(|n| {
        let kv = kv.clone();
        tokio::spawn(async move { kv.create("fresh", format!("c{n}")).await })
    });
    let mut created_ok = 0;
    for attempt in created {
        match attempt.await.expect("task") {
            Ok(_) => created_ok += 1,
            Err(error) => assert_eq!(error.kind(), KvErrorKind::KeyExists, "{error}"),
        }
    }
    assert_eq!(created_ok, 1, "one create wins");

    // Kill the node the client is on: the bucket stays readable and writable.
    let url = client.connected_url().expect("connected");
    let index = cluster.index_of_url(&url).expect("a node of the cluster");
    cluster.kill(index);
    let deadline = Instant::now() + Duration::from_secs(30);
    let revision = loop {
        match kv.put("after-kill", "still here").await {
            Ok(revision) => break revision,
            Err(error) => {
                assert!(
                    Instant::now() < deadline,
                    "no write after the kill: {error}"
                );
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    };
    let entry = kv
        .entry("after-kill")
        .await
        .expect("read")
        .expect("present");
    assert_eq!(entry.revision, revision);
    assert!(kv.get("fresh").await.expect("read").is_some());
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Profile {
    name: String,
    age: u32,
}

#[tokio::test]
async fn typed_buckets_store_json_other_clients_read() {
    let server = NatsServer::spawn_jetstream();
    let kv = bucket(&server, KvConfig::new("typed")).await;
    let profiles = kv.clone().typed::<Profile>();
    let ann = Profile {
        name: "Ann".into(),
        age: 41,
    };
    let revision = profiles.put("ann", &ann).await.expect("put");
    assert_eq!(profiles.get("ann").await.expect("get"), Some(ann.clone()));
    // Stored as plain JSON.
    let raw = kv.get("ann").await.expect("raw").expect("present");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&raw).expect("json"),
        serde_json::json!({"name": "Ann", "age": 41})
    );
    let older = Profile {
        age: 42,
        ..ann.clone()
    };
    profiles
        .update("ann", &older, revision)
        .await
        .expect("update");
    let stale = profiles
        .update("ann", &ann, revision)
        .await
        .expect_err("stale");
    assert_eq!(stale.kind(), KvErrorKind::WrongLastRevision);
    assert_eq!(
        profiles
            .create("ann", &ann)
            .await
            .expect_err("exists")
            .kind(),
        KvErrorKind::KeyExists
    );
    let entry = profiles
        .entry("ann")
        .await
        .expect("entry")
        .expect("present");
    assert_eq!((entry.value.age, entry.entry.key.as_str()), (42, "ann"));

    // A value of another shape is a typed error, not a panic.
    kv.put("bob", "not json").await.expect("raw put");
    assert_eq!(
        profiles.get("bob").await.expect_err("not a profile").kind(),
        KvErrorKind::InvalidEntry
    );
    profiles.delete("ann").await.expect("delete");
    assert_eq!(profiles.get("ann").await.expect("get"), None);
}
