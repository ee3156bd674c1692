//! Typed errors, one per operation family, each an [`Error`] of a `#[non_exhaustive]` kind
//! with an optional source.

use std::error::Error as StdError;
use std::fmt;

use crate::header::HeaderError;
use crate::subject::SubjectError;

type Source = Box<dyn StdError + Send + Sync + 'static>;

/// An error of kind `K`, with the lower-level error that caused it when there is one.
///
/// ```
/// use nats_core::{RequestError, RequestErrorKind};
/// fn describe(err: &RequestError) -> &'static str {
///     match err.kind() {
///         RequestErrorKind::NoResponders => "nobody is listening",
///         RequestErrorKind::TimedOut => "too slow",
///         _ => "something else",
///     }
/// }
/// ```
pub struct Error<K> {
    kind: K,
    source: Option<Source>,
}

impl<K: Copy> Error<K> {
    /// What went wrong.
    pub fn kind(&self) -> K {
        self.kind
    }
}

impl<K> Error<K> {
    pub(crate) fn new(kind: K) -> Self {
        Error { kind, source: None }
    }

    pub(crate) fn with_source(kind: K, source: impl Into<Source>) -> Self {
        Error {
            kind,
            source: Some(source.into()),
        }
    }
}

impl<K> From<K> for Error<K> {
    fn from(kind: K) -> Self {
        Error::new(kind)
    }
}

impl<K: fmt::Display> fmt::Display for Error<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {}", self.kind, source),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl<K: fmt::Debug> fmt::Debug for Error<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Error");
        s.field("kind", &self.kind);
        if let Some(source) = &self.source {
            s.field("source", source);
        }
        s.finish()
    }
}

impl<K: fmt::Debug + fmt::Display> StdError for Error<K> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// Failure to connect, or to parse the servers to connect to.
pub type ConnectError = Error<ConnectErrorKind>;

/// What went wrong while connecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectErrorKind {
    /// A server address could not be parsed.
    #[error("invalid server address")]
    InvalidAddress,
    /// No server address was given.
    #[error("no servers to connect to")]
    NoServers,
    /// The TCP connection could not be made or broke during the handshake.
    #[error("i/o error while connecting")]
    Io,
    /// The server did not answer within the connect timeout.
    #[error("timed out connecting")]
    TimedOut,
    /// The server sent something that is not the NATS protocol.
    #[error("protocol error during handshake")]
    Protocol,
    /// The server refused the credentials: an authorization violation, or credentials that
    /// expired or were revoked. The source is a [`ServerRefusal`](crate::ServerRefusal):
    /// the server, its words and the [`ServerError`](crate::ServerError).
    #[error("authorization violation")]
    AuthorizationViolation,
    /// The server answered `CONNECT` with another `-ERR`; the source is a
    /// [`ServerRefusal`](crate::ServerRefusal).
    #[error("server error during handshake")]
    ServerError,
    /// The server requires something this client cannot do.
    #[error("unsupported server requirement")]
    Unsupported,
    /// The credentials of the options could not be used: a file that cannot be read or
    /// parsed, a seed that is not one, a failing callback (the source says which; it never
    /// holds the secret).
    #[error("invalid credentials")]
    Credentials,
    /// TLS could not be set up or the handshake failed: the source names the server and why
    /// (a file that cannot be read, an unknown issuer, a name mismatch, an expired
    /// certificate, a server that does not offer TLS).
    #[error("TLS error")]
    Tls,
}

/// Failure to publish.
pub type PublishError = Error<PublishErrorKind>;

/// What went wrong while publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishErrorKind {
    /// The subject is not a valid publish subject.
    #[error("invalid subject")]
    InvalidSubject,
    /// The reply subject is not valid.
    #[error("invalid reply subject")]
    InvalidReply,
    /// A header name or value cannot be sent.
    #[error("invalid headers")]
    InvalidHeaders,
    /// Headers were given but the server does not support them.
    #[error("server does not support headers")]
    HeadersNotSupported,
    /// Headers and payload together exceed the server's `max_payload`.
    #[error("message exceeds the server's max_payload")]
    MaxPayloadExceeded,
    /// The client is disconnected and its reconnect buffer (`pending_size` bytes) is full;
    /// the message was not queued (nats-py's `OutboundBufferLimitError`).
    #[error("reconnect buffer full: the client is disconnected and holds pending_size bytes")]
    ReconnectBufferFull,
    /// The client is closed (or draining).
    #[error("connection closed")]
    Closed,
}

