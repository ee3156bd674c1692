//! Watching a bucket's objects: [`ObjectWatch`], a stream of every change of their metadata
//! (puts, metadata updates, deletions), after the current objects if asked.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_core::Stream;

use super::errors::{ObjectStoreError, ObjectStoreErrorKind};
use super::info::ObjectInfo;
use super::store::ObjectStore;
use crate::jetstream::{DeliverPolicy, OrderedConfig, OrderedMessages};

/// The metadata changes of a bucket's objects: a [`Stream`] of [`ObjectInfo`]s (deleted
/// objects have `deleted` set). It reads through an ordered consumer, so it survives server
/// restarts; dropping it deletes its consumer.
pub struct ObjectWatch {
    messages: OrderedMessages,
}

impl std::fmt::Debug for ObjectWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectWatch")
            .field("consumer", &self.messages.consumer_name())
            .finish()
    }
}

impl ObjectWatch {
    /// The next change; `None` once the watch ended (after the error that ended it).
    pub async fn next(&mut self) -> Option<Result<ObjectInfo, ObjectStoreError>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl Stream for ObjectWatch {
    type Item = Result<ObjectInfo, ObjectStoreError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let message = match Pin::new(&mut self.messages).poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Err(error))) => {
                let error = ObjectStoreError::with_source(ObjectStoreErrorKind::JetStream, error);
                return Poll::Ready(Some(Err(error)));
            }
            Poll::Ready(Some(Ok(message))) => message,
        };
        let time = message.info().map(|info| info.timestamp);
        let parsed = serde_json::from_slice::<ObjectInfo>(&message.payload);
        Poll::Ready(Some(match (parsed, time) {
            (Ok(mut info), Ok(time)) => {
                info.modified = time;
                Ok(info)
            }
            (Err(error), _) => Err(ObjectStoreError::with_source(
                ObjectStoreErrorKind::InvalidObject,
                error,
            )),
            (_, Err(error)) => Err(ObjectStoreError::with_source(
                ObjectStoreErrorKind::InvalidObject,
                error,
            )),
        }))
    }
}

impl ObjectStore {
    /// Watches the bucket: with `include_current`, the current metadata of every object (the
    /// deleted ones too) first, then every change.
    ///
    /// # Errors
    /// The JetStream errors.
    pub async fn watch(&self, include_current: bool) -> Result<ObjectWatch, ObjectStoreError> {
        let config = OrderedConfig {
            filter_subjects: vec![format!("$O.{}.M.>", self.bucket)],
            deliver_policy: if include_current {
                DeliverPolicy::LastPerSubject
            } else {
                DeliverPolicy::New
            },
            ..OrderedConfig::default()
        };
        let messages = self
            .js
            .ordered_consumer(&self.stream, config)
            .await
            .map_err(|error| {
                ObjectStoreError::with_source(ObjectStoreErrorKind::JetStream, error)
            })?;
        Ok(ObjectWatch { messages })
    }
}
