//! [`EngineBackend`]: the SCIM API's storage, over the durable store and the provisioning
//! engine.
//!
//! Every SCIM write is one [`Engine`] change, which commits the local entity together with one
//! outbox job per applicable target in a single transaction. The engine's record is the only
//! copy of a user: SCIM attributes are stored as WSO2 claims ([`scim::user_claims`]) and read
//! back by inverting that mapping ([`user_resource`]), so what is provisioned and what the SCIM
//! API returns can never disagree. The engine derives each update's changed claims from the
//! stored claims, which is what [`scim::changed_claims`] computes on the resources.
//!
//! Attributes without a claim (`password`, `ims`, `photos`, `x509Certificates`, entitlement
//! `display`) are not kept. The engine's version numbers are the SCIM versions
//! (`W/"<n>"`).
//!
//! Nothing is shared between requests: the database orders the writes. Version checks run
//! inside each change's transaction ([`Engine::apply_user_change_at`]), and the case-insensitive
//! uniqueness of `userName` and group `displayName` is a unique index, whose violation the engine
//! reports as a conflict (SCIM 409 `uniqueness`). A blocking target's wait starts after the
//! change has committed and holds neither a lock nor a transaction, so one tenant's slow target
//! never delays another tenant's writes.

use std::collections::{BTreeSet, HashMap};

use scim::backend::{BackendError, BackendResult, ScimBackend, TenantId};
use scim::claims::WSO2_DIALECT;
use scim::resource::{etag, Address, EnterpriseUser, Manager, Meta, MultiValue, Name, ResourceRef};
use scim::schema::{ENTERPRISE_URN, GROUP_URN, USER_URN};
use scim::{GroupResource, UserResource};

use provisioner_engine::store::{GroupRecord, StoreError, UserRecord};
use provisioner_engine::{Engine, EngineError, GroupChange, GroupState, UserChange, UserState};

/// How often removing a deleted entity from one group is retried when that group changes
/// concurrently (each retry reads the group again).
const MEMBERSHIP_RETRIES: usize = 16;

/// A [`ScimBackend`] that writes through the provisioning [`Engine`].
#[derive(Debug)]
pub struct EngineBackend {
    engine: Engine,
}

impl EngineBackend {
    /// A backend over `engine`.
    pub fn new(engine: Engine) -> Self {
        Self { engine }
    }

    /// The engine the backend writes through.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    async fn live_user(&self, tenant: &str, id: &str) -> BackendResult<UserRecord> {
        self.engine
            .store()
            .user(tenant, id)
            .await
            .map_err(unavailable)?
            .filter(|u| !u.deleted)
            .ok_or(BackendError::NotFound)
    }

    async fn live_group(&self, tenant: &str, id: &str) -> BackendResult<GroupRecord> {
        self.engine
            .store()
            .group(tenant, id)
            .await
            .map_err(unavailable)?
            .filter(|g| !g.deleted)
            .ok_or(BackendError::NotFound)
    }

    async fn group_records(&self, tenant: &str) -> BackendResult<Vec<GroupRecord>> {
        let ids = self
            .engine
            .store()
            .live_group_ids(tenant)
            .await
            .map_err(unavailable)?;
        let mut groups = Vec::with_capacity(ids.len());
        for id in ids {
            if let Ok(group) = self.live_group(tenant, &id).await {
                groups.push(group);
            }
        }
        Ok(groups)
    }

    async fn render_group(&self, tenant: &str, g: GroupRecord) -> BackendResult<GroupResource> {
        let users: HashMap<String, UserRecord> = self
            .engine
            .store()
            .users(tenant)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        let groups: HashMap<String, String> = self
            .group_records(tenant)
            .await?
            .into_iter()
            .map(|g| (g.id, g.display_name))
            .collect();
        Ok(group_resource(&g, &users, &groups))
    }

    /// Commits a user change made against `expected` (an ETag; `None`: any version), then waits
    /// for the blocking targets' outcomes, holding nothing shared while it waits.
    async fn write_user(
        &self,
        tenant: &TenantId,
        change: UserChange,
        expected: Option<&str>,
    ) -> BackendResult<()> {
        let expected = expected.map(version_number).transpose()?;
        let receipt = self
            .engine
            .apply_user_change_at(&tenant.0, change, expected)
            .await
            .map_err(engine_error)?;
        let outcomes = self
            .engine
            .wait_for_blocking(&receipt)
            .await
            .map_err(engine_error)?;
        for outcome in outcomes {
            tracing::info!(tenant = %tenant, target = %outcome.target, state = %outcome.state,
                error = ?outcome.error, "blocking provisioning outcome");
        }
        Ok(())
    }

    /// Commits a group change made against `expected` (an ETag; `None`: any version).
    async fn write_group(
        &self,
        tenant: &TenantId,
        change: GroupChange,
        expected: Option<&str>,
    ) -> BackendResult<()> {
        let expected = expected.map(version_number).transpose()?;
        self.engine
            .apply_group_change_at(&tenant.0, change, expected)
            .await
            .map_err(engine_error)?;
        Ok(())
    }

    /// Removes `id` from the members of every group of the tenant. Each group is one change
    /// made against the version just read; a group changed in between is read again.
    async fn remove_from_groups(&self, tenant: &str, id: &str) -> BackendResult<()> {
        for group in self.group_records(tenant).await? {
            let mut group = group;
            for attempt in 1.. {
                if !group.members.iter().any(|m| m == id) {
                    break;
                }
                let state = GroupState {
                    id: group.id.clone(),
                    display_name: group.display_name.clone(),
                    members: group.members.iter().filter(|m| *m != id).cloned().collect(),
                };
                let change = GroupChange::Update(state);
                match self
                    .engine
                    .apply_group_change_at(tenant, change, Some(group.version))
                    .await
                {
                    Ok(_) | Err(EngineError::NotFound(_)) => break,
                    Err(EngineError::VersionMismatch { .. }) if attempt < MEMBERSHIP_RETRIES => {
                        match self.live_group(tenant, &group.id).await {
                            Ok(fresh) => group = fresh,
                            Err(BackendError::NotFound) => break,
                            Err(e) => return Err(e),
                        }
                    }
                    Err(e) => return Err(engine_error(e)),
                }
            }
        }
        Ok(())
    }
}

