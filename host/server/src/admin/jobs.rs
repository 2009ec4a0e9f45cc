//! Jobs, dead letters and replay of one tenant: `GET /jobs`, `GET /jobs/{id}` (with its
//! attempts), `GET /dead-letters`, `POST /dead-letters/replay`.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use provisioner_engine::store::{
    kind_str, operation_str, AttemptRecord, JobQuery, JobRecord, JobState,
};

use super::error::{ApiError, ApiResult, ErrorBody};
use super::{AdminState, Principal};

/// The most jobs one page holds.
const MAX_PAGE: i64 = 1000;

/// Why a job last failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobErrorView {
    /// The error case, e.g. `invalid_data`, `transient`, `sandbox_timeout`.
    pub kind: String,
    /// The target's own code, e.g. `DUPLICATE_USERNAME`.
    pub code: Option<String>,
    /// The target's message.
    pub message: String,
}

/// One outbox job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobView {
    /// The job's id (global sequence number).
    pub id: i64,
    /// The target it is for.
    pub target: String,
    /// `user` or `group`.
    pub entity_kind: String,
    /// The local id of the entity.
    pub entity_id: String,
    /// The entity's name when the change was made.
    pub entity_name: String,
    /// `create`, `update` or `delete`.
    pub operation: String,
    /// `pending`, `running`, `done`, `dead`, `coalesced` or `superseded`.
    pub state: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// The remote id the target returned.
    pub remote_id: Option<String>,
    /// The last failure.
    pub error: Option<JobErrorView>,
    /// When the job may run next, epoch milliseconds.
    pub due_at: i64,
    /// Creation time, epoch milliseconds.
    pub created_at: i64,
    /// Last change, epoch milliseconds.
    pub updated_at: i64,
    /// When the job reached a final state, epoch milliseconds.
    pub finished_at: Option<i64>,
}

impl From<JobRecord> for JobView {
    fn from(job: JobRecord) -> Self {
        JobView {
            id: job.id,
            target: job.target,
            entity_kind: kind_str(job.entity_kind).into(),
            entity_id: job.entity_id,
            entity_name: job.entity_name,
            operation: operation_str(job.operation).into(),
            state: job.state.as_str().into(),
            attempts: job.attempts,
            remote_id: job.remote_id,
            error: job.error.map(|e| JobErrorView {
                kind: e.kind,
                code: e.code,
                message: e.message,
            }),
            due_at: job.due_at,
            created_at: job.created_at,
            updated_at: job.updated_at,
            finished_at: job.finished_at,
        }
    }
}

/// One connector call made for a job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttemptView {
    /// The record's id.
    pub id: i64,
    /// The call: `create`, `update`, `delete` or `lookup`.
    pub call: String,
    /// `ok`, `found`, `absent`, or the error case.
    pub outcome: String,
    /// The target's own error code.
    pub target_code: Option<String>,
    /// The error message.
    pub message: Option<String>,
    /// The remote id returned or found.
    pub remote_id: Option<String>,
    /// When the call started, epoch milliseconds.
    pub started_at: i64,
    /// How long it took, in milliseconds.
    pub duration_ms: i64,
}

impl From<AttemptRecord> for AttemptView {
    fn from(a: AttemptRecord) -> Self {
        AttemptView {
            id: a.id,
            call: a.call,
            outcome: a.outcome,
            target_code: a.target_code,
            message: a.message,
            remote_id: a.remote_id,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
        }
    }
}

/// A job with the calls made for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobDetail {
    /// The job.
    #[serde(flatten)]
    pub job: JobView,
    /// Its connector calls, oldest first.
    pub attempts: Vec<AttemptView>,
}

/// Which jobs to list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsParams {
    /// `pending`, `running`, `done`, `dead`, `coalesced` or `superseded`.
    pub state: Option<String>,
    /// Only this target's jobs.
    pub target: Option<String>,
    /// Only jobs of the user or group with this local id.
    pub entity: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Only jobs with a smaller id (the last id of the previous page).
    pub before: Option<i64>,
}

/// Which dead letters to list.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadLettersParams {
    /// Only this target's.
    pub target: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Only dead letters with a smaller id (the last id of the previous page).
    pub before: Option<i64>,
}

/// Which dead letters to return to the queue: all of the tenant's when nothing is given.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// Only this target's.
    #[serde(default)]
    pub target: Option<String>,
    /// Only those of the user or group with this local id.
    #[serde(default)]
    pub entity_id: Option<String>,
    /// Only these jobs.
    #[serde(default)]
    pub job_ids: Option<Vec<i64>>,
}

/// What a replay did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Replayed {
    /// How many dead letters went back to the queue.
    pub replayed: u64,
}

fn page_limit(limit: Option<i64>) -> ApiResult<i64> {
    match limit {
        None => Ok(100),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(n) => Err(ApiError::bad_request(format!(
            "limit {n} is out of range: give 1 to {MAX_PAGE}"
        ))),
    }
}

