//! Resource kinds: everything that differs between Users and Groups, behind one trait.
//!
//! [`ScimResourceKind`] is implemented by the marker types [`User`] and [`Group`]. It carries
//! the kind's name, endpoint and schema URNs ([`ScimResourceKind::KIND`]), its backend calls,
//! its (de)serialisation and the kind-specific steps of a write, so that every operation (the
//! resource operations in `ops`, the HTTP handlers, `/Bulk`) is written once, generic over it.

use std::future::Future;

use serde::Serialize;
use serde_json::Value;

use crate::auth;
use crate::backend::{BackendResult, Page, ScimBackend, TenantId};
use crate::config::UnknownMembers;
use crate::error::{ScimError, ScimResult};
use crate::index::IndexedQuery;
use crate::resource::{GroupResource, ResourceRef, ScimResource, UserResource};
use crate::schema::ResourceKind;

/// Which write a resource is being prepared for; replace and patch carry the stored version.
#[derive(Debug, Clone, Copy)]
pub enum Write<'a, R> {
    /// A new resource (POST).
    Create,
    /// A full replacement (PUT) of the stored resource.
    Replace(&'a R),
    /// A PATCH of the stored resource.
    Patch(&'a R),
}

/// One SCIM resource type as the protocol layer sees it.
pub trait ScimResourceKind: Send + Sync + 'static {
    /// The typed resource.
    type Resource: ScimResource + Clone + PartialEq + Serialize + Send + Sync + 'static;

    /// Name, endpoint segment and schema URNs of the kind.
    const KIND: ResourceKind;

    /// Parses and validates a client-supplied body; read-only attributes are dropped.
    fn from_request(body: Value) -> ScimResult<Self::Resource>;

    /// Deserialises a canonicalised JSON value (e.g. a patched resource) and checks invariants.
    fn from_value(body: Value) -> ScimResult<Self::Resource>;

    /// Stores a new resource.
    fn create<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        r: Self::Resource,
    ) -> impl Future<Output = BackendResult<Self::Resource>> + Send;

    /// Reads one resource.
    fn get<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        id: &str,
    ) -> impl Future<Output = BackendResult<Self::Resource>> + Send;

    /// Replaces a resource if its stored version equals `expected_version`.
    fn replace<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        r: Self::Resource,
        expected_version: &str,
    ) -> impl Future<Output = BackendResult<Self::Resource>> + Send;

    /// Deletes a resource if its stored version equals `expected_version` (`None`: any).
    fn delete<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<&str>,
    ) -> impl Future<Output = BackendResult<()>> + Send;

    /// A page answering `query` from the backend's indexes (`None`: it has none).
    fn search<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        query: &IndexedQuery,
    ) -> impl Future<Output = BackendResult<Option<Page<Self::Resource>>>> + Send;

    /// Up to `limit` resources with ids after `after`, by id.
    fn scan<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = BackendResult<Vec<Self::Resource>>> + Send;

    /// Completes a validated resource (its `id` already set) before it is written: a user's
    /// password is hashed, a group's members are resolved (unknown ones by `unknown`).
    fn prepare<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        unknown: UnknownMembers,
        write: Write<'_, Self::Resource>,
        r: &mut Self::Resource,
    ) -> impl Future<Output = ScimResult<()>> + Send;

    /// Renders a stored resource for output under `base` (the SCIM 2 base URL); `groups` are
    /// the groups a user belongs to (`value` and `display` set), for its `groups` attribute.
    fn render(r: &Self::Resource, base: &str, groups: &[ResourceRef]) -> Value;

    /// Renders stored resources, reading from the backend what the rendering refers to (for
    /// users, their groups: one read for the whole slice).
    fn render_stored<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        base: &str,
        rs: &[Self::Resource],
    ) -> impl Future<Output = ScimResult<Vec<Value>>> + Send;
}

/// The marker type of `/Users`.
#[derive(Debug, Clone, Copy)]
pub struct User;

/// The marker type of `/Groups`.
#[derive(Debug, Clone, Copy)]
pub struct Group;

