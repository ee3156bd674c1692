//! [`ServerError`]: the server's `-ERR` messages, classified.

use std::fmt;

/// Which operation a permissions violation refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PermissionOperation {
    /// A publish (or the reply subject of one).
    Publish,
    /// A subscription.
    Subscribe,
}

/// An `-ERR` the server sent, by what it means.
///
/// ```
/// use nats_core::{PermissionOperation, ServerError};
/// let err = ServerError::parse("Permissions Violation for Subscription to \"secret.>\"");
/// assert_eq!(
///     err,
///     ServerError::PermissionsViolation {
///         operation: PermissionOperation::Subscribe,
///         subject: "secret.>".into(),
///         queue: None,
///         sid: None,
///     }
/// );
/// assert!(ServerError::parse("Authorization Violation").is_auth_error());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerError {
    /// The credentials were refused (`Authorization Violation`).
    AuthorizationViolation,
    /// The user's or account's credentials expired.
    AuthenticationExpired,
    /// The user's credentials were revoked.
    AuthenticationRevoked,
    /// The client did not authenticate in time.
    AuthenticationTimeout,
    /// A publish or subscription the user's permissions do not allow.
    PermissionsViolation {
        /// What was refused.
        operation: PermissionOperation,
        /// The subject of the publish or subscription.
        subject: String,
        /// The queue group of a refused subscription.
        queue: Option<String>,
        /// The subscription's id, when the server names it (after a configuration reload
        /// took the permission away).
        sid: Option<u64>,
    },
    /// The server or account has as many connections as it allows.
    MaxConnectionsExceeded,
    /// The connection has as many subscriptions as it is allowed.
    MaxSubscriptionsExceeded,
    /// A message was larger than the server's `max_payload`.
    MaxPayloadExceeded,
    /// A protocol line was longer than the server's `max_control_line`.
    MaxControlLineExceeded,
    /// The server did not hear from the client in time.
    StaleConnection,
    /// The server did not understand an operation.
    UnknownProtocol,
    /// The server requires TLS.
    TlsRequired,
    /// A subject was not valid.
    InvalidSubject,
    /// Anything else, in the server's words.
    Other(String),
}

impl ServerError {
    /// Classifies the text of an `-ERR` (without its quotes).
    pub fn parse(text: &str) -> ServerError {
        let text = text.trim().trim_matches('\'');
        let lower = text.to_ascii_lowercase();
        if let Some(violation) = parse_permissions(text, &lower) {
            return violation;
        }
        let known = [
            (
                "authorization violation",
                ServerError::AuthorizationViolation,
            ),
            (
                "user authentication expired",
                ServerError::AuthenticationExpired,
            ),
            (
                "account authentication expired",
                ServerError::AuthenticationExpired,
            ),
            (
                "user authentication revoked",
                ServerError::AuthenticationRevoked,
            ),
            ("authentication timeout", ServerError::AuthenticationTimeout),
            (
                "maximum connections exceeded",
                ServerError::MaxConnectionsExceeded,
            ),
            (
                "maximum account active connections exceeded",
                ServerError::MaxConnectionsExceeded,
            ),
            (
                "maximum subscriptions exceeded",
                ServerError::MaxSubscriptionsExceeded,
            ),
            ("maximum payload violation", ServerError::MaxPayloadExceeded),
            ("maximum payload exceeded", ServerError::MaxPayloadExceeded),
            (
                "maximum control line exceeded",
                ServerError::MaxControlLineExceeded,
            ),
            ("stale connection", ServerError::StaleConnection),
            ("unknown protocol operation", ServerError::UnknownProtocol),
            ("secure connection - tls required", ServerError::TlsRequired),
            ("invalid subject", ServerError::InvalidSubject),
            ("invalid publish subject", ServerError::InvalidSubject),
        ];
        known
            .into_iter()
            .find(|(prefix, _)| lower.starts_with(prefix))
            .map_or_else(|| ServerError::Other(text.to_owned()), |(_, err)| err)
    }

