//! Scheduled reconciliation: targets with `reconcile_every_minutes` are reconciled by the
//! server that often, with their own policy (report or repair).
//!
//! Every [`CHECK_EVERY`] (in the server) the task asks the store which targets are due (their last run started
//! at least the interval ago, or they never ran) and reconciles them one after another. Replicas
//! sharing a database may both find a target due; the store lets one run per target at a time,
//! and the other is told so and skips it. A run under way when the server stops is finished.

use std::time::Duration;

use tokio::sync::watch;

use provisioner_engine::store::now_ms;
use provisioner_engine::{Engine, EngineError, ReconcileOptions};

use crate::Registry;

/// How often the schedule is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(30);

/// Reconciles due targets, checking every `check_every` (the server's is [`CHECK_EVERY`]),
/// until `stopped` turns true.
pub async fn run(
    engine: Engine,
    registry: Registry,
    mut stopped: watch::Receiver<bool>,
    check_every: Duration,
) {
    loop {
        match engine.store().reconciliations_due(now_ms()).await {
            Ok(due) => {
                for (tenant, target) in due {
                    if *stopped.borrow() {
                        return;
                    }
                    reconcile(&engine, &registry, &tenant, &target).await;
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot read which targets are due for reconciliation")
            }
        }
        let stop = stopped.wait_for(|s| *s);
        if tokio::time::timeout(check_every, stop).await.is_ok() {
            return;
        }
    }
}

async fn reconcile(engine: &Engine, registry: &Registry, tenant: &str, target: &str) {
    match engine
        .reconcile(registry, tenant, target, ReconcileOptions::default())
        .await
    {
        Ok(report) => tracing::info!(
            tenant,
            target_name = target,
            run = report.run.id,
            state = report.run.state.as_str(),
            drift = report.run.drift_count,
            error = report.run.error.as_deref().unwrap_or_default(),
            "scheduled reconciliation ended"
        ),
        Err(EngineError::Conflict(message)) => {
            tracing::debug!(tenant, target_name = target, %message, "scheduled reconciliation skipped")
        }
        Err(error) => tracing::warn!(
            tenant,
            target_name = target,
            %error,
            "scheduled reconciliation failed"
        ),
    }
}
