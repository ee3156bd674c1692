use nats_micro_macros::service;

struct Users;

#[service(name = "users", version = "1.0.0")]
impl Users {
    #[endpoint("users.create")]
    async fn create<T>(&self) {}
}

fn main() {}
