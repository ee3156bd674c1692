//! JetStream: persistent streams, acknowledged publishing and stored-message access
//! (feature `jetstream`, on by default).
//!
//! A [`Context`] comes from [`Client::jetstream`](crate::Client::jetstream) (or
//! [`jetstream_with`](crate::Client::jetstream_with) and [`ContextOptions`] for an API prefix,
//! a domain, a timeout and the bound on acknowledgements in flight). Through it:
//!
//! - the account: [`Context::account_info`] with the server's API level;
//! - streams: [`create_stream`](Context::create_stream),
//!   [`update_stream`](Context::update_stream), [`delete_stream`](Context::delete_stream),
//!   [`stream_info`](Context::stream_info), [`stream_names`](Context::stream_names),
//!   [`streams`](Context::streams), [`purge_stream`](Context::purge_stream), configured by
//!   [`StreamConfig`];
//! - stored messages: [`get_message`](Context::get_message),
//!   [`direct_get`](Context::direct_get), [`direct_get_last`](Context::direct_get_last),
//!   [`delete_message`](Context::delete_message), [`erase_message`](Context::erase_message);
//! - publishing: [`publish`](Context::publish) waits for the [`PubAck`],
//!   [`publish_async`](Context::publish_async) keeps up to `max_pending_acks` in flight;
//! - consumers: [`create_consumer`](Context::create_consumer),
//!   [`update_consumer`](Context::update_consumer),
//!   [`create_or_update_consumer`](Context::create_or_update_consumer),
//!   [`delete_consumer`](Context::delete_consumer), [`consumer_info`](Context::consumer_info),
//!   [`consumer_names`](Context::consumer_names), [`consumers`](Context::consumers),
//!   [`pause_consumer`](Context::pause_consumer), configured by [`ConsumerConfig`]; handles
//!   from [`Context::stream`] and [`Context::consumer`];
//! - consuming: [`Consumer::fetch`] (one pull request), [`Consumer::messages`] (continuous),
//!   [`Stream::ordered_consumer`] (every message once, in order), [`PushConsumer::messages`];
//!   each delivered [`Message`] is acknowledged with `ack`, `nak`, `term`, `in_progress`,
//!   `double_ack`, and tells its [`MessageInfo`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nats_core::jetstream::{PublishOptions, StreamConfig};
//!
//! let client = nats_core::connect("nats://127.0.0.1:4222").await?;
//! let js = client.jetstream();
//! js.create_stream(&StreamConfig {
//!     subjects: vec!["orders.>".into()],
//!     ..StreamConfig::new("ORDERS")
//! })
//! .await?;
//!
//! let ack = js
//!     .publish_with("orders.new", "order 1", PublishOptions::new().message_id("1"))
//!     .await?;
//! assert_eq!(ack.stream, "ORDERS");
//!
//! let stored = js.get_last_message("ORDERS", "orders.new").await?;
//! assert_eq!(stored.sequence, ack.sequence);
//! # Ok(()) }
//! ```
//!
//! Errors are typed: [`JetStreamError`] for API calls, [`PublishError`] for publishing,
//! [`ConsumeError`] for consuming and [`AckError`] for acknowledging, each with a `kind()`
//! and, when the server reported it, the [`ApiError`] with its [`ErrorCode`].

mod account;
mod ack_future;
mod consumer;
mod consumer_config;
mod consumer_info;
mod context;
mod errors;
mod fetch;
mod get;
pub mod headers;
mod message;
mod message_info;
mod name;
mod nanos;
mod ordered;
mod paging;
mod publish;
mod pull;
mod pull_loop;
mod pull_stream;
mod push;
mod status;
mod stream;
mod stream_config;
mod stream_handle;
mod stream_info;
mod stream_message;

pub use account::{AccountInfo, AccountLimits, AccountTier, ApiStats};
pub use ack_future::PubAckFuture;
pub use consumer::Consumer;
pub use consumer_config::{AckPolicy, ConsumerConfig, DeliverPolicy, PriorityPolicy, ReplayPolicy};
pub use consumer_info::{
    ConsumerInfo, ConsumerList, PauseResponse, PriorityGroupState, SequenceInfo,
};
pub use context::{
    Context, ContextOptions, DEFAULT_API_PREFIX, DEFAULT_MAX_PENDING_ACKS, DEFAULT_TIMEOUT,
};
pub use errors::{
    AckError, AckErrorKind, ApiError, ConsumeError, ConsumeErrorKind, ErrorCode, JetStreamError,
    JetStreamErrorKind, PublishError, PublishErrorKind,
};
pub use fetch::{Batch, FetchBuilder, DEFAULT_FETCH_EXPIRES};
pub use get::MessageSelector;
pub use message::Message;
pub use message_info::{MessageInfo, MessageInfoError};
pub use name::{validate_name, NameError, MAX_NAME_LEN};
pub use ordered::{OrderedConfig, OrderedMessages};
pub use publish::{MessageTtl, PubAck, PublishOptions};
pub use pull_stream::{Messages, MessagesBuilder, DEFAULT_MAX_MESSAGES, DEFAULT_PULL_EXPIRES};
pub use push::{PushConsumer, PushMessages};
pub use stream::{PurgeOptions, StreamInfoOptions};
pub use stream_config::{
    Compression, ConsumerLimits, DiscardPolicy, External, PersistMode, Placement, Republish,
    RetentionPolicy, SourceConsumer, StorageType, StreamConfig, StreamSource, SubjectTransform,
};
pub use stream_handle::Stream;
pub use stream_info::{
    ClusterInfo, LostStreamData, PeerInfo, SourceInfo, StreamAlternate, StreamInfo, StreamList,
    StreamState,
};
pub use stream_message::StreamMessage;
