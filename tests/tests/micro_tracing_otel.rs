//! With nats-micro's `opentelemetry` feature and `tracing-opentelemetry`'s layer installed, a
//! caller's span, the service's request span and the span of a nested call's service are one
//! trace, each the parent of the next (spans collected by an in-memory exporter).
//!
//! Its own test binary: the OpenTelemetry subscriber is the process's global default.

mod micro_support;

use std::time::Duration;

use micro_support::{connect, within};
use nats_core::Client;
use nats_micro::extract::State;
use nats_micro::{handler_fn, handler_with_state, BoxError, EndpointConfig, Service};
use nats_tests::NatsServer;
use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

/// Calls `otel.back` and answers with its reply.
async fn front(State(client): State<Client>) -> Result<String, BoxError> {
    let reply = nats_micro::request(&client, "otel.back", "").await?;
    Ok(String::from_utf8(reply.payload.to_vec())?)
}

/// The `request` span of `endpoint`, and the `caller` span.
fn find<'a>(spans: &'a [SpanData], name: &str, endpoint: Option<&str>) -> Option<&'a SpanData> {
    spans.iter().find(|span| {
        span.name == name
            && endpoint.is_none_or(|endpoint| {
                span.attributes
                    .iter()
                    .any(|kv| kv.key.as_str() == "endpoint" && kv.value.as_str() == endpoint)
            })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_service_and_nested_service_are_one_trace() {
    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("micro-tracing-otel"));
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");

    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let back = Service::builder("otel-back", "1.0.0")
        .endpoint(
            EndpointConfig::new("back").subject("otel.back"),
            handler_fn(|| async { "from back" }),
        )
        .start(&client)
        .await
        .expect("start back");
    let front = Service::builder("otel-front", "1.0.0")
        .endpoint(
            EndpointConfig::new("front").subject("otel.front"),
            handler_with_state(front, client.clone()),
        )
        .start(&client)
        .await
        .expect("start front");
    let caller = connect(&server.url()).await;

    let reply = within(
        "call",
        nats_micro::request(&caller, "otel.front", "").instrument(tracing::info_span!("caller")),
    )
    .await
    .expect("reply");
    assert_eq!(reply.payload, "from back");

    let spans = within("exported spans", async {
        loop {
            let spans = exporter.get_finished_spans().expect("spans");
            let done = ["front", "back"]
                .iter()
                .all(|endpoint| find(&spans, "request", Some(endpoint)).is_some())
                && find(&spans, "caller", None).is_some();
            if done {
                break spans;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let caller_span = find(&spans, "caller", None).expect("caller span");
    let front_span = find(&spans, "request", Some("front")).expect("front span");
    let back_span = find(&spans, "request", Some("back")).expect("back span");

    let trace_id = caller_span.span_context.trace_id();
    assert_eq!(
        caller_span.parent_span_id,
        SpanId::INVALID,
        "the caller starts the trace"
    );
    assert_eq!(front_span.span_context.trace_id(), trace_id, "one trace");
    assert_eq!(back_span.span_context.trace_id(), trace_id, "one trace");
    assert_eq!(
        front_span.parent_span_id,
        caller_span.span_context.span_id()
    );
    assert!(front_span.parent_span_is_remote);
    assert_eq!(back_span.parent_span_id, front_span.span_context.span_id());
    assert!(front_span.span_context.is_sampled());

    back.stop().await;
    front.stop().await;
    provider.shutdown().expect("shutdown");
}
