//! State shared between the [`Client`](crate::Client) handles, the subscribers and the
//! connection task.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use tokio::sync::{mpsc, oneshot};

use crate::drain_guard::DrainHolds;
use crate::error::{PublishError, PublishErrorKind};
use crate::event::{Event, Events};
use crate::header::HeaderMap;
use crate::inbox::{Inbox, InboxSender};
use crate::lifecycle::Lifecycle;
pub(crate) use crate::lifecycle::State;
use crate::options::ConnectOptions;
use crate::outgoing::{OutMessage, Outgoing};
use crate::proto::encoder;
use crate::proto::ServerInfo;
use crate::request::RequestMux;
use crate::server_addr::ServerAddr;
use crate::server_pool::ServerPool;
use crate::subject::Subject;

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
    /// The publish path: outbox, writer wake-up, back-pressure.
    pub(crate) outgoing: Outgoing,
    pub(crate) commands: mpsc::UnboundedSender<Command>,
    pub(crate) events: Events,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) options: ConnectOptions,
    pub(crate) info: RwLock<Arc<ServerInfo>>,
    max_payload: AtomicUsize,
    headers_supported: AtomicBool,
    pub(crate) in_msgs: AtomicU64,
    pub(crate) in_bytes: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    next_sid: AtomicU64,
    pub(crate) pool: Mutex<ServerPool>,
    pub(crate) connected_addr: RwLock<Option<ServerAddr>>,
    pub(crate) mux: Arc<RequestMux>,
    /// Work in flight that a drain waits for before it closes.
    pub(crate) drain_holds: DrainHolds,
}

/// The receiving ends the connection task and the event task take.
pub(crate) struct Receivers {
    pub(crate) commands: mpsc::UnboundedReceiver<Command>,
    pub(crate) events: mpsc::UnboundedReceiver<Event>,
}

impl Shared {
    pub(crate) fn new(options: ConnectOptions, pool: ServerPool) -> (Arc<Shared>, Receivers) {
        let (commands, commands_rx) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let mux = Arc::new(RequestMux::new(&options.inbox_prefix));
        let shared = Arc::new(Shared {
            outgoing: Outgoing::new(options.pending_size),
            commands,
            events: Events::new(events),
            lifecycle: Lifecycle::new(),
            options,
            info: RwLock::new(Arc::default()),
            max_payload: AtomicUsize::new(usize::MAX),
            headers_supported: AtomicBool::new(true),
            in_msgs: AtomicU64::new(0),
            in_bytes: AtomicU64::new(0),
            reconnects: AtomicU64::new(0),
            next_sid: AtomicU64::new(1),
            pool: Mutex::new(pool),
            connected_addr: RwLock::new(None),
            mux,
            drain_holds: DrainHolds::new(),
        });
        let receivers = Receivers {
            commands: commands_rx,
            events: events_rx,
        };
        (shared, receivers)
    }

    pub(crate) fn state(&self) -> State {
        self.lifecycle.state()
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

    /// Checks a message against the server's limits and queues it for writing. When the
    /// outbox holds more than `pending_size` bytes it waits for room while connected, and
    /// while disconnected fails unless the options say to wait.
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
        let message = OutMessage {
            subject,
            reply,
            headers,
            payload,
        };
        self.outgoing.publish(message, |full| self.gate(full)).await
    }

    /// Whether a message may still be queued, and, facing a full outbox, whether its
    /// publisher may wait for room.
    fn gate(&self, full: bool) -> Result<(), PublishError> {
        self.check_open()?;
        match self.state() {
            State::Connecting | State::Reconnecting
                if full && !self.options.reconnect_buffer_wait =>
            {
                Err(PublishErrorKind::ReconnectBufferFull.into())
            }
            _ => Ok(()),
        }
    }

    /// An error if the client is closed or closing: nothing more may be queued.
    fn check_open(&self) -> Result<(), PublishError> {
        if self.lifecycle.is_closed_or_closing() {
            return Err(PublishErrorKind::Closed.into());
        }
        Ok(())
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
        self.outgoing
            .write(|out| out.push_with(|b| encoder::write_sub(b, &subject, queue.as_deref(), sid)));
        true
    }

    /// Writes `UNSUB` and tells the connection task.
    pub(crate) fn unsubscribe(&self, sid: u64, max: Option<u64>) {
        if self.state() == State::Closed {
            return;
        }
        self.outgoing
            .write(|out| out.push_with(|b| encoder::write_unsub(b, sid, max)));
        let _ = self.commands.send(Command::Unsubscribe { sid, max });
    }
}
