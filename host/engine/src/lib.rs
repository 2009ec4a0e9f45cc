//! The durable provisioning engine.
//!
//! A local change and one outbox job per applicable target commit in one transaction
//! ([`Engine::apply_user_change`]); a [`Dispatcher`] claims due jobs fairly across tenants and
//! targets (per-target caps, per-tenant quotas), runs them through each target's
//! [`TargetConnector`] in order per (target, entity), and turns the typed outcome into a stored
//! remote id, a retry, a target pause or a dead letter.

pub mod activity;
mod batch;
mod clock;
pub mod connector;
mod dispatcher;
mod execute;
mod fanout;
pub mod logged_fields;
pub mod mapping;
pub mod observe;
mod on_demand;
pub mod policy;
pub mod preview;
pub mod reconcile;
pub mod scope;
pub mod store;
pub mod sync;

pub use clock::Clock;
pub use connector::{
    CallFailure, CallResult, ChangeRenderer, ConnectorSource, ConnectorUnavailable,
    SandboxFailureKind, TargetConnector,
};
pub use dispatcher::{DispatchStats, Dispatcher, DispatcherConfig};
pub use reconcile::{ReconcileOptions, ReconcileReport, StartedReconciliation};
pub use sync::SyncStep;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::store::{
    Claims, EntityTable, GroupRecord, JobError, JobState, NewJob, SearchKey, Store, StoreError,
    UserRecord,
};
use provisioner_contract::{EntityKind, Operation};

/// The claim that carries the user name when a user's claims do not.
pub const USERNAME_CLAIM: &str = "http://wso2.org/claims/username";

/// Errors from engine operations.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The entity or target does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The change conflicts with the stored state.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The change is malformed.
    #[error("invalid change: {0}")]
    Invalid(String),
    /// The entity's stored version is not the one the change was made against.
    #[error("version mismatch: the change expected version {expected}, the stored one is {current}; read the entity again")]
    VersionMismatch {
        /// The version the caller expected.
        expected: i64,
        /// The version stored.
        current: i64,
    },
}

impl From<sqlx::Error> for EngineError {
    fn from(error: sqlx::Error) -> Self {
        EngineError::Store(StoreError::Database(error))
    }
}

/// The full state of a user, as given by a create or a replace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserState {
    /// Stable local identifier.
    pub id: String,
    /// User name, possibly `DOMAIN/name`.
    pub user_name: String,
    /// Claims: URI to values.
    pub claims: Claims,
    /// Roles held.
    pub roles: Vec<String>,
    /// The document the writing API stores with the user and reads back (opaque to the
    /// engine; SCIM keeps the whole resource here).
    #[serde(default)]
    pub document: Option<String>,
    /// Values the user can be found by ([`store::Store::search_users`]).
    #[serde(default)]
    pub search_keys: Vec<SearchKey>,
}

/// A change to a local user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum UserChange {
    /// Adds a user; fails if a live user has the id.
    Create(UserState),
    /// Replaces a live user's name, claims and roles.
    Update(UserState),
    /// Deletes a live user.
    Delete {
        /// Local id of the user.
        id: String,
    },
}

/// The full state of a group, as given by a create or a replace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// Stable local identifier.
    pub id: String,
    /// Display name.
    pub display_name: String,
    /// Local ids of the member users.
    pub members: Vec<String>,
    /// The document the writing API stores with the group (opaque to the engine).
    #[serde(default)]
    pub document: Option<String>,
    /// Values the group can be found by ([`store::Store::search_groups`]).
    #[serde(default)]
    pub search_keys: Vec<SearchKey>,
}

/// A change to a local group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum GroupChange {
    /// Adds a group; fails if a live group has the id.
    Create(GroupState),
    /// Replaces a live group's name and members.
    Update(GroupState),
    /// Deletes a live group.
    Delete {
        /// Local id of the group.
        id: String,
    },
}

