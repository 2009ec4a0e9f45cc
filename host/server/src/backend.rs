//! [`EngineBackend`]: the SCIM API's storage, over the durable store and the provisioning
//! engine.
//!
//! Every SCIM write is one [`Engine`] change, which commits the local entity together with one
//! outbox job per applicable target in a single transaction. The change carries three views of
//! the resource, written together: the WSO2 claims the engine provisions from
//! ([`scim::user_claims`]), the whole SCIM resource as a document (so every attribute the
//! schema advertises reads back as written), and the search keys of [`scim::index`] (so the
//! filters identity providers send are index lookups). Rows written before documents existed
//! are read back by inverting the claim mapping ([`user_resource`]).
//!
//! Reads cost what they return: a user's `groups` come from the membership index, a group's
//! members are resolved in one batched read, lists the indexes answer are paged in SQL, and
//! removing a deleted entity from groups visits only the groups that hold it. The engine's
//! version numbers are the SCIM versions (`W/"<n>"`).
//!
//! Nothing is shared between requests: the database orders the writes. Version checks run
//! inside each change's transaction ([`Engine::apply_user_change_at`]), and the case-insensitive
//! uniqueness of `userName` and group `displayName` is a unique index, whose violation the engine
//! reports as a conflict (SCIM 409 `uniqueness`). A blocking target's wait starts after the
//! change has committed and holds neither a lock nor a transaction, so one tenant's slow target
//! never delays another tenant's writes.

use std::collections::{BTreeSet, HashMap};

use scim::backend::{BackendError, BackendResult, Membership, Page, ScimBackend, TenantId};
use scim::claims::WSO2_DIALECT;
use scim::index::{self, IndexKey, IndexPlan, IndexedQuery, KeyMatch, SortPlan, TimeAttr, TimeOp};
use scim::resource::{etag, Address, EnterpriseUser, Manager, Meta, MultiValue, Name, ResourceRef};
use scim::schema::{ENTERPRISE_URN, GROUP_URN, USER_URN};
use scim::{GroupResource, UserResource};

