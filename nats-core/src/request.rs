//! The request multiplexer: one wildcard inbox subscription serves every request of a client.
//!
//! Each request gets a token; its reply subject is `<prefix>.<random>.<token>`. The connection
//! task hands a reply straight to the waiting request through a oneshot channel: one task
//! hop per request. A request that times out or is cancelled removes its entry on drop.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use tokio::sync::{oneshot, OnceCell};

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
    waiting: Mutex<FxHashMap<u64, oneshot::Sender<Message>>>,
    /// Why the server refused the inbox subscription: no reply can ever arrive.
    refused: Mutex<Option<ServerError>>,
}

impl RequestMux {
    pub(crate) fn new(inbox_prefix: &str) -> Self {
        RequestMux {
            prefix: format!("{inbox_prefix}.{}.", nuid::next()),
            sid: OnceCell::new(),
            next_token: AtomicU64::new(1),
            waiting: Mutex::new(FxHashMap::default()),
            refused: Mutex::new(None),
        }
    }

    /// The wildcard subject the inbox subscription listens on.
    pub(crate) fn wildcard(&self) -> String {
        format!("{}*", self.prefix)
    }

    /// Registers a request; the ticket holds its reply subject and removes it when dropped.
    pub(crate) fn register(self: &Arc<Self>) -> (ReplyTicket, oneshot::Receiver<Message>) {
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = oneshot::channel();
        self.waiting.lock().insert(token, sender);
        let mut reply = String::with_capacity(self.prefix.len() + 20);
        reply.push_str(&self.prefix);
        reply.push_str(itoa::Buffer::new().format(token));
        let ticket = ReplyTicket {
            mux: Arc::clone(self),
            token,
            reply,
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
        let sender = self.waiting.lock().remove(&token);
        if let Some(sender) = sender {
            let _ = sender.send(message);
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

    /// Requests waiting for a reply.
    #[cfg(test)]
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.lock().len()
    }
}

/// A registered request: its reply subject, and its entry's removal when dropped.
#[derive(Debug)]
pub(crate) struct ReplyTicket {
    mux: Arc<RequestMux>,
    token: u64,
    pub(crate) reply: String,
}

impl Drop for ReplyTicket {
    fn drop(&mut self) {
        self.mux.waiting.lock().remove(&self.token);
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
