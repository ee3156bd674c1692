//! [`ObjectStoreError`]: what an Object Store operation can fail with.

use crate::error::Error;
use crate::jetstream::{JetStreamError, JetStreamErrorKind, PublishError, PublishErrorKind};

/// What went wrong with an Object Store operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ObjectStoreErrorKind {
    /// A bucket name outside `A-Z a-z 0-9 _ -`; nothing was sent.
    #[error("invalid bucket name")]
    InvalidBucket,
    /// An empty object name; nothing was sent.
    #[error("invalid object name")]
    InvalidName,
    /// The bucket does not exist.
    #[error("bucket not found")]
    BucketNotFound,
    /// A bucket of that name exists with other settings.
    #[error("bucket exists")]
    BucketExists,
    /// No object of that name (or it was deleted).
    #[error("object not found")]
    NotFound,
    /// The bucket is sealed: nothing can be written any more.
    #[error("bucket sealed")]
    Sealed,
    /// A link cannot be made: to a link, to a deleted object, over an existing object.
    #[error("invalid link")]
    InvalidLink,
    /// The object read back is not the one stored: its digest or size differs.
    #[error("digest mismatch")]
    DigestMismatch,
    /// Reading the object's contents from the caller failed.
    #[error("read failed")]
    Read,
    /// An object's metadata or chunk that is not what an Object Store writes.
    #[error("invalid object")]
    InvalidObject,
    /// No answer in time.
    #[error("timed out")]
    TimedOut,
    /// The JetStream API refused or failed; the source says how.
    #[error("JetStream error")]
    JetStream,
    /// A chunk or the metadata was not acknowledged; the source says why.
    #[error("write failed")]
    Publish,
}

/// The error of an Object Store operation.
pub type ObjectStoreError = Error<ObjectStoreErrorKind>;

impl ObjectStoreError {
    pub(crate) fn message(kind: ObjectStoreErrorKind, message: impl Into<String>) -> Self {
        ObjectStoreError::with_source(kind, message.into())
    }

    pub(crate) fn from_jetstream(error: JetStreamError) -> Self {
        let kind = match error.kind() {
            JetStreamErrorKind::StreamNotFound => ObjectStoreErrorKind::BucketNotFound,
            JetStreamErrorKind::StreamNameInUse => ObjectStoreErrorKind::BucketExists,
            JetStreamErrorKind::MessageNotFound => ObjectStoreErrorKind::NotFound,
            JetStreamErrorKind::DirectGetUnavailable => ObjectStoreErrorKind::BucketNotFound,
            JetStreamErrorKind::TimedOut => ObjectStoreErrorKind::TimedOut,
            _ => ObjectStoreErrorKind::JetStream,
        };
        ObjectStoreError::with_source(kind, error)
    }

    pub(crate) fn from_publish(error: PublishError) -> Self {
        let kind = match error.kind() {
            PublishErrorKind::TimedOut => ObjectStoreErrorKind::TimedOut,
            PublishErrorKind::NoStream => ObjectStoreErrorKind::BucketNotFound,
            _ if error.error_code() == Some(crate::jetstream::ErrorCode::STREAM_SEALED) => {
                ObjectStoreErrorKind::Sealed
            }
            _ => ObjectStoreErrorKind::Publish,
        };
        ObjectStoreError::with_source(kind, error)
    }
}
