//! A synchronous client for programs that are not async: the async client running on a
//! background thread, with methods that block the caller until they are done.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // No runtime of your own: the client has one on a background thread.
//!     let client = nats_core::blocking::connect("nats://127.0.0.1:4222")?;
//!
//!     let mut jobs = client.queue_subscribe("jobs", "workers")?;
//!     client.publish("jobs", "resize photo 42")?;
//!     if let Ok(job) = jobs.next_timeout(Duration::from_secs(1)) {
//!         println!("got {:?}", job.payload);
//!     }
//!
//!     let reply = client.request_timeout("time.now", "", Duration::from_millis(500));
//!     println!("{reply:?}");
//!     client.drain()?;
//!     Ok(())
//! }
//! ```
//!
//! Every method is safe to call from any thread: `fn main`, a thread of a program that has
//! its own tokio runtime, or even a task of a multi-threaded runtime (where the wait is done
//! with `block_in_place`). On a current-thread runtime's own thread the wait blocks that
//! runtime's other tasks: call it from `spawn_blocking` there.

#[cfg(feature = "kv")]
mod jetstream;
mod runtime;
mod subscription;

use std::time::Duration;

use bytes::Bytes;
use tokio::runtime::Handle;

#[cfg(feature = "kv")]
pub use jetstream::{JetStream, KeyValue};
pub use subscription::{NextError, NextErrorKind, Subscription};

use crate::config::ConnectConfig;
use crate::error::{
    ConnectError, ConnectErrorKind, DrainError, FlushError, PublishError, RequestError,
    SubscribeError,
};
use crate::header::HeaderMap;
use crate::message::Message;
use crate::options::ConnectOptions;
use crate::request_options::RequestOptions;
use crate::server_addr::ToServerAddrs;

/// Connects to `servers` with the default options, blocking until connected.
///
/// # Errors
/// As [`crate::connect`].
pub fn connect(servers: impl ToServerAddrs) -> Result<Client, ConnectError> {
    Client::connect_with(ConnectOptions::new(), servers)
}

