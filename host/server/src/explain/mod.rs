//! Explain, dry run and provision on demand, for one user and one target.
//!
//! [`explain`] states the scope decision (provisioning roles required and held, its own or
//! through groups; the scoping filter), the operation a job would send (a create without a
//! remote id, else an update of every field), every mapped field with the claim or default that
//! produces it, and the exact requests the connector would send, without sending them: the
//! target's real connector component runs with a dry-run transport ([`DryRun`]) that records
//! each request (secrets redacted as every exchange report is) and answers it itself, so
//! neither the target nor its token endpoint is contacted, and the target's real secrets are
//! never read (placeholders stand in for them).
//!
//! The synthetic answers are a minimal success, so a connector that sends several requests for
//! one change shows all of them: a token request gets a placeholder access token, a `POST` a
//! `201` whose JSON body echoes the request's with the placeholder id [`DRY_RUN_REMOTE_ID`]
//! (plus Salesforce's `success`/`errors`), a `PUT` a `200` echoing the body likewise, a `PATCH`
//! or `DELETE` a `204`, and a `GET` a `404` (a dry run reads nothing from the target). The
//! connector's answer to the dry run is reported as `dry_run_outcome`; an error there that
//! comes before any request is the connector refusing the change itself (e.g. a field value).
//!
//! [`provision_now`] then queues that user's job through the engine and waits, with a bound,
//! for the server's dispatcher to run it, and returns the job's attempts.

mod dry_run;
mod renderer;
mod sent_fields;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::registry::Registry;
use provisioner_engine::connector::CallFailure;
use provisioner_engine::preview::{FilterDecision, Preview, RoleDecision};
use provisioner_engine::store::{operation_str, AttemptRecord, JobState, Store, UserRecord};
use provisioner_engine::{Engine, EngineError, JobOutcome};

pub use dry_run::DryRun;
pub use renderer::DryRunRenderer;
pub use sent_fields::{ExplainedField, RefusedField};

/// The remote id the dry run's synthetic `POST` answer carries (15 letters and digits, so a
/// Salesforce connector accepts it as a record id).
pub const DRY_RUN_REMOTE_ID: &str = "DRYRUN000000000";

/// The placeholder every secret of the target is during a dry run.
pub const DRY_RUN_SECRET: &str = "dry-run-placeholder-secret";

/// The placeholder access token the dry run's token endpoint answers.
pub const DRY_RUN_TOKEN: &str = "dry-run-placeholder-token";

/// Longest wait [`provision_now`] allows.
pub const MAX_PROVISION_WAIT: Duration = Duration::from_secs(60);

/// Why a user could not be explained or provisioned.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The tenant has no such target.
    #[error("target `{0}` not found; list the tenant's targets to see their names")]
    TargetNotFound(String),
    /// The tenant has no such user.
    #[error("user `{0}` not found; give the user's id or its user name")]
    UserNotFound(String),
    /// The user cannot be provisioned to the target now.
    #[error("{0}")]
    Refused(String),
    /// The engine or the store failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<provisioner_engine::store::StoreError> for ExplainError {
    fn from(error: provisioner_engine::store::StoreError) -> Self {
        ExplainError::Engine(error.into())
    }
}

/// Whether the user is in the target's scope, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScopeExplanation {
    /// Provisioning roles required and held.
    pub roles: RoleDecision,
    /// The scoping filter and whether it matched.
    pub filter: FilterDecision,
}

/// One request the connector would send, as recorded by the dry run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExplainedRequest {
    /// `api` for the connector's own request, `token` for the token request the host makes
    /// for it.
    pub kind: String,
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Request headers, credentials redacted.
    pub headers: BTreeMap<String, String>,
    /// The body: JSON when it parses as JSON (values of secret-looking keys redacted), else
    /// text (a token request's form, secrets redacted), null without a body.
    pub body: Value,
}

/// What the engine would send for one user to one target, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The target.
    pub target: String,
    /// The user's local id.
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// Whether the target provisions the user.
    pub in_scope: bool,
    /// The scope decision.
    pub scope: ScopeExplanation,
    /// `create` or `update`; none when out of scope.
    pub operation: Option<String>,
    /// The user's remote id in the target, if it has one.
    pub remote_id: Option<String>,
    /// Every mapped field with the claim or default that produces it (secrets redacted), the
    /// value the connector's request carried for it and how that differs; then the fields only
    /// the connector set (see [`sent_fields`]).
    pub fields: Vec<ExplainedField>,
    /// The requests the connector would send, in order.
    pub requests: Vec<ExplainedRequest>,
    /// How the connector answered the dry run: `ok`, or the error case and message.
    pub dry_run_outcome: Option<String>,
    /// What the reader should know: the dry run's synthetic answers, why a user is out of
    /// scope, why no request was recorded.
    pub notes: Vec<String>,
}

/// The result of provisioning one user on demand.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OnDemandResult {
    /// The job queued for the user.
    pub job_id: i64,
    /// Where the job ended (`pending` or `running` when the wait ended first).
    pub state: JobState,
    /// The job's outcome: remote id or failure.
    pub outcome: JobOutcome,
    /// The calls the job made, oldest first.
    pub attempts: Vec<AttemptRecord>,
}

/// The user `user` names in `tenant`: its local id, or a live user's name in any case.
pub async fn find_user(
    store: &Store,
    tenant: &str,
    user: &str,
) -> Result<UserRecord, ExplainError> {
    for id in store.log_user_ids(tenant, user).await? {
        if let Some(record) = store.user(tenant, &id).await? {
            return Ok(record);
        }
    }
    Err(ExplainError::UserNotFound(user.to_owned()))
}

