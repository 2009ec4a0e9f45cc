//! The outbox and dispatcher against a fake target: ordering, coalescing, retries by error
//! type, dead letters and replay, unknown outcomes, scoping and crash recovery.

mod engine_support;

use std::sync::Arc;
use std::time::Duration;

use engine_support::*;
use provisioner_contract::{EntityKind, Operation};
use provisioner_engine::store::{now_ms, JobFilter, JobState, OutboundSettings};
use provisioner_engine::{Engine, UserChange};

async fn states(engine: &Engine, ids: &[i64]) -> Vec<JobState> {
    engine
        .store()
        .jobs_by_id(ids)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.state)
        .collect()
}

#[tokio::test]
async fn a_change_and_its_jobs_commit_together_and_respect_scope() {
    let (store, _dir) = store().await;
    add_target(&store, "all", fast_settings()).await;
    let sales_only = OutboundSettings {
        provisioning_roles: vec!["sales".into()],
        ..fast_settings()
    };
    add_target(&store, "sales", sales_only).await;
    let engine = Engine::new(store.clone());

    let receipt = engine
        .apply_user_change(TENANT, UserChange::Create(user("u1", "One", &["hr"])))
        .await
        .unwrap();
    let targets: Vec<_> = receipt.jobs.iter().map(|j| j.target.as_str()).collect();
    assert_eq!(targets, ["all"]);
    assert_eq!(receipt.jobs[0].operation, Operation::Create);
    assert_eq!(store.user(TENANT, "u1").await.unwrap().unwrap().version, 1);

    // A duplicate create is refused and queues nothing.
    let duplicate = engine
        .apply_user_change(TENANT, UserChange::Create(user("u1", "One", &[])))
        .await;
    assert!(duplicate.is_err());
    let pending = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Pending),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);

    // Gaining the role creates in the role-scoped target; losing it deprovisions.
    let gained = engine
        .apply_user_change(
            TENANT,
            UserChange::Update(user("u1", "One", &["hr", "sales"])),
        )
        .await
        .unwrap();
    let ops: Vec<_> = gained
        .jobs
        .iter()
        .map(|j| (j.target.as_str(), j.operation))
        .collect();
    assert_eq!(ops, [("sales", Operation::Create)]);
    let lost = engine
        .apply_user_change(TENANT, UserChange::Update(user("u1", "Uno", &["hr"])))
        .await
        .unwrap();
    let ops: Vec<_> = lost
        .jobs
        .iter()
        .map(|j| (j.target.as_str(), j.operation))
        .collect();
    assert_eq!(
        ops,
        [("all", Operation::Update), ("sales", Operation::Delete)]
    );
    assert_eq!(lost.jobs[0].job_id, lost.jobs[0].job_id);
}

#[tokio::test]
async fn jobs_of_one_entity_run_in_order_and_end_in_the_final_state() {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    let dispatcher = dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]));

    // create, update, update, delete back to back for one user; create + two updates for another.
    create(&engine, user("gone", "A", &[])).await;
    for last in ["B", "C"] {
        engine
            .apply_user_change(TENANT, UserChange::Update(user("gone", last, &[])))
            .await
            .unwrap();
    }
    engine
        .apply_user_change(TENANT, UserChange::Delete { id: "gone".into() })
        .await
        .unwrap();
    create(&engine, user("kept", "A", &[])).await;
    for last in ["B", "C"] {
        engine
            .apply_user_change(TENANT, UserChange::Update(user("kept", last, &[])))
            .await
            .unwrap();
    }
    dispatcher.run_until_idle().await.unwrap();

    // The deleted user never reached the target (or is inactive there).
    assert!(fake.named("gone@example.com").iter().all(|o| !o.active));
    let kept = fake.named("kept@example.com");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].claims[LASTNAME], ["C"]);
    assert!(kept[0].active);
    // The updates were coalesced into the create: one call for the kept user.
    let calls: Vec<_> = fake
        .calls()
        .into_iter()
        .filter(|c| c.contains("kept"))
        .collect();
    assert_eq!(calls, ["create kept@example.com"]);
    let counts = store.count_jobs(None).await.unwrap();
    assert!(counts.iter().all(|(state, _)| matches!(
        state,
        JobState::Done | JobState::Coalesced | JobState::Superseded
    )));
}

