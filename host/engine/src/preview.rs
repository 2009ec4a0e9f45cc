//! What the engine would send for one user to one target, decided as a job run decides it but
//! without calling anything: whether the user is in the target's scope and why (provisioning
//! roles required and held, its own or through its groups; the scoping filter), the operation
//! (a create without a remote id, else an update of every field), the change the connector
//! would receive, and which claim or default produces each mapped field.

use serde::Serialize;

use crate::execute::user_claims;
use crate::mapping::{self, FieldProvenance};
use crate::store::{Claims, ScopeFilter, StoreResult, TargetRecord, UserRecord};
use crate::{logged_fields, scope, Engine};
use provisioner_contract::{Change, Claim, Entity, EntityKind, Operation, User};

/// The provisioning-role half of a scope decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RoleDecision {
    /// The target's provisioning roles (empty: every user is in scope).
    pub required: Vec<String>,
    /// The user's effective roles: its own, then the display names of its groups.
    pub held: Vec<String>,
    /// The groups among `held` (a group named after a role grants it to its members).
    pub via_groups: Vec<String>,
    /// Whether no role is required or the user holds one of them.
    pub matched: bool,
}

/// The scoping-filter half of a scope decision.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FilterDecision {
    /// The target's scoping filter on claims, if it has one.
    pub expression: Option<ScopeFilter>,
    /// Whether there is no filter or the user's claims match it.
    pub matched: bool,
}

/// What the engine would send for one user to one target (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    /// The user, as stored now.
    pub user: UserRecord,
    /// Whether the target provisions the user (live, roles and filter matched).
    pub in_scope: bool,
    /// The role decision.
    pub roles: RoleDecision,
    /// The filter decision.
    pub filter: FilterDecision,
    /// The user's remote id in the target, if it has been provisioned there.
    pub remote_id: Option<String>,
    /// The change a job would send now; none when the user is out of scope (a job would then
    /// deprovision it, or do nothing if it was never provisioned).
    pub change: Option<Change>,
    /// Every mapped field with the claim or default that produces it, secret-looking values
    /// redacted.
    pub fields: Vec<FieldProvenance>,
}

impl Preview {
    /// The operation a job would send: a create without a remote id, an update with one; none
    /// out of scope.
    pub fn operation(&self) -> Option<Operation> {
        self.change.as_ref().map(|change| change.operation)
    }
}

/// The change a job sends for `user` (with `claims`, its claims as a job sends them): a create
/// without a remote id, else an update of every field (as a replayed create does).
pub(crate) fn change_for(
    user: &UserRecord,
    claims: Vec<Claim>,
    remote_id: Option<String>,
) -> Change {
    let (operation, changed_claims) = match remote_id {
        None => (Operation::Create, Vec::new()),
        Some(_) => (
            Operation::Update,
            claims.iter().map(|claim| claim.uri.clone()).collect(),
        ),
    };
    Change {
        operation,
        entity: Entity::User(User {
            local_id: user.id.clone(),
            name: user.user_name.clone(),
            remote_id,
            claims,
            changed_claims,
            previous_name: None,
        }),
    }
}

impl Engine {
    /// What a job would send for `user` to `target` now (see the module documentation).
    pub async fn preview_user(
        &self,
        target: &TargetRecord,
        user: UserRecord,
    ) -> StoreResult<Preview> {
        let tenant = &target.spec.tenant;
        let settings = &target.spec.settings;
        let via_groups = self
            .store()
            .group_names_with_member(tenant, &user.id)
            .await?;
        let in_scope = scope::applies(settings, &user, &via_groups);
        let mut held = user.roles.clone();
        held.extend(via_groups.iter().cloned());
        let roles = RoleDecision {
            required: settings.provisioning_roles.clone(),
            matched: settings.provisioning_roles.is_empty()
                || settings
                    .provisioning_roles
                    .iter()
                    .any(|role| held.contains(role)),
            held,
            via_groups,
        };
        let filter = FilterDecision {
            expression: settings.scope_filter.clone(),
            matched: settings
                .scope_filter
                .as_ref()
                .is_none_or(|filter| filter.matches(&user.claims)),
        };
        let remote_id = self
            .store()
            .remote_id(tenant, &target.spec.name, EntityKind::User, &user.id)
            .await?;
        let claims = user_claims(&user);
        let sent: Claims = claims
            .iter()
            .map(|claim| (claim.uri.clone(), claim.values.clone()))
            .collect();
        let mut fields = mapping::provenance(&target.spec.claim_mappings, &sent);
        logged_fields::redact(&mut fields);
        let change = in_scope.then(|| change_for(&user, claims, remote_id.clone()));
        Ok(Preview {
            user,
            in_scope,
            roles,
            filter,
            remote_id,
            change,
            fields,
        })
    }
}
