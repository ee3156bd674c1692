//! Reading and deleting stored messages on a [`Context`]: `STREAM.MSG.GET` (through the
//! stream leader), direct get (`DIRECT.GET`, any replica, needs `allow_direct`) in both
//! forms, and `STREAM.MSG.DELETE` with or without erasing.

use bytes::Bytes;
use serde::Serialize;

use super::context::Context;
use super::errors::{JetStreamError, JetStreamErrorKind};
use super::stream::{check_stream_name, confirm};
use super::stream_message::{GetResponse, StreamMessage};
use crate::error::RequestErrorKind;
use crate::request_options::RequestOptions;
use crate::subject::validate_publish_subject;

/// Which stored message to read.
///
/// ```
/// use nats_core::jetstream::MessageSelector;
/// let first = MessageSelector::sequence(1);
/// let latest = MessageSelector::last_by_subject("orders.eu.42");
/// let next = MessageSelector::next_by_subject("orders.>", 100);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageSelector {
    #[serde(rename = "seq", skip_serializing_if = "Option::is_none")]
    sequence: Option<u64>,
    #[serde(rename = "last_by_subj", skip_serializing_if = "Option::is_none")]
    last_by_subject: Option<String>,
    #[serde(rename = "next_by_subj", skip_serializing_if = "Option::is_none")]
    next_by_subject: Option<String>,
}

impl MessageSelector {
    /// The message with this sequence.
    pub fn sequence(sequence: u64) -> Self {
        MessageSelector {
            sequence: Some(sequence),
            last_by_subject: None,
            next_by_subject: None,
        }
    }

    /// The latest message on `subject` (wildcards allowed).
    pub fn last_by_subject(subject: impl Into<String>) -> Self {
        MessageSelector {
            sequence: None,
            last_by_subject: Some(subject.into()),
            next_by_subject: None,
        }
    }

    /// The first message on `subject` (wildcards allowed) at or after sequence `from`.
    pub fn next_by_subject(subject: impl Into<String>, from: u64) -> Self {
        MessageSelector {
            sequence: Some(from).filter(|&s| s > 0),
            last_by_subject: None,
            next_by_subject: Some(subject.into()),
        }
    }
}

#[derive(Serialize)]
struct DeleteRequest {
    seq: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    no_erase: bool,
}

#[derive(serde::Deserialize)]
struct DeleteResponse {
    #[serde(default)]
    success: bool,
}

impl Context {
    /// Reads a stored message through the stream's leader (`STREAM.MSG.GET`): always the
    /// latest state.
    ///
    /// ```no_run
    /// # async fn demo(js: nats_core::jetstream::Context) -> Result<(), nats_core::jetstream::JetStreamError> {
    /// use nats_core::jetstream::MessageSelector;
    /// let message = js.get_message("ORDERS", MessageSelector::sequence(1)).await?;
    /// println!("{} at {}: {:?}", message.subject, message.time, message.payload);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`JetStreamErrorKind::MessageNotFound`], [`JetStreamErrorKind::StreamNotFound`],
    /// and the others of [`JetStreamError`].
    pub async fn get_message(
        &self,
        stream: &str,
        selector: MessageSelector,
    ) -> Result<StreamMessage, JetStreamError> {
        check_stream_name(stream)?;
        let reply: GetResponse = self
            .api_json(&format!("STREAM.MSG.GET.{stream}"), &selector)
            .await?;
        StreamMessage::from_raw(reply.message)
    }

    /// The latest message on `subject`, through the stream's leader.
    ///
    /// # Errors
    /// As [`get_message`](Self::get_message).
    pub async fn get_last_message(
        &self,
        stream: &str,
        subject: &str,
    ) -> Result<StreamMessage, JetStreamError> {
        self.get_message(stream, MessageSelector::last_by_subject(subject))
            .await
    }

    /// Reads a stored message from any replica (`DIRECT.GET.<stream>`): faster and spread
    /// over the replicas, but a replica may lag behind the leader. The stream needs
    /// `allow_direct`.
    ///
    /// # Errors
    /// [`JetStreamErrorKind::MessageNotFound`];
    /// [`JetStreamErrorKind::DirectGetUnavailable`] when no replica answers (no such
    /// stream, no `allow_direct`, or JetStream off); [`JetStreamErrorKind::Api`] for a
    /// request the server refuses (the status is the [`ApiError`](super::ApiError)'s
    /// `code`); the others of [`JetStreamError`].
    pub async fn direct_get(
        &self,
        stream: &str,
        selector: MessageSelector,
    ) -> Result<StreamMessage, JetStreamError> {
        check_stream_name(stream)?;
        let body = serde_json::to_vec(&selector)
            .map_err(|e| JetStreamError::with_source(JetStreamErrorKind::InvalidRequest, e))?;
        let subject = self.api_subject(&format!("DIRECT.GET.{stream}"));
        self.direct_request(&subject, Bytes::from(body)).await
    }

