//! The reading half of the connection task: owns the subscription table, hands each message
//! to its subscription, answers the server's `PING`s, completes `PONG` waiters and carries out
//! commands from the handles.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use tokio::sync::{mpsc, oneshot};

use crate::event::Event;
use crate::message::Message;
use crate::outbox::PongWaiter;
use crate::proto::encoder;
use crate::proto::parser::ServerOp;
use crate::proto::ServerInfo;
use crate::shared::{Command, DrainTicket, NewSubscription, Shared, Sink};
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

/// Why the session ended.
#[derive(Debug)]
pub(crate) enum Exit {
    /// The user closed the client.
    Close,
    /// The connection broke; the text says how.
    Lost(String),
}

/// Everything the reading side keeps across reads.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<Command>,
    /// Keyed by sid; sids are small sequential integers, so a simple hash does.
    subs: FxHashMap<u64, Subscription>,
    outstanding_pings: u32,
    /// Set when a command or the server ends the session; read by the loop after each step.
    exit: Option<Exit>,
}

impl Dispatcher {
    pub(crate) fn new(shared: Arc<Shared>, commands: mpsc::UnboundedReceiver<Command>) -> Self {
        Dispatcher {
            shared,
            commands,
            subs: FxHashMap::default(),
            outstanding_pings: 0,
            exit: None,
        }
    }

    /// Waits for the next command; `None` when every handle is gone.
    pub(crate) async fn next_command(&mut self) -> Option<Command> {
        self.commands.recv().await
    }

    /// Why the session must end, once something decided it.
    pub(crate) fn take_exit(&mut self) -> Option<Exit> {
        self.exit.take()
    }

    /// Carries out the commands queued so far.
    pub(crate) fn run_queued_commands(&mut self) {
        while self.exit.is_none() {
            match self.commands.try_recv() {
                Ok(command) => self.handle_command(command),
                Err(_) => break,
            }
        }
    }

    /// Carries out one command.
    pub(crate) fn handle_command(&mut self, command: Command) {
        match command {
            Command::Subscribe(new) => self.add(*new),
            Command::Unsubscribe { sid, max: None } => {
                self.subs.remove(&sid);
            }
            Command::Unsubscribe {
                sid,
                max: Some(max),
            } => {
                if let Some(sub) = self.subs.get_mut(&sid) {
                    sub.max = Some(max);
                    if sub.delivered >= max {
                        self.subs.remove(&sid);
                    }
                }
            }
            Command::Drain(answer) => self.drain(answer),
            Command::Close => self.exit = Some(Exit::Close),
        }
    }

