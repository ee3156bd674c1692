//! Checks the harness's clusters and the signals it sends to servers: pause,
//! resume and lame duck mode.

use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use nats_tests::{NatsCluster, NatsServer};

/// How long a test waits for a line the server should send.
const LINE_TIMEOUT: Duration = Duration::from_secs(5);

/// A raw client connection that reads the server's protocol lines.
struct RawClient {
    reader: BufReader<TcpStream>,
}

impl RawClient {
    /// Connects to `addr` without reading anything yet.
    fn connect(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).unwrap_or_else(|err| panic!("connect {addr}: {err}"));
        Self {
            reader: BufReader::new(stream),
        }
    }

    /// Reads one line, or returns the error of a read that timed out after `timeout`.
    fn try_line(&mut self, timeout: Duration) -> std::io::Result<String> {
        self.reader
            .get_ref()
            .set_read_timeout(Some(timeout))
            .unwrap_or_else(|err| panic!("set_read_timeout: {err}"));
        let mut line = String::new();
        match self.reader.read_line(&mut line)? {
            0 => Err(ErrorKind::UnexpectedEof.into()),
            _ => Ok(line),
        }
    }

    /// Reads one line, failing the test if none comes within [`LINE_TIMEOUT`].
    fn line(&mut self) -> String {
        self.try_line(LINE_TIMEOUT)
            .unwrap_or_else(|err| panic!("no line from the server: {err}"))
    }

    /// Sends raw protocol text.
    fn send(&mut self, text: &str) {
        self.reader
            .get_mut()
            .write_all(text.as_bytes())
            .unwrap_or_else(|err| panic!("send {text:?}: {err}"));
    }
}

/// The `INFO` line a server greets a new connection with.
fn info(addr: &str) -> String {
    let line = RawClient::connect(addr).line();
    assert!(line.starts_with("INFO {"), "unexpected greeting: {line:?}");
    line
}

/// True while something accepts TCP connections on `addr`.
fn accepts(addr: &str) -> bool {
    TcpStream::connect(addr).is_ok()
}

#[test]
fn three_nodes_form_one_cluster() {
    let cluster = NatsCluster::spawn(3);
    assert_eq!(cluster.len(), 3);
    assert!(!cluster.is_empty());
    assert_eq!(cluster.name(), "test");

    let urls = cluster.urls();
    let mut ports: Vec<u16> = cluster.nodes().iter().map(NatsServer::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 3, "client ports collide: {urls:?}");

    for (index, node) in cluster.nodes().iter().enumerate() {
        assert_eq!(cluster.url(index), urls[index]);
        assert_eq!(cluster.index_of_port(node.port()), Some(index));
        assert_eq!(cluster.index_of_url(&urls[index]), Some(index));
        assert_eq!(cluster.index_of_url(&node.host_port()), Some(index));
        assert!(
            node.cluster_port().is_some(),
            "node {index} has no route port"
        );
        assert!(node.monitor_port().is_some(), "node {index} has no monitor");

        let line = info(&node.host_port());
        let name = format!("\"server_name\":\"{}\"", cluster.server_name(index));
        assert!(line.contains(&name), "node {index} is not named: {line}");
        assert!(
            line.contains("\"cluster\":\"test\""),
            "not clustered: {line}"
        );
        // With the routes up, every node advertises the others' client addresses.
        for (other, peer) in cluster.nodes().iter().enumerate() {
            if other != index {
                assert!(
                    line.contains(&peer.host_port()),
                    "node {index} does not advertise node {other}: {line}"
                );
            }
        }
    }
    assert_eq!(cluster.index_of_port(1), None);
    assert_eq!(cluster.index_of_url("nats://127.0.0.1:notaport"), None);
}

#[test]
fn killed_nodes_come_back_on_the_same_ports() {
    let mut cluster = NatsCluster::spawn(3);
    // Node 0 is the one the others first routed to; node 2 only routed to it.
    for index in [1, 0] {
        let port = cluster.node(index).port();
        let cluster_port = cluster.node(index).cluster_port();
        let addr = cluster.node(index).host_port();

        cluster.kill(index);
        assert!(!accepts(&addr), "{addr} still accepts after kill");
        // The remaining nodes still see each other.
        cluster.wait_for_routes();

        let started = Instant::now();
        cluster.restart(index);
        cluster.wait_for_routes();
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(cluster.node(index).port(), port);
        assert_eq!(cluster.node(index).cluster_port(), cluster_port);
        assert_eq!(cluster.index_of_port(port), Some(index));

        let line = info(&addr);
        for (other, peer) in cluster.nodes().iter().enumerate() {
            if other != index {
                assert!(
                    line.contains(&peer.host_port()),
                    "restarted node {index} does not advertise node {other}: {line}"
                );
            }
        }
    }
}