/// Explains what a job would send for `user` (id or user name) to `target` of `tenant`, with a
/// dry run of the target's connector from `registry` (see the module documentation).
pub async fn explain(
    engine: &Engine,
    registry: &Registry,
    tenant: &str,
    target: &str,
    user: &str,
) -> Result<Explanation, ExplainError> {
    let store = engine.store();
    let record = store
        .target(tenant, target)
        .await?
        .ok_or_else(|| ExplainError::TargetNotFound(target.to_owned()))?;
    let user = find_user(store, tenant, user).await?;
    let preview = engine.preview_user(&record, user).await?;
    let mut notes = scope_notes(&preview);
    let mut requests = Vec::new();
    let mut refused = Vec::new();
    let mut dry_run_outcome = None;
    if let Some(change) = &preview.change {
        notes.push(format!(
            "dry run: nothing was sent. The connector ran against a host transport that recorded \
             each request and answered it itself: a token request with a placeholder token, a \
             POST with 201 and the placeholder id `{DRY_RUN_REMOTE_ID}`, a PUT with 200, a PATCH \
             or DELETE with 204, a GET with 404; the target's secrets were placeholders, and \
             credentials are redacted"
        ));
        match registry.placeholder_instance(&record, DRY_RUN_SECRET).await {
            Ok(instance) => {
                let recorder = Arc::new(DryRun::default());
                let instance = instance.with_transport(recorder.clone(), recorder.clone());
                let outcome = match instance.provision(change).await {
                    Ok(_) => "ok".to_owned(),
                    Err(error) => {
                        let failure = crate::registry::call_failure(error);
                        refused = refused_fields(&failure);
                        format!(
                            "{}: {}",
                            provisioner_engine::policy::failure_kind(&failure),
                            provisioner_engine::policy::job_error(&failure).message
                        )
                    }
                };
                requests = recorder.requests();
                if requests.is_empty() {
                    notes.push(format!(
                        "the connector sent no request: it answered `{outcome}` without one"
                    ));
                }
                dry_run_outcome = Some(outcome);
            }
            Err(why) => notes.push(format!(
                "the target's connector could not be prepared for the dry run, so no request \
                 is shown: {why}"
            )),
        }
    }
    let operation = preview.operation().map(|op| operation_str(op).to_owned());
    Ok(Explanation {
        target: target.to_owned(),
        user_id: preview.user.id.clone(),
        user_name: preview.user.user_name.clone(),
        in_scope: preview.in_scope,
        scope: ScopeExplanation {
            roles: preview.roles,
            filter: preview.filter,
        },
        operation,
        remote_id: preview.remote_id,
        fields: sent_fields::compare(preview.fields, &requests, &refused),
        requests,
        dry_run_outcome,
        notes,
    })
}

/// The fields a connector's invalid-data error names, each with the error's message.
fn refused_fields(failure: &CallFailure) -> Vec<RefusedField> {
    let CallFailure::Connector(error) = failure else {
        return Vec::new();
    };
    let detail = error.detail();
    detail
        .fields
        .iter()
        .map(|field| RefusedField {
            field: field.clone(),
            message: detail.message.clone(),
        })
        .collect()
}

/// Why a user is out of scope, in words; nothing when it is in scope.
fn scope_notes(preview: &Preview) -> Vec<String> {
    let mut notes = Vec::new();
    if preview.user.deleted {
        notes.push("the user is deleted locally, so no target provisions it".to_owned());
    }
    if !preview.roles.matched {
        notes.push(format!(
            "not in scope: the target provisions only users holding one of the roles {:?}, \
             directly or as a group they belong to; the user holds {:?}",
            preview.roles.required, preview.roles.held
        ));
    }
    if !preview.filter.matched {
        let expression = serde_json::to_string(&preview.filter.expression).unwrap_or_default();
        notes.push(format!(
            "not in scope: the user's claims do not match the target's scoping filter \
             {expression}"
        ));
    }
    if !preview.in_scope {
        notes.push(match &preview.remote_id {
            Some(id) => format!(
                "a job would deprovision the user's remote record `{id}` rather than send it"
            ),
            None => "a job would send nothing for this user to this target".to_owned(),
        });
    }
    notes
}

/// Queues `user` (id or user name) for `target` now and waits up to `wait` (at most
/// [`MAX_PROVISION_WAIT`]) for the server's dispatcher to run the job; returns the job's
/// outcome and attempts.
pub async fn provision_now(
    engine: &Engine,
    tenant: &str,
    target: &str,
    user: &str,
    wait: Duration,
) -> Result<OnDemandResult, ExplainError> {
    let store = engine.store();
    if store.target(tenant, target).await?.is_none() {
        return Err(ExplainError::TargetNotFound(target.to_owned()));
    }
    let user = find_user(store, tenant, user).await?;
    let job_id = match engine.provision_user_now(tenant, target, &user.id).await {
        Ok(id) => id,
        Err(EngineError::Conflict(why)) => return Err(ExplainError::Refused(why)),
        Err(other) => return Err(other.into()),
    };
    let outcome = engine
        .wait_for_jobs(&[job_id], wait.min(MAX_PROVISION_WAIT))
        .await?
        .pop()
        .ok_or_else(|| ExplainError::Refused(format!("job {job_id} vanished")))?;
    let attempts = store.attempts_for_job(outcome.resolved_by).await?;
    Ok(OnDemandResult {
        job_id,
        state: outcome.state,
        outcome,
        attempts,
    })
}
