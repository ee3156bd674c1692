//! The physical limit of this machine and server: raw TCP sockets speaking the protocol with
//! pre-encoded frames, no client library at all. Each ceiling runner does the same work as the
//! row it bounds, so our fraction of it says how much any client could still gain.

use std::time::Instant;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::client::BenchError;

/// One raw connection, past the handshake.
pub(crate) struct RawConnection {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    line: Vec<u8>,
}

/// What the server sent that a raw client cares about.
enum Frame {
    Pong,
    /// A message: its reply subject (empty when none) and payload length.
    Msg {
        reply: Vec<u8>,
        len: usize,
    },
}

impl RawConnection {
    /// Connects to `url` (`nats://host:port`), reads `INFO`, sends `CONNECT` and a `PING`,
    /// and waits for the `PONG`.
    pub(crate) async fn connect(url: &str) -> Result<Self, BenchError> {
        let address = url.trim_start_matches("nats://");
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (read, writer) = stream.into_split();
        let mut connection = RawConnection {
            reader: BufReader::with_capacity(256 * 1024, read),
            writer,
            line: Vec::with_capacity(256),
        };
        connection.read_line().await?;
        if !connection.line.starts_with(b"INFO ") {
            return Err("raw: the server did not start with INFO".into());
        }
        connection
            .write(b"CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":false}\r\nPING\r\n")
            .await?;
        connection.wait_pong().await?;
        Ok(connection)
    }

    /// Writes `bytes` as they are.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> Result<(), BenchError> {
        Ok(self.writer.write_all(bytes).await?)
    }

    /// Sends a `PING` and waits for its `PONG`: the server has read everything before it.
    pub(crate) async fn ping(&mut self) -> Result<(), BenchError> {
        self.write(b"PING\r\n").await?;
        self.wait_pong().await
    }

    async fn wait_pong(&mut self) -> Result<(), BenchError> {
        loop {
            if let Frame::Pong = self.next_frame().await? {
                return Ok(());
            }
        }
    }

    /// The next message: its reply subject and payload length.
    pub(crate) async fn next_msg(&mut self) -> Result<(Vec<u8>, usize), BenchError> {
        loop {
            if let Frame::Msg { reply, len } = self.next_frame().await? {
                return Ok((reply, len));
            }
        }
    }

    async fn read_line(&mut self) -> Result<(), BenchError> {
        self.line.clear();
        let n = self.reader.read_until(b'\n', &mut self.line).await?;
        if n == 0 {
            return Err("raw: the server closed the connection".into());
        }
        Ok(())
    }

    /// Reads frames until a `PONG` or a `MSG`; answers the server's `PING`s.
    async fn next_frame(&mut self) -> Result<Frame, BenchError> {
        loop {
            self.read_line().await?;
            let line = self.line.strip_suffix(b"\r\n").unwrap_or(&self.line);
            if line == b"PONG" {
                return Ok(Frame::Pong);
            }
            if line == b"PING" {
                self.writer.write_all(b"PONG\r\n").await?;
                continue;
            }
            if line.starts_with(b"-ERR") {
                return Err(format!("raw: {}", String::from_utf8_lossy(line)).into());
            }
            if let Some(args) = line.strip_prefix(b"MSG ") {
                let fields: Vec<&[u8]> = args.split(|b| *b == b' ').collect();
                let (reply, size) = match fields.as_slice() {
                    [_, _, size] => (&b""[..], *size),
                    [_, _, reply, size] => (*reply, *size),
                    _ => return Err("raw: a MSG line with an odd shape".into()),
                };
                let len: usize = std::str::from_utf8(size)?.parse()?;
                let reply = reply.to_vec();
                let mut skip = vec![0; len + 2];
                self.reader.read_exact(&mut skip).await?;
                return Ok(Frame::Msg { reply, len });
            }
            // +OK, INFO updates: nothing to do.
        }
    }
}

/// `count` `PUB` frames of `size` bytes to `subject`, encoded once into one buffer.
pub(crate) fn pub_frames(subject: &str, size: usize, count: usize) -> Vec<u8> {
    let mut frame = format!("PUB {subject} {size}\r\n").into_bytes();
    frame.extend(std::iter::repeat_n(b'x', size));
    frame.extend_from_slice(b"\r\n");
    frame.repeat(count)
}

/// The raw publish ceiling: every frame written from one buffer, then timed to the `PONG`.
pub(crate) async fn publish(
    url: &str,
    subject: &str,
    size: usize,
    count: usize,
) -> Result<f64, BenchError> {
    let frames = pub_frames(subject, size, count);
    let mut connection = RawConnection::connect(url).await?;
    let start = Instant::now();
    connection.write(&frames).await?;
    connection.ping().await?;
    Ok(start.elapsed().as_secs_f64())
}

/// A raw responder: answers every message on `subject` with one pre-encoded `PUB` of `size`
/// bytes to the requester's fixed reply subject `reply`.
pub(crate) async fn serve_echo(
    url: &str,
    subject: &str,
    reply: &str,
    size: usize,
) -> Result<tokio::task::JoinHandle<()>, BenchError> {
    let mut connection = RawConnection::connect(url).await?;
    connection
        .write(format!("SUB {subject} 1\r\n").as_bytes())
        .await?;
    connection.ping().await?;
    let answer = pub_frames(reply, size, 1);
    Ok(tokio::spawn(async move {
        while let Ok((to, _)) = connection.next_msg().await {
            if !to.is_empty() && connection.write(&answer).await.is_err() {
                return;
            }
        }
    }))
}

/// A raw requester: one pre-encoded request frame, a subscription on its fixed reply subject.
pub(crate) struct RawRequester {
    connection: RawConnection,
    request: Vec<u8>,
}

impl RawRequester {
    /// Subscribes `reply` and prepares the request to `subject`.
    pub(crate) async fn new(
        url: &str,
        subject: &str,
        reply: &str,
        size: usize,
    ) -> Result<Self, BenchError> {
        let mut connection = RawConnection::connect(url).await?;
        connection
            .write(format!("SUB {reply} 1\r\n").as_bytes())
            .await?;
        connection.ping().await?;
        let mut request = format!("PUB {subject} {reply} {size}\r\n").into_bytes();
        request.extend(std::iter::repeat_n(b'x', size));
        request.extend_from_slice(b"\r\n");
        Ok(RawRequester {
            connection,
            request,
        })
    }

    /// One round trip: the length of the reply's payload.
    pub(crate) async fn round_trip(&mut self) -> Result<usize, BenchError> {
        let RawRequester {
            connection,
            request,
        } = self;
        connection.write(request).await?;
        let (_, len) = connection.next_msg().await?;
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_what_the_protocol_says() {
        assert_eq!(
            pub_frames("a.b", 3, 2),
            b"PUB a.b 3\r\nxxx\r\nPUB a.b 3\r\nxxx\r\n"
        );
    }
}
