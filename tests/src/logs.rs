//! Draining a server's stderr: keeps the latest lines for failure messages and
//! reports the ports of the listeners named in the startup log.
//!
//! The pipe must be read for the whole life of the process, or a chatty
//! server (`-DV`) would fill it and block on its next log write.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};

/// How many of the latest log lines to keep.
const KEPT_LINES: usize = 500;

/// A listener whose port the server logs once it is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listener {
    /// Client connections: `Listening for client connections on HOST:PORT`.
    Client,
    /// Route (cluster) connections: `Listening for route connections on HOST:PORT`,
    /// logged after `Server is ready`.
    Route,
    /// The HTTP monitoring endpoint: `Starting http monitor on HOST:PORT`, logged
    /// before the client listener.
    Monitor,
}

/// The start of the log message that announces each listener's address.
const ANNOUNCEMENTS: [(&str, Listener); 3] = [
    ("Listening for client connections on ", Listener::Client),
    ("Listening for route connections on ", Listener::Route),
    ("Starting http monitor on ", Listener::Monitor),
];

/// The latest lines a server wrote to stderr, shared with the reader thread.
#[derive(Clone, Default)]
pub(crate) struct LogTail(Arc<Mutex<VecDeque<String>>>);

impl LogTail {
    fn push(&self, line: String) {
        let mut lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if lines.len() == KEPT_LINES {
            lines.pop_front();
        }
        lines.push_back(line);
    }

    /// Returns the kept lines, joined with newlines.
    pub(crate) fn text(&self) -> String {
        let lines = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        lines
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Reads `stderr` on a thread until it closes.
///
/// Returns the thread and a receiver that yields each listener and its port as
/// the server logs them; the receiver disconnects once the stream ends.
pub(crate) fn drain(
    stderr: impl Read + Send + 'static,
    tail: LogTail,
) -> (JoinHandle<()>, Receiver<(Listener, u16)>) {
    let (port_tx, port_rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let mut reader = BufReader::new(stderr);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
            if let Some(found) = listening_port(&line) {
                // The receiver may have stopped listening; nothing to do then.
                let _ = port_tx.send(found);
            }
            tail.push(line);
        }
    });
    (handle, port_rx)
}

/// Extracts the listener and port from a log line such as
/// `Listening for client connections on HOST:PORT`.
fn listening_port(line: &str) -> Option<(Listener, u16)> {
    ANNOUNCEMENTS.iter().find_map(|&(announcement, listener)| {
        let (_, address) = line.split_once(announcement)?;
        let (_, port) = address.trim().rsplit_once(':')?;
        Some((listener, port.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::{listening_port, Listener};

    #[test]
    fn parses_listening_line() {
        let line = "[1234] 2025/01/01 00:00:00.000000 [INF] \
                    Listening for client connections on 127.0.0.1:40123";
        assert_eq!(listening_port(line), Some((Listener::Client, 40123)));
        let v6 = "[1] [INF] Listening for client connections on [::1]:4222";
        assert_eq!(listening_port(v6), Some((Listener::Client, 4222)));
    }

    #[test]
    fn parses_route_and_monitor_lines() {
        let route = "[1] 2025/01/01 00:00:00.000000 [INF] \
                     Listening for route connections on 127.0.0.1:37137";
        assert_eq!(listening_port(route), Some((Listener::Route, 37137)));
        let monitor = "[1] 2025/01/01 00:00:00.000000 [INF] \
                       Starting http monitor on 127.0.0.1:44695";
        assert_eq!(listening_port(monitor), Some((Listener::Monitor, 44695)));
    }

    #[test]
    fn ignores_other_lines() {
        assert_eq!(listening_port("[INF] Server is ready"), None);
        assert_eq!(
            listening_port("[INF] Listening for client connections on nowhere"),
            None
        );
    }
}
