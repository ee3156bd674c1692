//! [`ConsumerConfig`] and its policies, as nats-server 2.10 to 2.15 accept them.
//!
//! As for streams, every unset field (`None`, `false`, empty, the default policy) is left out
//! of the JSON: 2.12+ servers reject fields they do not know (10025), older ones apply their
//! own defaults. One exception: `ack_policy` is always sent, because this crate's default
//! ([`AckPolicy::Explicit`], as nats.go and async-nats) is not the server's zero value
//! (`none`). Durations are nanoseconds on the wire.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::nanos;

/// The configuration of a consumer: which messages of its stream it delivers, from where,
/// and how they are acknowledged.
///
/// A consumer with a [`durable_name`](Self::durable_name) survives inactivity; one with only a
/// [`name`](Self::name) (or none: the client picks one) is ephemeral and removed after
/// [`inactive_threshold`](Self::inactive_threshold) (server default 5 s). Without a
/// [`deliver_subject`](Self::deliver_subject) it is a pull consumer.
///
/// ```
/// use std::time::Duration;
/// use nats_core::jetstream::{AckPolicy, ConsumerConfig, DeliverPolicy};
/// let config = ConsumerConfig {
///     filter_subject: Some("orders.eu.>".into()),
///     deliver_policy: DeliverPolicy::New,
///     ack_wait: Some(Duration::from_secs(10)),
///     ..ConsumerConfig::durable("eu-worker")
/// };
/// let json = serde_json::to_string(&config).unwrap();
/// assert_eq!(
///     json,
///     r#"{"durable_name":"eu-worker","deliver_policy":"new","ack_policy":"explicit","ack_wait":10000000000,"filter_subject":"orders.eu.>"}"#
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsumerConfig {
    /// The name of a durable consumer: it is kept while inactive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub durable_name: Option<String>,
    /// The name of the consumer (2.9); with a durable name they must be equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text describing the consumer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where in the stream delivery starts.
    #[serde(default, skip_serializing_if = "is_default")]
    pub deliver_policy: DeliverPolicy,
    /// The first sequence, with [`DeliverPolicy::ByStartSequence`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opt_start_seq: Option<u64>,
    /// The first time, with [`DeliverPolicy::ByStartTime`].
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub opt_start_time: Option<OffsetDateTime>,
    /// How messages are acknowledged; always sent.
    #[serde(default)]
    pub ack_policy: AckPolicy,
    /// How long the server waits for an acknowledgement before redelivering (server default
    /// 30 s; the first [`backoff`](Self::backoff) value overrides it).
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ack_wait: Option<Duration>,
    /// How often a message is delivered at most; `-1` (the server's default) is unlimited.
    /// Must exceed the number of [`backoff`](Self::backoff) values (10116).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_deliver: Option<i64>,
    /// The delays between redeliveries, one per attempt (the last repeats).
    #[serde(default, with = "nanos::vec", skip_serializing_if = "Vec::is_empty")]
    pub backoff: Vec<Duration>,
    /// Deliver only messages on subjects matching this one (wildcards allowed). Excludes
    /// [`filter_subjects`](Self::filter_subjects) (10136).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_subject: Option<String>,
    /// Deliver only messages matching one of these (2.10); they may not overlap (10138).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filter_subjects: Vec<String>,
    /// Deliver as fast as possible (default) or at the pace messages were stored.
    #[serde(default, skip_serializing_if = "is_default")]
    pub replay_policy: ReplayPolicy,
    /// Push consumers only: the most bits per second delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit_bps: Option<u64>,
    /// The percentage of acknowledgements sampled into advisories, such as `"100%"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample_freq: Option<String>,
    /// Pull consumers only: the most pull requests waiting at once (server default 512).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_waiting: Option<i64>,
    /// The most messages delivered and not acknowledged (server default 1000 unless the ack
    /// policy is none); `-1` is unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ack_pending: Option<i64>,
    /// Deliver headers only, without the payload, with `Nats-Msg-Size`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub headers_only: bool,
    /// Pull consumers only: the largest batch one request may ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch: Option<i64>,
    /// Pull consumers only: the longest expiry one request may ask for.
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub max_expires: Option<Duration>,
    /// Pull consumers only: the most bytes one request may ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<i64>,
    /// Push consumers: the subject messages are delivered to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_subject: Option<String>,
    /// Push consumers: the queue group the deliver subject is subscribed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deliver_group: Option<String>,
    /// Push consumers: ask the subscriber to confirm it keeps up (needs
    /// [`idle_heartbeat`](Self::idle_heartbeat), 10108).
    #[serde(default, skip_serializing_if = "is_false")]
    pub flow_control: bool,
    /// Push consumers: send a heartbeat after this long without messages (at least 100 ms).
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub idle_heartbeat: Option<Duration>,
    /// How long the consumer may be inactive before the server removes it (ephemerals: 5 s
    /// by default; durables: never unless set).
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub inactive_threshold: Option<Duration>,
    /// Copies of the consumer's state; `0` or unset inherits the stream's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub num_replicas: Option<usize>,
    /// Keep the consumer's state in memory whatever the stream's storage.
    #[serde(default, skip_serializing_if = "is_false")]
    pub mem_storage: bool,
    /// Free-form key/value metadata (2.10); the server adds `_nats.*` keys of its own.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Deliver nothing until this time (2.11).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pause_until: Option<OffsetDateTime>,
    /// Pull consumers: the priority groups requests name (2.11, ADR-42).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priority_groups: Vec<String>,
    /// How the priority groups share messages (2.11).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_policy: Option<PriorityPolicy>,
    /// With [`PriorityPolicy::PinnedClient`]: how long a pinned client may be silent before
    /// another is pinned (2.11).
    #[serde(
        default,
        rename = "priority_timeout",
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pinned_ttl: Option<Duration>,
    /// Fields the server sent that this crate does not know, kept so that an update with a
    /// config read from the server does not reset them.
    #[serde(flatten, default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl ConsumerConfig {
    /// A durable consumer named `name`, every other field unset (explicit acks).
    pub fn durable(name: impl Into<String>) -> Self {
        ConsumerConfig {
            durable_name: Some(name.into()),
            ..ConsumerConfig::default()
        }
    }

    /// An ephemeral consumer named `name`, every other field unset (explicit acks).
    pub fn ephemeral(name: impl Into<String>) -> Self {
        ConsumerConfig {
            name: Some(name.into()),
            ..ConsumerConfig::default()
        }
    }

    /// The consumer's name: the durable name, else the name.
    pub fn consumer_name(&self) -> Option<&str> {
        self.durable_name.as_deref().or(self.name.as_deref())
    }

    /// Whether this is a push consumer (it has a deliver subject).
    pub fn is_push(&self) -> bool {
        self.deliver_subject.is_some()
    }
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Where in the stream a consumer starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeliverPolicy {
    /// From the first message.
    #[default]
    All,
    /// From the last message.
    Last,
    /// Only messages stored after the consumer was created.
    New,
    /// From [`ConsumerConfig::opt_start_seq`].
    ByStartSequence,
    /// From the first message stored at or after [`ConsumerConfig::opt_start_time`].
    ByStartTime,
    /// From the last message of each subject.
    LastPerSubject,
}

/// How a consumer's messages are acknowledged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AckPolicy {
    /// Every message is acknowledged on its own (this crate's default).
    #[default]
    Explicit,
    /// Acknowledging a message acknowledges every one before it.
    All,
    /// No acknowledgements: a message counts as handled once delivered.
    None,
    /// Acknowledged through flow control replies (2.14, for stream sourcing).
    FlowControl,
}

