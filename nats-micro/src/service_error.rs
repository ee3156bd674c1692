//! [`ServiceError`]: the error reply of the Service API, its two headers, and how errors of
//! handlers and middleware become one.

use std::borrow::Cow;
use std::convert::Infallible;
use std::error::Error as StdError;
use std::fmt;

use bytes::Bytes;
use nats_core::{HeaderMap, Message};

/// A type-erased error, as tower middleware returns them.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Header carrying the description of an error reply.
pub const ERROR_HEADER: &str = "Nats-Service-Error";

/// Header carrying the code of an error reply.
pub const ERROR_CODE_HEADER: &str = "Nats-Service-Error-Code";

/// Error code `400`: the request was malformed (a body that does not parse, a missing field).
pub const INVALID_INPUT: &str = "400";

/// Error code `401`: the caller is not allowed to make the request.
pub const UNAUTHORIZED: &str = "401";

/// Error code `404`: what the request asked for does not exist.
pub const NOT_FOUND: &str = "404";

/// Error code `429`: too many requests; the caller should retry later.
pub const RATE_LIMITED: &str = "429";

/// Error code `500`: the service failed (a handler error or panic, a reply that could not be
/// sent). Also the code sent in place of an empty one.
pub const INTERNAL_ERROR: &str = "500";

/// The description sent in place of an empty one.
pub(crate) const UNKNOWN_ERROR: &str = "unknown error";

/// An error reply: headers `Nats-Service-Error: <description>` and
/// `Nats-Service-Error-Code: <code>`, with `data` as the body.
///
/// Handlers return it (or anything `Into<ServiceError>`) to answer with an error; callers get it
/// back from [`request`](crate::request) and [`CallError::Service`](crate::CallError::Service).
///
/// Codes are strings, as in nats.go and nats-py: numeric ones (`400`, `404`, `500`) are
/// the common case, and names such as `USER_NOT_FOUND` go through unchanged.
///
/// ```
/// use nats_micro::ServiceError;
/// let error = ServiceError::new(404, "no such user").with_data("42");
/// assert_eq!(error.to_string(), "service error 404: no such user");
/// assert_eq!(error.status(), Some(404));
/// let error = ServiceError::new("USER_NOT_FOUND", "no user 42");
/// assert_eq!(error.code, "USER_NOT_FOUND");
/// assert_eq!(error.status(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    /// The code, such as `400`, `404`, `500` or `USER_NOT_FOUND`.
    pub code: String,
    /// What went wrong.
    pub description: String,
    /// The body of the error reply, often empty.
    pub data: Bytes,
}

impl ServiceError {
    /// An error with `code` (a number or a name) and `description`, and no data.
    pub fn new(code: impl fmt::Display, description: impl Into<String>) -> Self {
        ServiceError {
            code: code.to_string(),
            description: description.into(),
            data: Bytes::new(),
        }
    }

    /// A `400` error: the request was malformed.
    pub fn bad_request(description: impl Into<String>) -> Self {
        Self::new(INVALID_INPUT, description)
    }

    /// A `404` error: what the request asked for does not exist.
    pub fn not_found(description: impl Into<String>) -> Self {
        Self::new(NOT_FOUND, description)
    }

    /// A `500` error: the handler failed.
    pub fn internal(description: impl Into<String>) -> Self {
        Self::new(INTERNAL_ERROR, description)
    }

    /// The same error with `data` as the body of the reply.
    pub fn with_data(mut self, data: impl Into<Bytes>) -> Self {
        self.data = data.into();
        self
    }

    /// The code as a number, when it is one.
    pub fn status(&self) -> Option<u16> {
        self.code.trim().parse().ok()
    }

    /// The error as the `last_error` of the STATS reply shows it: `"<code>:<description>"`.
    pub fn last_error(&self) -> String {
        format!("{}:{}", self.code, self.description)
    }

    /// The error as it can be sent: an empty (or blank) code becomes [`INTERNAL_ERROR`], an
    /// empty description `"unknown error"`, and control characters (CR, LF, ...) in either
    /// become spaces, so both headers are always valid. Borrowed when nothing needs changing.
    pub(crate) fn sendable(&self) -> Cow<'_, ServiceError> {
        let code_ok = !self.code.trim().is_empty() && !has_control(&self.code);
        let description_ok = !self.description.is_empty() && !has_control(&self.description);
        if code_ok && description_ok {
            return Cow::Borrowed(self);
        }
        let code = without_control(&self.code);
        let code = if code.trim().is_empty() {
            INTERNAL_ERROR.to_owned()
        } else {
            code
        };
        let description = if self.description.is_empty() {
            UNKNOWN_ERROR.to_owned()
        } else {
            without_control(&self.description)
        };
        Cow::Owned(ServiceError {
            code,
            description,
            data: self.data.clone(),
        })
    }

    /// The service error a reply carries, if it has the error headers.
    ///
    /// Codes are read leniently, as other implementations send them: surrounding spaces are
    /// ignored, and a missing or empty code reads as `500`.
    pub fn from_message(message: &Message) -> Option<ServiceError> {
        let headers = message.headers.as_ref()?;
        let description = header(headers, ERROR_HEADER);
        let code = header(headers, ERROR_CODE_HEADER);
        if description.is_none() && code.is_none() {
            return None;
        }
        Some(ServiceError {
            code: code
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .unwrap_or(INTERNAL_ERROR)
                .to_owned(),
            description: description.unwrap_or_default().to_owned(),
            data: message.payload.clone(),
        })
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// `text` with every control character replaced by a space.
fn without_control(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A header by exact name, or else ignoring case (some peers change the case of names).
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).or_else(|| headers.get_ignore_case(name))
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "service error {}: {}", self.code, self.description)
    }
}

