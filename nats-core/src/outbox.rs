//! The outbox: bytes waiting to be written to the server, shared by every publisher and
//! written by the connection task.
//!
//! Publishers encode straight into it under a short lock and wake the writer only when it was
//! empty, so a burst of publishes becomes one large (vectored) write with no channel hop per
//! message. Large payloads are kept as their own `Bytes` and written without a copy.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use tokio::sync::oneshot;

use crate::header::HeaderMap;
use crate::proto::encoder;

/// Room the tail gets after each batch is taken.
const TAIL_CAPACITY: usize = 64 * 1024;

/// Payloads at least this large are not copied into the buffer but written from the caller's
/// `Bytes` by vectored I/O.
const ZERO_COPY_THRESHOLD: usize = 16 * 1024;

/// Who waits for a `PONG`: each `PING` written pushes one waiter, each `PONG` read pops one.
#[derive(Debug)]
pub(crate) enum PongWaiter {
    /// A keep-alive ping of the connection task.
    KeepAlive,
    /// A caller of `flush`.
    Flush(oneshot::Sender<()>),
    /// Subscriptions being drained: once the server answers, nothing more can arrive for them,
    /// so their streams can end; `done` hears when that happened.
    CloseSubs {
        sids: Vec<u64>,
        done: Option<oneshot::Sender<()>>,
    },
}

/// The outgoing buffer and the bookkeeping that must stay in step with it.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// Whole chunks ready to write, in order, before `tail`.
    chunks: VecDeque<Bytes>,
    /// Where small operations are encoded.
    tail: BytesMut,
    /// Bytes in `chunks` and `tail`.
    len: usize,
    /// Waiters for the `PONG`s of `PING`s handed to the socket, oldest first.
    sent_pings: VecDeque<PongWaiter>,
    /// Waiters for the `PONG`s of `PING`s still in this buffer.
    queued_pings: VecDeque<PongWaiter>,
    /// Messages published since the start.
    pub(crate) out_msgs: u64,
    /// Payload bytes (headers included) published since the start.
    pub(crate) out_bytes: u64,
}

impl Outbox {
    /// Bytes waiting to be written.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing waits to be written.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends a publish (`PUB` or `HPUB`).
    pub(crate) fn publish(
        &mut self,
        subject: &str,
        reply: Option<&str>,
        headers: Option<&HeaderMap>,
        payload: &Bytes,
    ) {
        let before = self.tail.len();
        let header_len = if payload.len() < ZERO_COPY_THRESHOLD {
            let header_len =
                encoder::write_publish(&mut self.tail, subject, reply, headers, payload);
            self.len += self.tail.len() - before;
            header_len
        } else {
            let header_len = encoder::write_publish_head(
                &mut self.tail,
                subject,
                reply,
                headers,
                payload.len(),
                0,
            );
            self.len += self.tail.len() - before + payload.len() + 2;
            self.seal_tail();
            self.chunks.push_back(payload.clone());
            self.tail.extend_from_slice(b"\r\n");
            header_len
        };
        self.out_msgs += 1;
        self.out_bytes += (header_len + payload.len()) as u64;
    }

