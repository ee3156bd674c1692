//! Basic usage, as in nats-py's README: subscribe with a handler task, publish, unsubscribe
//! after a count, and drain.

use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nc = nats_core::connect(examples::nats_url()).await?;

    // A handler task per subscription plays the role of nats-py's `cb=message_handler`.
    let mut sub = nc.subscribe("foo").await?;
    let handler = tokio::spawn(async move {
        let mut received = 0;
        while let Some(msg) = sub.next().await {
            let data = msg.payload_str().unwrap_or("<binary>");
            println!("Received a message on '{}': {data}", msg.subject);
            received += 1;
        }
        received
    });

    // Stop receiving after 2 messages.
    let mut limited = nc.subscribe("foo").await?;
    limited.unsubscribe_after(2)?;

    nc.publish("foo", "Hello").await?;
    nc.publish("foo", "World").await?;
    nc.publish("foo", "!!!!!").await?;
    nc.flush().await?;

    let mut limited_count = 0;
    while tokio::time::timeout(Duration::from_secs(5), limited.next())
        .await?
        .is_some()
    {
        limited_count += 1;
    }
    println!("Limited subscription received {limited_count} messages, then ended");

    // Drain: the handler gets every message published before, then its stream ends.
    nc.drain().await?;
    println!("Handler received {} messages", handler.await?);
    Ok(())
}
