//! [`ClientReply`]: what a typed client returns for each reply type an endpoint may answer with.

use std::convert::Infallible;

use bytes::Bytes;
use nats_core::{HeaderMap, Message};
use serde::de::DeserializeOwned;

use crate::error::{BoxError, ServiceError};
use crate::json::Json;
use crate::reply::{NoReply, Reply};

/// The calling-side counterpart of [`IntoReply`](crate::IntoReply): what a typed client's method returns when
/// the endpoint returns a `Self` ([`Output`](Self::Output)), and how it is decoded from the
/// successful reply (error replies never get here: they are
/// [`CallError::Service`](crate::CallError::Service)).
///
/// | the endpoint returns | the client method returns |
/// |---|---|
/// | `()` | `()` |
/// | `Json<T>` | `T` |
/// | `Bytes`, `&'static [u8]` | `Bytes` |
/// | `Vec<u8>` | `Vec<u8>` |
/// | `String`, `&'static str` | `String` |
/// | `Reply` | the whole reply [`Message`] |
/// | `(HeaderMap, T)` | the reply's headers and `T`'s output |
/// | `Result<T, E>` | `T`'s output (`E` is the error reply) |
/// | `NoReply` | `()`, once published: nothing answers |
/// | `ServiceError` | never succeeds ([`Infallible`]) |
#[diagnostic::on_unimplemented(
    message = "the typed client cannot decode a `{Self}` reply",
    label = "no `ClientReply` for this return type",
    note = "implement `nats_micro::client::ClientReply` for it, or turn the typed client off with `#[service(client = false)]`"
)]
pub trait ClientReply {
    /// What the client method returns on success.
    type Output;

    /// Whether the endpoint answers at all (`false` only for [`NoReply`]).
    const EXPECTS_REPLY: bool = true;

    /// Decodes a successful reply.
    ///
    /// # Errors
    /// Why the reply is not what the endpoint returns.
    fn decode(reply: Message) -> Result<Self::Output, BoxError>;
}

impl ClientReply for () {
    type Output = ();

    fn decode(_reply: Message) -> Result<(), BoxError> {
        Ok(())
    }
}

impl<T: DeserializeOwned> ClientReply for Json<T> {
    type Output = T;

    fn decode(reply: Message) -> Result<T, BoxError> {
        Ok(serde_json::from_slice(&reply.payload)?)
    }
}

impl ClientReply for Bytes {
    type Output = Bytes;

    fn decode(reply: Message) -> Result<Bytes, BoxError> {
        Ok(reply.payload)
    }
}

impl ClientReply for &'static [u8] {
    type Output = Bytes;

    fn decode(reply: Message) -> Result<Bytes, BoxError> {
        Ok(reply.payload)
    }
}

impl ClientReply for Vec<u8> {
    type Output = Vec<u8>;

    fn decode(reply: Message) -> Result<Vec<u8>, BoxError> {
        Ok(reply.payload.to_vec())
    }
}

impl ClientReply for String {
    type Output = String;

    fn decode(reply: Message) -> Result<String, BoxError> {
        Ok(String::from_utf8(reply.payload.to_vec())?)
    }
}

impl ClientReply for &'static str {
    type Output = String;

    fn decode(reply: Message) -> Result<String, BoxError> {
        String::decode(reply)
    }
}

impl ClientReply for Reply {
    type Output = Message;

    fn decode(reply: Message) -> Result<Message, BoxError> {
        Ok(reply)
    }
}

impl ClientReply for NoReply {
    type Output = ();
    const EXPECTS_REPLY: bool = false;

    fn decode(_reply: Message) -> Result<(), BoxError> {
        Ok(())
    }
}

impl ClientReply for ServiceError {
    type Output = Infallible;

    fn decode(_reply: Message) -> Result<Infallible, BoxError> {
        Err("the endpoint answers only with errors, yet a successful reply came".into())
    }
}

impl<T: ClientReply, E: Into<ServiceError>> ClientReply for Result<T, E> {
    type Output = T::Output;
    const EXPECTS_REPLY: bool = T::EXPECTS_REPLY;

    fn decode(reply: Message) -> Result<T::Output, BoxError> {
        T::decode(reply)
    }
}

impl<T: ClientReply> ClientReply for (HeaderMap, T) {
    type Output = (HeaderMap, T::Output);
    const EXPECTS_REPLY: bool = T::EXPECTS_REPLY;

    fn decode(mut reply: Message) -> Result<Self::Output, BoxError> {
        let headers = reply.headers.take().unwrap_or_default();
        Ok((headers, T::decode(reply)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(payload: &'static str) -> Message {
        let mut headers = HeaderMap::new();
        headers.insert("K", "v");
        Message {
            subject: "_INBOX.x".into(),
            reply: None,
            payload: Bytes::from_static(payload.as_bytes()),
            headers: Some(headers),
            status: None,
            description: None,
            length: payload.len(),
        }
    }

    #[test]
    fn decodes_what_the_endpoint_returns() {
        assert_eq!(<Json<Vec<u8>>>::decode(message("[1]")).expect("json"), [1]);
        assert_eq!(<&'static str>::decode(message("hi")).expect("str"), "hi");
        assert_eq!(
            <Result<String, ServiceError>>::decode(message("ok")).expect("result"),
            "ok"
        );
        let (headers, value) = <(HeaderMap, Json<u8>)>::decode(message("5")).expect("pair");
        assert_eq!((headers.get("K"), value), (Some("v"), 5));
        assert!(<Json<u8>>::decode(message("x")).is_err());
        assert!(<String>::decode(Message {
            payload: Bytes::from_static(&[0xff]),
            ..message("")
        })
        .is_err());
        assert!(ServiceError::decode(message("")).is_err());
        const { assert!(!<Result<NoReply, ServiceError>>::EXPECTS_REPLY) };
        const { assert!(<(HeaderMap, Bytes)>::EXPECTS_REPLY) };
    }
}
