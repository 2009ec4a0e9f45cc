//! Sync runs: every live in-scope user of a tenant gets one job for the target, the walk is
//! resumable from its persisted cursor after a crash, out-of-scope users are left out, a user's
//! unfinished job is taken over rather than doubled, and the run's progress counts its jobs.

mod engine_support;

use std::collections::BTreeMap;

use engine_support::*;
use provisioner_contract::{EntityKind, Operation};
use provisioner_engine::store::{JobFilter, JobRecord, OutboundSettings, Store, SyncState};
use provisioner_engine::{Engine, GroupChange, GroupState, SyncStep, UserChange};

/// Every job of `target`, oldest first.
async fn target_jobs(store: &Store, target: &str) -> Vec<JobRecord> {
    let mut jobs = store
        .list_jobs(&JobFilter {
            tenant: Some(TENANT.into()),
            target: Some(target.into()),
            state: None,
            limit: Some(100_000),
        })
        .await
        .unwrap();
    jobs.reverse();
    jobs
}

/// How many jobs each user has.
fn per_user(jobs: &[JobRecord]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for job in jobs.iter().filter(|j| j.entity_kind == EntityKind::User) {
        *counts.entry(job.entity_id.clone()).or_default() += 1;
    }
    counts
}

fn user_id(n: usize) -> String {
    format!("u{n:05}")
}

#[tokio::test]
async fn a_sync_queues_each_user_once_and_resumes_from_its_cursor_after_a_crash() {
    const USERS: usize = 2_500;
    let (store, _dir, url) = store_with_url().await;
    let engine = Engine::new(store.clone());
    for n in 0..USERS {
        create(&engine, user(&user_id(n), "Doe", &[])).await;
    }
    // The target comes after the users: nothing is queued for it yet.
    add_target(&store, "sf", fast_settings()).await;
    assert!(target_jobs(&store, "sf").await.is_empty());

    let run = engine.start_sync(TENANT, "sf").await.unwrap();
    assert_eq!(run.state, SyncState::Running);
    assert_eq!(run.total, USERS as i64, "the estimate is the live users");
    let step = SyncStep {
        chunk_users: 1_000,
        max_chunks: Some(1),
    };
    let stopped = engine.continue_sync(run.id, step).await.unwrap();
    assert_eq!(stopped.enqueued, 1_000);
    assert_eq!(stopped.cursor.as_deref(), Some(user_id(999).as_str()));
    assert_eq!(stopped.state, SyncState::Running);
    assert_eq!(target_jobs(&store, "sf").await.len(), 1_000);

    // A crash: the process goes away mid-run; a new one opens the same database.
    drop(engine);
    store.close().await;
    let store = Store::open(&url).await.unwrap();
    let engine = Engine::new(store.clone());

    let resumed = engine.start_sync(TENANT, "sf").await.unwrap();
    assert_eq!(
        resumed.id, run.id,
        "the unsettled run is resumed, not restarted"
    );
    let walked = engine
        .continue_sync(run.id, SyncStep::default())
        .await
        .unwrap();
    assert_eq!(walked.state, SyncState::Enqueued);
    assert_eq!(walked.enqueued, USERS as i64);
    assert_eq!(walked.total, USERS as i64);
    assert_eq!(walked.cursor.as_deref(), Some(user_id(USERS - 1).as_str()));

    let jobs = target_jobs(&store, "sf").await;
    assert_eq!(jobs.len(), USERS, "exactly one job per user");
    let counts = per_user(&jobs);
    assert_eq!(counts.len(), USERS);
    assert!(counts.values().all(|&n| n == 1), "no user queued twice");
    assert!(jobs.iter().all(|j| j.operation == Operation::Create));

    // Walking a run past its walk changes nothing.
    let again = engine
        .continue_sync(run.id, SyncStep::default())
        .await
        .unwrap();
    assert_eq!(again.enqueued, USERS as i64);
    assert_eq!(target_jobs(&store, "sf").await.len(), USERS);

    let fake = FakeTarget::new(true);
    let stats = dispatcher(&engine, FakeSource::with(&[("sf", fake.clone())]))
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.done, USERS as u64);
    assert_eq!(
        fake.objects().len(),
        USERS,
        "every user reached the target once"
    );
    let settled = engine.sync_run(run.id).await.unwrap();
    assert_eq!(settled.state, SyncState::Done);
    assert_eq!((settled.finished, settled.dead), (USERS as i64, 0));
    assert_eq!(settled.succeeded(), USERS as i64);
    assert!(settled.finished_at.is_some());
}

