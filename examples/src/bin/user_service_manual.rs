//! The user service built by hand (no macro), otherwise the same as `user_service`: connects to
//! `NATS_URL` (default `nats://127.0.0.1:4222`), prints `user-service <id> serving`, and serves
//! until Ctrl-C or SIGTERM, then stops gracefully and prints `stopped`.

use examples::users::{manual_service, UserStore};
use nats_core::ConnectOptions;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = ConnectOptions::new()
        .name("user-service-manual")
        .connect(examples::nats_url().as_str())
        .await?;
    let service = manual_service::start(&client, UserStore::new()).await?;
    examples::serve_until_signal(&service).await?;
    client.drain().await?;
    Ok(())
}
