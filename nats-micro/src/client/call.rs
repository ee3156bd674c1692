//! [`ClientCall`]: one call of an endpoint on its way to the wire.

use std::time::Duration;

use bytes::Bytes;
use nats_core::HeaderMap;

use crate::error::CallError;

/// One call of an endpoint as the calling side's tower stack sees it: the endpoint, the
/// subject, the body and headers its arguments produced, and the per-call options.
///
/// Layers can read and change every part (add a header, shorten the timeout); the
/// [`Caller`](super::Caller) at the bottom of the stack sends it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientCall {
    /// The endpoint's name, as its service registered it.
    pub endpoint: &'static str,
    /// The subject the call is sent to, wildcards filled in.
    pub subject: String,
    /// The body; `None` sends an empty one.
    pub payload: Option<Bytes>,
    /// The headers to send, if any.
    pub headers: Option<HeaderMap>,
    /// How long to wait for the reply, instead of the client's request timeout.
    pub timeout: Option<Duration>,
    /// Whether the endpoint answers at all; one that never does (its handler returns
    /// [`NoReply`](crate::NoReply)) is published to, not requested.
    pub expects_reply: bool,
}

impl ClientCall {
    /// A call of `endpoint` on `subject` with no body, no headers and the default timeout.
    pub fn new(endpoint: &'static str, subject: impl Into<String>) -> Self {
        ClientCall {
            endpoint,
            subject: subject.into(),
            payload: None,
            headers: None,
            timeout: None,
            expects_reply: true,
        }
    }

    /// Sets the body.
    ///
    /// # Errors
    /// [`CallError::InvalidArgument`] when an earlier argument already set it: an endpoint
    /// reads one body, so two arguments cannot both supply it.
    pub fn set_body(&mut self, payload: Bytes) -> Result<(), CallError> {
        if self.payload.is_some() {
            return Err(CallError::InvalidArgument {
                argument: "body".to_owned(),
                reason: format!(
                    "two arguments of endpoint {:?} supply the request body",
                    self.endpoint
                ),
            });
        }
        self.payload = Some(payload);
        Ok(())
    }

    /// Adds `headers`; a name they have replaces every value it had before.
    pub fn merge_headers(&mut self, headers: &HeaderMap) {
        if headers.is_empty() {
            return;
        }
        let target = self.headers.get_or_insert_with(HeaderMap::new);
        for (name, _) in headers.iter() {
            target.remove(name);
        }
        for (name, value) in headers.iter() {
            target.append(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_body_per_call() {
        let mut call = ClientCall::new("add", "math.add");
        call.set_body(Bytes::from_static(b"1")).expect("first body");
        let error = call.set_body(Bytes::from_static(b"2")).expect_err("second");
        assert!(error.to_string().contains("\"add\""), "{error}");
        assert_eq!(call.payload.as_deref(), Some(&b"1"[..]));
    }

    #[test]
    fn merged_headers_replace_by_name() {
        let mut call = ClientCall::new("e", "s");
        let mut base = HeaderMap::new();
        base.append("A", "1");
        base.append("A", "2");
        base.insert("B", "keep");
        call.merge_headers(&base);
        let mut extra = HeaderMap::new();
        extra.insert("A", "3");
        call.merge_headers(&extra);
        let headers = call.headers.expect("headers");
        assert_eq!(headers.get_all("A").collect::<Vec<_>>(), ["3"]);
        assert_eq!(headers.get("B"), Some("keep"));
        let mut empty = ClientCall::new("e", "s");
        empty.merge_headers(&HeaderMap::new());
        assert!(empty.headers.is_none());
    }
}
