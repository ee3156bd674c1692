use nats_micro_macros::endpoint;

struct Users;

impl Users {
    #[endpoint("users.create")]
    async fn create(&self) {}
}

fn main() {}
