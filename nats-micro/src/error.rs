//! The errors of configuring, starting, answering and calling: [`ConfigError`],
//! [`StartError`], [`RespondError`], [`CallError`], and [`AsyncError`] for subscription
//! failures. The error reply itself is [`ServiceError`].

use std::error::Error as StdError;
use std::fmt;

use nats_core::RequestError;

pub use crate::service_error::{
    BoxError, ServiceError, ERROR_CODE_HEADER, ERROR_HEADER, INTERNAL_ERROR, INVALID_INPUT,
    NOT_FOUND, RATE_LIMITED, UNAUTHORIZED,
};

/// An invalid service, group or endpoint configuration; names the field at fault.
///
/// ```
/// use nats_micro::{ConfigErrorKind, ServiceConfig};
/// let error = ServiceConfig::new("calc", "1.0").validate().unwrap_err();
/// assert_eq!(error.kind(), ConfigErrorKind::Version);
/// assert_eq!(error.field(), "version");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    value: String,
}

/// Which field of a configuration is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The service name: non-empty, only `A-Z a-z 0-9 - _`.
    Name,
    /// The service version: SemVer 2.0.
    Version,
    /// The service's queue group: no space, `>` only at the end.
    QueueGroup,
    /// An endpoint name: non-empty, only `A-Z a-z 0-9 - _`.
    EndpointName,
    /// An endpoint subject (with its group prefix): no space, `>` only at the end.
    EndpointSubject,
    /// An endpoint's queue group (as inherited): no space, `>` only at the end.
    EndpointQueueGroup,
    /// A concurrency limit: at least 1.
    MaxConcurrency,
    /// A name given to [`ServiceBuilder::endpoint_layer`](crate::ServiceBuilder::endpoint_layer)
    /// that no endpoint of the builder has.
    UnknownEndpoint,
    /// The control subjects' prefix: a non-empty subject without whitespace, wildcards or
    /// empty tokens.
    ApiPrefix,
}

impl ConfigError {
    pub(crate) fn new(kind: ConfigErrorKind, value: impl Into<String>) -> Self {
        ConfigError {
            kind,
            value: value.into(),
        }
    }

    /// Which field is invalid.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The name of the field at fault, such as `"version"` or `"endpoint.subject"`.
    pub fn field(&self) -> &'static str {
        match self.kind {
            ConfigErrorKind::Name => "name",
            ConfigErrorKind::Version => "version",
            ConfigErrorKind::QueueGroup => "queue_group",
            ConfigErrorKind::EndpointName | ConfigErrorKind::UnknownEndpoint => "endpoint.name",
            ConfigErrorKind::EndpointSubject => "endpoint.subject",
            ConfigErrorKind::EndpointQueueGroup => "endpoint.queue_group",
            ConfigErrorKind::MaxConcurrency => "max_concurrency",
            ConfigErrorKind::ApiPrefix => "api_prefix",
        }
    }

    /// The rejected value.
    pub fn value(&self) -> &str {
        &self.value
    }

    fn rule(&self) -> &'static str {
        match self.kind {
            ConfigErrorKind::Name | ConfigErrorKind::EndpointName => {
                "must be non-empty, with only A-Z, a-z, 0-9, '-' and '_'"
            }
            ConfigErrorKind::Version => "must be a SemVer 2.0 version such as 1.0.0",
            ConfigErrorKind::QueueGroup
            | ConfigErrorKind::EndpointSubject
            | ConfigErrorKind::EndpointQueueGroup => {
                "must have no space, and '>' only as the last character"
            }
            ConfigErrorKind::MaxConcurrency => "must be at least 1",
            ConfigErrorKind::UnknownEndpoint => "names no endpoint added to the builder before",
            ConfigErrorKind::ApiPrefix => {
                "must be a non-empty subject without whitespace, wildcards or empty tokens"
            }
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} {:?}: it {}",
            self.field(),
            self.value,
            self.rule()
        )
    }
}

impl StdError for ConfigError {}

/// Failure to start a service or to add an endpoint.
#[derive(Debug)]
pub struct StartError {
    kind: StartErrorKind,
    source: Option<BoxError>,
}

/// What went wrong while starting a service or adding an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartErrorKind {
    /// The configuration is invalid; the source is the [`ConfigError`].
    #[error("invalid configuration")]
    InvalidConfig,
    /// A subscription failed; the source is the client's error.
    #[error("subscription failed")]
    Subscribe,
    /// The service is stopped (or stopping): no endpoint can be added.
    #[error("service stopped")]
    Stopped,
    /// The connection closed before the server confirmed the subscriptions.
    #[error("connection closed")]
    Closed,
}