    /// The latest message on `subject` from any replica, with the subject in the request
    /// subject (`DIRECT.GET.<stream>.<subject>`, the form Key-Value reads use). A subject
    /// with wildcards is asked for in the JSON form instead (a publish subject holds none).
    ///
    /// # Errors
    /// As [`direct_get`](Self::direct_get), and [`JetStreamErrorKind::InvalidRequest`]
    /// for a subject that cannot be part of a subject.
    pub async fn direct_get_last(
        &self,
        stream: &str,
        subject: &str,
    ) -> Result<StreamMessage, JetStreamError> {
        if subject.contains(['*', '>']) {
            return self
                .direct_get(stream, MessageSelector::last_by_subject(subject))
                .await;
        }
        check_stream_name(stream)?;
        let request_subject = self.api_subject(&format!("DIRECT.GET.{stream}.{subject}"));
        validate_publish_subject(&request_subject)
            .map_err(|e| JetStreamError::with_source(JetStreamErrorKind::InvalidRequest, e))?;
        self.direct_request(&request_subject, Bytes::new()).await
    }

    async fn direct_request(
        &self,
        subject: &str,
        body: Bytes,
    ) -> Result<StreamMessage, JetStreamError> {
        let request = RequestOptions::new().payload(body).timeout(self.timeout());
        let reply = self
            .client()
            .send_request(subject, request)
            .await
            .map_err(|err| match err.kind() {
                RequestErrorKind::NoResponders => {
                    JetStreamError::new(JetStreamErrorKind::DirectGetUnavailable)
                }
                _ => JetStreamError::from_request(err),
            })?;
        StreamMessage::from_direct(reply)
    }

    /// Deletes a stored message, leaving its bytes on disk until the store compacts
    /// (`no_erase`, as nats.go's `DeleteMsg`).
    ///
    /// # Errors
    /// [`JetStreamErrorKind::MessageNotFound`] for a sequence the stream does not hold
    /// (10043); [`JetStreamErrorKind::Api`] for a stream with `deny_delete`;
    /// [`JetStreamErrorKind::StreamNotFound`]; the others of [`JetStreamError`].
    pub async fn delete_message(&self, stream: &str, sequence: u64) -> Result<(), JetStreamError> {
        self.remove_message(stream, sequence, true).await
    }

    /// Deletes a stored message and overwrites its bytes (secure erase, the server's
    /// default and nats-py's `delete_msg`): slower.
    ///
    /// # Errors
    /// As [`delete_message`](Self::delete_message).
    pub async fn erase_message(&self, stream: &str, sequence: u64) -> Result<(), JetStreamError> {
        self.remove_message(stream, sequence, false).await
    }

    async fn remove_message(
        &self,
        stream: &str,
        sequence: u64,
        no_erase: bool,
    ) -> Result<(), JetStreamError> {
        check_stream_name(stream)?;
        let request = DeleteRequest {
            seq: sequence,
            no_erase,
        };
        let reply: DeleteResponse = self
            .api_json(&format!("STREAM.MSG.DELETE.{stream}"), &request)
            .await?;
        confirm(reply.success, "message delete")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(value: &T) -> String {
        serde_json::to_string(value).expect("serializes")
    }

    #[test]
    fn selectors_send_the_server_field_names() {
        assert_eq!(json(&MessageSelector::sequence(5)), r#"{"seq":5}"#);
        assert_eq!(
            json(&MessageSelector::last_by_subject("a.b")),
            r#"{"last_by_subj":"a.b"}"#
        );
        assert_eq!(
            json(&MessageSelector::next_by_subject("a.*", 9)),
            r#"{"seq":9,"next_by_subj":"a.*"}"#
        );
        assert_eq!(
            json(&MessageSelector::next_by_subject("a.*", 0)),
            r#"{"next_by_subj":"a.*"}"#
        );
    }

    #[test]
    fn delete_erases_unless_told_not_to() {
        let keep = DeleteRequest {
            seq: 3,
            no_erase: true,
        };
        assert_eq!(json(&keep), r#"{"seq":3,"no_erase":true}"#);
        let erase = DeleteRequest {
            seq: 3,
            no_erase: false,
        };
        assert_eq!(json(&erase), r#"{"seq":3}"#);
    }
}
