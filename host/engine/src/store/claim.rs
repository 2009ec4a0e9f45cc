//! Fair claiming: which due jobs a dispatcher gets, under per-target caps and per-tenant quotas.
//!
//! A claim reads the head of each (tenant, target) queue (one index seek per target, so its
//! cost does not grow with the backlog) and hands out jobs in rounds: at most one job per
//! (tenant, target) per round; within a round, tenants running fewer jobs go first, then the
//! jobs that have waited longest. So a tenant's fresh job is not queued behind another tenant's
//! older backlog even when only one worker is free. A target
//! already running its `max_concurrency` jobs, or a tenant at its concurrency or call-rate
//! quota, gets nothing; its ready jobs are reported as held back. Running jobs and recent calls
//! are counted in the database inside the claim's write transaction, so the limits hold across
//! every process sharing it.
//!
//! A target with a batch size above 1 (see [`Store::set_target_batch_size`]) is handed its jobs
//! in calls: each round offers up to its batch size of its heads as one call, which counts once
//! against the claim's limit, the target's cap and its tenant's quota; its running jobs count
//! as calls too (running jobs / batch size, rounded up). With batch size 1 a call is a job.

use std::collections::HashMap;

use sqlx::Row;

use crate::policy;

use super::batch_size::batch_sizes;
use super::jobs::{job_from_row, COLUMNS};
use super::{backend, placeholders, Backend, DbConn, JobRecord, JobState, Store, StoreResult};

/// The window of the per-tenant call-rate quota, in milliseconds.
const RATE_WINDOW_MS: i64 = 60_000;

/// The limits a claim respects; 0 means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClaimLimits {
    /// Running calls (jobs, for targets of batch size 1) per target at most, for targets
    /// without a `max_concurrency` of their own.
    pub target_concurrency: i64,
    /// Running calls (jobs, for targets of batch size 1) per tenant at most, across its targets.
    pub tenant_concurrency: i64,
    /// Connector calls per tenant per minute at most: calls started in the last minute plus
    /// running jobs (each about to make one).
    pub tenant_calls_per_minute: i64,
}

/// Which limit held a target's ready jobs back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HoldReason {
    /// The target runs as many jobs as its concurrency cap allows.
    TargetConcurrency,
    /// The tenant runs as many jobs as its concurrency quota allows.
    TenantConcurrency,
    /// The tenant made as many calls in the last minute as its call-rate quota allows.
    TenantCallRate,
}

impl HoldReason {
    /// A stable name for logs and statistics.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::TargetConcurrency => "target_concurrency",
            HoldReason::TenantConcurrency => "tenant_concurrency",
            HoldReason::TenantCallRate => "tenant_call_rate",
        }
    }
}

/// A target whose ready jobs a claim did not hand out because a limit held them back.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HeldBack {
    /// The tenant.
    pub tenant: String,
    /// The target.
    pub target: String,
    /// The limit that held them.
    pub reason: HoldReason,
}

/// What a claim handed out, and what limits held back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Claim {
    /// The jobs claimed, now running under the claimer's lease, in id order.
    pub jobs: Vec<JobRecord>,
    /// The claimed job ids grouped into the connector calls they were claimed for: each group
    /// holds jobs of one (tenant, target), at most its batch size of them (one job per group
    /// for targets that take one change per call).
    pub calls: Vec<Vec<i64>>,
    /// Targets with ready jobs that a limit held back.
    pub held_back: Vec<HeldBack>,
}

/// One (tenant, target) queue's claimable heads, oldest due first.
struct Queue {
    tenant: String,
    target: String,
    heads: Vec<(i64, i64)>,
    /// Heads per call (the target's batch size).
    batch: usize,
}

impl Queue {
    /// The heads offered as one call in round `round`, if any are left.
    fn call(&self, round: usize) -> Option<&[(i64, i64)]> {
        let start = round.checked_mul(self.batch)?;
        let rest = self.heads.get(start..).filter(|rest| !rest.is_empty())?;
        Some(&rest[..rest.len().min(self.batch)])
    }
}

/// Calls that `running` jobs of a target of batch size `batch` make at most.
fn calls(running: i64, batch: i64) -> i64 {
    (running + batch - 1) / batch.max(1)
}

