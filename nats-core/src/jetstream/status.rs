//! The status messages a consumer sends besides the user's messages (nats-server
//! `consumer.go`, ADR-9, ADR-37), classified without I/O so that every reader (fetch,
//! `messages()`, the ordered consumer, push consumers) handles them the same way.
//!
//! A message is a status only if it has a header block with a status code **and** no
//! payload: empty user messages with headers (such as Key-Value delete markers) exist, and a
//! status never carries a payload on a consumer's subjects.

use crate::header::HeaderMap;
use crate::message::Message;

/// `Nats-Pending-Messages`: what a terminated pull request still owed, in messages.
pub(crate) const PENDING_MESSAGES: &str = "Nats-Pending-Messages";
/// `Nats-Pending-Bytes`: what a terminated pull request still owed, in bytes.
pub(crate) const PENDING_BYTES: &str = "Nats-Pending-Bytes";
/// `Nats-Last-Consumer` of a heartbeat: the last consumer sequence delivered.
pub(crate) const LAST_CONSUMER: &str = "Nats-Last-Consumer";
/// `Nats-Last-Stream` of a heartbeat: the consumer's stream position minus one.
pub(crate) const LAST_STREAM: &str = "Nats-Last-Stream";
/// `Nats-Consumer-Stalled` of a push heartbeat: a flow control reply subject still owed.
pub(crate) const CONSUMER_STALLED: &str = "Nats-Consumer-Stalled";

/// `Nats-Pin-Id` of a message of a pinned-client priority group.
pub(crate) const PIN_ID: &str = "Nats-Pin-Id";

/// What a terminated pull request still owed (signed: a `batch` of 0 can yield `-1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Pending {
    pub(crate) messages: i64,
    pub(crate) bytes: i64,
}

/// Why a pull request ended without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// `404 No Messages`: a no-wait request found nothing (more).
    NoMessages,
    /// `408 Request Timeout`: the request expired.
    Expired,
    /// `408 Interest Expired`: the requester's interest (a routed or imported inbox) went.
    InterestExpired,
    /// `408 Requests Pending`: a no-wait request found the messages claimed by others.
    RequestsPending,
    /// `409 Message Size Exceeds MaxBytes`: the next message is larger than what is left.
    MaxBytes,
    /// `409 Batch Completed`: the batch was filled with bytes left over.
    BatchCompleted,
    /// `409 Server Shutdown`: the consumer's server is stopping.
    ServerShutdown,
}

/// What a message on a consumer's inbox is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// A message of the stream, for the user.
    Message,
    /// `100 Idle Heartbeat`, with what the consumer last delivered (push) and a flow
    /// control subject it still waits on.
    Heartbeat {
        last_consumer: Option<u64>,
        last_stream: Option<u64>,
        stalled: Option<String>,
    },
    /// `100 FlowControl Request`: answer on its reply subject (push).
    FlowControl,
    /// A pull request ended; what it still owed, when the server said.
    Ended {
        why: Ended,
        pending: Option<Pending>,
    },
    /// `409 Leadership Change`: every outstanding pull request is void.
    LeadershipChange,
    /// `423`: the pin id of the request is not the pinned one; pull without it.
    PinMismatch { pending: Option<Pending> },
    /// `409 Exceeded MaxWaiting`: too many pull requests wait; try again later.
    MaxWaiting,
    /// A request the consumer refuses as it is, whatever its timing: `409 Exceeded
    /// MaxRequestBatch/Expires/MaxBytes of ...`, `412 Required Api Level`.
    Rejected(String),
    /// Requests to this consumer can never work: `409 Consumer Deleted`.
    ConsumerDeleted,
    /// `409 Consumer is push based`.
    PushBased,
    /// `400 Bad Request - ...`.
    BadRequest(String),
    /// `503`: nobody answers the pull subject (consumer or stream gone, or JetStream
    /// unavailable for now).
    NoResponders,
    /// A status this client does not know.
    Unknown { code: u16, description: String },
}

