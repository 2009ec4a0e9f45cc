//! What a metrics scrape costs the store: [`Store::queue_gauges`] (open jobs by target and
//! state, dead letters, each target's oldest ready job) with a growing history of finished jobs,
//! a growing backlog, and growing dead letters.
//!
//! `cargo bench -p provisioner-engine --bench queue_gauges`
//!
//! Each layout gets a fresh SQLite store (10 targets) filled with one `INSERT ... SELECT` per
//! 100,000 rows:
//! - `history`: N finished (`done`) jobs plus 100 pending ones: the scrape must not grow with N;
//! - `backlog`: N pending jobs: the scrape reads the open-job index, so it grows with N;
//! - `dead`: N dead letters plus 100 pending jobs: it grows with N (dead letters are counted).
//!
//! `GAUGE_BENCH_SIZES` (default `1000,100000,1000000`) and `GAUGE_BENCH_SAMPLES` (default 15)
//! change the sizes and the samples per cell (the median is printed).

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use provisioner_engine::store::Store;
use support::{env_list, insert, median, spec, NOW};

const TARGETS: usize = 10;

#[derive(Clone, Copy, Debug)]
enum Layout {
    History,
    Backlog,
    Dead,
}

impl Layout {
    const ALL: [Layout; 3] = [Layout::History, Layout::Backlog, Layout::Dead];

    fn name(self) -> &'static str {
        match self {
            Layout::History => "history",
            Layout::Backlog => "backlog",
            Layout::Dead => "dead",
        }
    }
}

async fn fill(layout: Layout, size: usize) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("gauges.db").display());
    let store = Store::open(&url).await.unwrap();
    for t in 0..TARGETS {
        store
            .put_target(&spec(&format!("target-{t}")))
            .await
            .unwrap();
    }
    match layout {
        Layout::History => {
            insert(&store, 0, size, TARGETS, 1, "done", NOW - 1_000).await;
            insert(&store, size, 100, TARGETS, 1, "pending", NOW - 1_000).await;
        }
        Layout::Backlog => insert(&store, 0, size, TARGETS, 1, "pending", NOW - 1_000).await,
        Layout::Dead => {
            insert(&store, 0, size, TARGETS, 1, "dead", NOW - 1_000).await;
            insert(&store, size, 100, TARGETS, 1, "pending", NOW - 1_000).await;
        }
    }
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    (store, dir)
}

fn main() {
    let sizes = env_list("GAUGE_BENCH_SIZES", &[1_000, 100_000, 1_000_000]);
    let samples = env_list("GAUGE_BENCH_SAMPLES", &[15])[0].max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    println!(
        "queue gauges per scrape: median of {samples} samples per cell, SQLite, {TARGETS} targets"
    );
    println!("  {:<8} {:>10} {:>11}", "layout", "jobs", "scrape ms");
    for layout in Layout::ALL {
        for &size in &sizes {
            let (store, _dir) = runtime.block_on(fill(layout, size));
            let mut times = Vec::with_capacity(samples);
            for _ in 0..samples {
                let started = Instant::now();
                let gauges = runtime.block_on(store.queue_gauges()).unwrap();
                times.push(started.elapsed().as_secs_f64() * 1_000.0);
                assert_eq!(gauges.len(), TARGETS);
            }
            println!(
                "  {:<8} {:>10} {:>11.3}",
                layout.name(),
                size,
                median(times)
            );
            runtime.block_on(store.close());
        }
    }
}
