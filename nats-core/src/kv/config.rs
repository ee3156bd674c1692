//! [`KvConfig`]: a bucket's settings, and the stream configuration they become (ADR-8, ADR-48,
//! ADR-57).

use std::collections::BTreeMap;
use std::time::Duration;

use super::errors::{KvError, KvErrorKind};
use super::keys::validate_bucket;
use crate::jetstream::{
    Compression, DiscardPolicy, Placement, Republish, StorageType, StreamConfig, StreamSource,
    SubjectTransform,
};

/// Most revisions a key can keep.
pub const MAX_HISTORY: u8 = 64;

/// The duplicate window of a bucket without a shorter TTL.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// The settings of a bucket.
///
/// ```
/// use std::time::Duration;
/// use nats_core::kv::KvConfig;
/// let config = KvConfig {
///     history: 5,
///     max_age: Some(Duration::from_secs(3600)),
///     ..KvConfig::new("profiles")
/// };
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct KvConfig {
    /// The bucket's name: `A-Z a-z 0-9 _ -`.
    pub bucket: String,
    /// Free text.
    pub description: Option<String>,
    /// Revisions kept per key, 1 (the default) to 64.
    pub history: u8,
    /// How long a value lives (the bucket's TTL); `None` forever.
    pub max_age: Option<Duration>,
    /// Largest value accepted, in bytes; `None` unlimited.
    pub max_value_size: Option<i32>,
    /// Most bytes the bucket holds; `None` unlimited.
    pub max_bytes: Option<i64>,
    /// File (default) or memory.
    pub storage: StorageType,
    /// Replicas in a cluster (1 to 5).
    pub replicas: usize,
    /// S2 compression of the stored values.
    pub compression: bool,
    /// Where in a cluster the bucket lives.
    pub placement: Option<Placement>,
    /// Republish every write to another subject.
    pub republish: Option<Republish>,
    /// Mirror another bucket (read-only here: writes go to the origin).
    pub mirror: Option<StreamSource>,
    /// Take the entries of other buckets.
    pub sources: Vec<StreamSource>,
    /// How long the server keeps the marker it writes when a key is removed by a limit (its
    /// TTL, the bucket's, a purge); also allows per-key TTLs (`create_with_ttl`,
    /// `purge_with_ttl`). Needs nats-server 2.11 (API level 1); at least one second.
    pub limit_marker_ttl: Option<Duration>,
    /// Metadata of the bucket.
    pub metadata: BTreeMap<String, String>,
}

impl KvConfig {
    /// A bucket named `bucket` with one revision per key and no limits.
    pub fn new(bucket: impl Into<String>) -> Self {
        KvConfig {
            bucket: bucket.into(),
            description: None,
            history: 1,
            max_age: None,
            max_value_size: None,
            max_bytes: None,
            storage: StorageType::File,
            replicas: 1,
            compression: false,
            placement: None,
            republish: None,
            mirror: None,
            sources: Vec::new(),
            limit_marker_ttl: None,
            metadata: BTreeMap::new(),
        }
    }

    /// The stream that holds the bucket, as nats.go writes it.
    ///
    /// # Errors
    /// [`KvErrorKind::InvalidBucket`] and [`KvErrorKind::InvalidConfig`] naming the setting.
    pub(crate) fn to_stream_config(&self) -> Result<StreamConfig, KvError> {
        validate_bucket(&self.bucket)?;
        if self.history == 0 || self.history > MAX_HISTORY {
            return Err(KvError::message(
                KvErrorKind::InvalidConfig,
                format!("history {} is outside 1..={MAX_HISTORY}", self.history),
            ));
        }
        if let Some(ttl) = self.limit_marker_ttl {
            if ttl < Duration::from_secs(1) {
                return Err(KvError::message(
                    KvErrorKind::InvalidConfig,
                    format!("limit_marker_ttl {ttl:?} is below the server's minimum of 1 s"),
                ));
            }
        }
        let duplicate_window = match self.max_age {
            Some(ttl) if !ttl.is_zero() && ttl < DUPLICATE_WINDOW => ttl,
            _ => DUPLICATE_WINDOW,
        };
        let mut config = StreamConfig {
            description: self.description.clone(),
            max_msgs_per_subject: Some(i64::from(self.history)),
            max_bytes: Some(self.max_bytes.unwrap_or(-1)),
            max_age: self.max_age,
            max_msg_size: Some(self.max_value_size.unwrap_or(-1)),
            max_msgs: Some(-1),
            max_consumers: Some(-1),
            storage: self.storage,
            num_replicas: Some(self.replicas.max(1)),
            discard: DiscardPolicy::New,
            allow_rollup_hdrs: true,
            deny_delete: true,
            allow_direct: true,
            duplicate_window: Some(duplicate_window),
            placement: self.placement.clone(),
            republish: self.republish.clone(),
            compression: if self.compression {
                Compression::S2
            } else {
                Compression::None
            },
            metadata: self.metadata.clone(),
            allow_msg_ttl: self.limit_marker_ttl.is_some(),
            subject_delete_marker_ttl: self.limit_marker_ttl,
            ..StreamConfig::new(stream_name(&self.bucket))
        };
        match &self.mirror {
            Some(mirror) => {
                config.mirror = Some(StreamSource {
                    name: stream_name(bucket_of(&mirror.name)),
                    ..mirror.clone()
                });
                config.mirror_direct = true;
            }
            None => {
                config.subjects = vec![format!("$KV.{}.>", self.bucket)];
                config.sources = self
                    .sources
                    .iter()
                    .map(|source| sourced(source, &self.bucket))
                    .collect();
            }
        }
        Ok(config)
    }
}

