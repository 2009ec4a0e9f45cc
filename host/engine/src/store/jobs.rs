//! The outbox: jobs, their leases, retries, coalescing and dead letters.
//!
//! Ordering rule: only the lowest-numbered unfinished job of each (tenant, target, entity) can be
//! claimed (see the `claim` module), so the jobs of one entity reach one target in the order
//! their changes committed.

use std::collections::BTreeSet;

use sqlx::Row;

use provisioner_contract::{EntityKind, Operation};

use super::{
    backend, flag, kind_str, now_ms, operation_str, parse_kind, parse_operation, placeholders,
    DbConn, DbRow, EntityHistory, JobError, JobFilter, JobQuery, JobRecord, JobState, NewJob,
    Store, StoreResult,
};

/// The columns of a job, in the order [`job_from_row`] reads them.
pub(super) const COLUMNS: &str =
    "id, tenant, target, entity_kind, entity_id, entity_name, operation,
    changed_claims, entity_version, state, attempts,
    CAST(outcome_unknown AS INTEGER) AS outcome_unknown, rate_limited_ms, due_at,
    lease_owner, lease_until, coalesced_into, remote_id, error_kind, error_code, error_message,
    created_at, updated_at, finished_at";

/// Reads a job from a row of [`COLUMNS`].
pub(super) fn job_from_row(row: &DbRow) -> StoreResult<JobRecord> {
    let error_kind: Option<String> = row.try_get("error_kind")?;
    let error = match error_kind {
        Some(kind) => Some(JobError {
            kind,
            code: row.try_get("error_code")?,
            message: row
                .try_get::<Option<String>, _>("error_message")?
                .unwrap_or_default(),
        }),
        None => None,
    };
    Ok(JobRecord {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        target: row.try_get("target")?,
        entity_kind: parse_kind(row.try_get("entity_kind")?)?,
        entity_id: row.try_get("entity_id")?,
        entity_name: row.try_get("entity_name")?,
        operation: parse_operation(row.try_get("operation")?)?,
        changed_claims: serde_json::from_str(row.try_get("changed_claims")?)?,
        entity_version: row.try_get("entity_version")?,
        state: row.try_get::<&str, _>("state")?.parse()?,
        attempts: row.try_get("attempts")?,
        outcome_unknown: flag(row, "outcome_unknown")?,
        rate_limited_ms: row.try_get("rate_limited_ms")?,
        due_at: row.try_get("due_at")?,
        lease_owner: row.try_get("lease_owner")?,
        lease_until: row.try_get("lease_until")?,
        coalesced_into: row.try_get("coalesced_into")?,
        remote_id: row.try_get("remote_id")?,
        error,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// Adds jobs to the outbox inside the transaction that commits the local change; returns
/// their ids in order.
pub async fn insert_jobs(
    conn: &mut DbConn,
    tenant: &str,
    jobs: &[NewJob],
) -> StoreResult<Vec<i64>> {
    let now = now_ms();
    let entities: Vec<_> = jobs
        .iter()
        .map(|job| (tenant, kind_str(job.entity_kind), job.entity_id.as_str()))
        .collect();
    backend::serialize_entity_jobs(conn, &entities).await?;
    let mut ids = Vec::with_capacity(jobs.len());
    for job in jobs {
        let row = sqlx::query(
            "INSERT INTO jobs (tenant, target, entity_kind, entity_id, entity_name, operation,
               changed_claims, entity_version, state, attempts, outcome_unknown, due_at,
               created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, FALSE, $9, $9, $9)
             RETURNING id",
        )
        .bind(tenant)
        .bind(&job.target)
        .bind(kind_str(job.entity_kind))
        .bind(&job.entity_id)
        .bind(&job.entity_name)
        .bind(operation_str(job.operation))
        .bind(serde_json::to_string(&job.changed_claims)?)
        .bind(job.entity_version)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
        ids.push(row.try_get("id")?);
    }
    Ok(ids)
}

/// How a running job ends or goes back to the queue.
#[derive(Clone, Debug, PartialEq)]
pub enum JobUpdate {
    /// The job reached a final state.
    Finish {
        /// `Done`, `Dead` or `Superseded`.
        state: JobState,
        /// Remote id the target returned, if any.
        remote_id: Option<String>,
        /// The failure, for a dead letter.
        error: Option<JobError>,
        /// The attempt count at the end.
        attempts: i64,
    },
    /// The job goes back to pending, to run again at `due_at`.
    Retry {
        /// When it may run again, epoch ms.
        due_at: i64,
        /// The attempt count after this failure.
        attempts: i64,
        /// Whether a write may have been applied remotely without us knowing.
        outcome_unknown: bool,
        /// The failure that caused the retry, if any.
        error: Option<JobError>,
    },
}

impl Store {
    /// Folds the pending updates that directly follow a running create or update of the same
    /// entity into it: they are marked `coalesced` and their changed claims join the job's.
    ///
    /// Returns the job as updated. Execution reads the entity's current state, so the folded
    /// changes are applied by the one call.
    pub async fn coalesce_following(&self, job: &JobRecord, owner: &str) -> StoreResult<JobRecord> {
        if job.operation == Operation::Delete {
            return Ok(job.clone());
        }
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(
            "SELECT id, operation, changed_claims, entity_version FROM jobs
             WHERE tenant = $1 AND target = $2 AND entity_kind = $3 AND entity_id = $4
               AND id > $5 AND state = 'pending'
             ORDER BY id",
        )
        .bind(&job.tenant)
        .bind(&job.target)
        .bind(kind_str(job.entity_kind))
        .bind(&job.entity_id)
        .bind(job.id)
        .fetch_all(&mut *tx)
        .await?;
        let mut folded = Vec::new();
        let mut claims: BTreeSet<String> = job.changed_claims.iter().cloned().collect();
        let mut version = job.entity_version;
        for row in &rows {
            if parse_operation(row.try_get("operation")?)? != Operation::Update {
                break;
            }
            folded.push(row.try_get::<i64, _>("id")?);
            let changed: Vec<String> = serde_json::from_str(row.try_get("changed_claims")?)?;
            claims.extend(changed);
            version = version.max(row.try_get("entity_version")?);
        }
        if folded.is_empty() {
            tx.commit().await?;
            return Ok(job.clone());
        }
        let now = now_ms();
        let changed: Vec<String> = claims.into_iter().collect();
        let updated = sqlx::query(
            "UPDATE jobs SET changed_claims = $1, entity_version = $2, updated_at = $3
             WHERE id = $4 AND state = 'running' AND lease_owner = $5",
        )
        .bind(serde_json::to_string(&changed)?)
        .bind(version)
        .bind(now)
        .bind(job.id)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            // The lease was lost; leave everything to the new owner.
            tx.rollback().await?;
            return Ok(job.clone());
        }
        let sql = format!(
            "UPDATE jobs SET state = 'coalesced', coalesced_into = $1, finished_at = $2,
               updated_at = $2
             WHERE state = 'pending' AND id IN ({})",
            placeholders(3, folded.len())
        );
        let mut query = sqlx::query(&sql).bind(job.id).bind(now);
        for id in &folded {
            query = query.bind(id);
        }
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(JobRecord {
            changed_claims: changed,
            entity_version: version,
            ..job.clone()
        })
    }

    /// Ends or requeues a running job held by `owner`. Returns false when the lease was lost
    /// (the job was recovered and possibly claimed by someone else), in which case nothing
    /// changes.
    pub async fn update_job(&self, id: i64, owner: &str, update: &JobUpdate) -> StoreResult<bool> {
        let now = now_ms();
        let done =
            match update {
                JobUpdate::Finish {
                    state,
                    remote_id,
                    error,
                    attempts,
                } => sqlx::query(
                    "UPDATE jobs SET state = $1, remote_id = $2, error_kind = $3, error_code = $4,
                       error_message = $5, finished_at = $6, updated_at = $6,
                       lease_owner = NULL, lease_until = NULL, attempts = $9
                     WHERE id = $7 AND state = 'running' AND lease_owner = $8",
                )
                .bind(state.as_str())
                .bind(remote_id)
                .bind(error.as_ref().map(|e| &e.kind))
                .bind(error.as_ref().and_then(|e| e.code.as_ref()))
                .bind(error.as_ref().map(|e| &e.message))
                .bind(now)
                .bind(id)
                .bind(owner)
                .bind(attempts)
                .execute(&self.pool)
                .await?,
                JobUpdate::Retry {
                    due_at,
                    attempts,
                    outcome_unknown,
                    error,
                } => {
                    sqlx::query(
                        "UPDATE jobs SET state = 'pending', due_at = $1, attempts = $2,
                       outcome_unknown = $3, error_kind = $4, error_code = $5, error_message = $6,
                       updated_at = $7, lease_owner = NULL, lease_until = NULL
                     WHERE id = $8 AND state = 'running' AND lease_owner = $9",
                    )
                    .bind(due_at)
                    .bind(attempts)
                    .bind(outcome_unknown)
                    .bind(error.as_ref().map(|e| &e.kind))
                    .bind(error.as_ref().and_then(|e| e.code.as_ref()))
                    .bind(error.as_ref().map(|e| &e.message))
                    .bind(now)
                    .bind(id)
                    .bind(owner)
                    .execute(&self.pool)
                    .await?
                }
            };
        Ok(done.rows_affected() > 0)
    }

    /// Marks whether a running job's write may have been applied without us knowing; set
    /// before a create is sent so that a crash during the call is resolved by lookup.
    pub async fn mark_outcome_unknown(
        &self,
        id: i64,
        owner: &str,
        unknown: bool,
    ) -> StoreResult<bool> {
        self.update_leased("outcome_unknown = $1", unknown, id, owner)
            .await
    }

    /// Adds `ms` to the rate-limited waiting a running job held by `owner` has been granted
    /// without spending an attempt. Returns false when the lease was lost.
    pub async fn add_rate_limited_wait(&self, id: i64, owner: &str, ms: i64) -> StoreResult<bool> {
        self.update_leased("rate_limited_ms = rate_limited_ms + $1", ms, id, owner)
            .await
    }

    /// Applies `set` (which binds `value` as `$1`) to a running job held by `owner`; returns
    /// false when the lease was lost.
    async fn update_leased<T>(&self, set: &str, value: T, id: i64, owner: &str) -> StoreResult<bool>
    where
        T: for<'q> sqlx::Encode<'q, super::Db> + sqlx::Type<super::Db> + Send,
    {
        let sql = format!(
            "UPDATE jobs SET {set}, updated_at = $2
             WHERE id = $3 AND state = 'running' AND lease_owner = $4"
        );
        let done = sqlx::query(&sql)
            .bind(value)
            .bind(now_ms())
            .bind(id)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Returns running jobs whose lease has expired to pending, marked outcome-unknown so that
    /// a write is resolved by lookup before it is retried. Returns how many were recovered.
    ///
    /// Each recovered job gets an attempt of outcome `unknown` (its operation, from its last
    /// change to its recovery): the process running it stopped during or around a call whose
    /// outcome was never recorded, and the entity's history says so.
    pub async fn recover_expired_leases(&self, now: i64) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO attempts (job_id, tenant, target, entity_kind, entity_id, call, outcome,
               message, started_at, duration_ms)
             SELECT id, tenant, target, entity_kind, entity_id, operation, 'unknown',
               'the process running this job stopped before recording the outcome (its lease '
                 || 'of ' || lease_owner || ' expired); the next run resolves it by lookup',
               updated_at, $1 - updated_at
             FROM jobs WHERE state = 'running' AND lease_until < $1",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query(
            "UPDATE jobs SET state = 'pending', outcome_unknown = TRUE, lease_owner = NULL,
               lease_until = NULL, updated_at = $1
             WHERE state = 'running' AND lease_until < $1",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Extends the leases of the given jobs `owner` is running; returns how many were extended.
    pub async fn renew_job_leases(
        &self,
        owner: &str,
        ids: &[i64],
        lease_until: i64,
    ) -> StoreResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "UPDATE jobs SET lease_until = $1
             WHERE state = 'running' AND lease_owner = $2 AND id IN ({})",
            placeholders(3, ids.len())
        );
        let mut query = sqlx::query(&sql).bind(lease_until).bind(owner);
        for id in ids {
            query = query.bind(id);
        }
        Ok(query.execute(&self.pool).await?.rows_affected())
    }

    /// One job by id.
    pub async fn job(&self, id: i64) -> StoreResult<Option<JobRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// Jobs by id, in id order; unknown ids are skipped.
    pub async fn jobs_by_id(&self, ids: &[i64]) -> StoreResult<Vec<JobRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE id IN ({}) ORDER BY id",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(id);
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Jobs matching a filter, newest first.
    pub async fn list_jobs(&self, filter: &JobFilter) -> StoreResult<Vec<JobRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs
             WHERE ($1 IS NULL OR tenant = $1) AND ($2 IS NULL OR target = $2)
               AND ($3 IS NULL OR state = $3)
             ORDER BY id DESC LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(filter.tenant.as_deref())
            .bind(filter.target.as_deref())
            .bind(filter.state.map(JobState::as_str))
            .bind(filter.limit.unwrap_or(100))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// A page of jobs matching a query, newest first (keyset by id: pass the last id as
    /// `before` for the next page).
    pub async fn query_jobs(&self, query: &JobQuery) -> StoreResult<Vec<JobRecord>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs
             WHERE ($1 IS NULL OR tenant = $1) AND ($2 IS NULL OR target = $2)
               AND ($3 IS NULL OR state = $3) AND ($4 IS NULL OR entity_id = $4)
               AND ($5 IS NULL OR id < $5)
             ORDER BY id DESC LIMIT $6"
        );
        let rows = sqlx::query(&sql)
            .bind(query.tenant.as_deref())
            .bind(query.target.as_deref())
            .bind(query.state.map(JobState::as_str))
            .bind(query.entity_id.as_deref())
            .bind(query.before)
            .bind(query.limit.unwrap_or(100))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// How many jobs are in each state (states without jobs are left out).
    pub async fn count_jobs(&self, tenant: Option<&str>) -> StoreResult<Vec<(JobState, i64)>> {
        let rows = sqlx::query(
            "SELECT state, COUNT(*) AS n FROM jobs WHERE ($1 IS NULL OR tenant = $1)
             GROUP BY state ORDER BY state",
        )
        .bind(tenant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<&str, _>("state")?.parse()?, r.try_get("n")?)))
            .collect()
    }

    /// Unfinished jobs that can still run without an operator: pending or running jobs of
    /// targets that are not paused indefinitely.
    pub async fn outstanding_jobs(&self) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM jobs j
             JOIN targets t ON t.tenant = j.tenant AND t.name = j.target
             WHERE j.state IN ('pending', 'running')
               AND (t.paused = FALSE OR t.paused_until IS NOT NULL)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Whether any unfinished job can still run without an operator (see
    /// [`Store::outstanding_jobs`]); one index seek per target, whatever the backlog or the
    /// history.
    pub async fn has_outstanding_jobs(&self) -> StoreResult<bool> {
        let row = sqlx::query(HAS_OUTSTANDING).fetch_one(&self.pool).await?;
        super::flag(&row, "outstanding")
    }

    /// The earliest time a pending job becomes claimable by time alone (its own due time or
    /// its target's pause window), if any job waits on time.
    ///
    /// One index seek per target (the earliest pending job of each queue that is not blocked
    /// behind an earlier job of its entity), so the cost does not grow with the backlog.
    pub async fn next_due_at(&self) -> StoreResult<Option<i64>> {
        let row = sqlx::query(NEXT_DUE).fetch_one(&self.pool).await?;
        Ok(row.try_get("due")?)
    }

    /// Returns dead letters of a target to the queue, all of them or only `job`; returns how
    /// many were replayed. Each is retried with a fresh attempt budget and reads the entity's
    /// current state, so fixing the data (or the target's configuration) first makes it pass.
    pub async fn replay_dead_letters(
        &self,
        tenant: &str,
        target: &str,
        job: Option<i64>,
    ) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'pending', attempts = 0, rate_limited_ms = 0, due_at = $1,
               finished_at = NULL,
               error_kind = NULL, error_code = NULL, error_message = NULL, updated_at = $1
             WHERE state = 'dead' AND tenant = $2 AND target = $3 AND ($4 IS NULL OR id = $4)",
        )
        .bind(now_ms())
        .bind(tenant)
        .bind(target)
        .bind(job)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The provisioning history of one entity across every target.
    pub async fn entity_history(
        &self,
        tenant: &str,
        kind: EntityKind,
        entity_id: &str,
    ) -> StoreResult<EntityHistory> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs
             WHERE tenant = $1 AND entity_kind = $2 AND entity_id = $3 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant)
            .bind(kind_str(kind))
            .bind(entity_id)
            .fetch_all(&self.pool)
            .await?;
        let jobs = rows
            .iter()
            .map(job_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        let attempts = self.attempts_for_entity(tenant, kind, entity_id).await?;
        let remote_ids = self
            .remote_ids(tenant, kind, entity_id)
            .await?
            .into_iter()
            .collect();
        Ok(EntityHistory {
            jobs,
            attempts,
            remote_ids,
        })
    }
}

