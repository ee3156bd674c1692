//! [`TraceContext`]: a W3C Trace Context (`traceparent` and `tracestate`), parsed and written
//! exactly as the W3C Trace Context recommendation says; pure, no I/O.

use std::fmt;
use std::str::FromStr;

/// The most of a `tracestate` kept: what the W3C recommendation asks every vendor to
/// propagate at least. A longer one loses its members longer than 128 characters, then
/// members from the end, until it fits.
pub const MAX_TRACESTATE_LEN: usize = 512;

/// A `tracestate` member longer than this is dropped first when the whole is too long.
const LONG_MEMBER: usize = 128;

/// Length of a version `00` `traceparent`: `vv-<32 hex>-<16 hex>-ff`.
const TRACEPARENT_LEN: usize = 55;

/// The W3C trace context of a request: which trace it belongs to, which span of the caller
/// sent it, its flags, and the vendors' `tracestate`.
///
/// ```
/// use nats_micro::trace::TraceContext;
/// let context: TraceContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
///     .parse()
///     .unwrap();
/// assert_eq!(context.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!(context.is_sampled());
/// let child = context.child();
/// assert_eq!(child.trace_id(), context.trace_id());
/// assert_ne!(child.parent_id(), context.parent_id());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
    tracestate: Option<String>,
}

/// Why a `traceparent` is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TraceParentError {
    /// Not `version-traceid-parentid-flags` of the right lengths (55 characters for version
    /// `00`; at least that, then a `-`, for later versions).
    #[error("traceparent is not version-traceid-parentid-flags of the right lengths")]
    Format,
    /// The version is not two lowercase hex digits, or is `ff`.
    #[error("traceparent version is invalid")]
    Version,
    /// The trace id is not 32 lowercase hex digits, or is all zeros.
    #[error("traceparent trace id is invalid")]
    TraceId,
    /// The parent id is not 16 lowercase hex digits, or is all zeros.
    #[error("traceparent parent id is invalid")]
    ParentId,
    /// The flags are not two lowercase hex digits.
    #[error("traceparent flags are invalid")]
    Flags,
}

impl TraceContext {
    /// A context of `trace_id`, sent by the span `parent_id`, with `flags`; `None` when an id
    /// is all zeros (which the W3C recommendation makes invalid).
    pub fn new(trace_id: [u8; 16], parent_id: [u8; 8], flags: u8) -> Option<Self> {
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceContext {
            trace_id,
            parent_id,
            flags,
            tracestate: None,
        })
    }

    /// Parses a `traceparent` header value (surrounding spaces and tabs allowed).
    ///
    /// # Errors
    /// A [`TraceParentError`] saying which part is invalid.
    pub fn parse(traceparent: &str) -> Result<Self, TraceParentError> {
        let value = traceparent.trim_matches([' ', '\t']).as_bytes();
        if value.len() < TRACEPARENT_LEN {
            return Err(TraceParentError::Format);
        }
        let version = hex_byte(&value[0..2]).ok_or(TraceParentError::Version)?;
        if version == 0xff {
            return Err(TraceParentError::Version);
        }
        // Version 00 is exactly 55 characters; a later version may add fields after a dash.
        let longer = value.len() > TRACEPARENT_LEN;
        if longer && (version == 0 || value[TRACEPARENT_LEN] != b'-') {
            return Err(TraceParentError::Format);
        }
        if value[2] != b'-' || value[35] != b'-' || value[52] != b'-' {
            return Err(TraceParentError::Format);
        }
        let trace_id: [u8; 16] = hex_bytes(&value[3..35]).ok_or(TraceParentError::TraceId)?;
        let parent_id: [u8; 8] = hex_bytes(&value[36..52]).ok_or(TraceParentError::ParentId)?;
        let flags = hex_byte(&value[53..55]).ok_or(TraceParentError::Flags)?;
        if trace_id == [0; 16] {
            return Err(TraceParentError::TraceId);
        }
        if parent_id == [0; 8] {
            return Err(TraceParentError::ParentId);
        }
        Ok(TraceContext {
            trace_id,
            parent_id,
            flags,
            tracestate: None,
        })
    }

    /// The same context with `tracestate` (the combined header value), kept as is up to
    /// [`MAX_TRACESTATE_LEN`] characters; an empty one is none.
    pub fn with_tracestate(mut self, tracestate: impl Into<String>) -> Self {
        self.tracestate = bounded_tracestate(tracestate.into());
        self
    }

    /// The trace id.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The id of the span that sent the request.
    pub fn parent_id(&self) -> [u8; 8] {
        self.parent_id
    }

    /// The trace flags (bit `01`: sampled).
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the caller records this trace (flag `01`).
    pub fn is_sampled(&self) -> bool {
        self.flags & 0x01 != 0
    }

    /// The vendors' `tracestate`, if any.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        to_hex(&self.trace_id)
    }

    /// The parent id as 16 lowercase hex digits.
    pub fn parent_id_hex(&self) -> String {
        to_hex(&self.parent_id)
    }

    /// The `traceparent` header value, version `00`.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id_hex(),
            self.parent_id_hex(),
            self.flags
        )
    }

    /// The context a span of this trace passes on: same trace, flags and `tracestate`, a new
    /// random parent id (the id of that span).
    pub fn child(&self) -> Self {
        TraceContext {
            parent_id: fastrand::u64(1..).to_be_bytes(),
            ..self.clone()
        }
    }
}

