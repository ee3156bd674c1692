//! The queue between the connection task and one [`Subscriber`](crate::Subscriber): messages
//! delivered but not read yet, and the pending limits that bound them.
//!
//! One producer (the connection task) and one consumer (the subscriber). The queue is
//! lock-free and allocates only while it holds messages, so an idle subscription costs a few
//! hundred bytes instead of a pre-allocated channel block.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use crossbeam_queue::SegQueue;
use futures_util::task::AtomicWaker;
use parking_lot::Mutex;

use crate::message::Message;
use crate::server_error::ServerError;

/// Messages for one subscription, with its pending counters and limits.
#[derive(Debug)]
pub(crate) struct Inbox {
    queue: SegQueue<Message>,
    waker: AtomicWaker,
    /// No more messages will be pushed: the subscription ended.
    closed: AtomicBool,
    /// The subscriber was dropped: nobody reads.
    reader_gone: AtomicBool,
    msgs: AtomicUsize,
    bytes: AtomicUsize,
    limit_msgs: AtomicUsize,
    limit_bytes: AtomicUsize,
    dropped: AtomicU64,
    /// Why the server ended the subscription, until the reader is told.
    ended_by: Mutex<Option<Box<ServerError>>>,
}

impl Inbox {
    pub(crate) fn new(limit_msgs: usize, limit_bytes: usize) -> Arc<Self> {
        Arc::new(Inbox {
            queue: SegQueue::new(),
            waker: AtomicWaker::new(),
            closed: AtomicBool::new(false),
            reader_gone: AtomicBool::new(false),
            msgs: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            limit_msgs: AtomicUsize::new(limit_msgs),
            limit_bytes: AtomicUsize::new(limit_bytes),
            dropped: AtomicU64::new(0),
            ended_by: Mutex::new(None),
        })
    }

    /// Queues `message` unless the subscription is over a pending limit; false (and one more
    /// dropped) when it is.
    pub(crate) fn push(&self, message: Message) -> bool {
        let len = message.length;
        let msgs = self.msgs.load(Ordering::Relaxed);
        let bytes = self.bytes.load(Ordering::Relaxed);
        if msgs >= self.limit_msgs.load(Ordering::Relaxed)
            || bytes + len > self.limit_bytes.load(Ordering::Relaxed)
        {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.msgs.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(len, Ordering::Relaxed);
        self.queue.push(message);
        self.waker.wake();
        true
    }

    /// Ends the subscription: the reader gets what is queued, then `None`.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// The next message, `None` once closed and empty.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        if let Some(message) = self.pop() {
            return Poll::Ready(Some(message));
        }
        self.waker.register(cx.waker());
        if let Some(message) = self.pop() {
            return Poll::Ready(Some(message));
        }
        if self.closed.load(Ordering::Acquire) {
            // Every push happened before the close: whatever is left is visible now.
            return Poll::Ready(self.pop());
        }
        Poll::Pending
    }

    /// A queued message, without waiting.
    pub(crate) fn pop(&self) -> Option<Message> {
        let message = self.queue.pop()?;
        self.msgs.fetch_sub(1, Ordering::Relaxed);
        self.bytes.fetch_sub(message.length, Ordering::Relaxed);
        Some(message)
    }

    /// Records why the server ended the subscription; the close follows.
    pub(crate) fn fail(&self, err: ServerError) {
        *self.ended_by.lock() = Some(Box::new(err));
    }

    /// Why the server ended the subscription, once.
    pub(crate) fn take_error(&self) -> Option<ServerError> {
        self.ended_by.lock().take().map(|err| *err)
    }

    /// The subscriber went away.
    pub(crate) fn reader_dropped(&self) {
        self.reader_gone.store(true, Ordering::Relaxed);
    }

    /// Whether the subscriber went away.
    pub(crate) fn is_reader_gone(&self) -> bool {
        self.reader_gone.load(Ordering::Relaxed)
    }

    /// Whether the reader has taken everything or gone away.
    pub(crate) fn is_settled(&self) -> bool {
        self.is_reader_gone() || self.msgs.load(Ordering::Relaxed) == 0
    }

    pub(crate) fn pending_messages(&self) -> usize {
        self.msgs.load(Ordering::Relaxed)
    }

    pub(crate) fn pending_bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    pub(crate) fn set_limits(&self, msgs: usize, bytes: usize) {
        self.limit_msgs.store(msgs.max(1), Ordering::Relaxed);
        self.limit_bytes.store(bytes.max(1), Ordering::Relaxed);
    }
}

/// The connection task's end of an inbox: dropping it ends the subscription.
#[derive(Debug)]
pub(crate) struct InboxSender(pub(crate) Arc<Inbox>);

impl Drop for InboxSender {
    fn drop(&mut self) {
        self.0.close();
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use bytes::Bytes;

    use super::*;
    use crate::subject::Subject;

    fn message(n: u8) -> Message {
        Message {
            subject: Subject::from_static("a"),
            reply: None,
            payload: Bytes::from(vec![n; 10]),
            headers: None,
            status: None,
            description: None,
            length: 10,
        }
    }

    #[tokio::test]
    async fn delivers_in_order_then_ends_after_close() {
        let inbox = Inbox::new(100, 1000);
        let sender = InboxSender(Arc::clone(&inbox));
        assert!(inbox.push(message(1)));
        assert!(inbox.push(message(2)));
        drop(sender);
        let first = poll_fn(|cx| inbox.poll_next(cx)).await.expect("first");
        assert_eq!(first.payload[0], 1);
        let second = poll_fn(|cx| inbox.poll_next(cx)).await.expect("second");
        assert_eq!(second.payload[0], 2);
        assert!(poll_fn(|cx| inbox.poll_next(cx)).await.is_none());
    }

    #[tokio::test]
    async fn a_waiting_reader_is_woken() {
        let inbox = Inbox::new(100, 1000);
        let reader = {
            let inbox = Arc::clone(&inbox);
            tokio::spawn(async move { poll_fn(|cx| inbox.poll_next(cx)).await })
        };
        tokio::task::yield_now().await;
        assert!(inbox.push(message(7)));
        let got = reader.await.expect("join").expect("message");
        assert_eq!(got.payload[0], 7);
    }

    #[test]
    fn limits_drop_and_count() {
        let inbox = Inbox::new(2, 1000);
        assert!(inbox.push(message(1)));
        assert!(inbox.push(message(2)));
        assert!(!inbox.push(message(3)));
        assert_eq!(
            (
                inbox.pending_messages(),
                inbox.pending_bytes(),
                inbox.dropped()
            ),
            (2, 20, 1)
        );
        inbox.set_limits(10, 25);
        assert!(!inbox.push(message(4)), "bytes limit");
        assert_eq!(inbox.dropped(), 2);
    }
}