#[tokio::test]
async fn updates_after_a_done_create_apply_in_order() {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    let dispatcher = dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]));
    create(&engine, user("u", "A", &[])).await;
    dispatcher.run_until_idle().await.unwrap();
    for last in ["B", "C", "D"] {
        engine
            .apply_user_change(TENANT, UserChange::Update(user("u", last, &[])))
            .await
            .unwrap();
    }
    dispatcher.run_until_idle().await.unwrap();
    let objects = fake.named("u@example.com");
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].claims[LASTNAME], ["D"]);
    engine
        .apply_user_change(TENANT, UserChange::Delete { id: "u".into() })
        .await
        .unwrap();
    dispatcher.run_until_idle().await.unwrap();
    assert!(!fake.named("u@example.com")[0].active);
    assert_eq!(
        store
            .remote_id(TENANT, "t", EntityKind::User, "u")
            .await
            .unwrap(),
        None,
        "a delete forgets the remote id"
    );
}

#[tokio::test]
async fn a_create_of_unknown_outcome_is_resolved_by_lookup_not_repeated() {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    // The create is applied, but the connection resets before the answer.
    fake.push_fault(Call::Create, transient("CONNECTION_RESET", true), true);
    let ids = create(&engine, user("u", "A", &[])).await;
    dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]))
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(fake.named("u@example.com").len(), 1);
    let job = store.job(ids[0]).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    assert_eq!(job.attempts, 1);
    let remote = store
        .remote_id(TENANT, "t", EntityKind::User, "u")
        .await
        .unwrap();
    assert!(remote.is_some());
    let calls: Vec<_> = store
        .attempts_for_job(ids[0])
        .await
        .unwrap()
        .into_iter()
        .map(|a| format!("{} {}", a.call, a.outcome))
        .collect();
    assert_eq!(calls, ["create transient", "lookup found", "update ok"]);
}

#[tokio::test]
async fn transient_failures_back_off_then_dead_letter_with_the_target_code() {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    for _ in 0..4 {
        fake.push_fault(Call::Create, transient("UNABLE_TO_LOCK_ROW", false), false);
    }
    let ids = create(&engine, user("u", "A", &[])).await;
    dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]))
        .run_until_idle()
        .await
        .unwrap();
    let job = store.job(ids[0]).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Dead);
    assert_eq!(job.attempts, 4);
    let error = job.error.unwrap();
    assert_eq!(error.kind, "transient");
    assert_eq!(error.code.as_deref(), Some("UNABLE_TO_LOCK_ROW"));
    // Replay with the fault gone succeeds.
    assert_eq!(
        engine.replay_dead_letters(TENANT, "t", None).await.unwrap(),
        1
    );
    dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]))
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(
        store.job(ids[0]).await.unwrap().unwrap().state,
        JobState::Done
    );
    assert_eq!(fake.named("u@example.com").len(), 1);
}

#[tokio::test]
async fn rate_limits_wait_for_the_hint_without_burning_attempts() {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    for _ in 0..6 {
        fake.push_fault(Call::Create, rate_limited(30), false);
    }
    let ids = create(&engine, user("u", "A", &[])).await;
    let started = std::time::Instant::now();
    dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]))
        .run_until_idle()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(6 * 30));
    let job = store.job(ids[0]).await.unwrap().unwrap();
    assert_eq!(
        job.state,
        JobState::Done,
        "six rate limits exceed max_attempts but burn none"
    );
    assert_eq!(job.attempts, 0);
}