/// Implements the constants, parsing and backend calls of a kind from its [`ResourceKind`], its
/// resource type and the names of its [`ScimBackend`] methods.
macro_rules! kind_basics {
    ($kind:expr, $res:ty, $create:ident, $get:ident, $replace:ident, $delete:ident,
     $search:ident, $scan:ident) => {
        type Resource = $res;

        const KIND: ResourceKind = $kind;

        fn from_request(body: Value) -> ScimResult<$res> {
            <$res>::from_request(body)
        }

        fn from_value(body: Value) -> ScimResult<$res> {
            <$res>::from_value(body)
        }

        async fn create<B: ScimBackend>(b: &B, tenant: &TenantId, r: $res) -> BackendResult<$res> {
            b.$create(tenant, r).await
        }

        async fn get<B: ScimBackend>(b: &B, tenant: &TenantId, id: &str) -> BackendResult<$res> {
            b.$get(tenant, id).await
        }

        async fn replace<B: ScimBackend>(
            b: &B,
            tenant: &TenantId,
            r: $res,
            expected_version: &str,
        ) -> BackendResult<$res> {
            b.$replace(tenant, r, expected_version).await
        }

        async fn delete<B: ScimBackend>(
            b: &B,
            tenant: &TenantId,
            id: &str,
            expected_version: Option<&str>,
        ) -> BackendResult<()> {
            b.$delete(tenant, id, expected_version).await
        }

        async fn search<B: ScimBackend>(
            b: &B,
            tenant: &TenantId,
            query: &IndexedQuery,
        ) -> BackendResult<Option<Page<$res>>> {
            b.$search(tenant, query).await
        }

        async fn scan<B: ScimBackend>(
            b: &B,
            tenant: &TenantId,
            after: Option<&str>,
            limit: usize,
        ) -> BackendResult<Vec<$res>> {
            b.$scan(tenant, after, limit).await
        }
    };
}

impl ScimResourceKind for User {
    kind_basics! {
        ResourceKind::User, UserResource, create_user, get_user, replace_user, delete_user,
        search_users, scan_users
    }

    /// Hashes a new password. PUT keeps the stored password when the body carries none (Okta's
    /// GET-then-PUT cannot read it back); PATCH keeps it unless it changes, and drops `groups`.
    async fn prepare<B: ScimBackend>(
        _b: &B,
        _tenant: &TenantId,
        _unknown: UnknownMembers,
        write: Write<'_, UserResource>,
        u: &mut UserResource,
    ) -> ScimResult<()> {
        let new = u.password.take();
        u.password = match write {
            Write::Create => hash_if_new(new, None).await?,
            Write::Replace(current) => match new {
                None => current.password.clone(),
                p => hash_if_new(p, None).await?,
            },
            Write::Patch(current) => {
                u.groups.clear();
                hash_if_new(new, current.password.as_ref()).await?
            }
        };
        Ok(())
    }

    /// No password, `meta.location`, `groups` filled in.
    fn render(u: &UserResource, base: &str, groups: &[ResourceRef]) -> Value {
        let mut u = u.clone();
        u.password = None;
        u.meta.location = Some(format!("{base}/Users/{}", u.id));
        u.groups = groups
            .iter()
            .map(|g| ResourceRef {
                value: g.value.clone(),
                reference: Some(format!("{base}/Groups/{}", g.value)),
                display: g.display.clone(),
                kind: Some("direct".into()),
            })
            .collect();
        serde_json::to_value(&u).unwrap_or_default()
    }

    /// Reads the users' group memberships (one backend call) for their `groups` attribute.
    async fn render_stored<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        base: &str,
        users: &[UserResource],
    ) -> ScimResult<Vec<Value>> {
        let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
        let mut groups: std::collections::HashMap<String, Vec<ResourceRef>> =
            std::collections::HashMap::new();
        for (user, group) in b.memberships(tenant, &ids).await? {
            groups.entry(user).or_default().push(group);
        }
        Ok(users
            .iter()
            .map(|u| Self::render(u, base, groups.get(&u.id).map_or(&[], Vec::as_slice)))
            .collect())
    }
}

impl ScimResourceKind for Group {
    kind_basics! {
        ResourceKind::Group, GroupResource, create_group, get_group, replace_group, delete_group,
        search_groups, scan_groups
    }

