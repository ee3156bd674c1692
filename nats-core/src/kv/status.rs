//! [`Status`]: what a bucket holds and how it is configured.

use std::time::Duration;

use crate::jetstream::{StorageType, StreamInfo};

/// A bucket's state and settings, from its stream's info.
#[derive(Debug, Clone)]
pub struct Status {
    /// The bucket's name.
    pub bucket: String,
    /// Entries stored: values and markers, every revision kept.
    pub values: u64,
    /// Revisions kept per key.
    pub history: i64,
    /// How long values live; `None` forever.
    pub ttl: Option<Duration>,
    /// Bytes stored.
    pub bytes: u64,
    /// File or memory.
    pub storage: StorageType,
    /// Replicas.
    pub replicas: usize,
    /// Whether values are compressed.
    pub compressed: bool,
    /// How long limit markers live, when the bucket has them.
    pub limit_marker_ttl: Option<Duration>,
    /// Always `"JetStream"`.
    pub backing_store: &'static str,
    /// The stream underneath, for everything else.
    pub info: StreamInfo,
}

impl Status {
    pub(crate) fn new(bucket: &str, info: StreamInfo) -> Status {
        let config = &info.config;
        Status {
            bucket: bucket.to_owned(),
            values: info.state.messages,
            history: config.max_msgs_per_subject.unwrap_or(1),
            ttl: config.max_age.filter(|ttl| !ttl.is_zero()),
            bytes: info.state.bytes,
            storage: config.storage,
            replicas: config.num_replicas.unwrap_or(1),
            compressed: config.compression != crate::jetstream::Compression::None,
            limit_marker_ttl: config.subject_delete_marker_ttl,
            backing_store: "JetStream",
            info,
        }
    }
}
