//! A tenant's targets: list, read, create or replace (checked first, exactly as
//! `provisioner target put`: [`crate::admission`]), validate without writing, delete,
//! pause/resume, effective egress and secret bindings, revision history and rollback.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use provisioner_contract::ClaimMapping;
use provisioner_engine::store::{
    OutboundSettings, StoreError, TargetEgress, TargetRecord, TargetRevision, TargetSpec,
};

use super::error::{ApiError, ApiResult, ErrorBody};
use super::{AdminState, Principal};
use crate::admission::{self, Refused};

/// A target's configuration: a `TargetSpec` without tenant and name (they come from the path).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetBody {
    /// `builtin:<name>` or `sha256:<hex>` of an uploaded component (`POST /connectors`).
    pub connector: String,
    /// Non-secret property values (text, boolean or integer), by key.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub properties: BTreeMap<String, serde_json::Value>,
    /// Where each secret comes from: `env:VAR`, `file:/path` or `stored:<key>` (a secret of
    /// this target written with `PUT .../secrets/{key}`). Never a value.
    #[serde(default)]
    pub secret_refs: BTreeMap<String, String>,
    /// Target fields and the claims (or defaults) they are filled from.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub claim_mappings: Vec<ClaimMapping>,
    /// Outbound behaviour: blocking, provisioning roles, scope filter, retry limits.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub settings: OutboundSettings,
    /// Non-public destinations the connector may reach: `allow_loopback`, `allow_private`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub egress: TargetEgress,
}

impl TargetBody {
    fn into_spec(self, tenant: &str, name: &str) -> TargetSpec {
        TargetSpec {
            tenant: tenant.into(),
            name: name.into(),
            connector: self.connector,
            properties: self.properties,
            secret_refs: self.secret_refs,
            claim_mappings: self.claim_mappings,
            settings: self.settings,
            egress: self.egress,
        }
    }
}

impl From<TargetSpec> for TargetBody {
    fn from(spec: TargetSpec) -> Self {
        TargetBody {
            connector: spec.connector,
            properties: spec.properties,
            secret_refs: spec.secret_refs,
            claim_mappings: spec.claim_mappings,
            settings: spec.settings,
            egress: spec.egress,
        }
    }
}

/// A stored target with its state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TargetView {
    /// Target name.
    pub name: String,
    /// Its configuration.
    pub spec: TargetBody,
    /// Whether it is paused (disabled).
    pub paused: bool,
    /// Why it is paused.
    pub pause_reason: Option<String>,
    /// When a timed pause ends by itself, epoch ms.
    pub paused_until: Option<i64>,
    /// Incremented on every configuration change.
    pub revision: i64,
    /// `config` (seeded from the file) or `operator` (changed at run time).
    pub origin: String,
    /// Creation time, epoch ms.
    pub created_at: i64,
    /// Last change, epoch ms.
    pub updated_at: i64,
}

impl From<TargetRecord> for TargetView {
    fn from(t: TargetRecord) -> Self {
        TargetView {
            name: t.spec.name.clone(),
            spec: t.spec.into(),
            paused: t.paused,
            pause_reason: t.pause_reason,
            paused_until: t.paused_until,
            revision: t.revision,
            origin: t.origin.as_str().into(),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// What a successful `PUT` did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PutOutcome {
    /// The target as stored now.
    pub target: TargetView,
    /// Things worth knowing that did not stop the change.
    pub warnings: Vec<String>,
    /// The sync run a new target started, so the tenant's users reach it.
    pub sync_run: Option<i64>,
}

/// The result of a check: the problems (empty when the configuration is acceptable).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Validation {
    /// Whether the configuration would be accepted.
    pub ok: bool,
    /// What is wrong, each naming what to fix.
    pub problems: Vec<String>,
    /// Things worth knowing that would not stop the change.
    pub warnings: Vec<String>,
}

/// The body of a 422 refusal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefusedBody {
    /// `target_refused`.
    pub error: String,
    /// A summary.
    pub message: String,
    /// Every problem, each naming what to fix.
    pub problems: Vec<String>,
}

/// Why a target is paused.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// Shown with the target's state (default: "paused by an operator").
    #[serde(default)]
    pub reason: Option<String>,
}

/// Which revision to return to.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The revision (default: the one before the current).
    #[serde(default)]
    pub to: Option<i64>,
}

/// Whether a delete may dead-letter open jobs.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeleteParams {
    /// Dead-letter the target's pending and running jobs instead of refusing.
    #[serde(default)]
    pub force: bool,
}

/// What a delete did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Deleted {
    /// Pending or running jobs dead-lettered (only with `force`).
    pub dead_lettered: u64,
}

