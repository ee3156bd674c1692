//! The blocking client against a real server: from plain threads with no runtime, from a
//! program that has its own tokio runtime (a worker, `spawn_blocking`, a thread it spawned),
//! queue groups across threads, request/reply, the waits of a subscription, and connecting
//! from the environment's settings and a NATS CLI context.

use std::collections::HashSet;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nats_core::blocking::{self, NextErrorKind};
use nats_core::{ConfigErrorKind, ConnectConfig, ConnectErrorKind, RequestErrorKind};
use nats_tests::NatsServer;

const WAIT: Duration = Duration::from_secs(10);

/// A thread that answers every request on `subject` with `prefix` + the request's payload,
/// until its subscription ends.
fn responder(
    client: &blocking::Client,
    subject: &str,
    prefix: &'static str,
) -> thread::JoinHandle<usize> {
    let mut sub = client.subscribe(subject).expect("subscribe");
    client.flush().expect("flush");
    let client = client.clone();
    thread::spawn(move || {
        let mut served = 0;
        for request in sub.by_ref() {
            if let Some(reply) = &request.reply {
                let mut answer = prefix.as_bytes().to_vec();
                answer.extend_from_slice(&request.payload);
                client.publish(reply, answer).expect("reply");
                served += 1;
            }
        }
        served
    })
}

#[test]
fn a_queue_group_of_blocking_subscribers_on_two_threads_shares_the_messages() {
    let server = NatsServer::spawn();
    let client = blocking::connect(server.url()).expect("connect");
    let (seen_tx, seen_rx) = mpsc::channel::<(usize, String)>();
    let mut workers = Vec::new();
    for worker in 0..2 {
        let mut sub = client
            .queue_subscribe("jobs", "workers")
            .expect("queue subscribe");
        let seen = seen_tx.clone();
        workers.push(thread::spawn(move || {
            // Each worker reads until nothing came for a while.
            while let Ok(job) = sub.next_timeout(Duration::from_millis(700)) {
                let text = job.payload_str().unwrap_or_default().to_owned();
                seen.send((worker, text)).expect("report");
            }
        }));
    }
    drop(seen_tx);
    client.flush().expect("flush");
    let publisher = blocking::connect(server.url()).expect("publisher");
    for n in 0..200 {
        publisher
            .publish("jobs", format!("job {n}"))
            .expect("publish");
    }
    publisher.flush().expect("flush");
    for worker in workers {
        worker.join().expect("worker");
    }
    let seen: Vec<(usize, String)> = seen_rx.iter().collect();
    let jobs: HashSet<&str> = seen.iter().map(|(_, job)| job.as_str()).collect();
    assert_eq!(seen.len(), 200, "every job once: {} deliveries", seen.len());
    assert_eq!(jobs.len(), 200, "no job twice");
    for worker in 0..2 {
        assert!(
            seen.iter().any(|(w, _)| *w == worker),
            "worker {worker} got none of 200 jobs"
        );
    }
}

#[test]
fn request_reply_between_blocking_threads() {
    let server = NatsServer::spawn();
    let service = blocking::connect(server.url()).expect("service");
    let answering = responder(&service, "greet", "hello ");
    let client = blocking::connect(server.url()).expect("client");
    for name in ["ann", "bob", "cy"] {
        let reply = client.request_timeout("greet", name, WAIT).expect("reply");
        assert_eq!(reply.payload_str(), Some(format!("hello {name}").as_str()));
    }
    let error = client
        .request_timeout("nobody.home", "x", WAIT)
        .expect_err("no responders");
    assert_eq!(error.kind(), RequestErrorKind::NoResponders);
    service.drain().expect("drain");
    assert_eq!(answering.join().expect("responder"), 3);
}

