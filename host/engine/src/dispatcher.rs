//! The dispatcher: claims due jobs fairly and runs them on tokio workers.
//!
//! Claims rotate across (tenant, target) queues and respect a per-target concurrency cap and
//! per-tenant quotas (see [`crate::store::ClaimLimits`]), so one tenant's backlog or one slow
//! target holds at most its share of the workers while other tenants' jobs keep flowing.
//!
//! A worker runs one connector call's jobs: one job, or for a target with a batch size above 1
//! up to that many of its jobs at once, whose changes go out in one `provision-batch` call (see
//! [`crate::batch`]). Caps and quotas count calls.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use crate::clock::Clock;
use crate::policy::RateLimitPolicy;
use crate::store::{ClaimLimits, HeldBack, HoldReason, JobState, StoreResult};

use super::batch::{self, BatchSizes};
use super::connector::ConnectorSource;
use super::execute::{Context, RunEnd};
use super::observe::{NoObserver, Observer};
use super::Engine;

/// How a dispatcher runs.
#[derive(Clone, Debug)]
pub struct DispatcherConfig {
    /// Connector calls (one job, or a batch of one target's jobs) run concurrently at most.
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
    /// Calls to one target that run at once at most (across every process sharing the
    /// database), for targets without a `max_concurrency` of their own; 0 means no cap.
    pub target_max_concurrency: usize,
    /// Calls of one tenant that run at once at most; 0 means half the workers (at least one).
    pub tenant_max_concurrency: usize,
    /// Connector calls one tenant may start per minute; 0 means no quota.
    pub tenant_calls_per_minute: u32,
    /// How far connectors' rate-limit hints are trusted.
    pub rate_limits: RateLimitPolicy,
    /// What "now" is for claims, due times and pauses: the system clock, or a clock a test
    /// moves forward to let an outage pass.
    pub clock: Clock,
}

impl DispatcherConfig {
    /// The limits each claim respects.
    pub fn claim_limits(&self) -> ClaimLimits {
        let workers = self.workers.max(1);
        let tenant = match self.tenant_max_concurrency {
            0 => workers.div_ceil(2),
            n => n,
        };
        ClaimLimits {
            target_concurrency: self.target_max_concurrency as i64,
            tenant_concurrency: tenant as i64,
            tenant_calls_per_minute: i64::from(self.tenant_calls_per_minute),
        }
    }
}

