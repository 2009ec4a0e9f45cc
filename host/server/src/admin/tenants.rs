//! Tenants: the ones the caller administers, and one tenant's counts.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use provisioner_engine::store::EntityTable;

use super::error::{ApiResult, ErrorBody};
use super::{AdminState, Principal};

/// A tenant the caller administers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantSummary {
    /// Tenant name.
    pub name: String,
}

/// One tenant with its counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantDetail {
    /// Tenant name.
    pub name: String,
    /// Live users.
    pub users: u64,
    /// Live groups.
    pub groups: u64,
    /// Targets.
    pub targets: u64,
    /// Pending or running jobs.
    pub open_jobs: i64,
    /// Dead letters waiting for an operator.
    pub dead_letters: i64,
}

/// The tenants the caller administers (all of them for a server administrator).
#[utoipa::path(get, path = "/tenants", tag = "tenants",
    responses((status = 200, description = "success", body = Vec<TenantSummary>), (status = 401, description = "no valid admin credentials", body = ErrorBody)))]
async fn list_tenants(
    principal: Principal,
    State(state): State<AdminState>,
) -> Json<Vec<TenantSummary>> {
    Json(
        state
            .tenants
            .iter()
            .filter(|t| principal.may_see(t))
            .map(|name| TenantSummary { name: name.clone() })
            .collect(),
    )
}

/// One tenant: how many users, groups and targets it has, and its open jobs and dead letters.
#[utoipa::path(get, path = "/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "tenant name")),
    responses((status = 200, description = "success", body = TenantDetail), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn get_tenant(
    principal: Principal,
    State(state): State<AdminState>,
    Path(tenant): Path<String>,
) -> ApiResult<Json<TenantDetail>> {
    state.require_tenant(&principal, &tenant)?;
    let store = state.engine.store();
    // Index-only counts of open jobs and dead letters: never a count over the job history.
    let gauges = store.tenant_queue_gauges(&tenant).await?;
    Ok(Json(TenantDetail {
        users: store.live_count(&tenant, EntityTable::Users).await?,
        groups: store.live_count(&tenant, EntityTable::Groups).await?,
        targets: gauges.len() as u64,
        open_jobs: gauges.iter().map(|g| g.ready + g.blocked + g.running).sum(),
        dead_letters: gauges.iter().map(|g| g.dead).sum(),
        name: tenant,
    }))
}

/// The tenants routes.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_tenants))
        .routes(routes!(get_tenant))
}
