//! Resource operations shared by the HTTP handlers and `/Bulk`, each written once for every
//! [`ScimResourceKind`]: validate completely, then make exactly one backend write (so nothing
//! is ever half-written); and the list/search over one or both kinds.

use serde_json::Value;

use crate::backend::{ScimBackend, TenantId};
use crate::config::{ScimConfig, UnknownMembers};
use crate::error::{ScimError, ScimResult};
use crate::index::{self, IndexedQuery};
use crate::kind::{Group, ScimResourceKind, User, Write};
use crate::list::{self, ListQuery};
use crate::patch;
use crate::resource::{self, etag, etag_matches, next_version, Meta, ScimResource};
use crate::schema::ResourceKind;

/// Resources read per step of a scan (a list the indexes cannot answer).
const SCAN_STEP: usize = 500;

/// Per-request context: whose data, the base URL resources are located under, and the write
/// policy.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The authenticated principal's tenant.
    pub tenant: TenantId,
    /// Base URL of the SCIM 2 endpoints, e.g. `http://host:port/scim/v2`.
    pub base: String,
    /// What a group write does with unknown member ids.
    pub unknown_members: UnknownMembers,
}

impl Ctx {
    /// A context for `tenant` under `base`, with the default write policy.
    pub fn new(tenant: TenantId, base: impl Into<String>) -> Self {
        Ctx {
            tenant,
            base: base.into(),
            unknown_members: UnknownMembers::default(),
        }
    }
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
    K::prepare(b, &ctx.tenant, ctx.unknown_members, Write::Create, &mut r).await?;
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
    K::prepare(
        b,
        &ctx.tenant,
        ctx.unknown_members,
        Write::Replace(&current),
        &mut r,
    )
    .await?;
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
    K::prepare(
        b,
        &ctx.tenant,
        ctx.unknown_members,
        Write::Patch(&current),
        &mut r,
    )
    .await?;
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
///
/// A request on one kind whose filter and sort the backend indexes ([`index::plan`],
/// [`index::sort_plan`]) is answered by the backend, page by page. Anything else is evaluated
/// here over a scan of the tenant, which stops with 400 `tooMany` once it has read
/// `config.max_filter_scan` resources.
pub async fn list<B: ScimBackend>(
    b: &B,
    ctx: &Ctx,
    kinds: &[ResourceKind],
    query: &ListQuery,
    config: &ScimConfig,
) -> ScimResult<Value> {
    if let Some(sort) = &query.sort_by {
        if !kinds.iter().any(|k| list::known_attr(*k, sort)) {
            return Err(ScimError::invalid_value(format!(
                "cannot sort by unknown attribute \"{sort}\""
            )));
        }
    }
    let count = query
        .count
        .unwrap_or(config.default_page_size)
        .min(config.max_page_size);
    if let [kind] = kinds {
        let indexed = match kind {
            ResourceKind::User => search::<B, User>(b, ctx, query, count).await?,
            ResourceKind::Group => search::<B, Group>(b, ctx, query, count).await?,
        };
        if let Some((total, page)) = indexed {
            return Ok(list::envelope(query, total, page));
        }
    }
    let mut rendered = Vec::new();
    let mut budget = ScanBudget {
        limit: config.max_filter_scan,
        read: 0,
    };
    for kind in kinds {
        match kind {
            ResourceKind::User => {
                scan::<B, User>(b, ctx, query, &mut budget, &mut rendered).await?
            }
            ResourceKind::Group => {
                scan::<B, Group>(b, ctx, query, &mut budget, &mut rendered).await?
            }
        }
    }
    Ok(list::run(query, rendered, count))
}

/// The page the backend's indexes answer for `query` (total and rendered, projected
/// resources), or `None` when the filter, the sort or the backend needs a scan.
async fn search<B: ScimBackend, K: ScimResourceKind>(
    b: &B,
    ctx: &Ctx,
    query: &ListQuery,
    count: usize,
) -> ScimResult<Option<(u64, Vec<Value>)>> {
    let (Some(plan), Some(order)) = (
        index::plan(K::KIND, query.filter.as_ref()),
        index::sort_plan(K::KIND, query.sort_by.as_ref()),
    ) else {
        return Ok(None);
    };
    let indexed = IndexedQuery {
        plan,
        order,
        descending: query.descending,
        offset: (query.start_index - 1) as u64,
        limit: count as u64,
    };
    let Some(page) = K::search(b, &ctx.tenant, &indexed).await? else {
        return Ok(None);
    };
    let rendered = K::render_stored(b, &ctx.tenant, &ctx.base, &page.resources).await?;
    Ok(Some((
        page.total,
        rendered
            .into_iter()
            .map(|v| query.projection.apply(v))
            .collect(),
    )))
}

/// How many resources a scan may read, and has read.
struct ScanBudget {
    limit: usize,
    read: usize,
}

/// Adds the resources of kind `K` that match the filter to `hits`, reading the tenant in steps
/// and charging each resource read to `budget`.
async fn scan<B: ScimBackend, K: ScimResourceKind>(
    b: &B,
    ctx: &Ctx,
    query: &ListQuery,
    budget: &mut ScanBudget,
    hits: &mut Vec<(ResourceKind, Value)>,
) -> ScimResult<()> {
    let mut after: Option<String> = None;
    loop {
        let step = K::scan(b, &ctx.tenant, after.as_deref(), SCAN_STEP).await?;
        let Some(last) = step.last() else {
            return Ok(());
        };
        budget.read += step.len();
        if budget.read > budget.limit {
            return Err(ScimError::bad_request(
                crate::error::ScimType::TooMany,
                format!(
                    "this filter or sort cannot use an index and would read more than {} \
                     resources; filter on userName, externalId, emails.value, displayName, id, \
                     members.value or meta.lastModified (eq, sw, pr; and/or of these), sort by \
                     userName, displayName, id or meta.lastModified, or narrow the filter",
                    budget.limit
                ),
            ));
        }
        after = Some(last.id().to_owned());
        let full = step.len() == SCAN_STEP;
        for v in K::render_stored(b, &ctx.tenant, &ctx.base, &step).await? {
            if query
                .filter
                .as_ref()
                .is_none_or(|f| crate::filter::matches(f, K::KIND, &v))
            {
                hits.push((K::KIND, v));
            }
        }
        if !full {
            return Ok(());
        }
    }
}
