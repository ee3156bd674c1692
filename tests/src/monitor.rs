//! Reading a server's HTTP monitoring endpoints (`/varz`, `/routez`, ...) with
//! a plain HTTP/1.0 request over a std `TcpStream`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

/// How long one request may take to connect, and then to answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// Fetches `path` (such as `/routez`) from the monitoring port `port` on
/// `127.0.0.1` and parses the body as JSON.
///
/// # Errors
///
/// Describes a failed connection, a non-200 answer or a body that is not JSON.
pub(crate) fn get_json(port: u16, path: &str) -> Result<Value, String> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let what = format!("GET http://{addr}{path}");
    let mut stream = TcpStream::connect_timeout(&addr, REQUEST_TIMEOUT)
        .map_err(|err| format!("{what}: cannot connect: {err}"))?;
    stream
        .set_read_timeout(Some(REQUEST_TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(REQUEST_TIMEOUT)))
        .map_err(|err| format!("{what}: cannot set timeouts: {err}"))?;
    let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|err| format!("{what}: cannot send: {err}"))?;
    // HTTP/1.0: the server closes the connection after the body.
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|err| format!("{what}: cannot read the answer: {err}"))?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{what}: no end of headers in {response:?}"))?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("{what}: answered {status:?}"));
    }
    serde_json::from_str(body).map_err(|err| format!("{what}: body is not JSON ({err}): {body}"))
}
