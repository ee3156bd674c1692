//! [`Reply`]: what a handler answers, and [`IntoReply`]: what can become one.

use bytes::Bytes;
use nats_core::HeaderMap;

use crate::error::{ServiceError, ERROR_CODE_HEADER, ERROR_HEADER};

/// The answer to a request: a message, an error reply, or nothing.
///
/// Handlers rarely build one: they return anything that is [`IntoReply`]. In tests, a reply
/// is read back with [`payload`](Self::payload) and [`error`](Self::error).
///
/// ```
/// use nats_micro::{IntoReply, Reply, ServiceError};
/// let reply = "hello".into_reply();
/// assert_eq!(reply.payload().map(|p| &p[..]), Some(&b"hello"[..]));
/// let reply = Err::<String, _>(ServiceError::not_found("nope")).into_reply();
/// assert_eq!(reply.error().map(|e| e.code.as_str()), Some("404"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub(crate) kind: ReplyKind,
    pub(crate) headers: Option<HeaderMap>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReplyKind {
    /// An empty message, unless the handler already responded through the request.
    Empty,
    /// A message with this payload.
    Message(Bytes),
    /// An error reply.
    Error(ServiceError),
    /// No reply at all.
    Nothing,
}

impl Reply {
    /// A reply with `payload`.
    pub fn new(payload: impl Into<Bytes>) -> Self {
        Reply::from_kind(ReplyKind::Message(payload.into()))
    }

    /// An empty reply, sent only if the handler did not already respond with
    /// [`Request::respond`](crate::Request::respond): what `()` becomes.
    pub fn empty() -> Self {
        Reply::from_kind(ReplyKind::Empty)
    }

    /// An error reply.
    pub fn error_reply(error: ServiceError) -> Self {
        Reply::from_kind(ReplyKind::Error(error))
    }

    /// No reply at all: the caller, if any, gets nothing from the runtime.
    pub fn none() -> Self {
        Reply::from_kind(ReplyKind::Nothing)
    }

    fn from_kind(kind: ReplyKind) -> Self {
        Reply {
            kind,
            headers: None,
        }
    }

    /// The same reply with `headers` (for an error reply, besides the error headers).
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = Some(headers);
        self
    }

    /// The payload of a message reply (`Some(empty)` for an empty reply).
    pub fn payload(&self) -> Option<&Bytes> {
        static EMPTY: Bytes = Bytes::new();
        match &self.kind {
            ReplyKind::Message(payload) => Some(payload),
            ReplyKind::Empty => Some(&EMPTY),
            ReplyKind::Error(_) | ReplyKind::Nothing => None,
        }
    }

    /// The error of an error reply.
    pub fn error(&self) -> Option<&ServiceError> {
        match &self.kind {
            ReplyKind::Error(error) => Some(error),
            _ => None,
        }
    }

    /// The headers the reply is sent with, error headers excluded.
    pub fn headers(&self) -> Option<&HeaderMap> {
        self.headers.as_ref()
    }

    /// Whether this is no reply at all.
    pub fn is_none(&self) -> bool {
        self.kind == ReplyKind::Nothing
    }
}

/// Marker reply: answer nothing (for requests that expect no answer).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoReply;

/// Anything a handler can answer with.
///
/// `()` is an empty reply (unless the handler already responded through the request), bytes
/// and strings are the payload, [`Json`](crate::Json) is serialized, an `Err` is an error
/// reply, and `(HeaderMap, T)` adds headers.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a reply",
    note = "replies are `()`, `Bytes`, `Vec<u8>`, `String`, `&'static str`, `Json<T>`, `Reply`, `ServiceError`, `(HeaderMap, T)` and `Result<T, E>` where `E: Into<ServiceError>`"
)]
pub trait IntoReply {
    /// Turns `self` into a reply.
    fn into_reply(self) -> Reply;
}

impl IntoReply for Reply {
    fn into_reply(self) -> Reply {
        self
    }
}