/// Classifies a message received on a consumer's inbox or deliver subject.
pub(crate) fn classify(message: &Message) -> Delivery {
    let Some(status) = message.status else {
        return Delivery::Message;
    };
    if !message.payload.is_empty() {
        return Delivery::Message;
    }
    let description = message.description.as_deref().unwrap_or_default();
    let lower = description.to_ascii_lowercase();
    let headers = message.headers.as_ref();
    let pending = || headers.and_then(pending_of);
    match status.as_u16() {
        100 if message.reply.is_some() || lower.contains("flowcontrol") => Delivery::FlowControl,
        100 => Delivery::Heartbeat {
            last_consumer: headers.and_then(|h| number(h, LAST_CONSUMER)),
            last_stream: headers.and_then(|h| number(h, LAST_STREAM)),
            stalled: headers
                .and_then(|h| h.get(CONSUMER_STALLED))
                .map(str::to_owned),
        },
        404 => Delivery::Ended {
            why: Ended::NoMessages,
            pending: pending(),
        },
        408 => {
            let why = if lower.contains("interest expired") {
                Ended::InterestExpired
            } else if lower.contains("requests pending") {
                Ended::RequestsPending
            } else {
                Ended::Expired
            };
            Delivery::Ended {
                why,
                pending: pending(),
            }
        }
        409 => classify_conflict(description, &lower, pending()),
        400 => Delivery::BadRequest(description.to_owned()),
        412 => Delivery::Rejected(description.to_owned()),
        423 => Delivery::PinMismatch { pending: pending() },
        503 => Delivery::NoResponders,
        code => Delivery::Unknown {
            code,
            description: description.to_owned(),
        },
    }
}

/// The `409` family, told apart by description as every client does (the server has no
/// other field for it).
fn classify_conflict(description: &str, lower: &str, pending: Option<Pending>) -> Delivery {
    let ended = |why| Delivery::Ended { why, pending };
    if lower.contains("message size exceeds maxbytes") {
        ended(Ended::MaxBytes)
    } else if lower.contains("batch completed") {
        ended(Ended::BatchCompleted)
    } else if lower.contains("server shutdown") {
        ended(Ended::ServerShutdown)
    } else if lower.contains("leadership change") {
        Delivery::LeadershipChange
    } else if lower.contains("consumer deleted") {
        Delivery::ConsumerDeleted
    } else if lower.contains("push based") {
        Delivery::PushBased
    } else if lower.contains("exceeded maxwaiting") {
        Delivery::MaxWaiting
    } else if lower.contains("exceeded maxrequest") {
        Delivery::Rejected(description.to_owned())
    } else {
        Delivery::Unknown {
            code: 409,
            description: description.to_owned(),
        }
    }
}

/// The pending counts of a termination, when both or either header is there and a number.
fn pending_of(headers: &HeaderMap) -> Option<Pending> {
    let messages = signed(headers, PENDING_MESSAGES);
    let bytes = signed(headers, PENDING_BYTES);
    if messages.is_none() && bytes.is_none() {
        return None;
    }
    Some(Pending {
        messages: messages.unwrap_or(0),
        bytes: bytes.unwrap_or(0),
    })
}

fn signed(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.trim().parse().ok()
}

fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.trim().parse().ok()
}

