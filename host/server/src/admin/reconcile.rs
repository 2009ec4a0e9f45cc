//! Reconciliation of one target: `POST /targets/{target}/reconcile` starts one and answers
//! `202` with the running run (and its `Location`), or with `"wait": true` answers its report
//! when it ends; `GET /targets/{target}/reconciliations` lists the runs, newest first, and
//! `GET /targets/{target}/reconciliations/{id}` reads one run with its drift.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use provisioner_engine::store::{Drift, ReconcileRun};
use provisioner_engine::{EngineError, ReconcileOptions, ReconcileReport};

use super::error::{ApiError, ApiResult, ErrorBody};
use super::{AdminState, Principal};

/// The most runs one page of the list holds.
const MAX_RUNS: i64 = 100;

/// How to run: the target's policy unless `repair` says otherwise.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReconcileRequest {
    /// `true`: queue the job that fixes each drift; `false`: report only; absent: the
    /// target's policy (`report` unless configured otherwise).
    #[serde(default)]
    pub repair: Option<bool>,
    /// `true`: answer when the run ends, with its report (the call lasts as long as the
    /// target's listing); `false` or absent: answer at once with the running run, which goes
    /// on in the server (read it back from its `Location`).
    #[serde(default)]
    pub wait: bool,
}

/// One difference between the target and the local users.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DriftView {
    /// `missing_remotely`, `unknown_remotely`, `field_differs` or `active_differs`.
    pub kind: String,
    /// The local user's id, when a local user is involved.
    pub entity_id: Option<String>,
    /// The local user name, or the remote one for an unknown remote user.
    pub user_name: Option<String>,
    /// The remote user's id.
    pub remote_id: Option<String>,
    /// The target field that differs.
    pub field: Option<String>,
    /// The value the local user gives (`true`/`false` for the active state).
    pub expected: Option<String>,
    /// The value the target holds.
    pub actual: Option<String>,
    /// `queued job N` when a repair was queued.
    pub repair: Option<String>,
}

impl From<Drift> for DriftView {
    fn from(d: Drift) -> Self {
        DriftView {
            kind: d.kind.as_str().into(),
            entity_id: d.entity_id,
            user_name: d.user_name,
            remote_id: d.remote_id,
            field: d.field,
            expected: d.expected,
            actual: d.actual,
            repair: d.repair,
        }
    }
}

/// A reconciliation run without its drift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReconciliationSummary {
    /// The run's id.
    pub id: i64,
    /// The target reconciled.
    pub target: String,
    /// When it started, epoch milliseconds.
    pub started_at: i64,
    /// When it ended, epoch milliseconds.
    pub finished_at: Option<i64>,
    /// `running`, `done` or `failed`.
    pub state: String,
    /// `report` or `repair`.
    pub policy: String,
    /// Remote users read.
    pub remote_seen: i64,
    /// Local users in the target's scope walked.
    pub local_seen: i64,
    /// Drift found.
    pub drift_count: i64,
    /// Why a failed run stopped.
    pub error: Option<String>,
}

impl From<ReconcileRun> for ReconciliationSummary {
    fn from(run: ReconcileRun) -> Self {
        ReconciliationSummary {
            id: run.id,
            target: run.target,
            started_at: run.started_at,
            finished_at: run.finished_at,
            state: run.state.as_str().into(),
            policy: run.policy.as_str().into(),
            remote_seen: run.remote_seen,
            local_seen: run.local_seen,
            drift_count: run.drift_count,
            error: run.error,
        }
    }
}

/// A reconciliation run with its drift (the first 1,000; `drift_count` counts them all).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reconciliation {
    /// The run.
    #[serde(flatten)]
    pub run: ReconciliationSummary,
    /// What differs, in the order found.
    pub drift: Vec<DriftView>,
}

impl From<ReconcileReport> for Reconciliation {
    fn from(report: ReconcileReport) -> Self {
        Reconciliation {
            run: report.run.into(),
            drift: report.drift.into_iter().map(DriftView::from).collect(),
        }
    }
}

/// How many runs to list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsParams {
    /// At most this many (default 20, at most 100).
    pub limit: Option<i64>,
}

