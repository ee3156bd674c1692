//! Subjects: the cheap, zero-copy [`Subject`] string and the validation rules of the protocol.

use std::fmt;
use std::ops::Deref;

use bytes::Bytes;
use bytestring::ByteString;

use crate::word_scan::{has_control, lanes_equal, word_at};

/// A NATS subject: a cheaply cloneable UTF-8 string that shares the read buffer it came from.
///
/// ```
/// use nats_core::Subject;
/// let subject = Subject::from("orders.eu.created");
/// assert_eq!(subject.tokens().count(), 3);
/// assert_eq!(&*subject, "orders.eu.created");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subject(ByteString);

impl Subject {
    /// Builds a subject from a `'static` string without copying it.
    pub const fn from_static(s: &'static str) -> Self {
        Subject(ByteString::from_static(s))
    }

    /// Takes a byte buffer that must hold UTF-8 (as subjects from the server do); `None` if not.
    pub(crate) fn from_utf8(bytes: Bytes) -> Option<Self> {
        ByteString::try_from(bytes).ok().map(Subject)
    }

    /// The subject as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The dot-separated tokens of the subject.
    pub fn tokens(&self) -> std::str::Split<'_, char> {
        self.0.split('.')
    }
}

impl Deref for Subject {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Subject {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl From<&str> for Subject {
    fn from(s: &str) -> Self {
        Subject(ByteString::from(s))
    }
}

impl From<String> for Subject {
    fn from(s: String) -> Self {
        Subject(ByteString::from(s))
    }
}

impl From<&String> for Subject {
    fn from(s: &String) -> Self {
        Subject(ByteString::from(s.as_str()))
    }
}

impl PartialEq<str> for Subject {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Subject {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// What is wrong with a subject, found before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubjectError {
    /// The subject is the empty string.
    #[error("subject is empty")]
    Empty,
    /// A token between dots is empty (`a..b`, `.a`, `a.`).
    #[error("subject has an empty token")]
    EmptyToken,
    /// The subject holds a space, tab, CR or LF, which would break the protocol line.
    #[error("subject contains whitespace")]
    Whitespace,
    /// A publish subject holds the wildcard `*` or `>` as a token.
    #[error("wildcards are not allowed in a publish subject")]
    Wildcard,
    /// `>` is not the last token of a subscription subject.
    #[error("'>' must be the last token")]
    MisplacedWildcard,
    /// A queue group name is empty or holds whitespace.
    #[error("queue group must be non-empty and without whitespace")]
    InvalidQueueGroup,
}

/// Checks a subject to publish to: non-empty tokens, no whitespace, no wildcard tokens.
///
/// # Errors
/// The [`SubjectError`] that names what is wrong.
pub fn validate_publish_subject(subject: &str) -> Result<(), SubjectError> {
    if plain_tokens(subject.as_bytes()) {
        return Ok(());
    }
    check_tokens(subject, |token, _last| match token {
        b"*" | b">" => Err(SubjectError::Wildcard),
        _ => Ok(()),
    })
}

/// Checks a subject to subscribe to: like a publish subject, but `*` may stand for a token and
/// `>` for the remaining tokens.
///
/// # Errors
/// The [`SubjectError`] that names what is wrong.
pub fn validate_subscribe_subject(subject: &str) -> Result<(), SubjectError> {
    if plain_tokens(subject.as_bytes()) {
        return Ok(());
    }
    check_tokens(subject, |token, last| match token {
        b">" if !last => Err(SubjectError::MisplacedWildcard),
        _ => Ok(()),
    })
}

/// Checks a queue group name: non-empty and without whitespace.
///
/// # Errors
/// [`SubjectError::InvalidQueueGroup`].
pub fn validate_queue_group(queue: &str) -> Result<(), SubjectError> {
    if queue.is_empty() || queue.bytes().any(is_whitespace) {
        return Err(SubjectError::InvalidQueueGroup);
    }
    Ok(())
}

/// Whether `subject` (a literal subject) is matched by `pattern` (which may hold wildcards).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut literal = subject.split('.');
    for token in pattern.split('.') {
        match (token, literal.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (t, Some(l)) if t == l => {}
            _ => return false,
        }
    }
    literal.next().is_none()
}

/// The common case, decided eight bytes at a time: a non-empty subject of non-empty tokens
/// with no byte below `0x21` and no `*` or `>`. Anything else takes the full check, which
/// names what is wrong (or accepts wildcards where they may stand).
fn plain_tokens(bytes: &[u8]) -> bool {
    let len = bytes.len();
    if len < 8 {
        return !bytes.is_empty() && short_plain_tokens(bytes);
    }
    if bytes[0] == b'.' || bytes[len - 1] == b'.' {
        return false;
    }
    let mut dot_before = 0;
    let mut start = 0;
    while start + 8 <= len {
        let (plain, last_dot) = plain_word(word_at(bytes, start, b'a'), dot_before);
        if !plain {
            return false;
        }
        dot_before = last_dot;
        start += 8;
    }
    // The last bytes, as a word overlapping the previous one: it holds the pair of bytes
    // across the boundary, so it needs no dot carried in.
    start == len || plain_word(word_at(bytes, len - 8, b'a'), 0).0
}

/// Whether the eight bytes of `word` (read little-endian: the next byte is the next lane up)
/// are plain, given whether the byte before them was a dot (`0x80` if so); and whether the
/// last of them is a dot, in the same form.
fn plain_word(word: u64, dot_before: u64) -> (bool, u64) {
    let dots = lanes_equal(word, b'.');
    let wildcards = lanes_equal(word, b'*') | lanes_equal(word, b'>');
    let empty_tokens = dots & ((dots << 8) | dot_before);
    let plain = !has_control(word) && wildcards | empty_tokens == 0;
    (plain, dots >> 56)
}

/// [`plain_tokens`] for fewer than eight bytes, one at a time.
fn short_plain_tokens(bytes: &[u8]) -> bool {
    let mut after_dot = true;
    for &b in bytes {
        match b {
            b'.' if after_dot => return false,
            b'.' => after_dot = true,
            b'*' | b'>' | 0..=0x20 => return false,
            _ => after_dot = false,
        }
    }
    !after_dot
}

/// Walks `subject` once, rejecting whitespace and empty tokens, and hands every token (with
/// whether it is the last) to `check`. Publishing validates each subject, so this is on the
/// hot path: one pass, no allocation.
fn check_tokens(
    subject: &str,
    check: impl Fn(&[u8], bool) -> Result<(), SubjectError>,
) -> Result<(), SubjectError> {
    let bytes = subject.as_bytes();
    if bytes.is_empty() {
        return Err(SubjectError::Empty);
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_whitespace(b) {
            return Err(SubjectError::Whitespace);
        }
        if b == b'.' {
            if i == start {
                return Err(SubjectError::EmptyToken);
            }
            check(&bytes[start..i], false)?;
            start = i + 1;
        }
    }
    if start == bytes.len() {
        return Err(SubjectError::EmptyToken);
    }
    check(&bytes[start..], true)
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n' | 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of up to five characters from an alphabet of the bytes that matter.
    fn short_strings() -> Vec<String> {
        let alphabet = ['a', 'b', '.', '*', '>', ' ', '\t', '\0'];
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..5 {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    #[test]
    fn the_fast_path_agrees_with_the_full_check_on_every_short_subject() {
        for subject in short_strings() {
            let publish = check_tokens(&subject, |token, _| match token {
                b"*" | b">" => Err(SubjectError::Wildcard),
                _ => Ok(()),
            });
            assert_eq!(validate_publish_subject(&subject), publish, "{subject:?}");
            let subscribe = check_tokens(&subject, |token, last| match token {
                b">" if !last => Err(SubjectError::MisplacedWildcard),
                _ => Ok(()),
            });
            assert_eq!(
                validate_subscribe_subject(&subject),
                subscribe,
                "{subject:?}"
            );
            if plain_tokens(subject.as_bytes()) {
                assert_eq!(publish, Ok(()), "{subject:?}");
            }
        }
    }

    #[test]
    fn the_fast_path_sees_every_special_byte_at_every_position_of_a_long_subject() {
        let base = "abcdefgh.ijklmnop.qrstuvw";
        assert!(plain_tokens(base.as_bytes()));
        for position in 0..base.len() {
            for special in [".", "*", ">", " ", "\t", "\r", "\n", "\0", "\u{1}", "é"] {
                let mut subject = base.to_owned();
                subject.replace_range(position..=position, special);
                let full = check_tokens(&subject, |token, _| match token {
                    b"*" | b">" => Err(SubjectError::Wildcard),
                    _ => Ok(()),
                });
                let fast = plain_tokens(subject.as_bytes());
                if fast {
                    assert_eq!(full, Ok(()), "{subject:?}");
                }
                assert_eq!(validate_publish_subject(&subject), full, "{subject:?}");
                let plain = special == "é" || (special == "." && full.is_ok());
                assert_eq!(fast, plain, "{subject:?}");
            }
        }
    }

    #[test]
    fn publish_subjects() {
        assert_eq!(validate_publish_subject("a.b.c"), Ok(()));
        assert_eq!(validate_publish_subject("$SRV.PING"), Ok(()));
        assert_eq!(validate_publish_subject(""), Err(SubjectError::Empty));
        assert_eq!(
            validate_publish_subject("a..b"),
            Err(SubjectError::EmptyToken)
        );
        assert_eq!(
            validate_publish_subject(".a"),
            Err(SubjectError::EmptyToken)
        );
        assert_eq!(
            validate_publish_subject("a."),
            Err(SubjectError::EmptyToken)
        );
        assert_eq!(
            validate_publish_subject("a b"),
            Err(SubjectError::Whitespace)
        );
        assert_eq!(
            validate_publish_subject("a\r\nPUB"),
            Err(SubjectError::Whitespace)
        );
        assert_eq!(validate_publish_subject("a.*"), Err(SubjectError::Wildcard));
        assert_eq!(validate_publish_subject("a.>"), Err(SubjectError::Wildcard));
        assert_eq!(validate_publish_subject("a.b*"), Ok(()));
    }

    #[test]
    fn subscribe_subjects() {
        assert_eq!(validate_subscribe_subject("a.*.c"), Ok(()));
        assert_eq!(validate_subscribe_subject(">"), Ok(()));
        assert_eq!(validate_subscribe_subject("a.>"), Ok(()));
        assert_eq!(
            validate_subscribe_subject("a.>.c"),
            Err(SubjectError::MisplacedWildcard)
        );
        assert_eq!(
            validate_subscribe_subject("a..c"),
            Err(SubjectError::EmptyToken)
        );
        assert_eq!(
            validate_subscribe_subject("a\tb"),
            Err(SubjectError::Whitespace)
        );
    }

    #[test]
    fn queue_groups() {
        assert_eq!(validate_queue_group("workers"), Ok(()));
        assert_eq!(
            validate_queue_group(""),
            Err(SubjectError::InvalidQueueGroup)
        );
        assert_eq!(
            validate_queue_group("a b"),
            Err(SubjectError::InvalidQueueGroup)
        );
    }

    #[test]
    fn matching() {
        assert!(subject_matches("a.*.c", "a.b.c"));
        assert!(!subject_matches("a.*.c", "a.b.d"));
        assert!(subject_matches("a.>", "a.b.c"));
        assert!(!subject_matches("a.>", "a"));
        assert!(subject_matches("a.b", "a.b"));
        assert!(!subject_matches("a.b", "a.b.c"));
        assert!(!subject_matches("a.*", "a.b.c"));
    }
}
