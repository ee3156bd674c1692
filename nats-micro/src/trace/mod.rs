//! Tracing across services: every request runs in a `request` span (fields `service`,
//! `endpoint`, `subject`, `queue_group`, and `trace_id` / `parent_id` when the request carries
//! a trace), and the W3C trace context travels in the `traceparent` and `tracestate` headers.
//!
//! Reading: a request's valid `traceparent` (and its `tracestate`, kept as is up to
//! [`MAX_TRACESTATE_LEN`]) is recorded on its span; one that is not valid is ignored, as the
//! W3C recommendation says.
//!
//! Writing: [`request`](crate::request), [`send_request`](crate::send_request),
//! [`request_json`](crate::request_json), [`Discovery`](crate::Discovery) and the typed clients
//! add the current trace context to what they send, unless the caller set a `traceparent`
//! of its own (it is never overwritten). The current context is, with the `opentelemetry`
//! feature, the OpenTelemetry context of the current `tracing` span when it has a valid one
//! (install `tracing-opentelemetry`'s layer); otherwise, inside a handler, the trace of the
//! request being handled with a new parent id of this hop ([`TraceContext::current`]). So a
//! call made while handling a request carries its trace on, and the traces of callers and
//! services connect.
//!
//! With the `opentelemetry` feature (off by default), the span of a request that carries a
//! trace context gets it as its OpenTelemetry parent, so a `tracing-opentelemetry` user sees
//! one trace across callers and services:
//!
//! ```ignore
//! use opentelemetry::trace::TracerProvider as _;
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
//!     .with_simple_exporter(my_exporter)
//!     .build();
//! let subscriber = tracing_subscriber::registry()
//!     .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("my-app")));
//! tracing::subscriber::set_global_default(subscriber)?;
//! // Calls made in a span carry its trace; services started here continue it.
//! ```
//!
//! (`tests/tests/micro_tracing_otel.rs` in the repository runs this with an in-memory
//! exporter.)
//!
//! A task spawned by a handler does not inherit the request's context; run its future in
//! [`TraceContext::scope`] to carry it on:
//!
//! ```no_run
//! use nats_micro::extract::State;
//! use nats_micro::trace::TraceContext;
//!
//! async fn order(State(client): State<nats_core::Client>) -> &'static str {
//!     // Calls made here carry the request's trace...
//!     let _ = nats_micro::request(&client, "stock.reserve", "").await;
//!     // ...and so do those of a task spawned in its context.
//!     if let Some(context) = TraceContext::current() {
//!         tokio::spawn(context.scope(async move {
//!             let _ = nats_micro::request(&client, "mail.send", "").await;
//!         }));
//!     }
//!     "ordered"
//! }
//! ```

mod context;
#[cfg(feature = "opentelemetry")]
mod otel;

use std::future::Future;

use nats_core::HeaderMap;

pub use context::{TraceContext, TraceParentError, MAX_TRACESTATE_LEN};

/// The header of the W3C trace parent: `traceparent`.
pub const TRACEPARENT_HEADER: &str = "traceparent";

/// The header of the W3C vendors' trace state: `tracestate`.
pub const TRACESTATE_HEADER: &str = "tracestate";

tokio::task_local! {
    /// The context calls made by the running handler carry on.
    static CURRENT: Option<TraceContext>;
}

impl TraceContext {
    /// The context of `headers`: a valid `traceparent` (exactly one) and the `tracestate`
    /// values, combined; `None` without a valid `traceparent`. Header names are matched
    /// without regard to case, as in HTTP (some clients send `Traceparent`).
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let mut parents = values(headers, TRACEPARENT_HEADER);
        let traceparent = parents.next()?;
        if parents.next().is_some() {
            // Several `traceparent` values are no valid one.
            return None;
        }
        let context = TraceContext::parse(traceparent).ok()?;
        let states: Vec<&str> = values(headers, TRACESTATE_HEADER).collect();
        Some(if states.is_empty() {
            context
        } else {
            context.with_tracestate(states.join(","))
        })
    }

    /// The context that calls made now carry on (without OpenTelemetry): inside a handler,
    /// the trace of the request being handled with this hop's own parent id; `None` outside
    /// one, or when the request carried no trace.
    pub fn current() -> Option<Self> {
        CURRENT.try_with(Clone::clone).ok().flatten()
    }

    /// Runs `future` with this context as [`current`](Self::current): for a task a handler
    /// spawns, whose calls should carry the request's trace.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(Some(self), future).await
    }

    /// Writes `traceparent` (and `tracestate`, when there is one) into `headers`, unless
    /// they have a `traceparent` already.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        if headers.get_ignore_case(TRACEPARENT_HEADER).is_some() {
            return;
        }
        headers.insert(TRACEPARENT_HEADER, self.traceparent());
        if let Some(state) = self.tracestate() {
            if headers.get_ignore_case(TRACESTATE_HEADER).is_none() {
                headers.insert(TRACESTATE_HEADER, state);
            }
        }
    }
}

