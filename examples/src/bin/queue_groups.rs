//! Queue groups, as in nats-py's README: members of a group share the messages, each message
//! going to one member only.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = examples::nats_url();
    let publisher = nats_core::connect(url.as_str()).await?;

    let mut workers = Vec::new();
    let mut connections = Vec::new();
    for id in 1..=3 {
        let nc = nats_core::connect(url.as_str()).await?;
        let mut sub = nc.queue_subscribe("updates", "workers").await?;
        nc.flush().await?;
        connections.push(nc);
        workers.push(tokio::spawn(async move {
            let mut got = 0u32;
            while let Some(_msg) = sub.next().await {
                got += 1;
            }
            (id, got)
        }));
    }

    for i in 0..30 {
        publisher.publish("updates", format!("update {i}")).await?;
    }
    // Once the flush returns, the server has routed every update to a member; draining a
    // member then hands it what it was sent, and ends its stream.
    publisher.flush().await?;
    for nc in &connections {
        nc.drain().await?;
    }
    let mut total = 0;
    for worker in workers {
        let (id, got) = worker.await?;
        println!("worker {id} handled {got} updates");
        total += got;
    }
    println!("{total} updates handled in all, each by exactly one worker");
    publisher.drain().await?;
    Ok(())
}
