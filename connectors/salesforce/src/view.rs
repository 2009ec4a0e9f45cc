//! What the logic reads of a local change or lookup key: users and groups alike, as borrowed
//! views, so `provision` and `lookup` are written once for both kinds of entity.

use provisioner_sdk::{AttributeMatch, Claim, EntityKind, LookupKey, Member, Operation};

/// A local entity: a user or a group, with the fields its kind has (others are empty).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntityView<'a> {
    /// User or group.
    pub kind: EntityKind,
    /// Stable local identifier.
    pub local_id: &'a str,
    /// User name (possibly `DOMAIN/name`) or group display name.
    pub name: &'a str,
    /// Identifier in this target from an earlier successful call, if any.
    pub remote_id: Option<&'a str>,
    /// Users: the full current claims (empty on delete).
    pub claims: &'a [Claim],
    /// Users, on update: URIs of the claims whose values changed.
    pub changed_claims: &'a [String],
    /// The previous name when the change renamed the entity.
    pub previous_name: Option<&'a str>,
    /// Groups: current members.
    pub members: &'a [Member],
}

/// A local change: what happened, and to what.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeView<'a> {
    /// Create, update or delete.
    pub operation: Operation,
    /// The entity changed.
    pub entity: EntityView<'a>,
}

/// What a lookup searches for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KeyView<'a> {
    /// An explicit target attribute.
    Attribute(&'a AttributeMatch),
    /// The connector's correlation rule for this local entity.
    Entity(EntityView<'a>),
}

impl<'a> From<&'a LookupKey> for KeyView<'a> {
    fn from(key: &'a LookupKey) -> Self {
        match key {
            LookupKey::Attribute(a) => KeyView::Attribute(a),
            LookupKey::Entity(e) => KeyView::Entity(e.into()),
        }
    }
}

/// The contract's `entity` is a variant; the operation travels in `change`.
mod from_contract {
    use super::{ChangeView, EntityView};
    use provisioner_sdk::{Change, Entity, EntityKind};

    impl<'a> From<&'a Entity> for EntityView<'a> {
        fn from(entity: &'a Entity) -> Self {
            match entity {
                Entity::User(u) => EntityView {
                    kind: EntityKind::User,
                    local_id: &u.local_id,
                    name: &u.name,
                    remote_id: u.remote_id.as_deref(),
                    claims: &u.claims,
                    changed_claims: &u.changed_claims,
                    previous_name: u.previous_name.as_deref(),
                    members: &[],
                },
                Entity::Group(g) => EntityView {
                    kind: EntityKind::Group,
                    local_id: &g.local_id,
                    name: &g.name,
                    remote_id: g.remote_id.as_deref(),
                    claims: &[],
                    changed_claims: &[],
                    previous_name: g.previous_name.as_deref(),
                    members: &g.members,
                },
            }
        }
    }

    impl<'a> From<&'a Change> for ChangeView<'a> {
        fn from(change: &'a Change) -> Self {
            ChangeView {
                operation: change.operation,
                entity: (&change.entity).into(),
            }
        }
    }
}
