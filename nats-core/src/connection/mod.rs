//! The connection task: one task per client owns the socket, reads and dispatches what the
//! server sends, and writes what the handles queue in the outbox, both at once.
//!
//! Its life: run one session on a connected socket until the user closes or the connection
//! breaks, then shut down. Reconnection slots in between the two: a new session on a new
//! socket with the same dispatcher (which owns the subscriptions to send again) and the same
//! outbox (which keeps what was published meanwhile).

mod dispatcher;
mod writer;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::future::{select, Either};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::connector::{self, Connection, READ_BUFFER};
use crate::event::Event;
use crate::proto::parser::{ParseError, Parser};
use crate::server_addr::ServerAddr;
use crate::shared::{Command, Shared, State};
use dispatcher::{Dispatcher, Exit};

/// Starts the connection task on an established connection.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    connection: Connection,
    commands: mpsc::UnboundedReceiver<Command>,
) {
    shared.set_info(connection.info.clone());
    *shared.connected_addr.write() = Some(connection.addr.clone());
    shared.set_state(State::Connected);
    tokio::spawn(run(shared, connection, commands));
}

async fn run(
    shared: Arc<Shared>,
    mut connection: Connection,
    commands: mpsc::UnboundedReceiver<Command>,
) {
    let mut dispatcher = Dispatcher::new(Arc::clone(&shared), commands);
    shared.emit(Event::Connected);
    loop {
        let reason = match session(&shared, &mut dispatcher, &mut connection).await {
            Exit::Close => break,
            Exit::Lost(reason) => reason,
        };
        tracing::warn!(server = %connection.addr, %reason, "connection lost");
        shared.record_error(reason);
        shared.emit(Event::Disconnected);
        dispatcher.connection_lost();
        if !shared.options.allow_reconnect {
            break;
        }
        shared.set_state(State::Reconnecting);
        *shared.connected_addr.write() = None;
        let Some(next) = reconnect(&shared, &mut dispatcher, &connection.addr).await else {
            break;
        };
        connection = next;
        dispatcher.resubscribe();
        shared.set_info(connection.info.clone());
        *shared.connected_addr.write() = Some(connection.addr.clone());
        shared.reconnects.fetch_add(1, Ordering::Relaxed);
        shared.set_state(State::Connected);
        shared.writer_wake.notify_one();
        shared.emit(Event::Reconnected);
    }

    shared.set_state(State::Closed);
    *shared.connected_addr.write() = None;
    dispatcher.shut_down();
    shared.space.notify_waiters();
    shared.emit(Event::Closed);
    shared.closed.send_replace(true);
}

/// Walks the server pool, round after round, until a server accepts, the attempts run out
/// or the user closes the client. Commands keep being served meanwhile.
async fn reconnect(
    shared: &Shared,
    dispatcher: &mut Dispatcher,
    lost: &ServerAddr,
) -> Option<Connection> {
    let options = &shared.options;
    let mut rounds = 0u32;
    loop {
        for addr in connector::reconnect_order(shared, lost) {
            dispatcher.run_queued_commands();
            if dispatcher.take_exit().is_some() {
                return None;
            }
            match connector::connect_one(&addr, options).await {
                Ok(connection) => return Some(connection),
                Err(err) => tracing::debug!(server = %addr, error = %err, "reconnect failed"),
            }
        }
        rounds += 1;
        if options
            .max_reconnect_attempts
            .is_some_and(|max| rounds >= max)
        {
            shared.record_error(format!("gave up reconnecting after {rounds} rounds"));
            return None;
        }
        let pause = tokio::time::sleep(options.reconnect_time_wait);
        tokio::pin!(pause);
        loop {
            tokio::select! {
                _ = &mut pause => break,
                command = dispatcher.next_command() => match command {
                    Some(command) => dispatcher.handle_command(command),
                    None => return None,
                },
            }
            if dispatcher.take_exit().is_some() {
                return None;
            }
        }
    }
}

/// Reads and writes on one socket until the session ends.
async fn session(
    shared: &Shared,
    dispatcher: &mut Dispatcher,
    connection: &mut Connection,
) -> Exit {
    let (mut reader, mut writer) = connection.stream.split();
    let reading = read_loop(
        dispatcher,
        &mut reader,
        &mut connection.read_buf,
        &mut connection.parser,
        shared.options.ping_interval,
    );
    let writing = writer::write_loop(shared, &mut writer);
    tokio::pin!(reading, writing);
    match select(reading, writing).await {
        Either::Left((Exit::Close, writing)) => {
            shared.begin_closing();
            finish_writing(shared, writing).await;
            Exit::Close
        }
        Either::Left((exit, _)) => exit,
        Either::Right((Ok(()), _)) => Exit::Lost("writer stopped".into()),
        Either::Right((Err(err), _)) => Exit::Lost(format!("write failed: {err}")),
    }
}

/// Lets the writer send what was queued before the close, within the drain timeout.
async fn finish_writing(
    shared: &Shared,
    writing: impl std::future::Future<Output = std::io::Result<()>>,
) {
    let limit = shared.options.drain_timeout.max(Duration::from_millis(100));
    match tokio::time::timeout(limit, writing).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::debug!(%err, "write failed while closing"),
        Err(_) => tracing::warn!("closing: buffered data not written within {limit:?}"),
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    dispatcher: &mut Dispatcher,
    reader: &mut R,
    buf: &mut BytesMut,
    parser: &mut Parser,
    ping_interval: Duration,
) -> Exit {
    let mut keep_alive = interval_at(Instant::now() + ping_interval, ping_interval);
    keep_alive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        if let Err(err) = dispatch_buffered(dispatcher, buf, parser) {
            return Exit::Lost(format!("protocol error: {err}"));
        }
        if let Some(exit) = dispatcher.take_exit() {
            return exit;
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(READ_BUFFER);
        }
        tokio::select! {
            biased;
            command = dispatcher.next_command() => match command {
                Some(command) => dispatcher.handle_command(command),
                None => return Exit::Close,
            },
            read = reader.read_buf(buf) => match read {
                Ok(0) => return Exit::Lost("server closed the connection".into()),
                Ok(_) => {}
                Err(err) => return Exit::Lost(format!("read failed: {err}")),
            },
            _ = keep_alive.tick() => dispatcher.keep_alive(),
        }
    }
}

/// Handles every complete operation in the read buffer.
fn dispatch_buffered(
    dispatcher: &mut Dispatcher,
    buf: &mut BytesMut,
    parser: &mut Parser,
) -> Result<(), ParseError> {
    dispatcher.run_queued_commands();
    while let Some(op) = parser.parse(buf)? {
        dispatcher.handle_op(op);
    }
    Ok(())
}
