//! The queue's state per target for a metrics scrape, read through the indexes of open jobs
//! only: what a scrape costs grows with the backlog and the dead letters, never with the history
//! of finished jobs (those are counted as they finish, by an observer).

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

/// Open jobs by target, state and whether blocked (the partial index `jobs_open`).
const OPEN: &str = "SELECT tenant, target, state, CAST(blocked AS INTEGER) AS blocked,
       COUNT(*) AS n
     FROM jobs WHERE state IN ('pending', 'running')
     GROUP BY tenant, target, state, blocked";

/// Dead letters by target (the index `jobs_due`, which leads with the state).
const DEAD: &str = "SELECT tenant, target, COUNT(*) AS n FROM jobs WHERE state = 'dead'
     GROUP BY tenant, target";

/// Each target's earliest ready due time: one seek of `jobs_ready` per target.
const OLDEST_READY: &str = "SELECT t.tenant, t.name AS target,
       (SELECT MIN(j.due_at) FROM jobs j
        WHERE j.tenant = t.tenant AND j.target = t.name AND j.state = 'pending'
          AND j.blocked = FALSE) AS due
     FROM targets t";

impl Store {
    /// Every stored target's queue (targets without jobs included, all zero), plus any target
    /// that has jobs but is no longer stored; ordered by tenant and target.
    pub async fn queue_gauges(&self) -> StoreResult<Vec<QueueGauge>> {
        let mut gauges: BTreeMap<(String, String), QueueGauge> = BTreeMap::new();
        for row in sqlx::query(OPEN).fetch_all(&self.pool).await? {
            let gauge = gauge_of(&mut gauges, row.try_get("tenant")?, row.try_get("target")?);
            let n: i64 = row.try_get("n")?;
            match (
                row.try_get::<&str, _>("state")?,
                row.try_get::<i64, _>("blocked")?,
            ) {
                ("running", _) => gauge.running += n,
                (_, 0) => gauge.ready += n,
                _ => gauge.blocked += n,
            }
        }
        for row in sqlx::query(DEAD).fetch_all(&self.pool).await? {
            let gauge = gauge_of(&mut gauges, row.try_get("tenant")?, row.try_get("target")?);
            gauge.dead += row.try_get::<i64, _>("n")?;
        }
        for row in sqlx::query(OLDEST_READY).fetch_all(&self.pool).await? {
            let gauge = gauge_of(&mut gauges, row.try_get("tenant")?, row.try_get("target")?);
            gauge.oldest_due_at = row.try_get("due")?;
        }
        Ok(gauges.into_values().collect())
    }
}

fn gauge_of(
    gauges: &mut BTreeMap<(String, String), QueueGauge>,
    tenant: String,
    target: String,
) -> &mut QueueGauge {
    gauges
        .entry((tenant.clone(), target.clone()))
        .or_insert_with(|| QueueGauge {
            tenant,
            target,
            ..QueueGauge::default()
        })
}
