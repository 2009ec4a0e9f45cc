//! The provisioning log of one tenant, in the spirit of Entra's provisioning logs: every
//! connector call with its time, target, operation, the mapped fields it carried (secrets
//! redacted), outcome, the target's code and message and the remote id, newest first.
//! `GET /log` filters by user, target, outcome and time; `GET /users/{id}/log` is one user's.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use provisioner_engine::store::{kind_str, LogEntry, LogFilter, MAX_LOG_PAGE};

use super::error::{ApiError, ApiResult, ErrorBody};
use super::{AdminState, Principal};

/// One connector call in the provisioning log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LogEntryView {
    /// The attempt's id; pass the last one of a page as `before` for the next page.
    pub attempt_id: i64,
    /// When the call started, epoch milliseconds.
    pub time: i64,
    /// The job the call was made for.
    pub job_id: i64,
    /// The target called.
    pub target: String,
    /// `user` or `group`.
    pub entity_kind: String,
    /// The local id of the entity.
    pub entity_id: String,
    /// The user's name (or the entity's name when its job was queued).
    pub user_name: Option<String>,
    /// The job's operation: `create`, `update` or `delete`.
    pub operation: Option<String>,
    /// The call: `create`, `update`, `delete` or `lookup`.
    pub call: String,
    /// `ok`, `found`, `absent`, or the error case (`invalid_data`, `transient`, ...).
    pub outcome: String,
    /// The target's own error code, e.g. Salesforce's `INVALID_EMAIL_ADDRESS`.
    pub target_code: Option<String>,
    /// The error message.
    pub message: Option<String>,
    /// The remote id returned or found.
    pub remote_id: Option<String>,
    /// How long the call took, in milliseconds.
    pub duration_ms: i64,
    /// The mapped fields the call carried, target field to value; secret-looking values are
    /// `[redacted]`.
    pub fields: Option<BTreeMap<String, String>>,
    /// The id of the inbound request (SCIM or admin call, its `X-Request-Id`) whose change
    /// queued the job; none for jobs queued outside a request.
    pub request_id: Option<String>,
}

impl From<LogEntry> for LogEntryView {
    fn from(e: LogEntry) -> Self {
        LogEntryView {
            attempt_id: e.attempt_id,
            time: e.time,
            job_id: e.job_id,
            target: e.target,
            entity_kind: kind_str(e.entity_kind).into(),
            entity_id: e.entity_id,
            user_name: e.user_name,
            operation: e.operation,
            call: e.call,
            outcome: e.outcome,
            target_code: e.target_code,
            message: e.message,
            remote_id: e.remote_id,
            duration_ms: e.duration_ms,
            fields: e.fields,
            request_id: e.request_id,
        }
    }
}

/// Which calls a log page holds (all given filters apply).
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Only calls for this user: its local id, or a live user's name (in any case).
    pub user: Option<String>,
    /// Only calls to this target.
    pub target: Option<String>,
    /// Only calls with this outcome: `ok`, `found`, `absent` or an error case such as
    /// `invalid_data`.
    pub outcome: Option<String>,
    /// Only calls for jobs queued by the inbound request with this id (the `X-Request-Id` the
    /// server echoed on that SCIM or admin response).
    pub request: Option<String>,
    /// Only calls started at or after this time, epoch milliseconds.
    pub since: Option<i64>,
    /// Only calls started before this time, epoch milliseconds.
    pub until: Option<i64>,
    /// At most this many entries (default 50, at most 500).
    pub limit: Option<i64>,
    /// Only calls with a smaller attempt id (the last `attempt_id` of the previous page).
    pub before: Option<i64>,
}

/// One user's log: the same filters but the user.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserLogParams {
    /// Only calls to this target.
    pub target: Option<String>,
    /// Only calls with this outcome.
    pub outcome: Option<String>,
    /// Only calls started at or after this time, epoch milliseconds.
    pub since: Option<i64>,
    /// Only calls started before this time, epoch milliseconds.
    pub until: Option<i64>,
    /// At most this many entries (default 50, at most 500).
    pub limit: Option<i64>,
    /// Only calls with a smaller attempt id (the last `attempt_id` of the previous page).
    pub before: Option<i64>,
}

impl LogParams {
    fn filter(self) -> ApiResult<LogFilter> {
        if let Some(n) = self.limit.filter(|n| !(1..=MAX_LOG_PAGE).contains(n)) {
            return Err(ApiError::bad_request(format!(
                "limit {n} is out of range: give 1 to {MAX_LOG_PAGE}"
            )));
        }
        if let (Some(since), Some(until)) = (self.since, self.until) {
            if since >= until {
                return Err(ApiError::bad_request(format!(
                    "since ({since}) must be before until ({until}); both are epoch milliseconds"
                )));
            }
        }
        Ok(LogFilter {
            user: self.user,
            target: self.target,
            outcome: self.outcome,
            request: self.request,
            since: self.since,
            until: self.until,
            before: self.before,
            limit: self.limit,
        })
    }
}

async fn page(
    state: &AdminState,
    principal: &Principal,
    tenant: &str,
    params: LogParams,
) -> ApiResult<Json<Vec<LogEntryView>>> {
    state.require_tenant(principal, tenant)?;
    let filter = params.filter()?;
    let entries = state
        .engine
        .store()
        .provisioning_log(tenant, &filter)
        .await?;
    Ok(Json(entries.into_iter().map(LogEntryView::from).collect()))
}

/// The tenant's provisioning log, newest first.
#[utoipa::path(get, path = "/tenants/{tenant}/log", tag = "log",
    params(("tenant" = String, Path, description = "tenant name"), LogParams),
    responses((status = 200, description = "success", body = Vec<LogEntryView>), (status = 400, description = "the request is malformed", body = ErrorBody),
        (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn tenant_log(
    principal: Principal,
    State(state): State<AdminState>,
    Path(tenant): Path<String>,
    Query(params): Query<LogParams>,
) -> ApiResult<Json<Vec<LogEntryView>>> {
    page(&state, &principal, &tenant, params).await
}

/// One user's provisioning log across targets, newest first.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}/log", tag = "log",
    params(("tenant" = String, Path, description = "tenant name"),
        ("id" = String, Path, description = "the user's id or user name"), UserLogParams),
    responses((status = 200, description = "success", body = Vec<LogEntryView>), (status = 400, description = "the request is malformed", body = ErrorBody),
        (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn user_log(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, id)): Path<(String, String)>,
    Query(params): Query<UserLogParams>,
) -> ApiResult<Json<Vec<LogEntryView>>> {
    let params = LogParams {
        user: Some(id),
        target: params.target,
        outcome: params.outcome,
        request: None,
        since: params.since,
        until: params.until,
        limit: params.limit,
        before: params.before,
    };
    page(&state, &principal, &tenant, params).await
}

/// The provisioning-log routes.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(tenant_log))
        .routes(routes!(user_log))
}