/// How many more jobs a tenant may start, and which quota sets that number.
#[derive(Clone, Copy)]
struct TenantRoom {
    left: i64,
    reason: Option<HoldReason>,
}

impl TenantRoom {
    /// The room a tenant running `busy` jobs, with `recent` calls in the last minute, has left.
    fn of(limits: &ClaimLimits, busy: i64, recent: i64) -> Self {
        let mut room = TenantRoom {
            left: i64::MAX,
            reason: None,
        };
        if limits.tenant_concurrency > 0 {
            room = TenantRoom {
                left: limits.tenant_concurrency - busy,
                reason: Some(HoldReason::TenantConcurrency),
            };
        }
        if limits.tenant_calls_per_minute > 0 {
            let left = limits.tenant_calls_per_minute - busy - recent;
            if left < room.left {
                room = TenantRoom {
                    left,
                    reason: Some(HoldReason::TenantCallRate),
                };
            }
        }
        room
    }
}

impl Store {
    /// Claims up to `limit` due jobs for `owner` with a lease until `now + lease_ms`, with no
    /// caps or quotas (oldest due first across every queue).
    ///
    /// A job is due when its time has come, its target is not paused, and no earlier job of the
    /// same (tenant, target, entity) is unfinished.
    pub async fn claim_jobs(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<JobRecord>> {
        let claim = self
            .claim_fair(owner, now, lease_ms, limit, &ClaimLimits::default())
            .await?;
        Ok(claim.jobs)
    }

    /// Claims up to `limit` due jobs for `owner` with a lease until `now + lease_ms`, in rounds
    /// across (tenant, target) queues, within `limits` (see the module documentation).
    pub async fn claim_fair(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
        limit: i64,
        limits: &ClaimLimits,
    ) -> StoreResult<Claim> {
        let mut tx = self.begin_write().await?;
        let claimable = backend::claimable_tenants(&mut tx).await?;
        let running = running_counts(&mut tx).await?;
        let batches = batch_sizes(&mut tx).await?;
        let batch_of = |key: &(String, String)| batches.get(key).copied().unwrap_or(1);
        let mut tenant_running: HashMap<&str, i64> = HashMap::new();
        for (key, n) in &running {
            *tenant_running.entry(key.0.as_str()).or_default() += calls(*n, batch_of(key));
        }

        let mut rooms: HashMap<String, TenantRoom> = HashMap::new();
        let mut queues = Vec::new();
        let mut held_back = Vec::new();
        let mut probes: Vec<(String, String)> = Vec::new();
        for runnable in runnable_targets(&mut tx, now).await? {
            if claimable
                .as_ref()
                .is_some_and(|only| !only.contains(&runnable.tenant))
            {
                continue;
            }
            let availability = availability(&mut tx, &runnable, now).await?;
            let Runnable {
                tenant,
                target,
                max_concurrency: own_cap,
                ..
            } = runnable;
            let tenant_room = match rooms.get(&tenant) {
                Some(room) => *room,
                None => {
                    let busy = tenant_running.get(tenant.as_str()).copied();
                    let busy = busy.unwrap_or_default();
                    let recent = if limits.tenant_calls_per_minute > 0 {
                        recent_calls(&mut tx, &tenant, now).await?
                    } else {
                        0
                    };
                    let room = TenantRoom::of(limits, busy, recent);
                    rooms.insert(tenant.clone(), room);
                    room
                }
            };
            let base = own_cap.unwrap_or(limits.target_concurrency);
            let (cap, probing) = match availability {
                Availability::Probing => (1, true),
                Availability::Recovering(ramp) if base > 0 => (base.min(ramp), false),
                Availability::Recovering(ramp) => (ramp, false),
                Availability::Normal => (base, false),
            };
            let key = (tenant.clone(), target.clone());
            // A probe is one job, even for a target that takes batches.
            let batch = if probing { 1 } else { batch_of(&key) };
            let busy = calls(running.get(&key).copied().unwrap_or_default(), batch);
            let target_room = if cap > 0 { cap - busy } else { i64::MAX };
            let take = target_room.min(tenant_room.left).min(limit);
            if take <= 0 {
                if limit > 0
                    && !ready_heads(&mut tx, &tenant, &target, now, 1)
                        .await?
                        .is_empty()
                {
                    let reason = match tenant_room.reason {
                        Some(reason) if target_room > 0 => reason,
                        _ => HoldReason::TargetConcurrency,
                    };
                    held_back.push(HeldBack {
                        tenant,
                        target,
                        reason,
                    });
                }
                continue;
            }
            // Heads past the tenant's room are offered too, so that the rounds can tell
            // when the tenant's quota (not the queue) ran out.
            let wanted = target_room.min(limit).saturating_mul(batch);
            let heads = ready_heads(&mut tx, &tenant, &target, now, wanted).await?;
            if !heads.is_empty() {
                if probing {
                    probes.push((tenant.clone(), target.clone()));
                }
                queues.push(Queue {
                    tenant,
                    target,
                    heads,
                    batch: usize::try_from(batch).unwrap_or(1),
                });
            }
        }

        let mut load: HashMap<String, i64> = tenant_running
            .into_iter()
            .map(|(tenant, n)| (tenant.to_owned(), n))
            .collect();
        let calls = pick_in_rounds(&queues, &mut rooms, &mut load, limit, &mut held_back);
        let chosen: Vec<i64> = calls.iter().flatten().copied().collect();
        for queue in &queues {
            let probe = probes.contains(&(queue.tenant.clone(), queue.target.clone()));
            if let (true, Some((id, _))) = (probe, queue.heads.first()) {
                if chosen.contains(id) {
                    sqlx::query(
                        "UPDATE targets SET probe_job = $3 WHERE tenant = $1 AND name = $2",
                    )
                    .bind(&queue.tenant)
                    .bind(&queue.target)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        let jobs = if chosen.is_empty() {
            Vec::new()
        } else {
            // The heads are locked since they were read (SQLite: the write transaction;
            // PostgreSQL: their row locks), so they are still pending; by id alone the update is
            // primary-key lookups (a state condition would let SQLite walk every pending row
            // through `jobs_lease`).
            let sql = format!(
                "UPDATE jobs SET state = 'running', lease_owner = $1, lease_until = $2,
                   updated_at = $3
                 WHERE id IN ({})
                 RETURNING {COLUMNS}",
                placeholders(4, chosen.len())
            );
            let mut query = sqlx::query(&sql).bind(owner).bind(now + lease_ms).bind(now);
            for id in &chosen {
                query = query.bind(id);
            }
            let rows = query.fetch_all(&mut *tx).await?;
            rows.iter()
                .map(job_from_row)
                .collect::<StoreResult<Vec<_>>>()?
        };
        tx.commit().await?;
        let mut jobs = jobs;
        jobs.sort_by_key(|job| job.id);
        Ok(Claim {
            jobs,
            calls,
            held_back,
        })
    }
}

/// Picks calls (groups of job ids) in rounds: round `r` offers the `r`-th call of every queue
/// (its `r`-th head, or its `r`-th batch of heads for a batching target), tenants running fewer
/// calls (`load`) first, then oldest due first, to tenants with room left. Tenants whose quota
/// runs out with heads left are held back.
fn pick_in_rounds(
    queues: &[Queue],
    rooms: &mut HashMap<String, TenantRoom>,
    load: &mut HashMap<String, i64>,
    limit: i64,
    held_back: &mut Vec<HeldBack>,
) -> Vec<Vec<i64>> {
    let limit = usize::try_from(limit).unwrap_or_default();
    let mut chosen = Vec::new();
    let mut round = 0;
    while chosen.len() < limit {
        let mut offers: Vec<(i64, i64, i64, &Queue)> = queues
            .iter()
            .filter_map(|queue| {
                let (id, due) = queue.call(round)?[0];
                let busy = load.get(&queue.tenant).copied().unwrap_or_default();
                Some((busy, due, id, queue))
            })
            .collect();
        if offers.is_empty() {
            break;
        }
        offers.sort_by_key(|&(busy, due, id, _)| (busy, due, id));
        for (_, _, _, queue) in offers {
            let call = queue.call(round).unwrap_or_default();
            if chosen.len() == limit {
                break;
            }
            let room = rooms
                .get_mut(&queue.tenant)
                .expect("every queue's tenant has a room");
            if room.left <= 0 {
                let held = HeldBack {
                    tenant: queue.tenant.clone(),
                    target: queue.target.clone(),
                    reason: room.reason.unwrap_or(HoldReason::TenantConcurrency),
                };
                if !held_back.contains(&held) {
                    held_back.push(held);
                }
                continue;
            }
            room.left -= 1;
            *load.entry(queue.tenant.clone()).or_default() += 1;
            chosen.push(call.iter().map(|&(id, _)| id).collect());
        }
        round += 1;
    }
    chosen
}

/// Running jobs by (tenant, target).
async fn running_counts(conn: &mut DbConn) -> StoreResult<HashMap<(String, String), i64>> {
    let rows = sqlx::query(RUNNING_COUNTS).fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            Ok((
                (row.try_get("tenant")?, row.try_get("target")?),
                row.try_get("n")?,
            ))
        })
        .collect()
}

/// Connector calls of `tenant` started in the last minute.
async fn recent_calls(conn: &mut DbConn, tenant: &str, now: i64) -> StoreResult<i64> {
    let row = sqlx::query(RECENT_CALLS)
        .bind(tenant)
        .bind(now - RATE_WINDOW_MS)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get("n")?)
}

/// A target whose jobs may be claimed at some `now`, with what its availability needs.
struct Runnable {
    tenant: String,
    target: String,
    max_concurrency: Option<i64>,
    /// A timed pause that has ended but was not cleared yet.
    pause_ended: bool,
    probing: bool,
    probe_job: Option<i64>,
    /// The state of `probe_job`, if it still exists.
    probe_state: Option<String>,
    recovered_at: Option<i64>,
}

/// What a target's availability does to its concurrency cap.
enum Availability {
    /// The target is probed: one job at a time, until one gets through.
    Probing,
    /// The target recovers: at most this many jobs at once (and at most its cap).
    Recovering(i64),
    /// Its cap, as configured.
    Normal,
}

/// Targets not paused at `now`, in (tenant, name) order.
async fn runnable_targets(conn: &mut DbConn, now: i64) -> StoreResult<Vec<Runnable>> {
    let rows = sqlx::query(
        "SELECT t.tenant, t.name, t.max_concurrency, CAST(t.paused AS INTEGER) AS paused,
           CAST(t.probing AS INTEGER) AS probing, t.probe_job,
           t.recovered_at, (SELECT j.state FROM jobs j WHERE j.id = t.probe_job) AS probe_state
         FROM targets t
         WHERE t.paused = FALSE OR (t.paused_until IS NOT NULL AND t.paused_until <= $1)
         ORDER BY t.tenant, t.name",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Runnable {
                tenant: row.try_get("tenant")?,
                target: row.try_get("name")?,
                max_concurrency: row.try_get("max_concurrency")?,
                pause_ended: super::flag(row, "paused")?,
                probing: super::flag(row, "probing")?,
                probe_job: row.try_get("probe_job")?,
                probe_state: row.try_get("probe_state")?,
                recovered_at: row.try_get("recovered_at")?,
            })
        })
        .collect()
}

