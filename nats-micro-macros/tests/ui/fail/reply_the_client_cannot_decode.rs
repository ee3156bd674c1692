//! A reply type the typed client cannot decode is an error only where that call is awaited.
use micro::{service, Json};
use serde::Serialize;

pub struct Users;

/// Serialize only: the service can send it, the typed client cannot read it.
#[derive(Serialize)]
pub struct Report {
    pub count: u64,
}

#[service(name = "users", version = "1.0.0")]
impl Users {
    #[endpoint("users.report")]
    async fn report(&self) -> Json<Report> {
        Json(Report { count: 0 })
    }

    #[endpoint("users.count")]
    async fn count(&self) -> Json<u64> {
        Json(0)
    }
}

async fn call(client: &micro::nats_core::Client) -> Result<(), micro::CallError> {
    let users = UsersClient::new(client);
    let _count: u64 = users.count().await?;
    let _report = users.report().await?;
    Ok(())
}

fn main() {
    let _ = call;
}
