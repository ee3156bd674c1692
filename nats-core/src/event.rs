//! Connection events delivered to the callbacks of [`ConnectOptions`](crate::ConnectOptions).

use std::fmt;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::server_error::ServerError;
use crate::subject::Subject;

/// Something that happened to the connection.
///
/// Callbacks run on their own task, one event at a time, in order; a slow callback never
/// holds up the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The connection to a server is up.
    Connected,
    /// The connection to the server was lost.
    Disconnected,
    /// The connection is up again after a loss.
    Reconnected,
    /// The client is closed for good.
    Closed,
    /// Something went wrong in the connection that did not end the client: the connection
    /// was lost (and why), a malformed message was dropped, an `INFO` could not be read.
    Error(String),
    /// The server sent `-ERR`. After most of them the server closes the connection and the
    /// client reconnects; permissions violations leave it open.
    ServerError(ServerError),
    /// A subscription fell behind its pending limits and messages were dropped. Sent once when
    /// the subscription starts dropping, not for every dropped message.
    SlowConsumer {
        /// The subscription's id.
        sid: u64,
        /// The subscription's subject.
        subject: Subject,
    },
    /// The server announced cluster members this client did not know of.
    DiscoveredServers(Vec<String>),
    /// The server entered lame duck mode and will shut down soon.
    LameDuckMode,
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Connected => f.write_str("connected"),
            Event::Disconnected => f.write_str("disconnected"),
            Event::Reconnected => f.write_str("reconnected"),
            Event::Closed => f.write_str("closed"),
            Event::Error(e) => write!(f, "error: {e}"),
            Event::ServerError(e) => write!(f, "server error: {e}"),
            Event::SlowConsumer { sid, subject } => {
                write!(f, "slow consumer on subscription {sid} ({subject})")
            }
            Event::DiscoveredServers(s) => write!(f, "discovered servers: {}", s.join(", ")),
            Event::LameDuckMode => f.write_str("server entered lame duck mode"),
        }
    }
}

/// Server errors reported per second at most; past it they only update `last_error`, so a
/// flood of `-ERR`s (one per refused publish) cannot flood the event queue.
const SERVER_ERRORS_PER_SECOND: u32 = 100;

/// The sending side of the events, and the latest error, for `last_error`.
#[derive(Debug)]
pub(crate) struct Events {
    sender: mpsc::UnboundedSender<Event>,
    last_error: Mutex<Option<String>>,
    /// The last server error reported, and the current one-second window: its start and
    /// how many were reported in it.
    server_errors: Mutex<ServerErrorWindow>,
}

#[derive(Debug, Default)]
struct ServerErrorWindow {
    last: Option<ServerError>,
    started: Option<Instant>,
    reported: u32,
}

impl ServerErrorWindow {
    /// Whether `err` is worth an event: not the same as the last one within the second, and
    /// not past the budget of the second.
    fn admit(&mut self, err: &ServerError) -> bool {
        let now = Instant::now();
        let fresh_window = self
            .started
            .is_none_or(|at| now.duration_since(at) >= Duration::from_secs(1));
        if fresh_window {
            self.started = Some(now);
            self.reported = 0;
        } else if self.last.as_ref() == Some(err) || self.reported >= SERVER_ERRORS_PER_SECOND {
            return false;
        }
        self.last = Some(err.clone());
        self.reported += 1;
        true
    }
}

impl Events {
    /// Events go to `sender`, read by the task that runs the callbacks.
    pub(crate) fn new(sender: mpsc::UnboundedSender<Event>) -> Self {
        Events {
            sender,
            last_error: Mutex::new(None),
            server_errors: Mutex::new(ServerErrorWindow::default()),
        }
    }

    pub(crate) fn emit(&self, event: Event) {
        // The event task ends only after the connection task; a send can fail only at exit.
        let _ = self.sender.send(event);
    }

    /// Reports an error of the connection and keeps it as the latest error.
    pub(crate) fn error(&self, text: String) {
        *self.last_error.lock() = Some(text.clone());
        self.emit(Event::Error(text));
    }

    /// Reports an `-ERR` of the server (unless the same one was just reported, or too many
    /// this second) and keeps it as the latest error.
    pub(crate) fn server_error(&self, err: ServerError) {
        *self.last_error.lock() = Some(err.to_string());
        if self.server_errors.lock().admit(&err) {
            self.emit(Event::ServerError(err));
        }
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_server_errors_is_held_to_a_budget() {
        let mut window = ServerErrorWindow::default();
        let same = ServerError::StaleConnection;
        assert!(window.admit(&same));
        assert!(!window.admit(&same), "the same again within the second");
        let admitted = (0..1000)
            .filter(|i| window.admit(&ServerError::Other(format!("e{i}"))))
            .count();
        assert_eq!(admitted, SERVER_ERRORS_PER_SECOND as usize - 1);
    }
}