#[tokio::test]
async fn quota_exhaustion_pauses_the_target_until_the_window_resets() {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    fake.push_fault(Call::Any, quota(400), false);
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.extend(create(&engine, user(&format!("u{i}"), "A", &[])).await);
    }
    let dispatcher = dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]));
    let run = tokio::spawn(async move { dispatcher.run_until_idle().await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let target = store.target(TENANT, "t").await.unwrap().unwrap();
    assert!(target.paused, "the target pauses on quota exhaustion");
    assert!(target.pause_reason.unwrap().contains("TotalRequests"));
    assert!(target.paused_until.unwrap() > now_ms());
    let started = std::time::Instant::now();
    run.await.unwrap().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    for job in store.jobs_by_id(&ids).await.unwrap() {
        assert_eq!(job.state, JobState::Done);
        assert_eq!(job.attempts, 0, "a quota pause burns no attempts");
    }
    assert_eq!(fake.objects().len(), 20);
    assert!(!store.target(TENANT, "t").await.unwrap().unwrap().paused);
}

#[tokio::test]
async fn auth_failure_pauses_the_target_and_surfaces_it_until_resumed() {
    let (store, _dir) = store().await;
    let slow_probe = OutboundSettings {
        backoff_cap_ms: 60_000,
        ..fast_settings()
    };
    add_target(&store, "t", slow_probe).await;
    add_target(&store, "other", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    let other = FakeTarget::new(true);
    fake.push_fault(Call::Create, auth_failed(), false);
    let ids = create(&engine, user("u", "A", &[])).await;
    let source = FakeSource::with(&[("t", fake.clone()), ("other", other.clone())]);
    let dispatcher = dispatcher(&engine, source);
    let run = tokio::spawn(async move { dispatcher.run_until_idle().await });
    let mut target = store.target(TENANT, "t").await.unwrap().unwrap();
    for _ in 0..100 {
        if target.paused {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        target = store.target(TENANT, "t").await.unwrap().unwrap();
    }
    assert!(target.paused);
    assert!(
        target.paused_until.unwrap() > now_ms() + 30_000,
        "probed again only after the cap"
    );
    assert!(target
        .pause_reason
        .unwrap()
        .contains("authentication failed"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let jobs = store.jobs_by_id(&ids).await.unwrap();
    let of = |name: &str| jobs.iter().find(|j| j.target == name).unwrap().clone();
    assert_eq!(of("t").state, JobState::Pending);
    assert_eq!(of("t").attempts, 0, "a pause burns no attempts");
    assert_eq!(
        of("other").state,
        JobState::Done,
        "other targets are not held up"
    );
    // The operator fixes the credentials and resumes the target: the job goes through.
    engine.resume_target(TENANT, "t").await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        states(&engine, &ids).await,
        [JobState::Done, JobState::Done]
    );
    assert_eq!(fake.objects().len(), 1);
}

#[tokio::test]
async fn invalid_data_dead_letters_and_replays_after_the_fix() {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    fake.state.lock().unwrap().foreign_names = vec!["u@example.com".into()];
    let ids = create(&engine, user("u", "A", &[])).await;
    let source = FakeSource::with(&[("t", fake.clone())]);
    dispatcher(&engine, source.clone())
        .run_until_idle()
        .await
        .unwrap();
    let dead = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Dead),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, ids[0]);
    assert_eq!(dead[0].attempts, 0, "a permanent error is not retried");
    assert_eq!(
        dead[0].error.as_ref().unwrap().code.as_deref(),
        Some("DUPLICATE_USERNAME")
    );
    assert_eq!(
        store
            .remote_id(TENANT, "t", EntityKind::User, "u")
            .await
            .unwrap(),
        None
    );

    fake.state.lock().unwrap().foreign_names.clear();
    engine
        .replay_dead_letters(TENANT, "t", Some(ids[0]))
        .await
        .unwrap();
    dispatcher(&engine, source).run_until_idle().await.unwrap();
    assert_eq!(states(&engine, &ids).await, [JobState::Done]);
    assert_eq!(fake.named("u@example.com").len(), 1);
}

#[tokio::test]
async fn without_returned_ids_updates_and_deletes_correlate_by_lookup() {
    let (store, _dir) = store().await;
    add_target(&store, "scim", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(false);
    let source = FakeSource::with(&[("scim", fake.clone())]);
    create(&engine, user("u", "A", &[])).await;
    dispatcher(&engine, source.clone())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(
        store
            .remote_id(TENANT, "scim", EntityKind::User, "u")
            .await
            .unwrap(),
        None,
        "no id is invented when the target returns none"
    );
    engine
        .apply_user_change(TENANT, UserChange::Update(user("u", "B", &[])))
        .await
        .unwrap();
    dispatcher(&engine, source.clone())
        .run_until_idle()
        .await
        .unwrap();
    let objects = fake.named("u@example.com");
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].claims[LASTNAME], ["B"]);
    assert!(store
        .remote_id(TENANT, "scim", EntityKind::User, "u")
        .await
        .unwrap()
        .is_some());

    // An update for a user the target never had: looks up, then creates.
    fake.state.lock().unwrap().objects.clear();
    store
        .clear_remote_id(TENANT, "scim", EntityKind::User, "u")
        .await
        .unwrap();
    engine
        .apply_user_change(TENANT, UserChange::Update(user("u", "C", &[])))
        .await
        .unwrap();
    dispatcher(&engine, source.clone())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(fake.named("u@example.com")[0].claims[LASTNAME], ["C"]);

    // A delete without a remote id looks up and deactivates what it finds.
    store
        .clear_remote_id(TENANT, "scim", EntityKind::User, "u")
        .await
        .unwrap();
    engine
        .apply_user_change(TENANT, UserChange::Delete { id: "u".into() })
        .await
        .unwrap();
    dispatcher(&engine, source).run_until_idle().await.unwrap();
    assert!(!fake.named("u@example.com")[0].active);
}

#[tokio::test]
async fn a_delete_with_nothing_remote_succeeds_and_never_stops_other_targets() {
    let (store, _dir) = store().await;
    add_target(&store, "a", fast_settings()).await;
    add_target(&store, "b", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let a = FakeTarget::new(true);
    let b = FakeTarget::new(true);
    let source = FakeSource::with(&[("a", a.clone()), ("b", b.clone())]);
    create(&engine, user("u", "A", &[])).await;
    dispatcher(&engine, source.clone())
        .run_until_idle()
        .await
        .unwrap();
    // Target `a` lost the user and our record of it.
    a.state.lock().unwrap().objects.clear();
    store
        .clear_remote_id(TENANT, "a", EntityKind::User, "u")
        .await
        .unwrap();
    let receipt = engine
        .apply_user_change(TENANT, UserChange::Delete { id: "u".into() })
        .await
        .unwrap();
    dispatcher(&engine, source).run_until_idle().await.unwrap();
    let ids: Vec<_> = receipt.jobs.iter().map(|j| j.job_id).collect();
    assert_eq!(
        states(&engine, &ids).await,
        [JobState::Done, JobState::Done]
    );
    assert!(!b.named("u@example.com")[0].active);
}

#[tokio::test]
async fn an_expired_lease_is_recovered_and_resolved_by_lookup() {
    let (store, _dir) = store().await;
    add_target(&store, "t", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    let ids = create(&engine, user("u", "A", &[])).await;
    // A process claims the job, sends the create, and dies before recording anything.
    let claimed = store
        .claim_jobs("dead-process", now_ms(), 50, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    fake.state.lock().unwrap().objects.insert(
        "R-crash".into(),
        FakeObject {
            name: "u@example.com".into(),
            claims: Default::default(),
            active: true,
        },
    );
    // The job of a live lease is not claimable by others.
    assert!(store
        .claim_jobs("other", now_ms(), 50, 10)
        .await
        .unwrap()
        .is_empty());
    tokio::time::sleep(Duration::from_millis(60)).await;
    let stats = dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]))
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(stats.recovered, 1);
    assert_eq!(
        fake.named("u@example.com").len(),
        1,
        "no duplicate after the crash"
    );
    assert_eq!(
        store
            .remote_id(TENANT, "t", EntityKind::User, "u")
            .await
            .unwrap()
            .as_deref(),
        Some("R-crash")
    );
    let job = store.job(ids[0]).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Done);
    // The update after adoption sent every claim.
    assert_eq!(fake.named("u@example.com")[0].claims[LASTNAME], ["A"]);
}