/// A target's effective egress and where each secret comes from.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct EgressView {
    /// Origins the connector may send requests to.
    pub origins: Vec<String>,
    /// Each secret and the origins it may be sent to.
    #[schema(value_type = Object)]
    pub secrets: BTreeMap<String, Vec<String>>,
    /// Header names a secret may be injected into.
    pub secret_headers: Vec<String>,
    /// Whether loopback addresses are reachable.
    pub allow_loopback: bool,
    /// Whether private addresses are reachable.
    pub allow_private: bool,
    /// Each secret reference (`env:`, `file:`, `stored:`), never a value.
    pub secret_bindings: BTreeMap<String, String>,
    /// URL properties left at the connector's default, not reachable until set.
    #[schema(value_type = Object)]
    pub defaulted: BTreeMap<String, String>,
}

/// One revision of a target's configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RevisionView {
    /// The revision number.
    pub revision: i64,
    /// Its configuration.
    pub spec: TargetBody,
    /// `config` or `operator`.
    pub origin: String,
    /// `put`, `seed` or `rollback to N`.
    pub note: String,
    /// When, epoch ms.
    pub created_at: i64,
}

impl From<TargetRevision> for RevisionView {
    fn from(r: TargetRevision) -> Self {
        RevisionView {
            revision: r.revision,
            spec: r.spec.into(),
            origin: r.origin.as_str().into(),
            note: r.note,
            created_at: r.created_at,
        }
    }
}

/// A refused change as a 422 answer.
pub struct RefusedError(pub Refused);

impl axum::response::IntoResponse for RefusedError {
    fn into_response(self) -> axum::response::Response {
        let body = RefusedBody {
            error: "target_refused".into(),
            message: format!(
                "target {} refused, nothing changed: fix the {} problem(s) listed",
                self.0.target,
                self.0.problems.len()
            ),
            problems: self.0.problems,
        };
        (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
    }
}

/// Failure of a write that can be refused with problems.
pub enum PutError {
    /// The change was refused (422 with the problems).
    Refused(RefusedError),
    /// Another failure.
    Api(ApiError),
}

impl From<ApiError> for PutError {
    fn from(e: ApiError) -> Self {
        PutError::Api(e)
    }
}

impl axum::response::IntoResponse for PutError {
    fn into_response(self) -> axum::response::Response {
        match self {
            PutError::Refused(r) => r.into_response(),
            PutError::Api(e) => e.into_response(),
        }
    }
}

/// The tenant's targets.
#[utoipa::path(get, path = "/tenants/{tenant}/targets", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name")),
    responses((status = 200, description = "success", body = Vec<TargetView>), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn list_targets(
    principal: Principal,
    State(state): State<AdminState>,
    Path(tenant): Path<String>,
) -> ApiResult<Json<Vec<TargetView>>> {
    state.require_tenant(&principal, &tenant)?;
    let targets = state.engine.store().targets(Some(&tenant)).await?;
    Ok(Json(targets.into_iter().map(TargetView::from).collect()))
}

/// One target.
#[utoipa::path(get, path = "/tenants/{tenant}/targets/{target}", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    responses((status = 200, description = "success", body = TargetView), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn get_target(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
) -> ApiResult<Json<TargetView>> {
    state.require_tenant(&principal, &tenant)?;
    Ok(Json(state.require_target(&tenant, &target).await?.into()))
}

/// Creates or replaces a target, after loading its connector, checking the configuration
/// against the connector's schema and running its `validate`; refused with 422 and every
/// problem otherwise (nothing changes). A new target starts a sync of the tenant's users.
#[utoipa::path(put, path = "/tenants/{tenant}/targets/{target}", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    request_body = TargetBody,
    responses((status = 200, description = "success", body = PutOutcome), (status = 422, description = "refused: what is wrong and how to fix it", body = RefusedBody),
        (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn put_target(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
    Json(body): Json<TargetBody>,
) -> Result<Json<PutOutcome>, PutError> {
    state.require_tenant(&principal, &tenant)?;
    let spec = body.into_spec(&tenant, &target);
    let admitted = admission::admit_with(
        state.engine.store(),
        state.registry.runtime(),
        Some(&state.secrets),
        spec,
        None,
        &|line| tracing::info!(tenant = %tenant, target = %target, "{line}"),
    )
    .await
    .map_err(|r| PutError::Refused(RefusedError(r)))?;
    Ok(Json(PutOutcome {
        target: admitted.record.into(),
        warnings: admitted.warnings,
        sync_run: admitted.sync_run.map(|run| run.id),
    }))
}

/// Checks a configuration for this target as `PUT` would, without writing anything.
#[utoipa::path(post, path = "/tenants/{tenant}/targets/{target}/validate", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    request_body = TargetBody,
    responses((status = 200, description = "success", body = Validation), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn validate_target(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
    Json(body): Json<TargetBody>,
) -> ApiResult<Json<Validation>> {
    state.require_tenant(&principal, &tenant)?;
    let spec = body.into_spec(&tenant, &target);
    let checked = admission::check(
        state.engine.store(),
        state.registry.runtime(),
        Some(&state.secrets),
        &spec,
        None,
        &|_| {},
    )
    .await;
    Ok(Json(match checked {
        Ok(checked) => Validation {
            ok: true,
            problems: Vec::new(),
            warnings: checked.warnings,
        },
        Err(refused) => Validation {
            ok: false,
            problems: refused.problems,
            warnings: Vec::new(),
        },
    }))
}

/// Deletes a target with its revisions, remote-id mappings and stored secrets (its jobs stay
/// as history). Refused with 409 while it has open jobs, unless `force`.
#[utoipa::path(delete, path = "/tenants/{tenant}/targets/{target}", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name"), DeleteParams),
    responses((status = 200, description = "success", body = Deleted), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody),
        (status = 409, description = "conflicts with the stored state", body = ErrorBody)))]
async fn delete_target(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
    Query(params): Query<DeleteParams>,
) -> ApiResult<Json<Deleted>> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    let deleted = state
        .engine
        .store()
        .delete_target(&tenant, &target, params.force)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(message) => ApiError::conflict(format!(
                "{message} (delete with `?force=true` to dead-letter them)"
            )),
            other => other.into(),
        })?;
    for (key, _) in state
        .secrets
        .list(&tenant, &target)
        .await
        .map_err(ApiError::internal)?
    {
        state
            .secrets
            .delete(&tenant, &target, &key)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(Json(Deleted {
        dead_lettered: deleted.dead_lettered,
    }))
}

