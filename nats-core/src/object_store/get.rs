//! Reading an object back: [`ObjectReader`], an `AsyncRead` over its chunks that checks the
//! size and SHA-256 digest at the end.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::{Buf, Bytes};
use futures_core::Stream;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

use super::errors::{ObjectStoreError, ObjectStoreErrorKind};
use super::info::{digest_text, ObjectInfo};
use super::store::ObjectStore;
use crate::jetstream::{
    DeliverPolicy, JetStreamError, JetStreamErrorKind, MessageSelector, OrderedConfig,
    OrderedMessages, StreamMessage,
};

type ChunkFuture = Pin<Box<dyn Future<Output = Result<StreamMessage, JetStreamError>> + Send>>;

/// Objects of more chunks than this are read through an ordered consumer (chunks stream in,
/// a few at a time); smaller ones by one direct get per chunk (no consumer to create).
const DIRECT_GET_CHUNKS: u64 = 4;

/// Chunks an ordered consumer asks for at a time: with the chunk size, what bounds a read's
/// memory.
const CHUNKS_AHEAD: usize = 16;

/// The contents of an object, read chunk by chunk as the caller reads: one chunk in memory
/// at a time, whatever the object's size. At the end the size and the SHA-256 digest are
/// compared with the object's; a mismatch is an `io::Error` of kind `InvalidData` whose
/// source is an [`ObjectStoreError`] of kind [`ObjectStoreErrorKind::DigestMismatch`].
pub struct ObjectReader {
    store: ObjectStore,
    info: ObjectInfo,
    subject: String,
    next_sequence: u64,
    chunks_left: u64,
    current: Bytes,
    hasher: Sha256,
    read: u64,
    pending: Option<ChunkFuture>,
    /// Set for large objects: the chunks stream in through it.
    ordered: Option<OrderedMessages>,
    /// The next chunk through the ordered consumer must come by then (the context's
    /// timeout after the previous one): with the server gone, a read ends with an error.
    chunk_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    finished: bool,
}

impl std::fmt::Debug for ObjectReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectReader")
            .field("object", &self.info.name)
            .field("read", &self.read)
            .field("size", &self.info.size)
            .finish()
    }
}

impl ObjectReader {
    /// The object being read.
    pub fn info(&self) -> &ObjectInfo {
        &self.info
    }

    fn next_chunk(&self) -> ChunkFuture {
        let js = self.store.js.clone();
        let stream = self.store.stream.clone();
        let selector = MessageSelector::next_by_subject(self.subject.clone(), self.next_sequence);
        Box::pin(async move { js.direct_get(&stream, selector).await })
    }

    /// The end: the size and digest must be the object's.
    fn verify(&mut self) -> io::Result<()> {
        self.finished = true;
        let digest = digest_text(&std::mem::take(&mut self.hasher).finalize());
        if self.read != self.info.size || digest != self.info.digest {
            return Err(invalid(ObjectStoreError::message(
                ObjectStoreErrorKind::DigestMismatch,
                format!(
                    "object {:?}: read {} bytes with digest {digest}, stored as {} bytes with {}",
                    self.info.name, self.read, self.info.size, self.info.digest
                ),
            )));
        }
        Ok(())
    }
}

fn invalid(error: ObjectStoreError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, error)
}

