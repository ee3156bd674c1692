//! [`Json`]: a request body to deserialize, or a reply to serialize.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::ServiceError;
use crate::extract::FromRequest;
use crate::reply::{IntoReply, Reply};
use crate::request::Request;

/// JSON: as a handler argument, the request body deserialized into `T` (a body that does not
/// parse is answered with a `400` error, `invalid JSON body: <serde's message>`); as a handler's return value,
/// `T` serialized as the reply.
///
/// ```
/// use nats_micro::Json;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Sum { a: i64, b: i64 }
///
/// #[derive(Serialize)]
/// struct Total { total: i64 }
///
/// async fn add(Json(sum): Json<Sum>) -> Json<Total> {
///     Json(Total { total: sum.a + sum.b })
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S> FromRequest<S> for Json<T> {
    type Rejection = ServiceError;

    fn from_request(request: &Request, _state: &S) -> Result<Self, ServiceError> {
        serde_json::from_slice(request.data())
            .map(Json)
            .map_err(|error| ServiceError::bad_request(format!("invalid JSON body: {error}")))
    }
}

impl<T: Serialize> IntoReply for Json<T> {
    fn into_reply(self) -> Reply {
        match serde_json::to_vec(&self.0) {
            Ok(json) => Reply::new(json),
            Err(error) => Reply::error_reply(ServiceError::internal(format!(
                "failed to serialize the reply: {error}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn bad_bodies_are_400_with_the_serde_message() {
        let request = Request::new("s", "{not json");
        let error =
            Json::<HashMap<String, i32>>::from_request(&request, &()).expect_err("rejected");
        assert_eq!(error.code, crate::INVALID_INPUT);
        let serde_message = serde_json::from_slice::<HashMap<String, i32>>(b"{not json")
            .expect_err("invalid")
            .to_string();
        assert_eq!(
            error.description,
            format!("invalid JSON body: {serde_message}")
        );
    }

    #[test]
    fn values_serialize_and_failures_are_500() {
        assert_eq!(Json([1, 2]).into_reply(), Reply::new("[1,2]"));
        let mut bad = HashMap::new();
        bad.insert((1, 2), 3);
        assert_eq!(
            Json(bad).into_reply().error().map(|e| e.code.as_str()),
            Some("500")
        );
    }
}
