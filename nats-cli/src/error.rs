//! [`CliError`]: why a command failed, as the one line `nats-rs: <message>` says it.

use std::io;
use std::time::Duration;

use nats_core::jetstream::JetStreamError;
use nats_core::kv::KvError;
use nats_core::object_store::ObjectStoreError;
use nats_core::{ConnectError, FlushError, PublishError, RequestError, SubscribeError};
use nats_micro::ServiceError;

use crate::duration;

/// Why a command failed. Every one exits with status 1 (usage errors are clap's, status 2).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// A flag, environment variable or context field that cannot be used; the message names
    /// it.
    #[error("{0}")]
    Setting(String),
    /// No server could be reached, or the server refused the connection.
    #[error("cannot connect to {servers}: {source}")]
    Connect {
        servers: String,
        #[source]
        source: ConnectError,
    },
    /// A request (a discovery query too) could not be made.
    #[error("request to {subject:?} failed: {source}")]
    Request {
        subject: String,
        #[source]
        source: RequestError,
    },
    /// Nobody listens on the subject of a request.
    #[error("no responders on {subject:?}")]
    NoResponders { subject: String },
    /// No reply came within the timeout.
    #[error("no reply on {subject:?} within {}", duration::human(*.timeout))]
    TimedOut { subject: String, timeout: Duration },
    /// The reply was a Service API error reply: `service error 404: no such user`.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// A message could not be published.
    #[error("cannot publish to {subject:?}: {source}")]
    Publish {
        subject: String,
        #[source]
        source: PublishError,
    },
    /// A subscription could not be made or was refused by the server.
    #[error("cannot subscribe to {subject:?}: {source}")]
    Subscribe {
        subject: String,
        #[source]
        source: SubscribeError,
    },
    /// The server did not confirm what was published.
    #[error("the server did not confirm the messages: {0}")]
    Flush(#[from] FlushError),
    /// The connection closed while a command was still waiting for messages.
    #[error("the connection closed while waiting for messages on {subject:?}")]
    Closed { subject: String },
    /// What was asked for does not exist: no instance of a service answered, no such
    /// stream, bucket, key or object.
    #[error("{0}")]
    NotFound(String),
    /// A JetStream API call failed: `cannot list streams: jetstream not enabled`.
    #[error("cannot {action}: {source}")]
    JetStream {
        action: String,
        #[source]
        source: JetStreamError,
    },
    /// A Key-Value operation failed.
    #[error("cannot {action}: {source}")]
    Kv {
        action: String,
        #[source]
        source: KvError,
    },
    /// An Object Store operation failed.
    #[error("cannot {action}: {source}")]
    Object {
        action: String,
        #[source]
        source: ObjectStoreError,
    },
    /// A file could not be read or written: `cannot read photo.jpg: No such file or
    /// directory (os error 2)`.
    #[error("cannot {action} {path}: {source}")]
    File {
        action: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },
    /// Something would be deleted or replaced, `--force` was not given, and there is no
    /// terminal to ask on.
    #[error("give --force to {0}: standard input is not a terminal to ask on")]
    NotConfirmed(String),
    /// Standard output could not be written.
    #[error("cannot write the output: {0}")]
    Output(#[from] io::Error),
}

impl CliError {
    /// A request error, with no responders and timeouts said plainly.
    pub(crate) fn request(subject: &str, timeout: Duration, source: RequestError) -> CliError {
        use nats_core::RequestErrorKind;
        let subject = subject.to_owned();
        match source.kind() {
            RequestErrorKind::NoResponders => CliError::NoResponders { subject },
            RequestErrorKind::TimedOut => CliError::TimedOut { subject, timeout },
            _ => CliError::Request { subject, source },
        }
    }

    /// Whether the error is the end of standard output (`nats-rs sub x | head -1`): the
    /// reader left, which is no failure of the command.
    pub(crate) fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Output(error) if error.kind() == io::ErrorKind::BrokenPipe)
    }
}
