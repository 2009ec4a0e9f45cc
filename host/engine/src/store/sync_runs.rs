//! Sync runs as stored: one row per initial or full sync of a target, its cursor over the
//! tenant's users and its counters, and the link from each job it queued back to it.
//!
//! The counters of finished and dead jobs are kept by a trigger on the jobs' state (migration
//! 0010), so reading a run's progress is one row, whatever the number of its jobs.

use std::fmt;
use std::str::FromStr;

use super::DbRow;
use provisioner_contract::Operation;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{now_ms, parse_operation, placeholders, DbConn, Store, StoreError, StoreResult};

/// Job ids linked to a run per statement (bounded bind count).
const IDS_PER_STATEMENT: usize = 500;

const COLUMNS: &str = "id, tenant, target, state, cursor, enqueued, total, finished, dead,
    started_at, finished_at";

/// Where a sync run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncState {
    /// Still walking the tenant's users and queueing their jobs.
    Running,
    /// Every job is queued; some have not finished yet.
    Enqueued,
    /// Every job finished and none is a dead letter.
    Done,
    /// Every job finished and some are dead letters.
    Failed,
}

impl SyncState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Running => "running",
            SyncState::Enqueued => "enqueued",
            SyncState::Done => "done",
            SyncState::Failed => "failed",
        }
    }

    /// Whether every job of the run has finished (`done` or `failed`).
    pub fn is_settled(self) -> bool {
        matches!(self, SyncState::Done | SyncState::Failed)
    }
}

impl fmt::Display for SyncState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SyncState {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(SyncState::Running),
            "enqueued" => Ok(SyncState::Enqueued),
            "done" => Ok(SyncState::Done),
            "failed" => Ok(SyncState::Failed),
            other => Err(StoreError::Conflict(format!(
                "unknown sync run state `{other}`"
            ))),
        }
    }
}

/// A persisted sync of one target: its position and its counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncRun {
    /// The run's id.
    pub id: i64,
    /// Owning tenant.
    pub tenant: String,
    /// The target synced.
    pub target: String,
    /// Where the run is.
    pub state: SyncState,
    /// Id of the last user the run reached (users are walked in id order); none before the
    /// first chunk.
    pub cursor: Option<String>,
    /// Jobs the run owns: those it queued plus unfinished ones it took over.
    pub enqueued: i64,
    /// The tenant's live users when the run started (an upper bound while it runs); equal to
    /// `enqueued` once every user is reached.
    pub total: i64,
    /// Jobs of the run in a final state (done, dead, superseded or coalesced).
    pub finished: i64,
    /// Jobs of the run that are dead letters.
    pub dead: i64,
    /// When the run started, epoch ms.
    pub started_at: i64,
    /// When its last job finished, epoch ms.
    pub finished_at: Option<i64>,
}

impl SyncRun {
    /// Jobs of the run that finished without being dead letters.
    pub fn succeeded(&self) -> i64 {
        self.finished - self.dead
    }
}

