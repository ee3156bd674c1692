//! Extractors: what a handler function takes as arguments, each built from the request (and
//! the handler's state) by [`FromRequest`].
//!
//! Unlike axum, every extractor borrows the request: the payload is reference-counted
//! [`Bytes`], so no argument has to consume it, and extraction is synchronous, so a handler's
//! future holds only its arguments.

use std::convert::Infallible;

use bytes::Bytes;
use nats_core::HeaderMap;

use crate::error::ServiceError;
use crate::reply::Reply;
use crate::request::Request;

/// Something a handler can take as an argument, built from the request and the state `S` of
/// the handler (`()` for handlers without state).
///
/// ```
/// use nats_micro::extract::FromRequest;
/// use nats_micro::{Request, ServiceError};
///
/// /// The caller's tenant, from the `Tenant` header.
/// struct Tenant(String);
///
/// impl<S> FromRequest<S> for Tenant {
///     type Rejection = ServiceError;
///     fn from_request(request: &Request, _state: &S) -> Result<Self, ServiceError> {
///         request
///             .headers()
///             .and_then(|h| h.get("Tenant"))
///             .map(|t| Tenant(t.to_owned()))
///             .ok_or_else(|| ServiceError::new(401, "no tenant"))
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an extractor: a handler argument must implement `FromRequest`",
    note = "extractors are `Json<T>`, `Bytes`, `String`, `Vec<u8>`, `Headers`, `Subject`, `State<T>`, `Option<T>` and `Request`"
)]
pub trait FromRequest<S>: Sized {
    /// The error when the request does not provide it; it becomes the error reply.
    type Rejection: Into<ServiceError>;

    /// Builds the argument.
    ///
    /// # Errors
    /// The rejection, answered as an error reply without calling the handler.
    fn from_request(request: &Request, state: &S) -> Result<Self, Self::Rejection>;
}

/// Extracts `T`, or answers its rejection: how every handler treats its arguments.
pub(crate) fn extract_or_reject<T: FromRequest<S>, S>(
    request: &Request,
    state: &S,
) -> Result<T, Reply> {
    T::from_request(request, state).map_err(|rejection| Reply::error_reply(rejection.into()))
}

impl<S> FromRequest<S> for Request {
    type Rejection = Infallible;

    fn from_request(request: &Request, _state: &S) -> Result<Self, Infallible> {
        Ok(request.clone())
    }
}

/// The raw payload.
impl<S> FromRequest<S> for Bytes {
    type Rejection = Infallible;

    fn from_request(request: &Request, _state: &S) -> Result<Self, Infallible> {
        Ok(request.data().clone())
    }
}

/// The payload as a copy.
impl<S> FromRequest<S> for Vec<u8> {
    type Rejection = Infallible;

    fn from_request(request: &Request, _state: &S) -> Result<Self, Infallible> {
        Ok(request.data().to_vec())
    }
}

/// The payload as UTF-8 text; anything else is a `400` error.
impl<S> FromRequest<S> for String {
    type Rejection = ServiceError;

    fn from_request(request: &Request, _state: &S) -> Result<Self, ServiceError> {
        String::from_utf8(request.data().to_vec())
            .map_err(|_| ServiceError::bad_request("request body is not valid UTF-8"))
    }
}

/// The request's headers (empty when it has none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub HeaderMap);

impl<S> FromRequest<S> for Headers {
    type Rejection = Infallible;

    fn from_request(request: &Request, _state: &S) -> Result<Self, Infallible> {
        Ok(Headers(request.headers().cloned().unwrap_or_default()))
    }
}

/// The subject the request was sent to (useful for wildcard endpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(pub nats_core::Subject);

impl<S> FromRequest<S> for Subject {
    type Rejection = Infallible;

    fn from_request(request: &Request, _state: &S) -> Result<Self, Infallible> {
        Ok(Subject(request.message().subject.clone()))
    }
}

/// Shared state given to [`handler_with_state`](crate::handler_with_state): the whole state, or
/// any part of it that implements [`FromRef`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct State<T>(pub T);

/// A part `Self` taken from the state `S`; every `Clone` state is a part of itself.
pub trait FromRef<S> {
    /// Takes the part.
    fn from_ref(state: &S) -> Self;
}

impl<T: Clone> FromRef<T> for T {
    fn from_ref(state: &T) -> Self {
        state.clone()
    }
}

impl<S, T: FromRef<S>> FromRequest<S> for State<T> {
    type Rejection = Infallible;

    fn from_request(_request: &Request, state: &S) -> Result<Self, Infallible> {
        Ok(State(T::from_ref(state)))
    }
}

/// An optional extractor: `None` instead of a rejection.
impl<S, T: FromRequest<S>> FromRequest<S> for Option<T> {
    type Rejection = Infallible;

    fn from_request(request: &Request, state: &S) -> Result<Self, Infallible> {
        Ok(T::from_request(request, state).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_parts_of_the_request() {
        let mut headers = HeaderMap::new();
        headers.insert("K", "v");
        let request = Request::new("a.b", "body").with_headers(headers.clone());
        assert_eq!(Bytes::from_request(&request, &()), Ok(Bytes::from("body")));
        assert_eq!(
            String::from_request(&request, &()).ok(),
            Some("body".into())
        );
        assert_eq!(Headers::from_request(&request, &()), Ok(Headers(headers)));
        let Ok(Subject(subject)) = Subject::from_request(&request, &());
        assert_eq!(&*subject, "a.b");
        let Ok(State(n)) = State::<u8>::from_request(&request, &7u8);
        assert_eq!(n, 7);
    }

    #[test]
    fn rejects_what_does_not_fit() {
        let request = Request::new("s", vec![0xff, 0xfe]);
        let error = String::from_request(&request, &()).expect_err("not UTF-8");
        assert_eq!(error.code, "400");
        assert_eq!(Option::<String>::from_request(&request, &()), Ok(None));
    }
}
