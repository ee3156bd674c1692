//! JetStream's typed errors: the server's [`ApiError`] with its stable [`ErrorCode`], and one
//! error type per operation family: [`JetStreamError`] for the JSON API (account, streams,
//! consumers, stored messages), [`PublishError`] for acknowledged publishing,
//! [`ConsumeError`] for reading consumers and [`AckError`] for acknowledging.

use std::error::Error as StdError;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, RequestError, RequestErrorKind};

/// The stable key of a JetStream API error (`err_code`), as listed in nats-server's
/// `server/errors.json`. Match on these, never on the free-text description.
///
/// ```
/// use nats_core::jetstream::ErrorCode;
/// assert_eq!(ErrorCode::STREAM_NOT_FOUND.as_u16(), 10059);
/// assert!(ErrorCode::STREAM_WRONG_LAST_SEQUENCE_CONSTANT.is_wrong_last_sequence());
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct ErrorCode(u16);

impl ErrorCode {
    /// `10002`: resource limits exceeded for account.
    pub const ACCOUNT_RESOURCES_EXCEEDED: ErrorCode = ErrorCode(10002);
    /// `10003`: bad request.
    pub const BAD_REQUEST: ErrorCode = ErrorCode(10003);
    /// `10008`: JetStream system temporarily unavailable (no meta leader; retry).
    pub const CLUSTER_NOT_AVAILABLE: ErrorCode = ErrorCode(10008);
    /// `10013`: consumer name already in use.
    pub const CONSUMER_NAME_EXISTS: ErrorCode = ErrorCode(10013);
    /// `10014`: consumer not found.
    pub const CONSUMER_NOT_FOUND: ErrorCode = ErrorCode(10014);
    /// `10016`: a legacy durable create without a durable name in the config.
    pub const CONSUMER_DURABLE_NAME_NOT_IN_SUBJECT: ErrorCode = ErrorCode(10016);
    /// `10017`: the consumer name in the subject is not the durable name of the config.
    pub const CONSUMER_DURABLE_NAME_NOT_MATCH_SUBJECT: ErrorCode = ErrorCode(10017);
    /// `10023`: insufficient resources.
    pub const INSUFFICIENT_RESOURCES: ErrorCode = ErrorCode(10023);
    /// `10025`: invalid JSON; since nats-server 2.12 also an unknown field in a request.
    pub const INVALID_JSON: ErrorCode = ErrorCode(10025);
    /// `10026`: maximum consumers limit reached.
    pub const MAXIMUM_CONSUMERS_LIMIT: ErrorCode = ErrorCode(10026);
    /// `10027`: maximum number of streams reached.
    pub const MAXIMUM_STREAMS_LIMIT: ErrorCode = ErrorCode(10027);
    /// `10037`: no message found (a stored-message get found nothing).
    pub const NO_MESSAGE_FOUND: ErrorCode = ErrorCode(10037);
    /// `10039`: JetStream not enabled for account.
    pub const NOT_ENABLED_FOR_ACCOUNT: ErrorCode = ErrorCode(10039);
    /// `10043`: sequence not found (`sequence 99 not found`, deleting an absent message).
    pub const SEQUENCE_NOT_FOUND: ErrorCode = ErrorCode(10043);
    /// `10052`: invalid stream configuration (the description says why).
    pub const STREAM_INVALID_CONFIG: ErrorCode = ErrorCode(10052);
    /// `10054`: message size exceeds maximum allowed.
    pub const STREAM_MESSAGE_EXCEEDS_MAXIMUM: ErrorCode = ErrorCode(10054);
    /// `10056`: stream name in subject does not match request.
    pub const STREAM_MISMATCH: ErrorCode = ErrorCode(10056);
    /// `10058`: stream name already in use with a different configuration.
    pub const STREAM_NAME_IN_USE: ErrorCode = ErrorCode(10058);
    /// `10059`: stream not found.
    pub const STREAM_NOT_FOUND: ErrorCode = ErrorCode(10059);
    /// `10060`: expected stream does not match (`Nats-Expected-Stream`).
    pub const STREAM_NOT_MATCH: ErrorCode = ErrorCode(10060);
    /// `10065`: subjects overlap with an existing stream.
    pub const STREAM_SUBJECT_OVERLAP: ErrorCode = ErrorCode(10065);
    /// `10070`: wrong last msg ID (`Nats-Expected-Last-Msg-Id`).
    pub const STREAM_WRONG_LAST_MSG_ID: ErrorCode = ErrorCode(10070);
    /// `10071`: wrong last sequence (`Nats-Expected-Last-Sequence` and
    /// `Nats-Expected-Last-Subject-Sequence`); the description carries the actual sequence.
    pub const STREAM_WRONG_LAST_SEQUENCE: ErrorCode = ErrorCode(10071);
    /// `10076`: JetStream not enabled.
    pub const NOT_ENABLED: ErrorCode = ErrorCode(10076);
    /// `10077`: the stream could not store the message, e.g. `maximum bytes exceeded` under
    /// discard new; not worth retrying as is.
    pub const STREAM_STORE_FAILED: ErrorCode = ErrorCode(10077);
    /// `10105`: consumer already exists and is still active (a push consumer with a
    /// different deliver subject while its subscriber listens).
    pub const CONSUMER_EXISTING_ACTIVE: ErrorCode = ErrorCode(10105);
    /// `10108`: a push consumer with flow control also needs heartbeats.
    pub const CONSUMER_FLOW_CONTROL_NEEDS_HEARTBEATS: ErrorCode = ErrorCode(10108);
    /// `10109`: invalid operation on sealed stream.
    pub const STREAM_SEALED: ErrorCode = ErrorCode(10109);
    /// `10110`: purge failed.
    pub const STREAM_PURGE_FAILED: ErrorCode = ErrorCode(10110);
    /// `10111`: rollup failed (`Nats-Rollup` on a stream that does not allow it).
    pub const STREAM_ROLLUP_FAILED: ErrorCode = ErrorCode(10111);
    /// `10116`: `max_deliver` must exceed the number of `backoff` values.
    pub const CONSUMER_MAX_DELIVER_BACKOFF: ErrorCode = ErrorCode(10116);
    /// `10131`: the filter in the create subject is not the config's `filter_subject`.
    pub const CONSUMER_CREATE_FILTER_SUBJECT_MISMATCH: ErrorCode = ErrorCode(10131);
    /// `10132`: `durable_name` and `name` are both set and differ.
    pub const CONSUMER_CREATE_DURABLE_AND_NAME_MISMATCH: ErrorCode = ErrorCode(10132);
    /// `10136`: `filter_subject` and `filter_subjects` are both set.
    pub const CONSUMER_DUPLICATE_FILTER_SUBJECTS: ErrorCode = ErrorCode(10136);
    /// `10138`: the `filter_subjects` overlap.
    pub const CONSUMER_OVERLAPPING_SUBJECT_FILTERS: ErrorCode = ErrorCode(10138);
    /// `10148`: consumer already exists (create with a different configuration).
    pub const CONSUMER_ALREADY_EXISTS: ErrorCode = ErrorCode(10148);
    /// `10149`: consumer does not exist (update of an absent consumer).
    pub const CONSUMER_DOES_NOT_EXIST: ErrorCode = ErrorCode(10149);
    /// `10158`: duplicate message id is in process.
    pub const STREAM_DUPLICATE_MESSAGE_CONFLICT: ErrorCode = ErrorCode(10158);
    /// `10163`: expected last sequence per subject temporarily unavailable.
    pub const STREAM_EXPECTED_LAST_SEQ_PER_SUBJECT_NOT_READY: ErrorCode = ErrorCode(10163);
    /// `10164`: wrong last sequence, without the number: how replicated streams reject a
    /// conflicting compare-and-set write. The twin of [`Self::STREAM_WRONG_LAST_SEQUENCE`].
    pub const STREAM_WRONG_LAST_SEQUENCE_CONSTANT: ErrorCode = ErrorCode(10164);
    /// `10165`: invalid per-message TTL (`Nats-TTL`).
    pub const MESSAGE_TTL_INVALID: ErrorCode = ErrorCode(10165);
    /// `10166`: per-message TTL is disabled (the stream lacks `allow_msg_ttl`).
    pub const MESSAGE_TTL_DISABLED: ErrorCode = ErrorCode(10166);
    /// `10167`: too many requests: the stream's ingest queue is full; back off and retry.
    pub const STREAM_TOO_MANY_REQUESTS: ErrorCode = ErrorCode(10167);
    /// `10185`: JetStream minimum API level required (`Nats-Required-Api-Level`).
    pub const REQUIRED_API_LEVEL: ErrorCode = ErrorCode(10185);
    /// `10193`: `Nats-Expected-Last-Subject-Sequence-Subject` without the sequence header.
    pub const STREAM_EXPECTED_LAST_SEQ_PER_SUBJECT_INVALID: ErrorCode = ErrorCode(10193);

