//! [`Store`]: one bucket, and what can be done with its keys.

use std::time::Duration;

use bytes::Bytes;

use super::config::{bucket_of, stream_name};
use super::entry::{Entry, Operation, KV_OPERATION};
use super::errors::{KvError, KvErrorKind};
use super::keys::validate_key;
use crate::header::HeaderMap;
use crate::jetstream::{
    Context, JetStreamErrorKind, MessageSelector, MessageTtl, PublishOptions, StreamInfo,
    StreamMessage,
};

const ROLLUP: &str = "Nats-Rollup";

/// A Key-Value bucket: put, get, create, update, delete and purge its keys.
///
/// From [`Context::create_key_value`] or [`Context::key_value`]; cheap to clone.
///
/// ```no_run
/// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
/// use nats_core::kv::{KvConfig, KvErrorKind};
/// let profiles = js.create_key_value(KvConfig::new("profiles")).await?;
/// let revision = profiles.put("ann", "{\"age\": 41}").await?;
/// // Compare-and-set on the revision.
/// profiles.update("ann", "{\"age\": 42}", revision).await?;
/// match profiles.create("ann", "{}").await {
///     Err(error) if error.kind() == KvErrorKind::KeyExists => println!("ann is taken"),
///     other => println!("{other:?}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Store {
    js: Context,
    bucket: String,
    stream: String,
    /// The subjects of the keys in the stream: `$KV.<bucket>.` (a mirror's origin for an
    /// external mirror).
    read_prefix: String,
    /// Where writes go: `$KV.<bucket>.`, under the API prefix when it is not the default, or
    /// the origin of a mirror.
    write_prefix: String,
    direct: bool,
    validate_keys: bool,
}

impl Store {
    /// The handle of the bucket whose stream is `info`.
    pub(crate) fn new(js: Context, info: &StreamInfo) -> Store {
        let bucket = bucket_of(&info.config.name).to_owned();
        let api_prefix = js.api_prefix().to_owned();
        let prefixed = |bucket: &str| {
            if api_prefix == crate::jetstream::DEFAULT_API_PREFIX {
                format!("$KV.{bucket}.")
            } else {
                format!("{api_prefix}.$KV.{bucket}.")
            }
        };
        let (read_prefix, write_prefix) = match &info.config.mirror {
            Some(mirror) => {
                let origin = bucket_of(&mirror.name);
                match mirror.external.as_ref().filter(|e| !e.api.is_empty()) {
                    Some(external) => (
                        format!("$KV.{origin}."),
                        format!("{}.$KV.{origin}.", external.api.trim_end_matches('.')),
                    ),
                    None => (format!("$KV.{bucket}."), prefixed(origin)),
                }
            }
            None => (format!("$KV.{bucket}."), prefixed(&bucket)),
        };
        Store {
            stream: stream_name(&bucket),
            bucket,
            read_prefix,
            write_prefix,
            direct: info.config.allow_direct || info.config.mirror_direct,
            validate_keys: true,
            js,
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The JetStream context the bucket is reached through.
    pub fn context(&self) -> &Context {
        &self.js
    }

    /// The same bucket with key validation on (the default) or off, for keys written by
    /// older clients that did not check them (nats-py's `validate_keys=False`). Keys must
    /// still be valid subjects.
    pub fn validate_keys(mut self, validate: bool) -> Self {
        self.validate_keys = validate;
        self
    }

    fn check_key(&self, key: &str) -> Result<(), KvError> {
        if self.validate_keys {
            return validate_key(key);
        }
        if key.is_empty() || key.contains(|c: char| c.is_whitespace() || c == '*' || c == '>') {
            return Err(KvError::message(
                KvErrorKind::InvalidKey,
                format!("invalid key {key:?}: not a subject token sequence"),
            ));
        }
        Ok(())
    }

    /// Writes `value` under `key`; its revision.
    ///
    /// # Errors
    /// [`KvErrorKind::InvalidKey`] before sending, and the write's errors
    /// ([`KvErrorKind::TimedOut`]: the value may be stored).
    pub async fn put(&self, key: &str, value: impl Into<Bytes>) -> Result<u64, KvError> {
        self.write(
            key,
            value.into(),
            PublishOptions::new(),
            KvErrorKind::WrongLastRevision,
        )
        .await
    }

    /// The value of `key`; `None` when it has none (never written, deleted or purged).
    ///
    /// # Errors
    /// [`KvErrorKind::InvalidKey`], [`KvErrorKind::BucketNotFound`], and the read's errors.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, KvError> {
        Ok(self.entry(key).await?.map(|entry| entry.value))
    }

    /// The latest entry of `key` (value, revision, creation time); `None` when it has no
    /// value (never written, deleted or purged).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn entry(&self, key: &str) -> Result<Option<Entry>, KvError> {
        Ok(self
            .last_entry(key)
            .await?
            .filter(|entry| entry.operation == Operation::Put))
    }

