//! Watching a bucket: [`Watch`], a stream of the entries of some keys (their latest values,
//! optionally their history, then every update), with the "initial values done" signal always
//! delivered; and what is built on it: [`Store::keys`], [`Store::history`],
//! [`Store::purge_deletes`].

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures_core::Stream;
use time::OffsetDateTime;

use super::entry::{Entry, Operation};
use super::errors::{KvError, KvErrorKind};
use super::keys::validate_filter;
use super::store::Store;
use crate::jetstream::{
    DeliverPolicy, Message, MessageSelector, OrderedConfig, OrderedMessages, PurgeOptions,
};

/// How a watch starts and what it shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// Every revision kept, not only the latest of each key.
    pub include_history: bool,
    /// Only what is written after the watch starts (the done signal comes at once).
    pub updates_only: bool,
    /// Leave delete and purge markers out (they still count for the done signal).
    pub ignore_deletes: bool,
    /// Entries without their values (`value` empty): for listing keys cheaply.
    pub headers_only: bool,
    /// Start at this revision (every revision from it on, as with `include_history`).
    pub from_revision: Option<u64>,
}

/// What a watch yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEvent {
    /// An entry: a value, a delete or a purge.
    Entry(Entry),
    /// Every entry that existed when the watch started has been yielded; what follows are
    /// updates. Always yielded once, also for an empty bucket.
    InitialValuesDone,
}

/// A watch of some keys of a bucket: a [`Stream`] of [`WatchEvent`]s.
///
/// It reads through an ordered consumer, so it survives server restarts and leader changes
/// and resumes after the last revision it yielded (never a gap, never a repeat); the
/// consumers it replaces are deleted, and so is its own when it is dropped.
///
/// ```no_run
/// # async fn demo(kv: nats_core::kv::Store) -> Result<(), nats_core::kv::KvError> {
/// use nats_core::kv::WatchEvent;
/// let mut watch = kv.watch("users.>").await?;
/// while let Some(event) = watch.next().await {
///     match event? {
///         WatchEvent::Entry(entry) => println!("{} = {:?} ({:?})", entry.key, entry.value, entry.operation),
///         WatchEvent::InitialValuesDone => println!("-- now live --"),
///     }
/// }
/// # Ok(()) }
/// ```
pub struct Watch {
    messages: OrderedMessages,
    bucket: String,
    prefix: String,
    ignore_deletes: bool,
    /// The done signal is still to be yielded: it comes with the first entry whose delta is
    /// 0 (that entry first), or at once for a range that held nothing.
    done_pending: bool,
    /// An entry to yield before anything is read (the one the done signal follows).
    queued_done: bool,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("bucket", &self.bucket)
            .field("consumer", &self.messages.consumer_name())
            .finish_non_exhaustive()
    }
}

impl Watch {
    /// The next event; `None` once the watch ended (after the error that ended it).
    pub async fn next(&mut self) -> Option<Result<WatchEvent, KvError>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// The entry of a delivered message.
    fn entry(&self, message: &Message) -> Result<Entry, KvError> {
        let info = message
            .info()
            .map_err(|error| KvError::with_source(KvErrorKind::InvalidEntry, error))?;
        let key = message
            .subject
            .strip_prefix(self.prefix.as_str())
            .ok_or_else(|| {
                KvError::message(
                    KvErrorKind::InvalidEntry,
                    format!(
                        "watched subject {:?} is not under {:?}",
                        message.subject.as_str(),
                        self.prefix
                    ),
                )
            })?;
        Ok(Entry {
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            value: message.payload.clone(),
            revision: info.stream_sequence,
            created: info.timestamp,
            delta: info.pending,
            operation: Operation::of(message.headers.as_ref()),
            headers: message.headers.clone(),
        })
    }
}

