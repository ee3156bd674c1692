//! Acknowledged publishing: [`PublishOptions`] (message id, expected-state checks, TTL),
//! the [`PubAck`] a stream answers with, and how its reply is read.
//!
//! A JetStream publish is a request on the stream's subject; the stream answers with a
//! PubAck, or with an `error`, or nothing answers at all (503 no responders: no stream, or
//! a leader election in progress). The sending and the bound on outstanding
//! acknowledgements are in [`ack_future`](super::ack_future).

use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;

use super::context::Context;
use super::errors::{ApiError, PublishError, PublishErrorKind};
use super::headers::{
    NATS_EXPECTED_LAST_MSG_ID, NATS_EXPECTED_LAST_SEQUENCE, NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
    NATS_EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT, NATS_EXPECTED_STREAM, NATS_MSG_ID, NATS_TTL,
};
use crate::header::HeaderMap;
use crate::message::Message;

/// What a stream answered to a publish it stored (or recognised as a duplicate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PubAck {
    /// The stream that stored the message.
    pub stream: String,
    /// Its sequence in the stream; for a duplicate, the sequence of the original.
    pub sequence: u64,
    /// The JetStream domain of the stream, if it has one.
    pub domain: Option<String>,
    /// Whether the message id was seen within the duplicate window: nothing was stored.
    pub duplicate: bool,
    /// The counter's value after the increment, on a counter stream (2.12).
    pub value: Option<String>,
    /// The batch id, for the commit of a batch (2.12).
    pub batch_id: Option<String>,
    /// The number of messages of that batch.
    pub batch_size: Option<u64>,
}

/// A per-message TTL (`Nats-TTL`, nats-server 2.11, streams with `allow_msg_ttl`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageTtl {
    /// Remove the message this long after storing it (at least one second; the server
    /// counts whole seconds).
    After(Duration),
    /// Never remove it by age, whatever the stream's `max_age`.
    Never,
}

impl MessageTtl {
    /// The header value: whole seconds as `90s`, else nanoseconds as a Go duration.
    fn header_value(self) -> String {
        match self {
            MessageTtl::Never => "never".to_owned(),
            MessageTtl::After(d) if d.subsec_nanos() == 0 => format!("{}s", d.as_secs()),
            MessageTtl::After(d) => format!("{}ns", d.as_nanos()),
        }
    }
}

/// Headers and checks of one acknowledged publish.
///
/// ```
/// use std::time::Duration;
/// use nats_core::jetstream::PublishOptions;
/// let options = PublishOptions::new()
///     .message_id("order-42")
///     .expected_last_subject_sequence(0) // only if nothing is on the subject yet
///     .timeout(Duration::from_secs(1));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PublishOptions {
    headers: Option<HeaderMap>,
    message_id: Option<String>,
    expected_stream: Option<String>,
    expected_last_sequence: Option<u64>,
    expected_last_subject_sequence: Option<u64>,
    expected_last_subject_sequence_subject: Option<String>,
    expected_last_message_id: Option<String>,
    ttl: Option<MessageTtl>,
    pub(crate) timeout: Option<Duration>,
}

impl PublishOptions {
    /// No headers, no checks, the context's timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Headers of your own, sent with those the options add.
    pub fn headers(mut self, headers: HeaderMap) -> Self {
        self.headers = Some(headers);
        self
    }

    /// The message id (`Nats-Msg-Id`): a second publish with the same id within the
    /// stream's duplicate window is not stored and acknowledged with `duplicate: true`.
    pub fn message_id(mut self, id: impl Into<String>) -> Self {
        self.message_id = Some(id.into());
        self
    }

    /// Store only if the subject belongs to stream `name` (`Nats-Expected-Stream`).
    pub fn expected_stream(mut self, name: impl Into<String>) -> Self {
        self.expected_stream = Some(name.into());
        self
    }

    /// Store only if the stream's last sequence is `sequence`
    /// (`Nats-Expected-Last-Sequence`).
    pub fn expected_last_sequence(mut self, sequence: u64) -> Self {
        self.expected_last_sequence = Some(sequence);
        self
    }

    /// Store only if the last message on this subject has `sequence`; `0` means there is
    /// none (`Nats-Expected-Last-Subject-Sequence`).
    pub fn expected_last_subject_sequence(mut self, sequence: u64) -> Self {
        self.expected_last_subject_sequence = Some(sequence);
        self
    }

    /// Check [`expected_last_subject_sequence`](Self::expected_last_subject_sequence)
    /// against `subject` (wildcards allowed) instead of the message's own subject
    /// (`Nats-Expected-Last-Subject-Sequence-Subject`, nats-server 2.11).
    pub fn expected_last_subject_sequence_subject(mut self, subject: impl Into<String>) -> Self {
        self.expected_last_subject_sequence_subject = Some(subject.into());
        self
    }

