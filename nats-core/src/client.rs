//! [`Client`]: the cheap-to-clone handle through which everything is published, subscribed
//! and requested.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::connection;
use crate::connector;
use crate::drain_guard::DrainGuard;
use crate::error::{
    ConnectError, ConnectErrorKind, DrainError, DrainErrorKind, FlushError, FlushErrorKind,
    PublishError, PublishErrorKind, RequestError, RequestErrorKind, SubscribeError,
    SubscribeErrorKind,
};
use crate::event::Event;
use crate::header::HeaderMap;
use crate::inbox::{Inbox, InboxSender};
use crate::message::Message;
use crate::options::ConnectOptions;
use crate::outbox::PongWaiter;
use crate::proto::ServerInfo;
use crate::request_options::{RequestMany, RequestOptions};
use crate::server_addr::{ServerAddr, ToServerAddrs};
use crate::server_error::ServerError;
use crate::server_pool::ServerPool;
use crate::shared::{Command, NewSubscription, Shared, Sink, State, Statistics};
use crate::subject::{self, Subject};
use crate::subscriber::Subscriber;

/// Connects to `servers` with default options.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = nats_core::connect("nats://127.0.0.1:4222").await?;
/// client.publish("greet.joe", "hello").await?;
/// client.flush().await?;
/// # Ok(()) }
/// ```
///
/// # Errors
/// A [`ConnectError`] when no address parses or no server accepts.
pub async fn connect(servers: impl ToServerAddrs) -> Result<Client, ConnectError> {
    ConnectOptions::new().connect(servers).await
}

/// A connection to NATS. Clones share the connection; when the last clone is dropped the
/// connection writes what it buffered and closes.
#[derive(Debug, Clone)]
pub struct Client {
    handle: Arc<Handle>,
}

/// Closes the connection when the last [`Client`] goes away.
#[derive(Debug)]
struct Handle {
    shared: Arc<Shared>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.shared.commands.send(Command::Close);
    }
}

/// Options of one subscription.
#[derive(Debug, Clone, Default)]
pub struct SubscribeOptions {
    /// Queue group: each message goes to one member of the group.
    pub queue_group: Option<String>,
    /// Unsubscribe after this many messages (nats-py's `max_msgs`).
    pub max_msgs: Option<u64>,
    /// Messages held before dropping; the client's default when `None`.
    pub pending_msgs_limit: Option<usize>,
    /// Payload bytes held before dropping; the client's default when `None`.
    pub pending_bytes_limit: Option<usize>,
}

impl Client {
    pub(crate) async fn connect_with(
        servers: Vec<ServerAddr>,
        options: ConnectOptions,
    ) -> Result<Client, ConnectError> {
        if servers.is_empty() {
            return Err(ConnectErrorKind::NoServers.into());
        }
        let mut pool = ServerPool::new(servers, options.randomize);
        let (first, failure) = match connector::connect_any(&mut pool, &options).await {
            Ok(connection) => (Some(connection), None),
            Err(err) if options.retry_on_initial_connect => (None, Some(err)),
            Err(err) => return Err(err),
        };
        let callback = options.event_callback.clone();
        let (shared, receivers) = Shared::new(options, pool);
        spawn_event_task(receivers.events, callback);
        if let Some(err) = failure {
            shared.events.error(format!(
                "first connection failed, retrying in the background: {err}"
            ));
        }
        connection::spawn(Arc::clone(&shared), first, receivers.commands);
        Ok(Client {
            handle: Arc::new(Handle { shared }),
        })
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.handle.shared
    }

    /// Publishes `payload` to `subject`.
    ///
    /// The message is queued for the connection to write; [`flush`](Self::flush) waits until
    /// the server has it. Waits when more than `pending_size` bytes are queued.
    ///
    /// # Errors
    /// A [`PublishError`] for an invalid subject, a payload over the server's `max_payload`,
    /// or a closed client; nothing is sent then.
    pub async fn publish(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.publish_message(subject.as_ref(), None, None, payload.into())
            .await
    }

