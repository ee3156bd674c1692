//! What the code `#[service]` generates calls: not a public API, and exempt from semver.
//!
//! Each function is generic over the user's type and called with it spelled out, so an
//! unsatisfied bound is reported at that type with the trait's own message.

use crate::error::ServiceError;
use crate::extract::{extract_or_reject, FromRequest};
use crate::reply::{IntoReply, Reply};
use crate::request::Request;

/// The argument `T` of a handler, or the reply its rejection becomes.
///
/// # Errors
/// The rejection's error reply.
pub fn extract<T: FromRequest<()>>(request: &Request) -> Result<T, Reply> {
    extract_or_reject(request, &())
}

/// The reply of a handler's return value.
pub fn reply<T: IntoReply>(value: T) -> Reply {
    value.into_reply()
}

/// The error reply of a handler's error.
pub fn error_reply<E: Into<ServiceError>>(error: E) -> Reply {
    Reply::error_reply(error.into())
}
