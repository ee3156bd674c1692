//! The request multiplexer: one wildcard inbox subscription serves every request of a client.
//!
//! Each request gets a token; its reply subject is `<prefix>.<random>.<token>`. The connection
//! task hands a reply straight to the waiting request through a oneshot channel: one task
//! hop per request. A request that times out or is cancelled removes its entry on drop.
//!
//! An entry may hold a semaphore permit (JetStream's acks in flight): it is given back the
//! moment the reply arrives, whether or not anyone reads the reply yet.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use tokio::sync::{oneshot, OnceCell, OwnedSemaphorePermit};

use crate::message::Message;
use crate::server_error::ServerError;

/// The request inbox and the requests waiting for a reply.
#[derive(Debug)]
pub(crate) struct RequestMux {
    /// `<inbox prefix>.<nuid>.`, to which tokens are appended.
    prefix: String,
    /// The sid of the inbox subscription, once made.
    pub(crate) sid: OnceCell<u64>,
    next_token: AtomicU64,
    waiting: Mutex<FxHashMap<u64, Waiter>>,
    /// Why the server refused the inbox subscription: no reply can ever arrive.
    refused: Mutex<Option<ServerError>>,
    /// Before this time a sweep finds nothing worth the scan: abandoned entries wait for
    /// their deadlines (seconds), so looking more often than [`SWEEP_INTERVAL`] is waste.
    next_sweep: Mutex<Option<std::time::Instant>>,
}

/// The shortest time between two sweeps of abandoned entries.
const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

impl RequestMux {
    pub(crate) fn new(inbox_prefix: &str) -> Self {
        RequestMux {
            prefix: format!("{inbox_prefix}.{}.", nuid::next()),
            sid: OnceCell::new(),
            next_token: AtomicU64::new(1),
            waiting: Mutex::new(FxHashMap::default()),
            refused: Mutex::new(None),
            next_sweep: Mutex::new(None),
        }
    }

    /// The wildcard subject the inbox subscription listens on.
    pub(crate) fn wildcard(&self) -> String {
        format!("{}*", self.prefix)
    }

    /// Registers a request; the ticket holds its reply subject and removes it when dropped.
    pub(crate) fn register(self: &Arc<Self>) -> (ReplyTicket, oneshot::Receiver<Message>) {
        self.register_holding(None)
    }

    /// Registers a request whose entry holds `permit` until its reply arrives or the ticket
    /// is dropped, whichever comes first.
    pub(crate) fn register_holding(
        self: &Arc<Self>,
        permit: Option<OwnedSemaphorePermit>,
    ) -> (ReplyTicket, oneshot::Receiver<Message>) {
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        let waiter = Waiter {
            sender,
            _permit: permit,
            abandoned_until: None,
        };
        self.waiting.lock().insert(token, waiter);
        let mut reply = String::with_capacity(self.prefix.len() + 20);
        reply.push_str(&self.prefix);
        reply.push_str(itoa::Buffer::new().format(token));
        let ticket = ReplyTicket {
            mux: Arc::clone(self),
            token,
            reply,
            keep_until: None,
        };
        (ticket, receiver)
    }

    /// Hands a reply to the request waiting for it; a late or unknown reply is dropped.
    pub(crate) fn resolve(&self, message: Message) {
        let Some(token) = message
            .subject
            .strip_prefix(self.prefix.as_str())
            .and_then(|t| t.parse::<u64>().ok())
        else {
            return;
        };
        let waiter = self.waiting.lock().remove(&token);
        if let Some(waiter) = waiter {
            let _ = waiter.sender.send(message);
        }
    }

    /// The server refused the inbox subscription: every waiting request fails, and so does
    /// every later one, with `err`.
    pub(crate) fn refuse(&self, err: ServerError) {
        *self.refused.lock() = Some(err);
        self.waiting.lock().clear();
    }

    /// Why the server refused the inbox subscription, if it did.
    pub(crate) fn refusal(&self) -> Option<ServerError> {
        self.refused.lock().clone()
    }

    /// Fails every waiting request (the connection closed).
    pub(crate) fn clear(&self) {
        self.waiting.lock().clear();
    }