    /// Appends raw protocol bytes (`SUB`, `UNSUB`, `PONG`, ...).
    pub(crate) fn push_raw(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Appends with an encoder function writing into the tail.
    pub(crate) fn push_with(&mut self, encode: impl FnOnce(&mut BytesMut)) {
        let before = self.tail.len();
        encode(&mut self.tail);
        self.len += self.tail.len() - before;
    }

    /// Appends a `PING` and the waiter of its `PONG`.
    pub(crate) fn ping(&mut self, waiter: PongWaiter) {
        self.push_raw(encoder::PING);
        self.queued_pings.push_back(waiter);
    }

    /// The waiter of the oldest `PING` sent, for the `PONG` just read.
    pub(crate) fn pong(&mut self) -> Option<PongWaiter> {
        self.sent_pings.pop_front()
    }

    /// Takes everything there is to write, in order; its `PING`s count as sent.
    pub(crate) fn take(&mut self) -> Vec<Bytes> {
        self.seal_tail();
        self.len = 0;
        self.sent_pings.append(&mut self.queued_pings);
        self.chunks.drain(..).collect()
    }

    /// Puts `bytes` in front of everything queued: what a new connection must send first.
    pub(crate) fn push_front(&mut self, bytes: Bytes) {
        self.seal_tail();
        self.len += bytes.len();
        self.chunks.push_front(bytes);
    }

    /// The waiters of `PING`s sent on a connection that was lost: no `PONG` will come for
    /// them. Those still queued stay, as their `PING`s go out on the next connection.
    pub(crate) fn take_lost_pings(&mut self) -> VecDeque<PongWaiter> {
        std::mem::take(&mut self.sent_pings)
    }

    /// Every waiter, sent or queued: the client is closing.
    pub(crate) fn take_all_pings(&mut self) -> impl Iterator<Item = PongWaiter> {
        let mut all = std::mem::take(&mut self.sent_pings);
        all.append(&mut self.queued_pings);
        all.into_iter()
    }

    /// Moves the tail, if it holds anything, to the chunks, and gives the tail room for the
    /// next burst at once, instead of growing (and copying) it step by step.
    fn seal_tail(&mut self) {
        if !self.tail.is_empty() {
            self.chunks.push_back(self.tail.split().freeze());
            self.tail.reserve(TAIL_CAPACITY);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concat(chunks: Vec<Bytes>) -> Vec<u8> {
        chunks.iter().flat_map(|c| c.iter().copied()).collect()
    }

    #[test]
    fn small_and_large_payloads_come_out_in_order() {
        let mut out = Outbox::default();
        out.publish("a", None, None, &Bytes::from_static(b"x"));
        let big = Bytes::from(vec![b'z'; ZERO_COPY_THRESHOLD]);
        out.publish("b", Some("r"), None, &big);
        out.push_raw(b"PING\r\n");
        let expected_len = out.len();
        let bytes = concat(out.take());
        assert_eq!(bytes.len(), expected_len);
        let mut expected = b"PUB a 1\r\nx\r\nPUB b r 16384\r\n".to_vec();
        expected.extend_from_slice(&big);
        expected.extend_from_slice(b"\r\nPING\r\n");
        assert_eq!(bytes, expected);
        assert!(out.is_empty());
        assert_eq!(out.out_msgs, 2);
        assert_eq!(out.out_bytes, 1 + ZERO_COPY_THRESHOLD as u64);
    }

    #[test]
    fn pings_count_as_sent_once_taken() {
        let mut out = Outbox::default();
        out.ping(PongWaiter::KeepAlive);
        assert!(out.pong().is_none(), "a queued PING cannot be answered");
        let _ = out.take();
        out.ping(PongWaiter::KeepAlive);
        assert!(matches!(out.pong(), Some(PongWaiter::KeepAlive)));
        assert!(out.pong().is_none());
        assert_eq!(out.take_lost_pings().len(), 0);
        assert_eq!(out.take_all_pings().count(), 1);
    }

    #[test]
    fn push_front_goes_before_everything() {
        let mut out = Outbox::default();
        out.push_raw(b"PUB a 0\r\n\r\n");
        out.push_front(Bytes::from_static(b"SUB a 1\r\n"));
        assert_eq!(concat(out.take()), b"SUB a 1\r\nPUB a 0\r\n\r\n");
    }

    #[test]
    fn large_payload_is_not_copied() {
        let mut out = Outbox::default();
        let big = Bytes::from(vec![1u8; ZERO_COPY_THRESHOLD * 2]);
        out.publish("b", None, None, &big);
        let chunks = out.take();
        assert!(chunks.iter().any(|c| c.as_ptr() == big.as_ptr()));
    }
}