    fn add(&mut self, new: NewSubscription) {
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

    /// Unsubscribes every subscription but the request inbox and ends them once the server
    /// has confirmed with a `PONG`.
    fn drain(&mut self, answer: oneshot::Sender<DrainTicket>) {
        let mut sids = Vec::new();
        let mut pending = Vec::new();
        for (sid, sub) in &self.subs {
            if let Sink::Inbox(inbox) = &sub.sink {
                sids.push(*sid);
                pending.push(Arc::clone(&inbox.0));
            }
        }
        let (done, confirmed) = oneshot::channel();
        self.shared.write(|out| {
            for sid in &sids {
                out.push_with(|b| encoder::write_unsub(b, *sid, None));
            }
            out.ping(PongWaiter::CloseSubs {
                sids,
                done: Some(done),
            });
        });
        let _ = answer.send(DrainTicket { confirmed, pending });
    }

    /// Sends a keep-alive `PING`; ends the session if too many went unanswered.
    pub(crate) fn keep_alive(&mut self) {
        if self.outstanding_pings >= self.shared.options.max_outstanding_pings {
            self.exit = Some(Exit::Lost(
                "stale connection: server did not answer PING".into(),
            ));
            return;
        }
        self.outstanding_pings += 1;
        self.shared.ping(PongWaiter::KeepAlive);
    }

    /// Handles one operation from the server.
    pub(crate) fn handle_op(&mut self, op: ServerOp) {
        match op {
            ServerOp::Msg { sid, message } => self.deliver(sid, message),
            ServerOp::Ping => self.shared.write(|out| out.push_raw(encoder::PONG)),
            ServerOp::Pong => self.pong(),
            ServerOp::Ok => {}
            ServerOp::Info(info) => self.info(*info),
            ServerOp::Err(text) => self.shared.record_error(text),
        }
    }

    fn deliver(&mut self, sid: u64, message: Message) {
        // Counted before the message can reach a reader, so statistics never lag behind it.
        self.shared.in_msgs.fetch_add(1, Ordering::Relaxed);
        self.shared
            .in_bytes
            .fetch_add(message.length as u64, Ordering::Relaxed);
        if !self.subs.contains_key(&sid) {
            // The registration may still be queued behind this read: take the queue in.
            self.run_queued_commands();
        }
        let Some(sub) = self.subs.get_mut(&sid) else {
            return;
        };
        sub.delivered += 1;
        let done = sub.max.is_some_and(|max| sub.delivered >= max);
        let keep = match &sub.sink {
            Sink::Mux => {
                self.shared.mux.resolve(message);
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
                        self.shared.emit(Event::SlowConsumer {
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
    }

    fn pong(&mut self) {
        self.outstanding_pings = 0;
        let waiter = self.shared.outbox.lock().pong();
        if let Some(waiter) = waiter {
            self.complete(waiter);
        }
    }

    /// Acts on a `PING` that was answered, or that can no longer be.
    fn complete(&mut self, waiter: PongWaiter) {
        match waiter {
            PongWaiter::Flush(done) => {
                let _ = done.send(());
            }
            PongWaiter::CloseSubs { sids, done } => {
                for sid in sids {
                    self.subs.remove(&sid);
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            PongWaiter::KeepAlive => {}
        }
    }

    /// The connection was lost: `PING`s sent on it will not be answered. Flushes waiting on
    /// them get a new `PING`, sent on the next connection; subscriptions being drained are
    /// gone with the connection, so they end.
    pub(crate) fn connection_lost(&mut self) {
        self.outstanding_pings = 0;
        // The batch being written was taken out of the outbox: there is room again, and the
        // publishers already waiting for it go first.
        self.shared.space.notify_waiters();
        let lost = self.shared.outbox.lock().take_lost_pings();
        for waiter in lost {
            match waiter {
                PongWaiter::Flush(done) => self.shared.ping(PongWaiter::Flush(done)),
                other => self.complete(other),
            }
        }
    }

    /// Queues, in front of everything else, the `SUB` (and `UNSUB <max>`) of every live
    /// subscription, for a new connection.
    pub(crate) fn resubscribe(&mut self) {
        let mut buf = bytes::BytesMut::new();
        for (sid, sub) in &self.subs {
            encoder::write_sub(&mut buf, &sub.subject, sub.queue.as_deref(), *sid);
            if let Some(max) = sub.max {
                encoder::write_unsub(&mut buf, *sid, Some(max.saturating_sub(sub.delivered)));
            }
        }
        if !buf.is_empty() {
            self.shared.outbox.lock().push_front(buf.freeze());
        }
    }

    fn info(&mut self, info: ServerInfo) {
        let new_urls: Vec<String> = {
            let mut known = self.shared.discovered.write();
            let fresh: Vec<String> = info
                .connect_urls
                .iter()
                .filter(|url| !known.contains(url))
                .cloned()
                .collect();
            known.extend(fresh.iter().cloned());
            fresh
        };
        if !new_urls.is_empty() {
            self.shared.emit(Event::DiscoveredServers(new_urls));
        }
        if info.lame_duck_mode {
            self.shared.emit(Event::LameDuckMode);
        }
        self.shared.set_info(info);
    }

    /// Ends every subscription and fails every waiter: the client is closed.
    pub(crate) fn shut_down(&mut self) {
        self.subs.clear();
        self.shared.mux.clear();
        let waiters: Vec<PongWaiter> = self.shared.outbox.lock().take_all_pings().collect();
        drop(waiters);
    }
}