/// One job queued by a change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueuedJob {
    /// The job's id.
    pub job_id: i64,
    /// The target it is for.
    pub target: String,
    /// The operation queued for that target.
    pub operation: Operation,
    /// Whether the originating operation should wait for it.
    pub blocking: bool,
    /// How long to wait at most, in milliseconds, when blocking.
    pub blocking_timeout_ms: i64,
}

/// What a committed change queued.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeReceipt {
    /// Local id of the entity changed.
    pub entity_id: String,
    /// The entity's version after the change.
    pub version: i64,
    /// One job per target the change goes to.
    pub jobs: Vec<QueuedJob>,
}

impl ChangeReceipt {
    /// Ids of the jobs of blocking targets.
    pub fn blocking_jobs(&self) -> Vec<i64> {
        self.jobs
            .iter()
            .filter(|job| job.blocking)
            .map(|job| job.job_id)
            .collect()
    }
}

/// Where a job ended up, as reported to a waiting caller.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobOutcome {
    /// The job asked about.
    pub job_id: i64,
    /// The job that carried its change (itself, or the job it was coalesced into).
    pub resolved_by: i64,
    /// The target.
    pub target: String,
    /// The state reached; `pending` or `running` when the wait timed out.
    pub state: JobState,
    /// Remote id the target returned, if any.
    pub remote_id: Option<String>,
    /// The failure, if it failed.
    pub error: Option<JobError>,
}

/// Wake-ups shared by the engine, its dispatchers and its waiters.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    /// Jobs were queued or made runnable.
    pub(crate) new_work: Notify,
    /// A job reached a final state.
    pub(crate) finished: Notify,
}

/// Commits local changes with their outbox jobs and reports job outcomes; cheap to clone.
#[derive(Clone, Debug)]
pub struct Engine {
    store: Store,
    signals: Arc<Signals>,
}

