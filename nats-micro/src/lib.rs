//! The NATS Service API ("micro") runtime on tower, and its discovery client.
//!
//! A service answers `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS` exactly as nats.go's `micro`
//! package does, so every NATS client and tool (natscli's `nats micro`) sees it as one of
//! theirs. Its endpoints are `tower::Service`s: plain async functions become one through
//! [`handler_fn`], their arguments are [extractors](extract), and any tower middleware wraps
//! them.
//!
//! Requests run in `request` spans and carry W3C trace context across services, joined into
//! one OpenTelemetry trace with the `opentelemetry` feature: see [`trace`]. PING, INFO and
//! STATS can be answered by handlers of yours ([`ControlHandler`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use nats_micro::{handler_fn, layer::ErrorHandlingLayer, Json, Request, Service, ServiceError};
//! use serde::{Deserialize, Serialize};
//! use tower::ServiceBuilder;
//!
//! #[derive(Deserialize)]
//! struct Division { a: f64, b: f64 }
//!
//! #[derive(Serialize)]
//! struct Quotient { value: f64 }
//!
//! async fn divide(Json(d): Json<Division>) -> Result<Json<Quotient>, ServiceError> {
//!     if d.b == 0.0 {
//!         return Err(ServiceError::bad_request("division by zero"));
//!     }
//!     Ok(Json(Quotient { value: d.a / d.b }))
//! }
//!
//! // nats-py style: respond through the request.
//! async fn echo(request: Request) {
//!     let _ = request.respond(request.data().clone(), None).await;
//! }
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = nats_core::connect("nats://127.0.0.1:4222").await?;
//! let service = Service::builder("calc", "1.0.0")
//!     .description("a calculator")
//!     .layer(ErrorHandlingLayer::new("calculator failure"))
//!     .start(&client)
//!     .await?;
//!
//! let math = service.add_group("calc");
//! math.add_endpoint(
//!     "divide",
//!     ServiceBuilder::new()
//!         .timeout(Duration::from_secs(1))
//!         .service(handler_fn(divide)),
//! )
//! .await?;
//! math.add_endpoint("echo", handler_fn(echo)).await?;
//!
//! let quotient: serde_json::Value =
//!     nats_micro::request_json(&client, "calc.divide", &serde_json::json!({"a": 1, "b": 4}))
//!         .await?;
//! println!("{quotient}");
//!
//! for stats in nats_micro::Discovery::new(&client).stats_service("calc").await? {
//!     println!("{stats:?}");
//! }
//! service.stop().await;
//! # Ok(()) }
//! ```

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
mod call;
pub mod client;
mod config;
mod control;
mod discovery;
mod dispatch;
mod endpoint;
mod error;
pub mod extract;
mod group;
mod handler;
mod json;
pub mod layer;
mod monitor;
mod queue_group;
mod reply;
mod request;
pub mod schema;
mod serve;
mod service;
mod service_error;
mod stats;
pub mod trace;
use nats_micro_rules as validate;

pub use bytes::Bytes;
pub use call::{check_reply, decode, encode_json, request, request_json, send_request, FromReply};
pub use config::{
    ErrorHandler, ServiceBuilder, ServiceConfig, StatsHandler, DEFAULT_DRAIN_TIMEOUT,
    DEFAULT_MAX_CONCURRENCY,
};
pub use control::{ControlHandler, ControlRequest};
pub use discovery::{Discovery, DEFAULT_DISCOVERY_STALL, DEFAULT_DISCOVERY_TIMEOUT};
pub use endpoint::{BoxEndpoint, EndpointConfig};
pub use error::{
    AsyncError, BoxError, CallError, ConfigError, ConfigErrorKind, RespondError, RespondErrorKind,
    ServiceError, StartError, StartErrorKind, ERROR_CODE_HEADER, ERROR_HEADER, INTERNAL_ERROR,
    INVALID_INPUT, NOT_FOUND, RATE_LIMITED, UNAUTHORIZED,
};
pub use group::{Group, GroupConfig};
pub use handler::{
    handler_fn, handler_with_state, Handler, HandlerFuture, HandlerResponse, HandlerService,
};
pub use json::Json;
pub use monitor::{ServiceVerb, API_PREFIX, DEFAULT_PREFIX};
pub use nats_core;
#[doc = include_str!("../docs/service.md")]
pub use nats_micro_macros::service;
pub use nats_micro_macros::{endpoint, stats_handler};
pub use queue_group::{QueueGroup, DEFAULT_QUEUE_GROUP};
pub use reply::{IntoReply, NoReply, Reply};
pub use request::Request;
pub use schema::{INFO_RESPONSE_TYPE, PING_RESPONSE_TYPE, STATS_RESPONSE_TYPE};
pub use service::{add_service, Endpoint, Service};
pub use tower;