    /// Publishes with a reply subject for the receivers to answer to.
    ///
    /// # Errors
    /// As [`publish`](Self::publish), and for an invalid reply subject.
    pub async fn publish_with_reply(
        &self,
        subject: impl AsRef<str>,
        reply: impl AsRef<str>,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.publish_message(subject.as_ref(), Some(reply.as_ref()), None, payload.into())
            .await
    }

    /// Publishes with headers.
    ///
    /// # Errors
    /// As [`publish`](Self::publish), and for a header that cannot be sent.
    pub async fn publish_with_headers(
        &self,
        subject: impl AsRef<str>,
        headers: HeaderMap,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.publish_message(subject.as_ref(), None, Some(&headers), payload.into())
            .await
    }

    /// Publishes with a reply subject and headers.
    ///
    /// # Errors
    /// As [`publish_with_reply`](Self::publish_with_reply) and
    /// [`publish_with_headers`](Self::publish_with_headers).
    pub async fn publish_with_reply_and_headers(
        &self,
        subject: impl AsRef<str>,
        reply: impl AsRef<str>,
        headers: HeaderMap,
        payload: impl Into<Bytes>,
    ) -> Result<(), PublishError> {
        self.publish_message(
            subject.as_ref(),
            Some(reply.as_ref()),
            Some(&headers),
            payload.into(),
        )
        .await
    }

    async fn publish_message(
        &self,
        subject: &str,
        reply: Option<&str>,
        headers: Option<&HeaderMap>,
        payload: Bytes,
    ) -> Result<(), PublishError> {
        subject::validate_publish_subject(subject)?;
        if let Some(reply) = reply {
            subject::validate_publish_subject(reply)
                .map_err(|e| PublishError::with_source(PublishErrorKind::InvalidReply, e))?;
        }
        if let Some(headers) = headers {
            headers.validate()?;
        }
        self.shared()
            .publish(subject, reply, headers, &payload)
            .await
    }

    /// Waits until the server has processed everything published so far (a `PING` answered
    /// by its `PONG`), within the `flush_timeout` of the options if one is set. While the
    /// client reconnects, the flush waits for the next connection.
    ///
    /// # Errors
    /// A [`FlushError`]: [`FlushErrorKind::TimedOut`], [`FlushErrorKind::Closed`] when the
    /// client closes first, or [`FlushErrorKind::ConnectionLost`] when the server answered
    /// but a connection was lost since the previous flush with messages it had not
    /// confirmed (each such loss is reported to one flush).
    pub async fn flush(&self) -> Result<(), FlushError> {
        match self.shared().options.flush_timeout {
            Some(timeout) => self.flush_timeout(timeout).await,
            None => self.flush_inner().await,
        }
    }

    /// [`flush`](Self::flush) with an explicit timeout.
    ///
    /// # Errors
    /// A [`FlushError`] on timeout or when the connection closes first.
    pub async fn flush_timeout(&self, timeout: Duration) -> Result<(), FlushError> {
        tokio::time::timeout(timeout, self.flush_inner())
            .await
            .map_err(|_| FlushError::new(FlushErrorKind::TimedOut))?
    }