    /// Removes the entries abandoned by their tickets whose time is up: their replies will
    /// not come any more, and their permits go back.
    /// At most one sweep runs per [`SWEEP_INTERVAL`]: a publisher waiting for room calls
    /// this each time it waits.
    pub(crate) fn sweep_abandoned(&self, now: std::time::Instant) {
        {
            let mut next = self.next_sweep.lock();
            if next.is_some_and(|next| now < next) {
                return;
            }
            *next = Some(now + SWEEP_INTERVAL);
        }
        let expired: Vec<Waiter> = {
            let mut waiting = self.waiting.lock();
            let tokens: Vec<u64> = waiting
                .iter()
                .filter(|(_, w)| w.abandoned_until.is_some_and(|until| until <= now))
                .map(|(token, _)| *token)
                .collect();
            tokens.iter().filter_map(|t| waiting.remove(t)).collect()
        };
        // Dropped out of the lock: giving permits back may wake publishers.
        drop(expired);
    }

    /// Requests waiting for a reply.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.lock().len()
    }
}

/// What a registered request waits with: where its reply goes, and what it holds until then.
#[derive(Debug)]
struct Waiter {
    sender: oneshot::Sender<Message>,
    _permit: Option<OwnedSemaphorePermit>,
    /// Set when the ticket was dropped while its reply may still come: the entry (and its
    /// permit) stays until the reply arrives or this time passes.
    abandoned_until: Option<std::time::Instant>,
}

/// A registered request: its reply subject, and its entry's removal when dropped.
#[derive(Debug)]
pub(crate) struct ReplyTicket {
    mux: Arc<RequestMux>,
    token: u64,
    pub(crate) reply: String,
    /// Keep the entry after the ticket is dropped, until its reply or this time.
    keep_until: Option<std::time::Instant>,
}

impl ReplyTicket {
    /// When dropped, leave the entry (and its permit) until the reply arrives or `until`
    /// passes: a JetStream acknowledgement nobody waits for still counts against the bound
    /// of acknowledgements in flight until it arrives.
    pub(crate) fn keep_until(&mut self, until: std::time::Instant) {
        self.keep_until = Some(until);
    }
}

impl Drop for ReplyTicket {
    fn drop(&mut self) {
        let mut waiting = self.mux.waiting.lock();
        if let Some(until) = self.keep_until.filter(|u| *u > std::time::Instant::now()) {
            if let Some(waiter) = waiting.get_mut(&self.token) {
                waiter.abandoned_until = Some(until);
                return;
            }
        }
        // Taken out of the lock first: dropping a permit may wake a waiting publisher.
        let waiter = waiting.remove(&self.token);
        drop(waiting);
        drop(waiter);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subject::Subject;

    fn reply_to(subject: &str) -> Message {
        Message {
            subject: Subject::from(subject),
            reply: None,
            payload: bytes::Bytes::from_static(b"ok"),
            headers: None,
            status: None,
            description: None,
            length: 2,
        }
    }

    #[tokio::test]
    async fn a_reply_reaches_its_request_and_nothing_leaks() {
        let mux = Arc::new(RequestMux::new("_INBOX"));
        let (ticket, receiver) = mux.register();
        assert!(ticket.reply.starts_with("_INBOX."));
        assert_eq!(mux.waiting(), 1);
        mux.resolve(reply_to(&ticket.reply));
        assert_eq!(&receiver.await.expect("reply").payload[..], b"ok");
        drop(ticket);
        assert_eq!(mux.waiting(), 0);
    }

    #[tokio::test]
    async fn a_held_permit_returns_when_the_reply_arrives_unread() {
        let mux = Arc::new(RequestMux::new("_INBOX"));
        let permits = Arc::new(tokio::sync::Semaphore::new(1));
        let permit = Arc::clone(&permits)
            .try_acquire_owned()
            .expect("one permit");
        let (ticket, _receiver) = mux.register_holding(Some(permit));
        assert_eq!(permits.available_permits(), 0);
        mux.resolve(reply_to(&ticket.reply));
        assert_eq!(permits.available_permits(), 1);
        let permit = Arc::clone(&permits)
            .try_acquire_owned()
            .expect("given back");
        let (ticket, _receiver) = mux.register_holding(Some(permit));
        drop(ticket);
        assert_eq!(permits.available_permits(), 1);
    }

    #[test]
    fn a_dropped_request_leaves_no_entry() {
        let mux = Arc::new(RequestMux::new("_INBOX"));
        let (ticket, _receiver) = mux.register();
        let reply = ticket.reply.clone();
        drop(ticket);
        assert_eq!(mux.waiting(), 0);
        mux.resolve(reply_to(&reply));
        mux.resolve(reply_to("_INBOX.other.1"));
        mux.resolve(reply_to("garbage"));
    }
}
