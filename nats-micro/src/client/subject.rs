//! Subjects of wildcard endpoints, filled in from a typed client's token arguments.

use crate::error::CallError;

/// The subject `pattern` with each `*` replaced by the next of `tokens` and a final `>` by
/// `tail`: `fill_subject("users.*.get", &["42"], None)` is `users.42.get`.
///
/// ```
/// use nats_micro::client::fill_subject;
/// assert_eq!(fill_subject("users.*.get", &["42"], None).unwrap(), "users.42.get");
/// assert_eq!(fill_subject("logs.>", &[], Some("eu.web")).unwrap(), "logs.eu.web");
/// assert!(fill_subject("users.*.get", &["a.b"], None).is_err());
/// ```
///
/// # Errors
/// [`CallError::InvalidArgument`] naming the argument when a token is empty, holds a `.`,
/// whitespace or a wildcard, when the tail is not one or more such tokens, or when there are
/// fewer or more of them than the pattern has wildcards.
pub fn fill_subject(
    pattern: &str,
    tokens: &[&str],
    tail: Option<&str>,
) -> Result<String, CallError> {
    let mut subject = String::with_capacity(pattern.len() + 16);
    let mut remaining = tokens.iter().enumerate();
    let mut tail_used = false;
    for (i, part) in pattern.split('.').enumerate() {
        if i > 0 {
            subject.push('.');
        }
        match part {
            "*" => {
                let Some((index, token)) = remaining.next() else {
                    return Err(mismatch(pattern));
                };
                check_token(token).map_err(|reason| invalid(&token_name(tokens, index), reason))?;
                subject.push_str(token);
            }
            ">" => {
                let tail = tail.ok_or_else(|| mismatch(pattern))?;
                for token in tail.split('.') {
                    check_token(token).map_err(|reason| invalid("tail", reason))?;
                }
                subject.push_str(tail);
                tail_used = true;
            }
            literal => subject.push_str(literal),
        }
    }
    if remaining.next().is_some() || tail.is_some() != tail_used {
        return Err(mismatch(pattern));
    }
    Ok(subject)
}

/// The name the generated method gives the token at `index`.
fn token_name(tokens: &[&str], index: usize) -> String {
    if tokens.len() == 1 {
        "token".to_owned()
    } else {
        format!("token_{}", index + 1)
    }
}

fn check_token(token: &str) -> Result<(), String> {
    if token.is_empty() {
        return Err("a subject token cannot be empty".to_owned());
    }
    if let Some(c) = token
        .chars()
        .find(|c| matches!(c, '.' | '*' | '>') || c.is_whitespace())
    {
        return Err(format!(
            "{token:?} holds {c:?}, which a subject token cannot"
        ));
    }
    Ok(())
}

fn invalid(argument: &str, reason: String) -> CallError {
    CallError::InvalidArgument {
        argument: argument.to_owned(),
        reason,
    }
}

fn mismatch(pattern: &str) -> CallError {
    CallError::InvalidArgument {
        argument: "tokens".to_owned(),
        reason: format!("they do not match the wildcards of {pattern:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_each_wildcard() {
        assert_eq!(
            fill_subject("a.*.b.*", &["x", "y"], None).expect("fills"),
            "a.x.b.y"
        );
        assert_eq!(
            fill_subject("a.*.>", &["x"], Some("y.z")).expect("fills"),
            "a.x.y.z"
        );
        assert_eq!(fill_subject("plain", &[], None).expect("plain"), "plain");
    }

    #[test]
    fn rejects_bad_tokens_by_name() {
        for bad in ["", "a.b", "a b", "*", ">", "tab\t"] {
            let error = fill_subject("u.*.get", &[bad], None).expect_err(bad);
            assert!(error.to_string().contains("token"), "{error}");
        }
        let error = fill_subject("u.*.*", &["ok", "a.b"], None).expect_err("second");
        assert!(error.to_string().contains("token_2"), "{error}");
        let error = fill_subject("logs.>", &[], Some("a..b")).expect_err("empty in tail");
        assert!(error.to_string().contains("tail"), "{error}");
    }

    #[test]
    fn counts_must_match() {
        assert!(fill_subject("u.*", &[], None).is_err());
        assert!(fill_subject("u.*", &["a", "b"], None).is_err());
        assert!(fill_subject("u.>", &[], None).is_err());
        assert!(fill_subject("u", &[], Some("x")).is_err());
    }
}