#[test]
fn restart_of_a_running_node_rejoins() {
    let mut cluster = NatsCluster::spawn(2);
    let old_pid = cluster.node(1).pid();
    cluster.restart(1);
    assert_ne!(cluster.node(1).pid(), old_pid);
    cluster.wait_for_routes();
    // Restarting through the node itself reuses the pinned ports as well.
    cluster.node_mut(0).restart();
    cluster.wait_for_routes();
}

#[test]
fn shared_config_reaches_every_node() {
    let cluster = NatsCluster::spawn_with_config(2, "max_payload: 4096\njetstream: enabled\n");
    for node in cluster.nodes() {
        let line = info(&node.host_port());
        assert!(
            line.contains("\"max_payload\":4096"),
            "config ignored: {line}"
        );
        assert!(line.contains("\"jetstream\":true"), "no jetstream: {line}");
    }
    assert_ne!(cluster.node(0).store_dir(), cluster.node(1).store_dir());
}

#[test]
fn single_node_cluster_starts() {
    let mut cluster = NatsCluster::spawn_with_config(1, "jetstream: enabled");
    assert_eq!(cluster.len(), 1);
    let line = info(&cluster.node(0).host_port());
    assert!(
        line.contains("\"cluster\":\"test\""),
        "not clustered: {line}"
    );
    assert!(line.contains("\"jetstream\":true"), "no jetstream: {line}");
    cluster.restart(0);
    cluster.wait_for_routes();
}

#[test]
fn paused_server_is_silent_until_resumed() {
    let mut server = NatsServer::spawn();
    server.pause();
    assert!(server.is_paused());

    // The kernel still completes the handshake, but nobody sends INFO.
    let mut client = RawClient::connect(&server.host_port());
    let err = client
        .try_line(Duration::from_millis(300))
        .expect_err("a paused server sent a line");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "unexpected read error: {err}"
    );

    server.resume();
    assert!(!server.is_paused());
    let line = client.line();
    assert!(line.starts_with("INFO {"), "unexpected greeting: {line:?}");
}

#[test]
fn paused_server_is_killed_on_drop() {
    let mut server = NatsServer::spawn();
    let addr = server.host_port();
    let proc_dir = format!("/proc/{}", server.pid());
    server.pause();
    let started = Instant::now();
    drop(server);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(!accepts(&addr), "{addr} still accepts after drop");
    if cfg!(target_os = "linux") {
        assert!(
            !std::path::Path::new(&proc_dir).exists(),
            "process still exists"
        );
    }
}

#[test]
fn lame_duck_server_tells_connected_clients() {
    let mut server = NatsServer::spawn();
    let mut client = RawClient::connect(&server.host_port());
    let greeting = client.line();
    assert!(
        greeting.starts_with("INFO {"),
        "unexpected greeting: {greeting:?}"
    );
    assert!(
        !greeting.contains("\"ldm\":true"),
        "in ldm already: {greeting}"
    );
    // Only clients that declare protocol 1 get asynchronous INFO updates.
    client.send("CONNECT {\"verbose\":false,\"protocol\":1}\r\nPING\r\n");
    assert_eq!(client.line(), "PONG\r\n");

    server.lame_duck();
    assert!(server.logs().contains("Entering lame duck mode"));

    let deadline = Instant::now() + LINE_TIMEOUT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no INFO with ldm; got {seen:?}");
        let line = client
            .try_line(left)
            .unwrap_or_else(|err| panic!("no INFO with ldm ({err}); got {seen:?}"));
        if line.starts_with("INFO ") && line.contains("\"ldm\":true") {
            break;
        }
        seen.push(line);
    }
    // The listener is closed: new clients go elsewhere.
    assert!(
        !accepts(&server.host_port()),
        "lame duck server still accepts"
    );
}
