//! Lists every service on the server (`NATS_URL`, default `nats://127.0.0.1:4222`) with PING,
//! INFO and STATS, as a table: name, version, id, and each endpoint's subject, queue group,
//! requests, errors, average processing time, stats data and last error.

use nats_core::ConnectOptions;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = ConnectOptions::new()
        .name("services")
        .connect(examples::nats_url().as_str())
        .await?;
    print!(
        "{}",
        examples::services_table::services_table(&client).await?
    );
    client.drain().await?;
    Ok(())
}
