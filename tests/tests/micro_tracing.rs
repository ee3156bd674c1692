//! Tracing across services without OpenTelemetry: a request's `traceparent` is recorded on
//! its span, and the calls its handler makes (request, send_request, Discovery) carry the same
//! trace with this hop's parent id, never over a `traceparent` the handler set itself.

mod micro_support;

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use micro_support::{connect, within};
use nats_core::{Client, HeaderMap, RequestOptions};
use nats_micro::extract::State;
use nats_micro::trace::{TraceContext, TRACEPARENT_HEADER, TRACESTATE_HEADER};
use nats_micro::{handler_fn, handler_with_state, Discovery, Json, Request, Service};
use nats_tests::NatsServer;
use serde_json::{json, Value};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";
const TRACESTATE: &str = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7";

/// What `back` saw: the trace headers of the request, as JSON.
async fn back(request: Request) -> Json<Value> {
    let header = |name: &str| {
        request
            .headers()
            .and_then(|h| h.get(name))
            .map(str::to_owned)
    };
    Json(json!({
        "traceparent": header(TRACEPARENT_HEADER),
        "tracestate": header(TRACESTATE_HEADER),
    }))
}

/// Calls `back` and answers with what it saw, and the handler's own current context.
async fn front(State(client): State<Client>) -> Result<Json<Value>, nats_micro::BoxError> {
    let seen: Value = nats_micro::request_json(&client, "trace.back", &()).await?;
    let current = TraceContext::current().map(|c| c.traceparent());
    Ok(Json(json!({"current": current, "back": seen})))
}

/// Calls `back` with a `traceparent` of its own.
async fn front_explicit(State(client): State<Client>) -> Result<Json<Value>, nats_micro::BoxError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        TRACEPARENT_HEADER,
        "00-11111111111111111111111111111111-2222222222222222-00",
    );
    let options = RequestOptions::new().headers(headers);
    let reply = nats_micro::send_request(&client, "trace.back", options).await?;
    let Json(seen) = nats_micro::decode::<Json<Value>>(reply)?;
    Ok(Json(seen))
}

/// Pings the services under `$TRACED` (nobody answers; the test reads the request).
async fn front_discovery(State(client): State<Client>) -> Json<Value> {
    let discovery = Discovery::with_prefix(&client, "$TRACED")
        .timeout(Duration::from_millis(200))
        .stall(Duration::from_millis(100));
    let _ = discovery.ping().await;
    Json(json!("pinged"))
}

async fn start(client: &Client) -> (Service, Service) {
    let back = Service::builder("back", "1.0.0")
        .endpoint(
            nats_micro::EndpointConfig::new("back").subject("trace.back"),
            handler_fn(back),
        )
        .start(client)
        .await
        .expect("start back");
    let state = client.clone();
    let front = Service::builder("front", "1.0.0")
        .queue_group("fronts")
        .endpoint(
            nats_micro::EndpointConfig::new("front").subject("trace.front"),
            handler_with_state(front, state.clone()),
        )
        .endpoint(
            nats_micro::EndpointConfig::new("explicit").subject("trace.explicit"),
            handler_with_state(front_explicit, state.clone()),
        )
        .endpoint(
            nats_micro::EndpointConfig::new("discovery").subject("trace.discovery"),
            handler_with_state(front_discovery, state),
        )
        .start(client)
        .await
        .expect("start front");
    (back, front)
}

/// A request from the caller, with the caller's trace context unless `traced` is false.
async fn call(client: &Client, subject: &str, traced: bool) -> Value {
    let mut headers = HeaderMap::new();
    if traced {
        headers.insert(TRACEPARENT_HEADER, TRACEPARENT);
        headers.insert(TRACESTATE_HEADER, TRACESTATE);
    } else {
        headers.insert("X-Untraced", "1");
    }
    let reply = within(subject, client.request_with_headers(subject, headers, ""))
        .await
        .expect("reply");
    assert!(
        reply.headers.is_none(),
        "an error reply: {:?}",
        reply.headers
    );
    serde_json::from_slice(&reply.payload).expect("JSON reply")
}

