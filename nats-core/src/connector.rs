//! Dialing a server and the `INFO` / `CONNECT` / `PING` / `PONG` handshake.
//!
//! The first connection walks the server pool once; reconnection (in the connection task)
//! dials one server at a time with [`connect_one`]. TLS and the other authentication methods
//! slot in at [`handshake`].

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{ConnectError, ConnectErrorKind, Error};
use crate::options::ConnectOptions;
use crate::proto::encoder;
use crate::proto::info::ConnectInfo;
use crate::proto::parser::{Parser, ServerOp};
use crate::proto::ServerInfo;
use crate::server_addr::ServerAddr;
use crate::server_error::ServerRefusal;
use crate::server_pool::{Outcome, ServerPool};
use crate::tls;
use crate::transport::{self, Transport};

/// Size of the first read buffer; it grows as large messages need.
pub(crate) const READ_BUFFER: usize = 64 * 1024;

/// A connection that finished its handshake.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) stream: Transport,
    /// Bytes read after the handshake's `PONG`: already the start of the session.
    pub(crate) read_buf: BytesMut,
    pub(crate) parser: Parser,
    pub(crate) info: ServerInfo,
    pub(crate) addr: ServerAddr,
}

/// Tries each server of the pool once, in pool order; the error of the last one if none
/// accepts.
pub(crate) async fn connect_any(
    pool: &mut ServerPool,
    options: &ConnectOptions,
) -> Result<Connection, ConnectError> {
    let mut last = ConnectError::new(ConnectErrorKind::NoServers);
    for _ in 0..pool.len() {
        let Some(entry) = pool.next() else { break };
        pool.attempting(&entry.addr);
        let result = connect_one(&entry.addr, options).await;
        pool.record(
            &entry.addr,
            outcome(&result),
            None,
            std::time::Duration::ZERO,
        );
        match result {
            Ok(connection) => return Ok(connection),
            Err(err) => {
                tracing::debug!(server = %entry.addr, error = %err, "connect failed");
                last = err;
            }
        }
    }
    Err(last)
}

/// What the pool learns from an attempt.
pub(crate) fn outcome<T>(result: &Result<T, ConnectError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Connected,
        Err(err) if err.kind() == ConnectErrorKind::AuthorizationViolation => Outcome::AuthFailed,
        Err(_) => Outcome::Failed,
    }
}

/// Dials `addr` and performs the handshake, all within the connect timeout.
pub(crate) async fn connect_one(
    addr: &ServerAddr,
    options: &ConnectOptions,
) -> Result<Connection, ConnectError> {
    let attempt = async {
        let stream = transport::dial(addr, options)
            .await
            .map_err(|e| io_error(addr, e))?;
        handshake(stream, addr, options).await
    };
    match tokio::time::timeout(options.connect_timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(Error::with_source(
            ConnectErrorKind::TimedOut,
            format!("{addr} did not answer within {:?}", options.connect_timeout),
        )),
    }
}

async fn handshake(
    mut stream: Transport,
    addr: &ServerAddr,
    options: &ConnectOptions,
) -> Result<Connection, ConnectError> {
    let mut read_buf = BytesMut::with_capacity(READ_BUFFER);
    let mut parser = Parser::default();
    let tls = &options.tls;
    let mut secure = tls.handshake_first;
    if secure {
        stream = tls::upgrade(stream, addr, tls).await?;
    }
    let info = match next_op(&mut stream, &mut read_buf, &mut parser, addr).await? {
        ServerOp::Info(info) => *info,
        ServerOp::Err(text) => return Err(server_error(addr, &text)),
        other => return Err(protocol_error(addr, &format!("sent {other:?} before INFO"))),
    };
    let wanted = tls.wanted() || addr.tls_required();
    if !secure && (info.tls_required || wanted) {
        if !info.tls_required && !info.tls_available {
            return Err(Error::with_source(
                ConnectErrorKind::Tls,
                format!("{addr} does not offer TLS, which the options require"),
            ));
        }
        if !read_buf.is_empty() {
            return Err(protocol_error(
                addr,
                "sent more than INFO before the TLS handshake",
            ));
        }
        stream = tls::upgrade(stream, addr, tls).await?;
        secure = true;
    }
    parser.set_max_payload(info.max_payload);
    let mut out = BytesMut::new();
    encoder::write_connect(&mut out, &connect_info(addr, options, &info, secure)?);
    out.extend_from_slice(encoder::PING);
    stream
        .write_all(&out)
        .await
        .map_err(|e| io_error(addr, e))?;
    let mut info = info;
    loop {
        match next_op(&mut stream, &mut read_buf, &mut parser, addr).await? {
            ServerOp::Pong => break,
            ServerOp::Ok => {}
            ServerOp::Ping => stream
                .write_all(encoder::PONG)
                .await
                .map_err(|e| io_error(addr, e))?,
            ServerOp::Info(newer) => {
                parser.set_max_payload(newer.max_payload);
                info = *newer;
            }
            ServerOp::Err(text) => return Err(server_error(addr, &text)),
            ServerOp::InvalidInfo(why) => {
                return Err(protocol_error(
                    addr,
                    &format!("sent an INFO that is not valid: {why}"),
                ))
            }
            ServerOp::Msg { .. } | ServerOp::Malformed { .. } | ServerOp::Oversized { .. } => {
                return Err(protocol_error(
                    addr,
                    "sent a message before the handshake ended",
                ))
            }
        }
    }
    Ok(Connection {
        stream,
        read_buf,
        parser,
        info,
        addr: addr.clone(),
    })
}

