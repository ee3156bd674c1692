//! The byte stream a connection runs over: TCP, or any stream a [`Dialer`] makes (in-memory
//! pipes with scripted server bytes in the tests; TLS slots in here as one more variant).
//!
//! The connection task reads and writes at once. A TCP stream splits into borrowed halves for
//! free, so the hot path pays nothing for the other variants; other streams are split with
//! `tokio::io::split`, which takes a lock per operation.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::options::ConnectOptions;
use crate::server_addr::ServerAddr;

/// A stream the connection can run over.
pub(crate) trait AsyncStream: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> AsyncStream for T {}

/// A future returned by a [`Dialer`].
pub(crate) type DialFuture<'a> = Pin<Box<dyn Future<Output = io::Result<Transport>> + Send + 'a>>;

/// Opens the stream to a server, instead of a TCP connection.
pub(crate) trait Dialer: Send + Sync {
    /// Opens a stream to `addr`.
    fn dial<'a>(&'a self, addr: &'a ServerAddr) -> DialFuture<'a>;
}

/// An open stream to a server.
pub(crate) enum Transport {
    /// A TCP connection.
    Tcp(TcpStream),
    /// Any other stream: TLS over TCP, or what a test's dialer makes.
    Boxed(Box<dyn AsyncStream>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Tcp(tcp) => f.debug_tuple("Tcp").field(tcp).finish(),
            Transport::Boxed(_) => f.write_str("Boxed(..)"),
        }
    }
}

/// Opens a stream to `addr`: with the options' dialer, or over TCP with `TCP_NODELAY`.
pub(crate) async fn dial(addr: &ServerAddr, options: &ConnectOptions) -> io::Result<Transport> {
    if let Some(dialer) = &options.dialer {
        return dialer.dial(addr).await;
    }
    let stream = TcpStream::connect(addr.dial_target()).await?;
    stream.set_nodelay(true)?;
    Ok(Transport::Tcp(stream))
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Boxed(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Transport::Boxed(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Transport::Boxed(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Transport::Tcp(s) => s.is_write_vectored(),
            Transport::Boxed(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_flush(cx),
            Transport::Boxed(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Boxed(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