/// A runnable target's availability at `now`, moving it along: a timed pause that ended starts
/// probing; a probe that ended without the target being paused again means it recovered (its
/// circuit closes and its concurrency grows from one, see [`policy::recovery_concurrency`]).
async fn availability(conn: &mut DbConn, target: &Runnable, now: i64) -> StoreResult<Availability> {
    let set = |sql: &'static str| {
        sqlx::query(sql)
            .bind(target.tenant.clone())
            .bind(target.target.clone())
            .bind(now)
    };
    if target.pause_ended {
        set(
            "UPDATE targets SET paused = FALSE, paused_until = NULL, probing = TRUE,
               probe_job = NULL, updated_at = $3
             WHERE tenant = $1 AND name = $2",
        )
        .execute(&mut *conn)
        .await?;
        return Ok(Availability::Probing);
    }
    let mut recovered_at = target.recovered_at;
    if target.probing {
        let probe_ended = target.probe_job.is_some()
            && target.probe_state.as_deref() != Some(JobState::Running.as_str());
        if !probe_ended {
            return Ok(Availability::Probing);
        }
        set(
            "UPDATE targets SET probing = FALSE, probe_job = NULL, pause_reason = NULL,
               circuit_opens = 0, recovered_at = $3, updated_at = $3
             WHERE tenant = $1 AND name = $2",
        )
        .execute(&mut *conn)
        .await?;
        tracing::info!(tenant = %target.tenant, target_name = %target.target,
            "a probe got through; the target recovers");
        recovered_at = Some(now);
    }
    Ok(match recovered_at {
        Some(at) => Availability::Recovering(policy::recovery_concurrency(now - at)),
        None => Availability::Normal,
    })
}