/// The engine version an ETag (`W/"<n>"`) stands for; an ETag this backend never issued
/// matches no stored version.
fn version_number(etag: &str) -> BackendResult<i64> {
    let digits = etag.trim();
    let digits = digits
        .strip_prefix("W/")
        .unwrap_or(digits)
        .trim_matches('"');
    digits.parse().map_err(|_| BackendError::PreconditionFailed)
}

fn unavailable(e: StoreError) -> BackendError {
    BackendError::Unavailable(e.to_string())
}

fn engine_error(e: EngineError) -> BackendError {
    match e {
        EngineError::NotFound(_) => BackendError::NotFound,
        EngineError::Conflict(m) => BackendError::Conflict(m),
        EngineError::Invalid(m) => BackendError::Unavailable(format!("rejected change: {m}")),
        EngineError::VersionMismatch { .. } => BackendError::PreconditionFailed,
        EngineError::Store(e) => unavailable(e),
    }
}

/// The engine's state of a SCIM user: its claims, and its SCIM `roles` as roles.
pub fn user_state(u: &UserResource) -> UserState {
    UserState {
        id: u.id.clone(),
        user_name: u.user_name.clone(),
        claims: scim::user_claims(u),
        roles: values(&u.roles),
    }
}

fn values(list: &[MultiValue]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    list.iter()
        .filter_map(|v| v.value.clone())
        .filter(|v| seen.insert(v.clone()))
        .collect()
}

fn meta(kind: &str, version: i64, created_at: i64, updated_at: i64) -> Meta {
    Meta {
        resource_type: kind.into(),
        created: scim::resource::format_rfc3339_millis(created_at),
        last_modified: scim::resource::format_rfc3339_millis(updated_at),
        location: None,
        version: etag(version.max(0) as u64),
    }
}

