//! How long a server restart keeps each client disconnected: the server is killed, started
//! again on the same port after a pause, and the time from the kill until the client is
//! connected again is measured, for nats-core and async-nats in turn, with both libraries'
//! default reconnect settings.
//!
//! `cargo run --release --manifest-path bench/Cargo.toml --bin restart_outage [PAUSE_MS] [RUNS]`

use std::time::{Duration, Instant};

use nats_tests::NatsServer;

/// How often the state is looked at.
const POLL: Duration = Duration::from_millis(1);

/// Longest wait for a reconnect before the run counts as failed.
const LIMIT: Duration = Duration::from_secs(30);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let pause = Duration::from_millis(args.next().map_or(Ok(1000), |a| a.parse())?);
    let runs: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut server = NatsServer::spawn();
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(runtime.block_on(outage_ours(&mut server, pause))?);
        theirs.push(runtime.block_on(outage_theirs(&mut server, pause))?);
    }
    println!("server down for {pause:?}, {runs} runs each: outage from kill to reconnected");
    println!("  nats-core : {}", describe(&mut ours));
    println!("  async-nats: {}", describe(&mut theirs));
    Ok(())
}

fn describe(runs: &mut [Duration]) -> String {
    runs.sort();
    let ms: Vec<String> = runs.iter().map(|d| format!("{}", d.as_millis())).collect();
    format!(
        "median {} ms (all: {} ms)",
        runs[runs.len() / 2].as_millis(),
        ms.join(", ")
    )
}

/// Kills the server, starts it again after `pause`, and measures until `connected()`.
async fn measure(
    server: &mut NatsServer,
    pause: Duration,
    connected: impl Fn() -> bool,
) -> Result<Duration, Box<dyn std::error::Error>> {
    server.stop();
    let killed = Instant::now();
    while connected() {
        tokio::time::sleep(POLL).await;
        if killed.elapsed() > LIMIT {
            return Err("the client never noticed the loss".into());
        }
    }
    tokio::time::sleep(pause.saturating_sub(killed.elapsed())).await;
    server.start_again();
    while !connected() {
        tokio::time::sleep(POLL).await;
        if killed.elapsed() > LIMIT {
            return Err("no reconnect within the limit".into());
        }
    }
    Ok(killed.elapsed())
}

async fn outage_ours(
    server: &mut NatsServer,
    pause: Duration,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let client = nats_core::connect(server.url()).await?;
    client.flush().await?;
    let outage = measure(server, pause, || client.is_connected()).await?;
    client.close().await;
    Ok(outage)
}

async fn outage_theirs(
    server: &mut NatsServer,
    pause: Duration,
) -> Result<Duration, Box<dyn std::error::Error>> {
    let client = async_nats::connect(server.url()).await?;
    client.flush().await?;
    let connected = || client.connection_state() == async_nats::connection::State::Connected;
    let outage = measure(server, pause, connected).await?;
    drop(client);
    Ok(outage)
}