impl StartError {
    pub(crate) fn new(kind: StartErrorKind) -> Self {
        StartError { kind, source: None }
    }

    pub(crate) fn with_source(kind: StartErrorKind, source: impl Into<BoxError>) -> Self {
        StartError {
            kind,
            source: Some(source.into()),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> StartErrorKind {
        self.kind
    }

    /// The configuration error, when the configuration was at fault.
    pub fn config_error(&self) -> Option<&ConfigError> {
        self.source.as_deref()?.downcast_ref()
    }
}

impl From<ConfigError> for StartError {
    fn from(error: ConfigError) -> Self {
        StartError::with_source(StartErrorKind::InvalidConfig, error)
    }
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {}", self.kind, source),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl StdError for StartError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// Failure of [`Request::respond`](crate::Request::respond) or
/// [`Request::respond_error`](crate::Request::respond_error).
#[derive(Debug)]
pub struct RespondError {
    kind: RespondErrorKind,
    source: Option<BoxError>,
}

/// What went wrong while responding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RespondErrorKind {
    /// The request has no reply subject: nobody waits for an answer.
    #[error("request has no reply subject")]
    NoReplySubject,
    /// An error reply needs a description (the header cannot be empty).
    #[error("error description is empty")]
    EmptyDescription,
    /// An error reply needs a code (the header cannot be empty).
    #[error("error code is empty")]
    EmptyCode,
    /// The request was not received from a connection (built by hand, as in tests).
    #[error("request is not bound to a connection")]
    NotConnected,
    /// Publishing the reply failed; the source is the client's error.
    #[error("reply could not be sent")]
    Publish,
}

impl RespondError {
    pub(crate) fn new(kind: RespondErrorKind) -> Self {
        RespondError { kind, source: None }
    }

    pub(crate) fn with_source(kind: RespondErrorKind, source: impl Into<BoxError>) -> Self {
        RespondError {
            kind,
            source: Some(source.into()),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> RespondErrorKind {
        self.kind
    }
}

impl fmt::Display for RespondError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {}", self.kind, source),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl StdError for RespondError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// Failure of a call to an endpoint with [`request`](crate::request) and friends.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// The request itself failed: no responders, timeout, closed connection.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The service answered with an error reply.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The request body could not be encoded.
    #[error("request could not be encoded: {0}")]
    Encode(#[source] BoxError),
    /// The reply could not be decoded into the expected type.
    #[error("reply could not be decoded: {0}")]
    Decode(#[source] BoxError),
    /// An argument of a typed client's method cannot be sent; nothing was sent.
    #[error("invalid argument `{argument}`: {reason}")]
    InvalidArgument {
        /// The argument, as the method names it.
        argument: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A call to an endpoint that never replies could not be published.
    #[error("call could not be published: {0}")]
    Publish(#[source] nats_core::PublishError),
    /// A tower layer of the calling side failed the call (a timeout layer elapsed, a load
    /// shedder refused it, ...).
    #[error("calling-side middleware failed: {0}")]
    Middleware(#[source] BoxError),
}

impl CallError {
    /// Whether the call timed out: the request's own timeout ([`RequestErrorKind::TimedOut`](
    /// nats_core::RequestErrorKind::TimedOut)) or a tower timeout layer of the calling side.
    pub fn is_timeout(&self) -> bool {
        match self {
            CallError::Request(error) => error.kind() == nats_core::RequestErrorKind::TimedOut,
            CallError::Middleware(error) => error.is::<tower::timeout::error::Elapsed>(),
            _ => false,
        }
    }
}

/// Errors of tower layers on the calling side: a `CallError` that went through the layers
/// boxed comes back as itself, anything else is [`CallError::Middleware`].
impl From<BoxError> for CallError {
    fn from(error: BoxError) -> Self {
        match error.downcast::<CallError>() {
            Ok(call) => *call,
            Err(other) => CallError::Middleware(other),
        }
    }
}

/// An asynchronous error on one of a service's subscriptions, such as a slow consumer dropping
/// requests; given to the service's error handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsyncError {
    /// The endpoint whose subscription failed.
    pub endpoint: String,
    /// The subject of that subscription.
    pub subject: String,
    /// What happened.
    pub description: String,
}

impl fmt::Display for AsyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.subject, self.description)
    }
}

impl StdError for AsyncError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_name_the_field() {
        let error = ConfigError::new(ConfigErrorKind::EndpointSubject, "a b");
        assert_eq!(error.field(), "endpoint.subject");
        assert_eq!(
            error.to_string(),
            "invalid endpoint.subject \"a b\": it must have no space, and '>' only as the last \
             character"
        );
    }
}
