//! Sizes as people write and read them: `10MB`, `512KiB` or `1048576` on the command line
//! (as the NATS CLI reads them, every unit a power of 1024), and `1.5 MiB` in tables.

/// The units a size may be written in, and the power of 1024 each stands for.
const UNITS: [(&str, u32); 13] = [
    ("B", 0),
    ("K", 1),
    ("KB", 1),
    ("KIB", 1),
    ("M", 2),
    ("MB", 2),
    ("MIB", 2),
    ("G", 3),
    ("GB", 3),
    ("GIB", 3),
    ("T", 4),
    ("TB", 4),
    ("TIB", 4),
];

/// The units sizes are shown in, each 1024 times the one before.
const SHOWN: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// Reads a size in bytes: a whole number, optionally followed by a unit (`B`, `K`, `KB`,
/// `KiB`, `M`, `MB`, `MiB`, `G`, ..., any case; each a power of 1024, as the NATS CLI reads
/// them), such as `1048576`, `512K` or `10MB`.
pub(crate) fn parse(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    if number.is_empty() {
        return Err(format!(
            "{text:?} is not a size: write it as a number of bytes, or with a unit such as 10MB"
        ));
    }
    let unit = unit.trim().to_ascii_uppercase();
    let power = match UNITS.iter().find(|(name, _)| *name == unit) {
        Some((_, power)) => *power,
        None if unit.is_empty() => 0,
        None => {
            return Err(format!(
                "{text:?} has an unknown unit {unit:?}: use B, KB, MB, GB or TB"
            ))
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1024u64.pow(power)))
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// `bytes` for people, in powers of 1024 with one decimal below 10: `0 B`, `512 B`,
/// `1.0 KiB`, `1.5 MiB`, `79 MiB`.
pub(crate) fn human(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < SHOWN.len() {
        value /= 1024.0;
        unit += 1;
    }
    // Rounded to one decimal first, so that 9.96 KiB shows as 10 KiB and not 10.0 KiB.
    let rounded = (value * 10.0).round() / 10.0;
    if rounded < 10.0 {
        format!("{rounded:.1} {}", SHOWN[unit])
    } else {
        format!("{rounded:.0} {}", SHOWN[unit])
    }
}

/// A limit the server reports as `-1` (or another negative number) when there is none:
/// `unlimited`, or the size for people.
pub(crate) fn limit(bytes: Option<i64>) -> String {
    match bytes.and_then(|b| u64::try_from(b).ok()) {
        Some(bytes) => human(bytes),
        None => "unlimited".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_numbers_and_units_in_powers_of_1024() {
        assert_eq!(parse("1048576"), Ok(1_048_576));
        assert_eq!(parse("512K"), Ok(512 * 1024));
        assert_eq!(parse("10MB"), Ok(10 << 20));
        assert_eq!(parse("10mib"), Ok(10 << 20));
        assert_eq!(parse("2 GB"), Ok(2 << 30));
        assert_eq!(parse("1TiB"), Ok(1 << 40));
        assert_eq!(parse("7B"), Ok(7));
        assert_eq!(parse("0"), Ok(0));
    }

    #[test]
    fn refuses_what_is_not_a_size() {
        for bad in ["", "MB", "-1", "1.5MB", "10XB", "99999999999TB"] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        assert!(parse("10XB")
            .expect_err("unknown unit")
            .contains("unknown unit \"XB\""));
    }

    #[test]
    fn shows_sizes_as_people_read_them() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(1024), "1.0 KiB");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(10_200), "10 KiB");
        assert_eq!(human(79 << 20), "79 MiB");
        assert_eq!(human(3 << 30), "3.0 GiB");
        assert_eq!(limit(Some(-1)), "unlimited");
        assert_eq!(limit(None), "unlimited");
        assert_eq!(limit(Some(2048)), "2.0 KiB");
    }
}
