//! [`Message`]: a message a consumer delivered, with the acknowledgements of ADR-15 and the
//! metadata of its ack reply subject.
//!
//! Ack bodies (nats-server `consumer.go`): `+ACK`, `-NAK`, `-NAK {"delay": <ns>}`, `+WPI`,
//! `+TERM`, `+TERM <reason>`. They are published to the reply subject unchanged (never
//! under an API prefix). After a terminal one (ack, nak, term) the message refuses further
//! acknowledgements with [`AckErrorKind::AlreadyAcknowledged`] without sending anything, as
//! ADR-15 asks; `in_progress` is not terminal and may be sent any number of times before.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::Bytes;

use super::context::Context;
use super::errors::{AckError, AckErrorKind};
use super::message_info::{MessageInfo, MessageInfoError};
use super::nanos::to_nanos;
use crate::request_options::RequestOptions;

const ACK: &[u8] = b"+ACK";
const NAK: &[u8] = b"-NAK";
const IN_PROGRESS: &[u8] = b"+WPI";
const TERM: &[u8] = b"+TERM";

/// A message delivered by a JetStream consumer.
///
/// It dereferences to the core [`Message`](crate::Message): `subject` is the subject it was
/// stored on, `reply` its ack subject, plus `payload` and `headers`.
///
/// ```no_run
/// # async fn demo(message: nats_core::jetstream::Message) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// let info = message.info()?;
/// println!("{} #{} delivered {} times", info.stream, info.stream_sequence, info.delivered);
/// if message.payload.is_empty() {
///     message.term_with_reason("empty order").await?;
/// } else if info.delivered < 3 {
///     message.nak_with_delay(Duration::from_secs(5)).await?;
/// } else {
///     message.double_ack().await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Message {
    message: crate::Message,
    context: Context,
    /// Set once a terminal acknowledgement has been sent (or is being sent).
    acked: AtomicBool,
}

impl Message {
    /// Wraps a message received through the core client (such as one a push consumer
    /// delivered to a subscription of yours) to acknowledge it through `context`. A message
    /// without an ack subject can be wrapped: its acknowledgements and
    /// [`info`](Self::info) then fail with [`AckErrorKind::NotJetStream`].
    pub fn new(context: Context, message: crate::Message) -> Self {
        Message {
            message,
            context,
            acked: AtomicBool::new(false),
        }
    }

    /// The core message.
    pub fn message(&self) -> &crate::Message {
        &self.message
    }

    /// The core message, giving up the acknowledgements.
    pub fn into_message(self) -> crate::Message {
        self.message
    }

