//! [`StreamMessage`]: a message as a stream stored it, read back either from the JSON of
//! `STREAM.MSG.GET` (base64 `hdrs` and `data`) or from a direct get reply (the stored
//! message with `Nats-Stream`, `Nats-Subject`, `Nats-Sequence` and `Nats-Time-Stamp`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::Bytes;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::errors::{ApiError, ErrorCode, JetStreamError, JetStreamErrorKind};
use super::headers::{NATS_SEQUENCE, NATS_STREAM, NATS_SUBJECT, NATS_TIME_STAMP};
use crate::header::{parse_header_block, HeaderMap, StatusCode};
use crate::message::Message;
use crate::subject::Subject;

/// A message as a stream stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamMessage {
    /// The subject it was stored on.
    pub subject: Subject,
    /// Its sequence in the stream.
    pub sequence: u64,
    /// The headers it was published with, if any (a direct get's `Nats-Stream`,
    /// `Nats-Subject`, `Nats-Sequence` and `Nats-Time-Stamp` are taken out: both ways of
    /// reading give the same message).
    pub headers: Option<HeaderMap>,
    /// The payload.
    pub payload: Bytes,
    /// When it was stored.
    pub time: OffsetDateTime,
}

/// The `message` of a `STREAM.MSG.GET` reply.
#[derive(Deserialize)]
pub(crate) struct RawMessage {
    subject: String,
    seq: u64,
    #[serde(default)]
    hdrs: Option<String>,
    #[serde(default)]
    data: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    time: OffsetDateTime,
}

/// The body of a `STREAM.MSG.GET` reply.
#[derive(Deserialize)]
pub(crate) struct GetResponse {
    pub(crate) message: RawMessage,
}

impl StreamMessage {
    /// Decodes the base64 headers and payload of a `STREAM.MSG.GET` reply.
    pub(crate) fn from_raw(raw: RawMessage) -> Result<Self, JetStreamError> {
        let payload = match raw.data {
            Some(data) => Bytes::from(decode_base64(&data, "data")?),
            None => Bytes::new(),
        };
        let headers = match raw.hdrs {
            Some(hdrs) if !hdrs.is_empty() => {
                let block = decode_base64(&hdrs, "hdrs")?;
                let parsed =
                    parse_header_block(&block).map_err(JetStreamError::invalid_response)?;
                Some(parsed.headers).filter(|h| !h.is_empty())
            }
            _ => None,
        };
        Ok(StreamMessage {
            subject: Subject::from(raw.subject),
            sequence: raw.seq,
            headers,
            payload,
            time: raw.time,
        })
    }

    /// Reads a direct get reply: a status is "not found" (404) or a refusal; else the
    /// stored message with the server's four headers.
    pub(crate) fn from_direct(reply: Message) -> Result<Self, JetStreamError> {
        if let Some(status) = reply.status {
            return Err(direct_status_error(status, reply.description));
        }
        let Some(mut headers) = reply.headers else {
            return Err(JetStreamError::invalid_response(
                "direct get reply without headers",
            ));
        };
        let subject = take_header(&mut headers, NATS_SUBJECT)?;
        let sequence = take_header(&mut headers, NATS_SEQUENCE)?;
        let sequence = sequence.parse::<u64>().map_err(|_| {
            JetStreamError::invalid_response(format!(
                "{NATS_SEQUENCE} is not a number: {sequence:?}"
            ))
        })?;
        let stamp = take_header(&mut headers, NATS_TIME_STAMP)?;
        let time = OffsetDateTime::parse(&stamp, &Rfc3339).map_err(|e| {
            JetStreamError::with_source(
                JetStreamErrorKind::InvalidResponse,
                format!("{NATS_TIME_STAMP} {stamp:?}: {e}"),
            )
        })?;
        headers.remove(NATS_STREAM);
        Ok(StreamMessage {
            subject: Subject::from(subject),
            sequence,
            headers: Some(headers).filter(|h| !h.is_empty()),
            payload: reply.payload,
            time,
        })
    }
}

/// Removes header `name` and returns its (first) value; an error when it is missing.
fn take_header(headers: &mut HeaderMap, name: &str) -> Result<String, JetStreamError> {
    let value = headers.get(name).map(str::to_owned).ok_or_else(|| {
        JetStreamError::invalid_response(format!("direct get reply without {name}"))
    })?;
    headers.remove(name);
    Ok(value)
}

/// The error of a direct get answered by a status instead of a message.
fn direct_status_error(status: StatusCode, description: Option<String>) -> JetStreamError {
    let error = ApiError {
        code: status.as_u16(),
        err_code: ErrorCode::default(),
        description: description.unwrap_or_default(),
    };
    let kind = if status == StatusCode::NOT_FOUND {
        JetStreamErrorKind::MessageNotFound
    } else {
        JetStreamErrorKind::Api
    };
    JetStreamError::with_source(kind, error)
}

