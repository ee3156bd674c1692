//! Decimal numbers as the server writes them in control lines and ack subjects: plain ASCII
//! digits, no sign, no spaces.

/// The value of `digits`, `None` if empty, not all digits, or above `u64::MAX`.
pub(crate) fn parse_u64(digits: &[u8]) -> Option<u64> {
    match digits.len() {
        0 => None,
        // Nineteen digits never overflow a u64: no check per digit.
        1..=19 => {
            let mut value = 0u64;
            let mut all_digits = true;
            for &b in digits {
                let digit = b.wrapping_sub(b'0');
                all_digits &= digit <= 9;
                value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
            }
            all_digits.then_some(value)
        }
        20 => digits.iter().try_fold(0u64, |value, b| {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            value.checked_mul(10)?.checked_add(u64::from(digit))
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse_u64;

    #[test]
    fn plain_digits_within_u64() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(
            parse_u64(b"9999999999999999999"),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        let too_long = "1".repeat(21);
        for bad in [
            "",
            "18446744073709551616",
            "99999999999999999999",
            "1844674407370955161a",
            "+1",
            "-1",
            "1a",
            " 1",
            "1 ",
            "１",
            too_long.as_str(),
        ] {
            assert_eq!(parse_u64(bad.as_bytes()), None, "{bad:?}");
        }
    }
}