/// Reads the target's users through its connector and compares them with the local users;
/// with repair, each drift names the job queued to fix it. Starts the run and answers `202`
/// with it (state `running`; its `Location` reads it, with its drift, as it goes), or with
/// `"wait": true` answers the run's report when it ends.
#[utoipa::path(post, path = "/tenants/{tenant}/targets/{target}/reconcile", tag = "reconciliation",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    request_body(content = ReconcileRequest, description = "optional; an empty body uses the target's policy and does not wait"),
    responses((status = 200, description = "with `wait`: the run's report (state `failed` with the reason when the connector could not list)", body = Reconciliation),
        (status = 202, description = "the run started and goes on in the server; `Location` names it", body = ReconciliationSummary,
            headers(("Location" = String, description = "the run's path"))),
        (status = 400, description = "the body is malformed", body = ErrorBody),
        (status = 404, description = "no such tenant (or one the caller may not see), or no such target", body = ErrorBody),
        (status = 409, description = "a run of this target is still running", body = ErrorBody)))]
async fn reconcile(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Response> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    let request: ReconcileRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ReconcileRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the body must be {{\"repair\": true|false, \"wait\": true|false}} or empty: {e}"
            ))
        })?
    };
    let options = ReconcileOptions {
        repair: request.repair,
        ..ReconcileOptions::default()
    };
    let started = state
        .engine
        .start_reconciliation(&tenant, &target, options)
        .await?;
    if request.wait {
        let report = state
            .engine
            .finish_reconciliation(&state.registry, started)
            .await?;
        return Ok(Json(Reconciliation::from(report)).into_response());
    }
    let summary = ReconciliationSummary::from(started.run.clone());
    let location = format!(
        "/admin/v1/tenants/{}/targets/{}/reconciliations/{}",
        path_segment(&tenant),
        path_segment(&target),
        summary.id
    );
    let (engine, registry) = (state.engine.clone(), state.registry.clone());
    tokio::spawn(async move {
        // The run records its own end (done, or failed with the reason); only the store failing
        // is left to say here.
        if let Err(error) = engine.finish_reconciliation(&registry, started).await {
            tracing::warn!(%error, "a reconciliation run could not be finished");
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(summary),
    )
        .into_response())
}

/// `text` percent-encoded for one path segment.
fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The target's reconciliation runs, newest first, without their drift.
#[utoipa::path(get, path = "/tenants/{tenant}/targets/{target}/reconciliations", tag = "reconciliation",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name"), RunsParams),
    responses((status = 200, description = "success", body = Vec<ReconciliationSummary>),
        (status = 400, description = "the request is malformed", body = ErrorBody),
        (status = 404, description = "no such tenant (or one the caller may not see), or no such target", body = ErrorBody)))]
async fn list_runs(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
    Query(params): Query<RunsParams>,
) -> ApiResult<Json<Vec<ReconciliationSummary>>> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    let limit = match params.limit {
        None => 20,
        Some(n) if (1..=MAX_RUNS).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::bad_request(format!(
                "limit {n} is out of range: give 1 to {MAX_RUNS}"
            )))
        }
    };
    let runs = state
        .engine
        .store()
        .reconcile_runs(&tenant, &target, limit)
        .await?;
    Ok(Json(runs.into_iter().map(Into::into).collect()))
}

/// One reconciliation run with its drift.
#[utoipa::path(get, path = "/tenants/{tenant}/targets/{target}/reconciliations/{id}", tag = "reconciliation",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name"),
        ("id" = i64, Path, description = "run id")),
    responses((status = 200, description = "success", body = Reconciliation),
        (status = 404, description = "no such tenant (or one the caller may not see), target or run", body = ErrorBody)))]
async fn get_run(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target, id)): Path<(String, String, i64)>,
) -> ApiResult<Json<Reconciliation>> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    let report = state
        .engine
        .reconcile_report(&tenant, &target, id)
        .await
        .map_err(|error| match error {
            EngineError::NotFound(_) => ApiError::not_found(
                "reconciliation_not_found",
                format!(
                    "target `{target}` has no reconciliation run {id}; `GET .../reconciliations` \
                     lists its runs"
                ),
            ),
            other => other.into(),
        })?;
    Ok(Json(report.into()))
}

/// The reconciliation routes.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(reconcile))
        .routes(routes!(list_runs))
        .routes(routes!(get_run))
}
