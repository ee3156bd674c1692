//! The main demo: publish and subscribe, wildcards, and request/reply served by a queue group
//! of two responders; then the user service (the `#[service]` version) called through its
//! generated typed client, and the table of running services. Connects to `NATS_URL` (the
//! README's command starts a local server).

use std::fmt::Debug;
use std::time::Duration;

use examples::users::{
    NewUser, User, UserId, UserService, UserServiceClient, UserStore, UserUpdate, INVALID_INPUT,
    USER_NOT_FOUND,
};
use nats_core::{Client, ConnectOptions};
use nats_micro::{CallError, ServiceError};

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
    user_service(&client).await?;

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

/// Starts the user service on a connection of its own, calls every endpoint through the typed
/// client (errors included), prints the services table, and stops the service.
async fn user_service(client: &Client) -> Result<(), Box<dyn std::error::Error>> {
    println!("-- user service --");
    let connection = nats_core::connect(examples::nats_url()).await?;
    let service = UserService::new(UserStore::new())
        .start(&connection)
        .await?;
    println!(
        "started {} {} (built with #[service])",
        service.name(),
        service.version()
    );

    // The typed client over a tower stack of its own: at most 8 calls in flight, each waiting
    // 2 s at most for its reply, every call tagged with a header the service can log.
    let users = UserServiceClient::new(client)
        .layer(tower::limit::ConcurrencyLimitLayer::new(8))
        .with_timeout(Duration::from_secs(2))
        .with_header("Request-Origin", "demo");
    let ann = users
        .create(&NewUser::new("Ann", "ann@example.com"))
        .await?;
    println!("created {}", show(&ann));
    let id = UserId { id: ann.id };
    // Per-call options: this one call waits half a second at most.
    let quick = users.with_timeout(Duration::from_millis(500));
    println!("got {}", show(&quick.get(&id).await?));
    let update = UserUpdate {
        id: ann.id,
        name: Some("Ann Lee".to_owned()),
        email: Some("ann.lee@example.com".to_owned()),
    };
    println!("updated {}", show(&users.update(&update).await?));
    let error = service_error(users.get(&UserId { id: 99 }).await, USER_NOT_FOUND)?;
    println!("get user 99: {}: {}", error.code, error.description);
    let nameless = NewUser::new("", "nobody@example.com");
    let error = service_error(users.create(&nameless).await, INVALID_INPUT)?;
    println!(
        "create without a name: {}: {}",
        error.code, error.description
    );
    let batch = vec![
        NewUser::new("Bob", "bob@example.com"),
        NewUser::new("Cy", "cy@example.com"),
    ];
    let report = users.bulk_import(&batch).await?;
    println!("imported {} users: ids {:?}", report.imported, report.ids);
    println!("deleted {}", show(&users.delete(&id).await?));

    println!("-- services --");
    print!(
        "{}",
        examples::services_table::services_table(client).await?
    );
    service.stop().await;
    connection.drain().await?;
    println!("user service stopped");
    Ok(())
}

fn show(user: &User) -> String {
    format!("user {}: {} <{}>", user.id, user.name, user.email)
}

/// The service error `result` must be, with code `code`.
fn service_error<T: Debug>(
    result: Result<T, CallError>,
    code: &str,
) -> Result<ServiceError, Box<dyn std::error::Error>> {
    match result {
        Err(CallError::Service(error)) if error.code == code => Ok(error),
        other => Err(format!("expected a {code} error, got {other:?}").into()),
    }
}
