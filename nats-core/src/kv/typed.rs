//! [`Typed`]: a bucket of serde values, stored as JSON.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::entry::{Entry, Operation};
use super::errors::{KvError, KvErrorKind};
use super::store::Store;

/// A bucket whose values are `T`s, stored as JSON (so that other clients read them too):
/// the operations of [`Store`] taking and returning `T`.
///
/// ```no_run
/// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), Box<dyn std::error::Error>> {
/// use serde::{Deserialize, Serialize};
/// use nats_core::kv::KvConfig;
///
/// #[derive(Serialize, Deserialize)]
/// struct Profile { name: String, age: u32 }
///
/// let profiles = js.create_key_value(KvConfig::new("profiles")).await?.typed::<Profile>();
/// let revision = profiles.put("ann", &Profile { name: "Ann".into(), age: 41 }).await?;
/// let ann = profiles.get("ann").await?.expect("just written");
/// profiles.update("ann", &Profile { age: ann.age + 1, ..ann }, revision).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Typed<T> {
    store: Store,
    _values: PhantomData<fn() -> T>,
}

impl<T> Clone for Typed<T> {
    fn clone(&self) -> Self {
        Typed {
            store: self.store.clone(),
            _values: PhantomData,
        }
    }
}

/// One revision of a key of a [`Typed`] bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct TypedEntry<T> {
    /// The value.
    pub value: T,
    /// The entry it was read from (its `value` the JSON).
    pub entry: Entry,
}

impl Store {
    /// This bucket with values of type `T`, as JSON.
    pub fn typed<T: Serialize + DeserializeOwned>(self) -> Typed<T> {
        Typed {
            store: self,
            _values: PhantomData,
        }
    }
}

impl<T: Serialize + DeserializeOwned> Typed<T> {
    /// The untyped bucket underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Writes `value` under `key`; its revision.
    ///
    /// # Errors
    /// [`KvErrorKind::Encode`] when `value` does not serialize, and those of [`Store::put`].
    pub async fn put(&self, key: &str, value: &T) -> Result<u64, KvError> {
        self.store.put(key, encode(value)?).await
    }

    /// The value of `key`; `None` when it has none.
    ///
    /// # Errors
    /// [`KvErrorKind::InvalidEntry`] when the stored value is not the JSON of a `T`, and those
    /// of [`Store::get`].
    pub async fn get(&self, key: &str) -> Result<Option<T>, KvError> {
        Ok(self.entry(key).await?.map(|typed| typed.value))
    }

    /// The latest entry of `key`, its value decoded.
    ///
    /// # Errors
    /// As [`get`](Self::get).
    pub async fn entry(&self, key: &str) -> Result<Option<TypedEntry<T>>, KvError> {
        self.store.entry(key).await?.map(decode).transpose()
    }

    /// Writes `value` only if `key` has none; its revision.
    ///
    /// # Errors
    /// [`KvErrorKind::KeyExists`], and those of [`Store::create`].
    pub async fn create(&self, key: &str, value: &T) -> Result<u64, KvError> {
        self.store.create(key, encode(value)?).await
    }

    /// Writes `value` only if the latest revision of `key` is `revision`.
    ///
    /// # Errors
    /// [`KvErrorKind::WrongLastRevision`], and those of [`Store::update`].
    pub async fn update(&self, key: &str, value: &T, revision: u64) -> Result<u64, KvError> {
        self.store.update(key, encode(value)?, revision).await
    }

    /// Deletes `key`.
    ///
    /// # Errors
    /// As [`Store::delete`].
    pub async fn delete(&self, key: &str) -> Result<(), KvError> {
        self.store.delete(key).await
    }

    /// Purges `key` and its history.
    ///
    /// # Errors
    /// As [`Store::purge`].
    pub async fn purge(&self, key: &str) -> Result<(), KvError> {
        self.store.purge(key).await
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, KvError> {
    serde_json::to_vec(value).map_err(|error| KvError::with_source(KvErrorKind::Encode, error))
}

/// The value of a put entry; markers never reach here.
pub(crate) fn decode<T: DeserializeOwned>(entry: Entry) -> Result<TypedEntry<T>, KvError> {
    debug_assert_eq!(entry.operation, Operation::Put);
    let value = serde_json::from_slice(&entry.value).map_err(|error| {
        KvError::with_source(
            KvErrorKind::InvalidEntry,
            format!(
                "the value of {:?} is not the expected JSON: {error}",
                entry.key
            ),
        )
    })?;
    Ok(TypedEntry { value, entry })
}
