//! Connection events delivered to the callbacks of [`ConnectOptions`](crate::ConnectOptions).

use std::fmt;

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

/// The sending side of the events, and the latest error, for `last_error`.
#[derive(Debug)]
pub(crate) struct Events {
    sender: mpsc::UnboundedSender<Event>,
    last_error: Mutex<Option<String>>,
}

impl Events {
    /// Events go to `sender`, read by the task that runs the callbacks.
    pub(crate) fn new(sender: mpsc::UnboundedSender<Event>) -> Self {
        Events {
            sender,
            last_error: Mutex::new(None),
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

    /// Reports an `-ERR` of the server and keeps it as the latest error.
    pub(crate) fn server_error(&self, err: ServerError) {
        *self.last_error.lock() = Some(err.to_string());
        self.emit(Event::ServerError(err));
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        self.last_error.lock().clone()
    }
}