impl Engine {
    /// An engine over `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            signals: Arc::new(Signals::default()),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn signals(&self) -> &Arc<Signals> {
        &self.signals
    }

    /// Applies a user change and queues one job per target it goes to, in one transaction.
    ///
    /// A target gets a create when the user enters its scope (roles, its own or through its
    /// groups, and filter), an update when a user in scope changes claims or name, and a delete
    /// when the user leaves its scope (deleted, lost the last provisioning role, or no longer
    /// matches the filter).
    ///
    /// Deactivating a user (the claim [`activity::ACCOUNT_DISABLED_CLAIM`] becomes `"true"`) is
    /// not leaving a scope: it is an update, and the connector deactivates the remote account
    /// and keeps it; reactivating is an update too. A user created deactivated is created in
    /// its targets, inactive: the identity provider that sent it expects the account to exist
    /// (later changes and a reactivation are then plain updates of a mapped account, and no
    /// lookup has to find it first), and an inactive account grants no access (in Salesforce
    /// it holds no licence either).
    pub async fn apply_user_change(
        &self,
        tenant: &str,
        change: UserChange,
    ) -> Result<ChangeReceipt, EngineError> {
        self.apply_user_change_at(tenant, change, None).await
    }

    /// [`Engine::apply_user_change`], made against `expected_version` when given: an update or
    /// delete fails with [`EngineError::VersionMismatch`] unless the live user has that version.
    /// The comparison runs inside the change's transaction, so concurrent writers of one user
    /// are ordered by the database alone.
    pub async fn apply_user_change_at(
        &self,
        tenant: &str,
        change: UserChange,
        expected_version: Option<i64>,
    ) -> Result<ChangeReceipt, EngineError> {
        if tenant.is_empty() {
            return Err(EngineError::Invalid("tenant must not be empty".into()));
        }
        let mut tx = self.store.begin_write().await?;
        let id = match &change {
            UserChange::Create(state) | UserChange::Update(state) => {
                validate_user(state)?;
                state.id.clone()
            }
            UserChange::Delete { id } => id.clone(),
        };
        let old = store::user_in(&mut tx, tenant, &id).await?;
        let live_old = old.clone().filter(|user| !user.deleted);
        if !matches!(change, UserChange::Create(_)) {
            check_expected(expected_version, live_old.as_ref().map(|user| user.version))?;
        }
        let (new, keys) = match change {
            UserChange::Create(mut state) => {
                if live_old.is_some() {
                    return Err(EngineError::Conflict(format!("user `{id}` already exists")));
                }
                let keys = std::mem::take(&mut state.search_keys);
                let version = old.as_ref().map_or(1, |u| u.version + 1);
                (user_record(tenant, state, version), keys)
            }
            UserChange::Update(mut state) => {
                let Some(old) = &live_old else {
                    return Err(EngineError::NotFound(format!("user `{id}`")));
                };
                let keys = std::mem::take(&mut state.search_keys);
                (user_record(tenant, state, old.version + 1), keys)
            }
            UserChange::Delete { .. } => {
                let Some(old) = &live_old else {
                    return Err(EngineError::NotFound(format!("user `{id}`")));
                };
                let deleted = UserRecord {
                    deleted: true,
                    version: old.version + 1,
                    ..old.clone()
                };
                (deleted, Vec::new())
            }
        };
        store::put_user(&mut tx, &new)
            .await
            .map_err(|error| name_taken(error, "user name", &new.user_name))?;
        store::set_search_keys(&mut tx, tenant, EntityTable::Users, &id, &keys).await?;
        let changed = changed_claims(live_old.as_ref(), &new);
        let targets = store::targets_in(&mut tx, tenant).await?;
        // A user change leaves its groups as they are: one set of group roles serves both sides.
        let group_roles = fanout::group_roles_in(&mut tx, tenant, &id, &targets).await?;
        let mut jobs = Vec::new();
        let mut queued = Vec::new();
        for target in &targets {
            let settings = &target.spec.settings;
            let was_in = live_old
                .as_ref()
                .is_some_and(|user| scope::applies(settings, user, &group_roles));
            let now_in = scope::applies(settings, &new, &group_roles);
            let operation = if now_in {
                if !was_in {
                    Some(Operation::Create)
                } else if !changed.is_empty() {
                    Some(Operation::Update)
                } else {
                    None
                }
            } else if was_in
                || store::remote_id_in(&mut tx, tenant, &target.spec.name, EntityKind::User, &id)
                    .await?
                    .is_some()
            {
                Some(Operation::Delete)
            } else {
                None
            };
            let Some(operation) = operation else { continue };
            jobs.push(NewJob {
                target: target.spec.name.clone(),
                entity_kind: EntityKind::User,
                entity_id: id.clone(),
                entity_name: new.user_name.clone(),
                operation,
                changed_claims: if operation == Operation::Update {
                    changed.clone()
                } else {
                    Vec::new()
                },
                entity_version: new.version,
            });
            queued.push((target.spec.name.clone(), operation, settings.clone()));
        }
        let ids = store::insert_jobs(&mut tx, tenant, &jobs).await?;
        tx.commit().await?;
        if !ids.is_empty() {
            self.signals.new_work.notify_waiters();
        }
        Ok(ChangeReceipt {
            entity_id: id,
            version: new.version,
            jobs: ids
                .into_iter()
                .zip(queued)
                .map(|(job_id, (target, operation, settings))| QueuedJob {
                    job_id,
                    target,
                    operation,
                    blocking: settings.blocking,
                    blocking_timeout_ms: settings.blocking_timeout_ms,
                })
                .collect(),
        })
    }

    /// Applies a user change and, when any target it goes to is blocking, waits (bounded by
    /// the longest blocking timeout among them) for those targets' outcomes.
    ///
    /// The change is committed whatever the outcome; the outcomes say what the targets did.
    pub async fn apply_user_change_blocking(
        &self,
        tenant: &str,
        change: UserChange,
    ) -> Result<(ChangeReceipt, Vec<JobOutcome>), EngineError> {
        let receipt = self.apply_user_change(tenant, change).await?;
        let outcomes = self.wait_for_blocking(&receipt).await?;
        Ok((receipt, outcomes))
    }

    /// Waits (bounded by the longest blocking timeout among them) for the outcomes of the
    /// blocking targets' jobs of a committed change; none when no target is blocking. The wait
    /// holds no transaction and no lock, and does not wait for a target whose connector is still
    /// being prepared (compiled): its job stays queued and the caller goes on.
    pub async fn wait_for_blocking(
        &self,
        receipt: &ChangeReceipt,
    ) -> Result<Vec<JobOutcome>, EngineError> {
        let blocking = receipt.blocking_jobs();
        if blocking.is_empty() {
            return Ok(Vec::new());
        }
        let timeout = receipt
            .jobs
            .iter()
            .filter(|job| job.blocking)
            .map(|job| job.blocking_timeout_ms)
            .max()
            .unwrap_or_default();
        self.wait_until_settled(
            &blocking,
            Duration::from_millis(timeout.max(0) as u64),
            true,
        )
        .await
    }

    /// Applies a group change and queues one job per target of the tenant, in one
    /// transaction. Targets whose connector does not provision groups answer `unsupported`,
    /// which ends the job without failing it.
    ///
    /// A group's display name is a role of its members, so the same transaction also queues a
    /// user `create` for each member the change brings into a target's scope and a user
    /// `delete` for each it takes out (see the `fanout` module); those jobs are in the receipt,
    /// not blocking: the group write does not wait for its members' provisioning.
    pub async fn apply_group_change(
        &self,
        tenant: &str,
        change: GroupChange,
    ) -> Result<ChangeReceipt, EngineError> {
        self.apply_group_change_at(tenant, change, None).await
    }

    /// [`Engine::apply_group_change`], made against `expected_version` when given (see
    /// [`Engine::apply_user_change_at`]).
    pub async fn apply_group_change_at(
        &self,
        tenant: &str,
        change: GroupChange,
        expected_version: Option<i64>,
    ) -> Result<ChangeReceipt, EngineError> {
        let mut tx = self.store.begin_write().await?;
        let id = match &change {
            GroupChange::Create(state) | GroupChange::Update(state) => {
                if state.id.is_empty() || state.display_name.is_empty() {
                    return Err(EngineError::Invalid(
                        "a group needs an id and a display name".into(),
                    ));
                }
                state.id.clone()
            }
            GroupChange::Delete { id } => id.clone(),
        };
        let old = store::group_in(&mut tx, tenant, &id)
            .await?
            .filter(|group| !group.deleted);
        if !matches!(change, GroupChange::Create(_)) {
            check_expected(expected_version, old.as_ref().map(|group| group.version))?;
        }
        let (new, keys, operation) = match change {
            GroupChange::Create(mut state) => {
                if old.is_some() {
                    return Err(EngineError::Conflict(format!(
                        "group `{id}` already exists"
                    )));
                }
                let keys = std::mem::take(&mut state.search_keys);
                (group_record(tenant, state, 1), keys, Operation::Create)
            }
            GroupChange::Update(mut state) => {
                let Some(old) = &old else {
                    return Err(EngineError::NotFound(format!("group `{id}`")));
                };
                let keys = std::mem::take(&mut state.search_keys);
                let new = group_record(tenant, state, old.version + 1);
                (new, keys, Operation::Update)
            }
            GroupChange::Delete { .. } => {
                let Some(old) = &old else {
                    return Err(EngineError::NotFound(format!("group `{id}`")));
                };
                let deleted = GroupRecord {
                    deleted: true,
                    version: old.version + 1,
                    ..old.clone()
                };
                (deleted, Vec::new(), Operation::Delete)
            }
        };
        store::put_group(&mut tx, &new)
            .await
            .map_err(|error| name_taken(error, "group display name", &new.display_name))?;
        store::set_search_keys(&mut tx, tenant, EntityTable::Groups, &id, &keys).await?;
        let old_members = old.as_ref().map_or(&[][..], |g| &g.members[..]);
        let new_members = if new.deleted {
            &[][..]
        } else {
            &new.members[..]
        };
        store::sync_members(&mut tx, tenant, &id, old_members, new_members).await?;
        let targets = store::targets_in(&mut tx, tenant).await?;
        let mut jobs: Vec<NewJob> = targets
            .iter()
            .map(|target| NewJob {
                target: target.spec.name.clone(),
                entity_kind: EntityKind::Group,
                entity_id: id.clone(),
                entity_name: new.display_name.clone(),
                operation,
                changed_claims: Vec::new(),
                entity_version: new.version,
            })
            .collect();
        let group_jobs = jobs.len();
        jobs.extend(fanout::member_jobs(&mut tx, tenant, &targets, old.as_ref(), &new).await?);
        let ids = store::insert_jobs(&mut tx, tenant, &jobs).await?;
        tx.commit().await?;
        self.signals.new_work.notify_waiters();
        Ok(ChangeReceipt {
            entity_id: id,
            version: new.version,
            jobs: ids
                .into_iter()
                .zip(&jobs)
                .enumerate()
                .map(|(index, (job_id, job))| {
                    // The group's own jobs follow their target's blocking setting; the
                    // members' jobs never block the group write.
                    let blocking = targets
                        .iter()
                        .find(|target| target.spec.name == job.target)
                        .filter(|_| index < group_jobs)
                        .map(|target| &target.spec.settings);
                    QueuedJob {
                        job_id,
                        target: job.target.clone(),
                        operation: job.operation,
                        blocking: blocking.is_some_and(|settings| settings.blocking),
                        blocking_timeout_ms: blocking
                            .map_or(0, |settings| settings.blocking_timeout_ms),
                    }
                })
                .collect(),
        })
    }

    /// Waits until every job in `ids` reaches a final state, or `timeout` passes; returns each
    /// job's outcome at that point (coalesced jobs report the job that carried them).
    pub async fn wait_for_jobs(
        &self,
        ids: &[i64],
        timeout: Duration,
    ) -> Result<Vec<JobOutcome>, EngineError> {
        self.wait_until_settled(ids, timeout, false).await
    }

    /// [`Engine::wait_for_jobs`]; with `not_ready_settles`, a job waiting for its target's
    /// connector to be prepared (compiled) counts as settled: a request never waits on a
    /// compilation.
    async fn wait_until_settled(
        &self,
        ids: &[i64],
        timeout: Duration,
        not_ready_settles: bool,
    ) -> Result<Vec<JobOutcome>, EngineError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let finished = self.signals.finished.notified();
            let outcomes = self.job_outcomes(ids).await?;
            let all_settled = outcomes.iter().all(|outcome| {
                outcome.state.is_final()
                    || (not_ready_settles
                        && outcome
                            .error
                            .as_ref()
                            .is_some_and(|e| e.kind == connector::CONNECTOR_NOT_READY))
            });
            if all_settled || tokio::time::Instant::now() >= deadline {
                return Ok(outcomes);
            }
            // Another process may be dispatching, so poll as well as listen.
            let _ = tokio::time::timeout_at(
                deadline.min(tokio::time::Instant::now() + Duration::from_millis(100)),
                finished,
            )
            .await;
        }
    }

    async fn job_outcomes(&self, ids: &[i64]) -> Result<Vec<JobOutcome>, EngineError> {
        let mut outcomes = Vec::with_capacity(ids.len());
        for &id in ids {
            let mut job = self
                .store
                .job(id)
                .await?
                .ok_or_else(|| EngineError::NotFound(format!("job {id}")))?;
            // Follow coalescing to the job that carried the change (chains are short).
            while let (JobState::Coalesced, Some(into)) = (job.state, job.coalesced_into) {
                match self.store.job(into).await? {
                    Some(next) => job = next,
                    None => break,
                }
            }
            outcomes.push(JobOutcome {
                job_id: id,
                resolved_by: job.id,
                target: job.target,
                state: job.state,
                remote_id: job.remote_id,
                error: job.error,
            });
        }
        Ok(outcomes)
    }

    /// Returns a target's dead letters (all, or only `job`) to the queue; returns how many.
    pub async fn replay_dead_letters(
        &self,
        tenant: &str,
        target: &str,
        job: Option<i64>,
    ) -> Result<u64, EngineError> {
        self.require_target(tenant, target).await?;
        let replayed = self.store.replay_dead_letters(tenant, target, job).await?;
        self.signals.new_work.notify_waiters();
        Ok(replayed)
    }

    /// Pauses a target until an operator resumes it.
    pub async fn pause_target(
        &self,
        tenant: &str,
        target: &str,
        reason: &str,
    ) -> Result<(), EngineError> {
        if !self
            .store
            .pause_target(tenant, target, reason, None)
            .await?
        {
            return Err(EngineError::NotFound(format!("target `{tenant}/{target}`")));
        }
        Ok(())
    }

    /// Resumes a paused target.
    pub async fn resume_target(&self, tenant: &str, target: &str) -> Result<(), EngineError> {
        if !self.store.resume_target(tenant, target).await? {
            return Err(EngineError::NotFound(format!("target `{tenant}/{target}`")));
        }
        self.signals.new_work.notify_waiters();
        Ok(())
    }

    async fn require_target(&self, tenant: &str, target: &str) -> Result<(), EngineError> {
        match self.store.target(tenant, target).await? {
            Some(_) => Ok(()),
            None => Err(EngineError::NotFound(format!("target `{tenant}/{target}`"))),
        }
    }
}