    /// A code from its number.
    pub const fn new(code: u16) -> Self {
        ErrorCode(code)
    }

    /// The number.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether this is "wrong last sequence" in either form: 10071, or 10164 from a
    /// replicated stream.
    pub const fn is_wrong_last_sequence(self) -> bool {
        self.0 == Self::STREAM_WRONG_LAST_SEQUENCE.0
            || self.0 == Self::STREAM_WRONG_LAST_SEQUENCE_CONSTANT.0
    }

    /// Whether JetStream is off for the account or the server (10039, 10076).
    pub const fn is_not_enabled(self) -> bool {
        self.0 == Self::NOT_ENABLED_FOR_ACCOUNT.0 || self.0 == Self::NOT_ENABLED.0
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An error the JetStream API answered with: `{"code": 404, "err_code": 10059,
/// "description": "stream not found"}`.
///
/// Every error of [`JetStreamError`] and [`PublishError`] that the server reported carries
/// one; see [`JetStreamError::api_error`]. A status reply without JSON (such as direct get's
/// `408 Bad Request`) is one with [`ErrorCode`] 0 and the status as `code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// HTTP-like status: 400, 404, 503, ...
    #[serde(default)]
    pub code: u16,
    /// The stable key to match on; 0 when the server gave none.
    #[serde(default)]
    pub err_code: ErrorCode,
    /// Free text, which may embed values (`wrong last sequence: 41`).
    #[serde(default)]
    pub description: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (err_code {}, code {})",
            self.description, self.err_code, self.code
        )
    }
}

