//! [`MessageInfo`]: what the ack reply subject of a delivered message says about it.
//!
//! Two forms exist (nats-server `consumer.go`, ADR-15, ADR-53):
//!
//! - v1, exactly 9 tokens: `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer
//!   seq>.<timestamp>.<pending>`;
//! - v2, 11 tokens or more (behind the server's `js_ack_fc_v2` flag, 2.14):
//!   `$JS.ACK.<domain>.<account hash>.<stream>.<consumer>.<delivered>.<stream seq>.<consumer
//!   seq>.<timestamp>.<pending>`, domain `_` for none; tokens past the 11th are ignored
//!   (the server reserves them for extensions).
//!
//! Ten tokens, empty tokens, numbers that are not plain decimal and timestamps out of range
//! are refused with a [`MessageInfoError`]; nothing here panics on hostile input.

use time::OffsetDateTime;

use crate::decimal;

/// What the ack reply subject says about a delivered message. Borrows the subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageInfo<'a> {
    /// The JetStream domain, in the v2 form when there is one (`_` reads as `None`).
    pub domain: Option<&'a str>,
    /// The account hash, in the v2 form.
    pub account_hash: Option<&'a str>,
    /// The stream.
    pub stream: &'a str,
    /// The consumer.
    pub consumer: &'a str,
    /// How often this message was delivered, this time included (1 the first time).
    pub delivered: u64,
    /// The message's sequence in the stream.
    pub stream_sequence: u64,
    /// The consumer's delivery sequence (it counts redeliveries too).
    pub consumer_sequence: u64,
    /// When the message was stored.
    pub timestamp: OffsetDateTime,
    /// Messages of the consumer still to deliver after this one.
    pub pending: u64,
}

/// Why a subject is not the ack reply subject of a JetStream message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageInfoError {
    /// The message has no reply subject.
    #[error("the message has no reply subject")]
    NoReply,
    /// The reply subject does not start with `$JS.ACK.`.
    #[error("reply subject {0:?} is not a jetstream ack subject")]
    NotAckSubject(String),
    /// It has a number of tokens that is neither 9 nor 11 or more.
    #[error("ack subject {subject:?} has {tokens} tokens, not 9 or at least 11")]
    TokenCount {
        /// The subject.
        subject: String,
        /// Its number of tokens.
        tokens: usize,
    },
    /// A token is empty, or a number is not one.
    #[error("ack subject {0:?} has an invalid token")]
    InvalidToken(String),
}

const V1_TOKENS: usize = 9;
const V2_TOKENS: usize = 11;