    /// Resolves the members on every write; those the stored group already has are taken
    /// from it, so a PATCH adding one member to a large group reads one member.
    async fn prepare<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        unknown: UnknownMembers,
        write: Write<'_, GroupResource>,
        g: &mut GroupResource,
    ) -> ScimResult<()> {
        let stored = match write {
            Write::Create => None,
            Write::Replace(current) | Write::Patch(current) => Some(current),
        };
        resolve_members(b, tenant, unknown, stored, g).await
    }

    /// `meta.location` and each member's `$ref` filled in.
    fn render(g: &GroupResource, base: &str, _groups: &[ResourceRef]) -> Value {
        let mut g = g.clone();
        g.meta.location = Some(format!("{base}/Groups/{}", g.id));
        for m in &mut g.members {
            let kind = m.kind.as_deref().unwrap_or("User");
            let seg = if kind.eq_ignore_ascii_case("group") {
                "Groups"
            } else {
                "Users"
            };
            m.reference = Some(format!("{base}/{seg}/{}", m.value));
        }
        serde_json::to_value(&g).unwrap_or_default()
    }

    /// Needs nothing beyond the groups themselves.
    async fn render_stored<B: ScimBackend>(
        _b: &B,
        _tenant: &TenantId,
        base: &str,
        groups: &[GroupResource],
    ) -> ScimResult<Vec<Value>> {
        Ok(groups.iter().map(|g| Self::render(g, base, &[])).collect())
    }
}

/// Hashes `new` unless it equals the stored hash `old` (a PATCH echoing the resource back).
async fn hash_if_new(new: Option<String>, old: Option<&String>) -> ScimResult<Option<String>> {
    match new {
        Some(p) if Some(&p) != old => {
            if p.is_empty() {
                return Err(ScimError::invalid_value("\"password\" must not be empty"));
            }
            let hashed = tokio::task::spawn_blocking(move || auth::hash_password(&p))
                .await
                .map_err(|e| ScimError::internal(e.to_string()))?;
            Ok(Some(hashed))
        }
        other => Ok(other),
    }
}

/// Checks the members against the tenant (one backend read for all those `stored` does not
/// already hold) and fills in each one's `type` and `display`. A member that does not exist is
/// left out or refused, as `unknown` says; a group cannot be its own member.
async fn resolve_members<B: ScimBackend>(
    b: &B,
    tenant: &TenantId,
    unknown: UnknownMembers,
    stored: Option<&GroupResource>,
    group: &mut GroupResource,
) -> ScimResult<()> {
    if group.members.is_empty() {
        return Ok(());
    }
    if group.members.iter().any(|m| m.value == group.id) {
        return Err(ScimError::invalid_value("a group cannot be its own member"));
    }
    let mut seen = std::collections::HashSet::new();
    group.members.retain(|m| seen.insert(m.value.clone()));
    let ids: Vec<String> = group.members.iter().map(|m| m.value.clone()).collect();
    let mut known: std::collections::HashMap<String, ResourceRef> = stored
        .into_iter()
        .flat_map(|s| s.members.iter())
        .filter(|m| m.kind.is_some())
        .map(|m| (m.value.clone(), m.clone()))
        .collect();
    let new: Vec<String> = ids
        .iter()
        .filter(|id| !known.contains_key(*id))
        .cloned()
        .collect();
    if !new.is_empty() {
        known.extend(
            b.member_refs(tenant, &new)
                .await?
                .into_iter()
                .map(|r| (r.value.clone(), r)),
        );
    }
    let missing: Vec<&str> = ids
        .iter()
        .filter(|id| !known.contains_key(*id))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        match unknown {
            UnknownMembers::Reject => {
                return Err(ScimError::invalid_value(format!(
                    "member{} {} do{} not exist in this tenant (create them first, or set \
                     `unknown_members = \"ignore\"` to leave unknown members out)",
                    if missing.len() == 1 { "" } else { "s" },
                    quoted_list(&missing),
                    if missing.len() == 1 { "es" } else { "" },
                )));
            }
            UnknownMembers::Ignore => {
                tracing::warn!(tenant = %tenant, group = %group.id, missing = %quoted_list(&missing),
                    "unknown group members left out");
            }
        }
    }
    group.members = ids
        .iter()
        .filter_map(|id| known.get(id).cloned())
        .map(|mut r| {
            r.reference = None;
            r
        })
        .collect();
    Ok(())
}

/// The first few of `ids`, quoted, for a message.
fn quoted_list(ids: &[&str]) -> String {
    const SHOWN: usize = 5;
    let mut out: Vec<String> = ids
        .iter()
        .take(SHOWN)
        .map(|id| format!("\"{id}\""))
        .collect();
    if ids.len() > SHOWN {
        out.push(format!("and {} more", ids.len() - SHOWN));
    }
    out.join(", ")
}