impl StdError for ApiError {}

/// Failure of a JetStream API call: account info, stream management, stored messages.
///
/// ```
/// use nats_core::jetstream::{ErrorCode, JetStreamError, JetStreamErrorKind};
/// fn is_missing(err: &JetStreamError) -> bool {
///     err.kind() == JetStreamErrorKind::StreamNotFound
///         || err.error_code() == Some(ErrorCode::STREAM_NOT_FOUND)
/// }
/// ```
pub type JetStreamError = Error<JetStreamErrorKind>;

/// What went wrong with a JetStream API call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JetStreamErrorKind {
    /// JetStream does not answer: nobody serves the API subject (no responders: JetStream
    /// is off, or not reachable under this prefix or domain), or the server said it is not
    /// enabled for the account (10039, 10076).
    #[error("jetstream not enabled")]
    NotEnabled,
    /// A stream or consumer name that the server would refuse; the source names it.
    /// Nothing was sent.
    #[error("invalid stream or consumer name")]
    InvalidName,
    /// A request that cannot be valid, such as a purge with both `keep` and `sequence`.
    /// Nothing was sent.
    #[error("invalid request")]
    InvalidRequest,
    /// The stream does not exist (10059).
    #[error("stream not found")]
    StreamNotFound,
    /// A stream of that name exists with a different configuration (10058).
    #[error("stream name already in use")]
    StreamNameInUse,
    /// The consumer does not exist (10014; also 10149, an update of an absent consumer).
    #[error("consumer not found")]
    ConsumerNotFound,
    /// A consumer of that name exists with a different configuration (10148, a create that
    /// is not an update; 10013, the name is in use; 10105, a push consumer still bound).
    #[error("consumer already exists")]
    ConsumerAlreadyExists,
    /// The server does not support what the request asked for, such as `filter_subjects`
    /// before 2.10 (the consumer was created without them) or pausing before 2.11.
    #[error("not supported by the server")]
    Unsupported,
    /// No stored message matches (10037; 10043 when deleting a sequence the stream does not
    /// hold; direct get's `404` status).
    #[error("message not found")]
    MessageNotFound,
    /// A direct get had no responders: the stream does not exist, does not have
    /// `allow_direct`, or JetStream is off.
    #[error("direct get unavailable")]
    DirectGetUnavailable,
    /// Any other error the server answered with; see [`JetStreamError::api_error`].
    #[error("jetstream api error")]
    Api,
    /// No answer within the context's timeout.
    #[error("jetstream request timed out")]
    TimedOut,
    /// The request could not be sent, or the connection closed (the source says which).
    #[error("jetstream request failed")]
    Request,
    /// The answer is not what the API promises (malformed JSON, missing fields).
    #[error("invalid jetstream response")]
    InvalidResponse,
}

