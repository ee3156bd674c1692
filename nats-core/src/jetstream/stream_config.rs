//! [`StreamConfig`] and the types it is made of, as nats-server 2.10 to 2.15 accept them.
//!
//! Every field that is unset (`None`, `false`, empty, the default policy) is left out of the
//! JSON: since 2.12 the server rejects fields it does not know (10025), so a config that
//! does not use a newer feature must not mention it, and older servers apply their own
//! defaults. Fields a newer server sends that this crate does not know are kept in
//! [`StreamConfig::other`] and sent back on update.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::nanos;

/// The configuration of a stream: what it stores, how much, for how long.
///
/// ```
/// use std::time::Duration;
/// use nats_core::jetstream::{StorageType, StreamConfig};
/// let config = StreamConfig {
///     subjects: vec!["orders.>".into()],
///     storage: StorageType::Memory,
///     max_age: Some(Duration::from_secs(3600)),
///     ..StreamConfig::new("ORDERS")
/// };
/// let json = serde_json::to_string(&config).unwrap();
/// assert_eq!(
///     json,
///     r#"{"name":"ORDERS","subjects":["orders.>"],"max_age":3600000000000,"storage":"memory"}"#
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamConfig {
    /// The stream's name: no `.`, `*`, `>`, whitespace, `/` or `\`, at most 255 bytes.
    pub name: String,
    /// Free text describing the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Subjects the stream captures (wildcards allowed); the name alone when empty and the
    /// stream is neither a mirror nor sourced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<String>,
    /// When messages may be removed: limits (default), interest, work queue.
    #[serde(default, skip_serializing_if = "is_default")]
    pub retention: RetentionPolicy,
    /// Most consumers the stream may have; `-1` is unlimited (the server's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_consumers: Option<i64>,
    /// Most messages kept; `-1` is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_msgs: Option<i64>,
    /// Most bytes kept; `-1` is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<i64>,
    /// Oldest message kept; zero is unlimited.
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_age: Option<Duration>,
    /// Most messages kept per subject; `-1` or `0` is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_msgs_per_subject: Option<i64>,
    /// Largest message accepted; `-1` is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_msg_size: Option<i32>,
    /// What to do when a limit is reached: drop old messages (default) or refuse new ones.
    #[serde(default, skip_serializing_if = "is_default")]
    pub discard: DiscardPolicy,
    /// With [`DiscardPolicy::New`] and `max_msgs_per_subject`, refuse new messages per
    /// subject rather than for the whole stream.
    #[serde(default, skip_serializing_if = "is_false")]
    pub discard_new_per_subject: bool,
    /// File (default) or memory.
    #[serde(default, skip_serializing_if = "is_default")]
    pub storage: StorageType,
    /// How many servers keep a copy (1 to 5); the server's default is 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_replicas: Option<usize>,
    /// Do not acknowledge publishes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_ack: bool,
    /// How long message ids are remembered for deduplication (server default 2 minutes).
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub duplicate_window: Option<Duration>,
    /// Which servers may hold the stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// The stream this one mirrors; a mirror has no subjects of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<StreamSource>,
    /// Streams this one takes messages from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<StreamSource>,
    /// Compression of file storage (2.10).
    #[serde(default, skip_serializing_if = "is_default")]
    pub compression: Compression,
    /// The sequence of the first message (2.10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    /// Rewrites the subject of incoming messages before storing them (2.10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_transform: Option<SubjectTransform>,
    /// Republishes stored messages to another subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub republish: Option<Republish>,
    /// Serve direct gets (`$JS.API.DIRECT.GET`) from every replica.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_direct: bool,
    /// A mirror serves direct gets for its origin stream.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mirror_direct: bool,
    /// No message gets in or out any more; cannot be undone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sealed: bool,
    /// Messages may not be deleted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deny_delete: bool,
    /// The stream may not be purged.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deny_purge: bool,
    /// A message with `Nats-Rollup` may purge its subject or the stream.
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_rollup_hdrs: bool,
    /// Defaults for the consumers of the stream (2.10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer_limits: Option<ConsumerLimits>,
    /// Messages may carry a per-message TTL in `Nats-TTL` (2.11).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_msg_ttl: bool,
    /// Leave a delete marker, kept this long, when max age removes a subject's last
    /// message (2.11; needs `allow_msg_ttl` and `allow_rollup_hdrs`, at least 1 second).
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub subject_delete_marker_ttl: Option<Duration>,
    /// The stream holds counters: messages carry `Nats-Incr` (2.12).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_msg_counter: bool,
    /// Atomic batch publishing (2.12).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_atomic: bool,
    /// Scheduled messages (`Nats-Schedule`, 2.12).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_msg_schedules: bool,
    /// Fast batch publishing (2.14).
    #[serde(default, skip_serializing_if = "is_false")]
    pub allow_batched: bool,
    /// When writes are flushed to disk (2.12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persist_mode: Option<PersistMode>,
    /// Free-form key/value metadata (2.10); the server adds `_nats.*` keys of its own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Fields the server sent that this crate does not know, kept so that an update with
    /// a config read from the server does not reset them.
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl StreamConfig {
    /// A config with this name and every other field unset: the server's defaults.
    pub fn new(name: impl Into<String>) -> Self {
        StreamConfig {
            name: name.into(),
            ..StreamConfig::default()
        }
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// When a stream may remove messages besides its limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum RetentionPolicy {
    /// Only the limits remove messages.
    #[default]
    Limits,
    /// A message goes once every consumer has acknowledged it.
    Interest,
    /// A message goes once one consumer has acknowledged it.
    #[serde(rename = "workqueue")]
    WorkQueue,
}

/// What a full stream does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DiscardPolicy {
    /// Remove the oldest messages.
    #[default]
    Old,
    /// Refuse new messages.
    New,
}

/// Where a stream keeps its messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StorageType {
    /// On disk.
    #[default]
    File,
    /// In memory.
    Memory,
}