impl Stream for Watch {
    type Item = Result<WatchEvent, KvError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.queued_done {
                this.queued_done = false;
                this.done_pending = false;
                return Poll::Ready(Some(Ok(WatchEvent::InitialValuesDone)));
            }
            let message = match Pin::new(&mut this.messages).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(error))) => {
                    return Poll::Ready(Some(Err(KvError::with_source(
                        KvErrorKind::JetStream,
                        error,
                    ))))
                }
                Poll::Ready(Some(Ok(message))) => message,
            };
            let entry = match this.entry(&message) {
                Ok(entry) => entry,
                Err(error) => return Poll::Ready(Some(Err(error))),
            };
            // The delta counts every entry still to come, the hidden ones too.
            if this.done_pending && entry.delta == 0 {
                this.queued_done = true;
            }
            if this.ignore_deletes && entry.operation != Operation::Put {
                continue;
            }
            return Poll::Ready(Some(Ok(WatchEvent::Entry(entry))));
        }
    }
}

impl Store {
    /// Watches the keys `filter` matches (`*` tokens and a final `>` allowed): their latest
    /// entries, the done signal, then every update.
    ///
    /// # Errors
    /// [`KvErrorKind::InvalidKey`] for a bad filter; the JetStream errors.
    pub async fn watch(&self, filter: &str) -> Result<Watch, KvError> {
        self.watch_with(&[filter], WatchOptions::default()).await
    }

    /// Watches every key.
    ///
    /// # Errors
    /// As [`watch`](Self::watch).
    pub async fn watch_all(&self) -> Result<Watch, KvError> {
        self.watch(">").await
    }

    /// Watches the keys any of `filters` matches, as `options` says.
    ///
    /// # Errors
    /// As [`watch`](Self::watch).
    pub async fn watch_with(
        &self,
        filters: &[&str],
        options: WatchOptions,
    ) -> Result<Watch, KvError> {
        let filters: Vec<&str> = if filters.is_empty() {
            vec![">"]
        } else {
            filters.to_vec()
        };
        for filter in &filters {
            validate_filter(filter)?;
        }
        let subjects: Vec<String> = filters
            .iter()
            .map(|filter| format!("{}{filter}", self.read_prefix()))
            .collect();
        let deliver_policy = match options {
            WatchOptions {
                from_revision: Some(_),
                ..
            } => DeliverPolicy::ByStartSequence,
            WatchOptions {
                updates_only: true, ..
            } => DeliverPolicy::New,
            WatchOptions {
                include_history: true,
                ..
            } => DeliverPolicy::All,
            _ => DeliverPolicy::LastPerSubject,
        };
        // Nothing to wait for: updates only, or a range that holds no entry at all.
        let done_at_once = options.updates_only || self.holds_nothing(&subjects).await?;
        let config = OrderedConfig {
            filter_subjects: subjects,
            deliver_policy,
            opt_start_seq: options.from_revision,
            headers_only: options.headers_only,
            max_bytes: Some(watch_pull_bytes(self.context().client().max_payload())),
            ..OrderedConfig::default()
        };
        let messages = self
            .context()
            .ordered_consumer(self.stream(), config)
            .await
            .map_err(|error| KvError::with_source(KvErrorKind::JetStream, error))?;
        Ok(Watch {
            messages,
            bucket: self.bucket().to_owned(),
            prefix: self.read_prefix().to_owned(),
            ignore_deletes: options.ignore_deletes,
            done_pending: !done_at_once,
            queued_done: done_at_once,
        })
    }

