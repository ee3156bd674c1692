//! The raw-socket ceilings of the JetStream, Key-Value and Object Store rows: no client
//! library, pre-encoded frames, one connection per ceiling.
//!
//! Unlike `raw.rs`, whose reader goes one line at a time, this one parses frames in place in
//! its own buffer (`MSG` and `HMSG`) and queues what it owes the server (acks, pull requests,
//! publishes, flow-control answers) in an outgoing buffer that is written only when the read
//! buffer holds no further complete frame: one write per read, not one per message, so a
//! ceiling is bound by the server rather than by syscalls.

use std::ops::Range;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;

use crate::client::BenchError;

/// What the read buffer starts with (and grows from, for a frame larger than it).
const READ_BUFFER: usize = 256 * 1024;

/// One raw connection, past the handshake, with headers on (`HMSG`).
pub(crate) struct RawJs {
    read: OwnedReadHalf,
    write: OwnedWriteHalf,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    out: Vec<u8>,
}

/// One message, as positions in the connection's read buffer: valid until its next read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Msg {
    /// The subscription it came for: a push consumer's messages keep their stream subject.
    sid: usize,
    subject: Range<usize>,
    reply: Range<usize>,
    /// Empty for a `MSG`.
    headers: Range<usize>,
    payload: Range<usize>,
}

/// A frame parsed from the head of the read buffer; ranges are relative to that head.
#[derive(Debug, PartialEq, Eq)]
enum Op {
    Ping,
    Pong,
    /// `+OK`, `INFO`: nothing to do.
    Ignored,
    /// A message.
    Msg(Msg),
}

/// What the read buffer holds: a complete frame and its length, or not enough yet.
fn parse(data: &[u8]) -> Result<Option<(usize, Op)>, BenchError> {
    let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
        return Ok(None);
    };
    let line = &data[..eol];
    let after_line = eol + 2;
    let op = if line == b"PING" {
        Op::Ping
    } else if line == b"PONG" {
        Op::Pong
    } else if line.starts_with(b"+OK") || line.starts_with(b"INFO") {
        Op::Ignored
    } else if line.starts_with(b"-ERR") {
        return Err(format!("raw: {}", String::from_utf8_lossy(line)).into());
    } else if let Some(args) = line.strip_prefix(b"MSG ") {
        let fields = split_fields(args, 4)?;
        let (subject, sid, reply, size) = match fields.as_slice() {
            [subject, sid, size] => (subject.clone(), sid, 0..0, size),
            [subject, sid, reply, size] => (subject.clone(), sid, reply.clone(), size),
            _ => return Err("raw: a MSG line with an odd shape".into()),
        };
        let (sid, size) = (number(args, sid)?, number(args, size)?);
        let frame = Frame {
            op_len: 4,
            after_line,
            subject,
            sid,
            reply,
            header_len: 0,
            total: size,
        };
        return Ok(frame.into_msg(data.len()));
    } else if let Some(args) = line.strip_prefix(b"HMSG ") {
        let fields = split_fields(args, 5)?;
        let (subject, sid, reply, header_len, total) = match fields.as_slice() {
            [subject, sid, hdr, total] => (subject.clone(), sid, 0..0, hdr, total),
            [subject, sid, reply, hdr, total] => (subject.clone(), sid, reply.clone(), hdr, total),
            _ => return Err("raw: an HMSG line with an odd shape".into()),
        };
        let sid = number(args, sid)?;
        let (header_len, total) = (number(args, header_len)?, number(args, total)?);
        if header_len > total {
            return Err("raw: an HMSG with headers longer than the message".into());
        }
        let frame = Frame {
            op_len: 5,
            after_line,
            subject,
            sid,
            reply,
            header_len,
            total,
        };
        return Ok(frame.into_msg(data.len()));
    } else {
        return Err(format!("raw: unknown frame {:?}", String::from_utf8_lossy(line)).into());
    };
    Ok(Some((after_line, op)))
}

/// The positions of the space-separated fields of `args` (at most `max`).
/// A parsed `MSG` (`op_len` 4) or `HMSG` (5) control line: its fields' ranges in the
/// arguments, and where the data after the line starts.
struct Frame {
    op_len: usize,
    after_line: usize,
    subject: Range<usize>,
    sid: usize,
    reply: Range<usize>,
    header_len: usize,
    total: usize,
}