#[tokio::test]
async fn scope_decides_who_is_synced_and_unfinished_jobs_are_taken_over() {
    let (store, _dir) = store().await;
    let engine = Engine::new(store.clone());
    // u00-u09 hold the role, u10-u19 get it through a group named after it, u20-u29 do not.
    for n in 0..30 {
        let roles: &[&str] = if n < 10 { &["sales"] } else { &["hr"] };
        create(&engine, user(&format!("u{n:02}"), "Doe", roles)).await;
    }
    engine
        .apply_group_change(
            TENANT,
            GroupChange::Create(GroupState {
                id: "g-sales".into(),
                display_name: "sales".into(),
                members: (10..20).map(|n| format!("u{n:02}")).collect(),
                ..GroupState::default()
            }),
        )
        .await
        .unwrap();
    // A filter on claims too: u03 has another last name and is out of scope.
    engine
        .apply_user_change(TENANT, UserChange::Update(user("u03", "Smith", &["sales"])))
        .await
        .unwrap();
    add_target(
        &store,
        "sf",
        OutboundSettings {
            provisioning_roles: vec!["sales".into()],
            scope_filter: Some(provisioner_engine::store::ScopeFilter::Eq {
                claim: LASTNAME.into(),
                value: "doe".into(),
            }),
            ..fast_settings()
        },
    )
    .await;
    // A change after the target exists queues u00's own update, still unfinished at the sync.
    engine
        .apply_user_change(TENANT, UserChange::Update(user("u00", "DOE", &["sales"])))
        .await
        .unwrap();
    let before = target_jobs(&store, "sf").await;
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].operation, Operation::Update);

    let run = engine.sync_target(TENANT, "sf").await.unwrap();
    assert_eq!(run.state, SyncState::Enqueued);
    assert_eq!(
        run.enqueued, 19,
        "u00-u19 but u03; u00's own job taken over"
    );
    let jobs = target_jobs(&store, "sf").await;
    let counts = per_user(&jobs);
    let expected: Vec<String> = (0..20)
        .filter(|&n| n != 3)
        .map(|n| format!("u{n:02}"))
        .collect();
    assert_eq!(counts.keys().cloned().collect::<Vec<_>>(), expected);
    assert!(counts.values().all(|&n| n == 1), "u00 keeps its one job");

    // One in-scope user cannot be created: its job ends as a dead letter, the run as failed.
    let fake = FakeTarget::new(true);
    fake.state.lock().unwrap().foreign_names = vec!["u07@example.com".into()];
    let source = FakeSource::with(&[("sf", fake.clone())]);
    dispatcher(&engine, source.clone())
        .run_until_idle()
        .await
        .unwrap();
    let settled = engine.sync_run(run.id).await.unwrap();
    assert_eq!(settled.state, SyncState::Failed);
    assert_eq!((settled.finished, settled.dead), (19, 1));
    assert_eq!(fake.objects().len(), 18);

    // A replayed dead letter reopens the run; once it passes, the run is done.
    fake.state.lock().unwrap().foreign_names.clear();
    engine
        .replay_dead_letters(TENANT, "sf", None)
        .await
        .unwrap();
    let reopened = engine.sync_run(run.id).await.unwrap();
    assert_eq!(reopened.state, SyncState::Enqueued);
    assert_eq!((reopened.finished, reopened.dead), (18, 0));
    dispatcher(&engine, source).run_until_idle().await.unwrap();
    let done = engine.sync_run(run.id).await.unwrap();
    assert_eq!(done.state, SyncState::Done);
    assert_eq!(done.succeeded(), 19);
    assert_eq!(fake.objects().len(), 19);

    // A settled run is history: the next sync is a new, full run.
    let next = engine.sync_target(TENANT, "sf").await.unwrap();
    assert_ne!(next.id, run.id);
    assert_eq!(next.enqueued, 19);
    assert_eq!(
        store.sync_runs(TENANT, "sf", 10).await.unwrap().len(),
        2,
        "both runs are listed"
    );
}

#[tokio::test]
async fn a_sync_of_an_unknown_target_says_so() {
    let (store, _dir) = store().await;
    let engine = Engine::new(store);
    let error = engine.start_sync(TENANT, "nope").await.unwrap_err();
    assert!(error.to_string().contains("nope"), "{error}");
}
