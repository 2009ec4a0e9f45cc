//! The queue at scale: claim and idle-poll latency with 100 / 100k / 1M pending jobs.
//!
//! `cargo bench -p provisioner-engine --bench queue_scale`
//!
//! Each layout gets a fresh SQLite store in a temporary directory, filled with one
//! `INSERT ... SELECT` per 100,000 rows. Then, at a fixed `now`:
//! - claim: one [`Store::claim_fair`] of up to 16 jobs (no caps), the claimed jobs put back
//!   (untimed) so that every sample sees the same queue;
//! - idle poll: what an idle dispatcher asks the store between claims (expired pauses, whether
//!   any job is outstanding, when the next job is due).
//!
//! Layouts: `one target` (one job per user), `100 targets` (spread evenly), `paused` (one target,
//! paused until an operator resumes it), `not yet due` (every job due in an hour), `blocked`
//! (ten jobs per user, each user's first one running: every pending job waits behind it), and
//! `history` (the pending count as finished jobs, plus 100 pending ones).
//!
//! `QUEUE_BENCH_SIZES` (default `100,100000,1000000`) and `QUEUE_BENCH_SAMPLES` (default 15)
//! change the sizes and the samples per cell (the median is printed).

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use provisioner_engine::store::{ClaimLimits, Store};
use support::{env_list, insert, median, spec, NOW};

/// One way of filling the queue.
#[derive(Clone, Copy, Debug)]
enum Layout {
    OneTarget,
    ManyTargets,
    Paused,
    NotYetDue,
    Blocked,
    History,
}

impl Layout {
    const ALL: [Layout; 6] = [
        Layout::OneTarget,
        Layout::ManyTargets,
        Layout::Paused,
        Layout::NotYetDue,
        Layout::Blocked,
        Layout::History,
    ];

    fn name(self) -> &'static str {
        match self {
            Layout::OneTarget => "one target",
            Layout::ManyTargets => "100 targets",
            Layout::Paused => "paused",
            Layout::NotYetDue => "not yet due",
            Layout::Blocked => "blocked",
            Layout::History => "history",
        }
    }

    fn targets(self) -> usize {
        match self {
            Layout::ManyTargets => 100,
            _ => 1,
        }
    }
}

/// A store holding `pending` pending jobs laid out as `layout`.
async fn fill(layout: Layout, pending: usize) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("queue.db").display());
    let store = Store::open(&url).await.unwrap();
    for t in 0..layout.targets() {
        store
            .put_target(&spec(&format!("target-{t}")))
            .await
            .unwrap();
    }
    let targets = layout.targets();
    match layout {
        Layout::OneTarget | Layout::ManyTargets | Layout::Paused => {
            insert(&store, 0, pending, targets, 1, "pending", NOW - 1_000).await;
        }
        Layout::NotYetDue => {
            insert(&store, 0, pending, targets, 1, "pending", NOW + 3_600_000).await;
        }
        Layout::Blocked => {
            // Users of ten jobs each: the first job of every user runs (under another owner's
            // live lease), the other nine wait behind it.
            let users = pending.div_ceil(9);
            insert(&store, 0, users, 1, 1, "running", NOW - 1_000).await;
            let mut n = 0;
            while n < pending {
                let batch = users.min(pending - n);
                insert(&store, 0, batch, 1, 1, "pending", NOW - 1_000).await;
                n += batch;
            }
        }
        Layout::History => {
            insert(&store, 0, pending, targets, 1, "done", NOW - 1_000).await;
            insert(&store, 0, 100, targets, 1, "pending", NOW - 1_000).await;
        }
    }
    if let Layout::Paused = layout {
        store
            .pause_target("t", "target-0", "bench", None)
            .await
            .unwrap();
    }
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    (store, dir)
}

/// Median claim and idle-poll milliseconds, and how many jobs a claim handed out.
async fn measure(store: &Store, samples: usize) -> (f64, f64, usize) {
    let limits = ClaimLimits::default();
    let mut claims = Vec::with_capacity(samples);
    let mut claimed = 0;
    for _ in 0..samples {
        let started = Instant::now();
        let claim = store
            .claim_fair("bench", NOW, 30_000, 16, &limits)
            .await
            .unwrap();
        claims.push(started.elapsed().as_secs_f64() * 1_000.0);
        claimed = claim.jobs.len();
        sqlx::query(
            "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_until = NULL
             WHERE state = 'running' AND lease_owner = 'bench'",
        )
        .execute(store.pool())
        .await
        .unwrap();
    }
    let mut polls = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        store.resume_expired_pauses(NOW).await.unwrap();
        std::hint::black_box(store.has_outstanding_jobs().await.unwrap());
        std::hint::black_box(store.next_due_at().await.unwrap());
        polls.push(started.elapsed().as_secs_f64() * 1_000.0);
    }
    (median(claims), median(polls), claimed)
}

fn main() {
    let sizes = env_list("QUEUE_BENCH_SIZES", &[100, 100_000, 1_000_000]);
    let samples = env_list("QUEUE_BENCH_SAMPLES", &[15])[0].max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!("queue at scale: median of {samples} samples per cell, SQLite, claims of up to 16");
    println!(
        "  {:<12} {:>10} {:>10} {:>13} {:>9} {:>9}",
        "layout", "pending", "claim ms", "idle poll ms", "claimed", "fill s"
    );
    for layout in Layout::ALL {
        for &pending in &sizes {
            let filled = Instant::now();
            let (store, _dir) = runtime.block_on(fill(layout, pending));
            let fill_s = filled.elapsed().as_secs_f64();
            let (claim, poll, claimed) = runtime.block_on(measure(&store, samples));
            println!(
                "  {:<12} {:>10} {:>10.3} {:>13.3} {:>9} {:>9.1}",
                layout.name(),
                pending,
                claim,
                poll,
                claimed,
                fill_s
            );
            runtime.block_on(store.close());
        }
    }
}
