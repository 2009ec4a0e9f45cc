//! Reconciliation end to end: the engine reads the emulated Salesforce org's users through the
//! real connector component (`list-entities`, paged by `nextRecordsUrl`), compares them with the
//! local users, reports the drift injected through the emulator's control API, and with repair
//! on converges in one run; a value the connector itself cuts is no drift (checked with a dry
//! run of the connector); the server's schedule reconciles a target when it is due.

#[path = "../../engine/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "support/salesforce.rs"]
mod salesforce_support;

use engine_support::*;
use provisioner_engine::store::{Drift, DriftKind, OutboundSettings, ReconcilePolicy};
use provisioner_engine::{Engine, ReconcileOptions, ReconcileReport};
use provisioner_server::{reconcile_schedule, Registry};
use salesforce_emulator::{Emulator, EmulatorConfig, Seed};
use salesforce_support::*;
use serde_json::json;

/// More users than one query batch holds (200 to 2,000), so the listing takes two pages.
const USERS: usize = 230;

fn settings() -> OutboundSettings {
    OutboundSettings {
        max_attempts: 5,
        backoff_base_ms: 20,
        backoff_cap_ms: 200,
        ..OutboundSettings::default()
    }
}

/// An org without the integration user, so every remote user is one the test made.
fn org() -> EmulatorConfig {
    EmulatorConfig {
        seed_integration_user: false,
        ..roomy_org()
    }
}

fn user_id(i: usize) -> String {
    format!("r{i:04}")
}

/// The drift of a report as (kind, local id, field, expected, actual), sorted.
fn summary(report: &ReconcileReport) -> Vec<(DriftKind, Option<String>, Option<String>)> {
    let mut out: Vec<_> = report
        .drift
        .iter()
        .map(|d| (d.kind, d.entity_id.clone(), d.field.clone()))
        .collect();
    out.sort_by_key(|(kind, id, field)| (kind.as_str(), id.clone(), field.clone()));
    out
}

/// Reconciles target `sf` with `repair` (None: the target's policy); returns the report.
async fn reconcile_sf(
    engine: &Engine,
    registry: &Registry,
    repair: Option<bool>,
) -> ReconcileReport {
    let options = ReconcileOptions {
        repair,
        ..ReconcileOptions::default()
    };
    engine
        .reconcile(registry, TENANT, "sf", options)
        .await
        .unwrap()
}