    async fn flush_inner(&self) -> Result<(), FlushError> {
        let (done, pong) = oneshot::channel();
        // On a closed client the outbox drops the waiter at once: `Closed`, never a hang.
        self.shared().outgoing.ping(PongWaiter::Flush(done));
        match pong.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(kind)) => Err(kind.into()),
            Err(_) => Err(FlushErrorKind::Closed.into()),
        }
    }

    /// Bytes queued but not yet handed to the socket.
    pub fn pending_data_size(&self) -> usize {
        self.shared().outgoing.len()
    }

    /// Subscribes to `subject`, which may hold the wildcards `*` and `>`.
    ///
    /// # Errors
    /// A [`SubscribeError`] for an invalid subject or a closed client.
    pub async fn subscribe(&self, subject: impl AsRef<str>) -> Result<Subscriber, SubscribeError> {
        self.subscribe_with(subject, SubscribeOptions::default())
            .await
    }

    /// Subscribes as a member of queue group `queue`: each message goes to one member.
    ///
    /// # Errors
    /// A [`SubscribeError`] for an invalid subject or queue group, or a closed client.
    pub async fn queue_subscribe(
        &self,
        subject: impl AsRef<str>,
        queue: impl Into<String>,
    ) -> Result<Subscriber, SubscribeError> {
        let options = SubscribeOptions {
            queue_group: Some(queue.into()),
            ..SubscribeOptions::default()
        };
        self.subscribe_with(subject, options).await
    }

    /// Subscribes with a queue group, an auto-unsubscribe count or pending limits.
    ///
    /// # Errors
    /// A [`SubscribeError`] for an invalid subject or queue group, or a closed client.
    pub async fn subscribe_with(
        &self,
        subject: impl AsRef<str>,
        options: SubscribeOptions,
    ) -> Result<Subscriber, SubscribeError> {
        let subject = subject.as_ref();
        subject::validate_subscribe_subject(subject)
            .map_err(|e| SubscribeError::with_source(SubscribeErrorKind::InvalidSubject, e))?;
        if let Some(queue) = &options.queue_group {
            subject::validate_queue_group(queue).map_err(|e| {
                SubscribeError::with_source(SubscribeErrorKind::InvalidQueueGroup, e)
            })?;
        }
        let shared = self.shared();
        if matches!(shared.state(), State::Closed | State::Draining) {
            return Err(SubscribeErrorKind::Closed.into());
        }
        let defaults = &shared.options;
        let inbox = Inbox::new(
            options
                .pending_msgs_limit
                .unwrap_or(defaults.pending_msgs_limit),
            options
                .pending_bytes_limit
                .unwrap_or(defaults.pending_bytes_limit),
        );
        let sid = shared.next_sid();
        let subject = Subject::from(subject);
        let registered = shared.subscribe(NewSubscription {
            sid,
            subject: subject.clone(),
            queue: options.queue_group.clone(),
            sink: Sink::Inbox(InboxSender(Arc::clone(&inbox))),
        });
        if !registered {
            return Err(SubscribeErrorKind::Closed.into());
        }
        let mut subscriber =
            Subscriber::new(sid, subject, options.queue_group, inbox, Arc::clone(shared));
        if let Some(max) = options.max_msgs {
            subscriber.unsubscribe_after(max)?;
        }
        Ok(subscriber)
    }

    /// Sends a request and waits for the first reply, within the client's request timeout.
    ///
    /// ```no_run
    /// # async fn demo(client: nats_core::Client) -> Result<(), nats_core::RequestError> {
    /// let reply = client.request("time.now", "").await?;
    /// println!("{:?}", reply.payload);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A [`RequestError`]: [`RequestErrorKind::NoResponders`] when nobody listens,
    /// [`RequestErrorKind::TimedOut`] when no reply comes in time.
    pub async fn request(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
    ) -> Result<Message, RequestError> {
        self.send_request(subject, RequestOptions::new().payload(payload))
            .await
    }

    /// Sends a request with headers and waits for the first reply.
    ///
    /// # Errors
    /// As [`request`](Self::request).
    pub async fn request_with_headers(
        &self,
        subject: impl AsRef<str>,
        headers: HeaderMap,
        payload: impl Into<Bytes>,
    ) -> Result<Message, RequestError> {
        let request = RequestOptions::new().payload(payload).headers(headers);
        self.send_request(subject, request).await
    }

    /// Sends a request described by `request` (payload, headers, timeout) and waits for the
    /// first reply.
    ///
    /// # Errors
    /// As [`request`](Self::request).
    pub async fn send_request(
        &self,
        subject: impl AsRef<str>,
        request: RequestOptions,
    ) -> Result<Message, RequestError> {
        let subject = subject.as_ref();
        subject::validate_publish_subject(subject).map_err(PublishError::from)?;
        if let Some(headers) = &request.headers {
            headers.validate().map_err(PublishError::from)?;
        }
        let shared = self.shared();
        if shared.lifecycle.is_closed_or_closing() {
            return Err(RequestErrorKind::Closed.into());
        }
        let timeout = request.timeout.unwrap_or(shared.options.request_timeout);
        // The timeout covers it all: the inbox subscription, waiting for room in the outbox
        // (during an outage), and the reply.
        let exchange = async {
            self.ensure_request_inbox().await?;
            shared
                .mux
                .refusal()
                .map_or(Ok(()), |err| Err(inbox_refused(err)))?;
            let (ticket, reply) = shared.mux.register();
            shared
                .publish(
                    subject,
                    Some(&ticket.reply),
                    request.headers.as_ref(),
                    &request.payload,
                )
                .await?;
            let message = reply.await;
            drop(ticket);
            message.map_err(|_| match shared.mux.refusal() {
                Some(err) => inbox_refused(err),
                None => RequestError::new(RequestErrorKind::Closed),
            })
        };
        let message = tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| RequestError::new(RequestErrorKind::TimedOut))??;
        if message.is_no_responders() {
            return Err(RequestErrorKind::NoResponders.into());
        }
        Ok(message)
    }

    /// Subscribes the request inbox on first use.
    async fn ensure_request_inbox(&self) -> Result<(), SubscribeError> {
        let shared = self.shared();
        shared
            .mux
            .sid
            .get_or_try_init(|| async {
                let sid = shared.next_sid();
                let registered = shared.subscribe(NewSubscription {
                    sid,
                    subject: Subject::from(shared.mux.wildcard()),
                    queue: None,
                    sink: Sink::Mux,
                });
                if registered {
                    Ok(sid)
                } else {
                    Err(SubscribeError::new(SubscribeErrorKind::Closed))
                }
            })
            .await?;
        Ok(())
    }

    /// Registers a reply in the request multiplexer, subscribing its inbox on first use: the
    /// way to publish many requests and await their replies later. The entry holds `permit`
    /// until the reply arrives or the ticket is dropped.
    #[cfg(feature = "jetstream")]
    pub(crate) async fn register_reply(
        &self,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<(crate::request::ReplyTicket, oneshot::Receiver<Message>), RequestError> {
        self.ensure_request_inbox().await?;
        let shared = self.shared();
        if let Some(err) = shared.mux.refusal() {
            return Err(inbox_refused(err));
        }
        Ok(shared.mux.register_holding(permit))
    }

    /// Sends a request and collects every reply until `max_messages` arrived, the timeout
    /// passed, or no reply came for the stall interval after the first.
    ///
    /// ```no_run
    /// # async fn demo(client: nats_core::Client) -> Result<(), nats_core::RequestError> {
    /// use std::time::Duration;
    /// use nats_core::RequestMany;
    /// let replies = client
    ///     .request_many("$SRV.PING", "", RequestMany::new().stall(Duration::from_millis(100)))
    ///     .await?;
    /// println!("{} services answered", replies.len());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// A [`RequestError`]; [`RequestErrorKind::NoResponders`] when nobody listens. No reply
    /// within the timeout is an empty list, not an error.
    pub async fn request_many(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
        options: RequestMany,
    ) -> Result<Vec<Message>, RequestError> {
        let subject = subject.as_ref();
        subject::validate_publish_subject(subject).map_err(PublishError::from)?;
        if let Some(headers) = &options.headers {
            headers.validate().map_err(PublishError::from)?;
        }
        // The timeout covers sending too: during an outage the request may wait for room.
        let deadline = tokio::time::Instant::now() + options.timeout;
        let inbox = self.new_inbox();
        let mut replies = self.subscribe(&inbox).await?;
        let payload = payload.into();
        let sent = self
            .shared()
            .publish(subject, Some(&inbox), options.headers.as_ref(), &payload);
        tokio::time::timeout_at(deadline, sent)
            .await
            .map_err(|_| RequestError::new(RequestErrorKind::TimedOut))??;
        options.collect(&mut replies, deadline).await
    }

    /// A new unique subject under the client's inbox prefix, to receive replies on.
    pub fn new_inbox(&self) -> String {
        format!("{}.{}", self.shared().options.inbox_prefix, nuid::next())
    }

    /// Drains: unsubscribes every subscription, lets their readers take the messages already
    /// received, waits for the [`DrainGuard`]s (work in flight, such as a service's handlers
    /// answering those messages) while publishing keeps working, writes everything
    /// published, then closes; all within `drain_timeout`. A subscription whose reader takes
    /// nothing for 200 ms does not hold the drain up: what it holds stays readable after the
    /// close, then its stream ends.
    ///
    /// The drain runs on a task of its own: a `drain` cut short (by a timeout, say) still
    /// completes and closes the client. Work that holds a guard and awaits the drain itself
    /// (a service handler calling `drain`) holds it up until `drain_timeout`: spawn the drain
    /// instead.
    ///
    /// # Errors
    /// [`DrainErrorKind::TimedOut`] if it took longer (the client is closed anyway), or
    /// [`DrainErrorKind::Closed`] if the client was closed or draining already.
    pub async fn drain(&self) -> Result<(), DrainError> {
        let shared = self.shared();
        if !shared.lifecycle.begin_draining() {
            return Err(DrainErrorKind::Closed.into());
        }
        let client = self.clone();
        let drain = tokio::spawn(async move { client.drain_then_close().await });
        drain
            .await
            .unwrap_or_else(|_| Err(DrainError::new(DrainErrorKind::Closed)))
    }

    /// A guard that holds a drain of this client back while it is alive (within the drain
    /// timeout), so that work in flight can still publish its results; see [`DrainGuard`].
    pub fn drain_guard(&self) -> DrainGuard {
        DrainGuard::new(Arc::clone(self.shared()))
    }

    async fn drain_then_close(&self) -> Result<(), DrainError> {
        let limit = self.shared().options.drain_timeout;
        let drained = tokio::time::timeout(limit, self.drain_steps()).await;
        self.close().await;
        match drained {
            Ok(result) => result,
            Err(_) => Err(DrainError::with_source(
                DrainErrorKind::TimedOut,
                format!("not drained within {limit:?}"),
            )),
        }
    }

    async fn drain_steps(&self) -> Result<(), DrainError> {
        let shared = self.shared();
        let (answer, ticket) = oneshot::channel();
        shared
            .commands
            .send(Command::Drain(answer))
            .map_err(|_| DrainError::new(DrainErrorKind::Closed))?;
        let ticket = ticket
            .await
            .map_err(|_| DrainError::new(DrainErrorKind::Closed))?;
        ticket
            .confirmed
            .await
            .map_err(|_| DrainError::new(DrainErrorKind::Closed))?;
        wait_for_readers(&ticket.pending).await;
        // What the readers took may still be answered: wait for the work in flight.
        shared.drain_holds.released().await;
        self.flush_inner()
            .await
            .map_err(|e| DrainError::with_source(DrainErrorKind::Closed, e))
    }

    /// Writes what is buffered and closes the connection; subscriptions end. Returns once the
    /// connection is closed. Closing a closed client does nothing.
    pub async fn close(&self) {
        let shared = self.shared();
        let _ = shared.commands.send(Command::Close);
        shared.lifecycle.wait_closed().await;
    }

    /// Where the client is in its life.
    pub fn state(&self) -> State {
        self.shared().state()
    }

    /// Whether the client is connected.
    pub fn is_connected(&self) -> bool {
        self.state() == State::Connected
    }

    /// Whether the client is making its first connection.
    pub fn is_connecting(&self) -> bool {
        self.state() == State::Connecting
    }

    /// Whether the client is closed.
    pub fn is_closed(&self) -> bool {
        self.state() == State::Closed
    }

    /// Whether the client is reconnecting.
    pub fn is_reconnecting(&self) -> bool {
        self.state() == State::Reconnecting
    }

    /// Whether the client is draining.
    pub fn is_draining(&self) -> bool {
        self.state() == State::Draining
    }

    /// What the server said about itself in its latest `INFO`.
    pub fn server_info(&self) -> Arc<ServerInfo> {
        Arc::clone(&self.shared().info.read())
    }

    /// The server currently connected to.
    pub fn connected_url(&self) -> Option<String> {
        self.shared()
            .connected_addr
            .read()
            .as_ref()
            .map(ToString::to_string)
    }

    /// Every server of the pool: the configured ones (those that did not leave it after
    /// failing `max_reconnect_attempts` times), then those the cluster announced.
    pub fn servers(&self) -> Vec<String> {
        let pool = self.shared().pool.lock();
        let mut all: Vec<String> = pool.configured().iter().map(ToString::to_string).collect();
        all.extend(pool.discovered());
        all
    }

    /// Servers the cluster announced that were not configured, as `scheme://host:port`.
    pub fn discovered_servers(&self) -> Vec<String> {
        self.shared().pool.lock().discovered()
    }

    /// Largest payload (headers included) the server accepts.
    pub fn max_payload(&self) -> usize {
        self.shared().max_payload()
    }

    /// The id the server gave this connection.
    pub fn client_id(&self) -> u64 {
        self.shared().info.read().client_id
    }

    /// The server's version, such as `2.15.1`.
    pub fn server_version(&self) -> String {
        self.shared().info.read().version.clone()
    }

    /// The latest error: an `-ERR` from the server or the reason the connection was lost.
    pub fn last_error(&self) -> Option<String> {
        self.shared().events.last_error()
    }

    /// Messages and bytes in and out so far.
    pub fn statistics(&self) -> Statistics {
        let shared = self.shared();
        let (out_msgs, out_bytes) = {
            let outbox = shared.outgoing.outbox.lock();
            (outbox.out_msgs, outbox.out_bytes)
        };
        Statistics {
            in_msgs: shared.in_msgs.load(Ordering::Relaxed),
            in_bytes: shared.in_bytes.load(Ordering::Relaxed),
            out_msgs,
            out_bytes,
            reconnects: shared.reconnects.load(Ordering::Relaxed),
        }
    }
}