impl Frame {
    /// The message, with its length on the wire, once `available` bytes hold all of it.
    fn into_msg(self, available: usize) -> Option<(usize, Op)> {
        let Frame {
            op_len,
            after_line,
            subject,
            sid,
            reply,
            header_len,
            total,
        } = self;
        let end = after_line + total + 2;
        if available < end {
            return None;
        }
        let shift = |r: Range<usize>| r.start + op_len..r.end + op_len;
        Some((
            end,
            Op::Msg(Msg {
                sid,
                subject: shift(subject),
                reply: if reply.is_empty() { 0..0 } else { shift(reply) },
                headers: after_line..after_line + header_len,
                payload: after_line + header_len..after_line + total,
            }),
        ))
    }
}

fn split_fields(args: &[u8], max: usize) -> Result<Vec<Range<usize>>, BenchError> {
    let mut fields = Vec::with_capacity(5);
    let mut start = None;
    for (i, b) in args.iter().enumerate() {
        match (b.is_ascii_whitespace(), start) {
            (true, Some(s)) => {
                fields.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        fields.push(s..args.len());
    }
    if fields.len() > max {
        return Err("raw: a message line with too many fields".into());
    }
    Ok(fields)
}

/// The decimal number at `range` of `args`.
fn number(args: &[u8], range: &Range<usize>) -> Result<usize, BenchError> {
    let digits = &args[range.clone()];
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(format!("raw: not a size: {:?}", String::from_utf8_lossy(digits)).into());
    }
    Ok(digits.iter().fold(0, |n, d| n * 10 + usize::from(d - b'0')))
}

/// The status code of a header block (`NATS/1.0 408 Request Timeout`), `None` without one.
pub(crate) fn status(headers: &[u8]) -> Option<u16> {
    let first = headers.split(|b| *b == b'\n').next()?;
    let rest = first.strip_prefix(b"NATS/1.0")?;
    let code = rest.trim_ascii().split(|b| *b == b' ').next()?;
    if code.len() != 3 || !code.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(code).ok()?.parse().ok()
}

/// The value of header `name` (case-insensitive) in a header block.
pub(crate) fn header<'a>(headers: &'a [u8], name: &str) -> Option<&'a [u8]> {
    headers.split(|b| *b == b'\n').skip(1).find_map(|line| {
        let colon = line.iter().position(|b| *b == b':')?;
        let (key, value) = line.split_at(colon);
        key.trim_ascii()
            .eq_ignore_ascii_case(name.as_bytes())
            .then(|| value[1..].trim_ascii())
    })
}

/// Whether a JetStream API answer is an error (`{"error":{...}}`).
pub(crate) fn is_api_error(payload: &[u8]) -> bool {
    payload.windows(7).any(|w| w == b"\"error\"")
}

/// `PUB <subject> [<reply>] <len>\r\n<payload>\r\n`.
pub(crate) fn pub_frame(subject: &str, reply: Option<&str>, payload: &[u8]) -> Vec<u8> {
    let mut frame = match reply {
        Some(reply) => format!("PUB {subject} {reply} {}\r\n", payload.len()),
        None => format!("PUB {subject} {}\r\n", payload.len()),
    }
    .into_bytes();
    frame.extend_from_slice(payload);
    frame.extend_from_slice(b"\r\n");
    frame
}

impl RawJs {
    /// Connects to `url` (`nats://host:port`) with headers on and waits for the `PONG`.
    pub(crate) async fn connect(url: &str) -> Result<Self, BenchError> {
        let address = url.trim_start_matches("nats://");
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        let mut connection = RawJs {
            read,
            write,
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
            out: Vec::with_capacity(64 * 1024),
        };
        connection.queue(
            b"CONNECT {\"verbose\":false,\"pedantic\":false,\"headers\":true,\"no_responders\":true}\r\n",
        );
        connection.ping().await?;
        Ok(connection)
    }

