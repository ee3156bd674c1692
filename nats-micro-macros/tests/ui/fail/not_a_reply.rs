use micro::service;

pub struct Users;

#[service(name = "users", version = "1.0.0")]
impl Users {
    #[endpoint("users.count")]
    async fn count(&self) -> u64 {
        0
    }
}

fn main() {}
