//! [`AccountInfo`]: what `$JS.API.INFO` reports about the account's JetStream use, and the
//! API level of the server.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The account's JetStream usage and limits, and the server's API level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// Memory used by streams, in bytes.
    #[serde(default)]
    pub memory: u64,
    /// Storage used by streams, in bytes.
    #[serde(default)]
    pub storage: u64,
    /// Memory reserved by streams with a `max_bytes`.
    #[serde(default)]
    pub reserved_memory: u64,
    /// Storage reserved by streams with a `max_bytes`.
    #[serde(default)]
    pub reserved_storage: u64,
    /// Streams of the account.
    #[serde(default)]
    pub streams: u64,
    /// Consumers of the account.
    #[serde(default)]
    pub consumers: u64,
    /// The account's limits.
    #[serde(default)]
    pub limits: AccountLimits,
    /// The JetStream domain of the server that answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// API statistics and level.
    #[serde(default)]
    pub api: ApiStats,
    /// Usage per tier (such as `R1`, `R3`), when the account has tiered limits.
    #[serde(default, skip_serializing_if = "HashMap::is_empty")]
    pub tiers: HashMap<String, AccountTier>,
}

impl AccountInfo {
    /// The JetStream API level the server implements (`api.level`): 0 before nats-server
    /// 2.11, 1 for 2.11, 2 for 2.12, 4 for 2.14, 5 for 2.15. Decide on features by this
    /// level, never by the server's version.
    pub fn api_level(&self) -> u32 {
        self.api.level
    }
}

/// JetStream limits of an account; `-1` is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountLimits {
    /// Most memory for streams.
    #[serde(default)]
    pub max_memory: i64,
    /// Most storage for streams.
    #[serde(default)]
    pub max_storage: i64,
    /// Most streams.
    #[serde(default)]
    pub max_streams: i64,
    /// Most consumers.
    #[serde(default)]
    pub max_consumers: i64,
    /// Most unacknowledged messages per consumer.
    #[serde(default)]
    pub max_ack_pending: i64,
    /// Largest `max_bytes` of a memory stream.
    #[serde(default)]
    pub memory_max_stream_bytes: i64,
    /// Largest `max_bytes` of a file stream.
    #[serde(default)]
    pub storage_max_stream_bytes: i64,
    /// Whether every stream must set `max_bytes`.
    #[serde(default)]
    pub max_bytes_required: bool,
}

/// Usage and limits of one tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountTier {
    /// Memory used.
    #[serde(default)]
    pub memory: u64,
    /// Storage used.
    #[serde(default)]
    pub storage: u64,
    /// Memory reserved.
    #[serde(default)]
    pub reserved_memory: u64,
    /// Storage reserved.
    #[serde(default)]
    pub reserved_storage: u64,
    /// Streams.
    #[serde(default)]
    pub streams: u64,
    /// Consumers.
    #[serde(default)]
    pub consumers: u64,
    /// The tier's limits.
    #[serde(default)]
    pub limits: AccountLimits,
}

/// The server's JetStream API statistics and level.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiStats {
    /// The API level the server implements; absent (0) before nats-server 2.11.
    #[serde(default)]
    pub level: u32,
    /// API requests received.
    #[serde(default)]
    pub total: u64,
    /// API requests that failed.
    #[serde(default)]
    pub errors: u64,
    /// API requests being served.
    #[serde(default)]
    pub inflight: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_info_of_a_2_15_server_parses_with_its_level() {
        // Captured from nats-server 2.15.1.
        let json = r#"{"type":"io.nats.jetstream.api.v1.account_info_response","memory":0,"storage":0,"reserved_memory":0,"reserved_storage":0,"streams":0,"consumers":0,"limits":{"max_memory":-1,"max_storage":-1,"max_streams":-1,"max_consumers":-1,"max_ack_pending":-1,"memory_max_stream_bytes":-1,"storage_max_stream_bytes":-1,"max_bytes_required":false},"api":{"level":5,"total":0,"errors":0}}"#;
        let info: AccountInfo = serde_json::from_str(json).expect("parses");
        assert_eq!(info.api_level(), 5);
        assert_eq!(info.streams, 0);
        assert_eq!(info.limits.max_streams, -1);
        assert_eq!(info.domain, None);
    }

    #[test]
    fn a_2_9_server_has_level_zero() {
        let info: AccountInfo =
            serde_json::from_str(r#"{"memory":0,"api":{"total":1,"errors":0}}"#).expect("parses");
        assert_eq!(info.api_level(), 0);
    }
}