fn decode_base64(text: &str, field: &str) -> Result<Vec<u8>, JetStreamError> {
    STANDARD.decode(text).map_err(|e| {
        JetStreamError::with_source(
            JetStreamErrorKind::InvalidResponse,
            format!("{field} is not base64: {e}"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::parse_header_block;

    fn raw(json: &str) -> RawMessage {
        serde_json::from_str::<GetResponse>(json)
            .expect("fixture parses")
            .message
    }

    #[test]
    fn a_msg_get_reply_decodes_headers_and_payload() {
        // `NATS/1.0\r\nTrace: 1\r\n\r\n` and `hello`, as nats-server 2.15 encodes them.
        let message = StreamMessage::from_raw(raw(
            r#"{"type":"io.nats.jetstream.api.v1.stream_msg_get_response","message":{"subject":"orders.1","seq":7,"hdrs":"TkFUUy8xLjANClRyYWNlOiAxDQoNCg==","data":"aGVsbG8=","time":"2026-08-01T10:11:12.000000001Z"}}"#,
        ))
        .expect("decodes");
        assert_eq!(message.subject, "orders.1");
        assert_eq!(message.sequence, 7);
        assert_eq!(&message.payload[..], b"hello");
        let headers = message.headers.expect("headers");
        assert_eq!(headers.get("Trace"), Some("1"));
        assert_eq!(message.time.nanosecond(), 1);
    }

    #[test]
    fn a_message_without_headers_or_payload_decodes() {
        let message = StreamMessage::from_raw(raw(
            r#"{"message":{"subject":"a","seq":1,"time":"2026-08-01T10:11:12Z"}}"#,
        ))
        .expect("decodes");
        assert!(message.payload.is_empty());
        assert_eq!(message.headers, None);
    }

    #[test]
    fn bad_base64_or_headers_are_errors() {
        let bad = StreamMessage::from_raw(raw(
            r#"{"message":{"subject":"a","seq":1,"data":"%%%","time":"2026-08-01T10:11:12Z"}}"#,
        ));
        assert_eq!(
            bad.map_err(|e| e.kind()),
            Err(JetStreamErrorKind::InvalidResponse)
        );
        // base64 of "HTTP/1.1\r\n\r\n".
        let bad = StreamMessage::from_raw(raw(
            r#"{"message":{"subject":"a","seq":1,"hdrs":"SFRUUC8xLjENCg0K","time":"2026-08-01T10:11:12Z"}}"#,
        ));
        assert_eq!(
            bad.map_err(|e| e.kind()),
            Err(JetStreamErrorKind::InvalidResponse)
        );
    }

    fn direct(block: &[u8], payload: &'static [u8]) -> Message {
        let block = parse_header_block(block).expect("header block");
        Message {
            subject: Subject::from("_INBOX.x.1"),
            reply: None,
            payload: Bytes::from_static(payload),
            headers: Some(block.headers),
            status: block.status,
            description: block.description,
            length: 0,
        }
    }

    #[test]
    fn a_direct_get_reply_becomes_the_stored_message() {
        let reply = direct(
            b"NATS/1.0\r\nTrace: 1\r\nNats-Stream: S\r\nNats-Subject: a.b\r\nNats-Sequence: 42\r\nNats-Time-Stamp: 2026-08-01T10:11:12.123456789Z\r\n\r\n",
            b"hi",
        );
        let message = StreamMessage::from_direct(reply).expect("message");
        assert_eq!(message.subject, "a.b");
        assert_eq!(message.sequence, 42);
        assert_eq!(message.time.nanosecond(), 123_456_789);
        assert_eq!(&message.payload[..], b"hi");
        let headers = message.headers.expect("the user's header stays");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers.get("Trace"), Some("1"));
    }

    #[test]
    fn direct_get_statuses_are_typed() {
        let not_found =
            StreamMessage::from_direct(direct(b"NATS/1.0 404 Message Not Found\r\n\r\n", b""));
        let err = not_found.expect_err("404");
        assert_eq!(err.kind(), JetStreamErrorKind::MessageNotFound);
        assert_eq!(err.api_error().map(|e| e.code), Some(404));
        let bad = StreamMessage::from_direct(direct(b"NATS/1.0 408 Bad Request\r\n\r\n", b""));
        let err = bad.expect_err("408");
        assert_eq!(err.kind(), JetStreamErrorKind::Api);
        assert_eq!(
            err.api_error().map(|e| e.description.as_str()),
            Some("Bad Request")
        );
    }

    #[test]
    fn hostile_direct_replies_are_errors() {
        for block in [
            &b"NATS/1.0\r\nNats-Subject: a\r\n\r\n"[..],
            b"NATS/1.0\r\nNats-Subject: a\r\nNats-Sequence: x\r\nNats-Time-Stamp: 2026-08-01T10:11:12Z\r\n\r\n",
            b"NATS/1.0\r\nNats-Subject: a\r\nNats-Sequence: 1\r\nNats-Time-Stamp: 2022-08-06 00:29:27 +0000 UTC\r\n\r\n",
        ] {
            let err = StreamMessage::from_direct(direct(block, b"")).expect_err("hostile");
            assert_eq!(err.kind(), JetStreamErrorKind::InvalidResponse);
        }
        let mut no_headers = direct(b"NATS/1.0\r\n\r\n", b"x");
        no_headers.headers = None;
        assert!(StreamMessage::from_direct(no_headers).is_err());
    }
}
