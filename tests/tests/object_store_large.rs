//! A 50 MB object through the Object Store with memory that does not grow with it: the data
//! comes from a generator and goes to a hasher, so any growth of this process is the client's.
//! (Alone in its test binary, so that no other test's memory is counted.)

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use base64::engine::general_purpose::URL_SAFE;
use base64::Engine;
use nats_core::object_store::ObjectStoreConfig;
use nats_tests::{within, NatsServer};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

const SIZE: usize = 50 * 1024 * 1024;

/// `SIZE` pseudo-random bytes, hashed as they are handed out.
struct Generator {
    left: usize,
    state: u64,
    hasher: Sha256,
}

impl AsyncRead for Generator {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.left.min(buf.remaining()).min(64 * 1024);
        let mut chunk = vec![0u8; n];
        for byte in &mut chunk {
            // xorshift: cheap, not compressible.
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *byte = self.state as u8;
        }
        self.hasher.update(&chunk);
        self.left -= n;
        buf.put_slice(&chunk);
        Poll::Ready(Ok(()))
    }
}

/// This process's resident memory, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50_mb_object_round_trips_in_constant_memory() {
    let server = NatsServer::spawn_jetstream();
    let client = nats_core::connect(server.url()).await.expect("connect");
    let js = client.jetstream();
    let files = js
        .create_object_store(ObjectStoreConfig::new("large"))
        .await
        .expect("bucket");
    // Warm up the connection and buffers with a small object first.
    files
        .put_bytes("warm-up", vec![7u8; 1 << 20])
        .await
        .expect("warm-up");
    let baseline = rss_kib();

    let mut source = Generator {
        left: SIZE,
        state: 0x9E37_79B9_7F4A_7C15,
        hasher: Sha256::new(),
    };
    let info = within("put 50 MB", files.put("large.bin", &mut source))
        .await
        .expect("put");
    let expected = format!("SHA-256={}", URL_SAFE.encode(source.hasher.finalize()));
    assert_eq!(info.size, SIZE as u64);
    assert_eq!(info.digest, expected);
    let after_put = rss_kib();

    let mut reader = files.get("large.bin").await.expect("open");
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut read = 0usize;
    let mut peak = after_put;
    loop {
        let n = within("read", reader.read(&mut buffer))
            .await
            .expect("read");
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        read += n;
        if read % (8 << 20) < n {
            peak = peak.max(rss_kib());
        }
    }
    assert_eq!(read, SIZE);
    assert_eq!(
        format!("SHA-256={}", URL_SAFE.encode(hasher.finalize())),
        expected
    );
    peak = peak.max(rss_kib());
    let growth_mib = peak.saturating_sub(baseline) / 1024;
    eprintln!("rss: baseline {baseline} KiB, after put {after_put} KiB, peak {peak} KiB");
    assert!(
        growth_mib < 24,
        "memory grew by {growth_mib} MiB for a 50 MiB object (baseline {baseline} KiB, after put {after_put} KiB, peak {peak} KiB)"
    );
}
