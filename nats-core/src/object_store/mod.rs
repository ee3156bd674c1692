//! Object Store buckets on JetStream (feature `object_store`, on by default), as ADR-20
//! describes them: objects of any size in chunks (128 KiB by default), described by a JSON
//! metadata message whose name and digest are encoded as nats.go, nats-py and async-nats
//! encode them, so objects written here are read by them and the other way round.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use nats_core::object_store::ObjectStoreConfig;
//!
//! let client = nats_core::connect("nats://127.0.0.1:4222").await?;
//! let js = client.jetstream();
//! let files = js.create_object_store(ObjectStoreConfig::new("files")).await?;
//! files.put_bytes("hello.txt", "hello world").await?;
//! assert_eq!(&files.get_bytes("hello.txt").await?[..], b"hello world");
//! for object in files.list().await? {
//!     println!("{} {} bytes", object.name, object.size);
//! }
//! # Ok(()) }
//! ```

mod config;
mod errors;
mod get;
mod info;
mod store;
mod watch;

pub use config::{validate_bucket, ObjectStoreConfig};
pub use errors::{ObjectStoreError, ObjectStoreErrorKind};
pub use get::ObjectReader;
pub use info::{ObjectInfo, ObjectLink, ObjectMeta, ObjectOptions};
pub use store::{ObjectStore, ObjectStoreStatus, DEFAULT_CHUNK_SIZE};
pub use watch::ObjectWatch;

use config::stream_name;

use crate::jetstream::Context;

impl Context {
    /// Creates the object bucket `config` describes (an existing one with the same settings
    /// is returned as it is).
    ///
    /// # Errors
    /// [`ObjectStoreErrorKind::InvalidBucket`] before sending;
    /// [`ObjectStoreErrorKind::BucketExists`] for one of that name with other settings.
    pub async fn create_object_store(
        &self,
        config: ObjectStoreConfig,
    ) -> Result<ObjectStore, ObjectStoreError> {
        let stream = config.to_stream_config()?;
        self.create_stream(&stream)
            .await
            .map_err(ObjectStoreError::from_jetstream)?;
        Ok(ObjectStore::new(self.clone(), &config.bucket))
    }

    /// The object bucket `bucket`.
    ///
    /// # Errors
    /// [`ObjectStoreErrorKind::InvalidBucket`]; [`ObjectStoreErrorKind::BucketNotFound`].
    pub async fn object_store(&self, bucket: &str) -> Result<ObjectStore, ObjectStoreError> {
        validate_bucket(bucket)?;
        self.stream_info(&stream_name(bucket))
            .await
            .map_err(ObjectStoreError::from_jetstream)?;
        Ok(ObjectStore::new(self.clone(), bucket))
    }

    /// Deletes the object bucket `bucket` and everything in it.
    ///
    /// # Errors
    /// [`ObjectStoreErrorKind::InvalidBucket`]; [`ObjectStoreErrorKind::BucketNotFound`].
    pub async fn delete_object_store(&self, bucket: &str) -> Result<(), ObjectStoreError> {
        validate_bucket(bucket)?;
        self.delete_stream(&stream_name(bucket))
            .await
            .map_err(ObjectStoreError::from_jetstream)
    }

    /// The names of every object bucket.
    ///
    /// # Errors
    /// The JetStream errors.
    pub async fn object_store_names(&self) -> Result<Vec<String>, ObjectStoreError> {
        let names = self
            .stream_names()
            .await
            .map_err(ObjectStoreError::from_jetstream)?;
        Ok(names
            .iter()
            .filter_map(|name| name.strip_prefix("OBJ_"))
            .map(str::to_owned)
            .collect())
    }
}
