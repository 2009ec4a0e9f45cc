//! Fair dispatch against fake targets: a tenant whose target never answers holds at most its
//! share of the workers while another tenant's jobs complete; per-target caps hold across
//! dispatchers sharing one database; tenant quotas hold and are reported; a connector that
//! answers rate-limited with retry-after 0 forever ends as a dead letter.

mod engine_support;

use std::sync::Arc;
use std::time::Duration;

use engine_support::*;
use provisioner_engine::policy::RateLimitPolicy;
use provisioner_engine::store::{JobState, OutboundSettings};
use provisioner_engine::{Dispatcher, DispatcherConfig, Engine, TargetConnector};

/// Long enough never to matter: the waits below end when the jobs end.
const PATIENCE: Duration = Duration::from_secs(600);

async fn states(engine: &Engine, ids: &[i64]) -> Vec<JobState> {
    let jobs = engine.store().jobs_by_id(ids).await.unwrap();
    jobs.into_iter().map(|job| job.state).collect()
}

/// Queues one user creation per name for `tenant`; returns the job ids.
async fn queue_users(engine: &Engine, tenant: &str, prefix: &str, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.extend(create_in(engine, tenant, user(&format!("{prefix}{i}"), "L", &[])).await);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_whose_target_hangs_holds_its_share_while_another_tenant_completes() {
    let (store, _dir) = store().await;
    add_target_for(&store, "noisy", "slow", fast_settings()).await;
    add_target_for(&store, "quiet", "fast", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let gate = GateTarget::closed();
    let fast = FakeTarget::new(true);
    let source = FakeSource::of(vec![
        ("slow", gate.clone() as Arc<dyn TargetConnector>),
        ("fast", fast.clone() as Arc<dyn TargetConnector>),
    ]);
    let config = test_config();
    let cap = config.target_max_concurrency;
    assert_eq!(cap, 4, "the default per-target cap");

    // Tenant A's 24 jobs go to a target that answers nothing until the gate opens.
    let noisy = queue_users(&engine, "noisy", "a", 24).await;
    let (stop, run) = start(Dispatcher::new(&engine, source.clone(), config));
    gate.wait_for_in_flight(cap).await;

    // Tenant B's jobs all complete while A saturates its share.
    let quiet = queue_users(&engine, "quiet", "b", 12).await;
    let outcomes = engine.wait_for_jobs(&quiet, PATIENCE).await.unwrap();
    assert!(
        outcomes.iter().all(|o| o.state == JobState::Done),
        "{outcomes:?}"
    );
    assert_eq!(fast.objects().len(), 12);
    assert_eq!(gate.in_flight(), cap, "A still holds its share, no more");
    assert_eq!(gate.max_in_flight(), cap);
    let waiting = states(&engine, &noisy).await;
    assert_eq!(
        waiting.iter().filter(|s| **s == JobState::Running).count(),
        cap
    );
    assert_eq!(
        waiting.iter().filter(|s| **s == JobState::Pending).count(),
        24 - cap
    );

    // Released, A's backlog drains without ever exceeding the cap.
    gate.open();
    let outcomes = engine.wait_for_jobs(&noisy, PATIENCE).await.unwrap();
    assert!(outcomes.iter().all(|o| o.state == JobState::Done));
    assert_eq!(gate.calls(), 24);
    assert_eq!(gate.max_in_flight(), cap);
    stop.send(()).unwrap();
    let stats = run.await.unwrap().unwrap();
    assert_eq!(stats.done, 36);
    assert!(
        stats.held_by_target_cap > 0,
        "the cap holding A back is counted: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_cap_holds_across_dispatchers_sharing_the_database() {
    let (store, _dir) = store().await;
    let capped = OutboundSettings {
        max_concurrency: Some(3),
        ..fast_settings()
    };
    add_target_for(&store, "noisy", "slow", capped).await;
    let engine = Engine::new(store.clone());
    let gate = GateTarget::closed();
    let source = FakeSource::of(vec![("slow", gate.clone() as Arc<dyn TargetConnector>)]);
    let ids = queue_users(&engine, "noisy", "a", 20).await;

    // Two dispatchers (distinct lease owners) with 8 workers each.
    let (stop_one, run_one) = start(Dispatcher::new(&engine, source.clone(), test_config()));
    let (stop_two, run_two) = start(Dispatcher::new(&engine, source.clone(), test_config()));
    gate.wait_for_in_flight(3).await;
    // Both keep polling; the third claim slot is taken, so no fourth call starts.
    let running = states(&engine, &ids).await;
    assert_eq!(
        running.iter().filter(|s| **s == JobState::Running).count(),
        3
    );

    gate.open();
    let outcomes = engine.wait_for_jobs(&ids, PATIENCE).await.unwrap();
    assert!(outcomes.iter().all(|o| o.state == JobState::Done));
    assert_eq!(gate.calls(), 20);
    assert_eq!(gate.max_in_flight(), 3, "the target's own cap, across both");
    stop_one.send(()).unwrap();
    stop_two.send(()).unwrap();
    let (one, two) = (
        run_one.await.unwrap().unwrap(),
        run_two.await.unwrap().unwrap(),
    );
    assert_eq!(one.done + two.done, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_concurrency_quota_bounds_a_tenant_across_its_targets() {
    let (store, _dir) = store().await;
    for target in ["s1", "s2", "s3"] {
        add_target_for(&store, "noisy", target, fast_settings()).await;
    }
    add_target_for(&store, "quiet", "fast", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let gate = GateTarget::closed();
    let fast = FakeTarget::new(true);
    // One gate behind the three targets: its in-flight count is the tenant's.
    let source = FakeSource::of(vec![
        ("s1", gate.clone() as Arc<dyn TargetConnector>),
        ("s2", gate.clone() as Arc<dyn TargetConnector>),
        ("s3", gate.clone() as Arc<dyn TargetConnector>),
        ("fast", fast.clone() as Arc<dyn TargetConnector>),
    ]);
    let config = DispatcherConfig {
        workers: 16,
        tenant_max_concurrency: 5,
        ..test_config()
    };
    // Each user goes to all three of the tenant's targets: 30 jobs, 12 slots by target caps.
    let noisy = queue_users(&engine, "noisy", "a", 10).await;
    assert_eq!(noisy.len(), 30);
    let (stop, run) = start(Dispatcher::new(&engine, source, config));
    gate.wait_for_in_flight(5).await;

    let quiet = queue_users(&engine, "quiet", "b", 8).await;
    let outcomes = engine.wait_for_jobs(&quiet, PATIENCE).await.unwrap();
    assert!(outcomes.iter().all(|o| o.state == JobState::Done));
    assert_eq!(gate.in_flight(), 5);

    gate.open();
    let outcomes = engine.wait_for_jobs(&noisy, PATIENCE).await.unwrap();
    assert!(outcomes.iter().all(|o| o.state == JobState::Done));
    assert_eq!(
        gate.max_in_flight(),
        5,
        "the tenant quota, not 3 targets x 4"
    );
    stop.send(()).unwrap();
    let stats = run.await.unwrap().unwrap();
    assert!(
        stats.held_by_tenant_quota > 0,
        "the quota holding the tenant back is counted: {stats:?}"
    );
}

#[tokio::test]
async fn rate_limits_with_retry_after_zero_end_as_a_dead_letter() {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    fake.state.lock().unwrap().always = Some(rate_limited(0));
    let ids = create(&engine, user("u", "A", &[])).await;
    let config = DispatcherConfig {
        rate_limits: RateLimitPolicy {
            retry_after_floor_ms: 5,
            budget_ms: 50,
        },
        ..test_config()
    };
    let stats = Dispatcher::new(&engine, FakeSource::with(&[("t", fake.clone())]), config)
        .run_until_idle()
        .await
        .unwrap();

    let job = store.job(ids[0]).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Dead);
    let max_attempts = fast_settings().max_attempts;
    assert_eq!(job.attempts, max_attempts);
    assert_eq!(job.error.unwrap().kind, "rate_limited");
    // Each zero hint waits the 5 ms floor; 50 ms of budget gives 10 free retries, then the
    // attempt budget's 4 calls: 14 calls in all, where the unbounded policy never stopped.
    assert_eq!(job.rate_limited_ms, 50);
    assert_eq!(fake.calls().len(), 10 + max_attempts as usize);
    assert_eq!(stats.dead, 1);
    let attempts = store.attempts_for_job(ids[0]).await.unwrap();
    assert_eq!(attempts.len(), fake.calls().len());
}
