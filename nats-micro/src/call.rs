//! Calling endpoints: requests whose error replies (`Nats-Service-Error` headers) come back as
//! a typed [`ServiceError`] instead of a successful message, and [`FromReply`] to decode the
//! successful ones.

use bytes::Bytes;
use nats_core::{Client, Message, RequestOptions};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{BoxError, CallError, ServiceError};
use crate::json::Json;
use crate::trace;

/// Sends a request to an endpoint and waits for its reply. Inside a handler, or in a span
/// with an OpenTelemetry context, the request carries the trace on (see [`trace`](crate::trace)).
///
/// ```no_run
/// use nats_micro::{CallError, ServiceError};
///
/// # async fn demo(client: nats_core::Client) -> Result<(), CallError> {
/// match nats_micro::request(&client, "calc.div", "[1, 0]").await {
///     Ok(reply) => println!("{:?}", reply.payload),
///     Err(CallError::Service(ServiceError { code, description, .. })) => {
///         println!("the service said {code}: {description}")
///     }
///     Err(other) => return Err(other),
/// }
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`CallError::Service`] for an error reply, [`CallError::Request`] when the request fails
/// (no responders, timeout).
pub async fn request(
    client: &Client,
    subject: impl AsRef<str>,
    payload: impl Into<Bytes>,
) -> Result<Message, CallError> {
    send_request(client, subject, RequestOptions::new().payload(payload)).await
}

/// [`request`] with headers and a timeout, described by `options`. The current trace context
/// is added to the headers, unless they have a `traceparent` already.
///
/// # Errors
/// As [`request`].
pub async fn send_request(
    client: &Client,
    subject: impl AsRef<str>,
    mut options: RequestOptions,
) -> Result<Message, CallError> {
    match options.headers_mut() {
        Some(headers) => trace::inject(headers),
        None => {
            if let Some(headers) = trace::injected(None) {
                options = options.headers(headers);
            }
        }
    }
    let reply = client.send_request(subject, options).await?;
    Ok(check_reply(reply)?)
}

/// Sends `body` as JSON and decodes the JSON reply.
///
/// # Errors
/// As [`request`], [`CallError::Encode`] when the body cannot be serialized, and
/// [`CallError::Decode`] when the reply is not the JSON of `R`.
pub async fn request_json<T, R>(
    client: &Client,
    subject: impl AsRef<str>,
    body: &T,
) -> Result<R, CallError>
where
    T: Serialize + ?Sized,
    R: DeserializeOwned,
{
    let reply = request(client, subject, encode_json(body)?).await?;
    let Json(value) = decode(reply)?;
    Ok(value)
}

/// `value` as a JSON request body.
///
/// # Errors
/// [`CallError::Encode`] when `value` cannot be serialized.
pub fn encode_json<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, CallError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| CallError::Encode(e.into()))
}

/// The reply itself, or the service error it carries.
///
/// # Errors
/// The [`ServiceError`] of a reply with the error headers.
pub fn check_reply(reply: Message) -> Result<Message, ServiceError> {
    match ServiceError::from_message(&reply) {
        Some(error) => Err(error),
        None => Ok(reply),
    }
}

/// Decodes a successful reply into `T`.
///
/// # Errors
/// [`CallError::Service`] for an error reply, [`CallError::Decode`] when it does not decode.
pub fn decode<T: FromReply>(reply: Message) -> Result<T, CallError> {
    let reply = check_reply(reply)?;
    T::from_reply(reply).map_err(CallError::Decode)
}

/// What a successful reply can be decoded into: the counterpart of
/// [`IntoReply`](crate::IntoReply) on the calling side.
pub trait FromReply: Sized {
    /// Decodes `reply`.
    ///
    /// # Errors
    /// Why the reply is not a `Self`.
    fn from_reply(reply: Message) -> Result<Self, BoxError>;
}

impl FromReply for Message {
    fn from_reply(reply: Message) -> Result<Self, BoxError> {
        Ok(reply)
    }
}

impl FromReply for () {
    fn from_reply(_reply: Message) -> Result<Self, BoxError> {
        Ok(())
    }
}

impl FromReply for Bytes {
    fn from_reply(reply: Message) -> Result<Self, BoxError> {
        Ok(reply.payload)
    }
}

impl FromReply for Vec<u8> {
    fn from_reply(reply: Message) -> Result<Self, BoxError> {
        Ok(reply.payload.to_vec())
    }
}

impl FromReply for String {
    fn from_reply(reply: Message) -> Result<Self, BoxError> {
        Ok(String::from_utf8(reply.payload.to_vec())?)
    }
}

impl<T: DeserializeOwned> FromReply for Json<T> {
    fn from_reply(reply: Message) -> Result<Self, BoxError> {
        Ok(Json(serde_json::from_slice(&reply.payload)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ERROR_CODE_HEADER, ERROR_HEADER};
    use nats_core::HeaderMap;

    fn reply(headers: Option<HeaderMap>, payload: &'static str) -> Message {
        Message {
            subject: "_INBOX.1".into(),
            reply: None,
            payload: Bytes::from_static(payload.as_bytes()),
            headers,
            status: None,
            description: None,
            length: payload.len(),
        }
    }

    #[test]
    fn error_replies_are_typed_errors() {
        let mut headers = HeaderMap::new();
        headers.insert(ERROR_HEADER, "bad input");
        headers.insert(ERROR_CODE_HEADER, "400");
        let result = decode::<String>(reply(Some(headers), "{}"));
        match result {
            Err(CallError::Service(error)) => {
                assert_eq!(
                    error,
                    ServiceError::bad_request("bad input").with_data("{}")
                );
            }
            other => panic!("expected a service error, got {other:?}"),
        }
    }

    #[test]
    fn successful_replies_decode() {
        let Json(numbers): Json<Vec<u8>> = decode(reply(None, "[1,2]")).expect("decodes");
        assert_eq!(numbers, [1, 2]);
        assert!(matches!(
            decode::<Json<u8>>(reply(None, "x")),
            Err(CallError::Decode(_))
        ));
        assert_eq!(
            decode::<String>(reply(None, "hi")).ok().as_deref(),
            Some("hi")
        );
    }
}
