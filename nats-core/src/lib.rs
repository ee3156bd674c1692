//! A fast, protocol-exact async NATS client.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = nats_core::connect("nats://127.0.0.1:4222").await?;
//!
//! let mut sub = client.subscribe("greet.*").await?;
//! client.publish("greet.joe", "hello").await?;
//! let msg = sub.next().await.expect("subscription open");
//! assert_eq!(msg.subject, "greet.joe");
//!
//! client.drain().await?;
//! # Ok(()) }
//! ```
//!
//! The crate is built around one connection task per client: publishers encode into a shared
//! outbox that the task writes with vectored I/O, and the task hands each received message to
//! its subscription's channel without taking a lock.

mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
mod config;
mod connection;
#[cfg(test)]
mod connection_tests;
mod connector;
mod decimal;
mod drain_guard;
mod error;
mod event;
mod header;
mod inbox;
#[cfg(feature = "jetstream")]
pub mod jetstream;
#[cfg(feature = "kv")]
pub mod kv;
mod lifecycle;
mod message;
#[cfg(feature = "object_store")]
pub mod object_store;
mod options;
mod outbox;
mod outgoing;
pub mod proto;
mod request;
mod request_options;
#[cfg(test)]
mod scripted_server;
mod server_addr;
mod server_error;
mod server_pool;
mod shared;
mod subject;
mod subscriber;
mod tls;
mod transport;
mod word_scan;

pub use bytes::Bytes;
pub use client::{connect, Client, SubscribeOptions};
pub use config::{context_dir, ConfigError, ConfigErrorKind, ConnectConfig, DEFAULT_SERVER};
pub use drain_guard::DrainGuard;
pub use error::{
    ConnectError, ConnectErrorKind, DrainError, DrainErrorKind, Error, FlushError, FlushErrorKind,
    PublishError, PublishErrorKind, RequestError, RequestErrorKind, SubscribeError,
    SubscribeErrorKind,
};
pub use event::Event;
pub use header::{HeaderError, HeaderMap, StatusCode};
pub use lifecycle::State;
pub use message::Message;
pub use options::{
    CallbackFuture, ConnectOptions, DEFAULT_PENDING_BYTES_LIMIT, DEFAULT_PENDING_MSGS_LIMIT,
};
pub use proto::ServerInfo;
pub use request_options::{RequestMany, RequestOptions};
pub use server_addr::{ServerAddr, ToServerAddrs, DEFAULT_PORT};
pub use server_error::{PermissionOperation, ServerError, ServerRefusal};
pub use shared::Statistics;
pub use subject::{
    subject_matches, validate_publish_subject, validate_queue_group, validate_subscribe_subject,
    Subject, SubjectError,
};
pub use subscriber::Subscriber;
/// The rustls crate this client uses, for [`ConnectOptions::tls_client_config`].
pub use tokio_rustls::rustls;
