//! JetStream publishing and Key-Value reads and writes for the blocking client.

use bytes::Bytes;
use tokio::runtime::Handle;

use super::runtime;
use crate::jetstream::{Context, PubAck, PublishError, PublishOptions};
use crate::kv::{Entry, KvError, Store};

/// A JetStream context of the [blocking client](super::Client).
#[derive(Debug, Clone)]
pub struct JetStream {
    inner: Context,
    handle: &'static Handle,
}

impl JetStream {
    pub(super) fn new(inner: Context, handle: &'static Handle) -> Self {
        JetStream { inner, handle }
    }

    /// The async context underneath, for everything else (with
    /// [`Client::block_on`](super::Client::block_on)).
    pub fn as_async(&self) -> &Context {
        &self.inner
    }

    /// Publishes `payload` to `subject` and waits for the stream's acknowledgement.
    ///
    /// # Errors
    /// As [`Context::publish`].
    pub fn publish(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
    ) -> Result<PubAck, PublishError> {
        runtime::block_on(self.handle, self.inner.publish(subject, payload))
    }

    /// [`publish`](Self::publish) with a message id, expectations or headers.
    ///
    /// # Errors
    /// As [`Context::publish_with`].
    pub fn publish_with(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
        options: PublishOptions,
    ) -> Result<PubAck, PublishError> {
        runtime::block_on(
            self.handle,
            self.inner.publish_with(subject, payload, options),
        )
    }

    /// The Key-Value bucket `bucket`.
    ///
    /// # Errors
    /// As [`Context::key_value`].
    pub fn key_value(&self, bucket: &str) -> Result<KeyValue, KvError> {
        let store = runtime::block_on(self.handle, self.inner.key_value(bucket))?;
        Ok(KeyValue {
            inner: store,
            handle: self.handle,
        })
    }
}

/// A Key-Value bucket of the [blocking client](super::Client).
#[derive(Debug, Clone)]
pub struct KeyValue {
    inner: Store,
    handle: &'static Handle,
}

impl KeyValue {
    /// The async bucket underneath.
    pub fn as_async(&self) -> &Store {
        &self.inner
    }

    /// The value of `key`; `None` when it has none.
    ///
    /// # Errors
    /// As [`Store::get`].
    pub fn get(&self, key: &str) -> Result<Option<Bytes>, KvError> {
        runtime::block_on(self.handle, self.inner.get(key))
    }

    /// The latest entry of `key`.
    ///
    /// # Errors
    /// As [`Store::entry`].
    pub fn entry(&self, key: &str) -> Result<Option<Entry>, KvError> {
        runtime::block_on(self.handle, self.inner.entry(key))
    }

    /// Writes `value` under `key`; its revision.
    ///
    /// # Errors
    /// As [`Store::put`].
    pub fn put(&self, key: &str, value: impl Into<Bytes>) -> Result<u64, KvError> {
        runtime::block_on(self.handle, self.inner.put(key, value))
    }

    /// Writes `value` only if the latest revision of `key` is `revision`.
    ///
    /// # Errors
    /// As [`Store::update`].
    pub fn update(
        &self,
        key: &str,
        value: impl Into<Bytes>,
        revision: u64,
    ) -> Result<u64, KvError> {
        runtime::block_on(self.handle, self.inner.update(key, value, revision))
    }

    /// Deletes `key`.
    ///
    /// # Errors
    /// As [`Store::delete`].
    pub fn delete(&self, key: &str) -> Result<(), KvError> {
        runtime::block_on(self.handle, self.inner.delete(key))
    }
}
