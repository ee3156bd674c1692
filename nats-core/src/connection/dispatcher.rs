//! The reading half of the connection task: hands each message to its subscription, answers
//! the server's `PING`s, completes `PONG` waiters, takes in `INFO` and `-ERR`, and carries out
//! commands from the handles.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::subscriptions::Subscriptions;
use crate::event::Event;
use crate::message::Message;
use crate::outbox::PongWaiter;
use crate::proto::encoder;
use crate::proto::parser::ServerOp;
use crate::proto::ServerInfo;
use crate::server_addr::ServerAddr;
use crate::server_error::{PermissionOperation, ServerError};
use crate::shared::{Command, DrainTicket, Shared};

/// How long a move off a server in lame duck mode waits for the server to confirm what was
/// written before the client leaves anyway.
const MOVE_CONFIRM_WAIT: Duration = Duration::from_secs(2);

/// At most one event per this interval reports dropped malformed messages, so a flood of
/// them from a hostile publisher cannot flood the event queue.
const DROP_REPORT_INTERVAL: Duration = Duration::from_secs(1);

/// Why the session ended.
#[derive(Debug)]
pub(crate) enum Exit {
    /// The user closed the client.
    Close,
    /// The connection broke; the text says how.
    Lost(String),
    /// The server is in lame duck mode and confirmed what was written: move to another.
    Move,
}

/// Everything the reading side keeps across reads and sessions.
#[derive(Debug)]
pub(crate) struct Dispatcher {
    shared: Arc<Shared>,
    commands: mpsc::UnboundedReceiver<Command>,
    pub(crate) subs: Subscriptions,
    outstanding_pings: u32,
    /// Set when a command or the server ends the session; read by the loop after each step.
    exit: Option<Exit>,
    /// The server connected to in this session.
    current: Option<ServerAddr>,
    /// The last `-ERR` of this session: why the server is likely to close it.
    last_server_error: Option<ServerError>,
    /// When to move off a server in lame duck mode (or, once moving, to stop waiting).
    move_at: Option<Instant>,
    moving: bool,
    /// Malformed or oversized messages dropped and not reported yet, and when the last
    /// report went out.
    unreported_drops: u64,
    last_drop_report: Option<Instant>,
}

impl Dispatcher {
    pub(crate) fn new(shared: Arc<Shared>, commands: mpsc::UnboundedReceiver<Command>) -> Self {
        Dispatcher {
            shared,
            commands,
            subs: Subscriptions::default(),
            outstanding_pings: 0,
            exit: None,
            current: None,
            last_server_error: None,
            move_at: None,
            moving: false,
            unreported_drops: 0,
            last_drop_report: None,
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
            Command::Subscribe(new) => self.subs.add(*new),
            Command::Unsubscribe { sid, max: None } => self.subs.remove(sid),
            Command::Unsubscribe {
                sid,
                max: Some(max),
            } => self.subs.remove_after(sid, max),
            Command::Drain(answer) => self.drain(answer),
            Command::Close => self.exit = Some(Exit::Close),
        }
    }