impl<'a> MessageInfo<'a> {
    /// Reads an ack reply subject.
    ///
    /// ```
    /// use nats_core::jetstream::MessageInfo;
    /// let info = MessageInfo::parse("$JS.ACK.ORDERS.worker.1.42.40.1700000000000000000.3").unwrap();
    /// assert_eq!((info.stream, info.consumer), ("ORDERS", "worker"));
    /// assert_eq!((info.stream_sequence, info.consumer_sequence, info.pending), (42, 40, 3));
    /// assert_eq!(info.domain, None);
    /// let v2 = MessageInfo::parse("$JS.ACK.hub.ACCHASH.ORDERS.worker.2.42.41.1700000000000000000.0").unwrap();
    /// assert_eq!((v2.domain, v2.delivered), (Some("hub"), 2));
    /// ```
    ///
    /// # Errors
    /// A [`MessageInfoError`] for anything that is not an ack subject of either form.
    pub fn parse(subject: &'a str) -> Result<Self, MessageInfoError> {
        let Some(rest) = subject.strip_prefix("$JS.ACK.") else {
            return Err(MessageInfoError::NotAckSubject(subject.to_owned()));
        };
        // The tokens after `$JS.ACK`: 7 (v1) or at least 9 (v2), of which 9 are read.
        let mut tokens = [""; V2_TOKENS - 2];
        let mut count = 0;
        let mut start = 0;
        // One pass over the bytes. Dots are ASCII, so every slice between two of them is on
        // character boundaries.
        for (end, byte) in rest.bytes().enumerate() {
            if byte == b'.' {
                if let Some(slot) = tokens.get_mut(count) {
                    *slot = rest.get(start..end).unwrap_or_default();
                }
                count += 1;
                start = end + 1;
            }
        }
        if let Some(slot) = tokens.get_mut(count) {
            *slot = rest.get(start..).unwrap_or_default();
        }
        count += 1;
        let total = count + 2;
        let (domain, account_hash, fields) = match total {
            V1_TOKENS => (None, None, &tokens[..7]),
            n if n >= V2_TOKENS => {
                let domain = Some(tokens[0]).filter(|d| *d != "_");
                (domain, Some(tokens[1]), &tokens[2..9])
            }
            tokens => {
                return Err(MessageInfoError::TokenCount {
                    subject: subject.to_owned(),
                    tokens,
                })
            }
        };
        let invalid = || MessageInfoError::InvalidToken(subject.to_owned());
        if tokens[..count.min(tokens.len())]
            .iter()
            .any(|t| t.is_empty())
        {
            return Err(invalid());
        }
        let number = |token: &str| decimal::parse_u64(token.as_bytes()).ok_or_else(invalid);
        let nanos = i128::from(number(fields[5])?);
        let timestamp = OffsetDateTime::from_unix_timestamp_nanos(nanos).map_err(|_| invalid())?;
        Ok(MessageInfo {
            domain,
            account_hash,
            stream: fields[0],
            consumer: fields[1],
            delivered: number(fields[2])?,
            stream_sequence: number(fields[3])?,
            consumer_sequence: number(fields[4])?,
            timestamp,
            pending: number(fields[6])?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1: &str = "$JS.ACK.ORDERS.worker.3.42.40.1700000000123456789.7";
    const V2: &str = "$JS.ACK._.ACCHASH.ORDERS.worker.3.42.40.1700000000123456789.7";

    #[test]
    fn both_forms_read_the_same_fields() {
        for subject in [V1, V2] {
            let info = MessageInfo::parse(subject).expect(subject);
            assert_eq!(info.stream, "ORDERS");
            assert_eq!(info.consumer, "worker");
            assert_eq!(info.delivered, 3);
            assert_eq!(info.stream_sequence, 42);
            assert_eq!(info.consumer_sequence, 40);
            assert_eq!(info.pending, 7);
            assert_eq!(info.timestamp.unix_timestamp(), 1_700_000_000);
            assert_eq!(info.timestamp.nanosecond(), 123_456_789);
            assert_eq!(info.domain, None, "v1 has none, v2 says _");
        }
        let v2 = MessageInfo::parse(V2).expect("v2");
        assert_eq!(v2.account_hash, Some("ACCHASH"));
        assert_eq!(MessageInfo::parse(V1).expect("v1").account_hash, None);
    }

    #[test]
    fn a_domain_and_extra_tokens_are_read_and_ignored() {
        let info = MessageInfo::parse("$JS.ACK.hub.H.S.C.1.2.3.0.0").expect("11 tokens");
        assert_eq!(info.domain, Some("hub"));
        let longer = MessageInfo::parse("$JS.ACK.hub.H.S.C.1.2.3.0.0.random.more").expect("13");
        assert_eq!(longer, info);
        let empty_tail = MessageInfo::parse("$JS.ACK.hub.H.S.C.1.2.3.0.0..").expect("tail");
        assert_eq!(empty_tail, info, "the tail is not read");
        assert_eq!(info.timestamp, OffsetDateTime::UNIX_EPOCH);
    }

    #[test]
    fn hostile_subjects_are_errors() {
        let count = |s: &str| match MessageInfo::parse(s) {
            Err(MessageInfoError::TokenCount { tokens, .. }) => tokens,
            other => panic!("{s}: {other:?}"),
        };
        assert_eq!(count("$JS.ACK.S.C.1.2.3.4"), 8);
        assert_eq!(count("$JS.ACK.D.S.C.1.2.3.4.5"), 10);
        assert_eq!(count("$JS.ACK.x"), 3);
        for subject in [
            "_INBOX.abc",
            "$JS.FC.S.C.x",
            "$JS.ACKS.C.1.2.3.4.5.6",
            "",
            "$JS.ACK",
        ] {
            assert!(
                matches!(
                    MessageInfo::parse(subject),
                    Err(MessageInfoError::NotAckSubject(_))
                ),
                "{subject}"
            );
        }
        for subject in [
            "$JS.ACK.S.C.x.2.3.4.5",
            "$JS.ACK.S.C.1.-2.3.4.5",
            "$JS.ACK.S.C.1.+2.3.4.5",
            "$JS.ACK.S.C.1.2.3.4. 5",
            "$JS.ACK.S.C.1.2.3.4.",
            "$JS.ACK..C.1.2.3.4.5",
            "$JS.ACK.S.C.1.2.99999999999999999999.4.5",
            "$JS.ACK.D..S.C.1.2.3.4.5",
            "$JS.ACK.S.C.1.2.3.٣.5",
        ] {
            assert!(
                matches!(
                    MessageInfo::parse(subject),
                    Err(MessageInfoError::InvalidToken(_))
                ),
                "{subject}: {:?}",
                MessageInfo::parse(subject)
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_subject_parses_or_errs_without_panicking(subject in "\\PC{0,80}") {
            let _ = MessageInfo::parse(&subject);
        }

        #[test]
        fn ack_shaped_subjects_round_trip_their_numbers(
            tokens in proptest::collection::vec("[0-9A-Za-z_]{0,6}", 0..14),
            numbers in proptest::collection::vec(proptest::prelude::any::<u64>(), 5),
        ) {
            let subject = format!("$JS.ACK.{}", tokens.join("."));
            let _ = MessageInfo::parse(&subject);
            let v1 = format!(
                "$JS.ACK.S.C.{}.{}.{}.{}.{}",
                numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]
            );
            let info = MessageInfo::parse(&v1).expect("a v1 subject");
            proptest::prop_assert_eq!(info.delivered, numbers[0]);
            proptest::prop_assert_eq!(info.stream_sequence, numbers[1]);
            proptest::prop_assert_eq!(info.consumer_sequence, numbers[2]);
            proptest::prop_assert_eq!(info.pending, numbers[4]);
        }
    }

    #[test]
    fn errors_name_the_subject() {
        let err = MessageInfo::parse("$JS.ACK.D.S.C.1.2.3.4.5").expect_err("10 tokens");
        assert!(err.to_string().contains("10 tokens"), "{err}");
        assert!(err.to_string().contains("$JS.ACK.D.S.C"), "{err}");
    }
}