    /// Store only if the stream's last message has message id `id`
    /// (`Nats-Expected-Last-Msg-Id`).
    pub fn expected_last_message_id(mut self, id: impl Into<String>) -> Self {
        self.expected_last_message_id = Some(id.into());
        self
    }

    /// A per-message TTL (`Nats-TTL`); the stream needs `allow_msg_ttl`.
    pub fn ttl(mut self, ttl: MessageTtl) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// How long to wait for the acknowledgement, instead of the context's timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The header block to send: yours plus those of the options; `None` when empty.
    pub(crate) fn into_headers(self) -> Option<HeaderMap> {
        let mut headers = self.headers.unwrap_or_default();
        let mut number = itoa::Buffer::new();
        if let Some(id) = self.message_id {
            headers.insert(NATS_MSG_ID, id);
        }
        if let Some(stream) = self.expected_stream {
            headers.insert(NATS_EXPECTED_STREAM, stream);
        }
        if let Some(sequence) = self.expected_last_sequence {
            headers.insert(NATS_EXPECTED_LAST_SEQUENCE, number.format(sequence));
        }
        if let Some(sequence) = self.expected_last_subject_sequence {
            headers.insert(NATS_EXPECTED_LAST_SUBJECT_SEQUENCE, number.format(sequence));
        }
        if let Some(subject) = self.expected_last_subject_sequence_subject {
            headers.insert(NATS_EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT, subject);
        }
        if let Some(id) = self.expected_last_message_id {
            headers.insert(NATS_EXPECTED_LAST_MSG_ID, id);
        }
        if let Some(ttl) = self.ttl {
            headers.insert(NATS_TTL, ttl.header_value());
        }
        (!headers.is_empty()).then_some(headers)
    }
}

/// A PubAck reply as the server writes it: success fields and `error` in one object.
#[derive(Deserialize)]
struct PubAckReply {
    #[serde(default)]
    error: Option<ApiError>,
    #[serde(default)]
    stream: Option<String>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    duplicate: bool,
    #[serde(default)]
    val: Option<String>,
    #[serde(default)]
    batch: Option<String>,
    #[serde(default)]
    count: Option<u64>,
}

/// Reads the stream's reply to a publish (not "no responders": the caller handles that).
///
/// A status with a JSON body (`429 Too Many Requests` since 2.11) is read as its body.
pub(crate) fn parse_pub_ack(reply: &Message) -> Result<PubAck, PublishError> {
    if reply.payload.is_empty() {
        let status = reply.status.map_or(0, |s| s.as_u16());
        let description = reply.description.as_deref().unwrap_or("");
        return Err(PublishError::with_source(
            PublishErrorKind::InvalidResponse,
            format!("empty acknowledgement (status {status} {description})"),
        ));
    }
    let ack: PubAckReply = serde_json::from_slice(&reply.payload)
        .map_err(|e| PublishError::with_source(PublishErrorKind::InvalidResponse, e))?;
    // An error PubAck also carries `stream` and `seq: 0`: the error decides.
    if let Some(error) = ack.error {
        return Err(PublishError::from_api(error));
    }
    let (Some(stream), Some(sequence)) = (ack.stream, ack.seq) else {
        return Err(PublishError::with_source(
            PublishErrorKind::InvalidResponse,
            "acknowledgement without stream or seq",
        ));
    };
    Ok(PubAck {
        stream,
        sequence,
        domain: ack.domain.filter(|d| !d.is_empty()),
        duplicate: ack.duplicate,
        value: ack.val,
        batch_id: ack.batch,
        batch_size: ack.count,
    })
}

impl Context {
    /// Publishes `payload` to `subject` and waits for the stream's acknowledgement.
    ///
    /// ```no_run
    /// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), nats_core::jetstream::PublishError> {
    /// let ack = js.publish("orders.new", "order 42").await?;
    /// println!("stored as {} in {}", ack.sequence, ack.stream);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`PublishErrorKind::NoStream`] when no stream listens (after the retries of the
    /// options), [`PublishErrorKind::NotEnabled`] when JetStream is off,
    /// [`PublishErrorKind::TimedOut`] when no acknowledgement came in time (the message
    /// may be stored: resend with the same message id), and the others of
    /// [`PublishError`].
    pub async fn publish(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
    ) -> Result<PubAck, PublishError> {
        self.publish_with(subject, payload, PublishOptions::default())
            .await
    }