    /// The entry of `key` at `revision`; `None` when that revision is not one of this key's
    /// values (another key's, a delete or purge, or gone from the history).
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn entry_at(&self, key: &str, revision: u64) -> Result<Option<Entry>, KvError> {
        self.check_key(key)?;
        let stored = self.read(MessageSelector::sequence(revision), None).await?;
        let Some(stored) = stored else {
            return Ok(None);
        };
        if stored.subject.as_str() != self.read_subject(key) {
            return Ok(None);
        }
        let entry = Entry::from_stored(&self.bucket, &self.read_prefix, stored)?;
        Ok(Some(entry).filter(|e| e.operation == Operation::Put))
    }

    /// The latest entry of `key`, delete and purge markers included.
    pub(crate) async fn last_entry(&self, key: &str) -> Result<Option<Entry>, KvError> {
        self.check_key(key)?;
        let subject = self.read_subject(key);
        let stored = self
            .read(
                MessageSelector::last_by_subject(subject.clone()),
                Some(&subject),
            )
            .await?;
        stored
            .map(|stored| Entry::from_stored(&self.bucket, &self.read_prefix, stored))
            .transpose()
    }

    /// A stored message: by direct get when the bucket allows it, else through the leader.
    pub(crate) async fn read(
        &self,
        selector: MessageSelector,
        last_of: Option<&str>,
    ) -> Result<Option<StreamMessage>, KvError> {
        let result = match (self.direct, last_of) {
            (true, Some(subject)) => self.js.direct_get_last(&self.stream, subject).await,
            (true, None) => self.js.direct_get(&self.stream, selector).await,
            (false, _) => self.js.get_message(&self.stream, selector).await,
        };
        match result {
            Ok(message) => Ok(Some(message)),
            Err(error) if error.kind() == JetStreamErrorKind::MessageNotFound => Ok(None),
            Err(error) if error.kind() == JetStreamErrorKind::DirectGetUnavailable => {
                Err(KvError::with_source(KvErrorKind::BucketNotFound, error))
            }
            Err(error) => Err(KvError::from_jetstream(error)),
        }
    }

    /// Writes `value` under `key` only if the key has no value: never written, or its latest
    /// entry a delete or purge. Its revision.
    ///
    /// # Errors
    /// [`KvErrorKind::KeyExists`] when it has one (10071, or 10164 on a replicated bucket),
    /// and the write's errors.
    pub async fn create(&self, key: &str, value: impl Into<Bytes>) -> Result<u64, KvError> {
        self.create_with(key, value.into(), None).await
    }

    /// [`create`](Self::create) with a TTL of the key's own: the server removes it after
    /// `ttl` (a bucket with `limit_marker_ttl`, nats-server 2.11+).
    ///
    /// # Errors
    /// As [`create`](Self::create); [`KvErrorKind::NotAllowed`] on a bucket without limit
    /// markers.
    pub async fn create_with_ttl(
        &self,
        key: &str,
        value: impl Into<Bytes>,
        ttl: Duration,
    ) -> Result<u64, KvError> {
        self.create_with(key, value.into(), Some(ttl)).await
    }

