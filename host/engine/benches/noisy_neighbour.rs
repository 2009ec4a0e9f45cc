//! Noisy neighbour: tenant B's provisioning latency while tenant A's target never answers.
//!
//! `cargo bench -p provisioner-engine --bench noisy_neighbour`
//!
//! One dispatcher (16 workers, the default limits) over a SQLite store in a temporary directory.
//! Tenant B provisions one user at a time against an in-memory target that answers at once; the
//! latency is from committing the change to the job being done. Measured three times:
//! 1. quiet: nothing else queued;
//! 2. loaded: tenant A has `NOISY_BENCH_BACKLOG` (default 400) jobs queued for a target whose
//!    calls wait until released (a target that just hangs), holding its share of the workers;
//! 3. the same load with the caps and quotas off (`target_max_concurrency = 0`, tenant quota =
//!    every worker), which is how the dispatcher behaved before: each B provisioning is given
//!    up after `NOISY_BENCH_GIVE_UP_MS` (default 2,000 ms) and counted as timed out.
//!
//! `NOISY_BENCH_SAMPLES` (default 200) sets B's provisionings per phase.

#[path = "../tests/engine_support/mod.rs"]
#[allow(missing_docs)]
mod engine_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use engine_support::*;
use provisioner_engine::store::JobState;
use provisioner_engine::{DispatcherConfig, Engine, TargetConnector};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Latency figures of one phase.
struct Phase {
    p50_ms: f64,
    p99_ms: f64,
    timed_out: usize,
}

/// Provisions `samples` users of tenant B one at a time; returns the latency percentiles of the
/// ones that finished within `give_up`.
async fn measure(engine: &Engine, phase: &str, samples: usize, give_up: Duration) -> Phase {
    let mut latencies = Vec::with_capacity(samples);
    let mut timed_out = 0;
    for i in 0..samples {
        let started = Instant::now();
        let ids = create_in(engine, "quiet", user(&format!("{phase}-{i}"), "L", &[])).await;
        let outcome = engine.wait_for_jobs(&ids, give_up).await.unwrap();
        if outcome.iter().all(|o| o.state == JobState::Done) {
            latencies.push(started.elapsed().as_secs_f64() * 1_000.0);
        } else {
            timed_out += 1;
        }
    }
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        if latencies.is_empty() {
            f64::NAN
        } else {
            latencies[((latencies.len() - 1) as f64 * q).round() as usize]
        }
    };
    Phase {
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        timed_out,
    }
}

/// Runs the three phases with `config`'s limits: quiet, then with A's hanging backlog.
async fn run(
    config: DispatcherConfig,
    samples: usize,
    backlog: usize,
    give_up: Duration,
) -> (Phase, Phase) {
    let (store, _dir) = store().await;
    add_target_for(&store, "noisy", "slow", fast_settings()).await;
    add_target_for(&store, "quiet", "fast", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let gate = GateTarget::closed();
    let source = FakeSource::of(vec![
        ("slow", gate.clone() as Arc<dyn TargetConnector>),
        ("fast", FakeTarget::new(true) as Arc<dyn TargetConnector>),
    ]);
    let workers = config.workers;
    let share = match config.claim_limits() {
        limits if limits.target_concurrency > 0 => limits.target_concurrency as usize,
        limits => (limits.tenant_concurrency as usize).min(workers),
    };
    let (stop, running) = start(provisioner_engine::Dispatcher::new(&engine, source, config));

    let quiet = measure(&engine, "quiet", samples, give_up).await;
    for i in 0..backlog {
        create_in(&engine, "noisy", user(&format!("a{i}"), "L", &[])).await;
    }
    gate.wait_for_in_flight(share).await;
    let loaded = measure(&engine, "loaded", samples, give_up).await;
    assert!(gate.max_in_flight() <= share);

    gate.open();
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    (quiet, loaded)
}

fn main() {
    let samples = env_usize("NOISY_BENCH_SAMPLES", 200);
    let backlog = env_usize("NOISY_BENCH_BACKLOG", 400);
    let give_up = Duration::from_millis(env_usize("NOISY_BENCH_GIVE_UP_MS", 2_000) as u64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = DispatcherConfig {
        workers: 16,
        poll_ms: 250,
        ..DispatcherConfig::default()
    };
    let unlimited = DispatcherConfig {
        target_max_concurrency: 0,
        tenant_max_concurrency: 16,
        ..base.clone()
    };
    let (quiet, fair) = runtime.block_on(run(base, samples, backlog, give_up));
    let (_, unfair) = runtime.block_on(run(unlimited, samples.min(5), backlog, give_up));

    println!(
        "noisy neighbour: tenant B provisioning latency, {samples} sequential users per phase"
    );
    println!("  tenant A: {backlog} jobs for a target that never answers until released");
    println!("  phase                                   p50 ms    p99 ms   timed out");
    let ms = |v: f64| {
        if v.is_nan() {
            "-".to_owned()
        } else {
            format!("{v:.2}")
        }
    };
    let row = |name: &str, p: &Phase, n: usize| {
        println!(
            "  {name:<38} {:>7}   {:>7}   {}/{n}",
            ms(p.p50_ms),
            ms(p.p99_ms),
            p.timed_out
        );
    };
    row("quiet", &quiet, samples);
    row("A saturating, default caps and quotas", &fair, samples);
    row("A saturating, caps and quotas off", &unfair, samples.min(5));
    println!(
        "  loaded / quiet: p50 {:.2}x, p99 {:.2}x (target: p99 within 2x)",
        fair.p50_ms / quiet.p50_ms,
        fair.p99_ms / quiet.p99_ms
    );
}
