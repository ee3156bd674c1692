//! One mistake gives one error: the impl block, its builder and its client are still
//! generated, so the code that uses them and the imports they need raise nothing more.
use micro::{service, Json};

pub struct Users;

#[service(name = "users", version = "1.0.0")]
impl Users {
    #[endpoint("users.get")]
    async fn get(&self, Json(id): Json<u64>) -> Json<u64> {
        Json(id)
    }

    #[endpoint(name = "bad name")]
    async fn other(&self) {}
}

async fn call(client: &micro::nats_core::Client) -> Result<u64, micro::CallError> {
    UsersClient::new(client).get(&7).await
}

fn main() {
    let _builder = Users.service_builder();
    let _ = call;
}