impl IntoReply for () {
    fn into_reply(self) -> Reply {
        Reply::empty()
    }
}

impl IntoReply for NoReply {
    fn into_reply(self) -> Reply {
        Reply::none()
    }
}

impl IntoReply for Bytes {
    fn into_reply(self) -> Reply {
        Reply::new(self)
    }
}

impl IntoReply for Vec<u8> {
    fn into_reply(self) -> Reply {
        Reply::new(self)
    }
}

impl IntoReply for String {
    fn into_reply(self) -> Reply {
        Reply::new(self)
    }
}

impl IntoReply for &'static str {
    fn into_reply(self) -> Reply {
        Reply::new(self)
    }
}

impl IntoReply for &'static [u8] {
    fn into_reply(self) -> Reply {
        Reply::new(self)
    }
}

impl IntoReply for ServiceError {
    fn into_reply(self) -> Reply {
        Reply::error_reply(self)
    }
}

impl<T: IntoReply, E: Into<ServiceError>> IntoReply for Result<T, E> {
    fn into_reply(self) -> Reply {
        match self {
            Ok(value) => value.into_reply(),
            Err(error) => Reply::error_reply(error.into()),
        }
    }
}

impl<T: IntoReply> IntoReply for (HeaderMap, T) {
    fn into_reply(self) -> Reply {
        let (headers, value) = self;
        value.into_reply().with_headers(headers)
    }
}

/// The headers of an error reply: `extra` (if any), then the two error headers, which win.
/// Their values are those of [`ServiceError::sendable`] (no empty code, no line break), so the
/// header block is always valid; callers that also record the error sanitise it first.
pub(crate) fn error_headers(error: &ServiceError, extra: Option<HeaderMap>) -> HeaderMap {
    let mut headers = extra.unwrap_or_default();
    let error = error.sendable();
    headers.insert(ERROR_HEADER, error.description.clone());
    headers.insert(ERROR_CODE_HEADER, error.code.clone());
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_become_messages_or_errors() {
        let ok: Result<&'static str, ServiceError> = Ok("fine");
        assert_eq!(ok.into_reply(), Reply::new("fine"));
        let err: Result<(), ServiceError> = Err(ServiceError::bad_request("no"));
        assert_eq!(
            err.into_reply().error(),
            Some(&ServiceError::bad_request("no"))
        );
        assert_eq!(().into_reply().payload().map(|p| p.len()), Some(0));
        assert!(NoReply.into_reply().is_none());
    }

    #[test]
    fn headers_ride_along() {
        let mut headers = HeaderMap::new();
        headers.insert("K", "v");
        let reply = (headers.clone(), "x".to_owned()).into_reply();
        assert_eq!(reply.headers(), Some(&headers));
    }

    #[test]
    fn error_headers_win_and_stay_on_one_line() {
        let mut extra = HeaderMap::new();
        extra.insert(ERROR_HEADER, "mine");
        extra.insert("Trace", "1");
        let headers = error_headers(&ServiceError::new(422, "two\r\nlines"), Some(extra));
        assert_eq!(headers.get(ERROR_HEADER), Some("two  lines"));
        assert_eq!(headers.get(ERROR_CODE_HEADER), Some("422"));
        assert_eq!(headers.get("Trace"), Some("1"));
        assert!(headers.validate().is_ok());
    }

    #[test]
    fn error_headers_are_always_sendable() {
        let headers = error_headers(&ServiceError::new("", "bad\rcode\u{0}"), None);
        assert_eq!(headers.get(ERROR_CODE_HEADER), Some("500"));
        assert_eq!(headers.get(ERROR_HEADER), Some("bad code "));
        assert!(headers.validate().is_ok());
        let headers = error_headers(&ServiceError::new("4\r\n22", ""), None);
        assert_eq!(headers.get(ERROR_CODE_HEADER), Some("4  22"));
        assert_eq!(headers.get(ERROR_HEADER), Some("unknown error"));
        assert!(headers.validate().is_ok());
    }
}