fn run_from_row(row: &DbRow) -> StoreResult<SyncRun> {
    Ok(SyncRun {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        target: row.try_get("target")?,
        state: row.try_get::<&str, _>("state")?.parse()?,
        cursor: row.try_get("cursor")?,
        enqueued: row.try_get("enqueued")?,
        total: row.try_get("total")?,
        finished: row.try_get("finished")?,
        dead: row.try_get("dead")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

/// An unfinished (pending or running) user job of a target, as a sync run sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnfinishedJob {
    /// The job's id.
    pub id: i64,
    /// Local id of the user.
    pub entity_id: String,
    /// What it does.
    pub operation: Operation,
    /// The sync run it belongs to, if any.
    pub sync_run: Option<i64>,
}

/// The target's run that has not settled (running or enqueued), else a new run with `total`
/// as its estimate; says whether it is new. A run left unsettled by an earlier target of the
/// same name (one created before `target_created_at`, then deleted) is ended as failed, not
/// resumed. The caller holds the write transaction, so two callers never open two runs of one
/// target.
pub async fn open_sync_run_in(
    conn: &mut DbConn,
    tenant: &str,
    target: &str,
    target_created_at: i64,
    total: i64,
) -> StoreResult<(SyncRun, bool)> {
    sqlx::query(
        "UPDATE sync_runs SET state = 'failed', finished_at = $4
         WHERE tenant = $1 AND target = $2 AND state IN ('running', 'enqueued')
           AND started_at < $3",
    )
    .bind(tenant)
    .bind(target)
    .bind(target_created_at)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    let sql = format!(
        "SELECT {COLUMNS} FROM sync_runs
         WHERE tenant = $1 AND target = $2 AND state IN ('running', 'enqueued')
         ORDER BY id DESC LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(tenant)
        .bind(target)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some(row) = row {
        return Ok((run_from_row(&row)?, false));
    }
    let sql = format!(
        "INSERT INTO sync_runs (tenant, target, state, enqueued, total, started_at)
         VALUES ($1, $2, 'running', 0, $3, $4) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(tenant)
        .bind(target)
        .bind(total)
        .bind(now_ms())
        .fetch_one(&mut *conn)
        .await?;
    Ok((run_from_row(&row)?, true))
}

/// A run by id, inside a transaction.
pub async fn sync_run_in(conn: &mut DbConn, id: i64) -> StoreResult<Option<SyncRun>> {
    let sql = format!("SELECT {COLUMNS} FROM sync_runs WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(run_from_row).transpose()
}

/// The unfinished user jobs of `target` for users with ids in `(after, upto]`, in id order:
/// one range walk of the per-entity index.
pub async fn unfinished_user_jobs_in(
    conn: &mut DbConn,
    tenant: &str,
    target: &str,
    after: Option<&str>,
    upto: &str,
) -> StoreResult<Vec<UnfinishedJob>> {
    let rows = sqlx::query(
        "SELECT id, entity_id, operation, sync_run FROM jobs
         WHERE tenant = $1 AND target = $2 AND entity_kind = 'user'
           AND entity_id > $3 AND entity_id <= $4 AND state IN ('pending', 'running')
         ORDER BY id",
    )
    .bind(tenant)
    .bind(target)
    .bind(after.unwrap_or(""))
    .bind(upto)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(UnfinishedJob {
                id: row.try_get("id")?,
                entity_id: row.try_get("entity_id")?,
                operation: parse_operation(row.try_get("operation")?)?,
                sync_run: row.try_get("sync_run")?,
            })
        })
        .collect()
}

/// Records a chunk of run `id`: links `jobs` (queued by it, or unfinished ones it takes over)
/// to it, moves its cursor to `cursor` and adds them to its count. Run inside the transaction
/// that queued the jobs, so the run's position and its jobs commit together.
pub async fn record_sync_chunk_in(
    conn: &mut DbConn,
    id: i64,
    jobs: &[i64],
    cursor: &str,
) -> StoreResult<()> {
    for chunk in jobs.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "UPDATE jobs SET sync_run = $1 WHERE id IN ({})",
            placeholders(2, chunk.len())
        );
        let query = chunk
            .iter()
            .fold(sqlx::query(&sql).bind(id), |q, job| q.bind(job));
        query.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE sync_runs SET cursor = $1, enqueued = enqueued + $2 WHERE id = $3")
        .bind(cursor)
        .bind(jobs.len() as i64)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Ends the walk of run `id`: its total becomes what it queued, and its state `enqueued`, or
/// already `done`/`failed` when every job has finished (as the trigger keeps it from then on).
pub async fn end_sync_walk_in(conn: &mut DbConn, id: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE sync_runs SET total = enqueued,
           state = CASE WHEN finished < enqueued THEN 'enqueued'
                        WHEN dead > 0 THEN 'failed' ELSE 'done' END,
           finished_at = CASE WHEN finished < enqueued THEN NULL ELSE $1 END
         WHERE id = $2 AND state = 'running'",
    )
    .bind(now_ms())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// A sync run by id: its state and progress (one row).
    pub async fn sync_run(&self, id: i64) -> StoreResult<Option<SyncRun>> {
        let mut conn = self.pool.acquire().await?;
        sync_run_in(&mut conn, id).await
    }

    /// A target's sync runs, newest first, at most `limit`.
    pub async fn sync_runs(
        &self,
        tenant: &str,
        target: &str,
        limit: i64,
    ) -> StoreResult<Vec<SyncRun>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM sync_runs WHERE tenant = $1 AND target = $2
             ORDER BY id DESC LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(tenant)
            .bind(target)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(run_from_row).collect()
    }
}