    /// Whether the server refused the credentials (violation, expired, revoked): trying the
    /// same credentials again is unlikely to help.
    pub fn is_auth_error(&self) -> bool {
        matches!(
            self,
            ServerError::AuthorizationViolation
                | ServerError::AuthenticationExpired
                | ServerError::AuthenticationRevoked
        )
    }
}

/// `Permissions Violation for Publish to "subj"`, `... for Publish with Reply of "subj"`,
/// `... for Subscription to "subj"`, `... for Subscription to "subj" using queue "q"`, and
/// after a configuration reload `... to "subj" (sid "1")` or `... using queue "q" (sid "1")`.
fn parse_permissions(text: &str, lower: &str) -> Option<ServerError> {
    const PREFIX: &str = "permissions violation for ";
    if !lower.starts_with(PREFIX) {
        return None;
    }
    let rest = &lower[PREFIX.len()..];
    let operation = if rest.starts_with("subscription") {
        PermissionOperation::Subscribe
    } else {
        PermissionOperation::Publish
    };
    let (head, sid) = split_tail(text, " (sid \"");
    let sid = sid.and_then(|sid| sid.parse().ok());
    let (head, queue) = split_tail(head, " using queue \"");
    let head = head.strip_suffix(", too many tokens").unwrap_or(head);
    // The subject runs from the first quote to the last: it may hold quotes itself.
    let subject = head
        .find('"')
        .map(|open| &head[open + 1..])
        .map(|rest| rest.strip_suffix('"').unwrap_or(rest))
        .unwrap_or_default()
        .to_owned();
    Some(ServerError::PermissionsViolation {
        operation,
        subject,
        queue,
        sid,
    })
}

/// Splits `text` at the last `marker` (which ends with an opening quote): the text before
/// it, and the quoted value after it.
fn split_tail<'a>(text: &'a str, marker: &str) -> (&'a str, Option<String>) {
    match text.rfind(marker) {
        Some(at) => {
            let value = &text[at + marker.len()..];
            let value = value.strip_suffix(')').unwrap_or(value);
            let value = value.strip_suffix('"').unwrap_or(value);
            (&text[..at], Some(value.to_owned()))
        }
        None => (text, None),
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::AuthorizationViolation => f.write_str("authorization violation"),
            ServerError::AuthenticationExpired => f.write_str("authentication expired"),
            ServerError::AuthenticationRevoked => f.write_str("authentication revoked"),
            ServerError::AuthenticationTimeout => f.write_str("authentication timeout"),
            ServerError::PermissionsViolation {
                operation,
                subject,
                queue,
                ..
            } => {
                let op = match operation {
                    PermissionOperation::Publish => "publish to",
                    PermissionOperation::Subscribe => "subscription to",
                };
                write!(f, "permissions violation for {op} {subject:?}")?;
                match queue {
                    Some(queue) => write!(f, " using queue {queue:?}"),
                    None => Ok(()),
                }
            }
            ServerError::MaxConnectionsExceeded => f.write_str("maximum connections exceeded"),
            ServerError::MaxSubscriptionsExceeded => f.write_str("maximum subscriptions exceeded"),
            ServerError::MaxPayloadExceeded => f.write_str("maximum payload exceeded"),
            ServerError::MaxControlLineExceeded => f.write_str("maximum control line exceeded"),
            ServerError::StaleConnection => f.write_str("stale connection"),
            ServerError::UnknownProtocol => f.write_str("unknown protocol operation"),
            ServerError::TlsRequired => f.write_str("server requires TLS"),
            ServerError::InvalidSubject => f.write_str("invalid subject"),
            ServerError::Other(text) => write!(f, "server error: {text}"),
        }
    }
}

impl std::error::Error for ServerError {}

/// A server's `-ERR` answer to the handshake: which server, its words, and what they mean.
/// The source of a [`ConnectError`](crate::ConnectError) of kind
/// [`AuthorizationViolation`](crate::ConnectErrorKind::AuthorizationViolation) or
/// [`ServerError`](crate::ConnectErrorKind::ServerError); its own source is the
/// [`ServerError`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerRefusal {
    server: String,
    text: String,
    error: ServerError,
}