/// A unique-index violation on writing an entity as the conflict it means: its name (compared
/// case-insensitively within the tenant) belongs to another live entity. A write that lost a
/// race with a concurrent one is a version mismatch, as if it had been checked up front.
fn name_taken(error: StoreError, what: &str, name: &str) -> EngineError {
    match error {
        StoreError::VersionConflict { expected, current } => {
            EngineError::VersionMismatch { expected, current }
        }
        StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            EngineError::Conflict(format!(
                "{what} `{name}` is taken (names are unique in any case)"
            ))
        }
        other => other.into(),
    }
}

/// Fails unless the live entity's version (`None`: no live entity, reported elsewhere) is the
/// expected one (`None`: any).
fn check_expected(expected: Option<i64>, current: Option<i64>) -> Result<(), EngineError> {
    match (expected, current) {
        (Some(expected), Some(current)) if expected != current => {
            Err(EngineError::VersionMismatch { expected, current })
        }
        _ => Ok(()),
    }
}

fn validate_user(state: &UserState) -> Result<(), EngineError> {
    if state.id.is_empty() {
        return Err(EngineError::Invalid("a user needs an id".into()));
    }
    if state.user_name.is_empty() {
        return Err(EngineError::Invalid(format!(
            "user `{}` needs a user name",
            state.id
        )));
    }
    Ok(())
}

