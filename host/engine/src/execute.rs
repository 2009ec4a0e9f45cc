//! Runs one claimed job against its target.
//!
//! Rules that keep remote state equal to local state without duplicates:
//! - execution reads the entity's current local state, never the state at enqueue time;
//! - a create whose earlier outcome is unknown is resolved by `lookup` before it is sent again;
//! - an update without a remote id looks up, then creates if the entity is absent;
//! - a delete without a remote id looks up, deletes what it finds, and otherwise succeeds;
//! - a remote id is stored only when the target returned one (or a lookup found one);
//! - a delete forgets the remote id unless the target returned it (the remote entity still
//!   exists, e.g. deactivated but not renamed), so a user back in scope is reactivated;
//! - a user's claims always carry [`crate::activity::ACCOUNT_DISABLED_CLAIM`], and its scope
//!   counts the roles of its groups.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::store::{
    now_ms, AttemptRecord, GroupRecord, JobRecord, JobState, JobUpdate, Store, StoreResult,
    TargetRecord, UserRecord,
};
use provisioner_contract::{
    Change, Claim, ConflictError, Entity, EntityKind, Group, LookupKey, Member, Operation,
    ProvisionError, ProvisionOutcome, RemoteObject, User,
};

use super::connector::{
    CallFailure, CallResult, ConnectorSource, ConnectorUnavailable, SandboxFailureKind,
    TargetConnector,
};
use super::policy::{self, Decision};
use super::{activity, logged_fields, scope, Signals, USERNAME_CLAIM};

/// What a worker needs to run jobs.
pub(crate) struct Context {
    pub(crate) store: Store,
    pub(crate) signals: Arc<Signals>,
    pub(crate) connectors: Arc<dyn ConnectorSource>,
    pub(crate) owner: String,
    pub(crate) call_timeout: Duration,
    pub(crate) rate_limits: policy::RateLimitPolicy,
    /// Now, for due times and pauses.
    pub(crate) clock: crate::Clock,
}

/// How a job run ended, for statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RunEnd {
    /// Reached a final state.
    Finished(JobState),
    /// Went back to the queue.
    Requeued,
    /// The lease was lost before the result could be recorded.
    LeaseLost,
}

/// The local entity as it is now.
enum Snapshot {
    /// A user and the display names of its groups (read only for targets with provisioning
    /// roles).
    User(UserRecord, Vec<String>),
    Group(GroupRecord, Vec<Member>),
    Missing,
}

impl Snapshot {
    fn is_live(&self) -> bool {
        match self {
            Snapshot::User(user, _) => !user.deleted,
            Snapshot::Group(group, _) => !group.deleted,
            Snapshot::Missing => false,
        }
    }

    fn applies(&self, target: &TargetRecord) -> bool {
        match self {
            Snapshot::User(user, group_roles) => {
                scope::applies(&target.spec.settings, user, group_roles)
            }
            Snapshot::Group(group, _) => !group.deleted,
            Snapshot::Missing => false,
        }
    }

    /// The change as sent to the connector; claims (and members) are left out when
    /// `with_claims` is false.
    fn change(
        &self,
        job: &JobRecord,
        operation: Operation,
        remote_id: Option<String>,
        changed_claims: Vec<String>,
        with_claims: bool,
    ) -> Change {
        let user = |name: String, claims: Vec<Claim>| {
            Entity::User(User {
                local_id: job.entity_id.clone(),
                name,
                remote_id: remote_id.clone(),
                claims,
                changed_claims: changed_claims.clone(),
                previous_name: None,
            })
        };
        let group = |name: String, members: Vec<Member>| {
            Entity::Group(Group {
                local_id: job.entity_id.clone(),
                name,
                remote_id: remote_id.clone(),
                members,
                added_members: Vec::new(),
                removed_members: Vec::new(),
                previous_name: None,
            })
        };
        let entity = match self {
            Snapshot::User(record, _) => {
                let claims = if with_claims {
                    user_claims(record)
                } else {
                    Vec::new()
                };
                user(record.user_name.clone(), claims)
            }
            Snapshot::Group(record, members) => {
                let members = if with_claims {
                    members.clone()
                } else {
                    Vec::new()
                };
                group(record.display_name.clone(), members)
            }
            Snapshot::Missing => match job.entity_kind {
                EntityKind::User => user(job.entity_name.clone(), Vec::new()),
                EntityKind::Group => group(job.entity_name.clone(), Vec::new()),
            },
        };
        Change { operation, entity }
    }