/// Up to `limit` claimable jobs of one (tenant, target) queue as (id, due_at), oldest due
/// first: due, pending, and the first unfinished job of their entity.
async fn ready_heads(
    conn: &mut DbConn,
    tenant: &str,
    target: &str,
    now: i64,
    limit: i64,
) -> StoreResult<Vec<(i64, i64)>> {
    let sql = format!("{READY_HEADS}{}", Backend::of_conn(conn).lock_heads());
    let rows = sqlx::query(&sql)
        .bind(tenant)
        .bind(target)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("due_at")?)))
        .collect()
}

/// Running jobs by target; a range of the `jobs_lease` index (running jobs only).
const RUNNING_COUNTS: &str = "SELECT tenant, target, COUNT(*) AS n FROM jobs
     WHERE state = 'running' GROUP BY tenant, target";

/// One tenant's calls of the last minute; a range of the `attempts_recent` index.
const RECENT_CALLS: &str =
    "SELECT COUNT(*) AS n FROM attempts WHERE tenant = $1 AND started_at > $2";

/// The claimable heads of one queue: a range of the `jobs_ready` index (pending jobs not blocked
/// behind an earlier one of their entity), each checked with one seek of `jobs_open`.
const READY_HEADS: &str = "SELECT j.id, j.due_at FROM jobs j
     WHERE j.tenant = $1 AND j.target = $2 AND j.state = 'pending' AND j.blocked = FALSE
       AND j.due_at <= $3
       AND NOT EXISTS (
         SELECT 1 FROM jobs e
         WHERE e.tenant = j.tenant AND e.target = j.target
           AND e.entity_kind = j.entity_kind AND e.entity_id = j.entity_id
           AND e.id < j.id AND e.state IN ('pending', 'running'))
     ORDER BY j.due_at, j.id
     LIMIT $4";

