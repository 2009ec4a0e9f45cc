//! What the store benches share: sizes from the environment, a bench target, the median.
#![allow(dead_code)]

use std::collections::BTreeMap;

use provisioner_engine::store::{OutboundSettings, Store, TargetSpec};

/// The `now` every query runs at; jobs are due at `NOW - 1_000`.
pub const NOW: i64 = 1_900_000_000_000;

/// The comma-separated numbers in the environment variable `name`, else `default`.
pub fn env_list(name: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// A target of tenant `t` with a connector no bench calls.
pub fn spec(name: &str) -> TargetSpec {
    TargetSpec {
        tenant: "t".into(),
        name: name.into(),
        connector: "fake".into(),
        properties: BTreeMap::new(),
        secret_refs: BTreeMap::new(),
        claim_mappings: vec![],
        settings: OutboundSettings::default(),
        egress: Default::default(),
    }
}

/// The median of `samples`.
pub fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Inserts `count` jobs numbered from `first`: job `n` goes to target `n % targets`, for user
/// `n / per_user`, in `state`, due at `due`.
pub async fn insert(
    store: &Store,
    first: usize,
    count: usize,
    targets: usize,
    per_user: usize,
    state: &str,
    due: i64,
) {
    const CHUNK: usize = 100_000;
    let mut done = 0;
    while done < count {
        let n = CHUNK.min(count - done);
        let start = first + done;
        sqlx::query(
            "WITH RECURSIVE seq(n) AS (SELECT $1 UNION ALL SELECT n + 1 FROM seq WHERE n < $2)
             INSERT INTO jobs (tenant, target, entity_kind, entity_id, entity_name, operation,
               changed_claims, entity_version, state, attempts, outcome_unknown, due_at,
               lease_owner, lease_until, created_at, updated_at, finished_at)
             SELECT 't', 'target-' || (n % $3), 'user', 'u' || (n / $4), 'u' || (n / $4),
               'create', '[]', 1, $5, 0, FALSE, $6,
               CASE WHEN $5 = 'running' THEN 'other' END,
               CASE WHEN $5 = 'running' THEN $7 + 600000 END,
               $7, $7, CASE WHEN $5 = 'done' THEN $7 END
             FROM seq",
        )
        .bind(start as i64)
        .bind((start + n - 1) as i64)
        .bind(targets as i64)
        .bind(per_user as i64)
        .bind(state)
        .bind(due)
        .bind(NOW - 2_000)
        .execute(store.pool())
        .await
        .unwrap();
        done += n;
    }
}
