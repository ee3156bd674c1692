//! Key-Value buckets on JetStream (feature `kv`, on by default), as ADR-8 describes them and
//! nats-py, nats.go and async-nats implement them: a bucket `B` is the stream `KV_B`, a key
//! `k` its subject `$KV.B.k`, every write a revision.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nats_core::kv::KvConfig;
//!
//! let client = nats_core::connect("nats://127.0.0.1:4222").await?;
//! let js = client.jetstream();
//! let config = KvConfig { history: 5, ..KvConfig::new("profiles") };
//! let profiles = js.create_key_value(config).await?;
//!
//! profiles.put("ann", "{\"age\": 41}").await?;
//! let entry = profiles.entry("ann").await?.expect("just written");
//! profiles.update("ann", "{\"age\": 42}", entry.revision).await?;
//! profiles.delete("ann").await?;
//! assert!(profiles.get("ann").await?.is_none());
//! # Ok(()) }
//! ```
//!
//! Keys are checked before anything is sent ([`validate_key`]); "key exists" and "wrong last
//! revision" are [`KvErrorKind`]s of their own whether the server says 10071 or, on a
//! replicated bucket, 10164.

mod config;
mod entry;
mod errors;
mod keys;
mod status;
mod store;
mod typed;
mod watch;

pub use config::{KvConfig, MAX_HISTORY};
pub use entry::{Entry, Operation, KV_OPERATION, NATS_MARKER_REASON};
pub use errors::{KvError, KvErrorKind};
pub use keys::{validate_bucket, validate_filter, validate_key};
pub use status::Status;
pub use store::Store;
pub use typed::{Typed, TypedEntry};
pub use watch::{Watch, WatchEvent, WatchOptions};

use config::{bucket_of, stream_name};

use crate::jetstream::{Context, JetStreamErrorKind};

impl Context {
    /// Creates the bucket `config` describes; an existing bucket with the same settings is
    /// returned as it is.
    ///
    /// # Errors
    /// [`KvErrorKind::InvalidBucket`] and [`KvErrorKind::InvalidConfig`] before sending
    /// (limit markers need a server of API level 1, nats-server 2.11);
    /// [`KvErrorKind::BucketExists`] for a bucket of that name with other settings; the
    /// JetStream errors.
    pub async fn create_key_value(&self, config: KvConfig) -> Result<Store, KvError> {
        let stream = config.to_stream_config()?;
        if config.limit_marker_ttl.is_some() {
            self.require_api_level(1, "limit_marker_ttl").await?;
        }
        let info = self
            .create_stream(&stream)
            .await
            .map_err(KvError::from_jetstream)?;
        Ok(Store::new(self.clone(), &info))
    }

    /// Changes the settings of an existing bucket.
    ///
    /// # Errors
    /// As [`create_key_value`](Self::create_key_value); [`KvErrorKind::BucketNotFound`].
    pub async fn update_key_value(&self, config: KvConfig) -> Result<Store, KvError> {
        let stream = config.to_stream_config()?;
        if config.limit_marker_ttl.is_some() {
            self.require_api_level(1, "limit_marker_ttl").await?;
        }
        let info = self
            .update_stream(&stream)
            .await
            .map_err(KvError::from_jetstream)?;
        Ok(Store::new(self.clone(), &info))
    }

    /// The bucket `bucket`.
    ///
    /// # Errors
    /// [`KvErrorKind::InvalidBucket`] before sending; [`KvErrorKind::BucketNotFound`] when
    /// there is no such bucket (or its stream is not a bucket's).
    pub async fn key_value(&self, bucket: &str) -> Result<Store, KvError> {
        validate_bucket(bucket)?;
        let info = self
            .stream_info(&stream_name(bucket))
            .await
            .map_err(KvError::from_jetstream)?;
        let is_bucket = info.config.mirror.is_some()
            || info
                .config
                .subjects
                .iter()
                .any(|s| s == &format!("$KV.{bucket}.>"));
        if !is_bucket {
            return Err(KvError::message(
                KvErrorKind::BucketNotFound,
                format!("stream {} is not a Key-Value bucket", info.config.name),
            ));
        }
        Ok(Store::new(self.clone(), &info))
    }

    /// Deletes the bucket `bucket` and everything in it.
    ///
    /// # Errors
    /// [`KvErrorKind::InvalidBucket`]; [`KvErrorKind::BucketNotFound`].
    pub async fn delete_key_value(&self, bucket: &str) -> Result<(), KvError> {
        validate_bucket(bucket)?;
        self.delete_stream(&stream_name(bucket))
            .await
            .map_err(KvError::from_jetstream)
    }

    /// The names of every bucket.
    ///
    /// # Errors
    /// The JetStream errors.
    pub async fn key_value_names(&self) -> Result<Vec<String>, KvError> {
        let names = self.stream_names().await.map_err(KvError::from_jetstream)?;
        Ok(names
            .iter()
            .filter(|name| name.starts_with("KV_"))
            .map(|name| bucket_of(name).to_owned())
            .collect())
    }

    /// The state and settings of the bucket `bucket`.
    ///
    /// # Errors
    /// As [`key_value`](Self::key_value).
    pub async fn key_value_status(&self, bucket: &str) -> Result<Status, KvError> {
        validate_bucket(bucket)?;
        let info = self
            .stream_info(&stream_name(bucket))
            .await
            .map_err(KvError::from_jetstream)?;
        Ok(Status::new(bucket, info))
    }

    async fn require_api_level(&self, level: u32, setting: &str) -> Result<(), KvError> {
        let account = self.account_info().await.map_err(|error| {
            if error.kind() == JetStreamErrorKind::NotEnabled {
                KvError::with_source(KvErrorKind::JetStream, error)
            } else {
                KvError::from_jetstream(error)
            }
        })?;
        if account.api_level() < level {
            return Err(KvError::message(
                KvErrorKind::InvalidConfig,
                format!(
                    "{setting} needs a server of JetStream API level {level} (nats-server 2.11), \
                     this one has {}",
                    account.api_level()
                ),
            ));
        }
        Ok(())
    }
}

impl Store {
    /// The state and settings of the bucket.
    ///
    /// # Errors
    /// [`KvErrorKind::BucketNotFound`] when it was deleted; the JetStream errors.
    pub async fn status(&self) -> Result<Status, KvError> {
        self.context().key_value_status(self.bucket()).await
    }
}
