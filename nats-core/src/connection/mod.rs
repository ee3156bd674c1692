//! The connection task: one task per client owns the stream to the server, reads and
//! dispatches what the server sends, and writes what the handles queue in the outbox, both at
//! once.
//!
//! Its life: run one session on a connected stream until the user closes or the connection
//! breaks, find a server again, and so on; then shut down. Every session shares the same
//! dispatcher (which owns the subscriptions to send again) and the same outbox (which keeps
//! what was published meanwhile).

mod dispatcher;
mod reconnect;
mod session;
mod subscriptions;
mod writer;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::connector::Connection;
use crate::event::Event;
use crate::shared::{Command, Shared, State};
use dispatcher::{Dispatcher, Exit};

/// Starts the connection task, on an established connection or, when `first` is `None`
/// (`retry_on_initial_connect`), looking for one.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    first: Option<Connection>,
    commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut dispatcher = Dispatcher::new(Arc::clone(&shared), commands);
    if let Some(connection) = &first {
        // Visible to the caller of connect as soon as it returns.
        go_live(&shared, &mut dispatcher, connection, false);
    }
    tokio::spawn(run(shared, dispatcher, first));
}

async fn run(shared: Arc<Shared>, mut dispatcher: Dispatcher, first: Option<Connection>) {
    let mut ever_connected = first.is_some();
    let mut next = first;
    loop {
        let mut connection = match next.take() {
            Some(connection) => connection,
            None => match reconnect::reconnect(&shared, &mut dispatcher).await {
                Some(connection) => {
                    go_live(&shared, &mut dispatcher, &connection, ever_connected);
                    ever_connected = true;
                    connection
                }
                None => break,
            },
        };
        let exit = session::run(&shared, &mut dispatcher, &mut connection).await;
        let reason = match exit {
            Exit::Close => break,
            Exit::Lost(reason) => reason,
            Exit::Move => format!("moving off {}, which is in lame duck mode", connection.addr),
        };
        shared
            .pool
            .lock()
            .lost(&connection.addr, shared.options.reconnect_time_wait);
        tracing::warn!(server = %connection.addr, %reason, "connection lost");
        shared.events.error(reason);
        shared.events.emit(Event::Disconnected);
        *shared.connected_addr.write() = None;
        if !shared.options.allow_reconnect {
            break;
        }
        // Before publishers waiting for room are woken: they must see the client disconnected
        // (a drain in progress carries on: the state stays `Draining`).
        shared.lifecycle.set_state(State::Reconnecting);
        dispatcher.connection_lost();
    }

    *shared.connected_addr.write() = None;
    dispatcher.shut_down();
    // Closed before publishers waiting for room are woken, so that they give up.
    shared.lifecycle.set_state(State::Closed);
    shared.outgoing.space.notify_waiters();
    shared.lifecycle.finish();
    shared.events.emit(Event::Closed);
}

/// Makes `connection` the client's: its server's limits, its place in the pool, the
/// subscriptions sent again on a reconnect, and the events.
fn go_live(
    shared: &Shared,
    dispatcher: &mut Dispatcher,
    connection: &Connection,
    reconnected: bool,
) {
    dispatcher.session_started(&connection.addr);
    dispatcher.discover(&connection.info.connect_urls, false);
    if reconnected {
        dispatcher.resubscribe();
        shared.reconnects.fetch_add(1, Ordering::Relaxed);
    }
    shared.set_info(connection.info.clone());
    *shared.connected_addr.write() = Some(connection.addr.clone());
    // Draining carries on across a reconnect: the state stays `Draining`.
    shared.lifecycle.set_state(State::Connected);
    shared.outgoing.writer_wake.notify_one();
    shared.events.emit(if reconnected {
        Event::Reconnected
    } else {
        Event::Connected
    });
}
