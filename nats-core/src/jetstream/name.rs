//! The names of streams (and consumers): checked before they go into a subject, with the
//! rules of nats-server (`isValidAssetName`, `JSMaxNameLen`).

/// The longest name the server accepts, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// Why a stream or consumer name would be refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("name is empty")]
    Empty,
    /// The name is longer than [`MAX_NAME_LEN`] bytes.
    #[error("name {0:?} is longer than 255 bytes")]
    TooLong(String),
    /// The name holds `.`, `*`, `>`, `/`, `\` or whitespace (space, tab, CR, LF, FF).
    #[error("name {name:?} contains {found:?}")]
    Forbidden {
        /// The name.
        name: String,
        /// The first character that may not be in it.
        found: char,
    },
}

/// Checks a stream or consumer name: not empty, at most 255 bytes, no `.`, `*`, `>`, `/`,
/// `\` and no whitespace (a name becomes a token of the API subjects).
///
/// ```
/// use nats_core::jetstream::{validate_name, NameError};
/// assert!(validate_name("ORDERS").is_ok());
/// assert_eq!(
///     validate_name("orders.eu"),
///     Err(NameError::Forbidden { name: "orders.eu".into(), found: '.' })
/// );
/// ```
///
/// # Errors
/// A [`NameError`] naming the name and what is wrong with it.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong(name.to_owned()));
    }
    // The server's set exactly: refusing more would refuse names it accepts.
    let forbidden = |c: char| {
        matches!(
            c,
            '.' | '*' | '>' | '/' | '\\' | ' ' | '\t' | '\r' | '\n' | '\x0c'
        )
    };
    match name.chars().find(|&c| forbidden(c)) {
        Some(found) => Err(NameError::Forbidden {
            name: name.to_owned(),
            found,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_names_pass() {
        for name in ["ORDERS", "kv_B-1", "ÆØÅ", "a=b", &"x".repeat(255)] {
            assert_eq!(validate_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn bad_names_are_named_with_their_fault() {
        assert_eq!(validate_name(""), Err(NameError::Empty));
        for (name, found) in [
            ("a.b", '.'),
            ("a*", '*'),
            (">", '>'),
            ("a/b", '/'),
            ("a\\b", '\\'),
            ("a b", ' '),
            ("a\tb", '\t'),
            ("a\r\nb", '\r'),
        ] {
            assert_eq!(
                validate_name(name),
                Err(NameError::Forbidden {
                    name: name.into(),
                    found
                }),
                "{name:?}"
            );
        }
        let long = "x".repeat(256);
        assert_eq!(validate_name(&long), Err(NameError::TooLong(long.clone())));
        assert!(NameError::TooLong(long).to_string().contains("255"));
    }
}
