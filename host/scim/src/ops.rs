//! Resource operations shared by the HTTP handlers and `/Bulk`, each written once for every
//! [`ScimResourceKind`]: validate completely, then make exactly one backend write (so nothing
//! is ever half-written); and the list/search over one or both kinds.

use std::collections::HashSet;

use serde_json::Value;

use crate::backend::{ScimBackend, TenantId};
use crate::error::{ScimError, ScimResult};
use crate::kind::{Group, ScimResourceKind, User, Write};
use crate::list::{self, ListQuery};
use crate::patch;
use crate::resource::{self, etag, etag_matches, next_version, Meta, ScimResource};
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

/// Creates a resource from a request body.
pub async fn create<B: ScimBackend, K: ScimResourceKind>(
    b: &B,
    ctx: &Ctx,
    body: Value,
) -> ScimResult<K::Resource> {
    let mut r = K::from_request(body)?;
    r.set_id(resource::new_id());
    K::prepare(b, &ctx.tenant, Write::Create, &mut r).await?;
    *r.meta_mut() = new_meta(K::KIND);
    Ok(K::create(b, &ctx.tenant, r).await?)
}

/// Reads a resource.
pub async fn get<B: ScimBackend, K: ScimResourceKind>(
    b: &B,
    ctx: &Ctx,
    id: &str,
) -> ScimResult<K::Resource> {
    Ok(K::get(b, &ctx.tenant, id).await?)
}

/// Reads the resource a write applies to and checks `If-Match` against it.
async fn current<B: ScimBackend, K: ScimResourceKind>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    if_match: Option<&str>,
) -> ScimResult<K::Resource> {
    let current = K::get(b, &ctx.tenant, id).await?;
    check_if_match(if_match, &current.meta().version)?;
    Ok(current)
}

/// Replaces a resource (PUT).
pub async fn replace<B: ScimBackend, K: ScimResourceKind>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> ScimResult<K::Resource> {
    let current = current::<B, K>(b, ctx, id, if_match).await?;
    let mut r = K::from_request(body)?;
    r.set_id(current.id().to_string());
    K::prepare(b, &ctx.tenant, Write::Replace(&current), &mut r).await?;
    *r.meta_mut() = bumped_meta(current.meta());
    Ok(K::replace(b, &ctx.tenant, r, &current.meta().version).await?)
}

/// Applies a PATCH to a resource. A PATCH without effect keeps the version and writes nothing.
pub async fn patch<B: ScimBackend, K: ScimResourceKind>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    body: Value,
    if_match: Option<&str>,
) -> ScimResult<K::Resource> {
    let ops = patch::parse_request(&body)?;
    let current = current::<B, K>(b, ctx, id, if_match).await?;
    let mut doc = serde_json::to_value(&current).map_err(|e| ScimError::internal(e.to_string()))?;
    patch::apply(K::KIND, &mut doc, &ops)?;
    let mut r = K::from_value(doc)?;
    r.set_id(current.id().to_string());
    K::prepare(b, &ctx.tenant, Write::Patch(&current), &mut r).await?;
    *r.meta_mut() = current.meta().clone();
    if r == current {
        return Ok(current);
    }
    *r.meta_mut() = bumped_meta(current.meta());
    Ok(K::replace(b, &ctx.tenant, r, &current.meta().version).await?)
}

/// Deletes a resource (by the backend contract, also from every group's members); returns
/// what was deleted.
pub async fn delete<B: ScimBackend, K: ScimResourceKind>(
    b: &B,
    ctx: &Ctx,
    id: &str,
    if_match: Option<&str>,
) -> ScimResult<K::Resource> {
    let current = current::<B, K>(b, ctx, id, if_match).await?;
    K::delete(b, &ctx.tenant, id, Some(&current.meta().version)).await?;
    Ok(current)
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
            rendered.push((ResourceKind::User, User::render(&u, &ctx.base, &groups)));
        }
    }
    if wanted.contains(&ResourceKind::Group) {
        for g in &groups {
            rendered.push((ResourceKind::Group, Group::render(g, &ctx.base, &[])));
        }
    }
    Ok(list::run(query, rendered, default_count, max_count))
}