use provisioner_engine::store::{
    self as store, EntityCondition, EntityOrder, EntitySearch, EntityTable, GroupRecord, SearchKey,
    StoreError, TimeCmp, TimeField, UserRecord,
};
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

    /// The SCIM groups of `records`; members of groups written before documents existed are
    /// resolved in one batched read.
    async fn groups(
        &self,
        tenant: &TenantId,
        records: &[GroupRecord],
    ) -> BackendResult<Vec<GroupResource>> {
        let legacy: Vec<String> = records
            .iter()
            .filter(|g| g.document.is_none())
            .flat_map(|g| g.members.iter().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let refs: HashMap<String, ResourceRef> = if legacy.is_empty() {
            HashMap::new()
        } else {
            self.member_refs(tenant, &legacy)
                .await?
                .into_iter()
                .map(|r| (r.value.clone(), r))
                .collect()
        };
        records.iter().map(|g| group_resource(g, &refs)).collect()
    }

    async fn group(&self, tenant: &TenantId, id: &str) -> BackendResult<GroupResource> {
        let record = self.live_group(&tenant.0, id).await?;
        let mut groups = self.groups(tenant, std::slice::from_ref(&record)).await?;
        groups.pop().ok_or(BackendError::NotFound)
    }

    /// Gives every user and group stored without a document (written before documents
    /// existed) its document and search keys, read from its claims, so the indexes answer for
    /// them too. Runs once at start; returns how many were indexed.
    pub async fn index_legacy(&self) -> BackendResult<u64> {
        const STEP: u64 = 500;
        let store = self.engine.store();
        let mut indexed = 0;
        loop {
            let records = store
                .users_without_document(STEP)
                .await
                .map_err(unavailable)?;
            let states = records.iter().map(|r| user_state(&user_resource(r)));
            let found: Vec<Legacy> = records
                .iter()
                .zip(states)
                .map(|(r, s)| Legacy::new(&r.tenant, &r.id, r.version, s.document, s.search_keys))
                .collect();
            match self.attach(EntityTable::Users, &found).await? {
                0 => break,
                n => indexed += n,
            }
        }
        loop {
            let records = store
                .groups_without_document(STEP)
                .await
                .map_err(unavailable)?;
            let mut found = Vec::with_capacity(records.len());
            for r in &records {
                let tenant = TenantId::new(r.tenant.clone());
                for g in self.groups(&tenant, std::slice::from_ref(r)).await? {
                    let s = group_state(&g);
                    found.push(Legacy::new(
                        &r.tenant,
                        &r.id,
                        r.version,
                        s.document,
                        s.search_keys,
                    ));
                }
            }
            match self.attach(EntityTable::Groups, &found).await? {
                0 => break,
                n => indexed += n,
            }
        }
        Ok(indexed)
    }

    /// Attaches the documents and keys of `found`; returns how many were attached (an entity
    /// changed since it was read is left for the next step).
    async fn attach(&self, table: EntityTable, found: &[Legacy]) -> BackendResult<u64> {
        let mut attached = 0;
        for l in found {
            let done = self
                .engine
                .store()
                .attach_document(&l.tenant, table, &l.id, l.version, &l.document, &l.keys)
                .await
                .map_err(unavailable)?;
            attached += u64::from(done);
        }
        Ok(attached)
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

    /// Removes `id` from the members of the groups that hold it (found by the membership
    /// index). Each group is one change made against the version just read; a group changed in
    /// between is read again.
    async fn remove_from_groups(&self, tenant: &TenantId, id: &str) -> BackendResult<()> {
        let holding = self
            .engine
            .store()
            .groups_with_member(&tenant.0, id)
            .await
            .map_err(unavailable)?;
        for record in holding {
            let mut record = record;
            for attempt in 1.. {
                if !record.members.iter().any(|m| m == id) {
                    break;
                }
                let mut group = self
                    .groups(tenant, std::slice::from_ref(&record))
                    .await?
                    .pop()
                    .ok_or(BackendError::NotFound)?;
                group.members.retain(|m| m.value != id);
                let mut state = group_state(&group);
                state.members = record
                    .members
                    .iter()
                    .filter(|m| *m != id)
                    .cloned()
                    .collect();
                let change = GroupChange::Update(state);
                match self
                    .engine
                    .apply_group_change_at(&tenant.0, change, Some(record.version))
                    .await
                {
                    Ok(_) | Err(EngineError::NotFound(_)) => break,
                    Err(EngineError::VersionMismatch { .. }) if attempt < MEMBERSHIP_RETRIES => {
                        match self.live_group(&tenant.0, &record.id).await {
                            Ok(fresh) => record = fresh,
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

/// An entity stored without a document, with the document and keys it is to get.
struct Legacy {
    tenant: String,
    id: String,
    version: i64,
    document: String,
    keys: Vec<SearchKey>,
}

impl Legacy {
    fn new(
        tenant: &str,
        id: &str,
        version: i64,
        document: Option<String>,
        keys: Vec<SearchKey>,
    ) -> Self {
        Legacy {
            tenant: tenant.to_owned(),
            id: id.to_owned(),
            version,
            document: document.unwrap_or_default(),
            keys,
        }
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

/// The engine's state of a SCIM user: its claims, its SCIM `roles` as roles, the whole
/// resource as its document (without what is computed on read: `groups`, `meta`) and its
/// search keys.
pub fn user_state(u: &UserResource) -> UserState {
    let stored = UserResource {
        groups: Vec::new(),
        meta: Meta::default(),
        ..u.clone()
    };
    UserState {
        id: u.id.clone(),
        user_name: u.user_name.clone(),
        claims: scim::user_claims(u),
        roles: values(&u.roles),
        document: serde_json::to_string(&stored).ok(),
        search_keys: search_keys(index::user_keys(u)),
    }
}

fn search_keys(keys: Vec<IndexKey>) -> Vec<SearchKey> {
    keys.into_iter()
        .map(|k| SearchKey::new(k.attr, k.value))
        .collect()
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

/// The SCIM user a stored record stands for: its document as written, with `meta` from the
/// record; for a record without a document, the inverse of [`scim::user_claims`]
/// ([`user_from_claims`]).
pub fn user_resource(r: &UserRecord) -> UserResource {
    let stored = r
        .document
        .as_deref()
        .and_then(|d| serde_json::from_str::<UserResource>(d).ok());
    match stored {
        Some(mut u) => {
            u.id = r.id.clone();
            u.groups.clear();
            u.meta = meta("User", r.version, r.created_at, r.updated_at);
            u
        }
        None => user_from_claims(r),
    }
}

/// The SCIM user a record's claims stand for: the inverse of [`scim::user_claims`], so that
/// `user_claims(&user_from_claims(r)) == r.claims` for every record written by this backend.
pub fn user_from_claims(r: &UserRecord) -> UserResource {
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

/// The SCIM group a stored record stands for: its document as written, with `meta` from the
/// record; for a record without a document, its members resolved through `refs` (members that
/// no longer exist are left out).
pub fn group_resource(
    g: &GroupRecord,
    refs: &HashMap<String, ResourceRef>,
) -> BackendResult<GroupResource> {
    let meta = meta("Group", g.version, g.created_at, g.updated_at);
    if let Some(document) = &g.document {
        let mut group: GroupResource = serde_json::from_str(document).map_err(|e| {
            BackendError::Unavailable(format!("group `{}` has a malformed document: {e}", g.id))
        })?;
        group.id = g.id.clone();
        group.meta = meta;
        return Ok(group);
    }
    Ok(GroupResource {
        schemas: vec![GROUP_URN.to_string()],
        id: g.id.clone(),
        external_id: None,
        display_name: g.display_name.clone(),
        members: g
            .members
            .iter()
            .filter_map(|id| refs.get(id).cloned())
            .collect(),
        meta,
    })
}

/// The engine's state of a SCIM group: its member ids, the whole resource as its document
/// (without `meta`) and its search keys.
fn group_state(g: &GroupResource) -> GroupState {
    let stored = GroupResource {
        meta: Meta::default(),
        ..g.clone()
    };
    GroupState {
        id: g.id.clone(),
        display_name: g.display_name.clone(),
        members: g.members.iter().map(|m| m.value.clone()).collect(),
        document: serde_json::to_string(&stored).ok(),
        search_keys: search_keys(index::group_keys(g)),
    }
}

/// An index query in the store's terms.
fn entity_search(q: &IndexedQuery) -> EntitySearch {
    EntitySearch {
        condition: condition(&q.plan),
        order: match q.order {
            SortPlan::Id => EntityOrder::Id,
            SortPlan::Name => EntityOrder::Name,
            SortPlan::Time(attr) => EntityOrder::Time(time_field(attr)),
        },
        descending: q.descending,
        offset: q.offset,
        limit: q.limit,
    }
}

fn condition(plan: &IndexPlan) -> EntityCondition {
    match plan {
        IndexPlan::All => EntityCondition::All,
        IndexPlan::Id(id) => EntityCondition::Id(id.clone()),
        IndexPlan::Key { attr, matching } => EntityCondition::Key {
            attr: (*attr).to_owned(),
            matching: match matching {
                KeyMatch::Equals(v) => store::KeyMatch::Equals(v.clone()),
                KeyMatch::StartsWith(v) => store::KeyMatch::StartsWith(v.clone()),
                KeyMatch::Present => store::KeyMatch::Present,
            },
        },
        IndexPlan::HasMember(id) => EntityCondition::HasMember(id.clone()),
        IndexPlan::Time { attr, op, epoch_ms } => EntityCondition::Time {
            field: time_field(*attr),
            cmp: match op {
                TimeOp::After => TimeCmp::After,
                TimeOp::AtOrAfter => TimeCmp::AtOrAfter,
                TimeOp::Before => TimeCmp::Before,
                TimeOp::AtOrBefore => TimeCmp::AtOrBefore,
            },
            epoch_ms: *epoch_ms,
        },
        IndexPlan::And(parts) => EntityCondition::And(parts.iter().map(condition).collect()),
        IndexPlan::Or(parts) => EntityCondition::Or(parts.iter().map(condition).collect()),
    }
}

fn time_field(attr: TimeAttr) -> TimeField {
    match attr {
        TimeAttr::Created => TimeField::Created,
        TimeAttr::Modified => TimeField::Modified,
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
        self.remove_from_groups(tenant, id).await
    }

    async fn search_users(
        &self,
        tenant: &TenantId,
        query: &IndexedQuery,
    ) -> BackendResult<Option<Page<UserResource>>> {
        let page = self
            .engine
            .store()
            .search_users(&tenant.0, &entity_search(query))
            .await
            .map_err(unavailable)?;
        Ok(Some(Page {
            total: page.total,
            resources: page.items.iter().map(user_resource).collect(),
        }))
    }

    async fn scan_users(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> BackendResult<Vec<UserResource>> {
        let records = self
            .engine
            .store()
            .users_after(&tenant.0, after, limit as u64)
            .await
            .map_err(unavailable)?;
        Ok(records.iter().map(user_resource).collect())
    }

    async fn memberships(
        &self,
        tenant: &TenantId,
        users: &[String],
    ) -> BackendResult<Vec<Membership>> {
        let rows = self
            .engine
            .store()
            .memberships(&tenant.0, users)
            .await
            .map_err(unavailable)?;
        Ok(rows
            .into_iter()
            .map(|(user, group, display)| {
                let group = ResourceRef {
                    value: group,
                    display: Some(display),
                    ..ResourceRef::default()
                };
                (user, group)
            })
            .collect())
    }

    async fn member_refs(
        &self,
        tenant: &TenantId,
        ids: &[String],
    ) -> BackendResult<Vec<ResourceRef>> {
        let store = self.engine.store();
        let users = store
            .users_by_ids(&tenant.0, ids)
            .await
            .map_err(unavailable)?;
        let groups = store
            .groups_by_ids(&tenant.0, ids)
            .await
            .map_err(unavailable)?;
        let users = users.iter().map(|r| {
            let u = user_resource(r);
            ResourceRef {
                value: u.id,
                reference: None,
                display: Some(u.display_name.unwrap_or(u.user_name)),
                kind: Some("User".into()),
            }
        });
        let groups = groups.into_iter().map(|g| ResourceRef {
            value: g.id,
            reference: None,
            display: Some(g.display_name),
            kind: Some("Group".into()),
        });
        Ok(users.chain(groups).collect())
    }

    async fn create_group(
        &self,
        tenant: &TenantId,
        group: GroupResource,
    ) -> BackendResult<GroupResource> {
        let change = GroupChange::Create(group_state(&group));
        self.write_group(tenant, change, None).await?;
        self.group(tenant, &group.id).await
    }

    async fn get_group(&self, tenant: &TenantId, id: &str) -> BackendResult<GroupResource> {
        self.group(tenant, id).await
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
        self.group(tenant, &group.id).await
    }

    async fn delete_group(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<&str>,
    ) -> BackendResult<()> {
        let change = GroupChange::Delete { id: id.into() };
        self.write_group(tenant, change, expected_version).await?;
        self.remove_from_groups(tenant, id).await
    }

    async fn search_groups(
        &self,
        tenant: &TenantId,
        query: &IndexedQuery,
    ) -> BackendResult<Option<Page<GroupResource>>> {
        let page = self
            .engine
            .store()
            .search_groups(&tenant.0, &entity_search(query))
            .await
            .map_err(unavailable)?;
        Ok(Some(Page {
            total: page.total,
            resources: self.groups(tenant, &page.items).await?,
        }))
    }

    async fn scan_groups(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> BackendResult<Vec<GroupResource>> {
        let records = self
            .engine
            .store()
            .groups_after(&tenant.0, after, limit as u64)
            .await
            .map_err(unavailable)?;
        self.groups(tenant, &records).await
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
            document: s.document,
        }
    }

    #[test]
    fn documents_keep_every_attribute() {
        let body = json!({"userName": "bjensen", "active": false,
            "name": {"givenName": "Barbara", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
            "emails": [{"value": "w@x.com", "type": "work", "primary": false, "display": "W"}],
            "addresses": [{"type": "work", "locality": "Here"}, {"type": "home", "country": "NL"}],
            "ims": [{"value": "bj", "type": "xmpp"}], "photos": [{"value": "https://p/1"}],
            "x509Certificates": [{"value": "MIIC"}],
            "roles": [{"value": "admin", "display": "Admin", "primary": true}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                {"manager": {"value": "m1", "$ref": "../Users/m1"}}});
        let mut u: UserResource = serde_json::from_value(body).unwrap();
        u.id = "id-1".into();
        let back = user_resource(&record(&u));
        assert_eq!(
            UserResource {
                meta: back.meta.clone(),
                ..u
            },
            back
        );
        assert_eq!(back.meta.version, "W/\"3\"");
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
            let r = UserRecord {
                document: None,
                ..record(&u)
            };
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