#[test]
fn a_subscription_waits_with_a_bound_and_ends() {
    let server = NatsServer::spawn();
    let client = blocking::connect(server.url()).expect("connect");
    let mut sub = client.subscribe("ticks").expect("subscribe");
    client.flush().expect("flush");

    let started = Instant::now();
    let error = sub
        .next_timeout(Duration::from_millis(200))
        .expect_err("nothing was sent");
    assert_eq!(error.kind(), NextErrorKind::TimedOut);
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(sub.try_next().is_none(), "nothing is waiting");

    client.publish("ticks", "1").expect("publish");
    client.flush().expect("flush");
    let deadline = Instant::now() + WAIT;
    let first = loop {
        if let Some(message) = sub.try_next() {
            break message;
        }
        assert!(Instant::now() < deadline, "the message never arrived");
        thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(first.payload_str(), Some("1"));

    client.publish("ticks", "2").expect("publish");
    client.flush().expect("flush");
    sub.drain().expect("drain");
    // What arrived before the drain is still read, then the subscription ends.
    assert_eq!(
        sub.next_timeout(WAIT).expect("second").payload_str(),
        Some("2")
    );
    let ended = sub.next_timeout(WAIT).expect_err("drained");
    assert_eq!(ended.kind(), NextErrorKind::Ended);
    assert!(sub.next().is_none(), "the iterator ends too");
}

#[test]
fn it_works_inside_a_program_with_its_own_tokio_runtime() {
    let server = NatsServer::spawn();
    let url = server.url();
    let program = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("the program's runtime");
    program.block_on(async move {
        // Directly in a task of the program's runtime: no panic, no deadlock.
        let client = blocking::connect(url.as_str()).expect("connect in a task");
        let answering = responder(&client, "echo", "");
        let reply = client
            .request_timeout("echo", "from a task", WAIT)
            .expect("reply");
        assert_eq!(reply.payload_str(), Some("from a task"));

        // From spawn_blocking and from a thread the program spawned.
        let in_blocking = client.clone();
        let reply = tokio::task::spawn_blocking(move || {
            in_blocking.request_timeout("echo", "from spawn_blocking", WAIT)
        })
        .await
        .expect("spawn_blocking")
        .expect("reply");
        assert_eq!(reply.payload_str(), Some("from spawn_blocking"));
        let in_thread = client.clone();
        let reply = thread::spawn(move || in_thread.request_timeout("echo", "from a thread", WAIT))
            .join()
            .expect("thread")
            .expect("reply");
        assert_eq!(reply.payload_str(), Some("from a thread"));

        // The async API stays reachable from the same client.
        let async_reply = client
            .as_async()
            .request("echo", "async")
            .await
            .expect("async request");
        assert_eq!(async_reply.payload_str(), Some("async"));

        client.drain().expect("drain");
        assert_eq!(answering.join().expect("responder"), 4);
    });

    // And from a current-thread runtime, through spawn_blocking.
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("current-thread runtime");
    let url = server.url();
    single.block_on(async move {
        let reply = tokio::task::spawn_blocking(move || {
            let client = blocking::connect(url.as_str()).expect("connect");
            let _answering = responder(&client, "ping", "pong ");
            client.request_timeout("ping", "1", WAIT)
        })
        .await
        .expect("spawn_blocking")
        .expect("reply");
        assert_eq!(reply.payload_str(), Some("pong 1"));
    });
}

/// A server that takes the user `alice` with the password `secret` only.
const ALICE: &str = r#"authorization { users = [ { user: "alice", password: "secret" } ] }"#;

#[test]
fn connects_with_the_environments_settings() {
    let server = NatsServer::spawn_with_config(ALICE);
    let url = server.url();
    let env = |pairs: Vec<(&'static str, String)>| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.clone())
        }
    };
    let config = ConnectConfig::from_vars(env(vec![
        ("NATS_URL", url.clone()),
        ("NATS_USER", "alice".into()),
        ("NATS_PASSWORD", "secret".into()),
    ]))
    .expect("settings");
    let client = config.connect_blocking().expect("connects as alice");
    client.flush().expect("flush");
    client.close();

    let wrong = ConnectConfig::from_vars(env(vec![
        ("NATS_URL", url.clone()),
        ("NATS_USER", "alice".into()),
        ("NATS_PASSWORD", "wrong".into()),
    ]))
    .expect("settings");
    let refused = wrong.connect_blocking().expect_err("wrong password");
    assert_eq!(refused.kind(), ConnectErrorKind::AuthorizationViolation);

    let bad = ConnectConfig::from_vars(env(vec![("NATS_URL", "nats://[::1".into())]))
        .expect_err("a URL that does not parse");
    assert_eq!(
        (bad.kind(), bad.setting()),
        (ConfigErrorKind::InvalidValue, "NATS_URL")
    );
}

#[test]
fn connects_with_a_nats_cli_context() {
    let server = NatsServer::spawn_with_config(ALICE);
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("local.json");
    let context = serde_json::json!({
        "description": "the test server",
        "url": server.url(),
        "user": "alice",
        "password": "secret",
        "color_scheme": "",
    });
    std::fs::write(&path, context.to_string()).expect("write context");
    let config = ConnectConfig::from_context_file(&path).expect("context");
    assert_eq!(config.context(), Some("local"));
    let client = config
        .connect_blocking()
        .expect("connects with the context");
    client.flush().expect("flush");

    // NATS_CONTEXT picks it; NATS_URL from the environment wins over the context's.
    let other = NatsServer::spawn_with_config(ALICE);
    let path_text = path.display().to_string();
    let other_url = other.url();
    let config = ConnectConfig::from_vars(|name| match name {
        "NATS_CONTEXT" => Some(path_text.clone()),
        "NATS_URL" => Some(other_url.clone()),
        _ => None,
    })
    .expect("context and environment");
    let client = config
        .connect_blocking()
        .expect("connects to the other server");
    assert_eq!(
        client.as_async().connected_url().as_deref(),
        Some(other.url().as_str())
    );
}

#[test]
fn jetstream_publish_and_key_value_through_the_blocking_client() {
    let server = NatsServer::spawn_jetstream();
    let client = blocking::connect(server.url()).expect("connect");
    let js = client.jetstream();
    client
        .block_on(
            js.as_async()
                .create_stream(&nats_core::jetstream::StreamConfig {
                    subjects: vec!["orders.>".into()],
                    ..nats_core::jetstream::StreamConfig::new("ORDERS")
                }),
        )
        .expect("stream");
    let ack = js.publish("orders.new", "order 1").expect("acknowledged");
    assert_eq!((ack.stream.as_str(), ack.sequence), ("ORDERS", 1));
    client
        .block_on(
            js.as_async()
                .create_key_value(nats_core::kv::KvConfig::new("settings")),
        )
        .expect("bucket");
    let kv = js.key_value("settings").expect("bucket");
    let revision = kv.put("mode", "fast").expect("put");
    assert_eq!(kv.get("mode").expect("get").as_deref(), Some(&b"fast"[..]));
    kv.update("mode", "safe", revision).expect("update");
    let stale = kv.update("mode", "x", revision).expect_err("stale");
    assert_eq!(stale.kind(), nats_core::kv::KvErrorKind::WrongLastRevision);
    kv.delete("mode").expect("delete");
    assert!(kv.get("mode").expect("get").is_none());
}