/// The pace at which a consumer delivers stored messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReplayPolicy {
    /// As fast as possible.
    #[default]
    Instant,
    /// With the gaps between messages as they were stored.
    Original,
}

/// How the priority groups of a pull consumer share its messages (2.11, ADR-42).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum PriorityPolicy {
    /// No priority.
    None,
    /// Requests with `min_pending` / `min_ack_pending` get messages only past those.
    Overflow,
    /// One client is pinned and gets every message while it pulls.
    PinnedClient,
    /// Requests with the lowest priority number are served first (2.12).
    Prioritized,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A consumer config as nats-server 2.15.1 returns it in a consumer info, with a field
    /// from the future.
    const SERVER_CONFIG: &str = r#"{"durable_name":"D","name":"D","deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,"max_deliver":-1,"filter_subject":"s.>","replay_policy":"instant","max_waiting":512,"max_ack_pending":1000,"num_replicas":0,"metadata":{"_nats.created.level":"1","_nats.level":"1","_nats.req.level":"0","_nats.ver":"2.15.1"},"some_future_field":7}"#;

    #[test]
    fn a_default_config_sends_the_ack_policy_only() {
        let json = serde_json::to_string(&ConsumerConfig::default()).expect("serializes");
        assert_eq!(json, r#"{"ack_policy":"explicit"}"#);
        let json = serde_json::to_string(&ConsumerConfig::ephemeral("e")).expect("serializes");
        assert_eq!(json, r#"{"name":"e","ack_policy":"explicit"}"#);
    }

    #[test]
    fn every_field_has_its_wire_name_and_unit() {
        let config = ConsumerConfig {
            description: Some("d".into()),
            deliver_policy: DeliverPolicy::ByStartSequence,
            opt_start_seq: Some(42),
            ack_policy: AckPolicy::All,
            ack_wait: Some(Duration::from_millis(1500)),
            max_deliver: Some(5),
            backoff: vec![Duration::from_secs(1), Duration::from_secs(2)],
            filter_subjects: vec!["a.*".into(), "b.>".into()],
            replay_policy: ReplayPolicy::Original,
            sample_freq: Some("50%".into()),
            max_waiting: Some(16),
            max_ack_pending: Some(-1),
            headers_only: true,
            max_batch: Some(100),
            max_expires: Some(Duration::from_secs(60)),
            max_bytes: Some(1 << 20),
            inactive_threshold: Some(Duration::from_secs(300)),
            num_replicas: Some(1),
            mem_storage: true,
            metadata: BTreeMap::from([("team".to_owned(), "eu".to_owned())]),
            pause_until: Some(OffsetDateTime::UNIX_EPOCH),
            priority_groups: vec!["jobs".into()],
            priority_policy: Some(PriorityPolicy::PinnedClient),
            pinned_ttl: Some(Duration::from_secs(2)),
            ..ConsumerConfig::durable("D")
        };
        let value = serde_json::to_value(&config).expect("serializes");
        assert_eq!(
            value,
            serde_json::json!({
                "durable_name": "D",
                "description": "d",
                "deliver_policy": "by_start_sequence",
                "opt_start_seq": 42,
                "ack_policy": "all",
                "ack_wait": 1_500_000_000u64,
                "max_deliver": 5,
                "backoff": [1_000_000_000u64, 2_000_000_000u64],
                "filter_subjects": ["a.*", "b.>"],
                "replay_policy": "original",
                "sample_freq": "50%",
                "max_waiting": 16,
                "max_ack_pending": -1,
                "headers_only": true,
                "max_batch": 100,
                "max_expires": 60_000_000_000u64,
                "max_bytes": 1_048_576,
                "inactive_threshold": 300_000_000_000u64,
                "num_replicas": 1,
                "mem_storage": true,
                "metadata": {"team": "eu"},
                "pause_until": "1970-01-01T00:00:00Z",
                "priority_groups": ["jobs"],
                "priority_policy": "pinned_client",
                "priority_timeout": 2_000_000_000u64,
            })
        );
        let back: ConsumerConfig = serde_json::from_value(value).expect("parses");
        assert_eq!(back, config);
    }

    #[test]
    fn push_fields_serialize() {
        let config = ConsumerConfig {
            deliver_subject: Some("deliver.here".into()),
            deliver_group: Some("q".into()),
            flow_control: true,
            idle_heartbeat: Some(Duration::from_secs(5)),
            rate_limit_bps: Some(8000),
            deliver_policy: DeliverPolicy::ByStartTime,
            opt_start_time: Some(OffsetDateTime::UNIX_EPOCH),
            ..ConsumerConfig::default()
        };
        assert!(config.is_push());
        let json = serde_json::to_string(&config).expect("serializes");
        assert_eq!(
            json,
            r#"{"deliver_policy":"by_start_time","opt_start_time":"1970-01-01T00:00:00Z","ack_policy":"explicit","rate_limit_bps":8000,"deliver_subject":"deliver.here","deliver_group":"q","flow_control":true,"idle_heartbeat":5000000000}"#
        );
    }

    #[test]
    fn a_server_config_parses_and_keeps_unknown_fields() {
        let config: ConsumerConfig = serde_json::from_str(SERVER_CONFIG).expect("parses");
        assert_eq!(config.consumer_name(), Some("D"));
        assert_eq!(config.ack_wait, Some(Duration::from_secs(30)));
        assert_eq!(config.max_deliver, Some(-1));
        assert_eq!(config.num_replicas, Some(0));
        assert!(!config.is_push());
        assert_eq!(config.other.get("some_future_field"), Some(&7.into()));
        let again = serde_json::to_value(&config).expect("serializes");
        assert_eq!(again["some_future_field"], 7);
        assert!(
            again.get("deliver_policy").is_none(),
            "the default is left out"
        );
    }

    #[test]
    fn policies_have_the_server_spelling() {
        for (policy, text) in [
            (DeliverPolicy::All, "all"),
            (DeliverPolicy::Last, "last"),
            (DeliverPolicy::New, "new"),
            (DeliverPolicy::ByStartSequence, "by_start_sequence"),
            (DeliverPolicy::ByStartTime, "by_start_time"),
            (DeliverPolicy::LastPerSubject, "last_per_subject"),
        ] {
            assert_eq!(serde_json::to_value(policy).expect("ser"), text);
        }
        for (policy, text) in [
            (AckPolicy::Explicit, "explicit"),
            (AckPolicy::All, "all"),
            (AckPolicy::None, "none"),
            (AckPolicy::FlowControl, "flow_control"),
        ] {
            assert_eq!(serde_json::to_value(policy).expect("ser"), text);
        }
        assert_eq!(
            serde_json::to_value(PriorityPolicy::Prioritized).expect("ser"),
            "prioritized"
        );
        assert!(serde_json::from_str::<AckPolicy>(r#""sometimes""#).is_err());
    }
}
