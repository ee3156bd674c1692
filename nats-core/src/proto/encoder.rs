//! Writes client operations (`CONNECT`, `PUB`, `HPUB`, `SUB`, `UNSUB`, `PING`, `PONG`) as bytes.
//!
//! Callers validate subjects and headers first; these functions only encode.

use bytes::{BufMut, BytesMut};

use super::info::ConnectInfo;
use crate::header::HeaderMap;

/// `PING\r\n`.
pub(crate) const PING: &[u8] = b"PING\r\n";
/// `PONG\r\n`.
pub(crate) const PONG: &[u8] = b"PONG\r\n";

/// Writes `CONNECT {json}\r\n`.
pub(crate) fn write_connect(dst: &mut BytesMut, info: &ConnectInfo) {
    dst.put_slice(b"CONNECT ");
    // Serializing a struct of strings and booleans into memory cannot fail.
    let json = serde_json::to_vec(info).unwrap_or_default();
    dst.put_slice(&json);
    dst.put_slice(b"\r\n");
}

/// Room for the fixed parts of a publish control line at their longest: `HPUB`, three
/// spaces, two 20-digit sizes and CRLF.
const CONTROL_LINE_ROOM: usize = 4 + 3 + 2 * 20 + 2;

/// Writes the control line and, when there are headers, the header block of a publish:
/// `PUB <subject> [reply] <size>\r\n` or `HPUB <subject> [reply] <hdr size> <total>\r\n<headers>`.
/// The payload and its final `\r\n` follow, written by the caller, who says how many bytes
/// they will take in `room_after` so that the whole frame is reserved at once.
///
/// Returns the length of the header block, 0 without headers.
pub(crate) fn write_publish_head(
    dst: &mut BytesMut,
    subject: &str,
    reply: Option<&str>,
    headers: Option<&HeaderMap>,
    payload_len: usize,
    room_after: usize,
) -> usize {
    let header_len = headers.map_or(0, HeaderMap::encoded_len);
    dst.reserve(
        CONTROL_LINE_ROOM + subject.len() + reply.map_or(0, str::len) + header_len + room_after,
    );
    let mut num = itoa::Buffer::new();
    match headers {
        None => {
            dst.put_slice(b"PUB ");
            put_subject_and_reply(dst, subject, reply);
            dst.put_slice(num.format(payload_len).as_bytes());
            dst.put_slice(b"\r\n");
        }
        Some(headers) => {
            dst.put_slice(b"HPUB ");
            put_subject_and_reply(dst, subject, reply);
            dst.put_slice(num.format(header_len).as_bytes());
            dst.put_u8(b' ');
            dst.put_slice(num.format(header_len + payload_len).as_bytes());
            dst.put_slice(b"\r\n");
            headers.encode(dst);
        }
    }
    header_len
}

/// Writes a whole publish with its payload. Returns the length of the header block.
pub(crate) fn write_publish(
    dst: &mut BytesMut,
    subject: &str,
    reply: Option<&str>,
    headers: Option<&HeaderMap>,
    payload: &[u8],
) -> usize {
    let header_len = write_publish_head(
        dst,
        subject,
        reply,
        headers,
        payload.len(),
        payload.len() + 2,
    );
    dst.put_slice(payload);
    dst.put_slice(b"\r\n");
    header_len
}

/// Writes `SUB <subject> [queue] <sid>\r\n`.
pub(crate) fn write_sub(dst: &mut BytesMut, subject: &str, queue: Option<&str>, sid: u64) {
    dst.put_slice(b"SUB ");
    put_subject_and_reply(dst, subject, queue);
    dst.put_slice(itoa::Buffer::new().format(sid).as_bytes());
    dst.put_slice(b"\r\n");
}

/// Writes `UNSUB <sid> [max]\r\n`.
pub(crate) fn write_unsub(dst: &mut BytesMut, sid: u64, max: Option<u64>) {
    let mut num = itoa::Buffer::new();
    dst.put_slice(b"UNSUB ");
    dst.put_slice(num.format(sid).as_bytes());
    if let Some(max) = max {
        dst.put_u8(b' ');
        dst.put_slice(num.format(max).as_bytes());
    }
    dst.put_slice(b"\r\n");
}