    /// Publishes with a message id, expected-state checks, a TTL or headers, and waits for
    /// the acknowledgement.
    ///
    /// ```no_run
    /// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), nats_core::jetstream::PublishError> {
    /// use nats_core::jetstream::{PublishErrorKind, PublishOptions};
    /// let options = PublishOptions::new().message_id("order-42").expected_last_sequence(41);
    /// match js.publish_with("orders.new", "order 42", options).await {
    ///     Ok(ack) if ack.duplicate => println!("already stored as {}", ack.sequence),
    ///     Ok(ack) => println!("stored as {}", ack.sequence),
    ///     Err(err) if err.kind() == PublishErrorKind::WrongLastSequence => println!("lost the race"),
    ///     Err(err) => return Err(err),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`publish`](Self::publish), and [`PublishErrorKind::WrongLastSequence`],
    /// [`PublishErrorKind::WrongLastMessageId`], [`PublishErrorKind::StreamMismatch`] when a
    /// check fails.
    pub async fn publish_with(
        &self,
        subject: impl AsRef<str>,
        payload: impl Into<Bytes>,
        options: PublishOptions,
    ) -> Result<PubAck, PublishError> {
        self.publish_async_with(subject, payload, options)
            .await?
            .wait()
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::StatusCode;
    use crate::subject::Subject;

    fn reply(payload: &'static str, status: Option<u16>) -> Message {
        Message {
            subject: Subject::from("_INBOX.x.1"),
            reply: None,
            payload: Bytes::from_static(payload.as_bytes()),
            headers: None,
            status: status.map(StatusCode::new),
            description: None,
            length: payload.len(),
        }
    }

    #[test]
    fn a_pub_ack_parses_with_its_optional_fields() {
        let ack = parse_pub_ack(&reply(r#"{"stream":"S","seq":7}"#, None)).expect("ack");
        assert_eq!(
            (ack.stream.as_str(), ack.sequence, ack.duplicate),
            ("S", 7, false)
        );
        // The server writes `"duplicate": true` with a space.
        let ack = parse_pub_ack(&reply(
            r#"{"stream":"S","domain":"hub","seq":7, "duplicate": true,"val":"3"}"#,
            None,
        ))
        .expect("ack");
        assert!(ack.duplicate);
        assert_eq!(ack.domain.as_deref(), Some("hub"));
        assert_eq!(ack.value.as_deref(), Some("3"));
    }

    #[test]
    fn an_error_pub_ack_is_typed_even_with_stream_and_seq() {
        let err = parse_pub_ack(&reply(
            r#"{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"S","seq":0}"#,
            None,
        ))
        .expect_err("error");
        assert_eq!(err.kind(), PublishErrorKind::WrongLastSequence);
        // 429 with a JSON body (2.11+).
        let err = parse_pub_ack(&reply(
            r#"{"error":{"code":429,"err_code":10167,"description":"too many requests"},"stream":"S","seq":0}"#,
            Some(429),
        ))
        .expect_err("error");
        assert_eq!(err.kind(), PublishErrorKind::Api);
        assert_eq!(
            err.error_code(),
            Some(super::super::ErrorCode::STREAM_TOO_MANY_REQUESTS)
        );
    }

    #[test]
    fn hostile_acks_are_errors() {
        for (payload, status) in [
            ("", Some(408)),
            ("+OK", None),
            (r#"{"stream":"S"}"#, None),
            (r#"{"seq":1}"#, None),
            (r#"{"stream":"S","seq":-1}"#, None),
            (r#"{"stream":"S","seq":1,"error":"nope"}"#, None),
        ] {
            let err = parse_pub_ack(&reply(payload, status)).expect_err(payload);
            assert_eq!(err.kind(), PublishErrorKind::InvalidResponse, "{payload}");
        }
    }

    #[test]
    fn options_become_the_server_headers() {
        let mut mine = HeaderMap::new();
        mine.insert("Trace", "t");
        let headers = PublishOptions::new()
            .headers(mine)
            .message_id("m1")
            .expected_stream("S")
            .expected_last_sequence(4)
            .expected_last_subject_sequence(0)
            .expected_last_subject_sequence_subject("a.*")
            .expected_last_message_id("m0")
            .ttl(MessageTtl::After(Duration::from_secs(90)))
            .into_headers()
            .expect("headers");
        let pairs: Vec<_> = headers.iter().collect();
        assert_eq!(
            pairs,
            [
                ("Trace", "t"),
                ("Nats-Msg-Id", "m1"),
                ("Nats-Expected-Stream", "S"),
                ("Nats-Expected-Last-Sequence", "4"),
                ("Nats-Expected-Last-Subject-Sequence", "0"),
                ("Nats-Expected-Last-Subject-Sequence-Subject", "a.*"),
                ("Nats-Expected-Last-Msg-Id", "m0"),
                ("Nats-TTL", "90s"),
            ]
        );
        assert_eq!(PublishOptions::new().into_headers(), None);
    }

    #[test]
    fn ttl_values_are_go_durations() {
        assert_eq!(MessageTtl::Never.header_value(), "never");
        assert_eq!(
            MessageTtl::After(Duration::from_millis(1500)).header_value(),
            "1500000000ns"
        );
        assert_eq!(
            MessageTtl::After(Duration::from_secs(1)).header_value(),
            "1s"
        );
    }
}
