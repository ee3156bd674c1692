//! [`Entry`]: one revision of a key, and the [`Operation`] that wrote it.

use bytes::Bytes;
use time::OffsetDateTime;

use super::errors::{KvError, KvErrorKind};
use crate::header::HeaderMap;
use crate::jetstream::StreamMessage;

/// The header that marks a delete or purge.
pub const KV_OPERATION: &str = "KV-Operation";
/// The header of a marker the server writes when a key reaches a limit (nats-server 2.11+).
pub const NATS_MARKER_REASON: &str = "Nats-Marker-Reason";

/// What wrote a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// A value.
    Put,
    /// A delete marker: the key is gone, its history stays.
    Delete,
    /// A purge marker: the key is gone with its history.
    Purge,
}

impl Operation {
    /// The operation of a stored message: its `KV-Operation` header (`DEL`, `PURGE`), else
    /// the server's limit marker (`MaxAge` and `Purge` are purges, `Remove` is a delete: a
    /// marker is never a put), else a put.
    pub(crate) fn of(headers: Option<&HeaderMap>) -> Operation {
        let Some(headers) = headers else {
            return Operation::Put;
        };
        match headers.get(KV_OPERATION) {
            Some("DEL") => return Operation::Delete,
            Some("PURGE") => return Operation::Purge,
            _ => {}
        }
        match headers.get(NATS_MARKER_REASON) {
            Some("Remove") => Operation::Delete,
            Some(_) => Operation::Purge,
            None => Operation::Put,
        }
    }
}

/// One revision of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The value (empty for a delete or purge).
    pub value: Bytes,
    /// The revision: the sequence of this entry in the bucket's stream.
    pub revision: u64,
    /// When it was written.
    pub created: OffsetDateTime,
    /// How many newer entries the watch that delivered it still had to deliver (0 for
    /// entries read with `get`).
    pub delta: u64,
    /// What wrote it.
    pub operation: Operation,
    /// The headers it was written with, if any.
    pub headers: Option<HeaderMap>,
}

impl Entry {
    /// The entry a stored message of `bucket` is; `prefix` is the bucket's subject prefix
    /// (`$KV.<bucket>.`).
    pub(crate) fn from_stored(
        bucket: &str,
        prefix: &str,
        message: StreamMessage,
    ) -> Result<Entry, KvError> {
        let key = message.subject.strip_prefix(prefix).ok_or_else(|| {
            KvError::message(
                KvErrorKind::InvalidEntry,
                format!(
                    "stored subject {:?} is not under {prefix:?}",
                    message.subject.as_str()
                ),
            )
        })?;
        Ok(Entry {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            operation: Operation::of(message.headers.as_ref()),
            value: message.payload,
            revision: message.sequence,
            created: message.time,
            delta: 0,
            headers: message.headers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (*k, *v)).collect()
    }

    #[test]
    fn operations_from_headers() {
        assert_eq!(Operation::of(None), Operation::Put);
        assert_eq!(Operation::of(Some(&headers(&[("X", "1")]))), Operation::Put);
        assert_eq!(
            Operation::of(Some(&headers(&[(KV_OPERATION, "DEL")]))),
            Operation::Delete
        );
        assert_eq!(
            Operation::of(Some(&headers(&[(KV_OPERATION, "PURGE")]))),
            Operation::Purge
        );
        // Limit markers are never puts.
        for (reason, op) in [
            ("MaxAge", Operation::Purge),
            ("Purge", Operation::Purge),
            ("Remove", Operation::Delete),
        ] {
            assert_eq!(
                Operation::of(Some(&headers(&[(NATS_MARKER_REASON, reason)]))),
                op
            );
        }
    }
}
