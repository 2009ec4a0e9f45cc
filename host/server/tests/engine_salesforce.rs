//! The engine provisioning into the Salesforce emulator through the real connector component:
//! injected faults, permanent errors with Salesforce's codes and replay, ordering, and
//! TotalRequests exhaustion.

#[path = "../../engine/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "support/salesforce.rs"]
mod salesforce_support;

use std::time::Duration;

use engine_support::*;
use provisioner_engine::store::{JobFilter, JobState, OutboundSettings};
use provisioner_engine::{Engine, UserChange};
use provisioner_server::tutorial::claim;
use salesforce_emulator::{Emulator, FaultKind, FaultSpec, LimitsUpdate, Operation, Seed};
use salesforce_support::*;

fn settings() -> OutboundSettings {
    OutboundSettings {
        max_attempts: 20,
        backoff_base_ms: 20,
        backoff_cap_ms: 500,
        ..OutboundSettings::default()
    }
}

fn last_name(record: &salesforce_emulator::UserRecord) -> String {
    record
        .get("LastName")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn is_active(record: &salesforce_emulator::UserRecord) -> bool {
    record.get("IsActive").as_bool().unwrap_or(false)
}

async fn assert_no_work_left(engine: &Engine) {
    let counts = engine.store().count_jobs(None).await.unwrap();
    let dead = engine
        .store()
        .list_jobs(&JobFilter {
            state: Some(JobState::Dead),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    for job in &dead {
        let attempts = engine.store().attempts_for_job(job.id).await.unwrap();
        eprintln!("dead: {job:?}\n  calls: {attempts:?}");
    }
    assert!(
        counts
            .iter()
            .all(|(state, _)| state.is_final() && *state != JobState::Dead),
        "{counts:?}"
    );
}

/// The target once it is paused, polling for up to 6 seconds; `None` if it never pauses.
async fn paused_target(
    store: &provisioner_engine::store::Store,
    name: &str,
) -> Option<provisioner_engine::store::TargetRecord> {
    for _ in 0..300 {
        let target = store.target(TENANT, name).await.unwrap().unwrap();
        if target.paused {
            return Some(target);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn under_injected_faults_every_user_is_provisioned_exactly_once() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    salesforce_single_call_target(&store, &emulator, "sf", settings(), dir.path()).await;
    let engine = Engine::new(store.clone());
    // About a fifth of the data calls fail, each way a real org or its edge fails.
    for op in [Operation::Create, Operation::Update, Operation::Query] {
        let write = op != Operation::Query;
        // (kind, probability, whether the write is applied before the failure is answered:
        // only where the real failure leaves the outcome unknown)
        for (kind, p, applied) in [
            (FaultKind::ServerUnavailable, 0.04, true),
            (FaultKind::UnableToLockRow, 0.04, false),
            (FaultKind::InvalidSessionId, 0.03, false),
            (FaultKind::ConcurrentLimit, 0.03, false),
            (FaultKind::ConnectionReset, 0.03, true),
        ] {
            emulator.arm_fault(
                FaultSpec::new(op, kind)
                    .probability(p)
                    .apply_write(write && applied),
            );
        }
    }
    // A slow create: applied, but answered after the connector's 2 s request timeout.
    emulator.arm_fault(FaultSpec::delay(Operation::Create, 2_500).probability(0.03));

    let users = 200;
    for i in 0..users {
        create(&engine, sf_user(&format!("f{i:04}"), "First")).await;
    }
    for i in (0..users).step_by(4) {
        engine
            .apply_user_change(
                TENANT,
                UserChange::Update(sf_user(&format!("f{i:04}"), "Second")),
            )
            .await
            .unwrap();
    }
    let stats = dispatcher(&engine, registry())
        .run_until_idle()
        .await
        .unwrap();
    let fired: u32 = emulator.faults().iter().map(|f| f.fired).sum();
    assert!(fired > 20, "faults fired: {fired}");
    for i in 0..users {
        let username = format!("f{i:04}@example.com");
        let found = users_named(&emulator, &username);
        assert_eq!(found.len(), 1, "{username} exists exactly once ({stats:?})");
        let expected = if i % 4 == 0 { "Second" } else { "First" };
        assert_eq!(last_name(&found[0]), expected, "{username}");
        assert!(is_active(&found[0]));
    }
    assert_no_work_left(&engine).await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permanent_errors_dead_letter_with_salesforce_codes_and_replay_after_the_fix() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    salesforce_target(&store, &emulator, "sf", settings(), dir.path()).await;
    let engine = Engine::new(store.clone());
    let registry = registry();

    // A Username another Salesforce org holds.
    let mut taken = sf_user("taken", "Taken");
    taken.user_name = "taken@other-org.example.com".into();
    let ids = create(&engine, taken).await;
    dispatcher(&engine, registry.clone())
        .run_until_idle()
        .await
        .unwrap();
    let job = store.job(ids[0]).await.unwrap().unwrap();
    assert_eq!(job.state, JobState::Dead);
    let error = job.error.unwrap();
    assert_eq!(
        error.code.as_deref(),
        Some("DUPLICATE_USERNAME"),
        "{error:?}"
    );
    assert_eq!(error.kind, "invalid_data");

    // The other org releases the name; the replay succeeds.
    emulator
        .seed(Seed {
            other_org_usernames: Some(vec![]),
            ..Seed::default()
        })
        .unwrap();
    assert_eq!(
        engine
            .replay_dead_letters(TENANT, "sf", None)
            .await
            .unwrap(),
        1
    );
    dispatcher(&engine, registry.clone())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(
        store.job(ids[0]).await.unwrap().unwrap().state,
        JobState::Done
    );
    assert_eq!(
        users_named(&emulator, "taken@other-org.example.com").len(),
        1
    );

    // A garbage ProfileId default (product-is#2135) for users without a role claim.
    let mut spec = salesforce_spec(&emulator, "sf", settings(), dir.path());
    let good = spec.claim_mappings.clone();
    for mapping in &mut spec.claim_mappings {
        if mapping.target_field == "ProfileId" {
            mapping.default_value = Some("1516356091429".into());
        }
    }
    store.put_target(&spec).await.unwrap();
    let ids = create(&engine, sf_user("noprofile", "Nobody")).await;
    dispatcher(&engine, registry.clone())
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
    let error = dead[0].error.clone().unwrap();
    assert_eq!(error.code.as_deref(), Some("MALFORMED_ID"), "{error:?}");
    assert!(users_named(&emulator, "noprofile@example.com").is_empty());

    // Fix the target's mapping, replay: the user is created once.
    spec.claim_mappings = good;
    store.put_target(&spec).await.unwrap();
    engine
        .replay_dead_letters(TENANT, "sf", Some(ids[0]))
        .await
        .unwrap();
    dispatcher(&engine, registry)
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(
        store.job(ids[0]).await.unwrap().unwrap().state,
        JobState::Done
    );
    assert_eq!(users_named(&emulator, "noprofile@example.com").len(), 1);
    assert_no_work_left(&engine).await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_update_update_delete_back_to_back_end_in_the_right_remote_state() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    salesforce_target(&store, &emulator, "sf", settings(), dir.path()).await;
    let engine = Engine::new(store.clone());
    let dispatcher = dispatcher(&engine, registry());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        dispatcher
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    // Issued back to back while the dispatcher runs, for several users at once.
    for i in 0..10 {
        let id = format!("o{i}");
        engine
            .apply_user_change(TENANT, UserChange::Create(sf_user(&id, "One")))
            .await
            .unwrap();
        for last in ["Two", "Three"] {
            engine
                .apply_user_change(TENANT, UserChange::Update(sf_user(&id, last)))
                .await
                .unwrap();
        }
        if i % 2 == 0 {
            engine
                .apply_user_change(TENANT, UserChange::Delete { id: id.clone() })
                .await
                .unwrap();
        }
    }
    let all: Vec<i64> = engine
        .store()
        .list_jobs(&JobFilter {
            limit: Some(1000),
            ..JobFilter::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|j| j.id)
        .collect();
    let outcomes = engine
        .wait_for_jobs(&all, Duration::from_secs(60))
        .await
        .unwrap();
    assert!(outcomes.iter().all(|o| o.state.is_final()), "{outcomes:?}");
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    for i in 0..10 {
        let found = users_named(&emulator, &format!("o{i}@example.com"));
        if i % 2 == 0 {
            // Deleted: never created, or deactivated (Salesforce never deletes users).
            assert!(found.iter().all(|u| !is_active(u)), "o{i}");
        } else {
            assert_eq!(found.len(), 1, "o{i}");
            assert_eq!(last_name(&found[0]), "Three");
            assert!(is_active(&found[0]));
        }
    }
    assert_no_work_left(&engine).await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn total_requests_exhaustion_pauses_the_target_and_resumes_after_the_window() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    let quota_settings = OutboundSettings {
        // Salesforce gives no reset hint: the pause lasts the backoff cap, then probes.
        backoff_cap_ms: 1_500,
        ..settings()
    };
    salesforce_single_call_target(&store, &emulator, "sf", quota_settings, dir.path()).await;
    let engine = Engine::new(store.clone());
    let used = emulator.api_usage().used;
    emulator.set_limits(LimitsUpdate {
        max: Some(used + 60),
        ..LimitsUpdate::default()
    });
    let users = 120;
    for i in 0..users {
        create(&engine, sf_user(&format!("q{i:03}"), "Quota")).await;
    }
    let dispatcher = dispatcher(&engine, registry());
    let run = tokio::spawn(async move { dispatcher.run_until_idle().await });
    let paused = paused_target(&store, "sf")
        .await
        .expect("the target pauses when TotalRequests is exhausted");
    assert!(paused.pause_reason.unwrap().contains("TotalRequests"));
    assert!(paused.paused_until.is_some());
    // The daily window resets.
    emulator.set_limits(LimitsUpdate {
        max: Some(100_000_000),
        reset: true,
        ..LimitsUpdate::default()
    });
    tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    for i in 0..users {
        let username = format!("q{i:03}@example.com");
        assert_eq!(users_named(&emulator, &username).len(), 1, "{username}");
    }
    let jobs = store
        .list_jobs(&JobFilter {
            limit: Some(1000),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert!(jobs
        .iter()
        .all(|j| j.state == JobState::Done && j.attempts == 0));
    assert!(!store.target(TENANT, "sf").await.unwrap().unwrap().paused);
    let _ = claim("lastname");
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connectors_of_contract_0_1_and_0_2_serve_targets_side_by_side() {
    let new_org = Emulator::start(roomy_org()).await.unwrap();
    let old_org = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    salesforce_target(&store, &new_org, "sf-new", settings(), dir.path()).await;
    let mut old = salesforce_spec(&old_org, "sf-old", settings(), dir.path());
    old.connector = test_components::SALESFORCE_CONNECTOR_V0_1.into();
    store.put_target(&old).await.unwrap();
    let engine = Engine::new(store.clone());

    let users = 12;
    for i in 0..users {
        create(&engine, sf_user(&format!("s{i:02}"), "First")).await;
    }
    for i in 0..4 {
        engine
            .apply_user_change(
                TENANT,
                UserChange::Update(sf_user(&format!("s{i:02}"), "Second")),
            )
            .await
            .unwrap();
    }
    engine
        .apply_user_change(TENANT, UserChange::Delete { id: "s11".into() })
        .await
        .unwrap();
    dispatcher(&engine, registry())
        .run_until_idle()
        .await
        .unwrap();

    for org in [&new_org, &old_org] {
        for i in 0..users {
            let username = format!("s{i:02}@example.com");
            let found = users_named(org, &username);
            if i == 11 {
                // Deactivated and renamed out of the way; no user keeps the name active.
                assert!(found.iter().all(|u| !is_active(u)), "{username}");
                continue;
            }
            assert_eq!(found.len(), 1, "{username} exists exactly once");
            let expected = if i < 4 { "Second" } else { "First" };
            assert_eq!(last_name(&found[0]), expected, "{username}");
            assert!(is_active(&found[0]), "{username}");
        }
    }
    assert_no_work_left(&engine).await;
    new_org.shutdown().await;
    old_org.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unresolvable_secret_pauses_the_target_with_the_key_and_loses_nothing() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir) = store().await;
    let mut spec = salesforce_spec(&emulator, "sf", settings(), dir.path());
    spec.secret_refs.insert(
        "sf-client-secret".into(),
        "env:PROVISIONER_TEST_SURELY_UNSET_SECRET".into(),
    );
    store.put_target(&spec).await.unwrap();
    let engine = Engine::new(store.clone());
    create(&engine, sf_user("p0", "Paused")).await;
    let dispatcher = dispatcher(&engine, registry());
    let run = tokio::spawn(async move { dispatcher.run_until_idle().await });

    let paused = paused_target(&store, "sf").await;
    run.abort();
    let reason = paused
        .expect("the target pauses when its connector cannot be built")
        .pause_reason
        .unwrap();
    assert!(reason.contains("secret `sf-client-secret`"), "{reason}");
    assert!(
        reason.contains("PROVISIONER_TEST_SURELY_UNSET_SECRET"),
        "{reason}"
    );
    // The job waits for an operator; nothing reached the org.
    let jobs = store
        .list_jobs(&JobFilter {
            tenant: Some(TENANT.into()),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].state, JobState::Pending);
    assert!(users_named(&emulator, "p0@example.com").is_empty());
    emulator.shutdown().await;
}
