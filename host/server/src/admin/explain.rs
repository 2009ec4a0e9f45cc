//! Explain, dry run and provision on demand for one user and one target (see
//! [`crate::explain`]): `GET /users/{id}/explain?target=` shows the scope decision, every
//! mapped field with the claim or default that produced it, and the exact requests the
//! connector would send, without sending them; `POST /users/{id}/provision?target=` provisions
//! that one user now and returns the job's attempts.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use provisioner_engine::mapping::FieldSource;

use super::error::{ApiError, ApiResult, ErrorBody};
use super::jobs::AttemptView;
use super::{AdminState, Principal};
use crate::explain::{
    self, ExplainError, ExplainedField, ExplainedRequest, Explanation, OnDemandResult,
};

/// How long `POST .../provision` waits for the job by default, in milliseconds.
const DEFAULT_WAIT_MS: u64 = 30_000;

/// One target field: where the mapping takes its value from, and what the connector sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldView {
    /// The target's field, e.g. `LastName`.
    pub field: String,
    /// The local claim the mapping reads.
    pub claim: Option<String>,
    /// The mapping's default.
    pub default_value: Option<String>,
    /// `claim` (the claim had a value), `default` (it had none), `constant` (no claim),
    /// `unset` (neither: the mapping gives no value) or `connector` (no mapping names the
    /// field: the connector sets it itself).
    pub source: String,
    /// The value the mapping gives (`[redacted]` for secret-looking fields).
    pub value: Option<String>,
    /// The value the connector's request body held for the field in the dry run, as text;
    /// none without a body, when the body lacks it, or for a path explain cannot follow.
    pub sent: Option<String>,
    /// How the connector's handling differs from the mapping (it sends another value, leaves
    /// the field out, refuses the value, or sets a field no mapping names); none when it sent
    /// the mapped value.
    pub connector: Option<String>,
}

impl From<ExplainedField> for FieldView {
    fn from(f: ExplainedField) -> Self {
        let source = match f.mapped.source {
            FieldSource::Claim => "claim",
            FieldSource::Default => "default",
            FieldSource::Constant => "constant",
            FieldSource::Unset => "unset",
            FieldSource::Connector => "connector",
        };
        FieldView {
            field: f.mapped.field,
            claim: f.mapped.claim,
            default_value: f.mapped.default_value,
            source: source.into(),
            value: f.mapped.value,
            sent: f.sent,
            connector: f.connector,
        }
    }
}

/// The provisioning-role half of the scope decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RolesView {
    /// The target's provisioning roles (empty: every user).
    pub required: Vec<String>,
    /// The user's roles, its own then its groups' names.
    pub held: Vec<String>,
    /// The groups among `held`.
    pub via_groups: Vec<String>,
    /// Whether no role is required or one is held.
    pub matched: bool,
}

/// The scoping-filter half of the scope decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FilterView {
    /// The target's scoping filter on claims, if any.
    #[schema(value_type = Option<Object>)]
    pub expression: Option<serde_json::Value>,
    /// Whether there is no filter or the user's claims match it.
    pub matched: bool,
}

/// Whether the user is in the target's scope, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScopeView {
    /// Roles required and held.
    pub roles: RolesView,
    /// The scoping filter.
    pub filter: FilterView,
}

/// One request the connector would send (recorded by the dry run, never sent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RequestView {
    /// `api` (the connector's request) or `token` (the host's token request for it).
    pub kind: String,
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Headers, credentials redacted.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON when it is JSON, else text, null without one.
    #[schema(value_type = Object)]
    pub body: serde_json::Value,
}

impl From<ExplainedRequest> for RequestView {
    fn from(r: ExplainedRequest) -> Self {
        RequestView {
            kind: r.kind,
            method: r.method,
            url: r.url,
            headers: r.headers,
            body: r.body,
        }
    }
}

/// What the engine would send for one user to one target, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExplanationView {
    /// The target.
    pub target: String,
    /// The user's local id.
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// Whether the target provisions the user.
    pub in_scope: bool,
    /// The scope decision.
    pub scope: ScopeView,
    /// `create` or `update`; null when out of scope.
    pub operation: Option<String>,
    /// The user's remote id in the target.
    pub remote_id: Option<String>,
    /// Every mapped field with its provenance.
    pub fields: Vec<FieldView>,
    /// The requests the connector would send, in order.
    pub requests: Vec<RequestView>,
    /// The connector's answer to the dry run: `ok`, or the error case and message.
    pub dry_run_outcome: Option<String>,
    /// How the dry run answered, why a user is out of scope, why nothing was recorded.
    pub notes: Vec<String>,
}