/// A source of another bucket: `KV_` prefixed, and its keys moved under this bucket unless it
/// brings transforms of its own.
fn sourced(source: &StreamSource, bucket: &str) -> StreamSource {
    let origin = bucket_of(&source.name);
    let mut source = StreamSource {
        name: stream_name(origin),
        ..source.clone()
    };
    if source.subject_transforms.is_empty() && origin != bucket {
        source.subject_transforms = vec![SubjectTransform {
            src: format!("$KV.{origin}.>"),
            dest: format!("$KV.{bucket}.>"),
        }];
    }
    source
}

/// The stream of bucket `bucket`.
pub(crate) fn stream_name(bucket: &str) -> String {
    format!("KV_{bucket}")
}

/// A bucket name, with or without its stream's `KV_`.
pub(crate) fn bucket_of(name: &str) -> &str {
    name.strip_prefix("KV_").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_is_the_stream_nats_go_writes() {
        let config = KvConfig {
            history: 5,
            max_age: Some(Duration::from_secs(30)),
            ..KvConfig::new("profiles")
        }
        .to_stream_config()
        .expect("valid");
        assert_eq!(config.name, "KV_profiles");
        assert_eq!(config.subjects, ["$KV.profiles.>"]);
        assert_eq!(config.max_msgs_per_subject, Some(5));
        assert_eq!(config.discard, DiscardPolicy::New);
        assert!(config.allow_rollup_hdrs && config.deny_delete && config.allow_direct);
        // The duplicate window never outlives the values.
        assert_eq!(config.duplicate_window, Some(Duration::from_secs(30)));
        assert!(!config.allow_msg_ttl);
        let json = serde_json::to_value(&config).expect("json");
        assert_eq!(json["max_bytes"], -1);
        assert_eq!(json["max_msg_size"], -1);
    }

    #[test]
    fn bad_settings_are_named() {
        for history in [0, 65] {
            let error = KvConfig {
                history,
                ..KvConfig::new("b")
            }
            .to_stream_config()
            .expect_err("history");
            assert!(error.to_string().contains("history"), "{error}");
        }
        let error = KvConfig {
            limit_marker_ttl: Some(Duration::from_millis(10)),
            ..KvConfig::new("b")
        }
        .to_stream_config()
        .expect_err("marker ttl");
        assert!(error.to_string().contains("limit_marker_ttl"), "{error}");
        assert_eq!(
            KvConfig::new("a.b")
                .to_stream_config()
                .expect_err("name")
                .kind(),
            KvErrorKind::InvalidBucket
        );
    }

    #[test]
    fn mirrors_and_sources_name_streams() {
        let mirror = KvConfig {
            mirror: Some(StreamSource {
                name: "origin".into(),
                ..StreamSource::default()
            }),
            ..KvConfig::new("copy")
        }
        .to_stream_config()
        .expect("mirror");
        assert!(mirror.subjects.is_empty() && mirror.mirror_direct);
        assert_eq!(mirror.mirror.map(|m| m.name).as_deref(), Some("KV_origin"));
        let sourced = KvConfig {
            sources: vec![StreamSource {
                name: "KV_a".into(),
                ..StreamSource::default()
            }],
            ..KvConfig::new("all")
        }
        .to_stream_config()
        .expect("sources");
        let transform = &sourced.sources[0].subject_transforms[0];
        assert_eq!(
            (
                sourced.sources[0].name.as_str(),
                transform.src.as_str(),
                transform.dest.as_str()
            ),
            ("KV_a", "$KV.a.>", "$KV.all.>")
        );
    }
}