    /// What the ack subject says: stream, consumer, delivery count, sequences, timestamp,
    /// pending.
    ///
    /// # Errors
    /// [`AckErrorKind::NotJetStream`] when the message has no ack subject of either form.
    pub fn info(&self) -> Result<MessageInfo<'_>, AckError> {
        let reply = self.ack_subject()?;
        MessageInfo::parse(reply).map_err(|e| AckError::with_source(AckErrorKind::NotJetStream, e))
    }

    /// Whether a terminal acknowledgement (ack, nak, term) was sent.
    pub fn is_acked(&self) -> bool {
        self.acked.load(Ordering::Acquire)
    }

    /// Acknowledges the message: it will not be delivered again.
    ///
    /// # Errors
    /// [`AckErrorKind::AlreadyAcknowledged`] after a terminal acknowledgement;
    /// [`AckErrorKind::NotJetStream`]; [`AckErrorKind::Publish`] when it cannot be sent
    /// (the message then counts as not acknowledged).
    pub async fn ack(&self) -> Result<(), AckError> {
        self.send_terminal(Bytes::from_static(ACK)).await
    }

    /// Acknowledges the message and waits for the server to confirm it has applied the
    /// acknowledgement (after replication on replicated consumers), within the context's
    /// timeout.
    ///
    /// # Errors
    /// [`AckErrorKind::TimedOut`] when no confirmation comes in time: the outcome is
    /// unknown and the message counts as not acknowledged, so the ack may be retried;
    /// [`AckErrorKind::NoResponders`] when the consumer is gone; the errors of
    /// [`ack`](Self::ack).
    pub async fn double_ack(&self) -> Result<(), AckError> {
        let reply = self.claim_terminal()?;
        let request = RequestOptions::new()
            .payload(Bytes::from_static(ACK))
            .timeout(self.context.timeout());
        let result = self.context.client().send_request(reply, request).await;
        result.map(drop).map_err(|err| {
            self.acked.store(false, Ordering::Release);
            AckError::from_request(err)
        })
    }

    /// Refuses the message for now: the server redelivers it (after the consumer's backoff,
    /// if it has one).
    ///
    /// # Errors
    /// As [`ack`](Self::ack).
    pub async fn nak(&self) -> Result<(), AckError> {
        self.send_terminal(Bytes::from_static(NAK)).await
    }

    /// Refuses the message and asks for its redelivery after `delay`.
    ///
    /// # Errors
    /// As [`ack`](Self::ack).
    pub async fn nak_with_delay(&self, delay: Duration) -> Result<(), AckError> {
        self.send_terminal(Bytes::from(nak_with_delay_body(delay)))
            .await
    }

    /// Says the message is still being worked on: the consumer's ack wait starts again.
    /// May be sent any number of times before a terminal acknowledgement.
    ///
    /// # Errors
    /// As [`ack`](Self::ack).
    pub async fn in_progress(&self) -> Result<(), AckError> {
        let reply = self.ack_subject()?;
        if self.is_acked() {
            return Err(AckError::new(AckErrorKind::AlreadyAcknowledged));
        }
        self.context
            .client()
            .publish(reply, Bytes::from_static(IN_PROGRESS))
            .await
            .map_err(|e| AckError::with_source(AckErrorKind::Publish, e))
    }

    /// Stops redelivery of the message for good, without acknowledging it.
    ///
    /// # Errors
    /// As [`ack`](Self::ack).
    pub async fn term(&self) -> Result<(), AckError> {
        self.send_terminal(Bytes::from_static(TERM)).await
    }

    /// Stops redelivery with a reason, which the server puts in its termination advisory.
    /// Servers before 2.10 do not read a reason (they would ignore the whole
    /// acknowledgement): to them a plain `+TERM` is sent.
    ///
    /// # Errors
    /// As [`ack`](Self::ack).
    pub async fn term_with_reason(&self, reason: impl AsRef<str>) -> Result<(), AckError> {
        let version = self.context.client().server_version();
        let body = if reads_term_reason(&version) {
            term_body(reason.as_ref())
        } else {
            TERM.to_vec()
        };
        self.send_terminal(Bytes::from(body)).await
    }

    fn ack_subject(&self) -> Result<&str, AckError> {
        match self.message.reply.as_deref() {
            Some(reply) => Ok(reply),
            None => Err(AckError::with_source(
                AckErrorKind::NotJetStream,
                MessageInfoError::NoReply,
            )),
        }
    }

    /// Marks the message acknowledged; an error if it was already.
    fn claim_terminal(&self) -> Result<&str, AckError> {
        let reply = self.ack_subject()?;
        if self.acked.swap(true, Ordering::AcqRel) {
            return Err(AckError::new(AckErrorKind::AlreadyAcknowledged));
        }
        Ok(reply)
    }

    async fn send_terminal(&self, body: Bytes) -> Result<(), AckError> {
        let reply = self.claim_terminal()?;
        let sent = self.context.client().publish(reply, body).await;
        sent.map_err(|e| {
            self.acked.store(false, Ordering::Release);
            AckError::with_source(AckErrorKind::Publish, e)
        })
    }
}

impl Deref for Message {
    type Target = crate::Message;

    fn deref(&self) -> &crate::Message {
        &self.message
    }
}

/// `-NAK {"delay": <ns>}`.
fn nak_with_delay_body(delay: Duration) -> Vec<u8> {
    format!("-NAK {{\"delay\": {}}}", to_nanos(delay)).into_bytes()
}

/// Whether a server of `version` (`2.10.4`) reads `+TERM <reason>` (2.10 on); an
/// unreadable version is taken as a recent one.
fn reads_term_reason(version: &str) -> bool {
    let mut parts = version.trim_start_matches('v').split('.');
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (major, minor) {
        (Some(major), Some(minor)) => (major, minor) >= (2, 10),
        _ => true,
    }
}

/// `+TERM <reason>`, or `+TERM` for an empty reason.
fn term_body(reason: &str) -> Vec<u8> {
    let reason = reason.trim();
    if reason.is_empty() {
        return TERM.to_vec();
    }
    let mut body = Vec::with_capacity(TERM.len() + 1 + reason.len());
    body.extend_from_slice(TERM);
    body.push(b' ');
    body.extend_from_slice(reason.as_bytes());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_bodies_are_the_server_words() {
        assert_eq!(
            nak_with_delay_body(Duration::from_millis(1500)),
            br#"-NAK {"delay": 1500000000}"#
        );
        assert_eq!(nak_with_delay_body(Duration::ZERO), br#"-NAK {"delay": 0}"#);
        assert_eq!(term_body("bad order"), b"+TERM bad order");
        assert_eq!(term_body("  "), b"+TERM");
        assert_eq!(term_body(""), b"+TERM");
        assert_eq!(
            (ACK, NAK, IN_PROGRESS),
            (&b"+ACK"[..], &b"-NAK"[..], &b"+WPI"[..])
        );
    }

    #[test]
    fn term_reasons_go_to_servers_that_read_them() {
        assert!(reads_term_reason("2.10.0"));
        assert!(reads_term_reason("2.15.1"));
        assert!(reads_term_reason("v3.0.0"));
        assert!(!reads_term_reason("2.9.10"));
        assert!(reads_term_reason(""), "unknown: assume recent");
    }
}
