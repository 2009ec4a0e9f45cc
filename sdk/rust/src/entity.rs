//! Builders and accessors for the entities a change carries: users, groups and changes.

use crate::{Change, Claim, Entity, Group, Operation, User};

impl User {
    /// A user with no claims and no remote id yet.
    pub fn new(local_id: &str, name: &str) -> Self {
        User {
            local_id: local_id.into(),
            name: name.into(),
            remote_id: None,
            claims: vec![],
            changed_claims: vec![],
            previous_name: None,
        }
    }

    /// Adds claim `uri` with one value.
    pub fn with_claim(self, uri: &str, value: &str) -> Self {
        self.with_claim_values(uri, &[value])
    }

    /// Adds claim `uri` with several values.
    pub fn with_claim_values(mut self, uri: &str, values: &[&str]) -> Self {
        self.claims.push(Claim {
            uri: uri.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        });
        self
    }

    /// Sets the target's id from an earlier call.
    pub fn with_remote_id(mut self, remote_id: &str) -> Self {
        self.remote_id = Some(remote_id.into());
        self
    }

    /// Marks claim `uri` as changed by this update.
    pub fn with_changed(mut self, uri: &str) -> Self {
        self.changed_claims.push(uri.into());
        self
    }
}

impl Change {
    /// A user was created.
    pub fn create(user: User) -> Self {
        Self::of(Operation::Create, user)
    }

    /// A user was updated.
    pub fn update(user: User) -> Self {
        Self::of(Operation::Update, user)
    }

    /// A user was deleted.
    pub fn delete(user: User) -> Self {
        Self::of(Operation::Delete, user)
    }

    fn of(operation: Operation, user: User) -> Self {
        Change {
            operation,
            entity: Entity::User(user),
        }
    }

    /// The changed user, if the change is about a user.
    pub fn user(&self) -> Option<&User> {
        match &self.entity {
            Entity::User(user) => Some(user),
            Entity::Group(_) => None,
        }
    }

    /// The changed group, if the change is about a group.
    pub fn group(&self) -> Option<&Group> {
        match &self.entity {
            Entity::Group(group) => Some(group),
            Entity::User(_) => None,
        }
    }
}

impl Entity {
    /// The entity's stable local id.
    pub fn local_id(&self) -> &str {
        match self {
            Entity::User(user) => &user.local_id,
            Entity::Group(group) => &group.local_id,
        }
    }

    /// The entity's id in the target, when an earlier call returned one.
    pub fn remote_id(&self) -> Option<&str> {
        match self {
            Entity::User(user) => user.remote_id.as_deref(),
            Entity::Group(group) => group.remote_id.as_deref(),
        }
    }

    /// The user name or group display name.
    pub fn name(&self) -> &str {
        match self {
            Entity::User(user) => &user.name,
            Entity::Group(group) => &group.name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::EMAIL;

    #[test]
    fn builders_and_accessors_agree() {
        let user = User::new("u1", "alice")
            .with_claim(EMAIL, "a@example.com")
            .with_remote_id("r1")
            .with_changed(EMAIL);
        let change = Change::update(user);
        assert_eq!(change.operation, Operation::Update);
        let user = change.user().expect("a user change");
        assert_eq!(user.claim(EMAIL), Some("a@example.com"));
        assert!(user.changed(EMAIL));
        assert!(change.group().is_none());
        assert_eq!(change.entity.local_id(), "u1");
        assert_eq!(change.entity.remote_id(), Some("r1"));
        assert_eq!(change.entity.name(), "alice");
        assert_eq!(
            Change::delete(User::new("u2", "b")).operation,
            Operation::Delete
        );
    }
}
