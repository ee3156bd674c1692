//! The `opentelemetry` feature: a request's trace context becomes the OpenTelemetry parent of
//! its span, and calls carry the current span's OpenTelemetry context.

use std::str::FromStr;

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::TraceContext;

/// The OpenTelemetry context of the current `tracing` span, when it has a valid one (that is,
/// when `tracing-opentelemetry`'s layer is installed).
pub(super) fn current() -> Option<TraceContext> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let span_context = span.span_context();
    if !span_context.is_valid() {
        return None;
    }
    let current = TraceContext::new(
        span_context.trace_id().to_bytes(),
        span_context.span_id().to_bytes(),
        span_context.trace_flags().to_u8(),
    )?;
    Some(current.with_tracestate(span_context.trace_state().header()))
}

/// Makes `incoming`, the context a request arrived with, the OpenTelemetry parent of `span`.
pub(super) fn set_parent(span: &tracing::Span, incoming: &TraceContext) {
    let state = incoming
        .tracestate()
        .and_then(|state| TraceState::from_str(state).ok())
        .unwrap_or_default();
    let remote = SpanContext::new(
        TraceId::from_bytes(incoming.trace_id()),
        SpanId::from_bytes(incoming.parent_id()),
        TraceFlags::new(incoming.flags()),
        true,
        state,
    );
    let parent = opentelemetry::Context::new().with_remote_span_context(remote);
    if let Err(error) = span.set_parent(parent) {
        tracing::debug!(%error, "trace parent not set on the request span");
    }
}
