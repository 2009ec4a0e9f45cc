//! The queue gauges a metrics scrape reads: per target, ready, blocked (behind an earlier job of
//! the entity), running and dead jobs, and the earliest ready due time; finished jobs are not
//! counted.

mod engine_support;

use engine_support::*;
use provisioner_engine::store::{ClaimLimits, JobState, QueueGauge};
use provisioner_engine::{Engine, UserChange};

async fn gauge(engine: &Engine, target: &str) -> QueueGauge {
    let gauges = engine.store().queue_gauges().await.unwrap();
    gauges
        .into_iter()
        .find(|g| g.tenant == TENANT && g.target == target)
        .expect("every stored target has a gauge")
}

#[tokio::test]
async fn gauges_split_open_jobs_by_state_per_target() {
    let (store, _dir) = store().await;
    add_target(&store, "a", fast_settings()).await;
    add_target(&store, "idle", fast_settings()).await;
    let engine = Engine::new(store.clone());
    assert_eq!(gauge(&engine, "a").await.ready, 0);

    // u1: a create and an update (the update waits behind the create); u2: a create.
    create(&engine, user("u1", "One", &[])).await;
    engine
        .apply_user_change(TENANT, UserChange::Update(user("u1", "Uno", &[])))
        .await
        .unwrap();
    create(&engine, user("u2", "Two", &[])).await;
    let a = gauge(&engine, "a").await;
    assert_eq!(
        (a.ready, a.blocked, a.running, a.dead),
        (2, 1, 0, 0),
        "{a:?}"
    );
    assert!(a.oldest_due_at.is_some());
    let idle = gauge(&engine, "idle").await;
    assert_eq!(
        (idle.ready, idle.blocked, idle.running),
        (2, 1, 0),
        "{idle:?}"
    );

    // Claim everything claimable: the two heads run, the update still waits.
    let now = provisioner_engine::store::now_ms() + 1_000;
    let claim = store
        .claim_fair("gauges", now, 60_000, 100, &ClaimLimits::default())
        .await
        .unwrap();
    assert_eq!(claim.jobs.len(), 4, "two heads on each target");
    let a = gauge(&engine, "a").await;
    assert_eq!((a.ready, a.blocked, a.running), (0, 1, 2), "{a:?}");
    assert_eq!(a.oldest_due_at, None);

    // Finishing u2's job on `a` dead and u1's create done: the update becomes ready.
    let on_a: Vec<_> = claim.jobs.iter().filter(|j| j.target == "a").collect();
    for job in on_a {
        let state = if job.entity_id == "u2" {
            JobState::Dead
        } else {
            JobState::Done
        };
        let update = provisioner_engine::store::JobUpdate::Finish {
            state,
            remote_id: None,
            error: None,
            attempts: 1,
        };
        assert!(store.update_job(job.id, "gauges", &update).await.unwrap());
    }
    let a = gauge(&engine, "a").await;
    assert_eq!(
        (a.ready, a.blocked, a.running, a.dead),
        (1, 0, 0, 1),
        "{a:?}"
    );
}
