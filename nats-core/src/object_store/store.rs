//! [`ObjectStore`]: one bucket of objects: put, info, delete, links, metadata, seal.

use std::collections::VecDeque;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::config::stream_name;
use super::errors::{ObjectStoreError, ObjectStoreErrorKind};
use super::info::{digest_text, encoded_name, ObjectInfo, ObjectLink, ObjectMeta, ObjectOptions};
use crate::header::HeaderMap;
use crate::jetstream::{
    Context, JetStreamErrorKind, MessageSelector, PubAckFuture, PublishOptions, PurgeOptions,
    StreamInfo,
};

/// The chunk size of objects put without one: 128 KiB.
pub const DEFAULT_CHUNK_SIZE: usize = 128 * 1024;

/// Chunks published but not yet acknowledged during a put: with the chunk size, what bounds
/// a put's memory whatever the object's size.
const CHUNKS_IN_FLIGHT: usize = 16;

const ROLLUP: &str = "Nats-Rollup";

/// An object bucket. From [`Context::create_object_store`] or [`Context::object_store`];
/// cheap to clone.
///
/// ```no_run
/// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
/// use nats_core::object_store::ObjectStoreConfig;
/// use tokio::io::AsyncReadExt;
///
/// let files = js.create_object_store(ObjectStoreConfig::new("files")).await?;
/// let mut source = tokio::fs::File::open("photo.jpg").await?;
/// let info = files.put("photo.jpg", &mut source).await?;
/// println!("{} bytes in {} chunks, {}", info.size, info.chunks, info.digest);
///
/// let mut reader = files.get("photo.jpg").await?; // verifies the digest at the end
/// let mut copy = Vec::new();
/// reader.read_to_end(&mut copy).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ObjectStore {
    pub(crate) js: Context,
    pub(crate) bucket: String,
    pub(crate) stream: String,
}

/// A bucket's state and settings.
#[derive(Debug, Clone)]
pub struct ObjectStoreStatus {
    /// The bucket's name.
    pub bucket: String,
    /// Free text.
    pub description: Option<String>,
    /// Whether it is sealed.
    pub sealed: bool,
    /// Bytes stored: chunks and metadata.
    pub size: u64,
    /// The stream underneath, for everything else.
    pub info: StreamInfo,
}

