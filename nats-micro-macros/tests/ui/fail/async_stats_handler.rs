struct Users;

#[micro::service(name = "users", version = "1.0.0")]
impl Users {
    #[stats_handler]
    async fn stats(&self, _endpoint: &micro::schema::EndpointStats) -> u8 {
        0
    }
}

fn main() {}
