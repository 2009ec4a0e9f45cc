//! Resource operations shared by the HTTP handlers and `/Bulk`: validate completely, then make
//! exactly one backend write (so nothing is ever half-written), and render results.

use std::collections::HashSet;

use serde_json::Value;

use crate::backend::{ScimBackend, TenantId};
use crate::error::{ScimError, ScimResult};
use crate::list::{self, ListQuery};
use crate::patch;
use crate::resource::{
    self, etag, etag_matches, next_version, GroupResource, Meta, ResourceRef, UserResource,
};
use crate::schema::ResourceKind;

/// Per-request context: whose data, and the base URL resources are located under.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The authenticated principal's tenant.
    pub tenant: TenantId,
    /// Base URL of the SCIM 2 endpoints, e.g. `http://host:port/scim/v2`.
    pub base: String,
}

fn check_if_match(if_match: Option<&str>, current: &str) -> ScimResult<()> {
    match if_match {
        Some(h) if !etag_matches(h, current) => Err(ScimError::precondition_failed(format!(
            "If-Match {h} does not match the current version {current}"
        ))),
        _ => Ok(()),
    }
}

async fn hash_if_new(new: Option<String>, old: Option<&String>) -> ScimResult<Option<String>> {
    match new {
        Some(p) if Some(&p) != old => {
            if p.is_empty() {
                return Err(ScimError::invalid_value("\"password\" must not be empty"));
            }
            let hashed = tokio::task::spawn_blocking(move || crate::auth::hash_password(&p))
                .await
                .map_err(|e| ScimError::internal(e.to_string()))?;
            Ok(Some(hashed))
        }
        other => Ok(other),
    }
}

/// Renders a stored user for output: no password, `meta.location`, `groups` filled in.
pub fn render_user(u: &UserResource, ctx: &Ctx, groups: &[GroupResource]) -> Value {
    let mut u = u.clone();
    u.password = None;
    u.meta.location = Some(format!("{}/Users/{}", ctx.base, u.id));
    u.groups = groups
        .iter()
        .filter(|g| g.members.iter().any(|m| m.value == u.id))
        .map(|g| ResourceRef {
            value: g.id.clone(),
            reference: Some(format!("{}/Groups/{}", ctx.base, g.id)),
            display: Some(g.display_name.clone()),
            kind: Some("direct".into()),
        })
        .collect();
    serde_json::to_value(&u).unwrap_or_default()
}

/// Renders a stored group for output.
pub fn render_group(g: &GroupResource, ctx: &Ctx) -> Value {
    let mut g = g.clone();
    g.meta.location = Some(format!("{}/Groups/{}", ctx.base, g.id));
    for m in &mut g.members {
        let kind = m.kind.as_deref().unwrap_or("User");
        let seg = if kind.eq_ignore_ascii_case("group") {
            "Groups"
        } else {
            "Users"
        };
        m.reference = Some(format!("{}/{seg}/{}", ctx.base, m.value));
    }
    serde_json::to_value(&g).unwrap_or_default()
}

fn new_meta(kind: ResourceKind) -> Meta {
    let now = resource::now_rfc3339();
    Meta {
        resource_type: kind.name().into(),
        created: now.clone(),
        last_modified: now,
        location: None,
        version: etag(1),
    }
}

fn bumped_meta(old: &Meta) -> Meta {
    Meta {
        resource_type: old.resource_type.clone(),
        created: old.created.clone(),
        last_modified: resource::now_rfc3339(),
        location: None,
        version: next_version(&old.version),
    }
}

/// Creates a user from a request body.
pub async fn create_user<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    body: Value,
) -> ScimResult<UserResource> {
    let mut user = UserResource::from_request(body)?;
    user.password = hash_if_new(user.password.take(), None).await?;
    user.id = resource::new_id();
    user.meta = new_meta(ResourceKind::User);
    Ok(b.create_user(&ctx.tenant, user).await?)
}

/// Reads a user.
pub async fn get_user<B: ScimBackend>(b: &B, ctx: &Ctx, id: &str) -> ScimResult<UserResource> {
    Ok(b.get_user(&ctx.tenant, id).await?)
}

/// Replaces a user (PUT). The stored password is kept when the body carries none (Okta's
/// GET-then-PUT cannot read it back).
pub async fn replace_user<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> ScimResult<UserResource> {
    let current = b.get_user(&ctx.tenant, id).await?;
    check_if_match(if_match, &current.meta.version)?;
    let mut user = UserResource::from_request(body)?;
    user.password = match user.password.take() {
        None => current.password.clone(),
        p => hash_if_new(p, None).await?,
    };
    user.id = current.id.clone();
    user.meta = bumped_meta(&current.meta);
    Ok(b.replace_user(&ctx.tenant, user, &current.meta.version)
        .await?)
}

