//! What a job's history and flags say after a failure: a dead-lettered create does not carry a
//! stale outcome-unknown flag into its replay, and a call cut off by a crash leaves an attempt.

mod engine_support;

use engine_support::*;
use provisioner_engine::store::{now_ms, JobState};
use provisioner_engine::Engine;

#[tokio::test]
async fn a_dead_lettered_create_is_replayed_without_a_lookup() {
    let (store, _dir) = store().await;
    add_target(&store, "crm", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    let name = "a@example.com".to_owned();
    fake.state.lock().unwrap().foreign_names = vec![name.clone()];
    let job = create(&engine, user("a", "L", &[])).await[0];
    let source = FakeSource::with(&[("crm", fake.clone())]);
    dispatcher(&engine, source.clone())
        .run_until_idle()
        .await
        .unwrap();
    let dead = store.job(job).await.unwrap().unwrap();
    assert_eq!(dead.state, JobState::Dead);
    assert!(
        !dead.outcome_unknown,
        "the target refused the create: its outcome is known"
    );

    fake.state.lock().unwrap().foreign_names.clear();
    engine
        .replay_dead_letters(TENANT, "crm", None)
        .await
        .unwrap();
    dispatcher(&engine, source).run_until_idle().await.unwrap();
    assert_eq!(store.job(job).await.unwrap().unwrap().state, JobState::Done);
    assert_eq!(
        fake.calls(),
        [format!("create {name}"), format!("create {name}")],
        "no lookup before the replayed create"
    );
}

#[tokio::test]
async fn a_job_whose_runner_died_shows_a_call_of_unknown_outcome_in_its_history() {
    let (store, _dir) = store().await;
    add_target(&store, "crm", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let job = create(&engine, user("a", "L", &[])).await[0];
    let now = now_ms();
    let claimed = store.claim_jobs("gone", now, 1_000, 1).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert!(store.attempts_for_job(job).await.unwrap().is_empty());

    // The process holding the lease never comes back.
    assert_eq!(store.recover_expired_leases(now + 500).await.unwrap(), 0);
    assert_eq!(store.recover_expired_leases(now + 2_000).await.unwrap(), 1);
    let attempts = store.attempts_for_job(job).await.unwrap();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].call, "create");
    assert_eq!(attempts[0].outcome, "unknown");
    let message = attempts[0].message.clone().unwrap_or_default();
    assert!(message.contains("gone"), "{message}");
    let history = store
        .entity_history(TENANT, provisioner_contract::EntityKind::User, "a")
        .await
        .unwrap();
    assert_eq!(history.attempts, attempts);
    let recovered = store.job(job).await.unwrap().unwrap();
    assert_eq!(recovered.state, JobState::Pending);
    assert!(recovered.outcome_unknown);
}
