//! The dispatcher: claims due jobs and runs them on tokio workers.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::store::{now_ms, JobState, StoreResult};

use super::connector::ConnectorSource;
use super::execute::{run_job, Context, RunEnd};
use super::Engine;

/// How a dispatcher runs.
#[derive(Clone, Debug)]
pub struct DispatcherConfig {
    /// Jobs run concurrently at most.
    pub workers: usize,
    /// How long a claim lasts without renewal, in milliseconds. A process that dies holding
    /// jobs releases them after this long.
    pub lease_ms: i64,
    /// Longest wait between looks at the queue when idle, in milliseconds (other processes
    /// may queue work without waking this one).
    pub poll_ms: u64,
    /// Outer limit on one connector call.
    pub call_timeout: Duration,
    /// Identifies this dispatcher's leases; unique per process.
    pub owner: String,
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            workers: 16,
            lease_ms: 30_000,
            poll_ms: 250,
            call_timeout: Duration::from_secs(120),
            owner: format!("{}-{}", std::process::id(), rand::random::<u32>()),
        }
    }
}

/// What a dispatcher run did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchStats {
    /// Jobs claimed.
    pub claimed: u64,
    /// Jobs that ended done.
    pub done: u64,
    /// Jobs that ended as dead letters.
    pub dead: u64,
    /// Jobs that ended superseded.
    pub superseded: u64,
    /// Runs that put their job back in the queue (retry or pause).
    pub requeued: u64,
    /// Runs that failed on the store; their jobs return after the lease expires.
    pub errors: u64,
    /// Running jobs recovered from expired leases.
    pub recovered: u64,
}

/// Claims and runs outbox jobs.
pub struct Dispatcher {
    ctx: Arc<Context>,
    config: DispatcherConfig,
    in_flight: Arc<Mutex<HashSet<i64>>>,
}

impl Dispatcher {
    /// A dispatcher for `engine`'s store that reaches targets through `connectors`.
    pub fn new(
        engine: &Engine,
        connectors: Arc<dyn ConnectorSource>,
        config: DispatcherConfig,
    ) -> Self {
        let ctx = Context {
            store: engine.store().clone(),
            signals: engine.signals().clone(),
            connectors,
            owner: config.owner.clone(),
            call_timeout: config.call_timeout,
        };
        Self {
            ctx: Arc::new(ctx),
            config,
            in_flight: Arc::default(),
        }
    }

    /// Runs until no job is left that can run without an operator (jobs of targets paused
    /// until resumed are left), then returns. Waits out backoffs and timed pauses.
    pub async fn run_until_idle(&self) -> StoreResult<DispatchStats> {
        self.drive(true, std::future::pending()).await
    }

    /// Runs until `shutdown` completes, then lets the jobs in flight finish and returns.
    pub async fn run(&self, shutdown: impl Future<Output = ()>) -> StoreResult<DispatchStats> {
        self.drive(false, shutdown).await
    }

    async fn drive(
        &self,
        until_idle: bool,
        shutdown: impl Future<Output = ()>,
    ) -> StoreResult<DispatchStats> {
        let store = &self.ctx.store;
        let mut stats = DispatchStats {
            recovered: store.recover_expired_leases(now_ms()).await?,
            ..DispatchStats::default()
        };
        let workers = self.config.workers.max(1);
        let maintenance_every = Duration::from_millis((self.config.lease_ms / 3).max(10) as u64);
        let mut maintenance = tokio::time::interval(maintenance_every);
        maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tasks: JoinSet<(i64, StoreResult<RunEnd>)> = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let new_work = self.ctx.signals.new_work.notified();
            tokio::pin!(new_work);
            new_work.as_mut().enable();

            let free = workers - tasks.len();
            let mut claimed = 0;
            if free > 0 {
                let jobs = store
                    .claim_jobs(
                        &self.config.owner,
                        now_ms(),
                        self.config.lease_ms,
                        free as i64,
                    )
                    .await?;
                claimed = jobs.len();
                stats.claimed += claimed as u64;
                for job in jobs {
                    self.in_flight.lock().expect("lock").insert(job.id);
                    let ctx = self.ctx.clone();
                    tasks.spawn(async move {
                        let id = job.id;
                        (id, run_job(&ctx, job).await)
                    });
                }
            }
            let saturated = claimed == free && claimed > 0;
            let mut sleep_ms = self.config.poll_ms;
            if tasks.is_empty() {
                store.resume_expired_pauses(now_ms()).await?;
                if until_idle && store.outstanding_jobs().await? == 0 {
                    break;
                }
                if let Some(due) = store.next_due_at().await? {
                    sleep_ms = sleep_ms.min((due - now_ms()).clamp(1, i64::MAX) as u64);
                }
            }
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                    self.account(joined, &mut stats);
                }
                _ = maintenance.tick() => {
                    self.maintain(&mut stats).await?;
                }
                _ = &mut new_work, if !saturated => {}
                _ = tokio::time::sleep(Duration::from_millis(sleep_ms)), if !saturated => {}
            }
        }
        while let Some(joined) = tasks.join_next().await {
            self.account(joined, &mut stats);
        }
        Ok(stats)
    }

    fn account(
        &self,
        joined: Result<(i64, StoreResult<RunEnd>), tokio::task::JoinError>,
        stats: &mut DispatchStats,
    ) {
        match joined {
            Ok((id, result)) => {
                self.in_flight.lock().expect("lock").remove(&id);
                match result {
                    Ok(RunEnd::Finished(JobState::Done)) => stats.done += 1,
                    Ok(RunEnd::Finished(JobState::Dead)) => stats.dead += 1,
                    Ok(RunEnd::Finished(_)) => stats.superseded += 1,
                    Ok(RunEnd::Requeued) => stats.requeued += 1,
                    Ok(RunEnd::LeaseLost) => {
                        tracing::warn!(job = id, "lease lost while running; result discarded")
                    }
                    Err(error) => {
                        stats.errors += 1;
                        tracing::error!(job = id, %error, "job run failed on the store; it returns after its lease expires");
                    }
                }
            }
            Err(error) => {
                stats.errors += 1;
                tracing::error!(%error, "job task panicked; its job returns after its lease expires");
            }
        }
    }

    /// Renews the leases of jobs in flight, recovers expired ones and ends timed pauses.
    async fn maintain(&self, stats: &mut DispatchStats) -> StoreResult<()> {
        let store = &self.ctx.store;
        let now = now_ms();
        let ids: Vec<i64> = self
            .in_flight
            .lock()
            .expect("lock")
            .iter()
            .copied()
            .collect();
        if !ids.is_empty() {
            store
                .renew_job_leases(&self.config.owner, &ids, now + self.config.lease_ms)
                .await?;
        }
        stats.recovered += store.recover_expired_leases(now).await?;
        store.resume_expired_pauses(now).await?;
        Ok(())
    }
}
