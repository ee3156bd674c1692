//! Turns bytes from the server into [`ServerOp`]s, with no I/O.
//!
//! The parser works on the connection's read buffer. A frame that is not all there yet stays in
//! the buffer; a `MSG`/`HMSG` whose control line is complete but whose payload is not keeps the
//! offsets it parsed from that line, so a payload split across many reads is scanned once. A
//! complete message is split off the buffer in one piece, and its subject, reply and payload
//! are slices of that piece: no copy, one reference count.

use bytes::{Buf, BytesMut};

use super::info::ServerInfo;
use crate::header::parse_header_block;
use crate::message::Message;
use crate::subject::Subject;

/// Longest control line accepted. nats-server limits the lines clients send to 4 KiB by
/// default (`max_control_line`), so a `MSG` line, which repeats a subject and a reply of such
/// lines, stays far below this, even on servers configured for much longer lines; so does
/// the `INFO` of a large cluster.
pub(crate) const MAX_CONTROL_LINE: usize = 1024 * 1024;

/// Room above the server's `max_payload` that a delivered message may take: the server adds
/// headers of its own to some messages (JetStream's, for one).
pub(crate) const HEADER_ROOM: usize = 64 * 1024;

/// nats-server's default `max_payload`, the limit until the server has said its own.
const DEFAULT_MAX_PAYLOAD: usize = 1024 * 1024;

/// The largest `max_payload` nats-server accepts in its configuration (64 MiB): a server
/// that advertises more is not believed, so that it cannot make the client buffer anything.
const MAX_MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// An operation sent by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerOp {
    /// `INFO {json}`.
    Info(Box<ServerInfo>),
    /// `MSG` or `HMSG`, with the subscription id it was delivered to.
    Msg { sid: u64, message: Message },
    /// `PING`.
    Ping,
    /// `PONG`.
    Pong,
    /// `+OK` (verbose mode).
    Ok,
    /// `-ERR 'text'`, with the quotes removed.
    Err(String),
    /// An `INFO` whose JSON could not be read; the text says why.
    InvalidInfo(String),
    /// A whole message that cannot be delivered: its subject or reply is not UTF-8, or its
    /// header block is not one. It was taken off the stream, which goes on.
    Malformed { sid: u64, reason: String },
    /// A message larger than the limit: its bytes are skipped as they arrive, never buffered.
    Oversized { sid: u64, size: usize },
}

/// Bytes that are not the NATS protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ParseError {
    #[error("unknown protocol operation {0:?}")]
    UnknownOp(String),
    #[error("invalid {op} arguments: {reason}")]
    InvalidArgs {
        op: &'static str,
        reason: &'static str,
    },
    #[error("control line longer than {MAX_CONTROL_LINE} bytes")]
    ControlLineTooLong,
    #[error("message payload not followed by CRLF")]
    MissingCrlf,
}

/// What the control line of a message said, as offsets into its frame, while the payload
/// has not fully arrived. The line itself stays at the front of the buffer.
#[derive(Debug)]
struct PendingMsg {
    /// Length of the control line, `\r\n` included: where the headers start.
    line_len: usize,
    sid: u64,
    subject: (usize, usize),
    reply: Option<(usize, usize)>,
    header_len: usize,
    total_len: usize,
}

/// Incremental parser of server operations.
#[derive(Debug)]
pub(crate) struct Parser {
    pending: Option<PendingMsg>,
    /// How far the buffer was already searched for a line end without finding one.
    scanned: usize,
    /// Bytes of an oversized message still to discard.
    skipping: usize,
    /// Largest message (headers and payload) accepted.
    max_message: usize,
}

impl Default for Parser {
    fn default() -> Self {
        Parser {
            pending: None,
            scanned: 0,
            skipping: 0,
            max_message: DEFAULT_MAX_PAYLOAD + HEADER_ROOM,
        }
    }
}