impl Default for DispatcherConfig {
    fn default() -> Self {
        Self {
            workers: 16,
            lease_ms: 30_000,
            poll_ms: 250,
            call_timeout: Duration::from_secs(120),
            owner: format!("{}-{}", std::process::id(), rand::random::<u32>()),
            target_max_concurrency: 4,
            tenant_max_concurrency: 0,
            tenant_calls_per_minute: 0,
            rate_limits: RateLimitPolicy::default(),
            clock: Clock::system(),
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
    /// Claims in which a target at its concurrency cap had ready jobs left waiting (counted
    /// once per target and claim).
    #[serde(default)]
    pub held_by_target_cap: u64,
    /// Claims in which a tenant quota (concurrency or call rate) held a target's ready jobs
    /// back (counted once per target and claim).
    #[serde(default)]
    pub held_by_tenant_quota: u64,
}

/// Claims and runs outbox jobs.
pub struct Dispatcher {
    ctx: Arc<Context>,
    batch_sizes: Arc<BatchSizes>,
    config: DispatcherConfig,
    limits: ClaimLimits,
    in_flight: Arc<Mutex<HashSet<i64>>>,
    held: Mutex<HashSet<HeldBack>>,
}

impl Dispatcher {
    /// A dispatcher for `engine`'s store that reaches targets through `connectors`.
    pub fn new(
        engine: &Engine,
        connectors: Arc<dyn ConnectorSource>,
        config: DispatcherConfig,
    ) -> Self {
        Self::with_observer(engine, connectors, config, Arc::new(NoObserver))
    }

    /// [`Dispatcher::new`], telling `observer` of every call, finished job and held-back
    /// target (see [`crate::observe`]).
    pub fn with_observer(
        engine: &Engine,
        connectors: Arc<dyn ConnectorSource>,
        config: DispatcherConfig,
        observer: Arc<dyn Observer>,
    ) -> Self {
        let batch_sizes = Arc::new(BatchSizes::new(connectors, engine.store().clone()));
        let ctx = Context {
            store: engine.store().clone(),
            signals: engine.signals().clone(),
            connectors: batch_sizes.clone(),
            owner: config.owner.clone(),
            call_timeout: config.call_timeout,
            rate_limits: config.rate_limits,
            clock: config.clock.clone(),
            observer,
        };
        Self {
            ctx: Arc::new(ctx),
            batch_sizes,
            limits: config.claim_limits(),
            config,
            in_flight: Arc::default(),
            held: Mutex::default(),
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
        let now = || self.config.clock.now();
        let mut stats = DispatchStats {
            recovered: store.recover_expired_leases(now()).await?,
            ..DispatchStats::default()
        };
        self.batch_sizes.learn().await?;
        let workers = self.config.workers.max(1);
        let maintenance_every = Duration::from_millis((self.config.lease_ms / 3).max(10) as u64);
        let mut maintenance = tokio::time::interval(maintenance_every);
        maintenance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // One task per connector call: a job alone, or a batch of jobs of one target.
        let mut tasks: JoinSet<Vec<(i64, StoreResult<RunEnd>)>> = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            let new_work = self.ctx.signals.new_work.notified();
            tokio::pin!(new_work);
            new_work.as_mut().enable();

            let free = workers - tasks.len();
            let mut claimed = 0;
            if free > 0 {
                let claim = store
                    .claim_fair(
                        &self.config.owner,
                        now(),
                        self.config.lease_ms,
                        free as i64,
                        &self.limits,
                    )
                    .await?;
                self.note_held_back(claim.held_back, &mut stats);
                stats.claimed += claim.jobs.len() as u64;
                let calls = batch::calls_of(claim.jobs, &claim.calls);
                claimed = calls.len();
                for jobs in calls {
                    let mut in_flight = self.in_flight.lock().expect("lock");
                    in_flight.extend(jobs.iter().map(|job| job.id));
                    drop(in_flight);
                    let ctx = self.ctx.clone();
                    tasks.spawn(async move { batch::run_call(&ctx, jobs).await });
                }
            }
            let saturated = claimed == free && claimed > 0;
            let mut sleep_ms = self.config.poll_ms;
            if tasks.is_empty() {
                store.resume_expired_pauses(now()).await?;
                if until_idle && !store.has_outstanding_jobs().await? {
                    break;
                }
                // Jobs already due but held back (a cap, a quota, another process's claim)
                // wait for the next poll rather than a busy loop.
                if let Some(due) = store.next_due_at().await? {
                    let wait = due - now();
                    if wait > 0 {
                        sleep_ms = sleep_ms.min(wait as u64);
                    }
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

    /// Counts what limits held back and logs each target when it starts and stops being held.
    fn note_held_back(&self, held_back: Vec<HeldBack>, stats: &mut DispatchStats) {
        let now: HashSet<HeldBack> = held_back.into_iter().collect();
        for held in &now {
            self.ctx
                .observer
                .held_back(&held.tenant, &held.target, held.reason);
            match held.reason {
                HoldReason::TargetConcurrency => stats.held_by_target_cap += 1,
                HoldReason::TenantConcurrency | HoldReason::TenantCallRate => {
                    stats.held_by_tenant_quota += 1
                }
            }
        }
        let mut before = self.held.lock().expect("lock");
        for held in now.difference(&before) {
            tracing::info!(tenant = %held.tenant, target_name = %held.target,
                reason = held.reason.as_str(), "ready jobs held back by a limit");
        }
        for held in before.difference(&now) {
            tracing::debug!(tenant = %held.tenant, target_name = %held.target,
                reason = held.reason.as_str(), "no longer held back");
        }
        *before = now;
    }

    fn account(
        &self,
        joined: Result<Vec<(i64, StoreResult<RunEnd>)>, tokio::task::JoinError>,
        stats: &mut DispatchStats,
    ) {
        match joined {
            Ok(ended) => {
                for (id, result) in ended {
                    self.account_job(id, result, stats);
                }
            }
            Err(error) => {
                stats.errors += 1;
                tracing::error!(%error, "job task panicked; its jobs return after their lease expires");
            }
        }
    }

    fn account_job(&self, id: i64, result: StoreResult<RunEnd>, stats: &mut DispatchStats) {
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

    /// Renews the leases of jobs in flight, recovers expired ones and ends timed pauses.
    async fn maintain(&self, stats: &mut DispatchStats) -> StoreResult<()> {
        let store = &self.ctx.store;
        let now = self.config.clock.now();
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
