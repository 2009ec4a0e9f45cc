//! The provisioning log at scale: one page (50 entries) of a tenant's log per filter, with
//! 1,000 / 100,000 / 1,000,000 attempts in the tenant's history.
//!
//! `cargo bench -p provisioner-engine --bench provisioning_log`
//!
//! Each size gets a fresh SQLite store, filled with one `INSERT ... SELECT` per 100,000 rows:
//! attempts spread over 10,000 users (one job each, so the user name is joined) and 10 targets,
//! one in 100 an `invalid_data` failure, started one millisecond apart. Each filter's first page
//! is read (the median of the samples is printed): none, a user by name, a target, the rare
//! outcome, a one-minute window in the middle of the history, and a page deep in the history
//! (`before` at the middle). With an index per filter a page costs about the same at every size.
//!
//! `LOG_BENCH_SIZES` (default `1000,100000,1000000`) and `LOG_BENCH_SAMPLES` (default 15)
//! change the sizes and the samples per cell.

use std::time::Instant;

use provisioner_engine::store::{LogFilter, Store};

const USERS: i64 = 10_000;
const TARGETS: i64 = 10;
const START: i64 = 1_800_000_000_000;
const CHUNK: i64 = 100_000;

async fn fill(store: &Store, attempts: i64) {
    sqlx::query(
        "WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < $1 - 1)
         INSERT INTO local_users (tenant, id, user_name, claims, roles, version, deleted,
           updated_at, created_at)
         SELECT 't', 'u' || n, 'user' || n || '@example.com', '{}', '[]', 1, FALSE, 0, 0
         FROM seq",
    )
    .bind(USERS)
    .execute(store.pool())
    .await
    .unwrap();
    let mut first = 0;
    while first < attempts {
        let last = (first + CHUNK).min(attempts) - 1;
        sqlx::query(
            "WITH RECURSIVE seq(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM seq WHERE n < $2)
             INSERT INTO attempts (job_id, tenant, target, entity_kind, entity_id, operation,
               call, outcome, target_code, message, remote_id, started_at, duration_ms, fields)
             SELECT n, 't', 'target-' || (n % $3), 'user', 'u' || (n % $4), 'create', 'create',
               CASE WHEN n % 100 = 7 THEN 'invalid_data' ELSE 'ok' END,
               CASE WHEN n % 100 = 7 THEN 'INVALID_EMAIL_ADDRESS' END,
               NULL, NULL, $5 + n, 12, '{\"LastName\":\"Doe\"}'
             FROM seq",
        )
        .bind(first)
        .bind(last)
        .bind(TARGETS)
        .bind(USERS)
        .bind(START)
        .execute(store.pool())
        .await
        .unwrap();
        first = last + 1;
    }
}

fn filters(attempts: i64) -> Vec<(&'static str, LogFilter)> {
    let middle = START + attempts / 2;
    vec![
        ("no filter", LogFilter::default()),
        (
            "user by name",
            LogFilter {
                user: Some("USER42@example.com".into()),
                ..LogFilter::default()
            },
        ),
        (
            "target",
            LogFilter {
                target: Some("target-3".into()),
                ..LogFilter::default()
            },
        ),
        (
            "outcome invalid_data",
            LogFilter {
                outcome: Some("invalid_data".into()),
                ..LogFilter::default()
            },
        ),
        (
            "1-minute window, middle",
            LogFilter {
                since: Some(middle - 60_000),
                until: Some(middle),
                ..LogFilter::default()
            },
        ),
        (
            "page at the middle",
            LogFilter {
                before: Some(attempts / 2),
                ..LogFilter::default()
            },
        ),
    ]
}

fn env_list(name: &str, default: &str) -> Vec<i64> {
    std::env::var(name)
        .unwrap_or_else(|_| default.into())
        .split(',')
        .map(|n| n.trim().parse().expect("a whole number"))
        .collect()
}

#[tokio::main]
async fn main() {
    let sizes = env_list("LOG_BENCH_SIZES", "1000,100000,1000000");
    let samples = env_list("LOG_BENCH_SAMPLES", "15")[0].max(1) as usize;
    println!("| attempts | filter | entries | median page (ms) |");
    println!("|---:|---|---:|---:|");
    for attempts in sizes {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("log.db").display());
        let store = Store::open(&url).await.unwrap();
        fill(&store, attempts).await;
        for (name, filter) in filters(attempts) {
            let mut times = Vec::with_capacity(samples);
            let mut entries = 0;
            for _ in 0..samples {
                let started = Instant::now();
                entries = store.provisioning_log("t", &filter).await.unwrap().len();
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "| {attempts} | {name} | {entries} | {:.2} |",
                times[times.len() / 2]
            );
        }
    }
}