fn user_record(tenant: &str, state: UserState, version: i64) -> UserRecord {
    UserRecord {
        tenant: tenant.to_owned(),
        id: state.id,
        user_name: state.user_name,
        claims: state.claims,
        roles: state.roles,
        version,
        deleted: false,
        created_at: store::now_ms(),
        updated_at: store::now_ms(),
        document: state.document,
    }
}

fn group_record(tenant: &str, state: GroupState, version: i64) -> GroupRecord {
    GroupRecord {
        tenant: tenant.to_owned(),
        id: state.id,
        display_name: state.display_name,
        members: state.members,
        version,
        deleted: false,
        created_at: store::now_ms(),
        updated_at: store::now_ms(),
        document: state.document,
    }
}

/// URIs of the claims whose values differ between `old` and `new` (added, changed or
/// removed), as connectors receive them ([`activity::sent_claims`]), plus the user-name claim
/// when the name changed.
fn changed_claims(old: Option<&UserRecord>, new: &UserRecord) -> Vec<String> {
    let new_claims = activity::sent_claims(&new.claims);
    let Some(old) = old else {
        return new_claims.keys().cloned().collect();
    };
    let old_claims = activity::sent_claims(&old.claims);
    let mut changed: BTreeSet<String> = old_claims
        .keys()
        .chain(new_claims.keys())
        .filter(|uri| old_claims.get(*uri) != new_claims.get(*uri))
        .cloned()
        .collect();
    if old.user_name != new.user_name {
        changed.insert(USERNAME_CLAIM.to_owned());
    }
    changed.into_iter().collect()
}
