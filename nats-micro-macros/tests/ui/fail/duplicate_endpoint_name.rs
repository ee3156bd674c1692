use nats_micro_macros::service;

struct Users;

#[service(name = "users", version = "1.0.0")]
impl Users {
    #[endpoint("users.create")]
    async fn create(&self) {}

    #[endpoint(subject = "users.add", name = "create")]
    async fn add(&self) {}
}

fn main() {}