    /// Unsubscribes every subscription but the request inbox and ends them once the server
    /// has confirmed with a `PONG`.
    fn drain(&mut self, answer: oneshot::Sender<DrainTicket>) {
        let (sids, pending) = self.subs.with_readers();
        let (done, confirmed) = oneshot::channel();
        self.shared.outgoing.write(|out| {
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

    /// A new session on `addr` begins.
    pub(crate) fn session_started(&mut self, addr: &ServerAddr) {
        self.current = Some(addr.clone());
        self.outstanding_pings = 0;
        self.last_server_error = None;
        self.move_at = None;
        self.moving = false;
    }

    /// Sends a keep-alive `PING`; ends the session if too many went unanswered.
    pub(crate) fn keep_alive(&mut self) {
        if self.outstanding_pings >= self.shared.options.max_outstanding_pings {
            self.exit = Some(Exit::Lost(format!(
                "stale connection: {} PINGs without a PONG",
                self.outstanding_pings
            )));
            return;
        }
        self.outstanding_pings += 1;
        self.shared.outgoing.ping(PongWaiter::KeepAlive);
    }

    /// When the lame duck timer fires next, if it is set.
    pub(crate) fn move_deadline(&self) -> Option<Instant> {
        self.move_at
    }

    /// The lame duck timer fired: ask the server to confirm what was written, then move; if
    /// it already asked, move now.
    pub(crate) fn move_due(&mut self) {
        if self.moving {
            self.exit = Some(Exit::Move);
            return;
        }
        self.moving = true;
        self.move_at = Some(Instant::now() + MOVE_CONFIRM_WAIT);
        self.shared.outgoing.ping(PongWaiter::Move);
    }

    /// Handles one operation from the server.
    pub(crate) fn handle_op(&mut self, op: ServerOp) {
        match op {
            ServerOp::Msg { sid, message } => self.deliver(sid, message),
            ServerOp::Ping => self
                .shared
                .outgoing
                .write(|out| out.push_raw(encoder::PONG)),
            ServerOp::Pong => self.pong(),
            ServerOp::Ok => {}
            ServerOp::Info(info) => self.info(*info),
            ServerOp::Err(text) => self.server_error(ServerError::parse(&text)),
            ServerOp::InvalidInfo(why) => self
                .shared
                .events
                .error(format!("ignored an INFO that could not be read: {why}")),
            ServerOp::Malformed { sid, reason } => self.dropped(sid, &reason),
            ServerOp::Oversized { sid, size } => self.dropped(
                sid,
                &format!(
                    "{size} bytes, more than the server's max_payload of {}",
                    self.shared.max_payload()
                ),
            ),
        }
    }

    fn deliver(&mut self, sid: u64, message: Message) {
        // Counted before the message can reach a reader, so statistics never lag behind it.
        self.shared.in_msgs.fetch_add(1, Ordering::Relaxed);
        self.shared
            .in_bytes
            .fetch_add(message.length as u64, Ordering::Relaxed);
        if !self.subs.contains(sid) {
            // The registration may still be queued behind this read: take the queue in.
            self.run_queued_commands();
        }
        self.subs.deliver(&self.shared, sid, message);
    }

    /// A message that could not be delivered was dropped; reported at most once a second.
    fn dropped(&mut self, sid: u64, reason: &str) {
        self.subs.count_dropped(sid);
        self.unreported_drops += 1;
        let now = Instant::now();
        if self
            .last_drop_report
            .is_some_and(|at| now.duration_since(at) < DROP_REPORT_INTERVAL)
        {
            return;
        }
        let count = std::mem::take(&mut self.unreported_drops);
        self.last_drop_report = Some(now);
        self.shared.events.error(format!(
            "dropped {count} message(s) that could not be delivered; latest for subscription {sid}: {reason}"
        ));
    }

    fn server_error(&mut self, err: ServerError) {
        if let ServerError::PermissionsViolation {
            operation: PermissionOperation::Subscribe,
            subject,
            queue,
            sid,
        } = &err
        {
            self.subs
                .refuse(&self.shared, subject, queue.as_deref(), *sid, &err);
        }
        self.last_server_error = Some(err.clone());
        self.shared.events.server_error(err);
    }

    /// What to say when the server closes the connection: its last `-ERR`, if any.
    pub(crate) fn closed_by_server(&self) -> String {
        match &self.last_server_error {
            Some(err) => format!("server closed the connection after: {err}"),
            None => "server closed the connection".into(),
        }
    }

    fn pong(&mut self) {
        self.outstanding_pings = 0;
        let answered = self.shared.outgoing.outbox.lock().pong();
        if let Some((waiter, outcome)) = answered {
            self.complete(waiter, outcome);
        }
    }

    /// Acts on a `PING` that was answered, or that can no longer be.
    fn complete(&mut self, waiter: PongWaiter, outcome: Result<(), crate::error::FlushErrorKind>) {
        match waiter {
            PongWaiter::Flush(done) => {
                let _ = done.send(outcome);
            }
            PongWaiter::CloseSubs { sids, done } => {
                for sid in sids {
                    self.subs.remove(sid);
                }
                if let Some(done) = done {
                    let _ = done.send(());
                }
            }
            PongWaiter::KeepAlive => {}
            PongWaiter::Move => {
                if self.moving {
                    self.exit = Some(Exit::Move);
                }
            }
        }
    }

    /// The connection was lost: `PING`s sent on it will not be answered. Flushes waiting on
    /// them get a new `PING`, sent on the next connection (which reports any loss);
    /// subscriptions being drained are gone with the connection, so they end.
    pub(crate) fn connection_lost(&mut self) {
        self.outstanding_pings = 0;
        self.current = None;
        // A move that was under way is over: the connection is gone anyway.
        self.moving = false;
        self.move_at = None;
        let lost = self.shared.outgoing.outbox.lock().connection_lost();
        // The batch being written was taken out of the outbox: there is room again, and the
        // publishers already waiting for it go first (or fail, if they may not wait).
        self.shared.outgoing.space.notify_waiters();
        for waiter in lost {
            self.complete(waiter, Ok(()));
        }
    }

    /// Queues, in front of everything else, the `SUB` (and `UNSUB <max>`) of every live
    /// subscription, for a new connection.
    pub(crate) fn resubscribe(&mut self) {
        if let Some(bytes) = self.subs.resubscribe_bytes() {
            self.shared.outgoing.outbox.lock().push_front(bytes);
        }
    }

    /// Takes in an `INFO`: the server pool learns the cluster's members, lame duck mode
    /// schedules a move, and the limits are updated.
    pub(crate) fn info(&mut self, info: ServerInfo) {
        self.discover(&info.connect_urls, true);
        if info.lame_duck_mode && !self.moving && self.move_at.is_none() {
            self.shared.events.emit(Event::LameDuckMode);
            self.schedule_move();
        }
        self.shared.set_info(info);
    }

    /// Adds the servers of `connect_urls` to the pool; `announce` sends an event for the
    /// ones never seen before (not done for the first connection, as nats.go).
    pub(crate) fn discover(&mut self, connect_urls: &[String], announce: bool) {
        let fresh = self
            .shared
            .pool
            .lock()
            .update(connect_urls, self.current.as_ref());
        if announce && !fresh.is_empty() {
            self.shared.events.emit(Event::DiscoveredServers(fresh));
        }
    }

    fn schedule_move(&mut self) {
        let Some(within) = self.shared.options.lame_duck_move_within else {
            return;
        };
        if !self.shared.options.allow_reconnect {
            return;
        }
        let Some(current) = &self.current else {
            return;
        };
        if !self.shared.pool.lock().has_other_than(current) {
            return;
        }
        let max = u64::try_from(within.as_micros()).unwrap_or(u64::MAX).max(1);
        let delay = Duration::from_micros(fastrand::u64(0..max));
        self.move_at = Some(Instant::now() + delay);
    }

    /// Ends every subscription and fails every waiter: the client is closed.
    pub(crate) fn shut_down(&mut self) {
        self.subs.clear();
        self.shared.mux.clear();
        let waiters: Vec<PongWaiter> = self.shared.outgoing.outbox.lock().close().collect();
        drop(waiters);
    }
}
