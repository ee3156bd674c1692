//! Serde helpers for what other implementations emit: `null` where Go has a value, floats where
//! Go has integers, metadata values that are not strings; and the wire forms of durations
//! (integer nanoseconds) and times (RFC 3339 UTC).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serializer};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::Metadata;

/// A string, with `null` read as `""`.
pub(super) fn string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// A list, with `null` read as empty.
pub(super) fn list<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Metadata, with `null` read as empty.
pub(super) fn metadata<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Metadata, D::Error> {
    Ok(optional_metadata(deserializer)?.unwrap_or_default())
}

/// Metadata that may be `null`; values that are not strings are kept as their JSON text.
pub(super) fn optional_metadata<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Metadata>, D::Error> {
    let Some(map) = Option::<BTreeMap<String, Value>>::deserialize(deserializer)? else {
        return Ok(None);
    };
    let metadata = map
        .into_iter()
        .map(|(key, value)| match value {
            Value::String(text) => (key, text),
            other => (key, other.to_string()),
        })
        .collect();
    Ok(Some(metadata))
}

/// A counter: a non-negative integer, also accepted as a float (rounded) or `null` (zero).
pub(super) fn count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    deserializer.deserialize_any(CountVisitor)
}

struct CountVisitor;

impl<'de> Visitor<'de> for CountVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
        Ok(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
        Ok(u64::try_from(v).unwrap_or(0))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<u64, E> {
        // `as` saturates: negative and NaN become 0, huge values u64::MAX.
        Ok(v.round() as u64)
    }

    fn visit_unit<E: de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_none<E: de::Error>(self) -> Result<u64, E> {
        Ok(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(self)
    }

    // Some peers could send numbers as strings; read them rather than drop the reply.
    fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
        let v = v.trim();
        v.parse::<u64>()
            .or_else(|_| v.parse::<f64>().map(|f| f.round() as u64))
            .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<u64, A::Error> {
        Err(de::Error::invalid_type(de::Unexpected::Map, &self))
    }
}

/// Durations as integer nanoseconds.
pub(super) mod nanos {
    use super::*;

    /// Writes whole nanoseconds, capped at `i64::MAX` as Go's `time.Duration` is.
    pub(crate) fn serialize<S: Serializer>(
        duration: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let nanos = u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX);
        serializer.serialize_u64(nanos.min(i64::MAX as u64))
    }

    /// Reads nanoseconds leniently (see [`count`]).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        count(deserializer).map(Duration::from_nanos)
    }
}

/// Times as RFC 3339 in UTC.
pub(super) mod rfc3339 {
    use super::*;

    /// Writes UTC as Go's RFC3339Nano does (see [`format`]).
    pub(crate) fn serialize<S: Serializer>(
        time: &SystemTime,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(*time))
    }

    /// Reads any RFC 3339 time (any offset, any number of sub-second digits).
    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&text), &"an RFC 3339 time")
        })
    }
}

/// `time` in UTC as Go writes a `time.Time` in JSON (RFC3339Nano), which is what nats.go's
/// services send: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ` with the trailing zeros of the fraction
/// left out, and no fraction at all on a whole second.
pub(crate) fn format(time: SystemTime) -> String {
    let t = OffsetDateTime::from(time);
    let mut text = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    );
    let nanos = t.nanosecond();
    if nanos > 0 {
        let fraction = format!(".{nanos:09}");
        text.push_str(fraction.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// Parses an RFC 3339 time.
pub(crate) fn parse(text: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(SystemTime::from)
}
