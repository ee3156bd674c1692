//! Checks that the harness starts, addresses and stops real servers.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use nats_tests::NatsServer;

/// Connects to `addr` and returns the first line the server sends.
fn first_line(addr: &str) -> String {
    let stream = TcpStream::connect(addr).unwrap_or_else(|err| panic!("connect {addr}: {err}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap_or_else(|err| panic!("set_read_timeout: {err}"));
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .unwrap_or_else(|err| panic!("read from {addr}: {err}"));
    line
}

/// True while something accepts TCP connections on `addr`.
fn accepts(addr: &str) -> bool {
    TcpStream::connect(addr).is_ok()
}

#[test]
fn server_greets_with_info() {
    let server = NatsServer::spawn();
    assert_eq!(server.url(), format!("nats://127.0.0.1:{}", server.port()));
    assert_eq!(server.host_port(), format!("127.0.0.1:{}", server.port()));
    let line = first_line(&server.host_port());
    assert!(line.starts_with("INFO {"), "unexpected greeting: {line:?}");
    assert!(
        line.ends_with("\r\n"),
        "greeting not CRLF-terminated: {line:?}"
    );
}

#[test]
fn parallel_servers_get_different_ports() {
    let servers: Vec<NatsServer> = thread::scope(|scope| {
        let handles: Vec<_> = (0..4).map(|_| scope.spawn(NatsServer::spawn)).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|_| panic!("spawn panicked")))
            .collect()
    });
    let mut ports: Vec<u16> = servers.iter().map(NatsServer::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), servers.len(), "ports collide: {ports:?}");
}

#[test]
fn drop_kills_the_server() {
    let server = NatsServer::spawn();
    let addr = server.host_port();
    let proc_dir = format!("/proc/{}", server.pid());
    assert!(accepts(&addr));
    drop(server);
    // Dropping waits for the process, so the port is closed at once.
    assert!(!accepts(&addr), "{addr} still accepts after drop");
    if cfg!(target_os = "linux") {
        assert!(
            !std::path::Path::new(&proc_dir).exists(),
            "process still exists"
        );
    }
}

#[test]
fn jetstream_is_advertised() {
    let server = NatsServer::spawn_jetstream();
    let line = first_line(&server.host_port());
    assert!(line.contains("\"jetstream\":true"), "no jetstream: {line}");

    let plain = NatsServer::spawn();
    let line = first_line(&plain.host_port());
    assert!(
        !line.contains("\"jetstream\":true"),
        "unexpected jetstream: {line}"
    );
}

#[test]
fn config_file_is_used_and_port_overridden() {
    let server = NatsServer::spawn_with_config("port: 1\nmax_payload: 4096\n");
    assert_ne!(server.port(), 1);
    assert!(server.store_dir().join("nats-server.conf").is_file());
    let line = first_line(&server.host_port());
    assert!(
        line.contains("\"max_payload\":4096"),
        "config ignored: {line}"
    );
}

#[test]
fn extra_args_are_passed() {
    let server = NatsServer::spawn_with_args(&["--user", "alice", "--pass", "s3cret"]);
    let line = first_line(&server.host_port());
    assert!(line.contains("\"auth_required\":true"), "no auth: {line}");
}

#[test]
fn restart_keeps_port_and_store() {
    let mut server = NatsServer::spawn_jetstream();
    let port = server.port();
    let store = server.store_dir().to_path_buf();
    let old_pid = server.pid();

    let started = Instant::now();
    server.restart();
    assert!(started.elapsed() < Duration::from_secs(10));

    assert_eq!(server.port(), port);
    assert_eq!(server.store_dir(), store);
    assert_ne!(server.pid(), old_pid);
    let line = first_line(&server.host_port());
    assert!(line.starts_with("INFO {"), "unexpected greeting: {line:?}");
    // The log is read by a thread of its own: the line may trail the greeting a little.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.logs().contains("Server is ready") {
        assert!(
            Instant::now() < deadline,
            "no ready line in the log:\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[should_panic(expected = "exited before listening")]
fn startup_failure_panics_with_the_log() {
    let _server = NatsServer::spawn_with_args(&["--no-such-flag"]);
}
