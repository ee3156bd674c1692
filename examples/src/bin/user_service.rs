//! The user service (the `#[service]` version): connects to `NATS_URL` (default
//! `nats://127.0.0.1:4222`), prints `user-service <id> serving`, and serves until Ctrl-C or
//! SIGTERM, then stops gracefully and prints `stopped`.

use examples::users::{UserService, UserStore};
use nats_core::ConnectOptions;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = ConnectOptions::new()
        .name("user-service")
        .connect(examples::nats_url().as_str())
        .await?;
    let service = UserService::new(UserStore::new()).start(&client).await?;
    examples::serve_until_signal(&service).await?;
    client.drain().await?;
    Ok(())
}
