//! Every kind of endpoint the macros accept, with the runtime renamed to `micro`.

use micro::extract::{Headers, Subject};
use micro::{Bytes, Json, Request, ServiceError};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, Serialize)]
pub struct NewUser {
    pub name: String,
}

#[derive(Deserialize, Serialize)]
pub struct User {
    pub id: u64,
    pub name: String,
}

#[derive(Default)]
pub struct Users;

#[micro::service(
    name = "users",
    version = "1.0.0-beta.1+build.5",
    description = "user management",
    metadata(team = "identity", "app-id" = "7"),
    queue_group = "users-q",
    group(name = "user-management", queue_group = "bulk")
)]
impl Users {
    #[endpoint("users.create")]
    async fn create(&self, Json(user): Json<NewUser>) -> Result<Json<User>, ServiceError> {
        Ok(Json(User { id: 1, name: user.name }))
    }

    #[endpoint(subject = "users.raw", name = "raw-echo", queue_group = false, metadata(kind = "raw"))]
    async fn raw(&self, body: Bytes, _headers: Headers, _subject: Subject) -> Bytes {
        body
    }

    #[endpoint(group = "user-management", subject = "import")]
    async fn bulk_import(&self, _request: Request) {}

    #[endpoint]
    async fn count(&self) -> String {
        "0".to_owned()
    }

    /// Each endpoint's `data` in STATS replies.
    #[stats_handler]
    fn stats(&self, endpoint: &micro::schema::EndpointStats) -> serde_json::Value {
        serde_json::json!({ "endpoint": endpoint.name })
    }

    /// Not an endpoint: stays a plain method.
    fn helper(&self) -> u8 {
        7
    }
}

async fn _use_the_client(client: &micro::nats_core::Client) -> Result<(), micro::CallError> {
    let users = UsersClient::new(client);
    let user: User = users.create(&NewUser { name: "ann".into() }).await?;
    let echoed: Bytes = users.raw("bytes", micro::nats_core::HeaderMap::new()).await?;
    users.bulk_import("[]").await?;
    let count: String = users.count().await?;
    let _ = (user.id, echoed, count);
    Ok(())
}

fn main() {
    assert_eq!(Users.helper(), 7);
    let builder = Users.service_builder();
    let _ = format!("{builder:?}");
}
