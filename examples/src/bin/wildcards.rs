//! Wildcard subscriptions, as in nats-py's README: `*` matches one token, `>` the rest.

use std::time::Duration;

use nats_core::Subscriber;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nc = nats_core::connect(examples::nats_url()).await?;

    let mut one_token = nc.subscribe("hello.*").await?;
    let mut all_below = nc.subscribe("hello.>").await?;

    for subject in ["hello.world", "hello.world.again", "hello.there"] {
        nc.publish(subject, format!("to {subject}")).await?;
    }
    nc.flush().await?;

    println!("hello.* received: {:?}", take(&mut one_token, 2).await?);
    println!("hello.> received: {:?}", take(&mut all_below, 3).await?);
    nc.drain().await?;
    Ok(())
}

/// The subjects of the next `count` messages.
async fn take(
    sub: &mut Subscriber,
    count: usize,
) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let mut subjects = Vec::new();
    for _ in 0..count {
        let msg = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await?
            .ok_or("subscription ended")?;
        subjects.push(msg.subject.to_string());
    }
    Ok(subjects)
}