impl ServerRefusal {
    pub(crate) fn new(server: String, text: &str) -> Self {
        let text = text.trim().trim_matches('\'').to_owned();
        let error = ServerError::parse(&text);
        ServerRefusal {
            server,
            text,
            error,
        }
    }

    /// The server that refused, as `scheme://host:port`.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// What the server said, word for word.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What it means.
    pub fn error(&self) -> &ServerError {
        &self.error
    }
}

impl fmt::Display for ServerRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.server, self.text)
    }
}

impl std::error::Error for ServerRefusal {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_what_nats_server_sends() {
        let cases = [
            (
                "'Authorization Violation'",
                ServerError::AuthorizationViolation,
            ),
            (
                "User Authentication Expired",
                ServerError::AuthenticationExpired,
            ),
            (
                "Account Authentication Expired",
                ServerError::AuthenticationExpired,
            ),
            (
                "User Authentication Revoked",
                ServerError::AuthenticationRevoked,
            ),
            ("Authentication Timeout", ServerError::AuthenticationTimeout),
            (
                "maximum connections exceeded",
                ServerError::MaxConnectionsExceeded,
            ),
            (
                "maximum subscriptions exceeded",
                ServerError::MaxSubscriptionsExceeded,
            ),
            ("Maximum Payload Violation", ServerError::MaxPayloadExceeded),
            (
                "Maximum Control Line Exceeded",
                ServerError::MaxControlLineExceeded,
            ),
            ("Stale Connection", ServerError::StaleConnection),
            ("Unknown Protocol Operation", ServerError::UnknownProtocol),
            ("Secure Connection - TLS Required", ServerError::TlsRequired),
            ("Invalid Publish Subject", ServerError::InvalidSubject),
            ("something new", ServerError::Other("something new".into())),
        ];
        for (text, expected) in cases {
            assert_eq!(ServerError::parse(text), expected, "{text}");
        }
    }

    #[test]
    fn permissions_violations_carry_operation_subject_and_queue() {
        let sub = ServerError::parse(
            r#"Permissions Violation for Subscription to "a.b" using queue "workers""#,
        );
        assert_eq!(
            sub,
            ServerError::PermissionsViolation {
                operation: PermissionOperation::Subscribe,
                subject: "a.b".into(),
                queue: Some("workers".into()),
                sid: None,
            }
        );
        assert_eq!(
            sub.to_string(),
            r#"permissions violation for subscription to "a.b" using queue "workers""#
        );
        let publish = ServerError::parse(r#"Permissions Violation for Publish to "x""#);
        assert!(matches!(
            publish,
            ServerError::PermissionsViolation { operation: PermissionOperation::Publish, ref subject, queue: None, .. } if subject == "x"
        ));
        let reply =
            ServerError::parse(r#"Permissions Violation for Publish with Reply of "_INBOX.1""#);
        assert!(matches!(
            reply,
            ServerError::PermissionsViolation { operation: PermissionOperation::Publish, ref subject, .. } if subject == "_INBOX.1"
        ));
        assert!(!reply.is_auth_error());
        let reloaded = ServerError::parse(
            r#"Permissions Violation for Subscription to "a" using queue "q" (sid "17")"#,
        );
        assert!(matches!(
            reloaded,
            ServerError::PermissionsViolation { sid: Some(17), queue: Some(ref q), .. } if q == "q"
        ));
        let quoted = ServerError::parse(r#"Permissions Violation for Publish to "a"b""#);
        assert!(
            matches!(quoted, ServerError::PermissionsViolation { ref subject, .. } if subject == "a\"b")
        );
        let tokens = ServerError::parse(
            r#"Permissions Violation for Subscription to "a.b.c", too many tokens"#,
        );
        assert!(
            matches!(tokens, ServerError::PermissionsViolation { ref subject, queue: None, sid: None, .. } if subject == "a.b.c")
        );
    }
}
