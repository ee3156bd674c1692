//! [`ObjectStoreConfig`]: a bucket's settings, and the stream they become (ADR-20).

use std::collections::BTreeMap;
use std::time::Duration;

use super::errors::{ObjectStoreError, ObjectStoreErrorKind};
use crate::jetstream::{Compression, DiscardPolicy, Placement, StorageType, StreamConfig};

/// The settings of an object bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectStoreConfig {
    /// The bucket's name: `A-Z a-z 0-9 _ -`.
    pub bucket: String,
    /// Free text.
    pub description: Option<String>,
    /// How long objects live; `None` forever.
    pub max_age: Option<Duration>,
    /// Most bytes the bucket holds; `None` unlimited.
    pub max_bytes: Option<i64>,
    /// File (default) or memory.
    pub storage: StorageType,
    /// Replicas in a cluster.
    pub replicas: usize,
    /// S2 compression of the chunks.
    pub compression: bool,
    /// Where in a cluster the bucket lives.
    pub placement: Option<Placement>,
    /// Metadata of the bucket.
    pub metadata: BTreeMap<String, String>,
}

impl ObjectStoreConfig {
    /// A bucket named `bucket` without limits.
    pub fn new(bucket: impl Into<String>) -> Self {
        ObjectStoreConfig {
            bucket: bucket.into(),
            description: None,
            max_age: None,
            max_bytes: None,
            storage: StorageType::File,
            replicas: 1,
            compression: false,
            placement: None,
            metadata: BTreeMap::new(),
        }
    }

    pub(crate) fn to_stream_config(&self) -> Result<StreamConfig, ObjectStoreError> {
        validate_bucket(&self.bucket)?;
        let bucket = &self.bucket;
        Ok(StreamConfig {
            description: self.description.clone(),
            subjects: vec![format!("$O.{bucket}.C.>"), format!("$O.{bucket}.M.>")],
            max_age: self.max_age,
            max_bytes: Some(self.max_bytes.unwrap_or(-1)),
            storage: self.storage,
            num_replicas: Some(self.replicas.max(1)),
            discard: DiscardPolicy::New,
            allow_rollup_hdrs: true,
            allow_direct: true,
            compression: if self.compression {
                Compression::S2
            } else {
                Compression::None
            },
            placement: self.placement.clone(),
            metadata: self.metadata.clone(),
            ..StreamConfig::new(stream_name(bucket))
        })
    }
}

/// The stream of bucket `bucket`.
pub(crate) fn stream_name(bucket: &str) -> String {
    format!("OBJ_{bucket}")
}

/// Checks a bucket name: `A-Z a-z 0-9 _ -`, not empty.
///
/// # Errors
/// [`ObjectStoreErrorKind::InvalidBucket`] naming the character at fault.
pub fn validate_bucket(bucket: &str) -> Result<(), ObjectStoreError> {
    let bad = bucket
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'));
    match (bucket.is_empty(), bad) {
        (true, _) => Err(ObjectStoreError::message(
            ObjectStoreErrorKind::InvalidBucket,
            "a bucket name cannot be empty",
        )),
        (false, Some(bad)) => Err(ObjectStoreError::message(
            ObjectStoreErrorKind::InvalidBucket,
            format!("invalid bucket name {bucket:?}: {bad:?} is not allowed (only A-Z, a-z, 0-9, '_' and '-')"),
        )),
        (false, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_is_the_stream_of_adr_20() {
        let config = ObjectStoreConfig::new("files")
            .to_stream_config()
            .expect("valid");
        assert_eq!(config.name, "OBJ_files");
        assert_eq!(config.subjects, ["$O.files.C.>", "$O.files.M.>"]);
        assert!(config.allow_rollup_hdrs && config.allow_direct);
        assert_eq!(config.discard, DiscardPolicy::New);
        assert!(ObjectStoreConfig::new("a.b").to_stream_config().is_err());
    }
}