impl JetStreamError {
    /// The server's error, when the server reported one.
    pub fn api_error(&self) -> Option<&ApiError> {
        StdError::source(self)?.downcast_ref::<ApiError>()
    }

    /// The server's `err_code`, when the server reported an error.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.api_error().map(|e| e.err_code)
    }

    /// The error for a server-reported `error`, with the kind its code names.
    pub(crate) fn from_api(error: ApiError) -> Self {
        let kind = match error.err_code {
            ErrorCode::STREAM_NOT_FOUND => JetStreamErrorKind::StreamNotFound,
            ErrorCode::STREAM_NAME_IN_USE => JetStreamErrorKind::StreamNameInUse,
            ErrorCode::CONSUMER_NOT_FOUND | ErrorCode::CONSUMER_DOES_NOT_EXIST => {
                JetStreamErrorKind::ConsumerNotFound
            }
            ErrorCode::CONSUMER_ALREADY_EXISTS
            | ErrorCode::CONSUMER_NAME_EXISTS
            | ErrorCode::CONSUMER_EXISTING_ACTIVE => JetStreamErrorKind::ConsumerAlreadyExists,
            ErrorCode::NO_MESSAGE_FOUND | ErrorCode::SEQUENCE_NOT_FOUND => {
                JetStreamErrorKind::MessageNotFound
            }
            code if code.is_not_enabled() => JetStreamErrorKind::NotEnabled,
            _ => JetStreamErrorKind::Api,
        };
        Error::with_source(kind, error)
    }

    /// The error of a reply that does not parse as what was expected.
    pub(crate) fn invalid_response(source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Error::with_source(JetStreamErrorKind::InvalidResponse, source)
    }

    /// The error of a failed request to the API: no responders means JetStream is off.
    pub(crate) fn from_request(err: RequestError) -> Self {
        match err.kind() {
            RequestErrorKind::NoResponders => Error::new(JetStreamErrorKind::NotEnabled),
            RequestErrorKind::TimedOut => Error::new(JetStreamErrorKind::TimedOut),
            _ => Error::with_source(JetStreamErrorKind::Request, err),
        }
    }
}

/// Failure of an acknowledged JetStream publish.
///
/// ```
/// use nats_core::jetstream::{PublishError, PublishErrorKind};
/// fn should_resend(err: &PublishError) -> bool {
///     // A timeout does not mean the message was not stored: resend with the same msg id.
///     matches!(err.kind(), PublishErrorKind::TimedOut)
/// }
/// ```
pub type PublishError = Error<PublishErrorKind>;

/// What went wrong with an acknowledged publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PublishErrorKind {
    /// No stream listens on the subject: no responders, still after the retries, while
    /// JetStream answers on the API.
    #[error("no stream for the subject")]
    NoStream,
    /// No responders, and JetStream does not answer on its API either: it is off.
    #[error("jetstream not enabled")]
    NotEnabled,
    /// `Nats-Expected-Last-Sequence` or `Nats-Expected-Last-Subject-Sequence` did not hold
    /// (10071, or 10164 from a replicated stream).
    #[error("wrong last sequence")]
    WrongLastSequence,
    /// `Nats-Expected-Last-Msg-Id` did not hold (10070).
    #[error("wrong last message id")]
    WrongLastMessageId,
    /// `Nats-Expected-Stream` did not hold: the subject belongs to another stream (10060).
    #[error("stream does not match the expected stream")]
    StreamMismatch,
    /// Any other error the stream answered with (TTL disabled, too many requests, storage
    /// failed, ...); see [`PublishError::api_error`].
    #[error("jetstream publish error")]
    Api,
    /// No acknowledgement within the timeout. The message may still have been stored:
    /// resend it with the same message id to be safe.
    #[error("publish acknowledgement timed out")]
    TimedOut,
    /// The message could not be sent (invalid subject or headers, too large); the source is
    /// the core [`crate::PublishError`] or [`crate::RequestError`].
    #[error("message could not be published")]
    Publish,
    /// The connection closed before the acknowledgement arrived.
    #[error("connection closed")]
    Closed,
    /// The acknowledgement is not a PubAck (malformed JSON, missing fields).
    #[error("invalid publish acknowledgement")]
    InvalidResponse,
}

