//! State shared between the [`Client`](crate::Client) handles, the subscribers and the
//! connection task.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::error::{PublishError, PublishErrorKind};
use crate::event::Event;
use crate::header::HeaderMap;
use crate::inbox::{Inbox, InboxSender};
use crate::options::ConnectOptions;
use crate::outbox::{Outbox, PongWaiter};
use crate::proto::encoder;
use crate::proto::ServerInfo;
use crate::request::RequestMux;
use crate::server_addr::ServerAddr;
use crate::subject::Subject;

/// Where the client is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// Making the first connection.
    Connecting,
    /// Connected to a server.
    Connected,
    /// The connection was lost and the client is making a new one.
    Reconnecting,
    /// Draining subscriptions before closing.
    Draining,
    /// Closed for good.
    Closed,
}

impl State {
    fn from_u8(v: u8) -> State {
        match v {
            0 => State::Connecting,
            1 => State::Connected,
            2 => State::Reconnecting,
            3 => State::Draining,
            _ => State::Closed,
        }
    }

    fn as_u8(self) -> u8 {
        match self {
            State::Connecting => 0,
            State::Connected => 1,
            State::Reconnecting => 2,
            State::Draining => 3,
            State::Closed => 4,
        }
    }
}

/// Counters of what went through the connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Statistics {
    /// Messages received.
    pub in_msgs: u64,
    /// Bytes received in messages (headers and payload).
    pub in_bytes: u64,
    /// Messages published.
    pub out_msgs: u64,
    /// Bytes published in messages (headers and payload).
    pub out_bytes: u64,
    /// Times the client reconnected.
    pub reconnects: u64,
}

/// An instruction to the connection task, which owns the subscription table.
#[derive(Debug)]
pub(crate) enum Command {
    /// Register a subscription whose `SUB` the caller writes right after sending this.
    Subscribe(Box<NewSubscription>),
    /// Forget a subscription now (`max: None`) or once it has received `max` messages in all.
    Unsubscribe { sid: u64, max: Option<u64> },
    /// Unsubscribe everything but the request inbox and end the subscriptions once the server
    /// confirms; answers with what to wait on.
    Drain(oneshot::Sender<DrainTicket>),
    /// Write what is buffered and close the connection.
    Close,
}

/// What a client drain waits on: the server's confirmation that the subscriptions are gone,
/// then their readers taking what was delivered.
#[derive(Debug)]
pub(crate) struct DrainTicket {
    pub(crate) confirmed: oneshot::Receiver<()>,
    pub(crate) pending: Vec<Arc<Inbox>>,
}

/// What the connection task needs to deliver to a new subscription.
#[derive(Debug)]
pub(crate) struct NewSubscription {
    pub(crate) sid: u64,
    pub(crate) subject: Subject,
    pub(crate) queue: Option<String>,
    pub(crate) sink: Sink,
}

/// Where a subscription's messages go.
#[derive(Debug)]
pub(crate) enum Sink {
    /// To a [`Subscriber`](crate::Subscriber) stream.
    Inbox(InboxSender),
    /// To the request multiplexer.
    Mux,
}

/// The state behind every handle of one client.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) outbox: Mutex<Outbox>,
    /// Wakes the writer when the outbox goes from empty to non-empty.
    pub(crate) writer_wake: Notify,
    /// Wakes publishers waiting for room in the outbox.
    pub(crate) space: Notify,
    pub(crate) commands: mpsc::UnboundedSender<Command>,
    pub(crate) events: mpsc::UnboundedSender<Event>,
    state: AtomicU8,
    closing: AtomicBool,
    pub(crate) closed: watch::Sender<bool>,
    pub(crate) options: ConnectOptions,
    pub(crate) info: RwLock<Arc<ServerInfo>>,
    max_payload: AtomicUsize,
    headers_supported: AtomicBool,
    pub(crate) in_msgs: AtomicU64,
    pub(crate) in_bytes: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    next_sid: AtomicU64,
    pub(crate) servers: RwLock<Vec<ServerAddr>>,
    pub(crate) discovered: RwLock<Vec<String>>,
    pub(crate) connected_addr: RwLock<Option<ServerAddr>>,
    pub(crate) last_error: Mutex<Option<String>>,
    pub(crate) mux: Arc<RequestMux>,
}

/// The receiving ends the connection task and the event task take.
pub(crate) struct Receivers {
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
    pub(crate) events: mpsc::UnboundedReceiver<Event>,
}

impl Shared {
    pub(crate) fn new(
        options: ConnectOptions,
        servers: Vec<ServerAddr>,
    ) -> (Arc<Shared>, Receivers) {
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let mux = Arc::new(RequestMux::new(&options.inbox_prefix));
        let shared = Arc::new(Shared {
            outbox: Mutex::new(Outbox::default()),
            writer_wake: Notify::new(),
            space: Notify::new(),
            commands,
            events,
            state: AtomicU8::new(State::Connecting.as_u8()),
            closing: AtomicBool::new(false),
            closed: watch::channel(false).0,
            options,
            info: RwLock::new(Arc::default()),
            max_payload: AtomicUsize::new(usize::MAX),
            headers_supported: AtomicBool::new(true),
            in_msgs: AtomicU64::new(0),
            in_bytes: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            next_sid: AtomicU64::new(1),
            servers: RwLock::new(servers),
            discovered: RwLock::new(Vec::new()),
            connected_addr: RwLock::new(None),
            last_error: Mutex::new(None),
            mux,
        });
        let receivers = Receivers {
            commands: commands_rx,
            events: events_rx,
        };
        (shared, receivers)
    }

