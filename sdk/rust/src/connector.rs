//! The [`Connector`] trait: what a connector implements. Every function but
//! [`Connector::metadata`] has a default, so a connector writes only what its target needs.

use crate::{
    error, schema, Change, ConfigProblem, ConnectorConfig, ConnectorMetadata, Context, Entity,
    Group, ListRequest, LookupKey, Operation, ProvisionError, ProvisionOutcome, RemoteObject,
    RemotePage, User,
};

/// A provisioning connector. Implement it on a unit type and export it with
/// [`crate::export_connector!`].
///
/// The functions take no `self`: the host instantiates the component afresh for every call, so
/// there is no state to keep between calls. Everything a call needs arrives in its [`Context`]
/// and arguments.
pub trait Connector {
    /// Static facts: id, name, version, entity kinds, configuration schema, batch size.
    fn metadata() -> ConnectorMetadata;

    /// Checks a configuration without touching the network; empty means usable. Defaults to
    /// [`schema::check`] against [`Connector::metadata`]'s properties.
    fn validate(config: &ConnectorConfig) -> Vec<ConfigProblem> {
        schema::check(&Self::metadata().properties, config)
    }

    /// Applies one change. Defaults to the `create_*`, `update_*` and `delete_*` function for
    /// its operation and entity.
    fn provision(cx: &Context, change: &Change) -> Result<ProvisionOutcome, ProvisionError> {
        match (&change.operation, &change.entity) {
            (Operation::Create, Entity::User(user)) => Self::create_user(cx, user),
            (Operation::Update, Entity::User(user)) => Self::update_user(cx, user),
            (Operation::Delete, Entity::User(user)) => Self::delete_user(cx, user),
            (Operation::Create, Entity::Group(group)) => Self::create_group(cx, group),
            (Operation::Update, Entity::Group(group)) => Self::update_group(cx, group),
            (Operation::Delete, Entity::Group(group)) => Self::delete_group(cx, group),
        }
    }

    /// Applies up to `max-batch-size` changes, one result per change in order. Defaults to one
    /// [`Connector::provision`] per change.
    fn provision_batch(
        cx: &Context,
        changes: &[Change],
    ) -> Vec<Result<ProvisionOutcome, ProvisionError>> {
        changes
            .iter()
            .map(|change| Self::provision(cx, change))
            .collect()
    }

    /// Finds a remote entity by an attribute or by the connector's correlation rule; the host
    /// uses it to resolve writes of unknown outcome. Defaults to `unsupported`.
    fn lookup(cx: &Context, key: &LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
        let _ = (cx, key);
        Err(error::unsupported(
            "this connector cannot look up remote entities",
        ))
    }

    /// Reads one page of remote entities, for reconciliation. Defaults to `unsupported`.
    fn list_entities(cx: &Context, request: &ListRequest) -> Result<RemotePage, ProvisionError> {
        let _ = (cx, request);
        Err(error::unsupported(
            "this connector cannot list remote entities",
        ))
    }

    /// Creates a user; returns the target's id for it. Defaults to `unsupported`.
    fn create_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
        let _ = (cx, user);
        Err(error::unsupported("this connector does not create users"))
    }

    /// Updates a user (`user.remote_id` is the target's id, when known). Defaults to
    /// `unsupported`.
    fn update_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
        let _ = (cx, user);
        Err(error::unsupported("this connector does not update users"))
    }

    /// Deletes a user. Defaults to `unsupported`.
    fn delete_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
        let _ = (cx, user);
        Err(error::unsupported("this connector does not delete users"))
    }

    /// Creates a group. Defaults to `unsupported`.
    fn create_group(cx: &Context, group: &Group) -> Result<ProvisionOutcome, ProvisionError> {
        let _ = (cx, group);
        Err(error::unsupported(
            "this connector does not provision groups",
        ))
    }

    /// Updates a group. Defaults to `unsupported`.
    fn update_group(cx: &Context, group: &Group) -> Result<ProvisionOutcome, ProvisionError> {
        let _ = (cx, group);
        Err(error::unsupported(
            "this connector does not provision groups",
        ))
    }

    /// Deletes a group. Defaults to `unsupported`.
    fn delete_group(cx: &Context, group: &Group) -> Result<ProvisionOutcome, ProvisionError> {
        let _ = (cx, group);
        Err(error::unsupported(
            "this connector does not provision groups",
        ))
    }
}

