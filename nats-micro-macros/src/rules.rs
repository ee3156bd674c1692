//! The Service API's naming rules, checked at compile time: names, SemVer versions,
//! endpoint subjects and queue groups.

// The runtime's own checks, so that a name or version the macro accepts is exactly one the
// runtime accepts.
use nats_micro_rules as validate;

/// A service or endpoint name: non-empty, only `A-Z a-z 0-9 - _`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("name must not be empty".into());
    }
    if validate::is_valid_name(name) {
        return Ok(());
    }
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        .unwrap_or(' ');
    Err(format!(
        "invalid name {name:?}: {bad:?} is not allowed (only A-Z, a-z, 0-9, '-' and '_')"
    ))
}

/// A SemVer 2.0 version: `MAJOR.MINOR.PATCH[-PRE][+BUILD]`, numbers without leading zeros.
pub(crate) fn check_version(version: &str) -> Result<(), String> {
    if validate::is_valid_version(version) {
        Ok(())
    } else {
        Err(format!(
            "version {version:?} is not SemVer 2.0 (such as 1.0.0)"
        ))
    }
}

/// An endpoint subject or group prefix: no whitespace, no empty token, `>` only as the whole
/// last token, and not under `$SRV` (reserved for the service's own control subjects).
pub(crate) fn check_subject(subject: &str) -> Result<(), String> {
    if subject.is_empty() {
        return Err("subject must not be empty".into());
    }
    if subject.chars().any(char::is_whitespace) {
        return Err(format!(
            "invalid subject {subject:?}: it contains whitespace"
        ));
    }
    let misplaced_wildcard = || {
        Err(format!(
            "invalid subject {subject:?}: '>' may only be the whole last token"
        ))
    };
    // The runtime's rule (`>` only as the last character), then what the server adds: no
    // empty token, and `>` a token of its own.
    if !validate::is_valid_subject(subject) {
        return misplaced_wildcard();
    }
    let tokens: Vec<&str> = subject.split('.').collect();
    if tokens.iter().any(|t| t.is_empty()) {
        return Err(format!(
            "invalid subject {subject:?}: it has an empty token"
        ));
    }
    if tokens.iter().any(|t| t.contains('>') && *t != ">") {
        return misplaced_wildcard();
    }
    if tokens[0] == "$SRV" {
        return Err(format!(
            "invalid subject {subject:?}: $SRV is reserved for the service API's own subjects"
        ));
    }
    Ok(())
}

/// A queue group: non-empty, no whitespace, no `>`.
pub(crate) fn check_queue_group(queue: &str) -> Result<(), String> {
    if queue.is_empty() || queue.chars().any(|c| c.is_whitespace() || c == '>') {
        return Err(format!(
            "invalid queue group {queue:?}: it must be non-empty, without whitespace or '>'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("user-service_2").is_ok());
        assert!(check_name("").is_err());
        assert!(check_name("user service").is_err());
        assert!(check_name("users.create").is_err());
    }

    #[test]
    fn versions() {
        for ok in [
            "0.0.0",
            "1.2.3",
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-0.3.7",
            "1.0.0+20130313144700",
            "1.0.0-beta+exp.sha.5114f85",
            "1.0.0-x-y-z.--",
        ] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.0",
            "1.0.0.0",
            "01.0.0",
            "1.0.0-",
            "1.0.0-01",
            "1.0.0+",
            "v1.0.0",
            "1.0.0-alpha..1",
            "1.a.0",
        ] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subjects() {
        assert!(check_subject("users.create").is_ok());
        assert!(check_subject("users.*").is_ok());
        assert!(check_subject("users.>").is_ok());
        assert!(check_subject("users.>.x").is_err());
        assert!(check_subject("users.a>").is_err());
        assert!(check_subject("users create").is_err());
        assert!(check_subject("users..create").is_err());
        assert!(check_subject("$SRV.PING").is_err());
        assert!(check_subject("").is_err());
    }

    #[test]
    fn queue_groups() {
        assert!(check_queue_group("workers").is_ok());
        assert!(check_queue_group("").is_err());
        assert!(check_queue_group("a b").is_err());
    }
}
