//! Batch dispatch: how fast a backlog of creates drains when the target takes one change per
//! call, and when it takes a batch of them.
//!
//! `cargo bench -p provisioner-engine --bench batch_dispatch`
//!
//! One dispatcher (the default configuration: 16 workers, 4 calls in flight per target) over a
//! SQLite store in a temporary directory. `BATCH_BENCH_JOBS` (default 20,000) user creates are
//! queued for one target whose connector answers every call (one change or a batch) after
//! `BATCH_BENCH_LATENCY_MS` (default 1 ms). The dispatch is timed from the start of the
//! dispatcher to the last job done, once per batch size (`BATCH_BENCH_SIZES`, default `1,200`),
//! each on a fresh store; the table gives jobs per second and the connector calls made.

#[path = "../tests/engine_support/mod.rs"]
#[allow(missing_docs)]
mod engine_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use engine_support::*;
use futures::future::BoxFuture;
use provisioner_contract::{Change, LookupKey, ProvisionOutcome, RemoteObject};
use provisioner_engine::store::{JobState, OutboundSettings};
use provisioner_engine::{
    CallResult, DispatcherConfig, Engine, TargetConnector, UserChange, UserState,
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A target that answers every call after a fixed latency, counting calls and changes.
struct LatencyTarget {
    size: usize,
    latency: Duration,
    calls: AtomicUsize,
    changes: AtomicUsize,
}

impl LatencyTarget {
    fn outcome(&self, change: &Change) -> CallResult<ProvisionOutcome> {
        self.changes.fetch_add(1, Ordering::Relaxed);
        Ok(ProvisionOutcome {
            remote_id: Some(format!("R-{}", change.entity.name())),
            warnings: vec![],
        })
    }
}

impl TargetConnector for LatencyTarget {
    fn provision(&self, change: Change) -> BoxFuture<'_, CallResult<ProvisionOutcome>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(self.latency).await;
            self.outcome(&change)
        })
    }

    fn lookup(&self, _key: LookupKey) -> BoxFuture<'_, CallResult<Option<RemoteObject>>> {
        Box::pin(async { Ok(None) })
    }

    fn batch_size(&self) -> usize {
        self.size
    }

    fn provision_batch(
        &self,
        changes: Vec<Change>,
    ) -> BoxFuture<'_, CallResult<Vec<CallResult<ProvisionOutcome>>>> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(self.latency).await;
            Ok(changes.iter().map(|change| self.outcome(change)).collect())
        })
    }
}

/// What one batch size measured.
struct Measured {
    seconds: f64,
    calls: usize,
    changes: usize,
    done: usize,
}

async fn measure(jobs: usize, size: usize, latency: Duration) -> Measured {
    let (store, _dir) = store().await;
    add_target(&store, "bench", OutboundSettings::default()).await;
    let engine = Engine::new(store.clone());
    for i in 0..jobs {
        let state = UserState {
            id: format!("u{i:06}"),
            user_name: format!("u{i:06}@example.com"),
            ..UserState::default()
        };
        engine
            .apply_user_change(TENANT, UserChange::Create(state))
            .await
            .expect("queue a create");
    }
    let target = Arc::new(LatencyTarget {
        size,
        latency,
        calls: AtomicUsize::new(0),
        changes: AtomicUsize::new(0),
    });
    let source = FakeSource::of(vec![("bench", target.clone() as Arc<dyn TargetConnector>)]);
    let dispatcher =
        provisioner_engine::Dispatcher::new(&engine, source, DispatcherConfig::default());
    let started = Instant::now();
    let stats = dispatcher.run_until_idle().await.expect("dispatch");
    let seconds = started.elapsed().as_secs_f64();
    let done = store
        .count_jobs(None)
        .await
        .expect("count jobs")
        .into_iter()
        .filter(|(state, _)| *state == JobState::Done)
        .map(|(_, n)| n as usize)
        .sum();
    assert_eq!(stats.errors, 0, "{stats:?}");
    Measured {
        seconds,
        calls: target.calls.load(Ordering::Relaxed),
        changes: target.changes.load(Ordering::Relaxed),
        done,
    }
}

fn main() {
    let jobs = env_usize("BATCH_BENCH_JOBS", 20_000);
    let latency = Duration::from_millis(env_usize("BATCH_BENCH_LATENCY_MS", 1) as u64);
    let sizes: Vec<usize> = std::env::var("BATCH_BENCH_SIZES")
        .unwrap_or_else(|_| "1,200".into())
        .split(',')
        .filter_map(|size| size.trim().parse().ok())
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "batch dispatch: {jobs} creates, one target, {} ms per call, default dispatcher",
        latency.as_millis()
    );
    println!("  batch size    seconds     jobs/s      calls   changes      done");
    for size in sizes {
        let measured = runtime.block_on(measure(jobs, size, latency));
        println!(
            "  {size:>10} {:>10.2} {:>10.0} {:>10} {:>9} {:>9}",
            measured.seconds,
            measured.done as f64 / measured.seconds,
            measured.calls,
            measured.changes,
            measured.done
        );
    }
}