/// Applies a PATCH to a user.
pub async fn patch_user<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> ScimResult<UserResource> {
    let ops = patch::parse_request(&body)?;
    let current = b.get_user(&ctx.tenant, id).await?;
    check_if_match(if_match, &current.meta.version)?;
    let mut doc = serde_json::to_value(&current).map_err(|e| ScimError::internal(e.to_string()))?;
    patch::apply(ResourceKind::User, &mut doc, &ops)?;
    let mut user = UserResource::from_value(doc)?;
    user.password = hash_if_new(user.password.take(), current.password.as_ref()).await?;
    user.id = current.id.clone();
    user.groups.clear();
    user.meta = bumped_meta(&current.meta);
    let mut unchanged = user.clone();
    unchanged.meta = current.meta.clone();
    if unchanged == current {
        // No effective change: keep the version.
        return Ok(current);
    }
    Ok(b.replace_user(&ctx.tenant, user, &current.meta.version)
        .await?)
}

/// Deletes a user (and, by the backend contract, its group memberships).
pub async fn delete_user<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    if_match: Option<&str>,
) -> ScimResult<UserResource> {
    let current = b.get_user(&ctx.tenant, id).await?;
    check_if_match(if_match, &current.meta.version)?;
    b.delete_user(&ctx.tenant, id, Some(&current.meta.version))
        .await?;
    Ok(current)
}

/// Checks that every member exists in the tenant and fills in its `type` and `display`.
async fn resolve_members<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    group: &mut GroupResource,
) -> ScimResult<()> {
    if group.members.is_empty() {
        return Ok(());
    }
    let users = b.list_users(&ctx.tenant).await?;
    let groups = b.list_groups(&ctx.tenant).await?;
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

/// Creates a group.
pub async fn create_group<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    body: Value,
) -> ScimResult<GroupResource> {
    let mut group = GroupResource::from_request(body)?;
    group.id = resource::new_id();
    resolve_members(b, ctx, &mut group).await?;
    group.meta = new_meta(ResourceKind::Group);
    Ok(b.create_group(&ctx.tenant, group).await?)
}

/// Reads a group.
pub async fn get_group<B: ScimBackend>(b: &B, ctx: &Ctx, id: &str) -> ScimResult<GroupResource> {
    Ok(b.get_group(&ctx.tenant, id).await?)
}

/// Replaces a group (PUT).
pub async fn replace_group<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> ScimResult<GroupResource> {
    let current = b.get_group(&ctx.tenant, id).await?;
    check_if_match(if_match, &current.meta.version)?;
    let mut group = GroupResource::from_request(body)?;
    group.id = current.id.clone();
    resolve_members(b, ctx, &mut group).await?;
    group.meta = bumped_meta(&current.meta);
    Ok(b.replace_group(&ctx.tenant, group, &current.meta.version)
        .await?)
}

/// Applies a PATCH to a group (member add/remove included).
pub async fn patch_group<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> ScimResult<GroupResource> {
    let ops = patch::parse_request(&body)?;
    let current = b.get_group(&ctx.tenant, id).await?;
    check_if_match(if_match, &current.meta.version)?;
    let mut doc = serde_json::to_value(&current).map_err(|e| ScimError::internal(e.to_string()))?;
    patch::apply(ResourceKind::Group, &mut doc, &ops)?;
    let mut group = GroupResource::from_value(doc)?;
    group.id = current.id.clone();
    resolve_members(b, ctx, &mut group).await?;
    group.meta = current.meta.clone();
    if group == current {
        return Ok(current);
    }
    group.meta = bumped_meta(&current.meta);
    Ok(b.replace_group(&ctx.tenant, group, &current.meta.version)
        .await?)
}

/// Deletes a group.
pub async fn delete_group<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    if_match: Option<&str>,
) -> ScimResult<()> {
    let current = b.get_group(&ctx.tenant, id).await?;
    check_if_match(if_match, &current.meta.version)?;
    Ok(b.delete_group(&ctx.tenant, id, Some(&current.meta.version))
        .await?)
}

/// Runs a list/search over users, groups or both (`kinds`); returns the ListResponse body.
pub async fn list<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    kinds: &[ResourceKind],
    query: &ListQuery,
    default_count: usize,
    max_count: usize,
) -> ScimResult<Value> {
    if let Some(sort) = &query.sort_by {
        if !kinds.iter().any(|k| list::known_attr(*k, sort)) {
            return Err(ScimError::invalid_value(format!(
                "cannot sort by unknown attribute \"{sort}\""
            )));
        }
    }
    let groups = b.list_groups(&ctx.tenant).await?;
    let mut rendered = Vec::new();
    let wanted: HashSet<_> = kinds.iter().copied().collect();
    if wanted.contains(&ResourceKind::User) {
        for u in b.list_users(&ctx.tenant).await? {
            rendered.push((ResourceKind::User, render_user(&u, ctx, &groups)));
        }
    }
    if wanted.contains(&ResourceKind::Group) {
        for g in &groups {
            rendered.push((ResourceKind::Group, render_group(g, ctx)));
        }
    }
    Ok(list::run(query, rendered, default_count, max_count))
}
