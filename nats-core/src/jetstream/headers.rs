//! The names of the headers JetStream reads and writes (nats-server `server/stream.go`).

/// Deduplication id of a published message, remembered for the stream's duplicate window.
pub const NATS_MSG_ID: &str = "Nats-Msg-Id";
/// Store only if the subject belongs to this stream (else 10060).
pub const NATS_EXPECTED_STREAM: &str = "Nats-Expected-Stream";
/// Store only if the stream's last sequence is this (else 10071).
pub const NATS_EXPECTED_LAST_SEQUENCE: &str = "Nats-Expected-Last-Sequence";
/// Store only if the last sequence on the message's subject is this; `0` means no message
/// on it (else 10071, or 10164 on a replicated stream).
pub const NATS_EXPECTED_LAST_SUBJECT_SEQUENCE: &str = "Nats-Expected-Last-Subject-Sequence";
/// The subject (wildcards allowed) [`NATS_EXPECTED_LAST_SUBJECT_SEQUENCE`] checks instead
/// of the message's own (2.11).
pub const NATS_EXPECTED_LAST_SUBJECT_SEQUENCE_SUBJECT: &str =
    "Nats-Expected-Last-Subject-Sequence-Subject";
/// Store only if the `Nats-Msg-Id` of the stream's last message is this (else 10070).
pub const NATS_EXPECTED_LAST_MSG_ID: &str = "Nats-Expected-Last-Msg-Id";
/// Per-message TTL: a Go duration (`90s`), whole seconds, or `never` (2.11, needs
/// `allow_msg_ttl`).
pub const NATS_TTL: &str = "Nats-TTL";
/// Purge the message's subject (`sub`) or the stream (`all`) when storing it.
pub const NATS_ROLLUP: &str = "Nats-Rollup";
/// The stream of a direct get reply.
pub const NATS_STREAM: &str = "Nats-Stream";
/// The stored message's sequence in a direct get reply.
pub const NATS_SEQUENCE: &str = "Nats-Sequence";
/// The stored message's time in a direct get reply (RFC 3339, nanoseconds, UTC).
pub const NATS_TIME_STAMP: &str = "Nats-Time-Stamp";
/// The stored message's subject in a direct get reply.
pub const NATS_SUBJECT: &str = "Nats-Subject";