/// The `CONNECT` for `addr`: credentials of the URL first (a user without a password is a
/// token, as nats.go reads `nats://TOKEN@host`), then those of the options.
fn connect_info(
    addr: &ServerAddr,
    options: &ConnectOptions,
    info: &ServerInfo,
    secure: bool,
) -> Result<ConnectInfo, ConnectError> {
    let proof = options.auth.prove(&info.nonce)?;
    let (mut user, mut pass, mut auth_token) = (None, None, proof.auth_token);
    match (addr.user(), addr.password()) {
        (Some(u), Some(p)) => (user, pass) = (Some(u), Some(p)),
        (Some(token), None) => auth_token = Some(token),
        _ => {
            user = options.user.clone();
            pass = options.password.clone();
            auth_token = auth_token.or_else(|| options.token.clone());
        }
    }
    Ok(ConnectInfo {
        verbose: options.verbose,
        pedantic: options.pedantic,
        tls_required: secure,
        name: options.name.clone(),
        lang: "rust",
        version: env!("CARGO_PKG_VERSION"),
        protocol: 1,
        echo: !options.no_echo,
        headers: true,
        no_responders: true,
        user,
        pass,
        auth_token,
        jwt: proof.jwt,
        nkey: proof.nkey,
        sig: proof.sig,
    })
}

async fn next_op(
    stream: &mut Transport,
    buf: &mut BytesMut,
    parser: &mut Parser,
    addr: &ServerAddr,
) -> Result<ServerOp, ConnectError> {
    loop {
        match parser.parse(buf) {
            Ok(Some(op)) => return Ok(op),
            Ok(None) => {}
            Err(e) => return Err(protocol_error(addr, &e.to_string())),
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(READ_BUFFER);
        }
        let n = stream.read_buf(buf).await.map_err(|e| io_error(addr, e))?;
        if n == 0 {
            return Err(Error::with_source(
                ConnectErrorKind::Io,
                format!("{addr} closed the connection during the handshake"),
            ));
        }
    }
}

/// An `-ERR` during the handshake, with the server's address and words.
fn server_error(addr: &ServerAddr, text: &str) -> ConnectError {
    let refusal = ServerRefusal::new(addr.to_string(), text);
    let kind = if refusal.error().is_auth_error() {
        ConnectErrorKind::AuthorizationViolation
    } else {
        ConnectErrorKind::ServerError
    };
    Error::with_source(kind, refusal)
}

/// The server's refusal behind a failed handshake, if that is what it was.
pub(crate) fn refusal(err: &ConnectError) -> Option<&ServerRefusal> {
    std::error::Error::source(err)?.downcast_ref::<ServerRefusal>()
}

fn protocol_error(addr: &ServerAddr, what: &str) -> ConnectError {
    Error::with_source(ConnectErrorKind::Protocol, format!("{addr}: {what}"))
}

/// A read or write that failed: a TLS alert the server sent (with TLS 1.3 a refused client
/// certificate arrives on the first read after the handshake) is a TLS error.
fn io_error(addr: &ServerAddr, err: std::io::Error) -> ConnectError {
    match tls::alert(&err) {
        Some(why) => Error::with_source(ConnectErrorKind::Tls, format!("{addr}: {why}")),
        None => Error::with_source(ConnectErrorKind::Io, format!("{addr}: {err}")),
    }
}