#[tokio::test]
async fn a_blocking_target_reports_its_outcome_to_the_caller() {
    let (store, _dir) = store().await;
    let blocking = OutboundSettings {
        blocking: true,
        blocking_timeout_ms: 5_000,
        ..fast_settings()
    };
    add_target(&store, "sync", blocking).await;
    add_target(&store, "async", fast_settings()).await;
    let engine = Engine::new(store.clone());
    let sync = FakeTarget::new(true);
    let slow = FakeTarget::new(true);
    sync.state.lock().unwrap().foreign_names = vec!["bad@example.com".into()];
    let source = FakeSource::with(&[("sync", sync.clone()), ("async", slow)]);
    let dispatcher = dispatcher(&engine, source);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        dispatcher
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let (receipt, outcomes) = engine
        .apply_user_change_blocking(TENANT, UserChange::Create(user("good", "A", &[])))
        .await
        .unwrap();
    assert_eq!(receipt.jobs.len(), 2);
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].target, "sync");
    assert_eq!(outcomes[0].state, JobState::Done);
    assert!(outcomes[0].remote_id.is_some());

    let (_, outcomes) = engine
        .apply_user_change_blocking(TENANT, UserChange::Create(user("bad", "A", &[])))
        .await
        .unwrap();
    assert_eq!(outcomes[0].state, JobState::Dead);
    assert_eq!(
        outcomes[0].error.as_ref().unwrap().code.as_deref(),
        Some("DUPLICATE_USERNAME")
    );
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_blocking_wait_is_bounded() {
    let (store, _dir) = store().await;
    let blocking = OutboundSettings {
        blocking: true,
        blocking_timeout_ms: 100,
        ..fast_settings()
    };
    add_target(&store, "sync", blocking).await;
    let engine = Engine::new(store.clone());
    // No dispatcher runs: the wait gives up after the target's timeout.
    let started = std::time::Instant::now();
    let (_, outcomes) = engine
        .apply_user_change_blocking(TENANT, UserChange::Create(user("u", "A", &[])))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(outcomes[0].state, JobState::Pending);
}