    pub(crate) fn state(&self) -> State {
        State::from_u8(self.state.load(Ordering::Acquire))
    }

    pub(crate) fn set_state(&self, state: State) {
        self.state.store(state.as_u8(), Ordering::Release);
    }

    /// Whether the connection task should write what is left and stop.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    pub(crate) fn begin_closing(&self) {
        self.closing.store(true, Ordering::Release);
        self.writer_wake.notify_one();
    }

    pub(crate) fn max_payload(&self) -> usize {
        self.max_payload.load(Ordering::Relaxed)
    }

    /// Records what the server said about itself.
    pub(crate) fn set_info(&self, info: ServerInfo) {
        self.max_payload.store(
            if info.max_payload == 0 {
                usize::MAX
            } else {
                info.max_payload
            },
            Ordering::Relaxed,
        );
        self.headers_supported
            .store(info.headers, Ordering::Relaxed);
        *self.info.write() = Arc::new(info);
    }

    pub(crate) fn next_sid(&self) -> u64 {
        self.next_sid.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn emit(&self, event: Event) {
        // The event task ends only after the connection task; a send can fail only at exit.
        let _ = self.events.send(event);
    }

    pub(crate) fn record_error(&self, text: String) {
        *self.last_error.lock() = Some(text.clone());
        self.emit(Event::Error(text));
    }

    /// Appends to the outbox with `write` and wakes the writer if it was idle.
    pub(crate) fn write(&self, write: impl FnOnce(&mut Outbox)) {
        let mut outbox = self.outbox.lock();
        let was_empty = outbox.is_empty();
        write(&mut outbox);
        drop(outbox);
        if was_empty {
            self.writer_wake.notify_one();
        }
    }

    /// Checks a message against the server's limits and queues it for writing, waiting for
    /// room when the outbox holds more than `pending_size` bytes.
    pub(crate) async fn publish(
        &self,
        subject: &str,
        reply: Option<&str>,
        headers: Option<&HeaderMap>,
        payload: &Bytes,
    ) -> Result<(), PublishError> {
        let size = payload.len() + headers.map_or(0, HeaderMap::encoded_len);
        if size > self.max_payload() {
            return Err(PublishError::with_source(
                PublishErrorKind::MaxPayloadExceeded,
                format!("{size} bytes, the server allows {}", self.max_payload()),
            ));
        }
        if headers.is_some() && !self.headers_supported.load(Ordering::Relaxed) {
            return Err(PublishErrorKind::HeadersNotSupported.into());
        }
        self.check_open()?;
        if self.try_publish(subject, reply, headers, payload) {
            return Ok(());
        }
        // The outbox is full. Waiting lives in a future of its own, boxed: this one stays
        // small, which matters because callers move it on every publish.
        Box::pin(self.publish_when_room(subject, reply, headers, payload)).await
    }

    /// Waits for room in the outbox, then queues the message.
    async fn publish_when_room(
        &self,
        subject: &str,
        reply: Option<&str>,
        headers: Option<&HeaderMap>,
        payload: &Bytes,
    ) -> Result<(), PublishError> {
        loop {
            let notified = self.space.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            self.check_open()?;
            if self.try_publish(subject, reply, headers, payload) {
                return Ok(());
            }
            notified.await;
        }
    }

    /// An error if the client is closed or closing: nothing more may be queued.
    fn check_open(&self) -> Result<(), PublishError> {
        if self.state() == State::Closed || self.is_closing() {
            return Err(PublishErrorKind::Closed.into());
        }
        Ok(())
    }

    /// Queues the message if the outbox has room; false if it is full.
    fn try_publish(
        &self,
        subject: &str,
        reply: Option<&str>,
        headers: Option<&HeaderMap>,
        payload: &Bytes,
    ) -> bool {
        let mut outbox = self.outbox.lock();
        let was_empty = outbox.is_empty();
        if !was_empty && outbox.len() >= self.options.pending_size {
            return false;
        }
        outbox.publish(subject, reply, headers, payload);
        drop(outbox);
        if was_empty {
            self.writer_wake.notify_one();
        }
        true
    }

    /// Registers a subscription with the connection task, then writes its `SUB`.
    ///
    /// The registration is queued first, so by the time the server can deliver a message
    /// for the new sid the connection task can find it.
    pub(crate) fn subscribe(&self, new: NewSubscription) -> bool {
        let (sid, subject, queue) = (new.sid, new.subject.clone(), new.queue.clone());
        if self
            .commands
            .send(Command::Subscribe(Box::new(new)))
            .is_err()
        {
            return false;
        }
        self.write(|out| out.push_with(|b| encoder::write_sub(b, &subject, queue.as_deref(), sid)));
        true
    }

    /// Writes `UNSUB` and tells the connection task.
    pub(crate) fn unsubscribe(&self, sid: u64, max: Option<u64>) {
        if self.state() == State::Closed {
            return;
        }
        self.write(|out| out.push_with(|b| encoder::write_unsub(b, sid, max)));
        let _ = self.commands.send(Command::Unsubscribe { sid, max });
    }

    /// Writes a `PING` whose `PONG` completes `waiter`.
    pub(crate) fn ping(&self, waiter: PongWaiter) {
        self.write(|out| out.ping(waiter));
    }
}