impl FromStr for TraceContext {
    type Err = TraceParentError;

    fn from_str(traceparent: &str) -> Result<Self, Self::Err> {
        TraceContext::parse(traceparent)
    }
}

impl fmt::Display for TraceContext {
    /// The `traceparent` header value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.traceparent())
    }
}

/// `tracestate` cut to [`MAX_TRACESTATE_LEN`] as the W3C recommendation says: long members
/// first, then members from the end; `None` when nothing is left.
fn bounded_tracestate(tracestate: String) -> Option<String> {
    let trimmed = tracestate.trim_matches([' ', '\t']);
    if trimmed.is_empty() {
        return None;
    }
    if trimmed.len() <= MAX_TRACESTATE_LEN {
        return Some(trimmed.to_owned());
    }
    let mut members: Vec<&str> = trimmed
        .split(',')
        .map(|member| member.trim_matches([' ', '\t']))
        .filter(|member| !member.is_empty() && member.len() <= LONG_MEMBER)
        .collect();
    let joined_len = |members: &[&str]| {
        members.iter().map(|m| m.len()).sum::<usize>() + members.len().saturating_sub(1)
    };
    while joined_len(&members) > MAX_TRACESTATE_LEN {
        members.pop();
    }
    (!members.is_empty()).then(|| members.join(","))
}