    /// URIs of every claim, for an update that must bring every field in line.
    fn all_claims(&self) -> Vec<String> {
        match self {
            Snapshot::User(user, _) => user_claims(user).into_iter().map(|c| c.uri).collect(),
            _ => Vec::new(),
        }
    }
}

/// The claims a connector receives for `user`: its own, the account-disabled claim always
/// ([`activity::sent_claims`]), and its user name as [`USERNAME_CLAIM`] unless it has one.
pub(crate) fn user_claims(user: &UserRecord) -> Vec<Claim> {
    let mut claims: Vec<Claim> = activity::sent_claims(&user.claims)
        .into_iter()
        .map(|(uri, values)| Claim { uri, values })
        .collect();
    if !user.claims.contains_key(USERNAME_CLAIM) {
        claims.push(Claim {
            uri: USERNAME_CLAIM.to_owned(),
            values: vec![user.user_name.clone()],
        });
    }
    claims
}

/// How long a job whose connector is still being prepared waits before it is claimed again.
const NOT_READY_RETRY_MS: i64 = 250;

/// One run of one job.
struct Run<'a> {
    ctx: &'a Context,
    job: JobRecord,
    target: TargetRecord,
    connector: Arc<dyn TargetConnector>,
}

/// Runs a claimed job to its next state.
pub(crate) async fn run_job(ctx: &Context, job: JobRecord) -> StoreResult<RunEnd> {
    run_job_via(ctx, ctx.connectors.as_ref(), job).await
}

/// Runs a claimed job to its next state, calling the target through the connector `connectors`
/// supplies (a batch's shared connector, see [`crate::batch`]).
pub(crate) async fn run_job_via(
    ctx: &Context,
    connectors: &dyn ConnectorSource,
    job: JobRecord,
) -> StoreResult<RunEnd> {
    let job = ctx.store.coalesce_following(&job, &ctx.owner).await?;
    let Some(target) = ctx.store.target(&job.tenant, &job.target).await? else {
        let error = crate::store::JobError {
            kind: "configuration".into(),
            code: None,
            message: format!("target `{}` no longer exists", job.target),
        };
        return finish(ctx, &job, JobState::Dead, None, Some(error)).await;
    };
    let connector = match connectors.connector(&target).await {
        Ok(connector) => connector,
        Err(ConnectorUnavailable::NotReady(why)) => {
            tracing::debug!(tenant = %job.tenant, target = %job.target, %why,
                "connector not ready; job stays queued");
            let due = now_ms() + NOT_READY_RETRY_MS;
            let waiting = crate::store::JobError {
                kind: crate::connector::CONNECTOR_NOT_READY.into(),
                code: None,
                message: why,
            };
            let end = requeue(
                ctx,
                &job,
                due,
                job.attempts,
                job.outcome_unknown,
                Some(waiting),
            );
            let end = end.await;
            ctx.signals.finished.notify_waiters();
            return end;
        }
        Err(reason) => {
            let reason = format!("connector unavailable: {reason}");
            tracing::error!(tenant = %job.tenant, target = %job.target, %reason, "pausing target");
            ctx.store
                .pause_target(&job.tenant, &job.target, &reason, None)
                .await?;
            return requeue(ctx, &job, now_ms(), job.attempts, job.outcome_unknown, None).await;
        }
    };
    let run = Run {
        ctx,
        job,
        target,
        connector,
    };
    run.execute().await
}

async fn finish(
    ctx: &Context,
    job: &JobRecord,
    state: JobState,
    remote_id: Option<String>,
    error: Option<crate::store::JobError>,
) -> StoreResult<RunEnd> {
    let update = JobUpdate::Finish {
        state,
        remote_id,
        error,
        attempts: job.attempts,
    };
    let end = if ctx.store.update_job(job.id, &ctx.owner, &update).await? {
        RunEnd::Finished(state)
    } else {
        RunEnd::LeaseLost
    };
    ctx.signals.finished.notify_waiters();
    Ok(end)
}

