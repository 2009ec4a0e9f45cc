//! Reconciliation runs as stored: one row per run of a target (its state, policy and counts),
//! one row per drift it found with the job queued to repair it, and the remote ids a running
//! run has listed (migration 0013).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{now_ms, placeholders, DbConn, DbRow, Store, StoreError, StoreResult};

/// Ids bound per statement (bounded bind count).
const IDS_PER_STATEMENT: usize = 500;

/// A run still `running` after this long is taken for one whose process died: the next run of
/// its target ends it as failed instead of waiting for it.
pub const STALE_RUN_MS: i64 = 60 * 60 * 1_000;

const RUN_COLUMNS: &str = "id, tenant, target, state, policy, remote_seen, local_seen, drift,
    error, started_at, finished_at";

const DRIFT_COLUMNS: &str =
    "id, kind, entity_id, user_name, remote_id, field, expected, actual, repair_job";

/// What a target's reconciliation does with the drift it finds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReconcilePolicy {
    /// Report drift only; nothing is queued.
    #[default]
    Report,
    /// Report drift and queue, for each, the job that fixes it.
    Repair,
}

impl ReconcilePolicy {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcilePolicy::Report => "report",
            ReconcilePolicy::Repair => "repair",
        }
    }
}

impl fmt::Display for ReconcilePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ReconcilePolicy {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "report" => Ok(ReconcilePolicy::Report),
            "repair" => Ok(ReconcilePolicy::Repair),
            other => Err(StoreError::Conflict(format!(
                "unknown reconciliation policy `{other}`: expected `report` or `repair`"
            ))),
        }
    }
}

/// Where a reconciliation run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReconcileState {
    /// Reading the remote users and walking the local ones.
    Running,
    /// Both sides were compared; the drift is complete.
    Done,
    /// The run stopped early (the connector failed, or its process died); the drift found
    /// until then is kept.
    Failed,
}

impl ReconcileState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReconcileState::Running => "running",
            ReconcileState::Done => "done",
            ReconcileState::Failed => "failed",
        }
    }
}

impl FromStr for ReconcileState {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "running" => Ok(ReconcileState::Running),
            "done" => Ok(ReconcileState::Done),
            "failed" => Ok(ReconcileState::Failed),
            other => Err(StoreError::Conflict(format!(
                "unknown reconciliation run state `{other}`"
            ))),
        }
    }
}

/// One reconciliation run of a target, without its drift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconcileRun {
    /// The run's id.
    pub id: i64,
    /// Owning tenant.
    pub tenant: String,
    /// The target reconciled.
    pub target: String,
    /// Where the run is.
    pub state: ReconcileState,
    /// Whether the run repairs or only reports.
    pub policy: ReconcilePolicy,
    /// Remote users listed.
    pub remote_seen: i64,
    /// Local users in the target's scope walked.
    pub local_seen: i64,
    /// Drift found.
    pub drift_count: i64,
    /// Why a failed run stopped.
    pub error: Option<String>,
    /// When the run started, epoch ms.
    pub started_at: i64,
    /// When it ended, epoch ms.
    pub finished_at: Option<i64>,
}

/// The kinds of drift between a target and the local users.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// A local user in the target's scope has no remote user (never created, or gone).
    MissingRemotely,
    /// A remote user that no local user maps to; reported only, never deleted.
    UnknownRemotely,
    /// A mapped field's remote value is not the one the mapping gives.
    FieldDiffers,
    /// The remote user's active state is not the local one.
    ActiveDiffers,
}

impl DriftKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::MissingRemotely => "missing_remotely",
            DriftKind::UnknownRemotely => "unknown_remotely",
            DriftKind::FieldDiffers => "field_differs",
            DriftKind::ActiveDiffers => "active_differs",
        }
    }
}

impl FromStr for DriftKind {
    type Err = StoreError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "missing_remotely" => Ok(DriftKind::MissingRemotely),
            "unknown_remotely" => Ok(DriftKind::UnknownRemotely),
            "field_differs" => Ok(DriftKind::FieldDiffers),
            "active_differs" => Ok(DriftKind::ActiveDiffers),
            other => Err(StoreError::Conflict(format!(
                "unknown drift kind `{other}`"
            ))),
        }
    }
}

/// One difference a run found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// What differs.
    pub kind: DriftKind,
    /// Local id of the user, when a local user is involved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// The local user name, or the remote one for an unknown remote user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The remote user's id, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote_id: Option<String>,
    /// The target field that differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The value the local user gives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The value the target holds (absent: none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
    /// The job queued to repair it.
    pub repair_job: Option<i64>,
    /// The repair in words: `queued job N`, or none.
    pub repair: Option<String>,
}

impl Drift {
    /// A drift of `kind` with nothing else set yet.
    pub fn of(kind: DriftKind) -> Self {
        Self {
            kind,
            entity_id: None,
            user_name: None,
            remote_id: None,
            field: None,
            expected: None,
            actual: None,
            repair_job: None,
            repair: None,
        }
    }

