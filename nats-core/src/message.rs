//! A message delivered to a subscription.

use bytes::Bytes;

use crate::header::{HeaderMap, StatusCode};
use crate::subject::Subject;

/// A message received from the server.
///
/// The subject, reply subject and payload share the connection's read buffer: receiving a
/// message copies nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The subject the message was published to.
    pub subject: Subject,
    /// Where the publisher wants replies, if anywhere.
    pub reply: Option<Subject>,
    /// The payload.
    pub payload: Bytes,
    /// Headers, when the message was published with any (or carries a status).
    pub headers: Option<HeaderMap>,
    /// The status of the header block's first line, such as `503` for no responders.
    pub status: Option<StatusCode>,
    /// The description that follows the status, when there is one.
    pub description: Option<String>,
    /// Size of the message on the wire: headers and payload.
    pub length: usize,
}

impl Message {
    /// The payload as UTF-8, if it is.
    pub fn payload_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.payload).ok()
    }

    /// Whether this message is the server's "no responders" status for a request.
    pub fn is_no_responders(&self) -> bool {
        self.status == Some(StatusCode::NO_RESPONDERS) && self.payload.is_empty()
    }
}
