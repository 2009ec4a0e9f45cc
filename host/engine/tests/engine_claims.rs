//! Fair claiming in the store: rounds across (tenant, target) queues, tenants running less
//! first, per-target caps counted in the database, tenant quotas and what they hold back.

mod engine_support;

use engine_support::*;
use provisioner_engine::store::{
    now_ms, AttemptRecord, ClaimLimits, HeldBack, HoldReason, JobRecord, Store,
};
use provisioner_engine::Engine;

use provisioner_contract::EntityKind;

const NO_LIMITS: ClaimLimits = ClaimLimits {
    target_concurrency: 0,
    tenant_concurrency: 0,
    tenant_calls_per_minute: 0,
};

async fn setup(queues: &[(&str, &str, usize)]) -> (Store, Engine, tempfile::TempDir) {
    let (store, dir) = store().await;
    let engine = Engine::new(store.clone());
    for (tenant, target, jobs) in queues {
        add_target_for(&store, tenant, target, fast_settings()).await;
        for i in 0..*jobs {
            create_in(&engine, tenant, user(&format!("{target}-{i}"), "L", &[])).await;
        }
    }
    (store, engine, dir)
}

fn tenants(jobs: &[JobRecord]) -> Vec<&str> {
    let mut tenants: Vec<&str> = jobs.iter().map(|job| job.tenant.as_str()).collect();
    tenants.sort();
    tenants
}

#[tokio::test]
async fn a_claim_takes_one_job_per_queue_per_round() {
    // A's 10 jobs were queued before B's single job.
    let (store, _engine, _dir) = setup(&[("a", "ta", 10), ("b", "tb", 1)]).await;
    let claim = store
        .claim_fair("w", now_ms(), 30_000, 2, &NO_LIMITS)
        .await
        .unwrap();
    assert_eq!(tenants(&claim.jobs), ["a", "b"]);
    assert!(claim.held_back.is_empty());

    // Once B's queue is empty, further rounds give A the rest.
    let claim = store
        .claim_fair("w", now_ms(), 30_000, 16, &NO_LIMITS)
        .await
        .unwrap();
    assert_eq!(claim.jobs.len(), 9);
    assert!(claim.jobs.iter().all(|job| job.tenant == "a"));
}

#[tokio::test]
async fn a_single_free_slot_goes_to_the_tenant_running_less() {
    let (store, engine, _dir) = setup(&[("a", "ta", 6)]).await;
    let first = store
        .claim_fair("w", now_ms(), 30_000, 2, &NO_LIMITS)
        .await
        .unwrap();
    assert_eq!(tenants(&first.jobs), ["a", "a"]);
    // B's jobs are younger than A's four pending ones, but B runs fewer jobs.
    add_target_for(&store, "b", "tb", fast_settings()).await;
    create_in(&engine, "b", user("late1", "L", &[])).await;
    create_in(&engine, "b", user("late2", "L", &[])).await;
    for _ in 0..2 {
        let claim = store
            .claim_fair("w", now_ms(), 30_000, 1, &NO_LIMITS)
            .await
            .unwrap();
        assert_eq!(tenants(&claim.jobs), ["b"]);
    }
    // Both running two, the longest wait wins.
    let claim = store
        .claim_fair("w", now_ms(), 30_000, 1, &NO_LIMITS)
        .await
        .unwrap();
    assert_eq!(tenants(&claim.jobs), ["a"]);
}

#[tokio::test]
async fn a_target_at_its_cap_gets_nothing_whoever_claims() {
    let (store, _engine, _dir) = setup(&[("a", "ta", 10)]).await;
    let limits = ClaimLimits {
        target_concurrency: 4,
        ..NO_LIMITS
    };
    let one = store
        .claim_fair("one", now_ms(), 30_000, 3, &limits)
        .await
        .unwrap();
    assert_eq!(one.jobs.len(), 3);
    // Another owner (another process) sees the three running jobs in the database.
    let two = store
        .claim_fair("two", now_ms(), 30_000, 16, &limits)
        .await
        .unwrap();
    assert_eq!(two.jobs.len(), 1);
    let three = store
        .claim_fair("three", now_ms(), 30_000, 16, &limits)
        .await
        .unwrap();
    assert!(three.jobs.is_empty());
    assert_eq!(
        three.held_back,
        [HeldBack {
            tenant: "a".into(),
            target: "ta".into(),
            reason: HoldReason::TargetConcurrency
        }]
    );
    // The unlimited claim of old ignores caps.
    assert_eq!(
        store
            .claim_jobs("four", now_ms(), 30_000, 16)
            .await
            .unwrap()
            .len(),
        6
    );
}

#[tokio::test]
async fn a_tenant_quota_spans_its_targets_and_spares_other_tenants() {
    let (store, _engine, _dir) = setup(&[("a", "t1", 5), ("a", "t2", 5), ("b", "tb", 5)]).await;
    let limits = ClaimLimits {
        target_concurrency: 4,
        tenant_concurrency: 3,
        ..NO_LIMITS
    };
    let claim = store
        .claim_fair("w", now_ms(), 30_000, 16, &limits)
        .await
        .unwrap();
    assert_eq!(tenants(&claim.jobs), ["a", "a", "a", "b", "b", "b"]);
    let held: Vec<_> = claim
        .held_back
        .iter()
        .map(|h| (h.tenant.as_str(), h.reason))
        .collect();
    assert!(
        held.contains(&("a", HoldReason::TenantConcurrency)),
        "{held:?}"
    );
    assert!(
        held.contains(&("b", HoldReason::TenantConcurrency)),
        "{held:?}"
    );
}

#[tokio::test]
async fn a_tenant_call_rate_quota_counts_the_last_minutes_calls() {
    let (store, _engine, _dir) = setup(&[("a", "ta", 5), ("b", "tb", 2)]).await;
    let now = now_ms();
    for (i, started_at) in [now - 120_000, now - 30_000, now - 1_000]
        .iter()
        .enumerate()
    {
        store
            .record_attempt(&AttemptRecord {
                id: 0,
                job_id: i as i64,
                tenant: "a".into(),
                target: "ta".into(),
                entity_kind: EntityKind::User,
                entity_id: format!("x{i}"),
                operation: Some("create".into()),
                call: "create".into(),
                outcome: "ok".into(),
                target_code: None,
                message: None,
                remote_id: None,
                started_at: *started_at,
                duration_ms: 1,
                fields: None,
            })
            .await
            .unwrap();
    }
    let limits = ClaimLimits {
        tenant_calls_per_minute: 3,
        ..NO_LIMITS
    };
    // Two calls in the last minute (the third is older): one more for A; B is untouched.
    let claim = store
        .claim_fair("w", now, 30_000, 16, &limits)
        .await
        .unwrap();
    assert_eq!(tenants(&claim.jobs), ["a", "b", "b"]);
    assert_eq!(
        claim.held_back,
        [HeldBack {
            tenant: "a".into(),
            target: "ta".into(),
            reason: HoldReason::TenantCallRate
        }]
    );
    // The running job counts as a call too: nothing more for A.
    let claim = store
        .claim_fair("w", now, 30_000, 16, &limits)
        .await
        .unwrap();
    assert!(claim.jobs.is_empty());
    assert_eq!(claim.held_back[0].reason, HoldReason::TenantCallRate);
}
