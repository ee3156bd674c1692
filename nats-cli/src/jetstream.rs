//! What the `stream`, `kv` and `object` commands share: the JetStream context the settings
//! ask for, and how the settings of streams read in their listings.

use std::time::Duration;

use nats_core::jetstream::{Context, ContextOptions, StreamInfo};
use nats_core::{Client, ConnectConfig};
use serde::Serialize;
use time::OffsetDateTime;

use crate::duration;

/// The JetStream of the settings: `$JS.API`, or the API prefix or domain a NATS CLI context
/// names (the domain over the prefix when it names both); `timeout` bounds every API call
/// and acknowledgement.
pub(crate) fn context(client: &Client, config: &ConnectConfig, timeout: Duration) -> Context {
    let mut options = ContextOptions::new().timeout(timeout);
    if let Some(prefix) = config.jetstream_api_prefix() {
        options = options.api_prefix(prefix);
    }
    if let Some(domain) = config.jetstream_domain() {
        options = options.domain(domain);
    }
    client.jetstream_with(options)
}

/// The name a setting has on the wire (`file`, `workqueue`, `s2`): what the flags take and
/// the JSON says.
pub(crate) fn wire_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => "unknown".to_owned(),
    }
}

/// The time the server gathered `info`, to measure ages against its clock; now when it
/// did not say.
pub(crate) fn server_time(info: &StreamInfo) -> OffsetDateTime {
    info.timestamp.unwrap_or_else(OffsetDateTime::now_utc)
}

/// A maximum age or TTL: `unlimited` when unset or zero.
pub(crate) fn max_age(age: Option<Duration>) -> String {
    match age.filter(|age| !age.is_zero()) {
        Some(age) => duration::human(age),
        None => "unlimited".to_owned(),
    }
}

/// A count limit the server reports as `-1` (or `0` for some) when there is none.
pub(crate) fn count_limit(limit: Option<i64>) -> String {
    match limit.and_then(|n| u64::try_from(n).ok()).filter(|n| *n > 0) {
        Some(n) => crate::output::count(n),
        None => "unlimited".to_owned(),
    }
}

/// The metadata of a stream without the keys the server adds (`_nats.*`).
pub(crate) fn user_metadata(info: &StreamInfo) -> impl Iterator<Item = (&String, &String)> {
    info.config
        .metadata
        .iter()
        .filter(|(key, _)| !key.starts_with("_nats."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nats_core::jetstream::{RetentionPolicy, StorageType};

    #[test]
    fn settings_read_as_the_flags_take_them() {
        assert_eq!(wire_name(&StorageType::Memory), "memory");
        assert_eq!(wire_name(&RetentionPolicy::WorkQueue), "workqueue");
        assert_eq!(max_age(None), "unlimited");
        assert_eq!(max_age(Some(Duration::ZERO)), "unlimited");
        assert_eq!(max_age(Some(Duration::from_secs(3600))), "1h");
        assert_eq!(count_limit(Some(-1)), "unlimited");
        assert_eq!(count_limit(Some(0)), "unlimited");
        assert_eq!(count_limit(Some(5000)), "5,000");
    }
}