impl PublishError {
    /// The server's error, when the stream reported one.
    pub fn api_error(&self) -> Option<&ApiError> {
        StdError::source(self)?.downcast_ref::<ApiError>()
    }

    /// The server's `err_code`, when the stream reported an error.
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.api_error().map(|e| e.err_code)
    }

    /// The error for a PubAck that carries an `error`, with the kind its code names.
    pub(crate) fn from_api(error: ApiError) -> Self {
        let kind = match error.err_code {
            code if code.is_wrong_last_sequence() => PublishErrorKind::WrongLastSequence,
            ErrorCode::STREAM_WRONG_LAST_MSG_ID => PublishErrorKind::WrongLastMessageId,
            ErrorCode::STREAM_NOT_MATCH => PublishErrorKind::StreamMismatch,
            code if code.is_not_enabled() => PublishErrorKind::NotEnabled,
            _ => PublishErrorKind::Api,
        };
        Error::with_source(kind, error)
    }

    /// The error of a request that failed before an acknowledgement could arrive.
    pub(crate) fn from_request(err: RequestError) -> Self {
        match err.kind() {
            RequestErrorKind::TimedOut => Error::new(PublishErrorKind::TimedOut),
            RequestErrorKind::Closed => Error::new(PublishErrorKind::Closed),
            RequestErrorKind::NoResponders => Error::new(PublishErrorKind::NoStream),
            _ => Error::with_source(PublishErrorKind::Publish, err),
        }
    }
}

/// Failure to acknowledge a JetStream message, or to read its metadata.
///
/// ```
/// use nats_core::jetstream::{AckError, AckErrorKind};
/// fn harmless(err: &AckError) -> bool {
///     // Acknowledging twice is refused without sending anything.
///     err.kind() == AckErrorKind::AlreadyAcknowledged
/// }
/// ```
pub type AckError = Error<AckErrorKind>;

/// What went wrong with an acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AckErrorKind {
    /// The message is not a JetStream message: it has no reply subject, or the reply is not
    /// a `$JS.ACK` subject of either form (the source is the
    /// [`MessageInfoError`](super::MessageInfoError)).
    #[error("not a jetstream message")]
    NotJetStream,
    /// The message was acknowledged, nak'ed or terminated before: nothing was sent.
    #[error("message already acknowledged")]
    AlreadyAcknowledged,
    /// The acknowledgement could not be sent (closed client, connection trouble); the
    /// source is the core [`PublishError`](crate::PublishError) or
    /// [`RequestError`](crate::RequestError).
    #[error("acknowledgement could not be sent")]
    Publish,
    /// A double ack got no confirmation within the context's timeout: the outcome is
    /// unknown (the server does not answer acks of sequences it did not deliver).
    #[error("acknowledgement not confirmed in time")]
    TimedOut,
    /// Nobody answered the double ack: the consumer is gone.
    #[error("no responders for the acknowledgement")]
    NoResponders,
}

impl AckError {
    /// The error of a failed double-ack request.
    pub(crate) fn from_request(err: RequestError) -> Self {
        match err.kind() {
            RequestErrorKind::TimedOut => Error::new(AckErrorKind::TimedOut),
            RequestErrorKind::NoResponders => Error::new(AckErrorKind::NoResponders),
            _ => Error::with_source(AckErrorKind::Publish, err),
        }
    }
}

