//! Sync runs: bringing every in-scope user of a tenant to one target, as an initial sync when
//! the target is new or a full sync on demand.
//!
//! A run walks the tenant's live users in id order, a chunk per transaction. For each user in
//! the target's scope (roles, own or through groups, and filter, decided by [`crate::scope`]
//! exactly as for a change) it queues a `create` job, which execution treats as an upsert: a
//! mapped user gets a full update, an unmapped one is created, and one that already exists
//! remotely is adopted by lookup. The chunk's jobs, the run's cursor (the last user id reached)
//! and its count commit together, so a run stopped anywhere (a crash, a chunk limit) continues
//! from its cursor and queues no user twice.
//!
//! A user that already has an unfinished `create` or `update` for the target is not queued
//! again: that job already brings the remote entity in line with the user's state when it
//! runs, so the run takes it over (it counts in the run's progress). A user whose latest
//! unfinished job is a `delete` (about to be superseded, since the user is in scope) gets a
//! job of its own, queued after it. Only users are synced; groups follow their own changes.

use std::collections::{BTreeMap, HashMap};

use provisioner_contract::{EntityKind, Operation};

use crate::store::{self, EntityTable, NewJob, SyncRun, SyncState, UnfinishedJob};
use crate::{scope, Engine, EngineError};

/// Users read, and at most as many jobs queued, per transaction of a sync run.
pub const SYNC_CHUNK_USERS: u64 = 1_000;

/// How far one call of [`Engine::continue_sync`] goes.
#[derive(Clone, Copy, Debug)]
pub struct SyncStep {
    /// Users read per transaction.
    pub chunk_users: u64,
    /// Stop after this many chunks (`None`: walk to the end).
    pub max_chunks: Option<u64>,
}

impl Default for SyncStep {
    fn default() -> Self {
        Self {
            chunk_users: SYNC_CHUNK_USERS,
            max_chunks: None,
        }
    }
}

impl Engine {
    /// Starts a sync run of `target`, or returns its run that has not settled yet (a run
    /// stopped mid-walk is continued by [`Engine::continue_sync`], not restarted).
    pub async fn start_sync(&self, tenant: &str, target: &str) -> Result<SyncRun, EngineError> {
        let record = self
            .store()
            .target(tenant, target)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("target `{tenant}/{target}`")))?;
        let estimate = self
            .store()
            .live_count(tenant, EntityTable::Users)
            .await?
            .min(i64::MAX as u64) as i64;
        let mut tx = self.store().begin_write().await?;
        let (run, created) =
            store::open_sync_run_in(&mut tx, tenant, target, record.created_at, estimate).await?;
        tx.commit().await?;
        if created {
            tracing::info!(
                tenant,
                target_name = target,
                run = run.id,
                "sync run started"
            );
        }
        Ok(run)
    }

    /// Walks run `id` on from its cursor, a chunk of users per transaction, until every user
    /// is reached or `step.max_chunks` chunks are done; returns the run as it stands. A run
    /// already past its walk is returned as it is.
    pub async fn continue_sync(&self, id: i64, step: SyncStep) -> Result<SyncRun, EngineError> {
        let chunk_users = step.chunk_users.max(1);
        let mut chunks = 0;
        loop {
            if step.max_chunks.is_some_and(|max| chunks >= max) {
                break;
            }
            let mut tx = self.store().begin_write().await?;
            let run = store::sync_run_in(&mut tx, id)
                .await?
                .ok_or_else(|| EngineError::NotFound(format!("sync run {id}")))?;
            if run.state != SyncState::Running {
                tx.commit().await?;
                return Ok(run);
            }
            let Some(target) = store::targets_in(&mut tx, &run.tenant)
                .await?
                .into_iter()
                .find(|t| t.spec.name == run.target)
            else {
                return Err(EngineError::NotFound(format!(
                    "target `{}/{}` of sync run {id} (deleted since the run started)",
                    run.tenant, run.target
                )));
            };
            let users =
                store::users_after_in(&mut tx, &run.tenant, run.cursor.as_deref(), chunk_users)
                    .await?;
            let Some(last) = users.last().map(|user| user.id.clone()) else {
                store::end_sync_walk_in(&mut tx, id).await?;
                tx.commit().await?;
                break;
            };
            let settings = &target.spec.settings;
            let mut group_roles: HashMap<String, Vec<String>> = HashMap::new();
            if scope::uses_roles(settings) {
                let ids: Vec<String> = users.iter().map(|user| user.id.clone()).collect();
                for (member, _, name) in store::memberships_in(&mut tx, &run.tenant, &ids).await? {
                    group_roles.entry(member).or_default().push(name);
                }
            }
            let unfinished = latest_unfinished(
                store::unfinished_user_jobs_in(
                    &mut tx,
                    &run.tenant,
                    &run.target,
                    run.cursor.as_deref(),
                    &last,
                )
                .await?,
            );
            let mut taken_over = Vec::new();
            let mut jobs = Vec::new();
            for user in &users {
                let roles = group_roles.get(&user.id).map_or(&[][..], Vec::as_slice);
                if !scope::applies(settings, user, roles) {
                    continue;
                }
                match unfinished.get(&user.id) {
                    Some(job) if job.operation != Operation::Delete => {
                        // Its own job brings it in line; take it over unless another run has.
                        if job.sync_run.is_none() {
                            taken_over.push(job.id);
                        }
                        continue;
                    }
                    _ => {}
                }
                jobs.push(NewJob {
                    target: run.target.clone(),
                    entity_kind: EntityKind::User,
                    entity_id: user.id.clone(),
                    entity_name: user.user_name.clone(),
                    operation: Operation::Create,
                    changed_claims: Vec::new(),
                    entity_version: user.version,
                });
            }
            let mut ids = store::insert_jobs(&mut tx, &run.tenant, &jobs).await?;
            let queued = !ids.is_empty();
            ids.extend(taken_over);
            store::record_sync_chunk_in(&mut tx, id, &ids, &last).await?;
            tx.commit().await?;
            if queued {
                self.signals().new_work.notify_waiters();
            }
            chunks += 1;
        }
        let mut conn = self.store().pool().acquire().await?;
        store::sync_run_in(&mut conn, id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("sync run {id}")))
    }

    /// Starts (or resumes) a sync run of `target` and walks it to the end: every in-scope user
    /// has a job of the run when this returns. The jobs run on whatever dispatcher drains the
    /// queue; [`Engine::sync_run`] reports their progress.
    pub async fn sync_target(&self, tenant: &str, target: &str) -> Result<SyncRun, EngineError> {
        let run = self.start_sync(tenant, target).await?;
        self.continue_sync(run.id, SyncStep::default()).await
    }

    /// A sync run's state and progress (one row, whatever the number of its jobs).
    pub async fn sync_run(&self, id: i64) -> Result<SyncRun, EngineError> {
        self.store()
            .sync_run(id)
            .await?
            .ok_or_else(|| EngineError::NotFound(format!("sync run {id}")))
    }
}

/// The latest unfinished job of each user (jobs come in id order).
fn latest_unfinished(jobs: Vec<UnfinishedJob>) -> BTreeMap<String, UnfinishedJob> {
    jobs.into_iter()
        .map(|job| (job.entity_id.clone(), job))
        .collect()
}