    /// Queues `bytes`, written before the next read that would wait.
    pub(crate) fn queue(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Queues an empty `PUB` to `msg`'s reply subject (a flow-control answer).
    pub(crate) fn queue_empty_reply(&mut self, msg: &Msg) {
        self.queue_to(msg.reply.clone(), b" 0\r\n\r\n");
    }

    /// Queues the `+ACK` of `msg`, to its reply subject.
    pub(crate) fn queue_ack(&mut self, msg: &Msg) {
        self.queue_to(msg.reply.clone(), b" 4\r\n+ACK\r\n");
    }

    /// Queues `PUB <the subject at range of the read buffer><rest>`.
    fn queue_to(&mut self, range: Range<usize>, rest: &[u8]) {
        self.out.extend_from_slice(b"PUB ");
        self.out.extend_from_slice(&self.buf[range]);
        self.out.extend_from_slice(rest);
    }

    /// Queues an empty `PUB` to `subject`.
    pub(crate) fn queue_empty(&mut self, subject: &[u8]) {
        self.out.extend_from_slice(b"PUB ");
        self.out.extend_from_slice(subject);
        self.out.extend_from_slice(b" 0\r\n\r\n");
    }

    /// Writes everything queued.
    pub(crate) async fn flush(&mut self) -> Result<(), BenchError> {
        if !self.out.is_empty() {
            self.write.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Sends a `PING` (after everything queued) and waits for its `PONG`.
    pub(crate) async fn ping(&mut self) -> Result<(), BenchError> {
        self.queue(b"PING\r\n");
        while self.next_frame().await?.is_some() {}
        Ok(())
    }

    /// The next message; answers `PING`s.
    pub(crate) async fn next_msg(&mut self) -> Result<Msg, BenchError> {
        loop {
            if let Some(msg) = self.next_frame().await? {
                return Ok(msg);
            }
        }
    }

    /// The next message, or `None` for a `PONG`.
    async fn next_frame(&mut self) -> Result<Option<Msg>, BenchError> {
        loop {
            match parse(&self.buf[self.start..self.end])? {
                Some((len, op)) => {
                    let at = self.start;
                    self.start += len;
                    match op {
                        Op::Ping => self.queue(b"PONG\r\n"),
                        Op::Pong => return Ok(None),
                        Op::Ignored => {}
                        Op::Msg(msg) => {
                            let shift = |r: Range<usize>| r.start + at..r.end + at;
                            return Ok(Some(Msg {
                                sid: msg.sid,
                                subject: shift(msg.subject),
                                reply: if msg.reply.is_empty() {
                                    0..0
                                } else {
                                    shift(msg.reply)
                                },
                                headers: shift(msg.headers),
                                payload: shift(msg.payload),
                            }));
                        }
                    }
                }
                None => {
                    // Nothing complete left: what is owed goes out before waiting.
                    self.flush().await?;
                    self.fill().await?;
                }
            }
        }
    }

    /// Reads more into the buffer, making room (and growing it) for an incomplete frame.
    async fn fill(&mut self) -> Result<(), BenchError> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.buf.len() - self.end < self.buf.len() / 4 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() - self.end < self.buf.len() / 4 {
                // A frame larger than most of the buffer.
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let n = self.read.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err("raw: the server closed the connection".into());
        }
        self.end += n;
        Ok(())
    }

    /// The subject of `msg`.
    pub(crate) fn subject(&self, msg: &Msg) -> &[u8] {
        &self.buf[msg.subject.clone()]
    }

    /// The header block of `msg`, empty for a `MSG`.
    pub(crate) fn headers(&self, msg: &Msg) -> &[u8] {
        &self.buf[msg.headers.clone()]
    }

    /// The payload of `msg`.
    pub(crate) fn payload(&self, msg: &Msg) -> &[u8] {
        &self.buf[msg.payload.clone()]
    }

    /// Sends a JetStream API request over inbox `reply` (subscribed) and waits for the
    /// answer on it, skipping other messages; errors on an API error or a status.
    pub(crate) async fn api(
        &mut self,
        subject: &str,
        reply: &str,
        body: &[u8],
    ) -> Result<(), BenchError> {
        self.queue(&pub_frame(subject, Some(reply), body));
        loop {
            let msg = self.next_msg().await?;
            if self.subject(&msg) != reply.as_bytes() {
                continue;
            }
            if let Some(code) = status(self.headers(&msg)) {
                return Err(format!("raw: {subject}: status {code}").into());
            }
            if is_api_error(self.payload(&msg)) {
                let text = String::from_utf8_lossy(self.payload(&msg)).into_owned();
                return Err(format!("raw: {subject}: {text}").into());
            }
            return Ok(());
        }
    }
}

/// The frames of [`async_publish`]: `count` publishes of `size` bytes to `subject`, each with
/// a reply subject of its own under `reply_prefix` (`<prefix>.<n>`), as a client must send to
/// tell the acks apart.
pub(crate) fn async_publish_frames(
    subject: &str,
    reply_prefix: &str,
    size: usize,
    count: usize,
) -> Vec<Vec<u8>> {
    let payload = vec![b'x'; size];
    (0..count)
        .map(|n| pub_frame(subject, Some(&format!("{reply_prefix}.{n}")), &payload))
        .collect()
}

/// JetStream async publish: every frame sent, `in_flight` awaiting their ack at any time, the
/// acks coming back under `reply_prefix` (subscribed with `<prefix>.*`).
pub(crate) async fn async_publish(
    connection: &mut RawJs,
    frames: &[Vec<u8>],
    reply_prefix: &str,
    in_flight: usize,
) -> Result<(), BenchError> {
    let mut next = frames.iter();
    for frame in next.by_ref().take(in_flight) {
        connection.queue(frame);
    }
    let prefix = format!("{reply_prefix}.");
    let mut acked = 0;
    while acked < frames.len() {
        let msg = connection.next_msg().await?;
        if !connection.subject(&msg).starts_with(prefix.as_bytes()) {
            continue;
        }
        check_ack(connection, &msg)?;
        acked += 1;
        if let Some(frame) = next.next() {
            connection.queue(frame);
        }
    }
    Ok(())
}

/// Errors unless `msg` is a publish ack.
fn check_ack(connection: &RawJs, msg: &Msg) -> Result<(), BenchError> {
    if let Some(code) = status(connection.headers(msg)) {
        return Err(format!("raw: a publish answered with status {code}").into());
    }
    let payload = connection.payload(msg);
    if is_api_error(payload) || !payload.starts_with(b"{\"stream\"") {
        return Err(format!("raw: not an ack: {}", String::from_utf8_lossy(payload)).into());
    }
    Ok(())
}

/// How a pull ceiling keeps requests outstanding.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pulls {
    /// A new request of `batch` whenever at most `batch` requested messages are still to
    /// come, up to two batches outstanding (a continuous `messages()`).
    Continuous,
    /// One request of `batch` at a time, the next when its messages all came (`fetch`).
    OneAtATime,
}

/// What a pull ceiling reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pull<'a> {
    /// The stream.
    pub(crate) stream: &'a str,
    /// The consumer, made before.
    pub(crate) consumer: &'a str,
    /// The subject the messages come to.
    pub(crate) inbox: &'a str,
    /// Messages to read and ack.
    pub(crate) count: usize,
    /// Messages per request.
    pub(crate) batch: usize,
    /// The expiry of each request.
    pub(crate) expires: std::time::Duration,
    /// How requests are kept outstanding.
    pub(crate) pulls: Pulls,
}