#[tokio::test]
async fn under_random_transient_faults_every_user_is_provisioned_exactly_once() {
    let (store, _dir) = store().await;
    let settings = OutboundSettings {
        max_attempts: 30,
        ..fast_settings()
    };
    add_target(&store, "t", settings).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    fake.state.lock().unwrap().fault_rate = 0.2;
    for i in 0..300 {
        create(&engine, user(&format!("u{i:03}"), "A", &[])).await;
    }
    for i in (0..300).step_by(3) {
        engine
            .apply_user_change(
                TENANT,
                UserChange::Update(user(&format!("u{i:03}"), "B", &[])),
            )
            .await
            .unwrap();
    }
    dispatcher(&engine, FakeSource::with(&[("t", fake.clone())]))
        .run_until_idle()
        .await
        .unwrap();
    let objects = fake.objects();
    assert_eq!(objects.len(), 300, "exactly one remote user per local user");
    for i in 0..300 {
        let name = format!("u{i:03}@example.com");
        let found = fake.named(&name);
        assert_eq!(found.len(), 1, "{name}");
        let expected = if i % 3 == 0 { "B" } else { "A" };
        assert_eq!(found[0].claims[LASTNAME], [expected], "{name}");
    }
    let counts = store.count_jobs(None).await.unwrap();
    assert!(
        counts.iter().all(|(state, _)| state.is_final()),
        "{counts:?}"
    );
    assert!(
        !counts.iter().any(|(state, _)| *state == JobState::Dead),
        "{counts:?}"
    );
    let _ = Arc::strong_count(&fake);
}