/// Failure to consume messages: a fetch, a `messages()` stream, an ordered or a push
/// consumer. Every error a stream yields ends it.
///
/// ```
/// use nats_core::jetstream::{ConsumeError, ConsumeErrorKind};
/// fn gone(err: &ConsumeError) -> bool {
///     matches!(err.kind(), ConsumeErrorKind::ConsumerDeleted | ConsumeErrorKind::PushBased)
/// }
/// ```
pub type ConsumeError = Error<ConsumeErrorKind>;

/// What went wrong while consuming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumeErrorKind {
    /// The consumer (or its stream) was deleted: `409 Consumer Deleted`, or its info says
    /// it is not found after nobody answered a pull or its heartbeats stopped.
    #[error("consumer deleted")]
    ConsumerDeleted,
    /// The consumer is a push consumer: `409 Consumer is push based`.
    #[error("consumer is push based")]
    PushBased,
    /// The server refused the request as malformed: `400 Bad Request - ...` (the source
    /// has the description).
    #[error("bad pull request")]
    BadRequest,
    /// The consumer refuses requests like this one whatever their timing: `409 Exceeded
    /// MaxRequestBatch/MaxRequestExpires/MaxRequestMaxBytes of ...` (the consumer's
    /// `max_batch`, `max_expires`, `max_bytes`), `409 Exceeded MaxWaiting` for a fetch,
    /// `412 Required Api Level`. The source has the description.
    #[error("pull request rejected")]
    RequestRejected,
    /// A message is larger than the `max_bytes` a whole request may carry: it can never be
    /// delivered with these options.
    #[error("message larger than max_bytes")]
    MessageTooLarge,
    /// A fetch missed two idle heartbeats in a row.
    #[error("missed idle heartbeats")]
    NoHeartbeat,
    /// A fetch did not end within its expiry plus the context's timeout (and the
    /// consumer still exists).
    #[error("pull request timed out")]
    TimedOut,
    /// Nobody answered the pull request (`503`) and the consumer's info could not be read
    /// either: JetStream is unavailable.
    #[error("no responders for the pull request")]
    NoResponders,
    /// The client was closed.
    #[error("connection closed")]
    Closed,
    /// The inbox could not be subscribed to; the source is the core
    /// [`SubscribeError`](crate::SubscribeError).
    #[error("could not subscribe")]
    Subscribe,
    /// A pull request or flow control reply could not be published; the source is the
    /// core [`PublishError`](crate::PublishError).
    #[error("could not publish")]
    Publish,
    /// Options that cannot work, such as a heartbeat longer than half the expiry or a batch
    /// of 0. Nothing was sent.
    #[error("invalid consume options")]
    InvalidOptions,
    /// A JetStream API call failed (creating an ordered consumer, reading a consumer's
    /// info); the source is the [`JetStreamError`].
    #[error("jetstream api call failed")]
    Api,
    /// A message the client cannot read as the server promises (an ordered consumer's
    /// message without a valid ack subject).
    #[error("invalid message from the server")]
    InvalidMessage,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Error bodies captured from nats-server 2.15.1 (the 10164 one has the shape of 10071).
    const STREAM_NOT_FOUND: &str = r#"{"type":"io.nats.jetstream.api.v1.stream_info_response","error":{"code":404,"err_code":10059,"description":"stream not found"},"total":0,"offset":0,"limit":0}"#;
    const WRONG_LAST_SEQUENCE: &str = r#"{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 1"},"stream":"P","seq":0}"#;
    const SEQUENCE_NOT_FOUND: &str = r#"{"type":"io.nats.jetstream.api.v1.stream_msg_delete_response","error":{"code":400,"err_code":10043,"description":"sequence 99 not found"}}"#;
    const STRICT_UNKNOWN_FIELD: &str = r#"{"type":"io.nats.jetstream.api.v1.stream_create_response","error":{"code":400,"err_code":10025,"description":"invalid JSON: json: unknown field \"bogus_field\""}}"#;
    const WRONG_LAST_SEQUENCE_R3: &str = r#"{"error":{"code":400,"err_code":10164,"description":"wrong last sequence"},"stream":"ORDERS","seq":0}"#;

    #[derive(Deserialize)]
    struct Envelope {
        error: ApiError,
    }

    fn api_error(json: &str) -> ApiError {
        serde_json::from_str::<Envelope>(json)
            .expect("fixture parses")
            .error
    }

    #[test]
    fn a_server_error_keeps_code_err_code_and_description() {
        let error = api_error(STREAM_NOT_FOUND);
        assert_eq!(error.code, 404);
        assert_eq!(error.err_code, ErrorCode::STREAM_NOT_FOUND);
        assert_eq!(error.description, "stream not found");
        let err = JetStreamError::from_api(error.clone());
        assert_eq!(err.kind(), JetStreamErrorKind::StreamNotFound);
        assert_eq!(err.api_error(), Some(&error));
        assert_eq!(err.error_code(), Some(ErrorCode::STREAM_NOT_FOUND));
        assert_eq!(
            err.to_string(),
            "stream not found: stream not found (err_code 10059, code 404)"
        );
    }

    #[test]
    fn captured_errors_keep_their_codes() {
        let err = JetStreamError::from_api(api_error(SEQUENCE_NOT_FOUND));
        assert_eq!(err.kind(), JetStreamErrorKind::MessageNotFound);
        assert_eq!(err.error_code(), Some(ErrorCode::SEQUENCE_NOT_FOUND));
        let err = JetStreamError::from_api(api_error(STRICT_UNKNOWN_FIELD));
        assert_eq!(err.kind(), JetStreamErrorKind::Api);
        assert_eq!(err.error_code(), Some(ErrorCode::INVALID_JSON));
        assert!(err.to_string().contains("bogus_field"), "{err}");
    }

    #[test]
    fn both_wrong_last_sequence_codes_are_one_kind() {
        for json in [WRONG_LAST_SEQUENCE, WRONG_LAST_SEQUENCE_R3] {
            let err = PublishError::from_api(api_error(json));
            assert_eq!(err.kind(), PublishErrorKind::WrongLastSequence);
        }
        let err = PublishError::from_api(api_error(WRONG_LAST_SEQUENCE));
        assert_eq!(
            err.api_error().map(|e| e.description.as_str()),
            Some("wrong last sequence: 1")
        );
    }

    #[test]
    fn codes_name_their_kinds() {
        let with = |code: u16| ApiError {
            code: 400,
            err_code: ErrorCode::new(code),
            description: String::new(),
        };
        let kind = |code| JetStreamError::from_api(with(code)).kind();
        assert_eq!(kind(10058), JetStreamErrorKind::StreamNameInUse);
        assert_eq!(kind(10037), JetStreamErrorKind::MessageNotFound);
        assert_eq!(kind(10039), JetStreamErrorKind::NotEnabled);
        assert_eq!(kind(10076), JetStreamErrorKind::NotEnabled);
        assert_eq!(kind(10065), JetStreamErrorKind::Api);
        assert_eq!(kind(10014), JetStreamErrorKind::ConsumerNotFound);
        assert_eq!(kind(10149), JetStreamErrorKind::ConsumerNotFound);
        assert_eq!(kind(10148), JetStreamErrorKind::ConsumerAlreadyExists);
        assert_eq!(kind(10013), JetStreamErrorKind::ConsumerAlreadyExists);
        assert_eq!(kind(10131), JetStreamErrorKind::Api);
        let kind = |code| PublishError::from_api(with(code)).kind();
        assert_eq!(kind(10070), PublishErrorKind::WrongLastMessageId);
        assert_eq!(kind(10060), PublishErrorKind::StreamMismatch);
        assert_eq!(kind(10166), PublishErrorKind::Api);
    }

    #[test]
    fn an_error_without_err_code_still_parses() {
        let error = api_error(r#"{"error":{"code":503,"description":"old server"}}"#);
        assert_eq!(error.err_code, ErrorCode::default());
        assert_eq!(error.code, 503);
    }

    #[test]
    fn request_failures_map_to_their_kinds() {
        let err = JetStreamError::from_request(RequestErrorKind::NoResponders.into());
        assert_eq!(err.kind(), JetStreamErrorKind::NotEnabled);
        let err = JetStreamError::from_request(RequestErrorKind::TimedOut.into());
        assert_eq!(err.kind(), JetStreamErrorKind::TimedOut);
        assert_eq!(err.api_error(), None);
        let err = PublishError::from_request(RequestErrorKind::Closed.into());
        assert_eq!(err.kind(), PublishErrorKind::Closed);
    }
}