async fn requeue(
    ctx: &Context,
    job: &JobRecord,
    due_at: i64,
    attempts: i64,
    outcome_unknown: bool,
    error: Option<crate::store::JobError>,
) -> StoreResult<RunEnd> {
    let update = JobUpdate::Retry {
        due_at,
        attempts,
        outcome_unknown,
        error,
    };
    Ok(
        if ctx.store.update_job(job.id, &ctx.owner, &update).await? {
            RunEnd::Requeued
        } else {
            RunEnd::LeaseLost
        },
    )
}

impl Run<'_> {
    fn store(&self) -> &Store {
        &self.ctx.store
    }

    async fn execute(&self) -> StoreResult<RunEnd> {
        let snapshot = self.snapshot().await?;
        match self.job.operation {
            Operation::Create | Operation::Update => self.upsert(&snapshot).await,
            Operation::Delete => self.delete(&snapshot).await,
        }
    }

    async fn snapshot(&self) -> StoreResult<Snapshot> {
        let job = &self.job;
        Ok(match job.entity_kind {
            EntityKind::User => match self.store().user(&job.tenant, &job.entity_id).await? {
                Some(user) => {
                    let group_roles = if scope::uses_roles(&self.target.spec.settings) {
                        self.store()
                            .group_names_with_member(&job.tenant, &job.entity_id)
                            .await?
                    } else {
                        Vec::new()
                    };
                    Snapshot::User(user, group_roles)
                }
                None => Snapshot::Missing,
            },
            EntityKind::Group => match self.store().group(&job.tenant, &job.entity_id).await? {
                Some(group) => {
                    let mut members = Vec::with_capacity(group.members.len());
                    for member in &group.members {
                        let Some(user) = self.store().user(&job.tenant, member).await? else {
                            continue;
                        };
                        if user.deleted {
                            continue;
                        }
                        let remote_id = self
                            .store()
                            .remote_id(&job.tenant, &job.target, EntityKind::User, member)
                            .await?;
                        members.push(Member {
                            local_id: user.id,
                            name: user.user_name,
                            remote_id,
                        });
                    }
                    Snapshot::Group(group, members)
                }
                None => Snapshot::Missing,
            },
        })
    }

    async fn remote_id(&self) -> StoreResult<Option<String>> {
        let job = &self.job;
        self.store()
            .remote_id(&job.tenant, &job.target, job.entity_kind, &job.entity_id)
            .await
    }

    async fn set_remote_id(&self, remote_id: &str) -> StoreResult<()> {
        let job = &self.job;
        self.store()
            .set_remote_id(
                &job.tenant,
                &job.target,
                job.entity_kind,
                &job.entity_id,
                remote_id,
            )
            .await
    }

    async fn clear_remote_id(&self) -> StoreResult<()> {
        let job = &self.job;
        self.store()
            .clear_remote_id(&job.tenant, &job.target, job.entity_kind, &job.entity_id)
            .await
    }

    /// Create or update: bring the remote entity in line with the current local state.
    async fn upsert(&self, snapshot: &Snapshot) -> StoreResult<RunEnd> {
        if !snapshot.is_live() || !snapshot.applies(&self.target) {
            // A later job (delete or deprovision) carries the entity's fate.
            return finish(self.ctx, &self.job, JobState::Superseded, None, None).await;
        }
        let mut remote_id = self.remote_id().await?;
        let mut full = self.job.operation == Operation::Create;
        if remote_id.is_none()
            && (self.job.operation == Operation::Update || self.job.outcome_unknown)
        {
            match self.lookup(snapshot).await {
                Ok(Some(found)) => {
                    self.set_remote_id(&found.remote_id).await?;
                    remote_id = Some(found.remote_id);
                    full = true;
                }
                Ok(None) => {}
                Err(failure) => return self.fail(failure, false).await,
            }
        }
        match remote_id {
            Some(remote_id) => self.update(snapshot, remote_id, full).await,
            None => self.create(snapshot).await,
        }
    }

    async fn update(
        &self,
        snapshot: &Snapshot,
        remote_id: String,
        full: bool,
    ) -> StoreResult<RunEnd> {
        let changed = if full {
            snapshot.all_claims()
        } else {
            self.job.changed_claims.clone()
        };
        let change = snapshot.change(
            &self.job,
            Operation::Update,
            Some(remote_id.clone()),
            changed,
            true,
        );
        match self.provision(change).await {
            Ok(outcome) => {
                let remote_id = match outcome.remote_id {
                    Some(returned) => {
                        self.set_remote_id(&returned).await?;
                        returned
                    }
                    None => remote_id,
                };
                finish(self.ctx, &self.job, JobState::Done, Some(remote_id), None).await
            }
            Err(CallFailure::Connector(ProvisionError::NotFound(_))) => {
                // The target lost the entity: forget the id; the next run looks up and creates.
                self.clear_remote_id().await?;
                requeue(
                    self.ctx,
                    &self.job,
                    now_ms(),
                    self.job.attempts,
                    false,
                    None,
                )
                .await
            }
            Err(failure) => self.fail(failure, false).await,
        }
    }

    async fn create(&self, snapshot: &Snapshot) -> StoreResult<RunEnd> {
        // A crash during the call must be resolved by lookup before the create is sent again.
        if !self.job.outcome_unknown
            && !self
                .store()
                .mark_outcome_unknown(self.job.id, &self.ctx.owner, true)
                .await?
        {
            return Ok(RunEnd::LeaseLost);
        }
        let change = snapshot.change(&self.job, Operation::Create, None, Vec::new(), true);
        match self.provision(change).await {
            Ok(outcome) => {
                if let Some(remote_id) = &outcome.remote_id {
                    self.set_remote_id(remote_id).await?;
                }
                finish(self.ctx, &self.job, JobState::Done, outcome.remote_id, None).await
            }
            Err(CallFailure::Connector(ProvisionError::Conflict(conflict))) => {
                self.adopt_existing(snapshot, conflict).await
            }
            Err(failure) => self.fail(failure, true).await,
        }
    }

    /// The create found the entity already there: adopt the existing remote entity if it is
    /// ours to find, then bring it in line; otherwise the conflict is for an operator.
    async fn adopt_existing(
        &self,
        snapshot: &Snapshot,
        conflict: ConflictError,
    ) -> StoreResult<RunEnd> {
        let existing = match conflict.existing_remote_id.clone() {
            Some(remote_id) => Some(remote_id),
            None => match self.lookup(snapshot).await {
                Ok(found) => found.map(|found| found.remote_id),
                Err(failure) => return self.fail(failure, false).await,
            },
        };
        match existing {
            Some(remote_id) => {
                self.set_remote_id(&remote_id).await?;
                self.update(snapshot, remote_id, true).await
            }
            None => {
                let failure = CallFailure::Connector(ProvisionError::Conflict(conflict));
                self.dead(&failure, false, self.job.attempts).await
            }
        }
    }

    async fn delete(&self, snapshot: &Snapshot) -> StoreResult<RunEnd> {
        if snapshot.is_live() && snapshot.applies(&self.target) {
            // Back in scope since: a later create job re-provisions it, so keep it remotely.
            return finish(self.ctx, &self.job, JobState::Superseded, None, None).await;
        }
        let remote_id = match self.remote_id().await? {
            Some(remote_id) => remote_id,
            None => match self.lookup(snapshot).await {
                Ok(Some(found)) => found.remote_id,
                Ok(None) => return finish(self.ctx, &self.job, JobState::Done, None, None).await,
                Err(failure) => return self.fail(failure, false).await,
            },
        };
        let change = snapshot.change(
            &self.job,
            Operation::Delete,
            Some(remote_id.clone()),
            Vec::new(),
            false,
        );
        match self.provision(change).await {
            Ok(outcome) if outcome.remote_id.is_some() => {
                // Still there (e.g. deactivated, not renamed): keep the mapping, so a return
                // to scope reactivates this entity instead of creating another.
                let kept = outcome.remote_id.unwrap_or(remote_id);
                self.set_remote_id(&kept).await?;
                finish(self.ctx, &self.job, JobState::Done, Some(kept), None).await
            }
            Ok(_) | Err(CallFailure::Connector(ProvisionError::NotFound(_))) => {
                self.clear_remote_id().await?;
                finish(self.ctx, &self.job, JobState::Done, Some(remote_id), None).await
            }
            Err(failure) => self.fail(failure, false).await,
        }
    }

    /// Applies the retry decision for a failed call.
    async fn fail(&self, failure: CallFailure, create_call: bool) -> StoreResult<RunEnd> {
        if let CallFailure::Connector(ProvisionError::Unsupported(detail)) = &failure {
            let error = policy::job_error(&failure);
            tracing::info!(target_name = %self.job.target, message = %detail.message, "operation unsupported by the connector");
            return finish(self.ctx, &self.job, JobState::Done, None, Some(error)).await;
        }
        let settings = &self.target.spec.settings;
        let error = policy::job_error(&failure);
        // A failed create decides the outcome flag; a lookup or update leaves it as it was.
        let flag = |decided: bool| {
            if create_call {
                decided
            } else {
                self.job.outcome_unknown
            }
        };
        let decision = policy::decide(
            &failure,
            create_call,
            settings,
            &self.ctx.rate_limits,
            self.job.rate_limited_ms,
        );
        let now = self.ctx.clock.now();
        if policy::is_outage(&failure) {
            let code = error.code.as_deref().unwrap_or("-");
            let reason = format!("{} {code}: {}", error.kind, error.message);
            let (tenant, target) = (&self.job.tenant, &self.job.target);
            if self
                .store()
                .note_outage(tenant, target, now, &reason)
                .await?
            {
                // The target looks down: the job waits for it with its attempts untouched.
                let unknown = match decision {
                    Decision::Retry {
                        outcome_unknown, ..
                    } => outcome_unknown,
                    _ => false,
                };
                let (job, attempts) = (&self.job, self.job.attempts);
                return requeue(self.ctx, job, now, attempts, flag(unknown), Some(error)).await;
            }
        }
        match decision {
            Decision::Retry {
                delay_ms,
                burn,
                outcome_unknown,
                charge_ms,
            } => {
                let attempts = self.job.attempts + i64::from(burn);
                if burn
                    && matches!(
                        failure,
                        CallFailure::Connector(ProvisionError::RateLimited(_))
                    )
                {
                    tracing::warn!(tenant = %self.job.tenant, target_name = %self.job.target,
                        job = self.job.id, waited_ms = self.job.rate_limited_ms, attempts,
                        "rate-limited waiting budget spent; this rate limit spends an attempt");
                }
                if burn && attempts >= settings.max_attempts {
                    return self.dead(&failure, flag(outcome_unknown), attempts).await;
                }
                if charge_ms > 0
                    && !self
                        .store()
                        .add_rate_limited_wait(self.job.id, &self.ctx.owner, charge_ms)
                        .await?
                {
                    return Ok(RunEnd::LeaseLost);
                }
                let delay =
                    delay_ms.unwrap_or_else(|| policy::backoff_ms(settings, attempts.max(1)));
                requeue(
                    self.ctx,
                    &self.job,
                    now + delay,
                    attempts,
                    flag(outcome_unknown),
                    Some(error),
                )
                .await
            }
            Decision::PauseTarget { for_ms, reason } => {
                let until = for_ms.map(|ms| now + ms);
                tracing::warn!(tenant = %self.job.tenant, target_name = %self.job.target, %reason, ?until, "pausing target");
                self.store()
                    .pause_target(&self.job.tenant, &self.job.target, &reason, until)
                    .await?;
                requeue(
                    self.ctx,
                    &self.job,
                    now,
                    self.job.attempts,
                    flag(false),
                    Some(error),
                )
                .await
            }
            Decision::Dead => self.dead(&failure, flag(false), self.job.attempts).await,
        }
    }

    async fn dead(
        &self,
        failure: &CallFailure,
        outcome_unknown: bool,
        attempts: i64,
    ) -> StoreResult<RunEnd> {
        let error = policy::job_error(failure);
        tracing::warn!(tenant = %self.job.tenant, target_name = %self.job.target, job = self.job.id,
            kind = %error.kind, code = ?error.code, message = %error.message, "dead letter");
        // Written whatever the job held when claimed: a create marks the stored job before it
        // calls, so the claimed copy may be stale, and a stale flag costs every replay a lookup.
        self.store()
            .mark_outcome_unknown(self.job.id, &self.ctx.owner, outcome_unknown)
            .await?;
        let job = JobRecord {
            attempts,
            ..self.job.clone()
        };
        finish(self.ctx, &job, JobState::Dead, None, Some(error)).await
    }

    /// The mapped fields `entity` carries, as the provisioning log records them.
    fn logged_fields(&self, entity: &Entity) -> Option<BTreeMap<String, String>> {
        match entity {
            Entity::User(user) => {
                logged_fields::for_claims(&self.target.spec.claim_mappings, &user.claims)
            }
            Entity::Group(_) => None,
        }
    }

    async fn provision(&self, change: Change) -> CallResult<ProvisionOutcome> {
        let call = crate::store::operation_str(change.operation);
        let fields = self.logged_fields(&change.entity);
        let started_at = now_ms();
        let clock = Instant::now();
        let result =
            match tokio::time::timeout(self.ctx.call_timeout, self.connector.provision(change))
                .await
            {
                Ok(result) => result,
                Err(_) => Err(timeout_failure(self.ctx.call_timeout)),
            };
        let (outcome, remote_id) = match &result {
            Ok(outcome) => ("ok".to_owned(), outcome.remote_id.clone()),
            Err(failure) => (policy::failure_kind(failure).to_owned(), None),
        };
        let call = Called {
            call,
            outcome,
            remote_id,
            fields,
        };
        self.record(call, result.as_ref().err(), started_at, clock)
            .await;
        result
    }

    async fn lookup(&self, snapshot: &Snapshot) -> CallResult<Option<RemoteObject>> {
        let key = LookupKey::Entity(
            snapshot
                .change(&self.job, self.job.operation, None, Vec::new(), true)
                .entity,
        );
        let fields = match &key {
            LookupKey::Entity(entity) => self.logged_fields(entity),
            _ => None,
        };
        let started_at = now_ms();
        let clock = Instant::now();
        let result =
            match tokio::time::timeout(self.ctx.call_timeout, self.connector.lookup(key)).await {
                Ok(result) => result,
                Err(_) => Err(timeout_failure(self.ctx.call_timeout)),
            };
        let (outcome, remote_id) = match &result {
            Ok(Some(found)) => ("found".to_owned(), Some(found.remote_id.clone())),
            Ok(None) => ("absent".to_owned(), None),
            Err(failure) => (policy::failure_kind(failure).to_owned(), None),
        };
        let call = Called {
            call: "lookup",
            outcome,
            remote_id,
            fields,
        };
        self.record(call, result.as_ref().err(), started_at, clock)
            .await;
        result
    }

    async fn record(
        &self,
        called: Called<'_>,
        failure: Option<&CallFailure>,
        started_at: i64,
        clock: Instant,
    ) {
        let Called {
            call,
            outcome,
            remote_id,
            fields,
        } = called;
        let error = failure.map(policy::job_error);
        let attempt = AttemptRecord {
            id: 0,
            job_id: self.job.id,
            tenant: self.job.tenant.clone(),
            target: self.job.target.clone(),
            entity_kind: self.job.entity_kind,
            entity_id: self.job.entity_id.clone(),
            operation: Some(crate::store::operation_str(self.job.operation).to_owned()),
            call: call.to_owned(),
            outcome,
            target_code: error.as_ref().and_then(|e| e.code.clone()),
            message: error.map(|e| e.message),
            remote_id,
            started_at,
            duration_ms: clock.elapsed().as_millis() as i64,
            fields,
        };
        if let Err(error) = self.store().record_attempt(&attempt).await {
            tracing::error!(%error, job = self.job.id, "could not record an attempt");
        }
    }
}

/// What one connector call was and answered, for its attempt record.
struct Called<'a> {
    /// `create`, `update`, `delete` or `lookup`.
    call: &'a str,
    /// `ok`, `found`, `absent` or the error case.
    outcome: String,
    /// The remote id returned or found.
    remote_id: Option<String>,
    /// The mapped fields the call carried.
    fields: Option<BTreeMap<String, String>>,
}

fn timeout_failure(limit: Duration) -> CallFailure {
    CallFailure::Sandbox {
        kind: SandboxFailureKind::Timeout,
        message: format!("no answer within {} ms", limit.as_millis()),
    }
}