/// Every value of the header `name`, whatever the case of its name.
fn values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// Runs `future` with `context` as the current one: what the handler's calls carry on.
pub(crate) fn in_context<F: Future>(
    context: Option<TraceContext>,
    future: F,
) -> impl Future<Output = F::Output> {
    CURRENT.scope(context, future)
}

/// Runs `call` (a service's synchronous `call`, which may already send) with `context` as
/// the current one.
pub(crate) fn in_context_sync<R>(context: Option<TraceContext>, call: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(context, call)
}

/// The context an outgoing call carries: the current OpenTelemetry span's (with the
/// feature), else the handler's.
fn outgoing() -> Option<TraceContext> {
    #[cfg(feature = "opentelemetry")]
    if let Some(context) = otel::current() {
        return Some(context);
    }
    TraceContext::current()
}

/// Adds the current trace context to `headers`, unless they carry a `traceparent` already.
pub(crate) fn inject(headers: &mut HeaderMap) {
    if headers.get_ignore_case(TRACEPARENT_HEADER).is_some() {
        return;
    }
    if let Some(context) = outgoing() {
        context.write_headers(headers);
    }
}

/// `headers` with the current trace context added; `None` when there were none and there is
/// nothing to add, so a call without a trace sends no header block.
pub(crate) fn injected(headers: Option<HeaderMap>) -> Option<HeaderMap> {
    let mut headers = headers.unwrap_or_default();
    inject(&mut headers);
    (!headers.is_empty()).then_some(headers)
}

/// The span a request to an endpoint (or a control request) runs in, and the context its
/// handler's calls carry on: the trace of the request, with a new parent id for this hop.
pub(crate) fn request_span(
    span: tracing::Span,
    headers: Option<&HeaderMap>,
) -> (tracing::Span, Option<TraceContext>) {
    let Some(incoming) = headers.and_then(TraceContext::from_headers) else {
        return (span, None);
    };
    span.record("trace_id", incoming.trace_id_hex());
    span.record("parent_id", incoming.parent_id_hex());
    #[cfg(feature = "opentelemetry")]
    otel::set_parent(&span, &incoming);
    let onward = incoming.child();
    (span, Some(onward))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn headers_give_one_traceparent_and_the_combined_tracestate() {
        let mut headers = HeaderMap::new();
        assert_eq!(TraceContext::from_headers(&headers), None);
        headers.insert(TRACEPARENT_HEADER, VALID);
        headers.append(TRACESTATE_HEADER, "a=1");
        headers.append(TRACESTATE_HEADER, "b=2");
        let context = TraceContext::from_headers(&headers).expect("valid");
        assert_eq!(context.traceparent(), VALID);
        assert_eq!(context.tracestate(), Some("a=1,b=2"));
        headers.append(TRACEPARENT_HEADER, VALID);
        assert_eq!(
            TraceContext::from_headers(&headers),
            None,
            "two traceparents"
        );
        let mut invalid = HeaderMap::new();
        invalid.insert(TRACEPARENT_HEADER, VALID.to_uppercase());
        invalid.insert(TRACESTATE_HEADER, "a=1");
        assert_eq!(TraceContext::from_headers(&invalid), None);
    }

    #[tokio::test]
    async fn calls_in_a_handler_carry_its_trace_and_never_overwrite_one() {
        assert_eq!(injected(None), None, "nothing outside a handler");
        let context = TraceContext::parse(VALID)
            .expect("valid")
            .with_tracestate("a=1");
        let (sent, own) = in_context(Some(context.clone()), async {
            let mut explicit = HeaderMap::new();
            explicit.insert("Traceparent", "mine");
            inject(&mut explicit);
            (injected(None), explicit)
        })
        .await;
        let sent = sent.expect("headers");
        assert_eq!(sent.get(TRACEPARENT_HEADER), Some(VALID));
        assert_eq!(sent.get(TRACESTATE_HEADER), Some("a=1"));
        assert_eq!(own.get("Traceparent"), Some("mine"));
        assert_eq!(own.get(TRACEPARENT_HEADER), None, "not added beside it");
        assert_eq!(TraceContext::current(), None, "only inside the scope");
        let carried = context
            .clone()
            .scope(async { TraceContext::current() })
            .await;
        assert_eq!(carried, Some(context));
    }

    #[test]
    fn the_request_span_records_the_trace_and_passes_on_a_child() {
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT_HEADER, VALID);
        let span = tracing::info_span!(
            "request",
            trace_id = tracing::field::Empty,
            parent_id = tracing::field::Empty
        );
        let (_span, onward) = request_span(span, Some(&headers));
        let onward = onward.expect("a trace");
        assert_eq!(onward.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(onward.parent_id_hex(), "00f067aa0ba902b7");
        let (_span, none) = request_span(tracing::Span::none(), None);
        assert_eq!(none, None);
    }
}
