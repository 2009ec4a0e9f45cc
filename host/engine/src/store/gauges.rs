//! The queue's state per target for a metrics scrape, counted inside the partial indexes of
//! open jobs, ready jobs and dead letters: what a scrape costs grows with the backlog and the
//! dead letters (index entries only), never with the history of finished jobs (those are
//! counted as they finish, by an observer).

use std::collections::BTreeMap;

use sqlx::Row;

use super::{Store, StoreResult};

/// One target's queue as a scrape sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueGauge {
    /// The tenant.
    pub tenant: String,
    /// The target.
    pub target: String,
    /// Pending jobs that can be claimed when due (heads of their entity's queue).
    pub ready: i64,
    /// Pending jobs waiting behind an earlier unfinished job of their entity.
    pub blocked: i64,
    /// Jobs claimed and running.
    pub running: i64,
    /// Dead letters waiting for an operator.
    pub dead: i64,
    /// The earliest due time of a ready job, epoch milliseconds.
    pub oldest_due_at: Option<i64>,
}

/// Each stored target's counts, each one index-only count: open jobs (`jobs_open`), ready
/// ones (`jobs_ready`), dead letters (`jobs_dead`); and its earliest ready due time.
const PER_TARGET: &str = "SELECT t.tenant, t.name AS target,
       (SELECT COUNT(*) FROM jobs j WHERE j.tenant = t.tenant AND j.target = t.name
          AND j.state IN ('pending', 'running')) AS open,
       (SELECT COUNT(*) FROM jobs j WHERE j.tenant = t.tenant AND j.target = t.name
          AND j.state = 'pending' AND j.blocked = FALSE) AS ready,
       (SELECT COUNT(*) FROM jobs j WHERE j.tenant = t.tenant AND j.target = t.name
          AND j.state = 'dead') AS dead,
       (SELECT MIN(j.due_at) FROM jobs j WHERE j.tenant = t.tenant AND j.target = t.name
          AND j.state = 'pending' AND j.blocked = FALSE) AS due
     FROM targets t";

/// Running jobs by target (`jobs_lease` leads with the state; running jobs are few: at most the
/// workers of every process).
const RUNNING: &str = "SELECT tenant, target, COUNT(*) AS n FROM jobs WHERE state = 'running'";

impl Store {
    /// Every stored target's queue (targets without jobs included, all zero), ordered by
    /// tenant and target. Jobs left by a deleted target are not counted.
    pub async fn queue_gauges(&self) -> StoreResult<Vec<QueueGauge>> {
        self.gauges_of(None).await
    }

    /// [`Store::queue_gauges`] of one tenant's targets only (the same index-only counts, so
    /// the cost follows the tenant's open jobs and dead letters, never its history).
    pub async fn tenant_queue_gauges(&self, tenant: &str) -> StoreResult<Vec<QueueGauge>> {
        self.gauges_of(Some(tenant)).await
    }

    async fn gauges_of(&self, tenant: Option<&str>) -> StoreResult<Vec<QueueGauge>> {
        let (per_target, running) = match tenant {
            None => (
                PER_TARGET.to_owned(),
                format!("{RUNNING} GROUP BY tenant, target"),
            ),
            Some(_) => (
                format!("{PER_TARGET} WHERE t.tenant = $1"),
                format!("{RUNNING} AND tenant = $1 GROUP BY tenant, target"),
            ),
        };
        let mut gauges: BTreeMap<(String, String), (QueueGauge, i64)> = BTreeMap::new();
        let bound = |sql| match tenant {
            Some(tenant) => sqlx::query(sql).bind(tenant.to_owned()),
            None => sqlx::query(sql),
        };
        for row in bound(&per_target).fetch_all(&self.pool).await? {
            let gauge = QueueGauge {
                tenant: row.try_get("tenant")?,
                target: row.try_get("target")?,
                ready: row.try_get("ready")?,
                dead: row.try_get("dead")?,
                oldest_due_at: row.try_get("due")?,
                ..QueueGauge::default()
            };
            let open: i64 = row.try_get("open")?;
            gauges.insert((gauge.tenant.clone(), gauge.target.clone()), (gauge, open));
        }
        for row in bound(&running).fetch_all(&self.pool).await? {
            let key: (String, String) = (row.try_get("tenant")?, row.try_get("target")?);
            if let Some((gauge, _)) = gauges.get_mut(&key) {
                gauge.running = row.try_get("n")?;
            }
        }
        Ok(gauges
            .into_values()
            .map(|(gauge, open)| QueueGauge {
                blocked: (open - gauge.ready - gauge.running).max(0),
                ..gauge
            })
            .collect())
    }
}