/// The SCIM user a stored record stands for: the inverse of [`scim::user_claims`], so that
/// `user_claims(&user_resource(r)) == r.claims` for every record written by this backend.
pub fn user_resource(r: &UserRecord) -> UserResource {
    let one = |name: &str| -> Option<String> {
        r.claims
            .get(&format!("{WSO2_DIALECT}{name}"))
            .and_then(|v| v.first())
            .cloned()
    };
    let typed = |name: &str, kind: &str| {
        one(name).map(|value| MultiValue {
            value: Some(value),
            kind: Some(kind.into()),
            ..MultiValue::default()
        })
    };

    let mut emails: Vec<MultiValue> = ["work", "home", "other"]
        .iter()
        .filter_map(|t| typed(&format!("emails.{t}"), t))
        .collect();
    if let Some(preferred) = one("emailaddress") {
        match emails
            .iter_mut()
            .find(|e| e.value.as_deref() == Some(&preferred))
        {
            Some(e) => e.primary = Some(true),
            None => emails.insert(
                0,
                MultiValue {
                    value: Some(preferred),
                    primary: Some(true),
                    ..MultiValue::default()
                },
            ),
        }
    }
    let phone_numbers = [
        ("mobile", "mobile"),
        ("telephone", "work"),
        ("phoneNumbers.home", "home"),
        ("otherphone", "other"),
    ]
    .iter()
    .filter_map(|(claim, kind)| typed(claim, kind))
    .collect();
    let address = Address {
        country: one("country"),
        locality: one("locality"),
        region: one("region"),
        postal_code: one("postalcode"),
        street_address: one("streetaddress"),
        formatted: one("addresses"),
        ..Address::default()
    };
    let addresses = if address == Address::default() {
        Vec::new()
    } else {
        vec![address]
    };
    let role_values = r
        .claims
        .get(&format!("{WSO2_DIALECT}role"))
        .cloned()
        .unwrap_or_default();
    let as_values = |list: &mut dyn Iterator<Item = &String>| -> Vec<MultiValue> {
        list.map(|v| MultiValue {
            value: Some(v.clone()),
            ..MultiValue::default()
        })
        .collect()
    };
    let entitlements = as_values(&mut role_values.iter().filter(|v| !r.roles.contains(v)));
    let roles = as_values(&mut r.roles.iter());
    let name = Name {
        formatted: one("fullname"),
        family_name: one("lastname"),
        given_name: one("givenname"),
        middle_name: one("middleName"),
        ..Name::default()
    };
    let enterprise = EnterpriseUser {
        employee_number: one("employeeNumber"),
        cost_center: one("costCenter"),
        organization: one("organization"),
        division: one("division"),
        department: one("department"),
        manager: one("manager").map(|value| Manager {
            value: Some(value),
            ..Manager::default()
        }),
    };
    let enterprise = (enterprise != EnterpriseUser::default()).then_some(enterprise);
    let mut schemas = vec![USER_URN.to_string()];
    if enterprise.is_some() {
        schemas.push(ENTERPRISE_URN.to_string());
    }
    UserResource {
        schemas,
        id: r.id.clone(),
        external_id: one("externalid"),
        user_name: r.user_name.clone(),
        name: (name != Name::default()).then_some(name),
        display_name: one("displayname"),
        nick_name: one("nickname"),
        profile_url: one("url"),
        title: one("title"),
        user_type: one("userType"),
        preferred_language: one("preferredLanguage"),
        locale: one("locale"),
        timezone: one("timeZone"),
        active: one("accountDisabled").map(|d| d != "true"),
        emails,
        phone_numbers,
        addresses,
        entitlements,
        roles,
        enterprise,
        meta: meta("User", r.version, r.created_at, r.updated_at),
        ..UserResource::default()
    }
}

/// The SCIM group a stored record stands for; members that no longer exist are left out.
pub fn group_resource(
    g: &GroupRecord,
    users: &HashMap<String, UserRecord>,
    groups: &HashMap<String, String>,
) -> GroupResource {
    let members = g
        .members
        .iter()
        .filter_map(|id| {
            let (kind, display) = if let Some(u) = users.get(id) {
                let display = user_resource(u)
                    .display_name
                    .unwrap_or_else(|| u.user_name.clone());
                ("User", display)
            } else {
                ("Group", groups.get(id)?.clone())
            };
            Some(ResourceRef {
                value: id.clone(),
                reference: None,
                display: Some(display),
                kind: Some(kind.into()),
            })
        })
        .collect();
    GroupResource {
        schemas: vec![GROUP_URN.to_string()],
        id: g.id.clone(),
        external_id: None,
        display_name: g.display_name.clone(),
        members,
        meta: meta("Group", g.version, g.created_at, g.updated_at),
    }
}

fn group_state(g: &GroupResource) -> GroupState {
    GroupState {
        id: g.id.clone(),
        display_name: g.display_name.clone(),
        members: g.members.iter().map(|m| m.value.clone()).collect(),
    }
}

impl ScimBackend for EngineBackend {
    async fn create_user(
        &self,
        tenant: &TenantId,
        user: UserResource,
    ) -> BackendResult<UserResource> {
        if self
            .engine
            .store()
            .user(&tenant.0, &user.id)
            .await
            .map_err(unavailable)?
            .is_some()
        {
            return Err(BackendError::Conflict("id already in use".into()));
        }
        self.write_user(tenant, UserChange::Create(user_state(&user)), None)
            .await?;
        self.live_user(&tenant.0, &user.id)
            .await
            .map(|r| user_resource(&r))
    }

