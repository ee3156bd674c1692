//! Request/reply, as in nats-py's README: a responder on `help`, a request with a timeout,
//! and what happens when nobody answers.

use std::time::Duration;

use nats_core::{RequestErrorKind, RequestOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nc = nats_core::connect(examples::nats_url()).await?;

    let mut help = nc.subscribe("help").await?;
    let responder = nc.clone();
    tokio::spawn(async move {
        while let Some(msg) = help.next().await {
            let Some(reply) = &msg.reply else { continue };
            let text = msg.payload_str().unwrap_or_default().to_owned();
            println!("Received a request on '{}': {text}", msg.subject);
            let _ = responder.publish(reply, "I can help").await;
        }
    });

    let request = RequestOptions::new()
        .payload("help me")
        .timeout(Duration::from_millis(500));
    let response = nc.send_request("help", request).await?;
    println!(
        "Received response: {}",
        response.payload_str().unwrap_or("<binary>")
    );

    match nc.request("nobody.home", "anyone?").await {
        Err(err) if err.kind() == RequestErrorKind::NoResponders => {
            println!("nobody.home: no responders, as expected");
        }
        other => return Err(format!("expected no responders, got {other:?}").into()),
    }

    nc.drain().await?;
    Ok(())
}