impl StdError for ServiceError {}

impl From<Infallible> for ServiceError {
    fn from(never: Infallible) -> Self {
        match never {}
    }
}

/// Errors of tower middleware: a [`ServiceError`] inside is kept, a timeout becomes `504`, an
/// overloaded service `503`, anything else `500` with the error's message.
impl From<BoxError> for ServiceError {
    fn from(error: BoxError) -> Self {
        let error = match error.downcast::<ServiceError>() {
            Ok(service_error) => return *service_error,
            Err(error) => error,
        };
        if error.is::<tower::timeout::error::Elapsed>() {
            ServiceError::new(504, "request timed out")
        } else if error.is::<tower::load_shed::error::Overloaded>() {
            ServiceError::new(503, "service overloaded")
        } else {
            ServiceError::internal(error.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(headers: &[(&str, &str)], payload: &'static str) -> Message {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, *value);
        }
        Message {
            subject: "_INBOX.x".into(),
            reply: None,
            payload: Bytes::from_static(payload.as_bytes()),
            headers: Some(map),
            status: None,
            description: None,
            length: 0,
        }
    }

    #[test]
    fn parses_error_replies_leniently() {
        let error = ServiceError::from_message(&reply(
            &[(ERROR_HEADER, "bad thing"), (ERROR_CODE_HEADER, " 422 ")],
            "details",
        ))
        .expect("an error reply");
        assert_eq!(
            error,
            ServiceError::new(422, "bad thing").with_data("details")
        );

        let error = ServiceError::from_message(&reply(
            &[
                ("nats-service-error", "x"),
                ("nats-service-error-code", "oops"),
            ],
            "",
        ))
        .expect("an error reply");
        assert_eq!(
            (error.code.as_str(), error.description.as_str()),
            ("oops", "x")
        );

        let error = ServiceError::from_message(&reply(&[(ERROR_HEADER, "no code")], ""))
            .expect("an error reply");
        assert_eq!(error.code, "500");

        assert_eq!(ServiceError::from_message(&reply(&[("A", "b")], "")), None);
    }

    #[test]
    fn sendable_errors_have_valid_headers() {
        let error = ServiceError::new("", "two\r\nlines\tand\u{7f}more");
        let sendable = error.sendable();
        assert_eq!(sendable.code, INTERNAL_ERROR);
        assert_eq!(sendable.description, "two  lines and more");
        let error = ServiceError::new("4\n00", "");
        let sendable = error.sendable();
        assert_eq!(
            (sendable.code.as_str(), sendable.description.as_str()),
            ("4 00", UNKNOWN_ERROR)
        );
        assert_eq!(ServiceError::new("\r\n", "x").sendable().code, "500");
        assert_eq!(ServiceError::new(" ", "x").sendable().code, "500");
        let clean = ServiceError::new(NOT_FOUND, "gone").with_data("d");
        assert!(matches!(clean.sendable(), Cow::Borrowed(_)));
        assert_eq!(
            ServiceError::new("", "a\nb").with_data("d").sendable().data,
            "d"
        );
    }

    #[test]
    fn helpers_use_the_code_constants() {
        assert_eq!(ServiceError::bad_request("x").code, INVALID_INPUT);
        assert_eq!(ServiceError::not_found("x").code, NOT_FOUND);
        assert_eq!(ServiceError::internal("x").code, INTERNAL_ERROR);
        let codes = [
            INVALID_INPUT,
            UNAUTHORIZED,
            NOT_FOUND,
            RATE_LIMITED,
            INTERNAL_ERROR,
        ];
        assert_eq!(codes, ["400", "401", "404", "429", "500"]);
    }

    #[test]
    fn middleware_errors_become_service_errors() {
        let boxed: BoxError = Box::new(ServiceError::not_found("gone"));
        assert_eq!(ServiceError::from(boxed), ServiceError::not_found("gone"));
        let boxed: BoxError = Box::new(tower::timeout::error::Elapsed::new());
        assert_eq!(ServiceError::from(boxed).code, "504");
        let boxed: BoxError = "plain failure".into();
        assert_eq!(
            ServiceError::from(boxed),
            ServiceError::internal("plain failure")
        );
    }
}
