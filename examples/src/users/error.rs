//! [`UserError`]: how the user service fails, and the error replies it becomes.

use std::fmt;

use nats_micro::ServiceError;

/// The code of error replies to requests with missing or invalid fields.
pub const INVALID_INPUT: &str = "INVALID_INPUT";

/// The code of error replies naming a user that does not exist.
pub const USER_NOT_FOUND: &str = "USER_NOT_FOUND";

/// A request the user service refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserError {
    /// A field is missing or invalid; the text says which and why.
    InvalidInput(String),
    /// No user has this id.
    NotFound(u64),
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserError::InvalidInput(why) => f.write_str(why),
            UserError::NotFound(id) => write!(f, "no user with id {id}"),
        }
    }
}

impl std::error::Error for UserError {}

impl UserError {
    /// The code of its error reply: [`INVALID_INPUT`] or [`USER_NOT_FOUND`].
    pub fn code(&self) -> &'static str {
        match self {
            UserError::InvalidInput(_) => INVALID_INPUT,
            UserError::NotFound(_) => USER_NOT_FOUND,
        }
    }
}

/// The error reply: `Nats-Service-Error-Code` is the code, `Nats-Service-Error` the text.
impl From<UserError> for ServiceError {
    fn from(error: UserError) -> Self {
        ServiceError::new(error.code(), error.to_string())
    }
}