impl From<Explanation> for ExplanationView {
    fn from(e: Explanation) -> Self {
        let roles = e.scope.roles;
        ExplanationView {
            target: e.target,
            user_id: e.user_id,
            user_name: e.user_name,
            in_scope: e.in_scope,
            scope: ScopeView {
                roles: RolesView {
                    required: roles.required,
                    held: roles.held,
                    via_groups: roles.via_groups,
                    matched: roles.matched,
                },
                filter: FilterView {
                    expression: e
                        .scope
                        .filter
                        .expression
                        .and_then(|filter| serde_json::to_value(filter).ok()),
                    matched: e.scope.filter.matched,
                },
            },
            operation: e.operation,
            remote_id: e.remote_id,
            fields: e.fields.into_iter().map(FieldView::from).collect(),
            requests: e.requests.into_iter().map(RequestView::from).collect(),
            dry_run_outcome: e.dry_run_outcome,
            notes: e.notes,
        }
    }
}

/// The result of provisioning one user now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProvisionedView {
    /// The job queued for the user.
    pub job_id: i64,
    /// Where the job ended: `done`, `dead`, ... (`pending` or `running` when the wait ended
    /// first: follow it with `GET .../jobs/{id}`).
    pub state: String,
    /// The remote id the target returned.
    pub remote_id: Option<String>,
    /// The job's calls, oldest first.
    pub attempts: Vec<AttemptView>,
}

impl From<OnDemandResult> for ProvisionedView {
    fn from(r: OnDemandResult) -> Self {
        ProvisionedView {
            job_id: r.job_id,
            state: r.state.as_str().into(),
            remote_id: r.outcome.remote_id,
            attempts: r.attempts.into_iter().map(AttemptView::from).collect(),
        }
    }
}

/// Which target to explain the user for.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainParams {
    /// The target.
    pub target: String,
}

/// Which target to provision the user to, and how long to wait.
#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProvisionParams {
    /// The target.
    pub target: String,
    /// How long to wait for the job, in milliseconds (default 30000, at most 60000).
    pub wait_ms: Option<u64>,
}

fn api_error(error: ExplainError) -> ApiError {
    match error {
        ExplainError::TargetNotFound(_) => {
            ApiError::not_found("target_not_found", error.to_string())
        }
        ExplainError::UserNotFound(_) => ApiError::not_found("user_not_found", error.to_string()),
        ExplainError::Refused(why) => ApiError::conflict(why),
        ExplainError::Engine(e) => e.into(),
    }
}

/// Explains what a job would send for the user to the target, with a dry run of the target's
/// connector that sends nothing.
#[utoipa::path(get, path = "/tenants/{tenant}/users/{id}/explain", tag = "explain",
    params(("tenant" = String, Path, description = "tenant name"),
        ("id" = String, Path, description = "the user's id or user name"), ExplainParams),
    responses((status = 200, description = "success", body = ExplanationView), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn explain_user(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, id)): Path<(String, String)>,
    Query(params): Query<ExplainParams>,
) -> ApiResult<Json<ExplanationView>> {
    state.require_tenant(&principal, &tenant)?;
    let explained = explain::explain(&state.engine, &state.registry, &tenant, &params.target, &id)
        .await
        .map_err(api_error)?;
    Ok(Json(explained.into()))
}

/// Provisions the user to the target now: queues its job and waits for the dispatcher to run
/// it (bounded), then returns the job's calls.
#[utoipa::path(post, path = "/tenants/{tenant}/users/{id}/provision", tag = "explain",
    params(("tenant" = String, Path, description = "tenant name"),
        ("id" = String, Path, description = "the user's id or user name"), ProvisionParams),
    responses((status = 200, description = "success", body = ProvisionedView), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody),
        (status = 409, description = "the user cannot be provisioned to this target now (out of scope or paused)", body = ErrorBody)))]
async fn provision_user(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, id)): Path<(String, String)>,
    Query(params): Query<ProvisionParams>,
) -> ApiResult<Json<ProvisionedView>> {
    state.require_tenant(&principal, &tenant)?;
    let wait = Duration::from_millis(params.wait_ms.unwrap_or(DEFAULT_WAIT_MS));
    let result = explain::provision_now(&state.engine, &tenant, &params.target, &id, wait)
        .await
        .map_err(api_error)?;
    Ok(Json(result.into()))
}

/// The explain and provision-on-demand routes.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(explain_user))
        .routes(routes!(provision_user))
}