/// Compression of a stream's file storage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Compression {
    /// None.
    #[default]
    None,
    /// S2.
    S2,
}

/// When the server flushes a stream's writes to disk (2.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PersistMode {
    /// Before acknowledging.
    Default,
    /// In the background: faster, but a hard kill may lose acknowledged writes.
    Async,
}

/// Which servers may hold a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// The cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Tags the servers must have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The server preferred as leader.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<String>,
}

/// A subject rewrite: messages on `src` are stored on `dest`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectTransform {
    /// The subjects to rewrite (wildcards allowed).
    #[serde(default)]
    pub src: String,
    /// What they become (`{{wildcard(1)}}` and friends).
    #[serde(default)]
    pub dest: String,
}

/// Republishing of stored messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Republish {
    /// The stored subjects to republish; all when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// Where to republish.
    #[serde(default)]
    pub dest: String,
    /// Republish the headers only, with `Nats-Msg-Size`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub headers_only: bool,
}

/// A stream to mirror or take messages from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamSource {
    /// The stream's name.
    pub name: String,
    /// Start at this sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_start_seq: Option<u64>,
    /// Start at this time.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub opt_start_time: Option<OffsetDateTime>,
    /// Take only messages on this subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_subject: Option<String>,
    /// Take and rewrite messages on these subjects (2.10; excludes `filter_subject`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_transforms: Vec<SubjectTransform>,
    /// The stream lives in another account or domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<External>,
    /// Source through this durable consumer (2.14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumer: Option<SourceConsumer>,
}

/// Where the API of another account or domain is reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct External {
    /// The API prefix, such as `$JS.hub.API`.
    pub api: String,
    /// The prefix of the delivery subjects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver: Option<String>,
}

/// The durable consumer a source reads through (2.14).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceConsumer {
    /// The consumer's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its delivery subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_subject: Option<String>,
}