    async fn create_with(
        &self,
        key: &str,
        value: Bytes,
        ttl: Option<Duration>,
    ) -> Result<u64, KvError> {
        let options = |revision: u64| {
            let options = PublishOptions::new().expected_last_subject_sequence(revision);
            match ttl {
                Some(ttl) => options.ttl(MessageTtl::After(ttl)),
                None => options,
            }
        };
        let first = self
            .write(key, value.clone(), options(0), KvErrorKind::KeyExists)
            .await;
        match &first {
            Err(error) if error.kind() == KvErrorKind::KeyExists => {}
            _ => return first,
        }
        // The key has entries: a create is still allowed over a delete or purge marker,
        // expecting exactly that marker (another writer's value in between wins).
        match self.last_entry(key).await? {
            Some(last) if last.operation != Operation::Put => {
                self.write(key, value, options(last.revision), KvErrorKind::KeyExists)
                    .await
            }
            _ => first,
        }
    }

    /// Writes `value` under `key` only if the key's latest revision is `revision`
    /// (compare-and-set); the new revision.
    ///
    /// # Errors
    /// [`KvErrorKind::WrongLastRevision`] when it is not (10071, or 10164 on a replicated
    /// bucket), and the write's errors.
    pub async fn update(
        &self,
        key: &str,
        value: impl Into<Bytes>,
        revision: u64,
    ) -> Result<u64, KvError> {
        let options = PublishOptions::new().expected_last_subject_sequence(revision);
        self.write(key, value.into(), options, KvErrorKind::WrongLastRevision)
            .await
    }

    /// Deletes `key`: a delete marker, the history kept.
    ///
    /// # Errors
    /// The write's errors.
    pub async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.mark(key, "DEL", None, None).await
    }

    /// Deletes `key` only if its latest revision is `revision`.
    ///
    /// # Errors
    /// [`KvErrorKind::WrongLastRevision`] when it is not, and the write's errors.
    pub async fn delete_expecting(&self, key: &str, revision: u64) -> Result<(), KvError> {
        self.mark(key, "DEL", Some(revision), None).await
    }

    /// Purges `key`: a purge marker that replaces its whole history.
    ///
    /// # Errors
    /// The write's errors.
    pub async fn purge(&self, key: &str) -> Result<(), KvError> {
        self.mark(key, "PURGE", None, None).await
    }

    /// Purges `key` only if its latest revision is `revision`.
    ///
    /// # Errors
    /// [`KvErrorKind::WrongLastRevision`] when it is not, and the write's errors.
    pub async fn purge_expecting(&self, key: &str, revision: u64) -> Result<(), KvError> {
        self.mark(key, "PURGE", Some(revision), None).await
    }

    /// Purges `key` with a marker that the server itself removes after `ttl` (a bucket with
    /// `limit_marker_ttl`).
    ///
    /// # Errors
    /// The write's errors; [`KvErrorKind::NotAllowed`] on a bucket without limit markers.
    pub async fn purge_with_ttl(&self, key: &str, ttl: Duration) -> Result<(), KvError> {
        self.mark(key, "PURGE", None, Some(ttl)).await
    }

    async fn mark(
        &self,
        key: &str,
        operation: &str,
        revision: Option<u64>,
        ttl: Option<Duration>,
    ) -> Result<(), KvError> {
        let mut headers = HeaderMap::new();
        headers.insert(KV_OPERATION, operation);
        if operation == "PURGE" {
            headers.insert(ROLLUP, "sub");
        }
        let mut options = PublishOptions::new().headers(headers);
        if let Some(revision) = revision {
            options = options.expected_last_subject_sequence(revision);
        }
        if let Some(ttl) = ttl {
            options = options.ttl(MessageTtl::After(ttl));
        }
        self.write(key, Bytes::new(), options, KvErrorKind::WrongLastRevision)
            .await
            .map(|_| ())
    }

    async fn write(
        &self,
        key: &str,
        value: Bytes,
        options: PublishOptions,
        wrong_revision: KvErrorKind,
    ) -> Result<u64, KvError> {
        self.check_key(key)?;
        let subject = format!("{}{key}", self.write_prefix);
        self.js
            .publish_with(subject, value, options)
            .await
            .map(|ack| ack.sequence)
            .map_err(|error| KvError::from_publish(error, wrong_revision))
    }

    fn read_subject(&self, key: &str) -> String {
        format!("{}{key}", self.read_prefix)
    }

    /// The bucket's stream.
    pub(crate) fn stream(&self) -> &str {
        &self.stream
    }

    /// The subject prefix of the keys in the stream.
    pub(crate) fn read_prefix(&self) -> &str {
        &self.read_prefix
    }
}