    /// Whether no entry at all lies under `subjects` (so the done signal comes at once).
    async fn holds_nothing(&self, subjects: &[String]) -> Result<bool, KvError> {
        for subject in subjects {
            let first = self
                .read(MessageSelector::next_by_subject(subject, 0), None)
                .await?;
            if first.is_some() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Every key with a value (deleted and purged keys left out).
    ///
    /// # Errors
    /// As [`watch`](Self::watch).
    pub async fn keys(&self) -> Result<Vec<String>, KvError> {
        self.keys_filtered(&[">"]).await
    }

    /// The keys with a value that any of `filters` matches.
    ///
    /// # Errors
    /// As [`watch`](Self::watch).
    pub async fn keys_filtered(&self, filters: &[&str]) -> Result<Vec<String>, KvError> {
        let options = WatchOptions {
            ignore_deletes: true,
            headers_only: true,
            ..WatchOptions::default()
        };
        let entries = self.initial_entries(filters, options).await?;
        Ok(entries.into_iter().map(|entry| entry.key).collect())
    }

    /// Every revision kept of `key`, oldest first, deletes and purges included; empty when
    /// the key was never written (or its history is gone).
    ///
    /// # Errors
    /// [`KvErrorKind::InvalidKey`]; the JetStream errors.
    pub async fn history(&self, key: &str) -> Result<Vec<Entry>, KvError> {
        super::keys::validate_key(key)?;
        let options = WatchOptions {
            include_history: true,
            ..WatchOptions::default()
        };
        self.initial_entries(&[key], options).await
    }

    /// The entries a watch yields before its done signal.
    async fn initial_entries(
        &self,
        filters: &[&str],
        options: WatchOptions,
    ) -> Result<Vec<Entry>, KvError> {
        let mut watch = self.watch_with(filters, options).await?;
        let mut entries = Vec::new();
        // Each entry must come within the context's timeout: with the server gone, this ends.
        let timeout = self.context().timeout();
        loop {
            let Ok(event) = tokio::time::timeout(timeout, watch.next()).await else {
                return Err(KvError::message(
                    KvErrorKind::TimedOut,
                    format!("no entry of bucket {:?} within {timeout:?}", self.bucket()),
                ));
            };
            let Some(event) = event else {
                break;
            };
            match event? {
                WatchEvent::Entry(entry) => entries.push(entry),
                WatchEvent::InitialValuesDone => break,
            }
        }
        Ok(entries)
    }

    /// Removes the delete and purge markers older than `older_than` with the history they
    /// hide, keeping younger markers (so that watchers that are behind still see the delete);
    /// `None` removes every marker. nats.go's default is 30 minutes.
    ///
    /// # Errors
    /// The JetStream errors.
    pub async fn purge_deletes(&self, older_than: Option<Duration>) -> Result<(), KvError> {
        let markers: Vec<Entry> = self
            .initial_entries(&[">"], WatchOptions::default())
            .await?
            .into_iter()
            .filter(|entry| entry.operation != Operation::Put)
            .collect();
        let now = OffsetDateTime::now_utc();
        for marker in markers {
            let young = older_than.is_some_and(|limit| now - marker.created < limit);
            let mut options =
                PurgeOptions::new().filter(format!("{}{}", self.read_prefix(), marker.key));
            if young {
                options = options.keep(1);
            }
            self.context()
                .purge_stream(self.stream(), options)
                .await
                .map_err(KvError::from_jetstream)?;
        }
        Ok(())
    }
}

/// What a watch asks for and buffers at most, in bytes: 8 MiB, or more when the server allows
/// messages so large that half of it (the least a request asks for) would not hold one. Pulling
/// by bytes lets a bucket of small values stream in a few requests (500 messages a request
/// made a watch of 10,000 keys twenty round trips) while large values stay bounded.
fn watch_pull_bytes(max_payload: usize) -> usize {
    const BUDGET: usize = 8 << 20;
    // Subject, reply subject and headers of a KV entry come on top of the value.
    const ENTRY_OVERHEAD: usize = 64 << 10;
    // No server allows more than 64 MiB; before any INFO the client knows no limit at all.
    const LARGEST_PAYLOAD: usize = 64 << 20;
    BUDGET.max(2 * (max_payload.min(LARGEST_PAYLOAD) + ENTRY_OVERHEAD))
}

#[cfg(test)]
mod tests {
    use super::watch_pull_bytes;

    #[test]
    fn half_the_pull_budget_holds_the_largest_message() {
        assert_eq!(watch_pull_bytes(1 << 20), 8 << 20);
        assert_eq!(watch_pull_bytes(usize::MAX), 2 * ((64 << 20) + (64 << 10)));
        for max_payload in [1 << 20, 8 << 20, 64_000_000] {
            assert!(
                watch_pull_bytes(max_payload) / 2 > max_payload,
                "{max_payload}"
            );
        }
    }
}