/// Defaults for the consumers of a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerLimits {
    /// How long a consumer may be inactive before it is removed.
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub inactive_threshold: Option<Duration>,
    /// Most unacknowledged messages per consumer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ack_pending: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream config as nats-server 2.15.1 returns it in a stream info.
    const SERVER_CONFIG: &str = r#"{"name":"ORDERS","subjects":["orders.>"],"retention":"workqueue","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"file","num_replicas":1,"duplicate_window":120000000000,"compression":"none","allow_direct":false,"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false,"consumer_limits":{},"allow_msg_ttl":false,"metadata":{"_nats.level":"0","_nats.req.level":"0","_nats.ver":"2.15.1"},"some_future_field":{"x":1}}"#;

    #[test]
    fn a_new_config_sends_its_name_only() {
        let json = serde_json::to_string(&StreamConfig::new("S")).expect("serializes");
        assert_eq!(json, r#"{"name":"S"}"#);
    }

    #[test]
    fn set_fields_are_sent_with_their_wire_names() {
        let config = StreamConfig {
            retention: RetentionPolicy::WorkQueue,
            discard: DiscardPolicy::New,
            discard_new_per_subject: true,
            max_msgs_per_subject: Some(1),
            duplicate_window: Some(Duration::from_millis(500)),
            compression: Compression::S2,
            allow_msg_ttl: true,
            subject_delete_marker_ttl: Some(Duration::from_secs(1)),
            persist_mode: Some(PersistMode::Async),
            ..StreamConfig::new("S")
        };
        let value = serde_json::to_value(&config).expect("serializes");
        assert_eq!(
            value,
            serde_json::json!({
                "name": "S",
                "retention": "workqueue",
                "max_msgs_per_subject": 1,
                "discard": "new",
                "discard_new_per_subject": true,
                "duplicate_window": 500_000_000,
                "compression": "s2",
                "allow_msg_ttl": true,
                "subject_delete_marker_ttl": 1_000_000_000,
                "persist_mode": "async",
            })
        );
    }

    #[test]
    fn a_server_config_parses_and_keeps_unknown_fields_for_updates() {
        let config: StreamConfig = serde_json::from_str(SERVER_CONFIG).expect("parses");
        assert_eq!(config.retention, RetentionPolicy::WorkQueue);
        assert_eq!(config.max_age, Some(Duration::ZERO));
        assert_eq!(config.duplicate_window, Some(Duration::from_secs(120)));
        assert_eq!(config.max_msg_size, Some(-1));
        assert_eq!(config.consumer_limits, Some(ConsumerLimits::default()));
        assert_eq!(
            config.metadata.get("_nats.ver").map(String::as_str),
            Some("2.15.1")
        );
        assert_eq!(
            config.other.get("some_future_field"),
            Some(&serde_json::json!({"x": 1}))
        );
        let again = serde_json::to_value(&config).expect("serializes");
        assert_eq!(again["some_future_field"], serde_json::json!({"x": 1}));
        assert!(again.get("allow_direct").is_none(), "false is left out");
    }

    #[test]
    fn sources_and_nested_types_round_trip() {
        let config = StreamConfig {
            sources: vec![StreamSource {
                name: "A".into(),
                opt_start_time: Some(OffsetDateTime::UNIX_EPOCH),
                subject_transforms: vec![SubjectTransform {
                    src: "a.>".into(),
                    dest: "b.>".into(),
                }],
                external: Some(External {
                    api: "$JS.hub.API".into(),
                    deliver: None,
                }),
                ..StreamSource::default()
            }],
            placement: Some(Placement {
                tags: vec!["ssd".into()],
                ..Placement::default()
            }),
            republish: Some(Republish {
                dest: "copy.>".into(),
                ..Republish::default()
            }),
            ..StreamConfig::new("S")
        };
        let json = serde_json::to_string(&config).expect("serializes");
        assert!(json.contains(r#""opt_start_time":"1970-01-01T00:00:00Z""#));
        assert!(json.contains(r#""external":{"api":"$JS.hub.API"}"#));
        assert!(json.contains(r#""republish":{"dest":"copy.>"}"#));
        let back: StreamConfig = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, config);
    }

    #[test]
    fn a_bad_enum_value_is_an_error_not_a_panic() {
        let err = serde_json::from_str::<StreamConfig>(r#"{"name":"S","storage":"tape"}"#);
        assert!(err.is_err());
    }
}
