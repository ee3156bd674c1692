//! Scripted servers for tests of the connection task over in-memory streams: a dialer that
//! hands each connection's server end to the test, and helpers to speak the protocol from
//! that end, byte for byte as the test decides.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::mpsc;

use crate::server_addr::ServerAddr;
use crate::transport::{DialFuture, Dialer, Transport};

/// How long a scripted step may take before the test fails.
pub(crate) const STEP: Duration = Duration::from_secs(5);

/// Dials scripted servers by `host:port`; an address nobody listens on is refused.
#[derive(Clone, Default)]
pub(crate) struct ScriptedDialer {
    listeners: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<DuplexStream>>>>,
    /// Every address dialed, in order.
    pub(crate) dialed: Arc<Mutex<Vec<String>>>,
}

impl ScriptedDialer {
    /// Starts listening on `host_port`; each connection made to it arrives on the receiver.
    pub(crate) fn listen(&self, host_port: &str) -> Listener {
        let (tx, rx) = mpsc::unbounded_channel();
        self.listeners.lock().insert(host_port.to_owned(), tx);
        Listener(rx)
    }

    /// Stops listening on `host_port`: later dials are refused.
    pub(crate) fn refuse(&self, host_port: &str) {
        self.listeners.lock().remove(host_port);
    }

    pub(crate) fn dialed(&self) -> Vec<String> {
        self.dialed.lock().clone()
    }
}

impl Dialer for ScriptedDialer {
    fn dial<'a>(&'a self, addr: &'a ServerAddr) -> DialFuture<'a> {
        Box::pin(async move {
            let key = format!("{}:{}", addr.host(), addr.port());
            self.dialed.lock().push(key.clone());
            let listener = self.listeners.lock().get(&key).cloned();
            let Some(listener) = listener else {
                return Err(io::ErrorKind::ConnectionRefused.into());
            };
            let (client, server) = tokio::io::duplex(256 * 1024);
            listener
                .send(server)
                .map_err(|_| io::Error::from(io::ErrorKind::ConnectionRefused))?;
            Ok(Transport::Boxed(Box::new(client)))
        })
    }
}

/// Where the connections to one scripted address arrive.
pub(crate) struct Listener(mpsc::UnboundedReceiver<DuplexStream>);

impl Listener {
    /// The next connection made to this address.
    pub(crate) async fn accept(&mut self) -> ServerConn {
        let stream = tokio::time::timeout(STEP, self.0.recv())
            .await
            .expect("a connection in time")
            .expect("the dialer is alive");
        let (read, write) = tokio::io::split(stream);
        ServerConn {
            reader: BufReader::new(read),
            writer: write,
        }
    }

    /// The next connection, with the handshake done: `INFO info_json`, then `CONNECT` and
    /// `PING` read, then `PONG`.
    pub(crate) async fn accept_with_info(&mut self, info_json: &str) -> ServerConn {
        let mut conn = self.accept().await;
        conn.handshake(info_json).await;
        conn
    }
}

/// The server end of one connection.
pub(crate) struct ServerConn {
    reader: BufReader<ReadHalf<DuplexStream>>,
    writer: WriteHalf<DuplexStream>,
}

impl ServerConn {
    /// Sends `INFO`, reads `CONNECT` and `PING`, answers `PONG`.
    pub(crate) async fn handshake(&mut self, info_json: &str) {
        self.send(format!("INFO {info_json}\r\n").as_bytes()).await;
        let connect = self.read_line().await;
        assert!(connect.starts_with("CONNECT {"), "{connect:?}");
        assert_eq!(self.read_line().await, "PING");
        self.send(b"PONG\r\n").await;
    }

    /// Writes raw bytes to the client.
    pub(crate) async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.expect("client reads");
        self.writer.flush().await.expect("flush");
    }

    /// The next line from the client, without its CRLF.
    pub(crate) async fn read_line(&mut self) -> String {
        let mut line = String::new();
        let n = tokio::time::timeout(STEP, self.reader.read_line(&mut line))
            .await
            .expect("a line in time")
            .expect("read");
        assert!(n > 0, "the client closed the connection");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    /// Reads lines until one starts with `prefix`, answering `PING`s; returns it.
    pub(crate) async fn expect_line(&mut self, prefix: &str) -> String {
        loop {
            let line = self.read_line().await;
            if line.starts_with(prefix) {
                return line;
            }
            if line == "PING" {
                self.send(b"PONG\r\n").await;
            }
        }
    }
}

/// An `INFO` body with `extra` JSON fields (such as `"connect_urls":["b:2"]`) added.
pub(crate) fn info(extra: &str) -> String {
    let base =
        r#"{"server_id":"S","version":"2.15.1","proto":1,"headers":true,"max_payload":1048576"#;
    if extra.is_empty() {
        format!("{base}}}")
    } else {
        format!("{base},{extra}}}")
    }
}