/// Reads and acks `pull.count` messages of a pull consumer; status messages are skipped.
pub(crate) async fn pull(connection: &mut RawJs, pull: Pull<'_>) -> Result<(), BenchError> {
    let Pull {
        stream,
        consumer,
        inbox,
        count,
        batch,
        expires,
        pulls,
    } = pull;
    connection.queue(format!("SUB {inbox} 1\r\n").as_bytes());
    let request = pub_frame(
        &format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"),
        Some(inbox),
        format!("{{\"batch\":{batch},\"expires\":{}}}", expires.as_nanos()).as_bytes(),
    );
    let mut requested = 0;
    let first = match pulls {
        Pulls::Continuous => 2,
        Pulls::OneAtATime => 1,
    };
    for _ in 0..first {
        if requested < count {
            connection.queue(&request);
            requested += batch;
        }
    }
    let mut got = 0;
    while got < count {
        let msg = connection.next_msg().await?;
        if let Some(code) = status(connection.headers(&msg)) {
            // 100 heartbeats, 408 expired, 409 limits: none is a message.
            if code >= 500 {
                return Err(format!("raw: a pull answered with status {code}").into());
            }
            continue;
        }
        connection.queue_ack(&msg);
        got += 1;
        let more = match pulls {
            Pulls::Continuous => requested - got <= batch,
            Pulls::OneAtATime => got == requested,
        };
        if more && requested < count {
            connection.queue(&request);
            requested += batch;
        }
    }
    connection.flush().await
}