/// Whether a target that is not paused until an operator resumes it has an unfinished job: per
/// target, one seek of `jobs_open`.
pub(super) const HAS_OUTSTANDING: &str = "SELECT CASE WHEN EXISTS (
       SELECT 1 FROM targets t
       WHERE (t.paused = FALSE OR t.paused_until IS NOT NULL)
         AND EXISTS (SELECT 1 FROM jobs j
                     WHERE j.tenant = t.tenant AND j.target = t.name
                       AND j.state IN ('pending', 'running'))) THEN 1 ELSE 0 END AS outstanding";

/// The earliest time a job becomes claimable by time alone: per target, the first entry of its
/// `jobs_ready` range, or the end of its pause when that is later.
pub(super) const NEXT_DUE: &str = "SELECT MIN(CASE WHEN q.paused = TRUE AND q.paused_until > q.due
                THEN q.paused_until ELSE q.due END) AS due
     FROM (SELECT t.paused, t.paused_until,
             (SELECT MIN(j.due_at) FROM jobs j
              WHERE j.tenant = t.tenant AND j.target = t.name AND j.state = 'pending'
                AND j.blocked = FALSE) AS due
           FROM targets t
           WHERE t.paused = FALSE OR t.paused_until IS NOT NULL) q
     WHERE q.due IS NOT NULL";