impl AsyncRead for ObjectReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.current.is_empty() {
                let n = this.current.len().min(buf.remaining());
                buf.put_slice(&this.current[..n]);
                this.current.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.finished {
                return Poll::Ready(Ok(()));
            }
            if this.chunks_left == 0 {
                return Poll::Ready(this.verify());
            }
            if let Some(ordered) = this.ordered.as_mut() {
                let message = match Pin::new(ordered).poll_next(cx) {
                    Poll::Pending => {
                        let timeout = this.store.js.timeout();
                        let deadline = this
                            .chunk_deadline
                            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                        if deadline.as_mut().poll(cx).is_ready() {
                            this.finished = true;
                            let error = ObjectStoreError::message(
                                ObjectStoreErrorKind::TimedOut,
                                format!("no chunk of {:?} within {timeout:?}", this.info.name),
                            );
                            return Poll::Ready(Err(io::Error::other(error)));
                        }
                        return Poll::Pending;
                    }
                    Poll::Ready(Some(Ok(message))) => message,
                    Poll::Ready(Some(Err(error))) => {
                        this.finished = true;
                        let error =
                            ObjectStoreError::with_source(ObjectStoreErrorKind::JetStream, error);
                        return Poll::Ready(Err(io::Error::other(error)));
                    }
                    Poll::Ready(None) => {
                        this.chunks_left = 0;
                        continue;
                    }
                };
                this.chunk_deadline = None;
                let last = message.info().map(|info| info.pending == 0).unwrap_or(true);
                this.chunks_left -= 1;
                if last {
                    // No chunk left in the stream: fewer than the metadata says means the
                    // digest cannot match, and waiting would never end.
                    this.chunks_left = 0;
                }
                this.read += message.payload.len() as u64;
                this.hasher.update(&message.payload);
                this.current = message.payload.clone();
                continue;
            }
            if this.pending.is_none() {
                this.pending = Some(this.next_chunk());
            }
            let Some(pending) = this.pending.as_mut() else {
                continue;
            };
            let chunk = match pending.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(chunk) => chunk,
            };
            this.pending = None;
            match chunk {
                Ok(message) => {
                    this.next_sequence = message.sequence + 1;
                    this.chunks_left -= 1;
                    this.read += message.payload.len() as u64;
                    this.hasher.update(&message.payload);
                    this.current = message.payload;
                }
                Err(error) if error.kind() == JetStreamErrorKind::MessageNotFound => {
                    // Fewer chunks than the metadata says: the digest cannot match.
                    this.chunks_left = 0;
                }
                Err(error) => {
                    this.finished = true;
                    let error = ObjectStoreError::from_jetstream(error);
                    return Poll::Ready(Err(io::Error::other(error)));
                }
            }
        }
    }
}

impl ObjectStore {
    /// Opens the object `name` for reading, following a link to an object (of this bucket or
    /// another) once.
    ///
    /// # Errors
    /// [`ObjectStoreErrorKind::NotFound`] when there is no such object (or it was deleted);
    /// [`ObjectStoreErrorKind::InvalidLink`] for a link to a whole bucket.
    pub async fn get(&self, name: &str) -> Result<ObjectReader, ObjectStoreError> {
        let info = self.info(name).await?;
        let (store, info) = match &info.options.link {
            None => (self.clone(), info),
            Some(link) => {
                let Some(target) = &link.name else {
                    return Err(ObjectStoreError::message(
                        ObjectStoreErrorKind::InvalidLink,
                        format!(
                            "{name:?} links to the bucket {:?}, not to an object",
                            link.bucket
                        ),
                    ));
                };
                let store = ObjectStore::new(self.js.clone(), &link.bucket);
                let info = store.info(target).await?;
                (store, info)
            }
        };
        let subject = store.chunk_subject(&info.nuid);
        let chunks = if info.size == 0 { 0 } else { info.chunks };
        let ordered = if chunks > DIRECT_GET_CHUNKS {
            let config = OrderedConfig {
                filter_subjects: vec![subject.clone()],
                deliver_policy: DeliverPolicy::All,
                max_messages: Some(CHUNKS_AHEAD),
                ..OrderedConfig::default()
            };
            let messages = store
                .js
                .ordered_consumer(&store.stream, config)
                .await
                .map_err(|error| {
                    ObjectStoreError::with_source(ObjectStoreErrorKind::JetStream, error)
                })?;
            Some(messages)
        } else {
            None
        };
        Ok(ObjectReader {
            subject,
            chunks_left: chunks,
            ordered,
            chunk_deadline: None,
            store,
            info,
            next_sequence: 0,
            current: Bytes::new(),
            hasher: Sha256::new(),
            read: 0,
            pending: None,
            finished: false,
        })
    }

    /// The whole object `name` in memory, its digest checked: for small objects.
    ///
    /// # Errors
    /// As [`get`](Self::get), and [`ObjectStoreErrorKind::DigestMismatch`].
    pub async fn get_bytes(&self, name: &str) -> Result<Bytes, ObjectStoreError> {
        use tokio::io::AsyncReadExt;
        let mut reader = self.get(name).await?;
        let mut data = Vec::with_capacity(usize::try_from(reader.info.size).unwrap_or(0));
        reader.read_to_end(&mut data).await.map_err(|error| {
            match error
                .into_inner()
                .map(|inner| inner.downcast::<ObjectStoreError>())
            {
                Some(Ok(error)) => *error,
                Some(Err(other)) => {
                    ObjectStoreError::with_source(ObjectStoreErrorKind::Read, other)
                }
                None => ObjectStoreError::message(ObjectStoreErrorKind::Read, "read failed"),
            }
        })?;
        Ok(Bytes::from(data))
    }
}
