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
use crate::backend::{BackendResult, ScimBackend, TenantId};
use crate::error::{ScimError, ScimResult};
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

    /// Completes a validated resource (its `id` already set) before it is written: a user's
    /// password is hashed, a group's members are resolved.
    fn prepare<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        write: Write<'_, Self::Resource>,
        r: &mut Self::Resource,
    ) -> impl Future<Output = ScimResult<()>> + Send;

    /// Renders a stored resource for output under `base` (the SCIM 2 base URL); `groups` are
    /// the tenant's groups, from which a user's `groups` attribute is filled in.
    fn render(r: &Self::Resource, base: &str, groups: &[GroupResource]) -> Value;

    /// Renders a stored resource, reading from the backend what the rendering refers to.
    fn render_stored<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        base: &str,
        r: &Self::Resource,
    ) -> impl Future<Output = ScimResult<Value>> + Send;
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
    ($kind:expr, $res:ty, $create:ident, $get:ident, $replace:ident, $delete:ident) => {
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
    };
}

impl ScimResourceKind for User {
    kind_basics! {
        ResourceKind::User, UserResource, create_user, get_user, replace_user, delete_user
    }

    /// Hashes a new password. PUT keeps the stored password when the body carries none (Okta's
    /// GET-then-PUT cannot read it back); PATCH keeps it unless it changes, and drops `groups`.
    async fn prepare<B: ScimBackend>(
        _b: &B,
        _tenant: &TenantId,
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
    fn render(u: &UserResource, base: &str, groups: &[GroupResource]) -> Value {
        let mut u = u.clone();
        u.password = None;
        u.meta.location = Some(format!("{base}/Users/{}", u.id));
        u.groups = groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m.value == u.id))
            .map(|g| ResourceRef {
                value: g.id.clone(),
                reference: Some(format!("{base}/Groups/{}", g.id)),
                display: Some(g.display_name.clone()),
                kind: Some("direct".into()),
            })
            .collect();
        serde_json::to_value(&u).unwrap_or_default()
    }

    /// Reads the tenant's groups for the user's `groups` attribute.
    async fn render_stored<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        base: &str,
        u: &UserResource,
    ) -> ScimResult<Value> {
        let groups = b.list_groups(tenant).await?;
        Ok(Self::render(u, base, &groups))
    }
}

impl ScimResourceKind for Group {
    kind_basics! {
        ResourceKind::Group, GroupResource, create_group, get_group, replace_group, delete_group
    }

    /// Resolves the members on every write.
    async fn prepare<B: ScimBackend>(
        b: &B,
        tenant: &TenantId,
        _write: Write<'_, GroupResource>,
        g: &mut GroupResource,
    ) -> ScimResult<()> {
        resolve_members(b, tenant, g).await
    }

    /// `meta.location` and each member's `$ref` filled in.
    fn render(g: &GroupResource, base: &str, _groups: &[GroupResource]) -> Value {
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

    /// Needs nothing beyond the group itself.
    async fn render_stored<B: ScimBackend>(
        _b: &B,
        _tenant: &TenantId,
        base: &str,
        g: &GroupResource,
    ) -> ScimResult<Value> {
        Ok(Self::render(g, base, &[]))
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

/// Checks that every member exists in the tenant and fills in its `type` and `display`.
async fn resolve_members<B: ScimBackend>(
    b: &B,
    tenant: &TenantId,
    group: &mut GroupResource,
) -> ScimResult<()> {
    if group.members.is_empty() {
        return Ok(());
    }
    let users = b.list_users(tenant).await?;
    let groups = b.list_groups(tenant).await?;
    for m in &mut group.members {
        if let Some(u) = users.iter().find(|u| u.id == m.value) {
            m.kind = Some("User".into());
            m.display = u.display_name.clone().or_else(|| Some(u.user_name.clone()));
        } else if let Some(g) = groups.iter().find(|g| g.id == m.value) {
            if g.id == group.id {
                return Err(ScimError::invalid_value("a group cannot be its own member"));
            }
            m.kind = Some("Group".into());
            m.display = Some(g.display_name.clone());
        } else {
            return Err(ScimError::invalid_value(format!(
                "member \"{}\" does not exist",
                m.value
            )));
        }
        m.reference = None;
    }
    Ok(())
}