/// The size of a delivered message as the server counts it against `max_bytes`: subject,
/// reply, headers and payload.
pub(crate) fn wire_size(message: &Message) -> usize {
    let reply = message.reply.as_ref().map_or(0, |r| r.len());
    message.subject.len() + reply + message.length
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::header::parse_header_block;
    use crate::subject::Subject;

    /// A message with the header block `block` (as the server writes it) and `payload`.
    fn message(block: &[u8], payload: &'static [u8], reply: Option<&str>) -> Message {
        let parsed = parse_header_block(block).expect("header block");
        Message {
            subject: Subject::from("_INBOX.pull"),
            reply: reply.map(Subject::from),
            payload: Bytes::from_static(payload),
            headers: Some(parsed.headers),
            status: parsed.status,
            description: parsed.description,
            length: block.len() + payload.len(),
        }
    }

    fn status(block: &str) -> Delivery {
        classify(&message(block.as_bytes(), b"", None))
    }

    #[test]
    fn user_messages_are_messages_even_empty_with_headers() {
        let plain = Message {
            subject: Subject::from("orders.1"),
            reply: Some(Subject::from("$JS.ACK.S.C.1.1.1.0.0")),
            payload: Bytes::from_static(b"x"),
            headers: None,
            status: None,
            description: None,
            length: 1,
        };
        assert_eq!(classify(&plain), Delivery::Message);
        let marker = message(b"NATS/1.0\r\nKV-Operation: DEL\r\n\r\n", b"", None);
        assert_eq!(classify(&marker), Delivery::Message);
        let with_payload = message(b"NATS/1.0 503\r\n\r\n", b"body", None);
        assert_eq!(classify(&with_payload), Delivery::Message);
        assert_eq!(wire_size(&plain), "orders.1".len() + 21 + 1);
    }

    #[test]
    fn heartbeats_and_flow_control() {
        assert_eq!(
            status("NATS/1.0 100 Idle Heartbeat\r\nNats-Last-Consumer: 7\r\nNats-Last-Stream: 9\r\n\r\n"),
            Delivery::Heartbeat {
                last_consumer: Some(7),
                last_stream: Some(9),
                stalled: None
            }
        );
        assert_eq!(
            status("NATS/1.0 100 Idle Heartbeat\r\nNats-Consumer-Stalled: $JS.FC.S.C.x\r\n\r\n"),
            Delivery::Heartbeat {
                last_consumer: None,
                last_stream: None,
                stalled: Some("$JS.FC.S.C.x".into())
            }
        );
        let fc = message(
            b"NATS/1.0 100 FlowControl Request\r\n\r\n",
            b"",
            Some("$JS.FC.S.C.a"),
        );
        assert_eq!(classify(&fc), Delivery::FlowControl);
    }

    #[test]
    fn request_endings_carry_signed_pending_counts() {
        assert_eq!(
            status("NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 5\r\nNats-Pending-Bytes: 0\r\n\r\n"),
            Delivery::Ended {
                why: Ended::Expired,
                pending: Some(Pending { messages: 5, bytes: 0 })
            }
        );
        assert_eq!(
            status("NATS/1.0 409 Batch Completed\r\nNats-Pending-Messages: -1\r\nNats-Pending-Bytes: 1000\r\n\r\n"),
            Delivery::Ended {
                why: Ended::BatchCompleted,
                pending: Some(Pending { messages: -1, bytes: 1000 })
            }
        );
        for (block, why) in [
            ("NATS/1.0 404 No Messages\r\n\r\n", Ended::NoMessages),
            ("NATS/1.0 408 Interest Expired\r\nNats-Pending-Messages: 1\r\n\r\n", Ended::InterestExpired),
            ("NATS/1.0 408 Requests Pending\r\n\r\n", Ended::RequestsPending),
            ("NATS/1.0 409 Message Size Exceeds MaxBytes\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: 10\r\n\r\n", Ended::MaxBytes),
            ("NATS/1.0 409 Server Shutdown\r\nNats-Pending-Messages: 3\r\nNats-Pending-Bytes: 0\r\n\r\n", Ended::ServerShutdown),
        ] {
            match status(block) {
                Delivery::Ended { why: got, .. } => assert_eq!(got, why, "{block}"),
                other => panic!("{block}: {other:?}"),
            }
        }
        match status("NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: lots\r\n\r\n") {
            Delivery::Ended { pending, .. } => assert_eq!(pending, None, "unparsable is absent"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn conflicts_are_told_apart() {
        assert_eq!(
            status("NATS/1.0 409 Leadership Change\r\n\r\n"),
            Delivery::LeadershipChange
        );
        assert_eq!(
            status("NATS/1.0 409 Consumer Deleted\r\n\r\n"),
            Delivery::ConsumerDeleted
        );
        assert_eq!(
            status("NATS/1.0 409 Consumer is push based\r\n\r\n"),
            Delivery::PushBased
        );
        assert_eq!(
            status("NATS/1.0 409 Exceeded MaxWaiting\r\n\r\n"),
            Delivery::MaxWaiting
        );
        for text in [
            "Exceeded MaxRequestBatch of 10",
            "Exceeded MaxRequestExpires of 1s",
            "Exceeded MaxRequestMaxBytes of 100",
        ] {
            assert_eq!(
                status(&format!("NATS/1.0 409 {text}\r\n\r\n")),
                Delivery::Rejected(text.into())
            );
        }
        assert_eq!(
            status("NATS/1.0 409 Something New\r\n\r\n"),
            Delivery::Unknown {
                code: 409,
                description: "Something New".into()
            }
        );
    }

    #[test]
    fn errors_and_the_rest() {
        assert_eq!(
            status("NATS/1.0 400 Bad Request - heartbeat value too large\r\n\r\n"),
            Delivery::BadRequest("Bad Request - heartbeat value too large".into())
        );
        assert_eq!(status("NATS/1.0 503\r\n\r\n"), Delivery::NoResponders);
        assert_eq!(
            status("NATS/1.0 412 Required Api Level\r\n\r\n"),
            Delivery::Rejected("Required Api Level".into())
        );
        assert_eq!(
            status("NATS/1.0 423 Nats-Wrong-Pin-Id\r\nNats-Pending-Messages: 2\r\nNats-Pending-Bytes: 0\r\n\r\n"),
            Delivery::PinMismatch { pending: Some(Pending { messages: 2, bytes: 0 }) }
        );
        assert_eq!(
            status("NATS/1.0 418\r\n\r\n"),
            Delivery::Unknown {
                code: 418,
                description: String::new()
            }
        );
    }
}
