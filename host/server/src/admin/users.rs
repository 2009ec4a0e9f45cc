//! A tenant's users and groups for the console: list, create, read, replace, deactivate
//! (`PATCH`), delete. Bodies are SCIM 2.0 User and Group resources and go through the SCIM
//! layer's operations ([`scim::ops`]) over the same backend as the SCIM API, so validation,
//! claim mapping and the provisioning jobs they fan out are exactly those of a SCIM request.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use scim::kind::{Group, ScimResourceKind, User};
use scim::list::ListQuery;
use scim::ops::{self, Ctx};
use scim::{ScimError, TenantId};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, ErrorBody};
use super::{AdminState, Principal};

/// The SCIM PATCH message schema.
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

impl From<ScimError> for ApiError {
    fn from(e: ScimError) -> Self {
        let code = e.scim_type.map(|t| t.as_str()).unwrap_or("scim_error");
        ApiError::new(e.status, code, e.detail)
    }
}

/// Which users or groups to list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// A SCIM filter, e.g. `userName sw "sam"`.
    pub filter: Option<String>,
    /// 1-based index of the first result.
    pub start: Option<usize>,
    /// Page size.
    pub count: Option<usize>,
}

fn ctx(state: &AdminState, tenant: &str, headers: &HeaderMap) -> Ctx {
    Ctx {
        tenant: TenantId::new(tenant),
        base: scim::http::base_url(&state.scim, headers, "/scim/v2"),
        unknown_members: state.scim.unknown_members,
    }
}

async fn render<K: ScimResourceKind>(
    state: &AdminState,
    ctx: &Ctx,
    r: &K::Resource,
) -> ApiResult<Value> {
    let rendered = K::render_stored(
        state.backend.as_ref(),
        &ctx.tenant,
        &ctx.base,
        std::slice::from_ref(r),
    )
    .await?;
    rendered
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("rendering returned nothing"))
}

async fn list<K: ScimResourceKind>(
    state: &AdminState,
    ctx: &Ctx,
    params: ListParams,
) -> ApiResult<Value> {
    let mut query = Vec::new();
    if let Some(filter) = params.filter.filter(|f| !f.trim().is_empty()) {
        query.push(("filter".to_string(), filter));
    }
    if let Some(start) = params.start {
        query.push(("startIndex".to_string(), start.to_string()));
    }
    if let Some(count) = params.count {
        query.push(("count".to_string(), count.to_string()));
    }
    let query = ListQuery::from_params(&query)?;
    Ok(ops::list(state.backend.as_ref(), ctx, &[K::KIND], &query, &state.scim).await?)
}

async fn create<K: ScimResourceKind>(
    state: &AdminState,
    ctx: &Ctx,
    body: Value,
) -> ApiResult<Value> {
    let r = ops::create::<_, K>(state.backend.as_ref(), ctx, body).await?;
    Ok(K::render(&r, &ctx.base, &[]))
}

async fn read<K: ScimResourceKind>(state: &AdminState, ctx: &Ctx, id: &str) -> ApiResult<Value> {
    let r = ops::get::<_, K>(state.backend.as_ref(), ctx, id).await?;
    render::<K>(state, ctx, &r).await
}

async fn replace<K: ScimResourceKind>(
    state: &AdminState,
    ctx: &Ctx,
    id: &str,
    body: Value,
) -> ApiResult<Value> {
    let r = ops::replace::<_, K>(state.backend.as_ref(), ctx, id, body, None).await?;
    render::<K>(state, ctx, &r).await
}

/// A SCIM PatchOp as it is, or a plain object of attributes as one `replace` of them.
fn patch_body(body: Value) -> Value {
    if body.get("Operations").is_some() {
        return body;
    }
    json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": body}]})
}

async fn patch<K: ScimResourceKind>(
    state: &AdminState,
    ctx: &Ctx,
    id: &str,
    body: Value,
) -> ApiResult<Value> {
    let r = ops::patch::<_, K>(state.backend.as_ref(), ctx, id, patch_body(body), None).await?;
    render::<K>(state, ctx, &r).await
}

async fn delete<K: ScimResourceKind>(state: &AdminState, ctx: &Ctx, id: &str) -> ApiResult<()> {
    ops::delete::<_, K>(state.backend.as_ref(), ctx, id, None).await?;
    Ok(())
}