#[cfg(test)]
mod tests {
    use super::*;

    use crate::store::query_plan as plan;

    #[tokio::test]
    async fn every_claim_query_seeks_an_index_instead_of_scanning_the_jobs() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("plan.db").display());
        let store = Store::open(&url).await.unwrap();

        // The heads come from the ready jobs only (not those blocked behind their entity), and
        // the ordering check seeks the unfinished jobs only (not the entity's history).
        let heads = plan(&store, READY_HEADS, 4).await;
        assert!(heads.contains("SEARCH j USING INDEX jobs_ready"), "{heads}");
        assert!(heads.contains("INDEX jobs_open"), "{heads}");
        assert!(!heads.contains("SCAN"), "{heads}");
        assert!(!heads.contains("TEMP B-TREE"), "no sort: {heads}");

        // The idle dispatcher's questions: per target, one seek into the unfinished jobs.
        let outstanding = plan(&store, super::super::jobs::HAS_OUTSTANDING, 0).await;
        assert!(!outstanding.contains("SCAN j"), "{outstanding}");
        assert!(outstanding.contains("SEARCH j USING"), "{outstanding}");
        let next_due = plan(&store, super::super::jobs::NEXT_DUE, 0).await;
        assert!(next_due.contains("INDEX jobs_ready"), "{next_due}");
        assert!(!next_due.contains("SCAN j"), "{next_due}");

        let running = plan(&store, RUNNING_COUNTS, 0).await;
        assert!(
            running.contains("SEARCH jobs USING INDEX jobs_lease (state=?)"),
            "{running}"
        );

        let recent = plan(&store, RECENT_CALLS, 2).await;
        assert!(
            recent.contains("SEARCH attempts USING COVERING INDEX attempts_recent"),
            "{recent}"
        );

        let update = format!(
            "UPDATE jobs SET state = 'running' WHERE id IN ({})",
            placeholders(1, 16)
        );
        let update = plan(&store, &update, 16).await;
        assert!(update.contains("INTEGER PRIMARY KEY"), "{update}");
        assert!(!update.contains("SCAN"), "{update}");
    }
}
