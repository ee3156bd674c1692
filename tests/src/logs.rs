//! Draining a server's stderr: keeps the latest lines for failure messages and
//! reports the client port from the startup log.
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

/// The line the server logs once its client listener is bound.
const LISTENING: &str = "Listening for client connections on ";

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
/// Returns the thread and a receiver that yields the client port once the
/// server has logged it; the receiver disconnects without a value if the
/// stream ends first.
pub(crate) fn drain(
    stderr: impl Read + Send + 'static,
    tail: LogTail,
) -> (JoinHandle<()>, Receiver<u16>) {
    let (port_tx, port_rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let mut port_tx = Some(port_tx);
        let mut reader = BufReader::new(stderr);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
            if let Some(port) = listening_port(&line) {
                if let Some(tx) = port_tx.take() {
                    // The receiver may have given up waiting; nothing to do then.
                    let _ = tx.send(port);
                }
            }
            tail.push(line);
        }
    });
    (handle, port_rx)
}

/// Extracts the port from a `Listening for client connections on HOST:PORT`
/// log line.
fn listening_port(line: &str) -> Option<u16> {
    let (_, address) = line.split_once(LISTENING)?;
    let (_, port) = address.trim().rsplit_once(':')?;
    port.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::listening_port;

    #[test]
    fn parses_listening_line() {
        let line = "[1234] 2025/01/01 00:00:00.000000 [INF] \
                    Listening for client connections on 127.0.0.1:40123";
        assert_eq!(listening_port(line), Some(40123));
        let v6 = "[1] [INF] Listening for client connections on [::1]:4222";
        assert_eq!(listening_port(v6), Some(4222));
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