impl ProvisionOutcome {
    /// Success with the target's id for the entity (none when the target returned none; never
    /// invent one).
    pub fn created(remote_id: Option<String>) -> Self {
        ProvisionOutcome {
            remote_id,
            warnings: vec![],
        }
    }

    /// Success that leaves the host with no remote id: for a delete, the remote entity is gone
    /// and the host drops its mapping.
    pub fn gone() -> Self {
        Self::created(None)
    }

    /// Adds a non-fatal note, e.g. an optional step that failed.
    pub fn warning(mut self, warning: impl Into<String>) -> Self {
        self.warnings.push(warning.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{self, MockHost};
    use crate::{ConfigProperty, EntityKind, ListRequest};

    /// Creates users only, answering with the user name as remote id.
    struct Minimal;

    impl Connector for Minimal {
        fn metadata() -> ConnectorMetadata {
            ConnectorMetadata::new("minimal", "Minimal", "0.1.0", "Test connector.")
                .property(ConfigProperty::url("endpoint").required())
        }

        fn create_user(_: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
            Ok(ProvisionOutcome::created(Some(user.name.clone())).warning("note"))
        }
    }

    fn group() -> Group {
        Group {
            local_id: "g1".into(),
            name: "devs".into(),
            remote_id: None,
            members: vec![],
            added_members: vec![],
            removed_members: vec![],
            previous_name: None,
        }
    }

    #[test]
    fn provision_dispatches_by_operation_and_entity() {
        let host = MockHost::new();
        let config = mock::config();
        let cx = Context::new(&host, &config);
        let alice = User::new("u1", "alice");
        let created = Minimal::provision(&cx, &Change::create(alice.clone())).unwrap();
        assert_eq!(created.remote_id.as_deref(), Some("alice"));
        assert_eq!(created.warnings, ["note"]);
        for (change, what) in [
            (Change::update(alice.clone()), "update users"),
            (Change::delete(alice), "delete users"),
            (
                Change {
                    operation: Operation::Create,
                    entity: Entity::Group(group()),
                },
                "provision groups",
            ),
        ] {
            match Minimal::provision(&cx, &change) {
                Err(ProvisionError::Unsupported(d)) => assert!(d.message.contains(what), "{d:?}"),
                other => panic!("expected unsupported, got {other:?}"),
            }
        }
        assert!(host.requests().is_empty());
    }

    #[test]
    fn batches_answer_one_result_per_change_in_order() {
        let host = MockHost::new();
        let config = mock::config();
        let cx = Context::new(&host, &config);
        let changes = [
            Change::create(User::new("u1", "a")),
            Change::delete(User::new("u2", "b")),
            Change::create(User::new("u3", "c")),
        ];
        let results = Minimal::provision_batch(&cx, &changes);
        assert_eq!(results.len(), 3);
        assert_eq!(results[0].as_ref().unwrap().remote_id.as_deref(), Some("a"));
        assert!(matches!(results[1], Err(ProvisionError::Unsupported(_))));
        assert_eq!(results[2].as_ref().unwrap().remote_id.as_deref(), Some("c"));
    }

    #[test]
    fn lookup_and_listing_default_to_unsupported() {
        let host = MockHost::new();
        let config = mock::config();
        let cx = Context::new(&host, &config);
        let key = LookupKey::Entity(Entity::User(User::new("u1", "a")));
        assert!(matches!(
            Minimal::lookup(&cx, &key),
            Err(ProvisionError::Unsupported(_))
        ));
        let request = ListRequest {
            kind: EntityKind::User,
            cursor: None,
            page_size: 10,
        };
        assert!(matches!(
            Minimal::list_entities(&cx, &request),
            Err(ProvisionError::Unsupported(_))
        ));
    }

    #[test]
    fn validate_defaults_to_the_schema_check() {
        let problems = Minimal::validate(&mock::config());
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].key.as_deref(), Some("endpoint"));
        assert!(Minimal::validate(&mock::config().with_text("endpoint", "https://x")).is_empty());
    }
}
