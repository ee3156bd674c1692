//! The outbox: bytes waiting to be written to the server, shared by every publisher and
//! written by the connection task.
//!
//! Publishers encode straight into it under a short lock and wake the writer only when it was
//! empty, so a burst of publishes becomes one large (vectored) write with no channel hop per
//! message. Large payloads are kept as their own `Bytes` and written without a copy.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use tokio::sync::oneshot;

use crate::error::FlushErrorKind;
use crate::header::HeaderMap;
use crate::proto::encoder;

/// The size of the buffers publishes are encoded into: a tail this full is sealed into a chunk
/// of its own and a fresh buffer takes its place, so the tail never grows (and never copies
/// itself) however far the writer is behind.
const TAIL_CAPACITY: usize = 64 * 1024;

/// Written buffers kept for reuse (each 64 to 128 KiB, so at most 2 MiB): a burst of publishes
/// encodes into memory that is already mapped instead of faulting in fresh pages for every
/// batch.
const MAX_SPARE_BUFFERS: usize = 16;

/// Payloads at least this large are not copied into the buffer but written from the caller's
/// `Bytes` by vectored I/O.
const ZERO_COPY_THRESHOLD: usize = 16 * 1024;

/// More than a publish's control line takes besides its subject, reply and sizes.
const PUBLISH_OVERHEAD: usize = 64;

/// Who waits for a `PONG`: each `PING` written pushes one waiter, each `PONG` read pops one.
#[derive(Debug)]
pub(crate) enum PongWaiter {
    /// A keep-alive ping of the connection task.
    KeepAlive,
    /// A caller of `flush`: `Ok` once the server has everything published before the `PING`,
    /// an error when some of it went down with a lost connection.
    Flush(oneshot::Sender<Result<(), FlushErrorKind>>),
    /// Subscriptions being drained: once the server answers, nothing more can arrive for them,
    /// so their streams can end; `done` hears when that happened.
    CloseSubs {
        sids: Vec<u64>,
        done: Option<oneshot::Sender<()>>,
    },
    /// The server is in lame duck mode: once it confirms what was written, the client moves.
    Move,
}

/// A `PING` and what its `PONG` confirms.
#[derive(Debug)]
pub(crate) struct Ping {
    pub(crate) waiter: PongWaiter,
    /// Messages published before the `PING` was queued (a count, like `out_msgs`).
    upto: u64,
}