/// What a push replay delivered.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Replayed {
    /// Messages.
    pub(crate) messages: usize,
    /// Their payload bytes.
    pub(crate) bytes: usize,
}

/// The fastest replay the server does: an ephemeral push consumer on `stream` without
/// acks, with flow control and idle heartbeats as an ordered consumer has, delivering to
/// this connection until `count` messages came. `filter` and `deliver_policy` pick them.
pub(crate) async fn push_replay(
    connection: &mut RawJs,
    stream: &str,
    filter: Option<&str>,
    deliver_policy: &str,
    inbox: &str,
    count: usize,
) -> Result<Replayed, BenchError> {
    // Literal subscriptions: the server sees no interest in the deliver subject through a
    // wildcard, and the messages delivered keep their stream subject (told apart by sid).
    let deliver = format!("{inbox}.deliver");
    let reply = format!("{inbox}.api");
    connection.queue(format!("SUB {reply} 1\r\nSUB {deliver} 2\r\n").as_bytes());
    let mut config = serde_json::json!({
        "deliver_policy": deliver_policy,
        "ack_policy": "none",
        "max_deliver": 1,
        "replay_policy": "instant",
        "flow_control": true,
        "idle_heartbeat": 5_000_000_000u64,
        "deliver_subject": deliver,
        "mem_storage": true,
        "num_replicas": 1,
        "inactive_threshold": 300_000_000_000u64,
    });
    if let Some(filter) = filter {
        config["filter_subject"] = filter.into();
    }
    let request = serde_json::json!({ "stream_name": stream, "config": config });
    connection
        .api(
            &format!("$JS.API.CONSUMER.CREATE.{stream}"),
            &reply,
            &serde_json::to_vec(&request)?,
        )
        .await?;
    let mut replayed = Replayed {
        messages: 0,
        bytes: 0,
    };
    while replayed.messages < count {
        let msg = connection.next_msg().await?;
        if msg.sid != 2 {
            continue;
        }
        let headers = connection.headers(&msg);
        if let Some(code) = status(headers) {
            if code != 100 {
                return Err(format!("raw: the push consumer sent status {code}").into());
            }
            if !msg.reply.is_empty() {
                // A flow-control request.
                connection.queue_empty_reply(&msg);
            } else if let Some(stalled) = header(headers, "Nats-Consumer-Stalled") {
                // A heartbeat telling of an unanswered flow-control request.
                let stalled = stalled.to_vec();
                connection.queue_empty(&stalled);
            }
            continue;
        }
        replayed.messages += 1;
        replayed.bytes += msg.payload.len();
    }
    Ok(replayed)
}

