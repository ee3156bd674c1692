//! The subscription table of the connection task: what each sid is, where its messages go,
//! and its auto-unsubscribe count.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use rustc_hash::FxHashMap;

use crate::event::Event;
use crate::inbox::Inbox;
use crate::message::Message;
use crate::proto::encoder;
use crate::server_error::ServerError;
use crate::shared::{NewSubscription, Shared, Sink};
use crate::subject::Subject;

/// A subscription as the connection task knows it.
#[derive(Debug)]
struct Subscription {
    subject: Subject,
    queue: Option<String>,
    sink: Sink,
    /// Messages the server delivered to it so far (dropped ones included).
    delivered: u64,
    /// Auto-unsubscribe count.
    max: Option<u64>,
    /// Whether it is dropping messages; a slow-consumer event is sent once per episode.
    slow: bool,
}

/// Every live subscription, keyed by sid; sids are small sequential integers, so a simple
/// hash does.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    subs: FxHashMap<u64, Subscription>,
}

impl Subscriptions {
    pub(crate) fn contains(&self, sid: u64) -> bool {
        self.subs.contains_key(&sid)
    }

    pub(crate) fn add(&mut self, new: NewSubscription) {
        self.subs.insert(
            new.sid,
            Subscription {
                subject: new.subject,
                queue: new.queue,
                sink: new.sink,
                delivered: 0,
                max: None,
                slow: false,
            },
        );
    }

    /// Forgets a subscription; its stream ends after what it holds.
    pub(crate) fn remove(&mut self, sid: u64) {
        self.subs.remove(&sid);
    }

    /// Ends a subscription once it has received `max` messages in all.
    pub(crate) fn remove_after(&mut self, sid: u64, max: u64) {
        if let Some(sub) = self.subs.get_mut(&sid) {
            sub.max = Some(max);
            if sub.delivered >= max {
                self.subs.remove(&sid);
            }
        }
    }

    /// The sids and inboxes of the subscriptions with a reader (all but the request inbox).
    pub(crate) fn with_readers(&self) -> (Vec<u64>, Vec<Arc<Inbox>>) {
        self.subs
            .iter()
            .filter_map(|(sid, sub)| match &sub.sink {
                Sink::Inbox(inbox) => Some((*sid, Arc::clone(&inbox.0))),
                Sink::Mux => None,
            })
            .unzip()
    }

    /// Hands a message to its subscription. Returns false for an unknown sid.
    pub(crate) fn deliver(&mut self, shared: &Shared, sid: u64, message: Message) -> bool {
        let Some(sub) = self.subs.get_mut(&sid) else {
            return false;
        };
        sub.delivered += 1;
        let done = sub.max.is_some_and(|max| sub.delivered >= max);
        let keep = match &sub.sink {
            Sink::Mux => {
                shared.mux.resolve(message);
                true
            }
            Sink::Inbox(inbox) => {
                if inbox.0.is_reader_gone() {
                    false
                } else if inbox.0.push(message) {
                    sub.slow = false;
                    true
                } else {
                    if !sub.slow {
                        sub.slow = true;
                        shared.events.emit(Event::SlowConsumer {
                            sid,
                            subject: sub.subject.clone(),
                        });
                    }
                    true
                }
            }
        };
        if done || !keep {
            self.subs.remove(&sid);
        }
        true
    }

    /// A message for `sid` was dropped before delivery: the server counted it toward the
    /// auto-unsubscribe limit, so it counts here too.
    pub(crate) fn count_dropped(&mut self, sid: u64) {
        if let Some(sub) = self.subs.get_mut(&sid) {
            sub.delivered += 1;
            if sub.max.is_some_and(|max| sub.delivered >= max) {
                self.subs.remove(&sid);
            }
        }
    }

    /// Ends the subscriptions the server refused: the one named by `sid`, or else every one
    /// on `subject` (in `queue`). Their readers get `err` after the messages they hold.
    pub(crate) fn refuse(
        &mut self,
        shared: &Shared,
        subject: &str,
        queue: Option<&str>,
        sid: Option<u64>,
        err: &ServerError,
    ) {
        let refused: Vec<u64> = self
            .subs
            .iter()
            .filter(|(id, sub)| match sid {
                Some(sid) => **id == sid,
                None => sub.subject.as_str() == subject && sub.queue.as_deref() == queue,
            })
            .map(|(id, _)| *id)
            .collect();
        for id in refused {
            match self.subs.remove(&id).map(|sub| sub.sink) {
                Some(Sink::Inbox(inbox)) => inbox.0.fail(err.clone()),
                Some(Sink::Mux) => shared.mux.refuse(err.clone()),
                None => {}
            }
        }
    }

    /// The `SUB` (and `UNSUB <max>`) of every live subscription, for a new connection.
    pub(crate) fn resubscribe_bytes(&self) -> Option<Bytes> {
        let mut buf = BytesMut::new();
        for (sid, sub) in &self.subs {
            encoder::write_sub(&mut buf, &sub.subject, sub.queue.as_deref(), *sid);
            if let Some(max) = sub.max {
                encoder::write_unsub(&mut buf, *sid, Some(max.saturating_sub(sub.delivered)));
            }
        }
        (!buf.is_empty()).then(|| buf.freeze())
    }

    /// Ends every subscription.
    pub(crate) fn clear(&mut self) {
        self.subs.clear();
    }
}
