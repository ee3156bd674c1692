//! Connection events delivered to the callbacks of [`ConnectOptions`](crate::ConnectOptions).

use std::fmt;

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
    /// The server sent `-ERR` that did not close the connection, or an error happened in the
    /// connection (the text says which).
    Error(String),
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
            Event::SlowConsumer { sid, subject } => {
                write!(f, "slow consumer on subscription {sid} ({subject})")
            }
            Event::DiscoveredServers(s) => write!(f, "discovered servers: {}", s.join(", ")),
            Event::LameDuckMode => f.write_str("server entered lame duck mode"),
        }
    }
}