fn parse_state(state: Option<&str>) -> ApiResult<Option<JobState>> {
    state
        .map(|s| s.parse::<JobState>())
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The tenant's jobs, newest first.
#[utoipa::path(get, path = "/tenants/{tenant}/jobs", tag = "jobs",
    params(("tenant" = String, Path, description = "tenant name"), JobsParams),
    responses((status = 200, description = "success", body = Vec<JobView>), (status = 400, description = "the request is malformed", body = ErrorBody),
        (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn list_jobs(
    principal: Principal,
    State(state): State<AdminState>,
    Path(tenant): Path<String>,
    Query(params): Query<JobsParams>,
) -> ApiResult<Json<Vec<JobView>>> {
    state.require_tenant(&principal, &tenant)?;
    let query = JobQuery {
        tenant: Some(tenant),
        target: params.target,
        state: parse_state(params.state.as_deref())?,
        entity_id: params.entity,
        before: params.before,
        limit: Some(page_limit(params.limit)?),
    };
    let jobs = state.engine.store().query_jobs(&query).await?;
    Ok(Json(jobs.into_iter().map(JobView::from).collect()))
}

/// One job with its connector calls.
#[utoipa::path(get, path = "/tenants/{tenant}/jobs/{id}", tag = "jobs",
    params(("tenant" = String, Path, description = "tenant name"),
        ("id" = i64, Path, description = "job id")),
    responses((status = 200, description = "success", body = JobDetail), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn get_job(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, id)): Path<(String, i64)>,
) -> ApiResult<Json<JobDetail>> {
    state.require_tenant(&principal, &tenant)?;
    let not_found = || {
        ApiError::not_found(
            "job_not_found",
            format!("tenant `{tenant}` has no job {id}; `GET .../jobs` lists its jobs"),
        )
    };
    let store = state.engine.store();
    let job = store
        .job(id)
        .await?
        .filter(|job| job.tenant == tenant)
        .ok_or_else(not_found)?;
    let attempts = store.attempts_for_job(id).await?;
    Ok(Json(JobDetail {
        job: job.into(),
        attempts: attempts.into_iter().map(AttemptView::from).collect(),
    }))
}

/// The tenant's dead letters, newest first, with the target's error code and message.
#[utoipa::path(get, path = "/tenants/{tenant}/dead-letters", tag = "jobs",
    params(("tenant" = String, Path, description = "tenant name"), DeadLettersParams),
    responses((status = 200, description = "success", body = Vec<JobView>), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn dead_letters(
    principal: Principal,
    State(state): State<AdminState>,
    Path(tenant): Path<String>,
    Query(params): Query<DeadLettersParams>,
) -> ApiResult<Json<Vec<JobView>>> {
    state.require_tenant(&principal, &tenant)?;
    let query = JobQuery {
        tenant: Some(tenant),
        target: params.target,
        state: Some(JobState::Dead),
        before: params.before,
        limit: Some(page_limit(params.limit)?),
        ..JobQuery::default()
    };
    let jobs = state.engine.store().query_jobs(&query).await?;
    Ok(Json(jobs.into_iter().map(JobView::from).collect()))
}

/// Returns dead letters to the queue with a fresh attempt budget; each reads the entity's
/// current state, so fix the data or the target first.
#[utoipa::path(post, path = "/tenants/{tenant}/dead-letters/replay", tag = "jobs",
    params(("tenant" = String, Path, description = "tenant name")),
    request_body = ReplayRequest,
    responses((status = 200, description = "success", body = Replayed), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn replay(
    principal: Principal,
    State(state): State<AdminState>,
    Path(tenant): Path<String>,
    Json(request): Json<ReplayRequest>,
) -> ApiResult<Json<Replayed>> {
    state.require_tenant(&principal, &tenant)?;
    if let Some(target) = &request.target {
        state.require_target(&tenant, target).await?;
    }
    let engine = &state.engine;
    let whole_targets = request.entity_id.is_none() && request.job_ids.is_none();
    let mut replayed = 0;
    if whole_targets {
        let targets = match request.target {
            Some(target) => vec![target],
            None => engine
                .store()
                .targets(Some(&tenant))
                .await?
                .into_iter()
                .map(|t| t.spec.name)
                .collect(),
        };
        for target in targets {
            replayed += engine.replay_dead_letters(&tenant, &target, None).await?;
        }
        return Ok(Json(Replayed { replayed }));
    }
    // Selected dead letters: every one matching, job by job.
    let mut selected: BTreeMap<i64, String> = BTreeMap::new();
    let mut before = None;
    loop {
        let page = engine
            .store()
            .query_jobs(&JobQuery {
                tenant: Some(tenant.clone()),
                target: request.target.clone(),
                state: Some(JobState::Dead),
                entity_id: request.entity_id.clone(),
                before,
                limit: Some(MAX_PAGE),
            })
            .await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        selected.extend(
            page.into_iter()
                .filter(|job| {
                    request
                        .job_ids
                        .as_ref()
                        .is_none_or(|ids| ids.contains(&job.id))
                })
                .map(|job| (job.id, job.target)),
        );
    }
    for (id, target) in selected {
        replayed += engine
            .replay_dead_letters(&tenant, &target, Some(id))
            .await?;
    }
    Ok(Json(Replayed { replayed }))
}

/// The jobs routes.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(get_job))
        .routes(routes!(dead_letters))
        .routes(routes!(replay))
}
