//! [`KvError`]: what a Key-Value operation can fail with.

use crate::error::Error;
use crate::jetstream::{
    ErrorCode, JetStreamError, JetStreamErrorKind, PublishError, PublishErrorKind,
};

/// What went wrong with a Key-Value operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KvErrorKind {
    /// A bucket name outside `A-Z a-z 0-9 _ -`; nothing was sent.
    #[error("invalid bucket name")]
    InvalidBucket,
    /// A key or filter Key-Value does not allow; nothing was sent.
    #[error("invalid key")]
    InvalidKey,
    /// A bucket setting the server cannot take (history above 64, a limit marker TTL on a
    /// server without per-message TTLs, ...).
    #[error("invalid bucket configuration")]
    InvalidConfig,
    /// The bucket does not exist.
    #[error("bucket not found")]
    BucketNotFound,
    /// A bucket of that name exists with another configuration.
    #[error("bucket exists")]
    BucketExists,
    /// `create` found the key holding a value (10071, or 10164 on a replicated bucket).
    #[error("key exists")]
    KeyExists,
    /// The key's latest revision is not the one expected (`update`, or a delete or purge
    /// with an expected revision): 10071, or 10164 on a replicated bucket.
    #[error("wrong last revision")]
    WrongLastRevision,
    /// The bucket does not allow it (per-key TTLs without limit markers, ...).
    #[error("not allowed by the bucket")]
    NotAllowed,
    /// No answer within the timeout: the write may have happened.
    #[error("timed out")]
    TimedOut,
    /// The JetStream API refused or failed; the source says how.
    #[error("JetStream error")]
    JetStream,
    /// The write was not acknowledged; the source says why.
    #[error("write failed")]
    Publish,
    /// A stored entry or a watch message that is not what Key-Value writes (or, in a typed
    /// bucket, a value that is not the JSON of its type).
    #[error("invalid entry")]
    InvalidEntry,
    /// A typed bucket's value could not be serialized; nothing was sent.
    #[error("value could not be encoded")]
    Encode,
}

/// The error of a Key-Value operation.
pub type KvError = Error<KvErrorKind>;

impl KvError {
    pub(crate) fn message(kind: KvErrorKind, message: impl Into<String>) -> Self {
        KvError::with_source(kind, message.into())
    }

    pub(crate) fn from_jetstream(error: JetStreamError) -> Self {
        let kind = match error.kind() {
            JetStreamErrorKind::StreamNotFound => KvErrorKind::BucketNotFound,
            JetStreamErrorKind::StreamNameInUse => KvErrorKind::BucketExists,
            JetStreamErrorKind::TimedOut => KvErrorKind::TimedOut,
            _ => KvErrorKind::JetStream,
        };
        KvError::with_source(kind, error)
    }

    /// A failed write; `expecting` says whether it carried an expected revision (and so a
    /// wrong last sequence is this error's, not the caller's bug).
    pub(crate) fn from_publish(error: PublishError, wrong_revision: KvErrorKind) -> Self {
        let kind = match error.kind() {
            PublishErrorKind::WrongLastSequence => wrong_revision,
            PublishErrorKind::TimedOut => KvErrorKind::TimedOut,
            PublishErrorKind::NoStream => KvErrorKind::BucketNotFound,
            _ if error.error_code() == Some(ErrorCode::STREAM_WRONG_LAST_SEQUENCE) => {
                wrong_revision
            }
            _ if error.error_code() == Some(ErrorCode::MESSAGE_TTL_DISABLED) => {
                KvErrorKind::NotAllowed
            }
            _ => KvErrorKind::Publish,
        };
        KvError::with_source(kind, error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jetstream::ApiError;

    fn publish_error(err_code: u16, description: &str) -> PublishError {
        let body = format!(r#"{{"code":400,"err_code":{err_code},"description":"{description}"}}"#);
        let api: ApiError = serde_json::from_str(&body).expect("api error");
        PublishError::from_api(api)
    }

    #[test]
    fn both_wrong_sequence_codes_are_the_same_kv_error() {
        for (code, text) in [
            (10071, "wrong last sequence: 4"),
            (10164, "wrong last sequence"),
        ] {
            let create = KvError::from_publish(publish_error(code, text), KvErrorKind::KeyExists);
            assert_eq!(create.kind(), KvErrorKind::KeyExists, "{code}");
            let update =
                KvError::from_publish(publish_error(code, text), KvErrorKind::WrongLastRevision);
            assert_eq!(update.kind(), KvErrorKind::WrongLastRevision, "{code}");
        }
        let ttl = KvError::from_publish(
            publish_error(10166, "per-message TTL is disabled"),
            KvErrorKind::KeyExists,
        );
        assert_eq!(ttl.kind(), KvErrorKind::NotAllowed);
    }
}
