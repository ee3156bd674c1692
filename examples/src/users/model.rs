//! The messages of the user service: what callers send and what they get back. Both service
//! implementations and the typed client use these types, so the wire format is defined once.

use serde::{Deserialize, Serialize};

/// A stored user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Assigned by the service, from 1 upwards.
    pub id: u64,
    /// The user's display name.
    pub name: String,
    /// The user's email address.
    pub email: String,
}

/// The body of `users.create`, and one entry of `user-management.import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    /// The display name: not blank, at most [`MAX_NAME_LEN`] characters.
    pub name: String,
    /// The email address: `local@domain`.
    pub email: String,
}

/// The body of `users.update`: the fields to change; absent ones stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserUpdate {
    /// The user to change.
    pub id: u64,
    /// The new display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The new email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// The body of `users.get` and `users.delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserId {
    /// The user's id.
    pub id: u64,
}

/// The reply of `user-management.import`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    /// How many users were added.
    pub imported: usize,
    /// Their ids, in the order they were given.
    pub ids: Vec<u64>,
}

/// The longest name accepted, in characters.
pub const MAX_NAME_LEN: usize = 100;

/// The longest import accepted, in users.
pub const MAX_IMPORT: usize = 1000;

impl NewUser {
    /// A new user named `name` at `email`.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Self {
        NewUser {
            name: name.into(),
            email: email.into(),
        }
    }

    /// Why this user cannot be stored, if it cannot.
    ///
    /// # Errors
    /// A description of the first invalid field.
    pub fn validate(&self) -> Result<(), String> {
        check_name(&self.name)?;
        check_email(&self.email)
    }
}

impl UserUpdate {
    /// Why this update cannot be applied, if it cannot.
    ///
    /// # Errors
    /// A description of the first invalid field, or of an update that changes nothing.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_none() && self.email.is_none() {
            return Err("nothing to update: give a name or an email".to_owned());
        }
        if let Some(name) = &self.name {
            check_name(name)?;
        }
        if let Some(email) = &self.email {
            check_email(email)?;
        }
        Ok(())
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("name must not be empty".to_owned());
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("name is longer than {MAX_NAME_LEN} characters"));
    }
    Ok(())
}

fn check_email(email: &str) -> Result<(), String> {
    // Deliberately simple: one `@` with something on each side and no spaces.
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.contains('@')
                && !email.contains(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!("email {email:?} is not a valid address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_explains_the_first_bad_field() {
        assert_eq!(NewUser::new("Ann", "ann@example.com").validate(), Ok(()));
        assert_eq!(
            NewUser::new("  ", "ann@example.com").validate(),
            Err("name must not be empty".to_owned())
        );
        assert_eq!(
            NewUser::new("Ann", "ann.example.com").validate(),
            Err(r#"email "ann.example.com" is not a valid address"#.to_owned())
        );
        for bad in ["@x", "a@", "a@b@c", "a b@c"] {
            assert!(NewUser::new("Ann", bad).validate().is_err(), "{bad}");
        }
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert!(NewUser::new(long, "a@b").validate().is_err());
    }

    #[test]
    fn updates_must_change_something_valid() {
        let update = UserUpdate {
            id: 1,
            ..UserUpdate::default()
        };
        assert!(update.validate().is_err());
        let update = UserUpdate {
            id: 1,
            email: Some("new@example.com".into()),
            ..UserUpdate::default()
        };
        assert_eq!(update.validate(), Ok(()));
        let update = UserUpdate {
            id: 1,
            name: Some(String::new()),
            ..UserUpdate::default()
        };
        assert!(update.validate().is_err());
    }
}
