//! The user service of the documentation, built twice: with the `#[service]` macro
//! ([`macro_service`]) and by hand ([`manual_service`]). Both answer the same requests with the
//! same replies and describe themselves identically in INFO and STATS; what they do lives once,
//! in [`UserStore`] and the message types, and what they share beyond their endpoints (stats
//! data and middleware) in [`stats_data`] and [`with_middleware`].
//!
//! | endpoint | subject | body | reply |
//! |---|---|---|---|
//! | `create` | `users.create` | [`NewUser`] | [`User`] |
//! | `get` | `users.get` | [`UserId`] | [`User`] |
//! | `update` | `users.update` | [`UserUpdate`] | [`User`] |
//! | `delete` | `users.delete` | [`UserId`] | the deleted [`User`] |
//! | `import` | `user-management.import` (queue group `bulk-import`) | `[NewUser]` | [`ImportReport`] |
//!
//! Errors are replies with code [`INVALID_INPUT`] (a field is missing or invalid; the
//! description says which) or [`USER_NOT_FOUND`]; anything unexpected, a panic included, is a
//! `500` described as [`FAILURE_DESCRIPTION`].

use nats_micro::layer::ErrorHandlingLayer;
use nats_micro::{Reply, ServiceBuilder, ServiceError};
use serde_json::json;
use tower::util::MapResponseLayer;

mod error;
pub mod macro_service;
pub mod manual_service;
mod model;
mod store;

pub use error::{UserError, INVALID_INPUT, USER_NOT_FOUND};
pub use macro_service::{UserService, UserServiceClient};
pub use model::{ImportReport, NewUser, User, UserId, UserUpdate, MAX_IMPORT, MAX_NAME_LEN};
pub use store::UserStore;

/// The service name.
pub const NAME: &str = "user-service";
/// The service version.
pub const VERSION: &str = "1.2.0";
/// The service description.
pub const DESCRIPTION: &str = "User management service";
/// The subject prefix of the bulk endpoints.
pub const GROUP: &str = "user-management";
/// The queue group of the bulk endpoints, apart from the interactive ones.
pub const IMPORT_QUEUE_GROUP: &str = "bulk-import";
/// The description of the `500` error that replaces any unexpected failure.
pub const FAILURE_DESCRIPTION: &str = "internal error in the user service";

/// What both versions report in every endpoint's `data` in STATS: how many users `store`
/// holds, as `{"users": n}`.
pub fn stats_data(store: &UserStore) -> serde_json::Value {
    json!({ "users": store.len() })
}

/// The middleware both versions wrap their endpoints in: the error-handling layer, and the
/// renaming of undecodable bodies to [`INVALID_INPUT`].
pub fn with_middleware(builder: ServiceBuilder) -> ServiceBuilder {
    builder
        .layer(ErrorHandlingLayer::new(FAILURE_DESCRIPTION))
        .layer(MapResponseLayer::new(
            undecodable_is_invalid_input as fn(Reply) -> Reply,
        ))
}

/// A body the `Json` extractor cannot decode (not JSON, a missing field, a wrong type) is
/// rejected with code `400` and serde's explanation. For this service that is invalid input
/// like any other, so it gets the same code; the explanation stays. The service itself never
/// answers `400`, so only those rejections are renamed.
fn undecodable_is_invalid_input(reply: Reply) -> Reply {
    let Some(error) = reply.error().filter(|e| e.code == "400") else {
        return reply;
    };
    let renamed = ServiceError {
        code: INVALID_INPUT.to_owned(),
        ..error.clone()
    };
    match reply.headers().cloned() {
        Some(headers) => Reply::error_reply(renamed).with_headers(headers),
        None => Reply::error_reply(renamed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nats_micro::IntoReply;

    #[test]
    fn only_rejections_are_renamed() {
        let rejected = Reply::error_reply(ServiceError::bad_request("missing field `email`"));
        let renamed = undecodable_is_invalid_input(rejected);
        assert_eq!(
            renamed.error(),
            Some(&ServiceError::new(INVALID_INPUT, "missing field `email`"))
        );
        let not_found = UserError::NotFound(7);
        let reply = undecodable_is_invalid_input(Err::<(), _>(not_found).into_reply());
        assert_eq!(reply.error().map(|e| e.code.as_str()), Some(USER_NOT_FOUND));
        let fine = undecodable_is_invalid_input(Reply::new("ok"));
        assert_eq!(fine, Reply::new("ok"));
    }
}
