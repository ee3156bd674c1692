//! What the server reports about a consumer: [`ConsumerInfo`] with its delivery and
//! acknowledgement positions, and the answer of a pause or resume ([`PauseResponse`]).
//! Fields this crate does not know are ignored.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::consumer_config::ConsumerConfig;
use super::nanos;
use super::stream_info::ClusterInfo;

/// A consumer's configuration and state, as the server reported them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsumerInfo {
    /// The stream it reads.
    pub stream_name: String,
    /// Its name.
    pub name: String,
    /// When it was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// The configuration, with the server's defaults filled in.
    #[serde(default)]
    pub config: ConsumerConfig,
    /// The last message delivered: its consumer and stream sequences.
    pub delivered: SequenceInfo,
    /// The acknowledgement floor: every message up to it is acknowledged.
    pub ack_floor: SequenceInfo,
    /// Messages delivered and waiting for an acknowledgement.
    #[serde(default)]
    pub num_ack_pending: i64,
    /// Messages delivered more than once and not acknowledged yet.
    #[serde(default)]
    pub num_redelivered: i64,
    /// Pull requests waiting.
    #[serde(default)]
    pub num_waiting: i64,
    /// Messages of the stream (matching the filters) not delivered yet.
    #[serde(default)]
    pub num_pending: u64,
    /// The servers that hold the consumer, when clustered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterInfo>,
    /// Push consumers: whether a subscriber listens on the deliver subject.
    #[serde(default)]
    pub push_bound: bool,
    /// Whether the consumer is paused (2.11).
    #[serde(default)]
    pub paused: bool,
    /// How long it stays paused.
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pause_remaining: Option<Duration>,
    /// When the server gathered this information.
    #[serde(
        default,
        rename = "ts",
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<OffsetDateTime>,
    /// The state of each priority group (2.11).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priority_groups: Vec<PriorityGroupState>,
}

/// A position of a consumer: consumer and stream sequence, and when it was last reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceInfo {
    /// The consumer sequence (counts deliveries).
    #[serde(rename = "consumer_seq", default)]
    pub consumer_sequence: u64,
    /// The stream sequence.
    #[serde(rename = "stream_seq", default)]
    pub stream_sequence: u64,
    /// When it was last active.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_active: Option<OffsetDateTime>,
}

/// The state of a priority group of a pull consumer (2.11).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriorityGroupState {
    /// The group.
    pub group: String,
    /// The id of the pinned client, with [`PriorityPolicy::PinnedClient`](super::PriorityPolicy::PinnedClient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_client_id: Option<String>,
    /// Since when it is pinned.
    #[serde(
        default,
        rename = "pinned_ts",
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pinned_since: Option<OffsetDateTime>,
}

/// Every consumer of a stream, all pages collected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConsumerList {
    /// The consumers that answered.
    pub consumers: Vec<ConsumerInfo>,
    /// Consumers the server knows but could not report.
    pub missing: Vec<String>,
    /// Consumers that are offline, with the reason.
    pub offline: HashMap<String, String>,
}

/// The answer of [`pause_consumer`](super::Context::pause_consumer) and
/// [`resume_consumer`](super::Context::resume_consumer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseResponse {
    /// Whether the consumer is paused now.
    #[serde(default)]
    pub paused: bool,
    /// Until when; `None` when it is not paused (the server sends Go's zero time then).
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pause_until: Option<OffsetDateTime>,
    /// How long it stays paused.
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub pause_remaining: Option<Duration>,
}

impl PauseResponse {
    /// Go's zero time (year 1) means "not paused": `None`.
    pub(crate) fn normalized(mut self) -> Self {
        if self.pause_until.is_some_and(|t| t.year() <= 1) {
            self.pause_until = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jetstream::AckPolicy;

    /// A consumer info body as nats-server 2.15.1 sends it, with a field from the future.
    const SERVER_INFO: &str = r#"{"type":"io.nats.jetstream.api.v1.consumer_info_response","stream_name":"S","name":"D","created":"2026-08-01T10:11:12.123456789Z","config":{"durable_name":"D","name":"D","deliver_policy":"all","ack_policy":"explicit","ack_wait":30000000000,"max_deliver":-1,"replay_policy":"instant","max_waiting":512,"max_ack_pending":1000,"num_replicas":0},"delivered":{"consumer_seq":3,"stream_seq":5,"last_active":"2026-08-01T10:11:13Z"},"ack_floor":{"consumer_seq":1,"stream_seq":2},"num_ack_pending":2,"num_redelivered":0,"num_waiting":1,"num_pending":7,"cluster":{"leader":"n1"},"ts":"2026-08-01T10:12:00Z","priority_groups":[{"group":"g","pinned_client_id":"abc","pinned_ts":"2026-08-01T10:11:14Z"}],"future":{"x":1}}"#;

    #[test]
    fn a_server_consumer_info_parses() {
        let info: ConsumerInfo = serde_json::from_str(SERVER_INFO).expect("parses");
        assert_eq!((info.stream_name.as_str(), info.name.as_str()), ("S", "D"));
        assert_eq!(info.config.ack_policy, AckPolicy::Explicit);
        assert_eq!(info.delivered.consumer_sequence, 3);
        assert_eq!(info.delivered.stream_sequence, 5);
        assert!(info.delivered.last_active.is_some());
        assert_eq!(info.ack_floor.stream_sequence, 2);
        assert_eq!(info.ack_floor.last_active, None);
        assert_eq!((info.num_ack_pending, info.num_waiting), (2, 1));
        assert_eq!(info.num_pending, 7);
        assert!(!info.paused && !info.push_bound);
        assert_eq!(
            info.priority_groups[0].pinned_client_id.as_deref(),
            Some("abc")
        );
        assert_eq!(info.created.nanosecond(), 123_456_789);
    }

    #[test]
    fn a_paused_consumer_reports_its_remaining_time() {
        let paused = SERVER_INFO.replace(
            r#""num_pending":7"#,
            r#""num_pending":7,"paused":true,"pause_remaining":2500000000"#,
        );
        let info: ConsumerInfo = serde_json::from_str(&paused).expect("parses");
        assert!(info.paused);
        assert_eq!(info.pause_remaining, Some(Duration::from_millis(2500)));
    }

    #[test]
    fn pause_answers_parse_and_a_resume_has_no_deadline() {
        let resumed: PauseResponse = serde_json::from_str(
            r#"{"type":"io.nats.jetstream.api.v1.consumer_pause_response","paused":false,"pause_until":"0001-01-01T00:00:00Z"}"#,
        )
        .expect("parses");
        assert_eq!(resumed.normalized().pause_until, None);
        let paused: PauseResponse = serde_json::from_str(
            r#"{"paused":true,"pause_until":"2030-01-01T00:00:00Z","pause_remaining":1000}"#,
        )
        .expect("parses");
        let paused = paused.normalized();
        assert!(paused.paused);
        assert_eq!(paused.pause_until.map(|t| t.year()), Some(2030));
        assert_eq!(paused.pause_remaining, Some(Duration::from_nanos(1000)));
    }

    #[test]
    fn a_malformed_info_is_an_error() {
        assert!(serde_json::from_str::<ConsumerInfo>(r#"{"name":"D"}"#).is_err());
        let bad = SERVER_INFO.replace(r#""consumer_seq":3"#, r#""consumer_seq":"x""#);
        assert!(serde_json::from_str::<ConsumerInfo>(&bad).is_err());
    }
}
