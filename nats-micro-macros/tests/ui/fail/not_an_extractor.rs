struct Users;

#[micro::service(name = "users", version = "1.0.0")]
impl Users {
    #[endpoint("users.get")]
    async fn get(&self, id: u64) {}
}

fn main() {}