/// Failure to subscribe or unsubscribe.
pub type SubscribeError = Error<SubscribeErrorKind>;

/// What went wrong while subscribing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeErrorKind {
    /// The subject is not a valid subscription subject.
    #[error("invalid subject")]
    InvalidSubject,
    /// The queue group name is not valid.
    #[error("invalid queue group")]
    InvalidQueueGroup,
    /// The server refused the subscription: the user may not subscribe to the subject. The
    /// source is the [`ServerError`](crate::ServerError).
    #[error("subscription refused by the server")]
    PermissionDenied,
    /// The client is closed (or draining).
    #[error("connection closed")]
    Closed,
}

/// Failure of a request.
pub type RequestError = Error<RequestErrorKind>;

/// What went wrong with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestErrorKind {
    /// The request could not be published (see the source).
    #[error("request could not be sent")]
    Publish,
    /// The reply inbox could not be subscribed, or the server refused it (the source is then
    /// a [`SubscribeErrorKind::PermissionDenied`] error): no reply can arrive.
    #[error("reply inbox could not be subscribed")]
    Subscribe,
    /// No subscriber listens on the subject (the server's 503 status).
    #[error("no responders")]
    NoResponders,
    /// No reply arrived in time.
    #[error("request timed out")]
    TimedOut,
    /// The connection closed before a reply arrived.
    #[error("connection closed")]
    Closed,
}

/// Failure of a flush.
pub type FlushError = Error<FlushErrorKind>;

/// What went wrong while flushing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlushErrorKind {
    /// The server's `PONG` did not come in time.
    #[error("flush timed out")]
    TimedOut,
    /// The server answered, but a connection was lost since the previous flush with messages
    /// published before this one that the server had not confirmed: they may be lost.
    #[error("connection lost: messages published before this flush may not have arrived")]
    ConnectionLost,
    /// The connection closed before the server answered.
    #[error("connection closed")]
    Closed,
}

/// Failure to drain or close.
pub type DrainError = Error<DrainErrorKind>;

/// What went wrong while draining.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DrainErrorKind {
    /// Draining did not finish within `drain_timeout`; the connection was closed anyway.
    #[error("drain timed out")]
    TimedOut,
    /// The client was already closed.
    #[error("connection closed")]
    Closed,
}

impl From<SubjectError> for PublishError {
    fn from(err: SubjectError) -> Self {
        Error::with_source(PublishErrorKind::InvalidSubject, err)
    }
}

impl From<HeaderError> for PublishError {
    fn from(err: HeaderError) -> Self {
        Error::with_source(PublishErrorKind::InvalidHeaders, err)
    }
}

impl From<PublishError> for RequestError {
    fn from(err: PublishError) -> Self {
        match err.kind() {
            PublishErrorKind::Closed => Error::new(RequestErrorKind::Closed),
            _ => Error::with_source(RequestErrorKind::Publish, err),
        }
    }
}

impl From<SubscribeError> for RequestError {
    fn from(err: SubscribeError) -> Self {
        match err.kind() {
            SubscribeErrorKind::Closed => Error::new(RequestErrorKind::Closed),
            _ => Error::with_source(RequestErrorKind::Subscribe, err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_joins_kind_and_source() {
        let err = PublishError::from(SubjectError::Whitespace);
        assert_eq!(err.kind(), PublishErrorKind::InvalidSubject);
        assert_eq!(
            err.to_string(),
            "invalid subject: subject contains whitespace"
        );
        assert!(StdError::source(&err).is_some());
        let err = RequestError::new(RequestErrorKind::NoResponders);
        assert_eq!(err.to_string(), "no responders");
    }
}
