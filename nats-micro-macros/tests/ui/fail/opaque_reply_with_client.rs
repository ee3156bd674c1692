use micro::{service, IntoReply};

pub struct Users;

#[service(name = "users", version = "1.0.0")]
impl Users {
    #[endpoint("users.hello")]
    async fn hello(&self) -> impl IntoReply {
        "hello"
    }
}

fn main() {}
