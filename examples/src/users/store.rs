//! [`UserStore`]: the users, in memory behind a lock. Every rule of the service lives here, so
//! the macro-built and the hand-built service only forward requests to it.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::RwLock;

use super::error::UserError;
use super::model::{ImportReport, NewUser, User, UserUpdate, MAX_IMPORT};

/// The users of one service instance. Cheap to clone: clones share the same users.
#[derive(Debug, Clone, Default)]
pub struct UserStore {
    inner: Arc<RwLock<Users>>,
}

#[derive(Debug, Default)]
struct Users {
    /// The last id given out; ids are never reused.
    last_id: u64,
    by_id: BTreeMap<u64, User>,
}

impl Users {
    fn insert(&mut self, new: NewUser) -> User {
        self.last_id += 1;
        let user = User {
            id: self.last_id,
            name: new.name,
            email: new.email,
        };
        self.by_id.insert(user.id, user.clone());
        user
    }
}

impl UserStore {
    /// An empty store.
    pub fn new() -> Self {
        UserStore::default()
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.inner.read().by_id.len()
    }

    /// Whether there are no users.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds a user and gives it the next id.
    ///
    /// # Errors
    /// [`UserError::InvalidInput`] when a field is invalid.
    pub fn create(&self, new: NewUser) -> Result<User, UserError> {
        new.validate().map_err(UserError::InvalidInput)?;
        Ok(self.inner.write().insert(new))
    }

    /// The user `id`.
    ///
    /// # Errors
    /// [`UserError::NotFound`] when there is none.
    pub fn get(&self, id: u64) -> Result<User, UserError> {
        self.inner
            .read()
            .by_id
            .get(&id)
            .cloned()
            .ok_or(UserError::NotFound(id))
    }

    /// Changes the fields `update` gives.
    ///
    /// # Errors
    /// [`UserError::InvalidInput`] when a field is invalid or nothing would change,
    /// [`UserError::NotFound`] when there is no such user.
    pub fn update(&self, update: UserUpdate) -> Result<User, UserError> {
        update.validate().map_err(UserError::InvalidInput)?;
        let mut users = self.inner.write();
        let user = users
            .by_id
            .get_mut(&update.id)
            .ok_or(UserError::NotFound(update.id))?;
        if let Some(name) = update.name {
            user.name = name;
        }
        if let Some(email) = update.email {
            user.email = email;
        }
        Ok(user.clone())
    }

    /// Removes the user `id` and returns it.
    ///
    /// # Errors
    /// [`UserError::NotFound`] when there is none.
    pub fn delete(&self, id: u64) -> Result<User, UserError> {
        self.inner
            .write()
            .by_id
            .remove(&id)
            .ok_or(UserError::NotFound(id))
    }

    /// Adds every user of `users`, or none of them if one is invalid.
    ///
    /// # Errors
    /// [`UserError::InvalidInput`] for an empty or too long list, or naming the first invalid
    /// entry by its index.
    pub fn import(&self, users: Vec<NewUser>) -> Result<ImportReport, UserError> {
        if users.is_empty() {
            return Err(UserError::InvalidInput("no users to import".to_owned()));
        }
        if users.len() > MAX_IMPORT {
            return Err(UserError::InvalidInput(format!(
                "{} users to import, at most {MAX_IMPORT} at once",
                users.len()
            )));
        }
        for (index, user) in users.iter().enumerate() {
            user.validate()
                .map_err(|why| UserError::InvalidInput(format!("users[{index}]: {why}")))?;
        }
        let mut store = self.inner.write();
        let ids: Vec<u64> = users.into_iter().map(|u| store.insert(u).id).collect();
        Ok(ImportReport {
            imported: ids.len(),
            ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann() -> NewUser {
        NewUser::new("Ann", "ann@example.com")
    }

    #[test]
    fn users_live_until_deleted() {
        let store = UserStore::new();
        let user = store.create(ann()).expect("valid");
        assert_eq!(user.id, 1);
        assert_eq!(store.get(1), Ok(user.clone()));
        let update = UserUpdate {
            id: 1,
            name: Some("Ann Lee".into()),
            email: None,
        };
        let updated = store.update(update).expect("exists");
        assert_eq!(
            (updated.name.as_str(), updated.email.as_str()),
            ("Ann Lee", "ann@example.com")
        );
        assert_eq!(store.delete(1), Ok(updated));
        assert_eq!(store.get(1), Err(UserError::NotFound(1)));
        assert_eq!(store.delete(1), Err(UserError::NotFound(1)));
        assert_eq!(
            store.create(ann()).map(|u| u.id),
            Ok(2),
            "ids are not reused"
        );
    }

    #[test]
    fn imports_are_all_or_nothing() {
        let store = UserStore::new();
        let bad = vec![ann(), NewUser::new("Bob", "nope")];
        assert_eq!(
            store.import(bad),
            Err(UserError::InvalidInput(
                r#"users[1]: email "nope" is not a valid address"#.to_owned()
            ))
        );
        assert!(store.is_empty());
        let report = store
            .import(vec![ann(), NewUser::new("Bob", "bob@example.com")])
            .expect("valid");
        assert_eq!(report.ids, [1, 2]);
        assert_eq!(store.len(), 2);
        assert!(store.import(Vec::new()).is_err());
    }
}