/// One round trip: `request` (a pre-encoded `PUB` with reply `reply`, subscribed) and the
/// first message on `reply`; its payload length. Errors on a status or an API error.
pub(crate) async fn round_trip(
    connection: &mut RawJs,
    request: &[u8],
    reply: &str,
) -> Result<usize, BenchError> {
    connection.queue(request);
    loop {
        let msg = connection.next_msg().await?;
        if connection.subject(&msg) != reply.as_bytes() {
            continue;
        }
        if let Some(code) = status(connection.headers(&msg)) {
            return Err(format!("raw: answered with status {code}").into());
        }
        if is_api_error(connection.payload(&msg)) {
            let text = String::from_utf8_lossy(connection.payload(&msg)).into_owned();
            return Err(format!("raw: {text}").into());
        }
        return Ok(msg.payload.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(data: &[u8]) -> (usize, Msg) {
        match parse(data) {
            Ok(Some((len, Op::Msg(msg)))) => (len, msg),
            other => panic!("not a message: {other:?}"),
        }
    }

    #[test]
    fn control_lines() {
        assert_eq!(parse(b"PING\r\n").ok(), Some(Some((6, Op::Ping))));
        assert_eq!(parse(b"PONG\r\nMSG").ok(), Some(Some((6, Op::Pong))));
        assert_eq!(parse(b"+OK\r\n").ok(), Some(Some((5, Op::Ignored))));
        assert_eq!(
            parse(b"INFO {\"a\":1}\r\n").ok(),
            Some(Some((14, Op::Ignored)))
        );
        assert!(parse(b"-ERR 'Authorization Violation'\r\n").is_err());
        assert_eq!(parse(b"PIN").ok(), Some(None));
    }

    #[test]
    fn msg_with_and_without_reply() {
        let data = b"MSG a.b 1 5\r\nhello\r\nPING\r\n";
        let (len, m) = msg(data);
        assert_eq!(len, 20);
        assert_eq!(m.sid, 1);
        assert_eq!(&data[m.subject.clone()], b"a.b");
        assert!(m.reply.is_empty());
        assert!(m.headers.is_empty());
        assert_eq!(&data[m.payload.clone()], b"hello");

        let data = b"MSG a.b 1 _INBOX.x 0\r\n\r\n";
        let (len, m) = msg(data);
        assert_eq!(len, data.len());
        assert_eq!(&data[m.reply.clone()], b"_INBOX.x");
        assert!(m.payload.is_empty());
    }

    #[test]
    fn incomplete_messages_wait() {
        assert_eq!(parse(b"MSG a.b 1 5\r\nhel").ok(), Some(None));
        assert_eq!(parse(b"MSG a.b 1 5\r\nhello\r").ok(), Some(None));
        assert_eq!(
            parse(b"HMSG a 1 12 14\r\nNATS/1.0\r\n\r\nhi").ok(),
            Some(None)
        );
    }

    #[test]
    fn hmsg_splits_headers_and_payload() {
        let data = b"HMSG s 2 r.1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n";
        let (len, m) = msg(data);
        assert_eq!(len, data.len());
        assert_eq!(&data[m.subject.clone()], b"s");
        assert_eq!(m.sid, 2);
        assert_eq!(&data[m.reply.clone()], b"r.1");
        assert_eq!(&data[m.headers.clone()], b"NATS/1.0\r\n\r\n");
        assert_eq!(&data[m.payload.clone()], b"hi");

        let data = b"HMSG s 2 30 30\r\nNATS/1.0 408 Request Timeout\r\n\r\n\r\n";
        let (_, m) = msg(data);
        assert!(m.reply.is_empty());
        assert_eq!(status(&data[m.headers.clone()]), Some(408));
        assert!(m.payload.is_empty());
        assert!(parse(b"HMSG s 2 9 3\r\n").is_err());
    }

    #[test]
    fn header_status_and_values() {
        assert_eq!(status(b"NATS/1.0\r\nA: b\r\n\r\n"), None);
        assert_eq!(status(b"NATS/1.0 404 No Messages\r\n\r\n"), Some(404));
        assert_eq!(status(b"NATS/1.0 100\r\n\r\n"), Some(100));
        assert_eq!(
            status(b"NATS/1.0 100 FlowControl Request\r\n\r\n"),
            Some(100)
        );
        assert_eq!(status(b"garbage"), None);
        let heartbeat =
            b"NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 5\r\nNats-Consumer-Stalled: $JS.FC.x.y\r\n\r\n";
        assert_eq!(
            header(heartbeat, "nats-consumer-stalled"),
            Some(&b"$JS.FC.x.y"[..])
        );
        assert_eq!(header(heartbeat, "Nats-Last-Consumer"), Some(&b"5"[..]));
        assert_eq!(header(heartbeat, "Missing"), None);
    }

    #[test]
    fn acks_and_errors() {
        assert!(!is_api_error(br#"{"stream":"S","seq":7}"#));
        assert!(is_api_error(
            br#"{"error":{"code":503,"description":"no responders"}}"#
        ));
        assert_eq!(pub_frame("a", Some("r"), b"xy"), b"PUB a r 2\r\nxy\r\n");
        assert_eq!(pub_frame("a", None, b""), b"PUB a 0\r\n\r\n");
    }
}