/// A blocking NATS client: a handle to an async [`crate::Client`] whose connection runs on a
/// background runtime. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct Client {
    inner: crate::Client,
    handle: &'static Handle,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Client")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Client {
    /// Connects to `servers` with `options`, blocking until connected (or until the options'
    /// connect attempts fail).
    ///
    /// # Errors
    /// As [`ConnectOptions::connect`]; [`ConnectErrorKind::Io`] when the background runtime
    /// cannot be started.
    pub fn connect_with(
        options: ConnectOptions,
        servers: impl ToServerAddrs,
    ) -> Result<Client, ConnectError> {
        let servers = servers.to_server_addrs()?;
        let handle = runtime::handle().ok_or_else(|| {
            ConnectError::with_source(
                ConnectErrorKind::Io,
                "cannot start the blocking client's runtime thread",
            )
        })?;
        let inner = runtime::block_on(handle, options.connect(servers))?;
        Ok(Client { inner, handle })
    }

    /// Connects as `config` says (see [`ConnectConfig::from_env`]).
    ///
    /// # Errors
    /// As [`connect_with`](Self::connect_with).
    pub fn connect_config(config: &ConnectConfig) -> Result<Client, ConnectError> {
        Client::connect_with(config.options(), config.servers())
    }

    /// Wraps an async client (connected on any runtime) into a blocking one.
    ///
    /// Its futures are driven by this module's background runtime's context; the connection
    /// keeps running where it was made.
    pub fn from_async(client: crate::Client) -> Option<Client> {
        Some(Client {
            inner: client,
            handle: runtime::handle()?,
        })
    }

    /// The async client underneath, for what has no blocking counterpart.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    /// Runs `future` to completion on this thread in the client's runtime context: the way
    /// to call anything of the async API (JetStream, Key-Value) from blocking code.
    ///
    /// ```no_run
    /// # fn demo(client: nats_core::blocking::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let async_client = client.as_async().clone();
    /// let reply = client.block_on(async move { async_client.request("svc", "hi").await })?;
    /// # let _ = reply; Ok(()) }
    /// ```
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        runtime::block_on(self.handle, future)
    }

    /// Publishes `payload` to `subject`; returns once it is handed to the connection (use
    /// [`flush`](Self::flush) to know that the server has it).
    ///
    /// # Errors
    /// As [`crate::Client::publish`].
    pub fn publish(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.block_on(self.inner.publish(subject, payload))
    }

    /// Publishes with a reply subject.
    ///
    /// # Errors
    /// As [`crate::Client::publish_with_reply`].
    pub fn publish_with_reply(
        &self,
        subject: impl AsRef<str>,
        reply: impl AsRef<str>,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.block_on(self.inner.publish_with_reply(subject, reply, payload))
    }

    /// Publishes with headers.
    ///
    /// # Errors
    /// As [`crate::Client::publish_with_headers`].
    pub fn publish_with_headers(
        &self,
        subject: impl AsRef<str>,
        headers: HeaderMap,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.block_on(self.inner.publish_with_headers(subject, headers, payload))
    }

    /// Sends a request and waits for the first reply, within the client's request timeout.
    ///
    /// # Errors
    /// As [`crate::Client::request`].
    pub fn request(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
    ) -> Result<Message, RequestError> {
        self.block_on(self.inner.request(subject, payload))
    }

    /// Sends a request and waits at most `timeout` for the reply.
    ///
    /// # Errors
    /// As [`crate::Client::request`].
    pub fn request_timeout(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
        timeout: Duration,
    ) -> Result<Message, RequestError> {
        let request = RequestOptions::new().payload(payload).timeout(timeout);
        self.send_request(subject, request)
    }

    /// Sends the request `request` describes (payload, headers, timeout).
    ///
    /// # Errors
    /// As [`crate::Client::send_request`].
    pub fn send_request(
        &self,
        subject: impl AsRef<str>,
        request: RequestOptions,
    ) -> Result<Message, RequestError> {
        self.block_on(self.inner.send_request(subject, request))
    }

    /// Waits until the server has everything published so far (within the flush timeout).
    ///
    /// # Errors
    /// As [`crate::Client::flush`].
    pub fn flush(&self) -> Result<(), FlushError> {
        self.block_on(self.inner.flush())
    }

    /// [`flush`](Self::flush) within `timeout`.
    ///
    /// # Errors
    /// As [`crate::Client::flush_timeout`].
    pub fn flush_timeout(&self, timeout: Duration) -> Result<(), FlushError> {
        self.block_on(self.inner.flush_timeout(timeout))
    }

    /// Subscribes to `subject`; the subscription is an [`Iterator`] of messages.
    ///
    /// # Errors
    /// As [`crate::Client::subscribe`].
    pub fn subscribe(&self, subject: impl AsRef<str>) -> Result<Subscription, SubscribeError> {
        let sub = self.block_on(self.inner.subscribe(subject))?;
        Ok(Subscription::new(sub, self.handle))
    }

    /// Subscribes to `subject` in the queue group `queue`: each message goes to one member.
    ///
    /// # Errors
    /// As [`crate::Client::queue_subscribe`].
    pub fn queue_subscribe(
        &self,
        subject: impl AsRef<str>,
        queue: impl Into<String>,
    ) -> Result<Subscription, SubscribeError> {
        let sub = self.block_on(self.inner.queue_subscribe(subject, queue))?;
        Ok(Subscription::new(sub, self.handle))
    }

    /// Drains (unsubscribes, lets subscriptions take what arrived, flushes) and closes, within
    /// the drain timeout.
    ///
    /// # Errors
    /// As [`crate::Client::drain`].
    pub fn drain(&self) -> Result<(), DrainError> {
        self.block_on(self.inner.drain())
    }

    /// Closes the connection at once.
    pub fn close(&self) {
        self.block_on(self.inner.close());
    }

    /// The JetStream context with the default options, for publishing with acknowledgement
    /// and Key-Value.
    #[cfg(feature = "kv")]
    pub fn jetstream(&self) -> JetStream {
        JetStream::new(self.inner.jetstream(), self.handle)
    }

    /// Whether the connection is up.
    pub fn is_connected(&self) -> bool {
        self.inner.is_connected()
    }
}

impl ConnectConfig {
    /// Connects a [blocking client](Client) as these settings say.
    ///
    /// # Errors
    /// As [`Client::connect_with`].
    pub fn connect_blocking(&self) -> Result<Client, ConnectError> {
        Client::connect_config(self)
    }
}