fn parse(traceparent: &Value) -> TraceContext {
    traceparent
        .as_str()
        .expect("a traceparent")
        .parse()
        .expect("a valid traceparent")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nested_call_carries_the_callers_trace_with_a_new_parent() {
    captured_spans();
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let (back, front) = start(&client).await;
    let caller = connect(&server.url()).await;

    let answer = call(&caller, "trace.front", true).await;

    let current = parse(&answer["current"]);
    assert_eq!(
        current.trace_id_hex(),
        TRACE_ID,
        "the handler is in the caller's trace"
    );
    assert_ne!(
        current.parent_id_hex(),
        CALLER_SPAN,
        "with a parent id of its own"
    );
    let onward = parse(&answer["back"]["traceparent"]);
    assert_eq!(
        onward.trace_id_hex(),
        TRACE_ID,
        "the nested call carries the trace"
    );
    assert_ne!(onward.parent_id_hex(), CALLER_SPAN);
    assert_eq!(
        onward, current,
        "front's calls carry front's hop as their parent"
    );
    assert!(onward.is_sampled());
    assert_eq!(answer["back"]["tracestate"], TRACESTATE, "tracestate as is");

    // Both requests ran in spans naming service, endpoint, subject, queue group and trace.
    let spans = within("spans", async {
        loop {
            let spans = request_spans_of(TRACE_ID);
            if spans.len() >= 2 {
                break spans;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let field = |span: &HashMap<String, String>, name: &str| span.get(name).cloned();
    let front_span = spans
        .iter()
        .find(|s| field(s, "endpoint").as_deref() == Some("front"))
        .expect("the front span");
    assert_eq!(field(front_span, "service").as_deref(), Some("front"));
    assert_eq!(field(front_span, "subject").as_deref(), Some("trace.front"));
    assert_eq!(field(front_span, "queue_group").as_deref(), Some("fronts"));
    assert_eq!(field(front_span, "parent_id").as_deref(), Some(CALLER_SPAN));
    let back_span = spans
        .iter()
        .find(|s| field(s, "endpoint").as_deref() == Some("back"))
        .expect("the back span");
    assert_eq!(field(back_span, "queue_group").as_deref(), Some("q"));
    assert_eq!(
        field(back_span, "parent_id"),
        Some(current.parent_id_hex()),
        "back's parent is front's hop"
    );
    back.stop().await;
    front.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_trace_nothing_is_added_and_an_explicit_traceparent_is_kept() {
    captured_spans();
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let (back, front) = start(&client).await;
    let caller = connect(&server.url()).await;

    let answer = call(&caller, "trace.front", false).await;
    assert_eq!(answer["current"], Value::Null);
    assert_eq!(
        answer["back"]["traceparent"],
        Value::Null,
        "no trace invented"
    );

    let answer = call(&caller, "trace.explicit", true).await;
    assert_eq!(
        answer["traceparent"], "00-11111111111111111111111111111111-2222222222222222-00",
        "the handler's own traceparent is not overwritten"
    );

    // An invalid traceparent is no trace: it is not carried on.
    let mut headers = HeaderMap::new();
    headers.insert(TRACEPARENT_HEADER, TRACEPARENT.to_uppercase());
    let reply = within(
        "front",
        caller.request_with_headers("trace.front", headers, ""),
    )
    .await
    .expect("reply");
    let answer: Value = serde_json::from_slice(&reply.payload).expect("JSON");
    assert_eq!(answer["back"]["traceparent"], Value::Null);
    back.stop().await;
    front.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_from_a_handler_carries_the_trace() {
    captured_spans();
    let server = NatsServer::spawn();
    let client = connect(&server.url()).await;
    let (back, front) = start(&client).await;
    let mut pings = client.subscribe("$TRACED.PING").await.expect("subscribe");
    within("flush", client.flush()).await.expect("flush");
    let caller = connect(&server.url()).await;

    let _ = call(&caller, "trace.discovery", true).await;

    let ping = within("the PING request", pings.next())
        .await
        .expect("a PING request");
    let headers = ping.headers.as_ref().expect("trace headers");
    let sent = TraceContext::from_headers(headers).expect("a valid traceparent");
    assert_eq!(sent.trace_id_hex(), TRACE_ID);
    assert_ne!(sent.parent_id_hex(), CALLER_SPAN);
    assert_eq!(sent.tracestate(), Some(TRACESTATE));
    back.stop().await;
    front.stop().await;
}

/// The fields of `request` spans: those open by span id (ids are reused once closed), and
/// those closed.
#[derive(Default)]
struct Captured {
    open: HashMap<u64, HashMap<String, String>>,
    closed: Vec<HashMap<String, String>>,
}

type Spans = Mutex<Captured>;

/// Installs (once) the layer that records the fields of `request` spans.
fn captured_spans() -> &'static Spans {
    static SPANS: OnceLock<&'static Spans> = OnceLock::new();
    SPANS.get_or_init(|| {
        let spans: &'static Spans = Box::leak(Box::default());
        let subscriber = tracing_subscriber::registry().with(FieldRecorder(spans));
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        spans
    })
}

/// The fields of the `request` spans of the trace `trace_id`.
fn request_spans_of(trace_id: &str) -> Vec<HashMap<String, String>> {
    let spans = captured_spans().lock().expect("spans");
    spans
        .open
        .values()
        .chain(&spans.closed)
        .filter(|fields| fields.get("trace_id").map(String::as_str) == Some(trace_id))
        .cloned()
        .collect()
}

/// Records the fields of spans named `request`, as strings.
struct FieldRecorder(&'static Spans);

struct Fields<'a>(&'a mut HashMap<String, String>);

impl tracing::field::Visit for Fields<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber> Layer<S> for FieldRecorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
        if attrs.metadata().name() != "request" {
            return;
        }
        let mut fields = HashMap::new();
        attrs.record(&mut Fields(&mut fields));
        let mut spans = self.0.lock().expect("spans");
        spans.open.insert(id.into_u64(), fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        if let Some(fields) = self.0.lock().expect("spans").open.get_mut(&id.into_u64()) {
            values.record(&mut Fields(fields));
        }
    }

    fn on_close(&self, id: Id, _ctx: Context<'_, S>) {
        let mut spans = self.0.lock().expect("spans");
        if let Some(fields) = spans.open.remove(&id.into_u64()) {
            spans.closed.push(fields);
        }
    }
}
