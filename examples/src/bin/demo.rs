//! The main demo: publish and subscribe, wildcards, and request/reply served by a queue group
//! of two responders. Connects to `NATS_URL` (the README's command starts a local server).

use std::time::Duration;

use nats_core::{Client, ConnectOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = examples::nats_url();
    let client = ConnectOptions::new()
        .name("demo")
        .connect(url.as_str())
        .await?;
    println!(
        "connected to {} (nats-server {})",
        client.connected_url().unwrap_or_default(),
        client.server_version()
    );

    publish_subscribe(&client).await?;
    request_reply(&client).await?;

    let stats = client.statistics();
    println!(
        "statistics: {} messages out, {} messages in",
        stats.out_msgs, stats.in_msgs
    );
    client.drain().await?;
    println!("drained and closed");
    Ok(())
}

async fn publish_subscribe(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
    let mut sub = client.subscribe("demo.greet.*").await?;
    for name in ["joe", "ann", "bob"] {
        client
            .publish(format!("demo.greet.{name}"), format!("hello {name}"))
            .await?;
    }
    for _ in 0..3 {
        let msg = tokio::time::timeout(Duration::from_secs(5), sub.next())
            .await?
            .ok_or("subscription ended")?;
        println!(
            "received on {}: {}",
            msg.subject,
            msg.payload_str().unwrap_or("<binary>")
        );
    }
    Ok(())
}

async fn request_reply(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
    // Two responders, each with its own connection, share the work as a queue group.
    let mut responders = Vec::new();
    let mut responder_clients = Vec::new();
    for id in 1..=2 {
        let responder = nats_core::connect(examples::nats_url()).await?;
        let mut sub = responder.queue_subscribe("demo.time", "responders").await?;
        responder.flush().await?;
        let replier = responder.clone();
        responder_clients.push(responder);
        responders.push(tokio::spawn(async move {
            let mut served = 0u32;
            while let Some(request) = sub.next().await {
                let Some(reply) = &request.reply else {
                    continue;
                };
                let text = request.payload_str().unwrap_or("");
                let answer = format!("responder {id} answers request {text}");
                if replier.publish(reply, answer).await.is_err() {
                    break;
                }
                served += 1;
            }
            (id, served)
        }));
    }
    for n in 1..=10 {
        let reply = client.request("demo.time", n.to_string()).await?;
        println!("reply: {}", reply.payload_str().unwrap_or("<binary>"));
    }
    match client.request("demo.nobody", "").await {
        Err(err) => println!("request to demo.nobody: {err}"),
        Ok(_) => println!("request to demo.nobody: unexpected reply"),
    }
    for responder in &responder_clients {
        responder.drain().await?;
    }
    for responder in responders {
        let (id, served) = responder.await?;
        println!("responder {id} served {served} of 10 requests");
    }
    Ok(())
}