/// The outgoing buffer and the bookkeeping that must stay in step with it.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    /// Whole chunks ready to write, in order, before `tail`.
    chunks: VecDeque<Bytes>,
    /// Where small operations are encoded.
    tail: BytesMut,
    /// Buffers the writer has written, cleared, for the next tails.
    spare: Vec<BytesMut>,
    /// Bytes in `chunks` and `tail`.
    len: usize,
    /// `PING`s handed to the socket, oldest first.
    sent_pings: VecDeque<Ping>,
    /// `PING`s still in this buffer.
    queued_pings: VecDeque<Ping>,
    /// Messages published since the start.
    pub(crate) out_msgs: u64,
    /// Payload bytes (headers included) published since the start.
    pub(crate) out_bytes: u64,
    /// Messages handed to the socket: `out_msgs` when the writer last took the buffer.
    taken_upto: u64,
    /// Messages the server confirmed by answering a `PING` queued after them.
    confirmed_upto: u64,
    /// Messages `(after, upto]` handed to a connection that was lost before the server
    /// confirmed them, not yet reported to a flush.
    unconfirmed: Option<(u64, u64)>,
    /// The client is closed: waiters are dropped at once instead of queued.
    closed: bool,
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
        let zero_copy = payload.len() >= ZERO_COPY_THRESHOLD;
        // Room for the control line, the headers and (when copied) the payload, or a fresh
        // tail.
        let room = subject.len()
            + reply.map_or(0, str::len)
            + headers.map_or(0, HeaderMap::encoded_len)
            + if zero_copy { 0 } else { payload.len() }
            + PUBLISH_OVERHEAD;
        if self.tail.capacity() - self.tail.len() < room {
            self.seal_tail();
        }
        let header_len = if !zero_copy {
            let before = self.tail.len();
            let header_len =
                encoder::write_publish(&mut self.tail, subject, reply, headers, payload);
            self.len += self.tail.len() - before;
            header_len
        } else {
            let before = self.tail.len();
            let header_len = encoder::write_publish_head(
                &mut self.tail,
                subject,
                reply,
                headers,
                payload.len(),
                0,
            );
            self.len += self.tail.len() - before + payload.len() + 2;
            // The control line goes out as a slice of the tail, which keeps the rest of its
            // buffer: a run of large payloads shares one buffer for their control lines.
            self.chunks.push_back(self.tail.split().freeze());
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

    /// Appends a `PING` and the waiter of its `PONG`. On a closed client the waiter is
    /// dropped, which its receiver hears as the end of the connection.
    pub(crate) fn ping(&mut self, waiter: PongWaiter) {
        let upto = self.out_msgs;
        self.queue_ping(Ping { waiter, upto });
    }

    fn queue_ping(&mut self, ping: Ping) {
        if self.closed {
            return;
        }
        self.push_raw(encoder::PING);
        self.queued_pings.push_back(ping);
    }

    /// The waiter of the oldest `PING` sent, for the `PONG` just read, with what it tells a
    /// flush: an error when messages published before it were lost with a connection (each
    /// loss is told once).
    pub(crate) fn pong(&mut self) -> Option<(PongWaiter, Result<(), FlushErrorKind>)> {
        let Ping { waiter, upto } = self.sent_pings.pop_front()?;
        self.confirmed_upto = self.confirmed_upto.max(upto);
        let mut outcome = Ok(());
        if let (PongWaiter::Flush(done), Some((after, lost_upto))) = (&waiter, self.unconfirmed) {
            // A flush nobody waits for any more (timed out, dropped) is not told: the loss
            // stays for the next flush.
            if upto > after && !done.is_closed() {
                outcome = Err(FlushErrorKind::ConnectionLost);
                self.unconfirmed = (upto < lost_upto).then_some((upto, lost_upto));
            }
        }
        Some((waiter, outcome))
    }

    /// Takes everything there is to write, in order; its `PING`s count as sent.
    #[cfg(test)]
    pub(crate) fn take(&mut self) -> Vec<Bytes> {
        let mut batch = Vec::new();
        self.take_into(&mut batch);
        batch
    }

    /// Replaces the written `batch` with everything there is to write, in order; its `PING`s
    /// count as sent. The buffers of the written batch that nobody else holds are kept for
    /// the next tails.
    pub(crate) fn take_into(&mut self, batch: &mut Vec<Bytes>) {
        for written in batch.drain(..) {
            self.recycle(written);
        }
        self.seal_tail();
        self.len = 0;
        self.taken_upto = self.out_msgs;
        self.sent_pings.append(&mut self.queued_pings);
        batch.extend(self.chunks.drain(..));
    }

    /// Keeps a written buffer for reuse if it is one of ours (a tail's size) and unshared.
    fn recycle(&mut self, written: Bytes) {
        if self.spare.len() >= MAX_SPARE_BUFFERS {
            return;
        }
        if let Ok(mut buffer) = written.try_into_mut() {
            if (TAIL_CAPACITY..=2 * TAIL_CAPACITY).contains(&buffer.capacity()) {
                buffer.clear();
                self.spare.push(buffer);
            }
        }
    }

    /// Puts `bytes` in front of everything queued: what a new connection must send first.
    pub(crate) fn push_front(&mut self, bytes: Bytes) {
        self.seal_tail();
        self.len += bytes.len();
        self.chunks.push_front(bytes);
    }

    /// The connection was lost: messages handed to it that the server had not confirmed may
    /// be gone (the next flushes say so), and no `PONG` will come for the `PING`s sent on it.
    /// The flushes among those are queued again, ahead of the `PING`s still waiting (which
    /// were queued after them), so that each flush is answered in its turn and the loss is
    /// told to every flush whose messages it may have taken. Returns the other waiters.
    pub(crate) fn connection_lost(&mut self) -> Vec<PongWaiter> {
        if self.taken_upto > self.confirmed_upto {
            let lost = match self.unconfirmed {
                Some((after, upto)) => (after.min(self.confirmed_upto), upto.max(self.taken_upto)),
                None => (self.confirmed_upto, self.taken_upto),
            };
            self.unconfirmed = Some(lost);
        }
        let mut others = Vec::new();
        let mut flushes = VecDeque::new();
        for ping in std::mem::take(&mut self.sent_pings) {
            match ping.waiter {
                // A flush nobody waits for any more is not sent again.
                PongWaiter::Flush(ref done) if done.is_closed() => {}
                PongWaiter::Flush(_) if !self.closed => flushes.push_back(ping),
                waiter => others.push(waiter),
            }
        }
        // Every PING is the same four bytes: which one answers which waiter is decided by
        // the order of the waiters alone.
        for _ in 0..flushes.len() {
            self.push_raw(encoder::PING);
        }
        flushes.append(&mut self.queued_pings);
        self.queued_pings = flushes;
        others
    }

    /// Every waiter, sent or queued: the client is closing, and later ones are dropped at once.
    pub(crate) fn close(&mut self) -> impl Iterator<Item = PongWaiter> {
        self.closed = true;
        let mut all = std::mem::take(&mut self.sent_pings);
        all.append(&mut self.queued_pings);
        all.into_iter().map(|ping| ping.waiter)
    }

    /// Moves the tail, if it holds anything, to the chunks, and puts a whole buffer in its
    /// place (a spare one when there is one): the sealed chunk is then the only user of its
    /// buffer, which comes back here once written.
    fn seal_tail(&mut self) {
        if self.tail.is_empty() {
            if self.tail.capacity() < TAIL_CAPACITY {
                self.tail = self.fresh_buffer();
            }
            return;
        }
        let fresh = self.fresh_buffer();
        let full = std::mem::replace(&mut self.tail, fresh);
        self.chunks.push_back(full.freeze());
    }

    fn fresh_buffer(&mut self) -> BytesMut {
        match self.spare.pop() {
            Some(mut buffer) => {
                // A buffer whose start was written in a partial write: unshared, so this
                // moves its view back to the start, no allocation.
                buffer.reserve(TAIL_CAPACITY);
                buffer
            }
            None => BytesMut::with_capacity(TAIL_CAPACITY),
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
    fn a_backlog_is_sealed_in_tail_sized_chunks() {
        let mut out = Outbox::default();
        let payload = Bytes::from(vec![b'p'; 1024]);
        for _ in 0..1000 {
            out.publish("subject", None, None, &payload);
        }
        let expected_len = out.len();
        let chunks = out.take();
        assert!(chunks.len() > 1000 * 1024 / TAIL_CAPACITY);
        assert!(chunks.iter().all(|chunk| chunk.len() <= TAIL_CAPACITY));
        let bytes = concat(chunks);
        assert_eq!(bytes.len(), expected_len);
        let frame = [b"PUB subject 1024\r\n".as_slice(), &payload, b"\r\n"].concat();
        assert_eq!(bytes, frame.repeat(1000));
    }

    #[test]
    fn large_payloads_share_one_buffer_for_their_control_lines() {
        let mut out = Outbox::default();
        let big = Bytes::from(vec![b'z'; ZERO_COPY_THRESHOLD]);
        for _ in 0..100 {
            out.publish("b", None, None, &big);
        }
        let chunks = out.take();
        let lines: Vec<&Bytes> = chunks.iter().filter(|c| c.len() < 64).collect();
        assert!(lines.len() >= 100);
        let first = lines[0].as_ptr() as usize;
        // Every control line lies in the first line's buffer, not in one buffer each.
        assert!(lines
            .iter()
            .all(|line| (line.as_ptr() as usize).abs_diff(first) < TAIL_CAPACITY));
    }

    #[test]
    fn written_buffers_are_reused_unless_still_held() {
        let mut out = Outbox::default();
        let mut batch = Vec::new();
        let mut starts = Vec::new();
        for _ in 0..3 {
            out.publish("a", None, None, &Bytes::from_static(b"x"));
            out.take_into(&mut batch);
            starts.push(batch[0].as_ptr());
        }
        assert_eq!(
            starts[0], starts[2],
            "the first buffer came back for the third batch"
        );
        assert_ne!(starts[0], starts[1]);
        // A written chunk somebody still holds keeps its bytes.
        let held = batch[0].clone();
        out.take_into(&mut batch);
        for _ in 0..3 {
            out.publish("b", None, None, &Bytes::from_static(b"yy"));
            out.take_into(&mut batch);
        }
        assert_eq!(&held[..], b"PUB a 1\r\nx\r\n");
    }

    #[test]
    fn pings_count_as_sent_once_taken() {
        let mut out = Outbox::default();
        out.ping(PongWaiter::KeepAlive);
        assert!(out.pong().is_none(), "a queued PING cannot be answered");
        let _ = out.take();
        out.ping(PongWaiter::KeepAlive);
        assert!(matches!(out.pong(), Some((PongWaiter::KeepAlive, Ok(())))));
        assert!(out.pong().is_none());
        assert_eq!(out.connection_lost().len(), 0);
        assert_eq!(out.close().count(), 1);
    }

    fn publish(out: &mut Outbox, n: usize) {
        for _ in 0..n {
            out.publish("a", None, None, &Bytes::from_static(b"x"));
        }
    }

    fn flush(out: &mut Outbox) -> oneshot::Receiver<Result<(), FlushErrorKind>> {
        let (done, result) = oneshot::channel();
        out.ping(PongWaiter::Flush(done));
        result
    }

    /// Answers the oldest PING the way the connection task does.
    fn answer(out: &mut Outbox) {
        let (waiter, outcome) = out.pong().expect("a PING was sent");
        if let PongWaiter::Flush(done) = waiter {
            let _ = done.send(outcome);
        }
    }

    #[test]
    fn a_flush_after_a_loss_of_unconfirmed_messages_reports_it_once() {
        let mut out = Outbox::default();
        publish(&mut out, 3);
        let mut first = flush(&mut out);
        let _ = out.take();
        answer(&mut out);
        assert_eq!(first.try_recv(), Ok(Ok(())));
        // Two more are handed to a connection that breaks before any PONG.
        publish(&mut out, 2);
        let _ = out.take();
        assert!(out.connection_lost().is_empty());
        // Published during the outage: these are still in the buffer and will be sent.
        publish(&mut out, 2);
        let mut second = flush(&mut out);
        let _ = out.take();
        answer(&mut out);
        assert_eq!(second.try_recv(), Ok(Err(FlushErrorKind::ConnectionLost)));
        publish(&mut out, 1);
        let mut third = flush(&mut out);
        let _ = out.take();
        answer(&mut out);
        assert_eq!(third.try_recv(), Ok(Ok(())), "the loss is told once");
    }

    #[test]
    fn a_loss_with_everything_confirmed_or_unsent_is_no_loss() {
        let mut out = Outbox::default();
        publish(&mut out, 2);
        out.ping(PongWaiter::KeepAlive);
        let _ = out.take();
        answer(&mut out);
        assert!(out.connection_lost().is_empty());
        // Not handed to the lost connection: sent on the next one.
        publish(&mut out, 2);
        assert!(out.connection_lost().is_empty());
        let mut done = flush(&mut out);
        let _ = out.take();
        answer(&mut out);
        assert_eq!(done.try_recv(), Ok(Ok(())));
    }

    #[test]
    fn a_flush_sent_on_the_lost_connection_reports_the_loss_when_answered_again() {
        let mut out = Outbox::default();
        publish(&mut out, 2);
        let mut done = flush(&mut out);
        let _ = out.take();
        assert!(
            out.connection_lost().is_empty(),
            "the flush is queued again"
        );
        let _ = out.take();
        answer(&mut out);
        assert_eq!(done.try_recv(), Ok(Err(FlushErrorKind::ConnectionLost)));
    }

    #[test]
    fn overlapping_flushes_across_a_loss_each_report_what_they_may_have_lost() {
        let mut out = Outbox::default();
        publish(&mut out, 100);
        let mut sent = flush(&mut out);
        let _ = out.take();
        // More messages and a second flush, queued behind the first and still in the buffer
        // when the connection breaks.
        publish(&mut out, 40);
        let _ = out.take();
        let mut queued = flush(&mut out);
        assert!(out.connection_lost().is_empty());
        let _ = out.take();
        answer(&mut out);
        answer(&mut out);
        assert_eq!(
            sent.try_recv(),
            Ok(Err(FlushErrorKind::ConnectionLost)),
            "the older first"
        );
        assert_eq!(queued.try_recv(), Ok(Err(FlushErrorKind::ConnectionLost)));
        publish(&mut out, 1);
        let mut later = flush(&mut out);
        let _ = out.take();
        answer(&mut out);
        assert_eq!(later.try_recv(), Ok(Ok(())));
    }

    #[test]
    fn an_abandoned_flush_leaves_the_loss_for_the_next_one() {
        let mut out = Outbox::default();
        publish(&mut out, 3);
        let abandoned = flush(&mut out);
        let _ = out.take();
        assert!(out.connection_lost().is_empty());
        drop(abandoned);
        let mut retry = flush(&mut out);
        let _ = out.take();
        answer(&mut out);
        answer(&mut out);
        assert_eq!(retry.try_recv(), Ok(Err(FlushErrorKind::ConnectionLost)));
    }

    #[test]
    fn a_closed_outbox_drops_new_waiters() {
        let mut out = Outbox::default();
        let mut before = flush(&mut out);
        assert_eq!(out.close().count(), 1);
        assert!(before.try_recv().is_err(), "dropped with the close");
        let len = out.len();
        let mut after = flush(&mut out);
        assert!(after.try_recv().is_err(), "never queued");
        assert_eq!(out.len(), len, "no PING written for it");
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
