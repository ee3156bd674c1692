//! The names Key-Value allows: bucket names, keys, and watch filters (ADR-8).

use super::errors::{KvError, KvErrorKind};

/// Checks a bucket name: `A-Z a-z 0-9 _ -`, not empty.
///
/// ```
/// assert!(nats_core::kv::validate_bucket("profiles-v2").is_ok());
/// assert!(nats_core::kv::validate_bucket("profiles.v2").is_err());
/// ```
///
/// # Errors
/// [`KvErrorKind::InvalidBucket`] naming the character at fault.
pub fn validate_bucket(bucket: &str) -> Result<(), KvError> {
    if bucket.is_empty() {
        return Err(KvError::message(
            KvErrorKind::InvalidBucket,
            "a bucket name cannot be empty",
        ));
    }
    match bucket
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        Some(bad) => Err(KvError::message(
            KvErrorKind::InvalidBucket,
            format!(
                "invalid bucket name {bucket:?}: {bad:?} is not allowed (only A-Z, a-z, 0-9, '_' and '-')"
            ),
        )),
        None => Ok(()),
    }
}

/// Checks a key: `A-Z a-z 0-9 - / _ = .`, not starting or ending with `.`, no `..`.
///
/// ```
/// assert!(nats_core::kv::validate_key("users/42.profile").is_ok());
/// assert!(nats_core::kv::validate_key("users.*").is_err());
/// assert!(nats_core::kv::validate_key(".hidden").is_err());
/// ```
///
/// # Errors
/// [`KvErrorKind::InvalidKey`] naming the key and what is wrong with it.
pub fn validate_key(key: &str) -> Result<(), KvError> {
    check(key, false)
}

/// Checks a watch or keys filter: a key whose tokens may also be `*`, and whose last token
/// may be `>`.
///
/// # Errors
/// [`KvErrorKind::InvalidKey`] naming the filter and what is wrong with it.
pub fn validate_filter(filter: &str) -> Result<(), KvError> {
    check(filter, true)
}

fn check(key: &str, wildcards: bool) -> Result<(), KvError> {
    let what = if wildcards { "filter" } else { "key" };
    let invalid = |why: String| {
        Err(KvError::message(
            KvErrorKind::InvalidKey,
            format!("invalid {what} {key:?}: {why}"),
        ))
    };
    if key.is_empty() {
        return invalid("it is empty".to_owned());
    }
    if key.starts_with('.') || key.ends_with('.') {
        return invalid("it cannot start or end with '.'".to_owned());
    }
    let tokens: Vec<&str> = key.split('.').collect();
    for (i, token) in tokens.iter().enumerate() {
        if token.is_empty() {
            return invalid("it cannot hold '..'".to_owned());
        }
        if wildcards && (*token == "*" || (*token == ">" && i == tokens.len() - 1)) {
            continue;
        }
        if let Some(bad) = token
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '/' | '_' | '=')))
        {
            return invalid(format!(
                "{bad:?} is not allowed (only A-Z, a-z, 0-9, '-', '/', '_', '=' and '.' between tokens{})",
                if wildcards { ", '*' tokens and a final '>'" } else { "" }
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_adr_8() {
        for good in ["a", "A-b_c", "path/to=x", "a.b.c", "0", "_kv_ok"] {
            assert!(validate_key(good).is_ok(), "{good}");
        }
        for bad in [
            "", ".a", "a.", "a..b", "a b", "a*", "*", ">", "a.>", "é", "a\tb", "a\r\n",
        ] {
            let error = validate_key(bad).expect_err(bad);
            assert_eq!(error.kind(), KvErrorKind::InvalidKey);
            assert!(error.to_string().contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[test]
    fn filters_take_wildcards() {
        for good in ["a.*", "*", ">", "a.>", "a.*.c", "users"] {
            assert!(validate_filter(good).is_ok(), "{good}");
        }
        for bad in ["a.>.b", "a*", "..", "a..*"] {
            assert!(validate_filter(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bucket_names() {
        assert!(validate_bucket("A_b-9").is_ok());
        for bad in ["", "a.b", "a b", "a*", "a/b"] {
            assert_eq!(
                validate_bucket(bad).expect_err(bad).kind(),
                KvErrorKind::InvalidBucket
            );
        }
    }
}
