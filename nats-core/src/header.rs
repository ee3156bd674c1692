//! Message headers: multi-valued, case-preserving, in insertion order, and the status line
//! the server puts in front of them.

use std::fmt;

use bytes::{BufMut, BytesMut};

/// The first line of every header block.
const VERSION_LINE: &str = "NATS/1.0";

/// Headers of a message, as in `NATS/1.0` header blocks.
///
/// Names keep the case they were given. [`get`](Self::get) matches names exactly, as nats.go
/// does; [`get_ignore_case`](Self::get_ignore_case) is there for peers that change case.
///
/// ```
/// use nats_core::HeaderMap;
/// let mut headers = HeaderMap::new();
/// headers.insert("Trace-Id", "abc");
/// headers.append("Tag", "a");
/// headers.append("Tag", "b");
/// assert_eq!(headers.get("Trace-Id"), Some("abc"));
/// assert_eq!(headers.get_all("Tag").collect::<Vec<_>>(), ["a", "b"]);
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct HeaderMap {
    entries: Vec<(String, String)>,
}

impl HeaderMap {
    /// An empty header map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to the single value `value`, replacing what it held.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let name = name.into();
        self.entries.retain(|(n, _)| *n != name);
        self.entries.push((name, value.into()));
    }

    /// Adds one more value for `name`, keeping the ones it had.
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.entries.push((name.into(), value.into()));
    }

    /// The first value of `name` (exact match).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, comparing names without regard to ASCII case.
    pub fn get_ignore_case(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name` (exact match), in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Removes every value of `name`; returns whether there was any.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(n, _)| n != name);
        before != self.entries.len()
    }

    /// Whether `name` has at least one value.
    pub fn contains_key(&self, name: &str) -> bool {
        self.entries.iter().any(|(n, _)| n == name)
    }

    /// Every `(name, value)` pair in order; a name with several values appears several times.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Number of `(name, value)` pairs.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no header at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Checks that every name and value can be sent: names non-empty, printable ASCII without
    /// `:`; values without CR or LF.
    ///
    /// # Errors
    /// A [`HeaderError`] naming the offending header.
    pub fn validate(&self) -> Result<(), HeaderError> {
        for (name, value) in &self.entries {
            let bad_name = name.is_empty()
                || name
                    .bytes()
                    .any(|b| b == b':' || !(b'!'..=b'~').contains(&b));
            if bad_name {
                return Err(HeaderError::InvalidName(name.clone()));
            }
            if value.bytes().any(|b| b == b'\r' || b == b'\n') {
                return Err(HeaderError::InvalidValue(name.clone()));
            }
        }
        Ok(())
    }

    /// Length in bytes of the encoded block, version line and final CRLF included.
    pub(crate) fn encoded_len(&self) -> usize {
        VERSION_LINE.len()
            + 2
            + self
                .entries
                .iter()
                .map(|(n, v)| n.len() + 2 + v.len() + 2)
                .sum::<usize>()
            + 2
    }

    /// Writes the header block (`NATS/1.0\r\n`, one `Name: value\r\n` per value, `\r\n`).
    /// The caller reserves room: it knows [`HeaderMap::encoded_len`] already.
    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        dst.put_slice(VERSION_LINE.as_bytes());
        dst.put_slice(b"\r\n");
        for (name, value) in &self.entries {
            dst.put_slice(name.as_bytes());
            dst.put_slice(b": ");
            dst.put_slice(value.as_bytes());
            dst.put_slice(b"\r\n");
        }
        dst.put_slice(b"\r\n");
    }
}

impl fmt::Debug for HeaderMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for HeaderMap {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        HeaderMap {
            entries: iter
                .into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        }
    }
}

/// A header that cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The name is empty, holds `:`, whitespace or a non-printable byte.
    #[error("invalid header name {0:?}")]
    InvalidName(String),
    /// The value of this header holds CR or LF.
    #[error("value of header {0:?} contains CR or LF")]
    InvalidValue(String),
}

/// The status code of a header block's first line (`NATS/1.0 503`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusCode(u16);

impl StatusCode {
    /// `100`: idle heartbeat or flow control (JetStream).
    pub const IDLE_HEARTBEAT: StatusCode = StatusCode(100);
    /// `404`: no messages (JetStream pull).
    pub const NOT_FOUND: StatusCode = StatusCode(404);
    /// `408`: request timeout (JetStream pull).
    pub const TIMEOUT: StatusCode = StatusCode(408);
    /// `409`: conflict, such as max ack pending (JetStream).
    pub const CONFLICT: StatusCode = StatusCode(409);
    /// `503`: the request had no responders.
    pub const NO_RESPONDERS: StatusCode = StatusCode(503);

    /// A status from its number.
    pub const fn new(code: u16) -> Self {
        StatusCode(code)
    }

    /// The number.
    pub const fn as_u16(self) -> u16 {
        self.0
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A parsed header block: the headers, and the status and description of the first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HeaderBlock {
    pub(crate) headers: HeaderMap,
    pub(crate) status: Option<StatusCode>,
    pub(crate) description: Option<String>,
}

/// Why a header block from the server could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HeaderParseError {
    #[error("header block does not start with NATS/1.0")]
    Version,
    #[error("header block is not UTF-8")]
    Utf8,
    #[error("invalid status code in header block")]
    Status,
    #[error("header line without ':'")]
    Line,
}

/// Reads a header block (`NATS/1.0 [status [description]]\r\n` then `Name: value` lines).
pub(crate) fn parse_header_block(block: &[u8]) -> Result<HeaderBlock, HeaderParseError> {
    let text = std::str::from_utf8(block).map_err(|_| HeaderParseError::Utf8)?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let rest = first
        .strip_prefix(VERSION_LINE)
        .ok_or(HeaderParseError::Version)?;
    let rest = rest.trim();
    let (status, description) = if rest.is_empty() {
        (None, None)
    } else {
        let (code, desc) = rest.split_once(' ').unwrap_or((rest, ""));
        let code: u16 = code.parse().map_err(|_| HeaderParseError::Status)?;
        let desc = desc.trim();
        (
            Some(StatusCode(code)),
            (!desc.is_empty()).then(|| desc.to_owned()),
        )
    };
    let mut headers = HeaderMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or(HeaderParseError::Line)?;
        headers.append(name.trim(), value.trim());
    }
    Ok(HeaderBlock {
        headers,
        status,
        description,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_parse_round_trips_multi_values_and_case() {
        let mut h = HeaderMap::new();
        h.append("X-Trace", "1");
        h.append("tag", "a");
        h.append("tag", "b c");
        let mut buf = BytesMut::new();
        h.encode(&mut buf);
        assert_eq!(buf.len(), h.encoded_len());
        assert_eq!(
            &buf[..],
            b"NATS/1.0\r\nX-Trace: 1\r\ntag: a\r\ntag: b c\r\n\r\n"
        );
        let parsed = parse_header_block(&buf).expect("parses");
        assert_eq!(parsed.headers, h);
        assert_eq!(parsed.status, None);
        assert_eq!(parsed.headers.get("x-trace"), None);
        assert_eq!(parsed.headers.get_ignore_case("x-trace"), Some("1"));
    }

    #[test]
    fn status_line_with_and_without_description() {
        let b = parse_header_block(b"NATS/1.0 503\r\n\r\n").expect("parses");
        assert_eq!(b.status, Some(StatusCode::NO_RESPONDERS));
        assert_eq!(b.description, None);
        let b =
            parse_header_block(b"NATS/1.0 408 Request Timeout\r\nNats-Pending-Messages: 1\r\n\r\n")
                .expect("parses");
        assert_eq!(b.status, Some(StatusCode::TIMEOUT));
        assert_eq!(b.description.as_deref(), Some("Request Timeout"));
        assert_eq!(b.headers.get("Nats-Pending-Messages"), Some("1"));
    }

    #[test]
    fn garbage_is_an_error() {
        assert_eq!(
            parse_header_block(b"HTTP/1.1 200\r\n\r\n"),
            Err(HeaderParseError::Version)
        );
        assert_eq!(
            parse_header_block(b"NATS/1.0 abc\r\n\r\n"),
            Err(HeaderParseError::Status)
        );
        assert_eq!(
            parse_header_block(b"NATS/1.0\r\nnocolon\r\n\r\n"),
            Err(HeaderParseError::Line)
        );
        assert_eq!(
            parse_header_block(&[0xff, 0xfe]),
            Err(HeaderParseError::Utf8)
        );
    }

    #[test]
    fn validation_names_the_bad_header() {
        let mut h = HeaderMap::new();
        h.insert("Good", "ok");
        assert_eq!(h.validate(), Ok(()));
        h.insert("Bad Name", "x");
        assert_eq!(
            h.validate(),
            Err(HeaderError::InvalidName("Bad Name".into()))
        );
        let mut h = HeaderMap::new();
        h.insert("Inject", "x\r\nPUB a 1");
        assert_eq!(
            h.validate(),
            Err(HeaderError::InvalidValue("Inject".into()))
        );
    }

    #[test]
    fn insert_replaces_append_adds() {
        let mut h = HeaderMap::new();
        h.append("a", "1");
        h.append("a", "2");
        h.insert("a", "3");
        assert_eq!(h.get_all("a").collect::<Vec<_>>(), ["3"]);
        assert!(h.remove("a"));
        assert!(h.is_empty());
    }
}