    /// Records the job that repairs it.
    pub fn repaired_by(&mut self, job: i64) {
        self.repair_job = Some(job);
        self.repair = Some(format!("queued job {job}"));
    }
}

fn run_from_row(row: &DbRow) -> StoreResult<ReconcileRun> {
    Ok(ReconcileRun {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        target: row.try_get("target")?,
        state: row.try_get::<&str, _>("state")?.parse()?,
        policy: row.try_get::<&str, _>("policy")?.parse()?,
        remote_seen: row.try_get("remote_seen")?,
        local_seen: row.try_get("local_seen")?,
        drift_count: row.try_get("drift")?,
        error: row.try_get("error")?,
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
    })
}

fn drift_from_row(row: &DbRow) -> StoreResult<Drift> {
    let mut drift = Drift {
        entity_id: row.try_get("entity_id")?,
        user_name: row.try_get("user_name")?,
        remote_id: row.try_get("remote_id")?,
        field: row.try_get("field")?,
        expected: row.try_get("expected")?,
        actual: row.try_get("actual")?,
        ..Drift::of(row.try_get::<&str, _>("kind")?.parse()?)
    };
    if let Some(job) = row.try_get::<Option<i64>, _>("repair_job")? {
        drift.repaired_by(job);
    }
    Ok(drift)
}

