//! The JSON replies of `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS`, shared by the runtime (which
//! writes them exactly as nats.go does) and the discovery client (which reads what any
//! implementation writes).
//!
//! Fields are declared in the order nats.go writes them: the service identity (`name`, `id`,
//! `version`, `metadata`), then `type`, then the reply's own fields. Metadata maps are sorted by
//! key, as Go's encoder sorts them; the runtime writes them with Go's string escapes.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod go_json;
mod lenient;
#[cfg(test)]
mod tests;

pub(crate) use go_json::to_vec as to_go_json;

/// The `type` of a PING reply.
pub const PING_RESPONSE_TYPE: &str = "io.nats.micro.v1.ping_response";
/// The `type` of an INFO reply.
pub const INFO_RESPONSE_TYPE: &str = "io.nats.micro.v1.info_response";
/// The `type` of a STATS reply.
pub const STATS_RESPONSE_TYPE: &str = "io.nats.micro.v1.stats_response";

/// Metadata of a service or an endpoint: string keys to string values, sorted by key.
pub type Metadata = BTreeMap<String, String>;

/// The reply to `$SRV.PING`: who the instance is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingResponse {
    /// The service name.
    pub name: String,
    /// The instance id.
    pub id: String,
    /// The service version.
    #[serde(default, deserialize_with = "lenient::string")]
    pub version: String,
    /// The service metadata; `{}` when there is none.
    #[serde(default, deserialize_with = "lenient::metadata")]
    pub metadata: Metadata,
    /// [`PING_RESPONSE_TYPE`].
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: String,
}

/// The reply to `$SRV.INFO`: the instance and its endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoResponse {
    /// The service name.
    pub name: String,
    /// The instance id.
    pub id: String,
    /// The service version.
    #[serde(default, deserialize_with = "lenient::string")]
    pub version: String,
    /// The service metadata; `{}` when there is none.
    #[serde(default, deserialize_with = "lenient::metadata")]
    pub metadata: Metadata,
    /// [`INFO_RESPONSE_TYPE`].
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: String,
    /// The service description; `""` when there is none (nats-py sends `null`).
    #[serde(default, deserialize_with = "lenient::string")]
    pub description: String,
    /// The endpoints, in the order they were added.
    #[serde(default, deserialize_with = "lenient::list")]
    pub endpoints: Vec<EndpointInfo>,
}

/// One endpoint in an INFO reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointInfo {
    /// The endpoint name.
    pub name: String,
    /// The subject it listens on, group prefix included.
    #[serde(default, deserialize_with = "lenient::string")]
    pub subject: String,
    /// Its queue group; `""` when queue groups are disabled.
    #[serde(default, deserialize_with = "lenient::string")]
    pub queue_group: String,
    /// Its metadata; `null` when there is none.
    #[serde(default, deserialize_with = "lenient::optional_metadata")]
    pub metadata: Option<Metadata>,
}

/// The reply to `$SRV.STATS`: the instance and the counters of its endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsResponse {
    /// The service name.
    pub name: String,
    /// The instance id.
    pub id: String,
    /// The service version.
    #[serde(default, deserialize_with = "lenient::string")]
    pub version: String,
    /// The service metadata; `{}` when there is none.
    #[serde(default, deserialize_with = "lenient::metadata")]
    pub metadata: Metadata,
    /// [`STATS_RESPONSE_TYPE`].
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: String,
    /// When the service started or its statistics were last reset; RFC 3339 UTC on the wire.
    #[serde(with = "lenient::rfc3339")]
    pub started: SystemTime,
    /// The counters of every endpoint, in the order they were added.
    #[serde(default, deserialize_with = "lenient::list")]
    pub endpoints: Vec<EndpointStats>,
}

/// The counters of one endpoint in a STATS reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointStats {
    /// The endpoint name.
    pub name: String,
    /// The subject it listens on, group prefix included.
    #[serde(default, deserialize_with = "lenient::string")]
    pub subject: String,
    /// Its queue group; `""` when queue groups are disabled.
    #[serde(default, deserialize_with = "lenient::string")]
    pub queue_group: String,
    /// Requests delivered.
    #[serde(default, deserialize_with = "lenient::count")]
    pub num_requests: u64,
    /// Error replies, failed handlers and failed sends.
    #[serde(default, deserialize_with = "lenient::count")]
    pub num_errors: u64,
    /// The latest error as `"<code>:<description>"`; `""` when there was none.
    #[serde(default, deserialize_with = "lenient::string")]
    pub last_error: String,
    /// Time spent handling requests; integer nanoseconds on the wire.
    #[serde(default, with = "lenient::nanos")]
    pub processing_time: Duration,
    /// `processing_time / num_requests`; integer nanoseconds on the wire.
    #[serde(default, with = "lenient::nanos")]
    pub average_processing_time: Duration,
    /// What the service's stats handler returned for this endpoint; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}
