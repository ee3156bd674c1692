//! The Service API: an echo endpoint served by nats-micro (through its tower stack) against
//! one served by async-nats' `service` module, each called by a plain client of its own
//! library, one request at a time and from many requesters.

use async_nats::service::ServiceExt as _;
use futures_util::StreamExt as _;
use tokio::task::JoinHandle;

use super::request::{
    concurrent_name, measure_concurrent, measure_sequential, sequential_name, warm_up,
};
use super::{runner, Ctx, Metric, Scenario};
use crate::client::{BenchClient, BenchError, Ours, Theirs};

const SUBJECT: &str = "bench.micro.echo";
const NOTE: &str = "micro: the endpoint echoes its 16 B body; nats-micro runs requests \
                    concurrently (its default), async-nats' endpoint is served by the usual \
                    `while let Some(request) = endpoint.next().await` loop";

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: sequential_name("micro echo"),
            note: Some(NOTE.to_owned()),
            ours: runner(|ctx| async move { run(ctx, Side::Ours, Mode::Sequential).await }),
            theirs: runner(|ctx| async move { run(ctx, Side::Theirs, Mode::Sequential).await }),
            ceiling: Some(runner(super::request::raw_sequential)),
        },
        Scenario {
            name: concurrent_name("micro echo"),
            note: None,
            ours: runner(|ctx| async move { run(ctx, Side::Ours, Mode::Concurrent).await }),
            theirs: runner(|ctx| async move { run(ctx, Side::Theirs, Mode::Concurrent).await }),
            ceiling: None,
        },
    ]
}

#[derive(Clone, Copy)]
enum Side {
    Ours,
    Theirs,
}

#[derive(Clone, Copy)]
enum Mode {
    Sequential,
    Concurrent,
}

async fn run(ctx: Ctx, side: Side, mode: Mode) -> Result<Vec<Metric>, BenchError> {
    match side {
        Side::Ours => {
            let service_client = nats_core::connect(ctx.url.as_str()).await?;
            let service = nats_micro::Service::builder("bench-echo", "1.0.0")
                .endpoint(
                    nats_micro::EndpointConfig::new("echo").subject(SUBJECT),
                    nats_micro::handler_fn(|body: bytes::Bytes| async move { body }),
                )
                .start(&service_client)
                .await
                .map_err(|e| BenchError::from(e.to_string()))?;
            let result = measure::<Ours>(&ctx, mode).await;
            service.stop().await;
            result
        }
        Side::Theirs => {
            let service_client = async_nats::connect(ctx.url.as_str()).await?;
            let _endpoint = TheirEndpoint(serve_theirs(&service_client).await?);
            measure::<Theirs>(&ctx, mode).await
        }
    }
}

async fn measure<C: BenchClient>(ctx: &Ctx, mode: Mode) -> Result<Vec<Metric>, BenchError> {
    let client = C::connect(&ctx.url, None).await?;
    warm_up(&client, SUBJECT).await?;
    match mode {
        Mode::Sequential => measure_sequential(&client, SUBJECT).await,
        Mode::Concurrent => measure_concurrent(&client, SUBJECT).await,
    }
}

/// async-nats' echo endpoint, served until the run ends.
struct TheirEndpoint(JoinHandle<()>);

impl Drop for TheirEndpoint {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn serve_theirs(client: &async_nats::Client) -> Result<JoinHandle<()>, BenchError> {
    let service = client
        .service_builder()
        .start("bench-echo", "1.0.0")
        .await
        .map_err(|e| BenchError::from(e.to_string()))?;
    let mut endpoint = service
        .endpoint(SUBJECT)
        .await
        .map_err(|e| BenchError::from(e.to_string()))?;
    Ok(tokio::spawn(async move {
        let _service = service;
        while let Some(request) = endpoint.next().await {
            let body = request.message.payload.clone();
            if request.respond(Ok(body)).await.is_err() {
                return;
            }
        }
    }))
}