/// How long a drain waits for a subscription whose reader takes nothing: past it, what the
/// subscription holds stays readable after the close, and the drain goes on.
const IDLE_READER: Duration = Duration::from_millis(200);

/// Waits until the readers of `inboxes` have taken what was delivered, or gone away, or
/// stopped reading: a `Subscriber` nobody reads does not hold a drain up.
async fn wait_for_readers(inboxes: &[Arc<Inbox>]) {
    let mut watched: Vec<(&Arc<Inbox>, usize, tokio::time::Instant)> = inboxes
        .iter()
        .map(|inbox| (inbox, inbox.pending_messages(), tokio::time::Instant::now()))
        .collect();
    loop {
        let now = tokio::time::Instant::now();
        watched.retain_mut(|(inbox, pending, since)| {
            if inbox.is_settled() {
                return false;
            }
            let left = inbox.pending_messages();
            if left != *pending {
                (*pending, *since) = (left, now);
            }
            now.duration_since(*since) < IDLE_READER
        });
        if watched.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// The error of a request whose reply inbox the server refused.
fn inbox_refused(err: ServerError) -> RequestError {
    RequestError::with_source(
        RequestErrorKind::Subscribe,
        SubscribeError::with_source(SubscribeErrorKind::PermissionDenied, err),
    )
}

/// Runs the user's event callback, one event at a time, off the connection task.
fn spawn_event_task(
    mut events: mpsc::UnboundedReceiver<Event>,
    callback: Option<crate::options::EventCallback>,
) {
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            tracing::debug!(%event, "nats event");
            if let Some(callback) = &callback {
                callback(event).await;
            }
        }
    });
}