/// Opens a run of `target` with `policy`. Fails with a conflict while another run of the target
/// is running (one started less than [`STALE_RUN_MS`] ago; older ones are ended as failed).
/// The caller holds the write transaction, so two callers never open two runs of one target.
pub async fn open_reconcile_run_in(
    conn: &mut DbConn,
    tenant: &str,
    target: &str,
    policy: ReconcilePolicy,
) -> StoreResult<ReconcileRun> {
    let now = now_ms();
    sqlx::query(
        "UPDATE reconcile_runs SET state = 'failed', finished_at = $3,
           error = 'the process running it stopped before it ended'
         WHERE tenant = $1 AND target = $2 AND state = 'running' AND started_at < $4",
    )
    .bind(tenant)
    .bind(target)
    .bind(now)
    .bind(now - STALE_RUN_MS)
    .execute(&mut *conn)
    .await?;
    let running: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM reconcile_runs WHERE tenant = $1 AND target = $2 AND state = 'running'",
    )
    .bind(tenant)
    .bind(target)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(id) = running {
        return Err(StoreError::Conflict(format!(
            "reconciliation run {id} of target `{tenant}/{target}` is still running; wait for \
             it to end (its report lists what it found)"
        )));
    }
    let sql = format!(
        "INSERT INTO reconcile_runs (tenant, target, state, policy, started_at)
         VALUES ($1, $2, 'running', $3, $4) RETURNING {RUN_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(tenant)
        .bind(target)
        .bind(policy.as_str())
        .bind(now)
        .fetch_one(&mut *conn)
        .await?;
    run_from_row(&row)
}

/// Records that run `run` listed `remote_ids`.
pub async fn mark_seen_in(conn: &mut DbConn, run: i64, remote_ids: &[String]) -> StoreResult<()> {
    for chunk in remote_ids.chunks(IDS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("($1, ${})", i + 2))
            .collect();
        let sql = format!(
            "INSERT INTO reconcile_seen (run_id, remote_id) VALUES {}
             ON CONFLICT (run_id, remote_id) DO NOTHING",
            values.join(", ")
        );
        let query = chunk
            .iter()
            .fold(sqlx::query(&sql).bind(run), |q, id| q.bind(id));
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The local users of `target` mapped to any of `remote_ids`: (entity id, remote id).
pub async fn users_mapped_to_in(
    conn: &mut DbConn,
    tenant: &str,
    target: &str,
    remote_ids: &[String],
) -> StoreResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for chunk in remote_ids.chunks(IDS_PER_STATEMENT) {
        let sql = users_mapped_to_sql(chunk.len());
        let query = chunk
            .iter()
            .fold(sqlx::query(&sql).bind(tenant).bind(target), |q, id| {
                q.bind(id)
            });
        for row in query.fetch_all(&mut *conn).await? {
            out.push((row.try_get("entity_id")?, row.try_get("remote_id")?));
        }
    }
    Ok(out)
}

/// The statement of [`users_mapped_to_in`] for `n` remote ids (`$1` tenant, `$2` target). It
/// seeks `provisioned_ids_remote` (migration 15), one probe per remote id, whatever the
/// target's size.
fn users_mapped_to_sql(n: usize) -> String {
    format!(
        "SELECT entity_id, remote_id FROM provisioned_ids
         WHERE tenant = $1 AND target = $2 AND entity_kind = 'user' AND remote_id IN ({})",
        placeholders(3, n)
    )
}

/// For each of `entity_ids` that has a remote id in `target`: (entity id, remote id, whether
/// run `run` listed that remote id).
pub async fn mappings_seen_in(
    conn: &mut DbConn,
    tenant: &str,
    target: &str,
    run: i64,
    entity_ids: &[String],
) -> StoreResult<Vec<(String, String, bool)>> {
    let mut out = Vec::new();
    for chunk in entity_ids.chunks(IDS_PER_STATEMENT) {
        let sql = format!(
            "SELECT p.entity_id, p.remote_id,
                    CASE WHEN s.remote_id IS NULL THEN 0 ELSE 1 END AS seen
             FROM provisioned_ids p
             LEFT JOIN reconcile_seen s ON s.run_id = $3 AND s.remote_id = p.remote_id
             WHERE p.tenant = $1 AND p.target = $2 AND p.entity_kind = 'user'
               AND p.entity_id IN ({})",
            placeholders(4, chunk.len())
        );
        let query = chunk.iter().fold(
            sqlx::query(&sql).bind(tenant).bind(target).bind(run),
            |q, id| q.bind(id),
        );
        for row in query.fetch_all(&mut *conn).await? {
            let seen: i32 = row.try_get("seen")?;
            out.push((
                row.try_get("entity_id")?,
                row.try_get("remote_id")?,
                seen != 0,
            ));
        }
    }
    Ok(out)
}

/// Stores `drift` found by run `run` and adds the counts to the run.
pub async fn record_reconcile_step_in(
    conn: &mut DbConn,
    run: i64,
    drift: &[Drift],
    remote_seen: i64,
    local_seen: i64,
) -> StoreResult<()> {
    for d in drift {
        sqlx::query(
            "INSERT INTO reconcile_drift (run_id, kind, entity_id, user_name, remote_id, field,
               expected, actual, repair_job)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(run)
        .bind(d.kind.as_str())
        .bind(&d.entity_id)
        .bind(&d.user_name)
        .bind(&d.remote_id)
        .bind(&d.field)
        .bind(&d.expected)
        .bind(&d.actual)
        .bind(d.repair_job)
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(
        "UPDATE reconcile_runs SET remote_seen = remote_seen + $1, local_seen = local_seen + $2,
           drift = drift + $3 WHERE id = $4",
    )
    .bind(remote_seen)
    .bind(local_seen)
    .bind(drift.len() as i64)
    .bind(run)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Ends run `id` as `state` (with `error` when it failed) and forgets the remote ids it
    /// listed.
    pub async fn end_reconcile_run(
        &self,
        id: i64,
        state: ReconcileState,
        error: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE reconcile_runs SET state = $1, error = $2, finished_at = $3 WHERE id = $4",
        )
        .bind(state.as_str())
        .bind(error)
        .bind(now_ms())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM reconcile_seen WHERE run_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A reconciliation run by id, if it belongs to `tenant`/`target`.
    pub async fn reconcile_run(
        &self,
        tenant: &str,
        target: &str,
        id: i64,
    ) -> StoreResult<Option<ReconcileRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM reconcile_runs WHERE id = $1 AND tenant = $2 AND target = $3"
        );
        let row = sqlx::query(&sql)
            .bind(id)
            .bind(tenant)
            .bind(target)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    /// A target's reconciliation runs, newest first, at most `limit`.
    pub async fn reconcile_runs(
        &self,
        tenant: &str,
        target: &str,
        limit: i64,
    ) -> StoreResult<Vec<ReconcileRun>> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM reconcile_runs WHERE tenant = $1 AND target = $2
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

    /// The drift of run `run` in the order found, at most `limit` after drift row `after`
    /// (0: from the first); each comes with its row id, for the next page.
    pub async fn reconcile_drift(
        &self,
        run: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, Drift)>> {
        let sql = format!(
            "SELECT {DRIFT_COLUMNS} FROM reconcile_drift WHERE run_id = $1 AND id > $2
             ORDER BY id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(run)
            .bind(after)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, drift_from_row(row)?)))
            .collect()
    }

    /// Targets whose reconciliation schedule is due at `now` (epoch ms): those with an
    /// interval whose last run started at least that long ago, or that never ran.
    pub async fn reconciliations_due(&self, now: i64) -> StoreResult<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT t.tenant, t.name FROM targets t
             WHERE t.reconcile_every_minutes IS NOT NULL
               AND COALESCE((SELECT max(r.started_at) FROM reconcile_runs r
                             WHERE r.tenant = t.tenant AND r.target = t.name), 0)
                   <= $1 - t.reconcile_every_minutes * 60000
             ORDER BY t.tenant, t.name",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("tenant")?, row.try_get("name")?)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn mapping_remote_ids_seeks_an_index_instead_of_reading_the_targets_mappings() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("plan.db").display());
        let store = Store::open(&url).await.unwrap();
        let plan = super::super::query_plan(&store, &users_mapped_to_sql(3), 5).await;
        assert!(
            plan.contains("SEARCH provisioned_ids USING INDEX provisioned_ids_remote"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN"), "{plan}");
    }
}
