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
//! `display`, `meta.created`) are not kept. The engine's version numbers are the SCIM versions
//! (`W/"<n>"`). Version checks and the case-insensitive uniqueness of `userName` and group
//! `displayName` run under one in-process write lock, so a single server process is race-free.

use std::collections::{BTreeSet, HashMap};

use scim::backend::{BackendError, BackendResult, ScimBackend, TenantId};
use scim::claims::WSO2_DIALECT;
use scim::resource::{etag, Address, EnterpriseUser, Manager, Meta, MultiValue, Name, ResourceRef};
use scim::schema::{ENTERPRISE_URN, GROUP_URN, USER_URN};
use scim::{GroupResource, UserResource};
use tokio::sync::Mutex;

use provisioner_engine::store::{GroupRecord, StoreError, UserRecord};
use provisioner_engine::{Engine, EngineError, GroupChange, GroupState, UserChange, UserState};

/// A [`ScimBackend`] that writes through the provisioning [`Engine`].
#[derive(Debug)]
pub struct EngineBackend {
    engine: Engine,
    writes: Mutex<()>,
}

impl EngineBackend {
    /// A backend over `engine`.
    pub fn new(engine: Engine) -> Self {
        Self {
            engine,
            writes: Mutex::new(()),
        }
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

    /// Fails with a conflict if another live user of the tenant has this name (any case).
    async fn check_user_name(&self, tenant: &str, name: &str, except: &str) -> BackendResult<()> {
        let store = self.engine.store();
        if store
            .user_name_taken(tenant, name, except)
            .await
            .map_err(unavailable)?
        {
            return Err(BackendError::Conflict(format!(
                "userName \"{name}\" is already in use"
            )));
        }
        Ok(())
    }

    async fn check_group_name(&self, tenant: &str, name: &str, except: &str) -> BackendResult<()> {
        let store = self.engine.store();
        if store
            .group_name_taken(tenant, name, except)
            .await
            .map_err(unavailable)?
        {
            return Err(BackendError::Conflict(format!(
                "group \"{name}\" already exists"
            )));
        }
        Ok(())
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

    async fn write_user(
        &self,
        tenant: &TenantId,
        change: UserChange,
    ) -> BackendResult<provisioner_engine::ChangeReceipt> {
        let (receipt, outcomes) = self
            .engine
            .apply_user_change_blocking(&tenant.0, change)
            .await
            .map_err(engine_error)?;
        for outcome in outcomes {
            tracing::info!(tenant = %tenant, target = %outcome.target, state = %outcome.state,
                error = ?outcome.error, "blocking provisioning outcome");
        }
        Ok(receipt)
    }
}

fn unavailable(e: StoreError) -> BackendError {
    BackendError::Unavailable(e.to_string())
}

fn engine_error(e: EngineError) -> BackendError {
    match e {
        EngineError::NotFound(_) => BackendError::NotFound,
        EngineError::Conflict(m) => BackendError::Conflict(m),
        EngineError::Invalid(m) => BackendError::Unavailable(format!("rejected change: {m}")),
        EngineError::Store(e) => unavailable(e),
    }
}

fn check_version(record_version: i64, expected: Option<&str>) -> BackendResult<()> {
    match expected {
        Some(v) if v != etag(record_version.max(0) as u64) => Err(BackendError::PreconditionFailed),
        _ => Ok(()),
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

fn meta(kind: &str, version: i64, updated_at: i64) -> Meta {
    let time = scim::resource::format_rfc3339_millis(updated_at);
    Meta {
        resource_type: kind.into(),
        created: time.clone(),
        last_modified: time,
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
        meta: meta("User", r.version, r.updated_at),
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
        meta: meta("Group", g.version, g.updated_at),
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
        let _write = self.writes.lock().await;
        self.check_user_name(&tenant.0, &user.user_name, &user.id)
            .await?;
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
        self.write_user(tenant, UserChange::Create(user_state(&user)))
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
        let _write = self.writes.lock().await;
        let current = self.live_user(&tenant.0, &user.id).await?;
        check_version(current.version, Some(expected_version))?;
        self.check_user_name(&tenant.0, &user.user_name, &user.id)
            .await?;
        self.write_user(tenant, UserChange::Update(user_state(&user)))
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
        let _write = self.writes.lock().await;
        let current = self.live_user(&tenant.0, id).await?;
        check_version(current.version, expected_version)?;
        self.write_user(tenant, UserChange::Delete { id: id.into() })
            .await?;
        // Memberships: a separate change per group (the engine has no multi-entity change).
        // Until they commit, reads already leave the deleted user out of every group.
        for group in self.group_records(&tenant.0).await? {
            if group.members.iter().any(|m| m == id) {
                let state = GroupState {
                    id: group.id.clone(),
                    display_name: group.display_name.clone(),
                    members: group.members.into_iter().filter(|m| m != id).collect(),
                };
                self.engine
                    .apply_group_change(&tenant.0, GroupChange::Update(state))
                    .await
                    .map_err(engine_error)?;
            }
        }
        Ok(())
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
        let _write = self.writes.lock().await;
        self.check_group_name(&tenant.0, &group.display_name, &group.id)
            .await?;
        self.engine
            .apply_group_change(&tenant.0, GroupChange::Create(group_state(&group)))
            .await
            .map_err(engine_error)?;
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
        let _write = self.writes.lock().await;
        let current = self.live_group(&tenant.0, &group.id).await?;
        check_version(current.version, Some(expected_version))?;
        self.check_group_name(&tenant.0, &group.display_name, &group.id)
            .await?;
        self.engine
            .apply_group_change(&tenant.0, GroupChange::Update(group_state(&group)))
            .await
            .map_err(engine_error)?;
        let stored = self.live_group(&tenant.0, &group.id).await?;
        self.render_group(&tenant.0, stored).await
    }

    async fn delete_group(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<&str>,
    ) -> BackendResult<()> {
        let _write = self.writes.lock().await;
        let current = self.live_group(&tenant.0, id).await?;
        check_version(current.version, expected_version)?;
        self.engine
            .apply_group_change(&tenant.0, GroupChange::Delete { id: id.into() })
            .await
            .map_err(engine_error)?;
        for group in self.group_records(&tenant.0).await? {
            if group.members.iter().any(|m| m == id) {
                let state = GroupState {
                    id: group.id.clone(),
                    display_name: group.display_name.clone(),
                    members: group.members.into_iter().filter(|m| m != id).collect(),
                };
                self.engine
                    .apply_group_change(&tenant.0, GroupChange::Update(state))
                    .await
                    .map_err(engine_error)?;
            }
        }
        Ok(())
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
