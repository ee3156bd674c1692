//! What the server reports about a stream: [`StreamInfo`] with its [`StreamState`], cluster
//! and sources. Fields this crate does not know are ignored.

use std::collections::HashMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::errors::ApiError;
use super::nanos;
use super::stream_config::{External, StreamConfig, SubjectTransform};

/// A stream's configuration and state, as the server reported them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// The configuration, with the server's defaults filled in.
    pub config: StreamConfig,
    /// When the stream was created.
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    /// What the stream holds.
    pub state: StreamState,
    /// The JetStream domain of the server that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// The servers that hold the stream, when clustered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterInfo>,
    /// The state of the mirror, for a mirror.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mirror: Option<SourceInfo>,
    /// The state of each source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceInfo>,
    /// Mirrors of this stream that can serve reads.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternates: Vec<StreamAlternate>,
    /// When the server gathered this information.
    #[serde(
        default,
        rename = "ts",
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<OffsetDateTime>,
}

/// What a stream holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamState {
    /// Messages stored.
    pub messages: u64,
    /// Bytes stored.
    pub bytes: u64,
    /// Sequence of the first message (the next one to be stored when empty).
    pub first_seq: u64,
    /// Time of the first message (Go's zero time, year 1, when empty).
    #[serde(with = "time::serde::rfc3339")]
    pub first_ts: OffsetDateTime,
    /// Sequence of the last message.
    pub last_seq: u64,
    /// Time of the last message.
    #[serde(with = "time::serde::rfc3339")]
    pub last_ts: OffsetDateTime,
    /// Distinct subjects stored.
    #[serde(default)]
    pub num_subjects: u64,
    /// Messages per subject, for the subjects asked for with
    /// [`StreamInfoOptions::subjects_filter`](super::StreamInfoOptions::subjects_filter);
    /// every page collected.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub subjects: HashMap<String, u64>,
    /// Deleted messages between the first and the last.
    #[serde(default)]
    pub num_deleted: u64,
    /// Their sequences, when asked for with
    /// [`StreamInfoOptions::deleted_details`](super::StreamInfoOptions::deleted_details).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<u64>,
    /// Messages the store lost (corruption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost: Option<LostStreamData>,
    /// Consumers of the stream.
    #[serde(default)]
    pub consumer_count: u64,
}

/// Messages a stream's store lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LostStreamData {
    /// Their sequences.
    #[serde(default)]
    pub msgs: Vec<u64>,
    /// Their size.
    #[serde(default)]
    pub bytes: u64,
}

/// The servers that hold a stream (or consumer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The cluster's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The Raft group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raft_group: Option<String>,
    /// The server that leads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leader: Option<String>,
    /// Since when it leads.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub leader_since: Option<OffsetDateTime>,
    /// The other servers holding a copy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replicas: Vec<PeerInfo>,
}

/// A server holding a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// The server's name.
    pub name: String,
    /// Whether it is caught up and seen recently.
    #[serde(default)]
    pub current: bool,
    /// Whether it has not been seen recently.
    #[serde(default)]
    pub offline: bool,
    /// How long ago it was last active.
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<Duration>,
    /// Operations it is behind.
    #[serde(default)]
    pub lag: u64,
    /// Its peer id.
    #[serde(default)]
    pub peer: String,
}

/// The state of a mirror or source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// The stream read from.
    pub name: String,
    /// Its account or domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<External>,
    /// Messages behind.
    #[serde(default)]
    pub lag: u64,
    /// How long ago it was last active; `None` when never.
    #[serde(
        default,
        with = "nanos::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub active: Option<Duration>,
    /// Why it does not work, if it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ApiError>,
    /// The subject it filters on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_subject: Option<String>,
    /// The transforms it applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subject_transforms: Vec<SubjectTransform>,
}

/// A mirror of a stream that can serve its reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamAlternate {
    /// The mirror's name.
    pub name: String,
    /// Its domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Its cluster.
    #[serde(default)]
    pub cluster: String,
}

/// Every stream of a [`streams`](super::Context::streams) listing, all pages collected.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamList {
    /// The streams that answered.
    pub streams: Vec<StreamInfo>,
    /// Streams the server knows but could not report (clustered, assets not answering).
    pub missing: Vec<String>,
    /// Streams that are offline, with the reason.
    pub offline: HashMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream info body as nats-server 2.15.1 sends it, with a field from the future.
    const SERVER_INFO: &str = r#"{"type":"io.nats.jetstream.api.v1.stream_info_response","total":0,"offset":0,"limit":0,"config":{"name":"S","subjects":["s.>"],"retention":"limits","max_consumers":-1,"max_msgs":-1,"max_bytes":-1,"max_age":0,"max_msgs_per_subject":-1,"max_msg_size":-1,"discard":"old","storage":"memory","num_replicas":1,"duplicate_window":120000000000,"compression":"none","allow_direct":false,"mirror_direct":false,"sealed":false,"deny_delete":false,"deny_purge":false,"allow_rollup_hdrs":false,"consumer_limits":{}},"created":"2026-08-01T10:11:12.123456789Z","state":{"messages":2,"bytes":84,"first_seq":1,"first_ts":"2026-08-01T10:11:13.5Z","last_seq":3,"last_ts":"2026-08-01T10:11:14Z","num_deleted":1,"num_subjects":2,"consumer_count":0,"future":true},"cluster":{"leader":"n1","leader_since":"2026-08-01T10:11:12Z"},"sources":[{"name":"A","lag":0,"active":-1}],"ts":"2026-08-01T10:12:00Z"}"#;

    #[test]
    fn a_server_stream_info_parses() {
        let info: StreamInfo = serde_json::from_str(SERVER_INFO).expect("parses");
        assert_eq!(info.config.name, "S");
        assert_eq!(info.state.messages, 2);
        assert_eq!(info.state.last_seq, 3);
        assert_eq!(info.state.num_deleted, 1);
        assert_eq!(info.created.nanosecond(), 123_456_789);
        assert_eq!(info.cluster.and_then(|c| c.leader).as_deref(), Some("n1"));
        assert_eq!(info.sources[0].active, None, "-1 is never active");
        assert!(info.timestamp.is_some());
    }

    #[test]
    fn go_zero_time_of_an_empty_stream_parses() {
        let state = r#"{"messages":0,"bytes":0,"first_seq":0,"first_ts":"0001-01-01T00:00:00Z","last_seq":0,"last_ts":"0001-01-01T00:00:00Z","consumer_count":0}"#;
        let state: StreamState = serde_json::from_str(state).expect("parses");
        assert_eq!(state.first_ts.year(), 1);
    }

    #[test]
    fn a_malformed_info_is_an_error() {
        assert!(serde_json::from_str::<StreamInfo>(r#"{"config":{"name":"S"}}"#).is_err());
        let bad_time = SERVER_INFO.replace("2026-08-01T10:11:12.123456789Z", "yesterday");
        assert!(serde_json::from_str::<StreamInfo>(&bad_time).is_err());
    }
}
