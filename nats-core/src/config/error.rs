//! [`ConfigError`]: a setting that cannot be used, named.

use std::fmt;

/// What is wrong with a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The value does not parse (a URL, a boolean).
    InvalidValue,
    /// A file it names cannot be read.
    MissingFile,
    /// Two settings that cannot go together, or one that needs another.
    Conflict,
    /// The NATS CLI context does not exist.
    ContextNotFound,
    /// The context file is not a context (not JSON, a field of the wrong type).
    InvalidContext,
    /// A setting this client does not support (an `nsc` lookup, a SOCKS proxy).
    Unsupported,
}

impl fmt::Display for ConfigErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConfigErrorKind::InvalidValue => "invalid value",
            ConfigErrorKind::MissingFile => "file not readable",
            ConfigErrorKind::Conflict => "conflicting settings",
            ConfigErrorKind::ContextNotFound => "context not found",
            ConfigErrorKind::InvalidContext => "invalid context file",
            ConfigErrorKind::Unsupported => "unsupported setting",
        })
    }
}

/// A setting that cannot be used: which one (`NATS_URL`, or a context's field with its file)
/// and why.
///
/// ```
/// use nats_core::{ConfigErrorKind, ConnectConfig};
/// let error = ConnectConfig::from_vars(|name| (name == "NATS_URL").then(|| "nats://:x".to_owned()))
///     .unwrap_err();
/// assert_eq!(error.kind(), ConfigErrorKind::InvalidValue);
/// assert_eq!(error.setting(), "NATS_URL");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    kind: ConfigErrorKind,
    setting: String,
    message: String,
}

impl ConfigError {
    pub(crate) fn new(kind: ConfigErrorKind, setting: String, message: String) -> Self {
        ConfigError {
            kind,
            setting,
            message,
        }
    }

    /// What is wrong.
    pub fn kind(&self) -> ConfigErrorKind {
        self.kind
    }

    /// The setting at fault: an environment variable's name, or `field "creds" of context
    /// "prod" (/home/me/.config/nats/context/prod.json)`.
    pub fn setting(&self) -> &str {
        &self.setting
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

impl std::error::Error for ConfigError {}