/// Lowercase hex digits as bytes; `None` for anything else (uppercase included).
fn hex_bytes<const N: usize>(hex: &[u8]) -> Option<[u8; N]> {
    if hex.len() != N * 2 {
        return None;
    }
    let mut bytes = [0; N];
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = hex_byte(pair)?;
    }
    Some(bytes)
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    match pair {
        [high, low] => Some(digit(*high)? << 4 | digit(*low)?),
        _ => None,
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_the_recommendation_example_and_writes_it_back() {
        let context = TraceContext::parse(VALID).expect("valid");
        assert_eq!(context.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(context.parent_id_hex(), "00f067aa0ba902b7");
        assert_eq!(context.flags(), 1);
        assert!(context.is_sampled());
        assert_eq!(context.traceparent(), VALID);
        assert_eq!(context.to_string(), VALID);
        let unsampled = TraceContext::parse(&VALID.replace("-01", "-00")).expect("valid");
        assert!(!unsampled.is_sampled());
        assert_eq!(TraceContext::parse(&format!(" \t{VALID} ")), Ok(context));
    }

    #[test]
    fn rejects_what_the_recommendation_rejects() {
        use TraceParentError::*;
        let cases = [
            ("", Format),
            (&VALID[..54], Format),
            (&format!("{VALID}-"), Format), // version 00 is exactly 55 characters
            (&format!("{VALID}0"), Format),
            (&VALID.replacen("00-", "ff-", 1), Version),
            (&VALID.replacen("00-", "0g-", 1), Version),
            (&VALID.replacen("00-", "0A-", 1), Version),
            (&VALID.replace("4bf92f", "4BF92F"), TraceId),
            (&VALID.replace("00f067aa", "00F067AA"), ParentId),
            (&VALID.replace("-01", "-0x"), Flags),
            (&VALID.replace("-01", "-0F"), Flags),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                TraceId,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                ParentId,
            ),
            (
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                Format,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
                Format,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
                Format,
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
                Format,
            ),
        ];
        for (traceparent, expected) in cases {
            assert_eq!(
                TraceContext::parse(traceparent),
                Err(expected),
                "{traceparent:?}"
            );
        }
    }

    #[test]
    fn later_versions_are_read_as_version_00() {
        let later = VALID.replacen("00-", "cc-", 1);
        let context = TraceContext::parse(&later).expect("version cc");
        assert_eq!(context.traceparent(), VALID, "written back as version 00");
        assert!(TraceContext::parse(&format!("{later}-what-comes-next")).is_ok());
        assert_eq!(
            TraceContext::parse(&format!("{later}x")),
            Err(TraceParentError::Format)
        );
    }

    #[test]
    fn children_keep_the_trace_and_get_a_new_parent() {
        let context = TraceContext::parse(VALID)
            .expect("valid")
            .with_tracestate("congo=t61rcWkgMzE");
        let child = context.child();
        assert_eq!(child.trace_id(), context.trace_id());
        assert_eq!(child.flags(), context.flags());
        assert_eq!(child.tracestate(), Some("congo=t61rcWkgMzE"));
        assert_ne!(child.parent_id(), context.parent_id());
        assert_ne!(child.parent_id(), [0; 8]);
        assert_ne!(child.parent_id(), context.child().parent_id());
    }

    #[test]
    fn new_refuses_zero_ids() {
        assert!(TraceContext::new([0; 16], [1; 8], 1).is_none());
        assert!(TraceContext::new([1; 16], [0; 8], 1).is_none());
        let context = TraceContext::new([0xab; 16], [0x01; 8], 0).expect("valid");
        assert_eq!(
            context.traceparent(),
            "00-abababababababababababababababab-0101010101010101-00"
        );
    }

    #[test]
    fn tracestate_is_kept_as_is_and_bounded() {
        let context = TraceContext::parse(VALID).expect("valid");
        let kept = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
        assert_eq!(
            context.clone().with_tracestate(kept).tracestate(),
            Some(kept)
        );
        assert_eq!(context.clone().with_tracestate(" ").tracestate(), None);

        // 40 members of 12 characters, one of 200: the long one goes, then the last ones.
        let mut members: Vec<String> = (0..40).map(|i| format!("vendor{i:02}=abc")).collect();
        members.insert(3, format!("long={}", "x".repeat(195)));
        let long = members.join(",");
        assert!(long.len() > MAX_TRACESTATE_LEN);
        let bounded = context.with_tracestate(long);
        let bounded = bounded.tracestate().expect("some members fit");
        assert!(bounded.len() <= MAX_TRACESTATE_LEN, "{}", bounded.len());
        assert!(bounded.starts_with("vendor00=abc,vendor01=abc,vendor02=abc,vendor03=abc"));
        assert!(!bounded.contains("long="));
        assert_eq!(
            bounded.split(',').count(),
            39,
            "39 members of 12 fit in 512"
        );
    }
}
