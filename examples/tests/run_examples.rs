//! Runs every example binary against a real server and checks what it prints.

use std::process::Command;

use nats_tests::NatsServer;

/// Runs the example `bin` against `server` and returns its standard output.
fn run(bin: &str, server: &NatsServer) -> String {
    let path = match bin {
        "demo" => env!("CARGO_BIN_EXE_demo"),
        "basic" => env!("CARGO_BIN_EXE_basic"),
        "wildcards" => env!("CARGO_BIN_EXE_wildcards"),
        "queue_groups" => env!("CARGO_BIN_EXE_queue_groups"),
        "request_reply" => env!("CARGO_BIN_EXE_request_reply"),
        other => panic!("unknown example {other}"),
    };
    let output = Command::new(path)
        .env("NATS_URL", server.url())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{bin} failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn demo_publishes_subscribes_and_balances_requests() {
    let server = NatsServer::spawn();
    let out = run("demo", &server);
    assert!(
        out.contains("received on demo.greet.joe: hello joe"),
        "{out}"
    );
    assert_eq!(out.matches("reply: responder").count(), 10, "{out}");
    assert!(
        out.contains("request to demo.nobody: no responders"),
        "{out}"
    );
    let served: u32 = out
        .lines()
        .filter_map(|l| l.strip_prefix("responder "))
        .filter_map(|l| l.split(" served ").nth(1))
        .filter_map(|l| l.split(' ').next()?.parse::<u32>().ok())
        .sum();
    assert_eq!(served, 10, "{out}");
    assert!(out.contains("drained and closed"), "{out}");
}

#[test]
fn basic_usage() {
    let server = NatsServer::spawn();
    let out = run("basic", &server);
    assert!(out.contains("Received a message on 'foo': Hello"), "{out}");
    assert!(
        out.contains("Limited subscription received 2 messages"),
        "{out}"
    );
    assert!(out.contains("Handler received 3 messages"), "{out}");
}

#[test]
fn wildcards() {
    let server = NatsServer::spawn();
    let out = run("wildcards", &server);
    assert!(
        out.contains(r#"hello.* received: ["hello.world", "hello.there"]"#),
        "{out}"
    );
    assert!(
        out.contains(r#"hello.> received: ["hello.world", "hello.world.again", "hello.there"]"#),
        "{out}"
    );
}

#[test]
fn queue_groups() {
    let server = NatsServer::spawn();
    let out = run("queue_groups", &server);
    assert!(out.contains("30 updates handled in all"), "{out}");
    assert_eq!(out.matches("worker ").count(), 3, "{out}");
}

#[test]
fn request_reply() {
    let server = NatsServer::spawn();
    let out = run("request_reply", &server);
    assert!(
        out.contains("Received a request on 'help': help me"),
        "{out}"
    );
    assert!(out.contains("Received response: I can help"), "{out}");
    assert!(
        out.contains("nobody.home: no responders, as expected"),
        "{out}"
    );
}
