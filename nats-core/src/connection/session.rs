//! One session: reading and writing on one connected stream until it ends.

use std::future::Future;
use std::time::Duration;

use bytes::BytesMut;
use futures_util::future::{select, Either};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::time::{interval_at, sleep_until, Instant, MissedTickBehavior};

use super::dispatcher::{Dispatcher, Exit};
use super::writer;
use crate::connector::{Connection, READ_BUFFER};
use crate::proto::parser::{ParseError, Parser, ServerOp};
use crate::shared::Shared;
use crate::transport::Transport;

/// Reads and writes on the connection until the session ends.
pub(crate) async fn run(
    shared: &Shared,
    dispatcher: &mut Dispatcher,
    connection: &mut Connection,
) -> Exit {
    let Connection {
        stream,
        read_buf,
        parser,
        ..
    } = connection;
    match stream {
        // Borrowed halves: no lock between reading and writing.
        Transport::Tcp(tcp) => {
            let (reader, writer) = tcp.split();
            run_halves(shared, dispatcher, reader, writer, read_buf, parser).await
        }
        Transport::Boxed(boxed) => {
            let (reader, writer) = tokio::io::split(&mut **boxed);
            run_halves(shared, dispatcher, reader, writer, read_buf, parser).await
        }
    }
}

async fn run_halves<R, W>(
    shared: &Shared,
    dispatcher: &mut Dispatcher,
    mut reader: R,
    mut writer: W,
    buf: &mut BytesMut,
    parser: &mut Parser,
) -> Exit
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let reading = read_loop(
        dispatcher,
        &mut reader,
        buf,
        parser,
        shared.options.ping_interval,
    );
    let writing = writer::write_loop(shared, &mut writer);
    tokio::pin!(reading, writing);
    match select(reading, writing).await {
        Either::Left((Exit::Close, writing)) => {
            shared.lifecycle.begin_closing();
            shared.outgoing.writer_wake.notify_one();
            finish_writing(shared, writing).await;
            Exit::Close
        }
        Either::Left((exit, _)) => exit,
        Either::Right((Ok(()), _)) => Exit::Lost("writer stopped".into()),
        Either::Right((Err(err), _)) => Exit::Lost(format!("write failed: {err}")),
    }
}

/// Lets the writer send what was queued before the close, within the drain timeout.
async fn finish_writing(shared: &Shared, writing: impl Future<Output = std::io::Result<()>>) {
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
    // The lame duck timer, armed only while a move is due; one timer for the whole session,
    // so that no loop turn builds one.
    let lame_duck = sleep_until(Instant::now());
    tokio::pin!(lame_duck);
    let mut armed_for: Option<Instant> = None;
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
        let deadline = dispatcher.move_deadline();
        if deadline != armed_for {
            if let Some(at) = deadline {
                lame_duck.as_mut().reset(at);
            }
            armed_for = deadline;
        }
        tokio::select! {
            biased;
            command = dispatcher.next_command() => match command {
                Some(command) => dispatcher.handle_command(command),
                None => return Exit::Close,
            },
            read = reader.read_buf(buf) => match read {
                Ok(0) => return Exit::Lost(dispatcher.closed_by_server()),
                Ok(_) => {}
                Err(err) => return Exit::Lost(format!("read failed: {err}")),
            },
            _ = keep_alive.tick() => dispatcher.keep_alive(),
            () = &mut lame_duck, if armed_for.is_some() => {
                armed_for = None;
                dispatcher.move_due();
            }
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
        if let ServerOp::Info(info) = &op {
            parser.set_max_payload(info.max_payload);
        }
        dispatcher.handle_op(op);
    }
    Ok(())
}