fn put_subject_and_reply(dst: &mut BytesMut, subject: &str, reply: Option<&str>) {
    dst.put_slice(subject.as_bytes());
    dst.put_u8(b' ');
    if let Some(reply) = reply {
        dst.put_slice(reply.as_bytes());
        dst.put_u8(b' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded<R>(f: impl FnOnce(&mut BytesMut) -> R) -> String {
        let mut buf = BytesMut::new();
        let _ = f(&mut buf);
        String::from_utf8(buf.to_vec()).expect("utf8")
    }

    #[test]
    fn pub_with_and_without_reply() {
        assert_eq!(
            encoded(|b| write_publish(b, "foo", None, None, b"hello")),
            "PUB foo 5\r\nhello\r\n"
        );
        assert_eq!(
            encoded(|b| write_publish(b, "foo", Some("_INBOX.1"), None, b"")),
            "PUB foo _INBOX.1 0\r\n\r\n"
        );
    }

    #[test]
    fn hpub_counts_header_and_total_bytes() {
        let mut headers = HeaderMap::new();
        headers.append("Bar", "Baz");
        // NATS/1.0\r\n (10) + Bar: Baz\r\n (10) + \r\n (2) = 22
        assert_eq!(
            encoded(|b| write_publish(b, "foo", Some("r"), Some(&headers), b"hello")),
            "HPUB foo r 22 27\r\nNATS/1.0\r\nBar: Baz\r\n\r\nhello\r\n"
        );
        let mut buf = BytesMut::new();
        assert_eq!(
            write_publish(&mut buf, "foo", None, Some(&headers), b""),
            22
        );
        assert_eq!(write_publish(&mut buf, "foo", None, None, b"hello"), 0);
    }

    #[test]
    fn hpub_with_empty_headers_is_still_valid() {
        assert_eq!(
            encoded(|b| write_publish(b, "foo", None, Some(&HeaderMap::new()), b"x")),
            "HPUB foo 12 13\r\nNATS/1.0\r\n\r\nx\r\n"
        );
    }

    #[test]
    fn sub_and_unsub() {
        assert_eq!(encoded(|b| write_sub(b, "a.*", None, 1)), "SUB a.* 1\r\n");
        assert_eq!(
            encoded(|b| write_sub(b, "a.>", Some("workers"), 42)),
            "SUB a.> workers 42\r\n"
        );
        assert_eq!(encoded(|b| write_unsub(b, 42, None)), "UNSUB 42\r\n");
        assert_eq!(encoded(|b| write_unsub(b, 42, Some(10))), "UNSUB 42 10\r\n");
    }

    #[test]
    fn connect_is_json_on_one_line() {
        let info = ConnectInfo {
            verbose: false,
            pedantic: false,
            tls_required: false,
            name: Some("svc".into()),
            lang: "rust",
            version: "0.1.0",
            protocol: 1,
            echo: true,
            headers: true,
            no_responders: true,
            user: None,
            pass: None,
            auth_token: None,
            jwt: None,
            nkey: None,
            sig: None,
        };
        let line = encoded(|b| write_connect(b, &info));
        assert!(line.starts_with("CONNECT {"));
        assert!(line.ends_with("}\r\n"));
        assert_eq!(line.matches("\r\n").count(), 1);
        let json: serde_json::Value =
            serde_json::from_str(&line["CONNECT ".len()..line.len() - 2]).expect("json");
        assert_eq!(json["name"], "svc");
        assert_eq!(json["protocol"], 1);
        assert_eq!(json["headers"], true);
        assert_eq!(json["no_responders"], true);
        assert!(json.get("user").is_none());
    }

    #[test]
    fn what_we_encode_the_parser_reads_back() {
        use crate::proto::parser::{Parser, ServerOp};
        let mut headers = HeaderMap::new();
        headers.append("K", "v");
        let mut buf = BytesMut::from(
            &encoded(|b| write_publish(b, "x.y", Some("r"), Some(&headers), b"body"))[..],
        );
        // A server relays HPUB as HMSG with a sid: rewrite the control line the way it does.
        let text = String::from_utf8(buf.to_vec()).expect("utf8");
        let relayed = text.replacen("HPUB x.y r", "HMSG x.y 5 r", 1);
        buf.clear();
        buf.extend_from_slice(relayed.as_bytes());
        let op = Parser::default().parse(&mut buf).expect("ok").expect("op");
        let ServerOp::Msg { sid, message } = op else {
            panic!("not a message")
        };
        assert_eq!(sid, 5);
        assert_eq!(&message.payload[..], b"body");
        assert_eq!(message.headers, Some(headers));
    }
}
