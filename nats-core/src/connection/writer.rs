//! The writing half of the connection task: takes whatever the outbox holds and writes it in
//! one vectored write.

use std::io::{self, IoSlice};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::shared::Shared;

/// Below this many bytes, a writer that is busy yields once before writing, so a burst
/// coalesces.
const COALESCE_BELOW: usize = 16 * 1024;

/// A wake-up this soon after the previous write means writes are following each other: the
/// writer is busy, and the publishers woken by the same burst of replies are about to add to
/// the batch. A longer pause is a quiet spell, after which a lone message (a request, a
/// reply) goes out at once. Well below a round trip through the server (~100 us here), so
/// one request at a time never waits.
const BUSY_WINDOW: Duration = Duration::from_micros(50);

/// Most buffers handed to one `writev` call.
const MAX_IOVECS: usize = 64;

/// Writes the outbox until the connection closes or breaks.
///
/// Returns `Ok` after writing everything that was queued once closing began.
pub(crate) async fn write_loop<W: AsyncWrite + Unpin>(
    shared: &Shared,
    writer: &mut W,
) -> io::Result<()> {
    // When the last write ended; `None` before the first.
    let mut last_write: Option<Instant> = None;
    // What was written last, handed back with the next take so its buffers are reused.
    let mut batch = Vec::new();
    loop {
        let queued = shared.outgoing.outbox.lock().len();
        let small = queued > 0 && queued < COALESCE_BELOW;
        if small && last_write.is_some_and(|at| at.elapsed() < BUSY_WINDOW) {
            // Let publishers running right now add to this batch: one write instead of many.
            tokio::task::yield_now().await;
        }
        shared.outgoing.outbox.lock().take_into(&mut batch);
        if batch.is_empty() {
            if shared.lifecycle.is_closing() {
                writer.flush().await?;
                return Ok(());
            }
            shared.outgoing.writer_wake.notified().await;
            continue;
        }
        write_all_vectored(writer, &mut batch).await?;
        last_write = Some(Instant::now());
        shared.outgoing.space.notify_waiters();
    }
}

/// Writes every chunk, in order, with as few system calls as the socket allows.
async fn write_all_vectored<W: AsyncWrite + Unpin>(
    writer: &mut W,
    chunks: &mut [Bytes],
) -> io::Result<()> {
    if let [only] = chunks {
        return writer.write_all(only).await;
    }
    let mut first = 0;
    while first < chunks.len() {
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        let count = (chunks.len() - first).min(MAX_IOVECS);
        for (slice, chunk) in slices.iter_mut().zip(&chunks[first..first + count]) {
            *slice = IoSlice::new(chunk);
        }
        let mut written = writer.write_vectored(&slices[..count]).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while written > 0 {
            let chunk = &mut chunks[first];
            if written >= chunk.len() {
                written -= chunk.len();
                first += 1;
            } else {
                chunk.advance(written);
                written = 0;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn vectored_write_keeps_order_through_partial_writes() {
        // A duplex with a tiny buffer forces many partial writes.
        let (mut client, mut server) = tokio::io::duplex(7);
        let mut chunks: Vec<Bytes> = (0..200u32)
            .map(|i| Bytes::from(format!("chunk-{i};")))
            .collect();
        let expected: Vec<u8> = chunks.iter().flat_map(|c| c.to_vec()).collect();
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            tokio::io::AsyncReadExt::read_to_end(&mut server, &mut got)
                .await
                .expect("read");
            got
        });
        write_all_vectored(&mut client, &mut chunks)
            .await
            .expect("write");
        drop(client);
        assert_eq!(reader.await.expect("join"), expected);
    }
}