/// Declares the seven handlers of one resource kind (list, create, read, replace, patch,
/// delete), each documented for the OpenAPI document.
macro_rules! resource_handlers {
    ($kind:ty, $tag:literal, $base:literal, $item:literal,
     $list:ident, $create:ident, $read:ident, $replace:ident, $patch:ident, $delete:ident,
     $d_list:literal, $d_create:literal, $d_read:literal, $d_replace:literal,
     $d_patch:literal, $d_delete:literal) => {
        #[doc = $d_list]
        #[utoipa::path(get, path = $base, tag = $tag,
            params(("tenant" = String, Path, description = "tenant name"), ListParams),
            responses((status = 200, description = "SCIM ListResponse", body = Object),
                (status = 400, description = "the request is malformed", body = ErrorBody), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
        async fn $list(
            principal: Principal,
            State(state): State<AdminState>,
            Path(tenant): Path<String>,
            headers: HeaderMap,
            Query(params): Query<ListParams>,
        ) -> ApiResult<Json<Value>> {
            state.require_tenant(&principal, &tenant)?;
            let ctx = ctx(&state, &tenant, &headers);
            Ok(Json(list::<$kind>(&state, &ctx, params).await?))
        }

        #[doc = $d_create]
        #[utoipa::path(post, path = $base, tag = $tag,
            params(("tenant" = String, Path, description = "tenant name")),
            request_body(content = Object, description = "a SCIM 2.0 resource"),
            responses((status = 201, description = "the created resource", body = Object),
                (status = 400, description = "the request is malformed", body = ErrorBody), (status = 409, description = "conflicts with the stored state", body = ErrorBody)))]
        async fn $create(
            principal: Principal,
            State(state): State<AdminState>,
            Path(tenant): Path<String>,
            headers: HeaderMap,
            Json(body): Json<Value>,
        ) -> ApiResult<(StatusCode, Json<Value>)> {
            state.require_tenant(&principal, &tenant)?;
            let ctx = ctx(&state, &tenant, &headers);
            Ok((StatusCode::CREATED, Json(create::<$kind>(&state, &ctx, body).await?)))
        }

        #[doc = $d_read]
        #[utoipa::path(get, path = $item, tag = $tag,
            params(("tenant" = String, Path, description = "tenant name"),
                ("id" = String, Path, description = "local id")),
            responses((status = 200, description = "the resource", body = Object),
                (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
        async fn $read(
            principal: Principal,
            State(state): State<AdminState>,
            Path((tenant, id)): Path<(String, String)>,
            headers: HeaderMap,
        ) -> ApiResult<Json<Value>> {
            state.require_tenant(&principal, &tenant)?;
            let ctx = ctx(&state, &tenant, &headers);
            Ok(Json(read::<$kind>(&state, &ctx, &id).await?))
        }

        #[doc = $d_replace]
        #[utoipa::path(put, path = $item, tag = $tag,
            params(("tenant" = String, Path, description = "tenant name"),
                ("id" = String, Path, description = "local id")),
            request_body(content = Object, description = "a SCIM 2.0 resource"),
            responses((status = 200, description = "the resource", body = Object),
                (status = 400, description = "the request is malformed", body = ErrorBody), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
        async fn $replace(
            principal: Principal,
            State(state): State<AdminState>,
            Path((tenant, id)): Path<(String, String)>,
            headers: HeaderMap,
            Json(body): Json<Value>,
        ) -> ApiResult<Json<Value>> {
            state.require_tenant(&principal, &tenant)?;
            let ctx = ctx(&state, &tenant, &headers);
            Ok(Json(replace::<$kind>(&state, &ctx, &id, body).await?))
        }

        #[doc = $d_patch]
        #[utoipa::path(patch, path = $item, tag = $tag,
            params(("tenant" = String, Path, description = "tenant name"),
                ("id" = String, Path, description = "local id")),
            request_body(content = Object, description = "a SCIM PatchOp or attributes"),
            responses((status = 200, description = "the resource", body = Object),
                (status = 400, description = "the request is malformed", body = ErrorBody), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
        async fn $patch(
            principal: Principal,
            State(state): State<AdminState>,
            Path((tenant, id)): Path<(String, String)>,
            headers: HeaderMap,
            Json(body): Json<Value>,
        ) -> ApiResult<Json<Value>> {
            state.require_tenant(&principal, &tenant)?;
            let ctx = ctx(&state, &tenant, &headers);
            Ok(Json(patch::<$kind>(&state, &ctx, &id, body).await?))
        }

        #[doc = $d_delete]
        #[utoipa::path(delete, path = $item, tag = $tag,
            params(("tenant" = String, Path, description = "tenant name"),
                ("id" = String, Path, description = "local id")),
            responses((status = 204, description = "deleted"), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
        async fn $delete(
            principal: Principal,
            State(state): State<AdminState>,
            Path((tenant, id)): Path<(String, String)>,
            headers: HeaderMap,
        ) -> ApiResult<StatusCode> {
            state.require_tenant(&principal, &tenant)?;
            let ctx = ctx(&state, &tenant, &headers);
            delete::<$kind>(&state, &ctx, &id).await?;
            Ok(StatusCode::NO_CONTENT)
        }
    };
}

resource_handlers!(
    User,
    "users",
    "/tenants/{tenant}/users",
    "/tenants/{tenant}/users/{id}",
    list_users,
    create_user,
    get_user,
    replace_user,
    patch_user,
    delete_user,
    "The tenant's users as a SCIM ListResponse.",
    "Creates a user from a SCIM 2.0 resource, as a SCIM POST does (with its provisioning jobs).",
    "One user as a SCIM 2.0 resource.",
    "Replaces a user with a SCIM 2.0 resource.",
    "Changes some attributes of a user: a SCIM PatchOp, or a plain object of attributes replaced as given (`{\"active\": false}` deactivates a user).",
    "Deletes a user (it is deprovisioned from its targets)."
);

resource_handlers!(
    Group,
    "groups",
    "/tenants/{tenant}/groups",
    "/tenants/{tenant}/groups/{id}",
    list_groups,
    create_group,
    get_group,
    replace_group,
    patch_group,
    delete_group,
    "The tenant's groups as a SCIM ListResponse.",
    "Creates a group from a SCIM 2.0 resource, as a SCIM POST does (with its provisioning jobs).",
    "One group as a SCIM 2.0 resource.",
    "Replaces a group with a SCIM 2.0 resource.",
    "Changes some attributes of a group: a SCIM PatchOp, or a plain object of attributes replaced as given (`{\"active\": false}` deactivates a user).",
    "Deletes a group (it is deprovisioned from its targets)."
);

/// The users and groups routes.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, replace_user, patch_user, delete_user))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, replace_group, patch_group, delete_group))
}
