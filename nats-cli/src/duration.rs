//! Durations as people write and read them: `500ms`, `2s`, `1m30s` on the command line, and
//! `1.25ms` in tables.

use std::time::Duration;

/// The units a duration may be written in, longest first so that `ms` is not read as `m`.
const UNITS: [(&str, f64); 8] = [
    ("ns", 1e-9),
    ("us", 1e-6),
    ("µs", 1e-6),
    ("ms", 1e-3),
    ("s", 1.0),
    ("m", 60.0),
    ("h", 3600.0),
    ("d", 86400.0),
];

/// Reads a duration written as Go writes them: one or more numbers, each with its unit
/// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`, `d`), such as `500ms`, `2s`, `1.5s` or `1m30s`.
/// `0` alone needs no unit.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err("empty duration: write it with a unit, such as 500ms or 2s".to_owned());
    }
    let mut rest = text;
    let mut seconds = 0.0;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, tail) = rest.split_at(digits);
        let value: f64 = number
            .parse()
            .map_err(|_| format!("{text:?} is not a duration: expected a number at {rest:?}"))?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, after) = tail.split_at(unit_len);
        let Some((_, scale)) = UNITS.iter().find(|(name, _)| *name == unit) else {
            return Err(if unit.is_empty() {
                format!("{text:?} has no unit: write it as {number}s or {number}ms")
            } else {
                format!("{text:?} has an unknown unit {unit:?}: use ms, s, m or h")
            });
        };
        seconds += value * scale;
        rest = after;
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("{text:?} is out of range"))
}

/// `duration` for people, with three significant digits: `812ns`, `45.2µs`, `1.25ms`,
/// `2.5s`, `3m20s`, `2h5m`, `3d4h`.
pub(crate) fn human(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    if nanos == 0 {
        return "0s".to_owned();
    }
    let secs = duration.as_secs();
    // Above a minute: the two largest units, the second left out when it is zero (`1h`).
    let two_units = |big: u64, big_unit: &str, small: u64, small_unit: &str| {
        if small == 0 {
            format!("{big}{big_unit}")
        } else {
            format!("{big}{big_unit}{small}{small_unit}")
        }
    };
    if secs >= 86400 {
        return two_units(secs / 86400, "d", secs % 86400 / 3600, "h");
    }
    if secs >= 3600 {
        return two_units(secs / 3600, "h", secs % 3600 / 60, "m");
    }
    if secs >= 60 {
        return two_units(secs / 60, "m", secs % 60, "s");
    }
    if nanos < 1_000 {
        return format!("{nanos}ns");
    }
    // The smallest unit that shows the value below 1000 once rounded (999.9µs is 1ms).
    let nanos = nanos as f64;
    for (scale, unit) in [(1e3, "µs"), (1e6, "ms")] {
        let value = nanos / scale;
        let text = significant(value);
        if value < 1000.0 && text != "1000" {
            return format!("{text}{unit}");
        }
    }
    format!("{}s", significant(nanos / 1e9))
}

/// `value` (at least 1) with three significant digits and no trailing zeros.
fn significant(value: f64) -> String {
    let decimals = match value {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let ms = Duration::from_millis;
        assert_eq!(parse("500ms"), Ok(ms(500)));
        assert_eq!(parse("2s"), Ok(ms(2000)));
        assert_eq!(parse("1.5s"), Ok(ms(1500)));
        assert_eq!(parse("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse("1h"), Ok(ms(3_600_000)));
        assert_eq!(parse("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse("250µs"), Ok(Duration::from_micros(250)));
        assert_eq!(parse("10ns"), Ok(Duration::from_nanos(10)));
        assert_eq!(parse(" 0 "), Ok(Duration::ZERO));
    }

    #[test]
    fn refuses_what_is_not_a_duration() {
        for bad in ["", "5", "s", "5x", "1.2.3s", "-1s", "ms5"] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse("5").expect_err("no unit").contains("no unit"));
        assert!(parse("5x")
            .expect_err("unknown unit")
            .contains("unknown unit \"x\""));
    }

    #[test]
    fn prints_three_significant_digits() {
        assert_eq!(human(Duration::ZERO), "0s");
        assert_eq!(human(Duration::from_nanos(812)), "812ns");
        assert_eq!(human(Duration::from_nanos(45_230)), "45.2µs");
        assert_eq!(human(Duration::from_micros(1250)), "1.25ms");
        assert_eq!(human(Duration::from_millis(2)), "2ms");
        assert_eq!(human(Duration::from_millis(123_456)), "2m3s");
        assert_eq!(human(Duration::from_millis(2500)), "2.5s");
        assert_eq!(human(Duration::from_secs(7500)), "2h5m");
        assert_eq!(human(Duration::from_secs(3 * 86400 + 4 * 3600 + 5)), "3d4h");
        assert_eq!(human(Duration::from_secs(3600)), "1h");
        assert_eq!(human(Duration::from_secs(120)), "2m");
        assert_eq!(human(Duration::from_secs(7 * 86400)), "7d");
        assert_eq!(human(Duration::from_micros(999_999)), "1s");
        assert_eq!(human(Duration::from_nanos(999_999)), "1ms");
    }
}