impl ObjectStore {
    pub(crate) fn new(js: Context, bucket: &str) -> ObjectStore {
        ObjectStore {
            js,
            bucket: bucket.to_owned(),
            stream: stream_name(bucket),
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    fn meta_subject(&self, name: &str) -> String {
        format!("$O.{}.M.{}", self.bucket, encoded_name(name))
    }

    pub(crate) fn chunk_subject(&self, nuid: &str) -> String {
        format!("$O.{}.C.{nuid}", self.bucket)
    }

    /// Stores what `data` holds under `meta`'s name, in chunks, replacing the object of that
    /// name (whose chunks are purged once the new ones are stored).
    ///
    /// Memory stays bounded by the chunk size times the chunks in flight (16), whatever the
    /// object's size.
    ///
    /// # Errors
    /// [`ObjectStoreErrorKind::InvalidName`] before sending; [`ObjectStoreErrorKind::Read`]
    /// when `data` fails; [`ObjectStoreErrorKind::Sealed`]; the write's errors. On an error,
    /// the chunks written so far are purged and the previous object stays.
    pub async fn put<R: AsyncRead + Unpin + ?Sized>(
        &self,
        meta: impl Into<ObjectMeta>,
        data: &mut R,
    ) -> Result<ObjectInfo, ObjectStoreError> {
        let meta = meta.into();
        check_name(&meta.name)?;
        let previous = self.stored_info(&meta.name).await?;
        let nuid = nuid::next().to_string();
        let chunk_subject = self.chunk_subject(&nuid);
        let written = self
            .write_chunks(&chunk_subject, meta.chunk_size, data)
            .await;
        let (size, chunks, digest) = match written {
            Ok(written) => written,
            Err(error) => {
                let _ = self.purge_subject(&chunk_subject).await;
                return Err(error);
            }
        };
        let info = ObjectInfo {
            name: meta.name,
            description: meta.description,
            headers: meta.headers,
            metadata: meta.metadata,
            options: ObjectOptions {
                link: None,
                max_chunk_size: Some(meta.chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE)),
            },
            bucket: self.bucket.clone(),
            nuid,
            size,
            modified: OffsetDateTime::now_utc(),
            chunks,
            digest,
            deleted: false,
        };
        if let Err(error) = self.write_meta(&info).await {
            let _ = self.purge_subject(&chunk_subject).await;
            return Err(error);
        }
        if let Some(previous) = previous.filter(|p| p.nuid != info.nuid && !p.is_link()) {
            let _ = self
                .purge_subject(&self.chunk_subject(&previous.nuid))
                .await;
        }
        Ok(info)
    }

    /// [`put`](Self::put) of bytes already in memory.
    ///
    /// # Errors
    /// As [`put`](Self::put).
    pub async fn put_bytes(
        &self,
        meta: impl Into<ObjectMeta>,
        data: impl Into<Bytes>,
    ) -> Result<ObjectInfo, ObjectStoreError> {
        let data = data.into();
        self.put(meta, &mut &data[..]).await
    }

    /// Publishes the chunks of `data` to `subject`: its size, chunk count and digest.
    async fn write_chunks<R: AsyncRead + Unpin + ?Sized>(
        &self,
        subject: &str,
        chunk_size: Option<usize>,
        data: &mut R,
    ) -> Result<(u64, u64, String), ObjectStoreError> {
        let chunk_size = chunk_size.unwrap_or(DEFAULT_CHUNK_SIZE).max(1);
        let mut hasher = Sha256::new();
        let (mut size, mut chunks) = (0u64, 0u64);
        let mut in_flight: VecDeque<PubAckFuture> = VecDeque::with_capacity(CHUNKS_IN_FLIGHT);
        let mut buffer = vec![0; chunk_size];
        loop {
            let filled = fill(data, &mut buffer).await?;
            if filled == 0 {
                break;
            }
            hasher.update(&buffer[..filled]);
            size += filled as u64;
            chunks += 1;
            let chunk = Bytes::copy_from_slice(&buffer[..filled]);
            let ack = self
                .js
                .publish_async(subject, chunk)
                .await
                .map_err(ObjectStoreError::from_publish)?;
            in_flight.push_back(ack);
            if in_flight.len() >= CHUNKS_IN_FLIGHT {
                if let Some(oldest) = in_flight.pop_front() {
                    oldest.await.map_err(ObjectStoreError::from_publish)?;
                }
            }
            if filled < chunk_size {
                break;
            }
        }
        for ack in in_flight {
            ack.await.map_err(ObjectStoreError::from_publish)?;
        }
        Ok((size, chunks, digest_text(&hasher.finalize())))
    }

    /// Publishes `info` to its meta subject, replacing the previous one (`Nats-Rollup: sub`).
    async fn write_meta(&self, info: &ObjectInfo) -> Result<(), ObjectStoreError> {
        let json = serde_json::to_vec(info).map_err(|error| {
            ObjectStoreError::with_source(ObjectStoreErrorKind::InvalidObject, error)
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(ROLLUP, "sub");
        self.js
            .publish_with(
                self.meta_subject(&info.name),
                json,
                PublishOptions::new().headers(headers),
            )
            .await
            .map(|_| ())
            .map_err(ObjectStoreError::from_publish)
    }

    async fn purge_subject(&self, subject: &str) -> Result<(), ObjectStoreError> {
        self.js
            .purge_stream(&self.stream, PurgeOptions::new().filter(subject))
            .await
            .map(|_| ())
            .map_err(ObjectStoreError::from_jetstream)
    }

    /// The description of the object `name`.
    ///
    /// # Errors
    /// [`ObjectStoreErrorKind::NotFound`] when there is none or it was deleted.
    pub async fn info(&self, name: &str) -> Result<ObjectInfo, ObjectStoreError> {
        check_name(name)?;
        self.stored_info(name)
            .await?
            .filter(|info| !info.deleted)
            .ok_or_else(|| not_found(name))
    }

    /// The latest metadata of `name`, deleted or not; `None` when there is none.
    pub(crate) async fn stored_info(
        &self,
        name: &str,
    ) -> Result<Option<ObjectInfo>, ObjectStoreError> {
        match self
            .js
            .direct_get_last(&self.stream, &self.meta_subject(name))
            .await
        {
            Ok(message) => parse_info(&message.payload, message.time).map(Some),
            Err(error) if error.kind() == JetStreamErrorKind::MessageNotFound => Ok(None),
            Err(error) => Err(ObjectStoreError::from_jetstream(error)),
        }
    }

    /// Every object of the bucket, deleted ones left out.
    ///
    /// # Errors
    /// The JetStream errors; [`ObjectStoreErrorKind::InvalidObject`] for metadata that is not
    /// an object's.
    pub async fn list(&self) -> Result<Vec<ObjectInfo>, ObjectStoreError> {
        let filter = format!("$O.{}.M.>", self.bucket);
        let mut objects = Vec::new();
        let mut from = 0;
        loop {
            let message = match self
                .js
                .direct_get(
                    &self.stream,
                    MessageSelector::next_by_subject(&filter, from),
                )
                .await
            {
                Ok(message) => message,
                Err(error) if error.kind() == JetStreamErrorKind::MessageNotFound => break,
                Err(error) => return Err(ObjectStoreError::from_jetstream(error)),
            };
            from = message.sequence + 1;
            let info = parse_info(&message.payload, message.time)?;
            if !info.deleted {
                objects.push(info);
            }
        }
        Ok(objects)
    }

    /// Deletes the object `name`: its metadata says deleted, its chunks are purged.
    ///
    /// # Errors
    /// [`ObjectStoreErrorKind::NotFound`]; the write's errors.
    pub async fn delete(&self, name: &str) -> Result<(), ObjectStoreError> {
        let info = self.info(name).await?;
        let deleted = ObjectInfo {
            size: 0,
            chunks: 0,
            digest: String::new(),
            deleted: true,
            modified: OffsetDateTime::now_utc(),
            ..info.clone()
        };
        self.write_meta(&deleted).await?;
        if !info.is_link() {
            self.purge_subject(&self.chunk_subject(&info.nuid)).await?;
        }
        Ok(())
    }

    /// Changes the name, description, headers and metadata of the object `name` (its
    /// contents stay). A new name must not be taken.
    ///
    /// # Errors
    /// [`ObjectStoreErrorKind::NotFound`]; [`ObjectStoreErrorKind::InvalidName`] for an empty
    /// or taken new name.
    pub async fn update_meta(
        &self,
        name: &str,
        meta: impl Into<ObjectMeta>,
    ) -> Result<ObjectInfo, ObjectStoreError> {
        let meta = meta.into();
        check_name(&meta.name)?;
        let info = self.info(name).await?;
        let renamed = meta.name != name;
        if renamed
            && self
                .stored_info(&meta.name)
                .await?
                .is_some_and(|i| !i.deleted)
        {
            return Err(ObjectStoreError::message(
                ObjectStoreErrorKind::InvalidName,
                format!("an object named {:?} exists already", meta.name),
            ));
        }
        let updated = ObjectInfo {
            name: meta.name,
            description: meta.description,
            headers: meta.headers,
            metadata: meta.metadata,
            modified: OffsetDateTime::now_utc(),
            ..info
        };
        self.write_meta(&updated).await?;
        if renamed {
            self.purge_subject(&self.meta_subject(name)).await?;
        }
        Ok(updated)
    }

    /// Adds `name`, a link to the object `target` (of this bucket or another).
    ///
    /// # Errors
    /// [`ObjectStoreErrorKind::InvalidLink`] for a target that is a link or deleted, or a
    /// name held by an object that is not a link.
    pub async fn add_link(
        &self,
        name: &str,
        target: &ObjectInfo,
    ) -> Result<ObjectInfo, ObjectStoreError> {
        if target.is_link() || target.deleted {
            return Err(ObjectStoreError::message(
                ObjectStoreErrorKind::InvalidLink,
                format!(
                    "{:?} is a link or deleted: links point at objects",
                    target.name
                ),
            ));
        }
        let link = ObjectLink {
            bucket: target.bucket.clone(),
            name: Some(target.name.clone()),
        };
        self.write_link(name, link).await
    }

    /// Adds `name`, a link to the whole bucket `bucket`.
    ///
    /// # Errors
    /// As [`add_link`](Self::add_link).
    pub async fn add_bucket_link(
        &self,
        name: &str,
        bucket: &ObjectStore,
    ) -> Result<ObjectInfo, ObjectStoreError> {
        let link = ObjectLink {
            bucket: bucket.bucket.clone(),
            name: None,
        };
        self.write_link(name, link).await
    }

    async fn write_link(
        &self,
        name: &str,
        link: ObjectLink,
    ) -> Result<ObjectInfo, ObjectStoreError> {
        check_name(name)?;
        if let Some(existing) = self.stored_info(name).await? {
            if !existing.deleted && !existing.is_link() {
                return Err(ObjectStoreError::message(
                    ObjectStoreErrorKind::InvalidLink,
                    format!("an object named {name:?} exists and is not a link"),
                ));
            }
        }
        let info = ObjectInfo {
            name: name.to_owned(),
            description: None,
            headers: Default::default(),
            metadata: Default::default(),
            options: ObjectOptions {
                link: Some(link),
                max_chunk_size: None,
            },
            bucket: self.bucket.clone(),
            nuid: nuid::next().to_string(),
            size: 0,
            modified: OffsetDateTime::now_utc(),
            chunks: 0,
            digest: String::new(),
            deleted: false,
        };
        self.write_meta(&info).await?;
        Ok(info)
    }

    /// Seals the bucket: nothing can be written or deleted any more.
    ///
    /// # Errors
    /// The JetStream errors.
    pub async fn seal(&self) -> Result<(), ObjectStoreError> {
        let info = self
            .js
            .stream_info(&self.stream)
            .await
            .map_err(ObjectStoreError::from_jetstream)?;
        let mut config = info.config;
        config.sealed = true;
        self.js
            .update_stream(&config)
            .await
            .map(|_| ())
            .map_err(ObjectStoreError::from_jetstream)
    }

    /// The bucket's state and settings.
    ///
    /// # Errors
    /// The JetStream errors.
    pub async fn status(&self) -> Result<ObjectStoreStatus, ObjectStoreError> {
        let info = self
            .js
            .stream_info(&self.stream)
            .await
            .map_err(ObjectStoreError::from_jetstream)?;
        Ok(ObjectStoreStatus {
            bucket: self.bucket.clone(),
            description: info.config.description.clone(),
            sealed: info.config.sealed,
            size: info.state.bytes,
            info,
        })
    }
}

/// Reads into `buffer` until it is full or `data` ends: how many bytes.
async fn fill<R: AsyncRead + Unpin + ?Sized>(
    data: &mut R,
    buffer: &mut [u8],
) -> Result<usize, ObjectStoreError> {
    let mut filled = 0;
    while filled < buffer.len() {
        let n = data
            .read(&mut buffer[filled..])
            .await
            .map_err(|error| ObjectStoreError::with_source(ObjectStoreErrorKind::Read, error))?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

pub(crate) fn check_name(name: &str) -> Result<(), ObjectStoreError> {
    if name.is_empty() {
        return Err(ObjectStoreError::message(
            ObjectStoreErrorKind::InvalidName,
            "an object name cannot be empty",
        ));
    }
    Ok(())
}

pub(crate) fn not_found(name: &str) -> ObjectStoreError {
    ObjectStoreError::message(
        ObjectStoreErrorKind::NotFound,
        format!("no object named {name:?}"),
    )
}

/// An object's metadata as stored, its time that of the message.
fn parse_info(json: &[u8], time: OffsetDateTime) -> Result<ObjectInfo, ObjectStoreError> {
    let mut info: ObjectInfo = serde_json::from_slice(json).map_err(|error| {
        ObjectStoreError::with_source(ObjectStoreErrorKind::InvalidObject, error)
    })?;
    info.modified = time;
    Ok(info)
}