impl Parser {
    /// Accepts messages of up to the server's `max_payload` (0: the default; at most 64 MiB,
    /// nats-server's own ceiling) plus [`HEADER_ROOM`]; larger ones are skipped.
    pub(crate) fn set_max_payload(&mut self, max_payload: usize) {
        let max_payload = if max_payload == 0 {
            DEFAULT_MAX_PAYLOAD
        } else {
            max_payload.min(MAX_MAX_PAYLOAD)
        };
        self.max_message = max_payload + HEADER_ROOM;
    }

    /// Takes the next complete operation off the front of `buf`.
    ///
    /// Returns `Ok(None)` when more bytes are needed; `buf` then keeps what it has. After an
    /// error the connection must be dropped: the stream position is lost.
    pub(crate) fn parse(&mut self, buf: &mut BytesMut) -> Result<Option<ServerOp>, ParseError> {
        if self.skipping > 0 {
            let n = self.skipping.min(buf.len());
            buf.advance(n);
            self.skipping -= n;
            if self.skipping > 0 {
                return Ok(None);
            }
        }
        if self.pending.is_some() {
            return self.parse_payload(buf);
        }
        let Some(end) = self.find_line_end(buf)? else {
            return Ok(None);
        };
        let line = &buf[..=end];
        let op_len = op_len(line);
        let op = &line[..op_len];
        if op.eq_ignore_ascii_case(b"MSG") || op.eq_ignore_ascii_case(b"HMSG") {
            let has_headers = op.len() == 4;
            let pending = parse_msg_args(line, op_len, has_headers)?;
            if pending.total_len > self.max_message {
                // The whole frame goes as it arrives: the control line, the message, CRLF.
                self.skipping = pending.line_len + pending.total_len + 2;
                return Ok(Some(ServerOp::Oversized {
                    sid: pending.sid,
                    size: pending.total_len,
                }));
            }
            self.pending = Some(pending);
            return self.parse_payload(buf);
        }
        let line = buf.split_to(end + 1).freeze();
        let content = trim_line_end(&line);
        if op_len > content.len() {
            return Err(ParseError::UnknownOp(String::new()));
        }
        let op = &content[..op_len];
        if op.eq_ignore_ascii_case(b"PING") {
            Ok(Some(ServerOp::Ping))
        } else if op.eq_ignore_ascii_case(b"PONG") {
            Ok(Some(ServerOp::Pong))
        } else if op.eq_ignore_ascii_case(b"+OK") {
            Ok(Some(ServerOp::Ok))
        } else if op.eq_ignore_ascii_case(b"-ERR") {
            let text = String::from_utf8_lossy(&content[op_len..]);
            let text = text.trim().trim_matches('\'');
            Ok(Some(ServerOp::Err(text.to_owned())))
        } else if op.eq_ignore_ascii_case(b"INFO") {
            match serde_json::from_slice::<ServerInfo>(&content[op_len..]) {
                Ok(info) => Ok(Some(ServerOp::Info(Box::new(info)))),
                Err(err) => Ok(Some(ServerOp::InvalidInfo(err.to_string()))),
            }
        } else {
            let shown = String::from_utf8_lossy(&op[..op.len().min(32)]).into_owned();
            Err(ParseError::UnknownOp(shown))
        }
    }

    /// Position of the `\n` that ends the control line at the front of `buf`, if there is one.
    fn find_line_end(&mut self, buf: &BytesMut) -> Result<Option<usize>, ParseError> {
        match memchr::memchr(b'\n', &buf[self.scanned.min(buf.len())..]) {
            Some(pos) => {
                let end = self.scanned + pos;
                self.scanned = 0;
                Ok(Some(end))
            }
            None if buf.len() > MAX_CONTROL_LINE => Err(ParseError::ControlLineTooLong),
            None => {
                self.scanned = buf.len();
                Ok(None)
            }
        }
    }