fn find(report: &ReconcileReport, kind: DriftKind) -> &Drift {
    report
        .drift
        .iter()
        .find(|d| d.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} in {:?}", report.drift))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_reported_and_one_repair_run_converges() {
    let emulator = Emulator::start(org()).await.unwrap();
    let (store, dir) = store().await;
    salesforce_target(&store, &emulator, "sf", settings(), dir.path()).await;
    let engine = Engine::new(store.clone());
    let registry = registry();
    for i in 0..USERS {
        create(&engine, sf_user(&user_id(i), "First")).await;
    }
    dispatcher(&engine, registry.clone())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(emulator.users().len(), USERS);

    // In sync: nothing to report.
    let clean = reconcile_sf(&engine, &registry, None).await;
    assert_eq!(clean.run.state.as_str(), "done", "{:?}", clean.run.error);
    assert_eq!(clean.run.remote_seen, USERS as i64);
    assert_eq!(clean.run.local_seen, USERS as i64);
    assert_eq!(
        clean.drift,
        vec![],
        "a freshly provisioned org has no drift"
    );

    // Drift made in the org behind the host's back.
    let remote = |i: usize| {
        users_named(&emulator, &format!("{}@example.com", user_id(i)))
            .remove(0)
            .id
    };
    let (deactivated, edited) = (remote(3), remote(7));
    emulator
        .edit_user(
            &deactivated,
            json!({"IsActive": false}).as_object().unwrap().clone(),
        )
        .unwrap();
    emulator
        .edit_user(
            &edited,
            json!({"LastName": "Edited"}).as_object().unwrap().clone(),
        )
        .unwrap();
    let stranger = emulator
        .seed(Seed {
            users: vec![json!({
                "Username": "stranger@example.com", "LastName": "Stranger", "Alias": "strange",
                "Email": "stranger@example.com", "TimeZoneSidKey": "GMT",
                "LocaleSidKey": "en_US", "EmailEncodingKey": "UTF-8",
                "LanguageLocaleKey": "en_US", "ProfileId": "00e90000001aV2o"
            })
            .as_object()
            .unwrap()
            .clone()],
            ..Seed::default()
        })
        .unwrap()
        .remove(0);

    // Report only (the target's default policy): exactly the three drifts, nothing queued.
    let jobs_before = store.count_jobs(None).await.unwrap();
    let report = reconcile_sf(&engine, &registry, None).await;
    assert_eq!(report.run.policy, ReconcilePolicy::Report);
    assert_eq!(report.run.remote_seen, USERS as i64 + 1);
    assert_eq!(report.run.drift_count, 3);
    assert_eq!(
        summary(&report),
        [
            (DriftKind::ActiveDiffers, Some(user_id(3)), None),
            (
                DriftKind::FieldDiffers,
                Some(user_id(7)),
                Some("LastName".to_owned())
            ),
            (DriftKind::UnknownRemotely, None::<String>, None::<String>),
        ]
    );
    let active = find(&report, DriftKind::ActiveDiffers);
    assert_eq!(active.remote_id.as_deref(), Some(deactivated.as_str()));
    assert_eq!(
        (active.expected.as_deref(), active.actual.as_deref()),
        (Some("true"), Some("false"))
    );
    let field = find(&report, DriftKind::FieldDiffers);
    assert_eq!(
        (field.expected.as_deref(), field.actual.as_deref()),
        (Some("First"), Some("Edited"))
    );
    let unknown = find(&report, DriftKind::UnknownRemotely);
    assert_eq!(unknown.remote_id.as_deref(), Some(stranger.as_str()));
    assert_eq!(unknown.user_name.as_deref(), Some("stranger@example.com"));
    assert!(report.drift.iter().all(|d| d.repair.is_none()));
    assert_eq!(store.count_jobs(None).await.unwrap(), jobs_before);

    // Repair: the same drift, each local one with the job that fixes it.
    let repair = reconcile_sf(&engine, &registry, Some(true)).await;
    assert_eq!(repair.run.policy, ReconcilePolicy::Repair);
    assert_eq!(summary(&repair), summary(&report));
    for kind in [DriftKind::ActiveDiffers, DriftKind::FieldDiffers] {
        let drift = find(&repair, kind);
        let job = drift.repair_job.expect("a repair job");
        assert_eq!(
            drift.repair.as_deref(),
            Some(format!("queued job {job}").as_str())
        );
        let job = store.job(job).await.unwrap().unwrap();
        assert_eq!(Some(job.entity_id), drift.entity_id.clone());
    }
    assert_eq!(find(&repair, DriftKind::UnknownRemotely).repair, None);
    dispatcher(&engine, registry.clone())
        .run_until_idle()
        .await
        .unwrap();
    let user = |id: &str| emulator.user(id).unwrap();
    assert_eq!(user(&deactivated).get("IsActive"), json!(true));
    assert_eq!(user(&edited).get("LastName"), json!("First"));
    assert_eq!(
        user(&stranger).get("IsActive"),
        json!(true),
        "an unknown user is never touched"
    );

    // Converged: only the unknown user is left.
    let after = reconcile_sf(&engine, &registry, None).await;
    assert_eq!(
        summary(&after),
        [(DriftKind::UnknownRemotely, None::<String>, None::<String>)],
        "{:?}",
        after.drift
    );

    // Every run is listed, newest first, and each report can be read again.
    let runs = store.reconcile_runs(TENANT, "sf", 10).await.unwrap();
    let ids: Vec<i64> = runs.iter().map(|run| run.id).collect();
    assert_eq!(
        ids,
        [after.run.id, repair.run.id, report.run.id, clean.run.id]
    );
    let again = engine
        .reconcile_report(TENANT, "sf", repair.run.id)
        .await
        .unwrap();
    assert_eq!(again, repair);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_the_target_never_received_is_missing_and_repair_creates_it() {
    let emulator = Emulator::start(org()).await.unwrap();
    let (store, dir) = store().await;
    salesforce_target(&store, &emulator, "sf", settings(), dir.path()).await;
    let engine = Engine::new(store.clone());
    let registry = registry();
    create(&engine, sf_user("present", "Here")).await;
    dispatcher(&engine, registry.clone())
        .run_until_idle()
        .await
        .unwrap();
    // A user whose job is still queued (the target is paused) is not in the org yet.
    engine
        .pause_target(TENANT, "sf", "maintenance")
        .await
        .unwrap();
    create(&engine, sf_user("late", "Later")).await;

    let report = reconcile_sf(&engine, &registry, None).await;
    assert_eq!(
        summary(&report),
        [(
            DriftKind::MissingRemotely,
            Some("late".to_owned()),
            None::<String>
        )]
    );
    assert_eq!(
        report.drift[0].user_name.as_deref(),
        Some("late@example.com")
    );
    assert_eq!(report.drift[0].remote_id, None);

    let repair = reconcile_sf(&engine, &registry, Some(true)).await;
    assert!(repair.drift[0].repair_job.is_some(), "{:?}", repair.drift);
    engine.resume_target(TENANT, "sf").await.unwrap();
    dispatcher(&engine, registry.clone())
        .run_until_idle()
        .await
        .unwrap();
    assert_eq!(
        users_named(&emulator, "late@example.com").len(),
        1,
        "created once"
    );
    let after = reconcile_sf(&engine, &registry, None).await;
    assert_eq!(after.drift, vec![]);
    emulator.shutdown().await;
}

#[tokio::test]
async fn a_connector_that_cannot_list_fails_the_run_with_the_reason() {
    let (store, _dir) = store().await;
    add_target(&store, "plain", settings()).await;
    let engine = Engine::new(store.clone());
    let source = FakeSource::of(vec![("plain", FakeTarget::new(true) as _)]);
    let report = engine
        .reconcile(&*source, TENANT, "plain", ReconcileOptions::default())
        .await
        .unwrap();
    assert_eq!(report.run.state.as_str(), "failed");
    let error = report.run.error.unwrap();
    assert!(error.contains("cannot list remote entities"), "{error}");
    // A failed run does not block the next one.
    let next = engine
        .reconcile(&*source, TENANT, "plain", ReconcileOptions::default())
        .await
        .unwrap();
    assert!(next.run.id > report.run.id);
    let missing = engine
        .reconcile(&*source, TENANT, "nope", ReconcileOptions::default())
        .await
        .unwrap_err();
    assert!(
        missing.to_string().contains("target `acme/nope` not found"),
        "{missing}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_target_is_reconciled_when_due_and_not_again_within_its_interval() {
    let emulator = Emulator::start(org()).await.unwrap();
    let (store, dir) = store().await;
    let hourly = OutboundSettings {
        reconcile_every_minutes: Some(60),
        ..settings()
    };
    salesforce_target(&store, &emulator, "hourly", hourly, dir.path()).await;
    salesforce_target(&store, &emulator, "on-demand", settings(), dir.path()).await;
    let engine = Engine::new(store.clone());
    // Never dispatched: the user is missing remotely, for the scheduled run to report.
    create(&engine, sf_user("s1", "Scheduled")).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let schedule = tokio::spawn(reconcile_schedule::run(
        engine.clone(),
        (*registry()).clone(),
        stopped,
        std::time::Duration::from_millis(50),
    ));
    // Never reconciled, so due at once: one run, with the target's policy (report).
    let mut runs = Vec::new();
    for _ in 0..600 {
        runs = store.reconcile_runs(TENANT, "hourly", 10).await.unwrap();
        if runs.iter().any(|run| run.finished_at.is_some()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(runs.len(), 1, "{runs:?}");
    let report = engine
        .reconcile_report(TENANT, "hourly", runs[0].id)
        .await
        .unwrap();
    assert_eq!(report.run.policy, ReconcilePolicy::Report);
    assert_eq!(
        summary(&report),
        [(DriftKind::MissingRemotely, Some("s1".to_owned()), None)]
    );
    // Twenty more checks: not due again within the hour, and a target without a schedule never.
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    assert_eq!(
        store
            .reconcile_runs(TENANT, "hourly", 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(store
        .reconcile_runs(TENANT, "on-demand", 10)
        .await
        .unwrap()
        .is_empty());
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(30), schedule)
        .await
        .expect("the schedule stops when told")
        .unwrap();
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_the_connector_cuts_is_no_drift_but_a_real_change_to_it_is() {
    let emulator = Emulator::start(org()).await.unwrap();
    let (store, dir) = store().await;
    salesforce_target(&store, &emulator, "sf", settings(), dir.path()).await;
    let engine = Engine::new(store.clone());
    let registry = registry();
    // The tutorial maps the given name to Alias, which Salesforce holds to 8 characters: the
    // connector sends "Christop".
    let mut user = sf_user("long", "Name");
    user.claims.insert(
        provisioner_server::tutorial::claim("givenname"),
        vec!["Christopher".to_owned()],
    );
    create(&engine, user).await;
    dispatcher(&engine, registry.clone())
        .run_until_idle()
        .await
        .unwrap();
    let remote = emulator.user_by_username("long@example.com").unwrap();
    assert_eq!(remote.get("Alias"), json!("Christop"));

    let clean = reconcile_sf(&engine, &registry, None).await;
    assert_eq!(summary(&clean), [], "{:?}", clean.drift);

    // Edited in the org, the Alias is drift, expected as the connector would write it.
    emulator
        .edit_user(
            &remote.id,
            json!({"Alias": "chris"}).as_object().unwrap().clone(),
        )
        .unwrap();
    let edited = reconcile_sf(&engine, &registry, None).await;
    let alias = find(&edited, DriftKind::FieldDiffers);
    assert_eq!(alias.field.as_deref(), Some("Alias"));
    assert_eq!(alias.expected.as_deref(), Some("Christop"));
    assert_eq!(alias.actual.as_deref(), Some("chris"));
    assert_eq!(edited.drift.len(), 1, "{:?}", edited.drift);
    emulator.shutdown().await;
}
