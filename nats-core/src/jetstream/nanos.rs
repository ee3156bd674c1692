//! Serde helpers for the JetStream wire: durations are integer nanoseconds (Go's
//! `time.Duration`), and some are `-1` for "never" or "unset".

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serializer};

/// A duration in nanoseconds, saturated to what Go's `int64` holds.
pub(crate) fn to_nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_nanos()).unwrap_or(i64::MAX)
}

/// Nanoseconds from the wire; a negative value (Go's "never" or "unset") is `None`.
pub(crate) fn from_nanos(nanos: i64) -> Option<Duration> {
    u64::try_from(nanos).ok().map(Duration::from_nanos)
}

/// `Option<Duration>` as nanoseconds: `None` is left out by `skip_serializing_if`, and a
/// negative number from the server reads as `None`. Use with `#[serde(default)]`.
pub(crate) mod option {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => serializer.serialize_i64(to_nanos(*duration)),
            None => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<i64>::deserialize(deserializer)?.and_then(from_nanos))
    }
}

/// `Vec<Duration>` as an array of nanoseconds (a consumer's `backoff`); negative values from
/// the server read as zero. Use with `#[serde(default)]`.
pub(crate) mod vec {
    use super::*;
    use serde::ser::SerializeSeq;

    pub(crate) fn serialize<S: Serializer>(
        values: &[Duration],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(values.len()))?;
        for duration in values {
            seq.serialize_element(&to_nanos(*duration))?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Duration>, D::Error> {
        let nanos = Option::<Vec<i64>>::deserialize(deserializer)?.unwrap_or_default();
        Ok(nanos
            .into_iter()
            .map(|n| from_nanos(n).unwrap_or(Duration::ZERO))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Holder {
        #[serde(default, with = "option", skip_serializing_if = "Option::is_none")]
        window: Option<Duration>,
    }

    #[test]
    fn durations_round_trip_as_nanoseconds() {
        let holder = Holder {
            window: Some(Duration::from_secs(120)),
        };
        let json = serde_json::to_string(&holder).expect("serializes");
        assert_eq!(json, r#"{"window":120000000000}"#);
        assert_eq!(
            serde_json::from_str::<Holder>(&json).expect("parses"),
            holder
        );
        let odd = Holder {
            window: Some(Duration::new(1, 7)),
        };
        let json = serde_json::to_string(&odd).expect("serializes");
        assert_eq!(json, r#"{"window":1000000007}"#);
        assert_eq!(serde_json::from_str::<Holder>(&json).expect("parses"), odd);
    }

    #[test]
    fn unset_is_omitted_and_negative_is_none() {
        let json = serde_json::to_string(&Holder { window: None }).expect("serializes");
        assert_eq!(json, "{}");
        let parsed: Holder = serde_json::from_str(r#"{"window":-1}"#).expect("parses");
        assert_eq!(parsed.window, None);
        let parsed: Holder = serde_json::from_str("{}").expect("parses");
        assert_eq!(parsed.window, None);
        assert!(serde_json::from_str::<Holder>(r#"{"window":"1s"}"#).is_err());
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Many {
        #[serde(default, with = "vec", skip_serializing_if = "Vec::is_empty")]
        backoff: Vec<Duration>,
    }

    #[test]
    fn duration_arrays_are_nanoseconds() {
        let many = Many {
            backoff: vec![Duration::from_secs(1), Duration::from_millis(5)],
        };
        let json = serde_json::to_string(&many).expect("serializes");
        assert_eq!(json, r#"{"backoff":[1000000000,5000000]}"#);
        assert_eq!(serde_json::from_str::<Many>(&json).expect("parses"), many);
        let parsed: Many = serde_json::from_str(r#"{"backoff":null}"#).expect("null");
        assert!(parsed.backoff.is_empty());
        let parsed: Many = serde_json::from_str(r#"{"backoff":[-5]}"#).expect("negative");
        assert_eq!(parsed.backoff, vec![Duration::ZERO]);
    }

    #[test]
    fn huge_durations_saturate() {
        assert_eq!(to_nanos(Duration::MAX), i64::MAX);
        assert_eq!(from_nanos(0), Some(Duration::ZERO));
    }
}
