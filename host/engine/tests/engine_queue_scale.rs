//! The queue's bookkeeping for claims that cost what they hand out: jobs blocked behind an
//! earlier job of their entity (kept right by the database on every state change), and the
//! idle dispatcher's questions answered without counting the backlog or the history.

mod engine_support;

use engine_support::*;
use provisioner_engine::store::{now_ms, ClaimLimits, JobState, JobUpdate, Store};
use provisioner_engine::{Engine, UserChange};

const NO_LIMITS: ClaimLimits = ClaimLimits {
    target_concurrency: 0,
    tenant_concurrency: 0,
    tenant_calls_per_minute: 0,
};

/// Ids of the pending jobs marked blocked, in id order.
async fn blocked(store: &Store) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM jobs WHERE state = 'pending' AND blocked = TRUE ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

async fn claim(store: &Store) -> Vec<i64> {
    store
        .claim_fair("w", now_ms(), 30_000, 16, &NO_LIMITS)
        .await
        .unwrap()
        .jobs
        .iter()
        .map(|job| job.id)
        .collect()
}

async fn finish(store: &Store, id: i64, state: JobState) {
    let update = JobUpdate::Finish {
        state,
        remote_id: None,
        error: None,
        attempts: 0,
    };
    assert!(store.update_job(id, "w", &update).await.unwrap());
}

/// Queues a create and two updates of `id`; returns their job ids.
async fn three_changes(engine: &Engine, id: &str) -> Vec<i64> {
    let mut jobs = create(engine, user(id, "First", &[])).await;
    for last in ["Second", "Third"] {
        let receipt = engine
            .apply_user_change(TENANT, UserChange::Update(user(id, last, &[])))
            .await
            .unwrap();
        jobs.extend(receipt.jobs.iter().map(|job| job.job_id));
    }
    jobs
}

#[tokio::test]
async fn jobs_behind_an_unfinished_one_are_blocked_and_released_one_by_one_in_order() {
    let (store, _dir) = store().await;
    add_target(&store, "crm", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let a = three_changes(&engine, "a").await;
    let b = create(&engine, user("b", "Other", &[])).await;
    assert_eq!(blocked(&store).await, [a[1], a[2]]);

    // Only each entity's first job is handed out.
    assert_eq!(claim(&store).await, [a[0], b[0]]);
    assert!(claim(&store).await.is_empty());

    // The first finishing releases the second only.
    finish(&store, a[0], JobState::Done).await;
    assert_eq!(blocked(&store).await, [a[2]]);
    assert_eq!(claim(&store).await, [a[1]]);

    // A dead letter releases the next as well.
    finish(&store, a[1], JobState::Dead).await;
    assert_eq!(blocked(&store).await, Vec::<i64>::new());

    // Replaying it puts it back in front: the job after it waits again, the replayed one runs.
    store
        .replay_dead_letters(TENANT, "crm", Some(a[1]))
        .await
        .unwrap();
    assert_eq!(blocked(&store).await, [a[2]]);
    assert_eq!(claim(&store).await, [a[1]]);
    finish(&store, a[1], JobState::Done).await;
    assert_eq!(claim(&store).await, [a[2]]);
}

#[tokio::test]
async fn a_folded_update_leaves_the_job_after_it_blocked_behind_the_running_one() {
    let (store, _dir) = store().await;
    add_target(&store, "crm", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let a = three_changes(&engine, "a").await;
    let delete = engine
        .apply_user_change(TENANT, UserChange::Delete { id: "a".into() })
        .await
        .unwrap()
        .jobs[0]
        .job_id;
    let claimed = store
        .claim_fair("w", now_ms(), 30_000, 16, &NO_LIMITS)
        .await
        .unwrap()
        .jobs;
    assert_eq!(claimed.len(), 1);
    // The two updates fold into the running create; the delete still waits behind it.
    store.coalesce_following(&claimed[0], "w").await.unwrap();
    assert_eq!(blocked(&store).await, [delete]);
    assert!(claim(&store).await.is_empty());
    finish(&store, a[0], JobState::Done).await;
    assert_eq!(blocked(&store).await, Vec::<i64>::new());
    assert_eq!(claim(&store).await, [delete]);
}

#[tokio::test]
async fn outstanding_work_ignores_history_and_targets_an_operator_must_resume() {
    let (store, _dir) = store().await;
    add_target(&store, "done", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let job = create(&engine, user("a", "L", &[])).await[0];
    assert!(store.has_outstanding_jobs().await.unwrap());
    assert_eq!(claim(&store).await, [job]);
    assert!(
        store.has_outstanding_jobs().await.unwrap(),
        "running counts"
    );
    finish(&store, job, JobState::Done).await;
    assert!(
        !store.has_outstanding_jobs().await.unwrap(),
        "history does not"
    );

    add_target_for(&store, "other", "held", fast_settings()).await;
    create_in(&engine, "other", user("b", "L", &[])).await;
    store
        .pause_target("other", "held", "operator", None)
        .await
        .unwrap();
    assert!(
        !store.has_outstanding_jobs().await.unwrap(),
        "jobs of a target paused until resumed wait for an operator"
    );
    assert_eq!(store.outstanding_jobs().await.unwrap(), 0);
    store
        .pause_target("other", "held", "quota", Some(now_ms() + 60_000))
        .await
        .unwrap();
    assert!(
        store.has_outstanding_jobs().await.unwrap(),
        "a timed pause ends"
    );
    assert_eq!(store.outstanding_jobs().await.unwrap(), 1);
}

#[tokio::test]
async fn the_next_due_time_skips_jobs_blocked_behind_a_running_one() {
    let (store, _dir) = store().await;
    add_target(&store, "crm", fast_settings()).await;
    let engine = Engine::new(store.clone());
    three_changes(&engine, "a").await;
    let due = store.next_due_at().await.unwrap();
    assert!(due.is_some());
    assert_eq!(claim(&store).await.len(), 1);
    assert_eq!(
        store.next_due_at().await.unwrap(),
        None,
        "nothing waits on time: the rest waits for the running job"
    );
}