/// Pauses (disables) a target until it is resumed: its jobs wait in the queue.
#[utoipa::path(post, path = "/tenants/{tenant}/targets/{target}/pause", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    request_body(content = Option<PauseRequest>),
    responses((status = 200, description = "success", body = TargetView), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn pause_target(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
    body: Option<Json<PauseRequest>>,
) -> ApiResult<Json<TargetView>> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    let reason = body
        .and_then(|Json(b)| b.reason)
        .unwrap_or_else(|| format!("paused by {}", principal.username));
    state.engine.pause_target(&tenant, &target, &reason).await?;
    Ok(Json(state.require_target(&tenant, &target).await?.into()))
}

/// Resumes (enables) a paused target: its queued jobs run.
#[utoipa::path(post, path = "/tenants/{tenant}/targets/{target}/resume", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    responses((status = 200, description = "success", body = TargetView), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn resume_target(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
) -> ApiResult<Json<TargetView>> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    state.engine.resume_target(&tenant, &target).await?;
    Ok(Json(state.require_target(&tenant, &target).await?.into()))
}

/// What the target's connector may reach and where each secret may go, as the server builds
/// it; 422 when the connector cannot be built (a missing secret, a bad property).
#[utoipa::path(get, path = "/tenants/{tenant}/targets/{target}/egress", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    responses((status = 200, description = "success", body = EgressView), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody),
        (status = 422, description = "refused: what is wrong and how to fix it", body = ErrorBody)))]
async fn target_egress(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
) -> ApiResult<Json<EgressView>> {
    state.require_tenant(&principal, &tenant)?;
    let record = state.require_target(&tenant, &target).await?;
    let instance = state
        .registry
        .instance(&record)
        .await
        .map_err(|e| ApiError::unprocessable(e.to_string()))?;
    let report = instance.egress_report();
    Ok(Json(EgressView {
        origins: report.origins,
        secrets: report.secrets.into_iter().collect(),
        secret_headers: report.secret_headers,
        allow_loopback: report.policy.allow_loopback,
        allow_private: report.policy.allow_private,
        secret_bindings: record.spec.secret_refs,
        defaulted: report.defaulted.into_iter().collect(),
    }))
}

/// Every stored revision of the target's configuration, oldest first.
#[utoipa::path(get, path = "/tenants/{tenant}/targets/{target}/history", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    responses((status = 200, description = "success", body = Vec<RevisionView>), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn target_history(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
) -> ApiResult<Json<Vec<RevisionView>>> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    let history = state
        .engine
        .store()
        .target_history(&tenant, &target)
        .await?;
    Ok(Json(history.into_iter().map(RevisionView::from).collect()))
}

/// Switches the target back to an earlier revision (by default the one before the current),
/// as a new revision.
#[utoipa::path(post, path = "/tenants/{tenant}/targets/{target}/rollback", tag = "targets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    request_body(content = Option<RollbackRequest>),
    responses((status = 200, description = "success", body = TargetView), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody),
        (status = 409, description = "conflicts with the stored state", body = ErrorBody)))]
async fn rollback_target(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
    body: Option<Json<RollbackRequest>>,
) -> ApiResult<Json<TargetView>> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    let to = body.and_then(|Json(b)| b.to);
    let record = state
        .engine
        .store()
        .rollback_target(&tenant, &target, to)
        .await?;
    Ok(Json(record.into()))
}

/// The targets routes.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_targets))
        .routes(routes!(get_target, put_target, delete_target))
        .routes(routes!(validate_target))
        .routes(routes!(pause_target))
        .routes(routes!(resume_target))
        .routes(routes!(target_egress))
        .routes(routes!(target_history))
        .routes(routes!(rollback_target))
}