    async fn get_user(&self, tenant: &TenantId, id: &str) -> BackendResult<UserResource> {
        self.live_user(&tenant.0, id)
            .await
            .map(|r| user_resource(&r))
    }

    async fn replace_user(
        &self,
        tenant: &TenantId,
        user: UserResource,
        expected_version: &str,
    ) -> BackendResult<UserResource> {
        let change = UserChange::Update(user_state(&user));
        self.write_user(tenant, change, Some(expected_version))
            .await?;
        self.live_user(&tenant.0, &user.id)
            .await
            .map(|r| user_resource(&r))
    }

    async fn delete_user(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<&str>,
    ) -> BackendResult<()> {
        let change = UserChange::Delete { id: id.into() };
        self.write_user(tenant, change, expected_version).await?;
        // Memberships: a separate change per group (the engine has no multi-entity change).
        // Until they commit, reads already leave the deleted user out of every group.
        self.remove_from_groups(&tenant.0, id).await
    }

    async fn list_users(&self, tenant: &TenantId) -> BackendResult<Vec<UserResource>> {
        Ok(self
            .engine
            .store()
            .users(&tenant.0)
            .await
            .map_err(unavailable)?
            .iter()
            .map(user_resource)
            .collect())
    }

    async fn create_group(
        &self,
        tenant: &TenantId,
        group: GroupResource,
    ) -> BackendResult<GroupResource> {
        let change = GroupChange::Create(group_state(&group));
        self.write_group(tenant, change, None).await?;
        let stored = self.live_group(&tenant.0, &group.id).await?;
        self.render_group(&tenant.0, stored).await
    }

    async fn get_group(&self, tenant: &TenantId, id: &str) -> BackendResult<GroupResource> {
        let stored = self.live_group(&tenant.0, id).await?;
        self.render_group(&tenant.0, stored).await
    }

    async fn replace_group(
        &self,
        tenant: &TenantId,
        group: GroupResource,
        expected_version: &str,
    ) -> BackendResult<GroupResource> {
        let change = GroupChange::Update(group_state(&group));
        self.write_group(tenant, change, Some(expected_version))
            .await?;
        let stored = self.live_group(&tenant.0, &group.id).await?;
        self.render_group(&tenant.0, stored).await
    }

    async fn delete_group(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<&str>,
    ) -> BackendResult<()> {
        let change = GroupChange::Delete { id: id.into() };
        self.write_group(tenant, change, expected_version).await?;
        self.remove_from_groups(&tenant.0, id).await
    }

    async fn list_groups(&self, tenant: &TenantId) -> BackendResult<Vec<GroupResource>> {
        let records = self.group_records(&tenant.0).await?;
        let users: HashMap<String, UserRecord> = self
            .engine
            .store()
            .users(&tenant.0)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        let names: HashMap<String, String> = records
            .iter()
            .map(|g| (g.id.clone(), g.display_name.clone()))
            .collect();
        Ok(records
            .iter()
            .map(|g| group_resource(g, &users, &names))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(u: &UserResource) -> UserRecord {
        let s = user_state(u);
        UserRecord {
            tenant: "t".into(),
            id: s.id,
            user_name: s.user_name,
            claims: s.claims,
            roles: s.roles,
            version: 3,
            deleted: false,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn claims_round_trip() {
        for body in [
            json!({"userName": "samuel@wso2.com", "name": {"familyName": "Gnaniah"},
                   "emails": [{"value": "samuel@wso2.com"}],
                   "entitlements": [{"value": "00e90000001aV2o", "display": "ChatterFreeUser"}]}),
            json!({"userName": "bjensen", "active": false, "title": "Guide",
                   "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "B J"},
                   "emails": [{"value": "h@x.org", "type": "home"}, {"value": "w@x.com", "type": "work"}],
                   "phoneNumbers": [{"value": "1", "type": "mobile"}, {"value": "2", "type": "work"}],
                   "addresses": [{"country": "USA", "locality": "Here"}],
                   "roles": [{"value": "admin"}], "entitlements": [{"value": "e1"}],
                   "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                       {"employeeNumber": "42", "manager": {"value": "m1"}}}),
        ] {
            let mut u: UserResource = serde_json::from_value(body).unwrap();
            u.id = "id-1".into();
            let r = record(&u);
            let back = user_resource(&r);
            assert_eq!(scim::user_claims(&back), r.claims);
            assert_eq!(user_state(&back).roles, r.roles);
            assert_eq!(back.meta.version, "W/\"3\"");
        }
    }

    #[test]
    fn formats_times() {
        let rfc3339 = scim::resource::format_rfc3339_millis;
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }
}