    fn parse_payload(&mut self, buf: &mut BytesMut) -> Result<Option<ServerOp>, ParseError> {
        let Some(pending) = &self.pending else {
            return Ok(None);
        };
        let data_end = pending.line_len + pending.total_len;
        if buf.len() < data_end + 2 {
            buf.reserve(data_end + 2 - buf.len());
            return Ok(None);
        }
        if &buf[data_end..data_end + 2] != b"\r\n" {
            return Err(ParseError::MissingCrlf);
        }
        let Some(pending) = self.pending.take() else {
            return Ok(None);
        };
        let frame = buf.split_to(data_end + 2).freeze();
        let malformed = |reason: String| {
            Ok(Some(ServerOp::Malformed {
                sid: pending.sid,
                reason,
            }))
        };
        let text = |(start, end): (usize, usize)| Subject::from_utf8(frame.slice(start..end));
        let Some(subject) = text(pending.subject) else {
            return malformed("subject is not UTF-8".into());
        };
        let reply = match pending.reply.map(text) {
            Some(None) => return malformed(format!("reply subject of {subject} is not UTF-8")),
            Some(Some(reply)) => Some(reply),
            None => None,
        };
        let headers_end = pending.line_len + pending.header_len;
        let payload = frame.slice(headers_end..data_end);
        let (headers, status, description) = if pending.header_len > 0 {
            match parse_header_block(&frame[pending.line_len..headers_end]) {
                Ok(block) => (Some(block.headers), block.status, block.description),
                Err(err) => return malformed(format!("invalid header block on {subject}: {err}")),
            }
        } else {
            (None, None, None)
        };
        Ok(Some(ServerOp::Msg {
            sid: pending.sid,
            message: Message {
                subject,
                reply,
                payload,
                headers,
                status,
                description,
                length: pending.total_len,
            },
        }))
    }
}

/// Length of the operation name at the start of `line`.
fn op_len(line: &[u8]) -> usize {
    line.iter()
        .position(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .unwrap_or(line.len())
}

/// The line without its `\r\n` (or bare `\n`).
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses `<subject> <sid> [reply] [<header bytes>] <total bytes>` from a `MSG`/`HMSG` line.
fn parse_msg_args(line: &[u8], op_len: usize, has_headers: bool) -> Result<PendingMsg, ParseError> {
    let op = if has_headers { "HMSG" } else { "MSG" };
    let invalid = |reason| ParseError::InvalidArgs { op, reason };
    let content = trim_line_end(line);
    let content_len = content.len();
    let mut args: [(usize, usize); 5] = [(0, 0); 5];
    let mut count = 0;
    let mut i = op_len.min(content_len);
    while i < content_len {
        if matches!(content[i], b' ' | b'\t') {
            i += 1;
            continue;
        }
        // The end of this argument, found with SIMD: reply subjects of JetStream messages
        // are some 80 bytes long.
        let end = memchr::memchr2(b' ', b'\t', &content[i..]).map_or(content_len, |n| i + n);
        if count == args.len() {
            return Err(invalid("too many arguments"));
        }
        args[count] = (i, end);
        count += 1;
        i = end;
    }
    let expected = if has_headers { 4 } else { 3 };
    if count != expected && count != expected + 1 {
        return Err(invalid("wrong number of arguments"));
    }
    let has_reply = count == expected + 1;
    let number = |(s, e): (usize, usize)| parse_usize(&line[s..e]);
    let subject = args[0];
    let sid = number(args[1]).ok_or_else(|| invalid("sid is not a number"))? as u64;
    let reply = has_reply.then_some(args[2]);
    let sizes = &args[if has_reply { 3 } else { 2 }..count];
    let total_len =
        number(sizes[sizes.len() - 1]).ok_or_else(|| invalid("size is not a number"))?;
    let header_len = if has_headers {
        let h = number(sizes[0]).ok_or_else(|| invalid("header size is not a number"))?;
        if h > total_len {
            return Err(invalid("header size exceeds total size"));
        }
        h
    } else {
        0
    };
    Ok(PendingMsg {
        line_len: line.len(),
        sid,
        subject,
        reply,
        header_len,
        total_len,
    })
}

/// A decimal number of at most 19 digits (no sign), without allocation.
fn parse_usize(digits: &[u8]) -> Option<usize> {
    if digits.len() > 19 {
        return None;
    }
    crate::decimal::parse_u64(digits).and_then(|n| usize::try_from(n).ok())
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
