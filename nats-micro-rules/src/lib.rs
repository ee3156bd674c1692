//! The Service API's naming rules, exactly as nats.go's regular expressions state them, written
//! as plain checks (the property tests compare them with those expressions). One crate of
//! their own, so that the runtime (`nats-micro`) and the macros (`nats-micro-macros`, which
//! check names at compile time) apply the very same rules, and both can be packaged.
//!
//! - names: `^[A-Za-z0-9\-_]+$`
//! - versions: the official SemVer 2.0 expression
//! - endpoint subjects and queue groups: `^[^ >]*[>]?$`

/// Whether `name` is a valid service or endpoint name: non-empty, only `A-Z a-z 0-9 - _`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `version` matches the SemVer 2.0 regular expression:
/// `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, numbers without leading zeros.
pub fn is_valid_version(version: &str) -> bool {
    // The build metadata cannot hold '+', and the version core cannot hold '-', so the first
    // '+' and then the first '-' split the three parts.
    let (rest, build) = match version.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (version, None),
    };
    let (core, pre) = match rest.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (rest, None),
    };
    let mut numbers = core.split('.');
    let core_ok = (0..3).all(|_| numbers.next().is_some_and(is_numeric_identifier))
        && numbers.next().is_none();
    core_ok
        && pre.is_none_or(|pre| pre.split('.').all(is_prerelease_identifier))
        && build.is_none_or(|build| build.split('.').all(is_alphanumeric_identifier))
}

/// Whether `subject` is a valid endpoint subject or queue group: no space, and `>` only as the
/// very last character.
pub fn is_valid_subject(subject: &str) -> bool {
    let body = subject.strip_suffix('>').unwrap_or(subject);
    !body.bytes().any(|b| b == b' ' || b == b'>')
}

/// `0|[1-9]\d*`
fn is_numeric_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
}

/// `[0-9a-zA-Z-]+`
fn is_alphanumeric_identifier(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*`: alphanumerics and hyphens, where an all-digit
/// identifier has no leading zero.
fn is_prerelease_identifier(s: &str) -> bool {
    if s.bytes().all(|b| b.is_ascii_digit()) {
        is_numeric_identifier(s)
    } else {
        is_alphanumeric_identifier(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names() {
        for good in ["a", "Calc", "user-service_2", "0", "-_-"] {
            assert!(is_valid_name(good), "{good}");
        }
        for bad in ["", "a b", "a.b", "a*", "é", "a>", "a\n"] {
            assert!(!is_valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn versions() {
        for good in [
            "0.0.0",
            "1.2.3",
            "10.20.30",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-0.3.7",
            "1.0.0-x.7.z.92",
            "1.0.0-x-y-z.--",
            "1.0.0-alpha+001",
            "1.0.0+20130313144700",
            "1.0.0-beta+exp.sha.5114f85",
            "1.0.0+21AF26D3----117B344092BD",
            "1.0.0-0A",
            "1.0.0-00A",
        ] {
            assert!(is_valid_version(good), "{good}");
        }
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "01.1.1",
            "1.01.1",
            "1.1.01",
            "1.2.3-",
            "1.2.3-01",
            "1.2.3-a..b",
            "1.2.3+",
            "1.2.3+a+b",
            "1.2.3+a..b",
            "v1.2.3",
            "1.2.3 ",
            "1.2.3-é",
            "١.٢.٣",
        ] {
            assert!(!is_valid_version(bad), "{bad:?}");
        }
    }

    #[test]
    fn subjects() {
        for good in ["a", "a.b", "a.*", "a.>", ">", "", "foo>", "$SRV.x"] {
            assert!(is_valid_subject(good), "{good:?}");
        }
        for bad in ["a b", " ", "a.>.b", ">>", "a>b"] {
            assert!(!is_valid_subject(bad), "{bad:?}");
        }
    }

    /// nats.go's expressions, ASCII-only like Go's `\d`.
    const SEMVER: &str = r"(?-u)^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$";
    const NAME: &str = r"^[A-Za-z0-9\-_]+$";
    const SUBJECT: &str = r"^[^ >]*[>]?$";

    fn matches(pattern: &str, text: &str) -> bool {
        regex::Regex::new(pattern)
            .expect("valid pattern")
            .is_match(text)
    }

    proptest! {
        #[test]
        fn version_check_matches_the_regex(v in "[0-2a-b.+\\-]{0,14}") {
            prop_assert_eq!(is_valid_version(&v), matches(SEMVER, &v));
        }

        #[test]
        fn near_valid_versions_match_the_regex(
            v in "(0|1|01|10)\\.(0|1|00)\\.(0|2)(-[0-1a\\-.]{0,5})?(\\+[0-1a.\\-]{0,4})?"
        ) {
            prop_assert_eq!(is_valid_version(&v), matches(SEMVER, &v));
        }

        #[test]
        fn name_check_matches_the_regex(s in "[a-c0-1_\\-. é>*]{0,6}") {
            prop_assert_eq!(is_valid_name(&s), matches(NAME, &s));
        }

        #[test]
        fn subject_check_matches_the_regex(s in "[a. >*é]{0,8}") {
            prop_assert_eq!(is_valid_subject(&s), matches(SUBJECT, &s));
        }
    }
}
