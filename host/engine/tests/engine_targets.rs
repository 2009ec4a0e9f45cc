//! Target lifecycle in the store: revision history and rollback, delete (refused while jobs are
//! open, `force` dead-letters them), seeding from the configuration file without reverting a
//! run-time change, components stored by digest, and a connector that is not ready yet leaving
//! its jobs queued without pausing the target.

mod engine_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use provisioner_engine::connector::{
    ConnectorSource, ConnectorUnavailable, TargetConnector, CONNECTOR_NOT_READY,
};
use provisioner_engine::store::{
    component_reference, JobFilter, JobState, OutboundSettings, Seeded, StoreError, TargetEgress,
    TargetOrigin, TargetRecord, TargetSpec,
};
use provisioner_engine::{Engine, UserChange};

use engine_support::{create, dispatcher, fast_settings, start, store, user, FakeTarget, TENANT};

fn spec(name: &str, connector: &str) -> TargetSpec {
    TargetSpec {
        tenant: TENANT.into(),
        name: name.into(),
        connector: connector.into(),
        properties: BTreeMap::from([("endpoint".to_owned(), "https://a.example".into())]),
        secret_refs: BTreeMap::new(),
        claim_mappings: vec![],
        settings: OutboundSettings::default(),
        egress: TargetEgress::default(),
    }
}

#[tokio::test]
async fn every_put_is_a_revision_and_rollback_switches_back_as_a_new_one() {
    let (store, _dir) = store().await;
    store.put_target(&spec("crm", "sha256:aaaa")).await.unwrap();
    let mut second = spec("crm", "sha256:bbbb");
    second.egress.allow_loopback = true;
    let now = store.put_target(&second).await.unwrap();
    assert_eq!(now.revision, 2);
    assert_eq!(now.origin, TargetOrigin::Operator);
    assert!(
        now.spec.egress.allow_loopback,
        "the egress policy is stored"
    );

    let back = store.rollback_target(TENANT, "crm", None).await.unwrap();
    assert_eq!(back.revision, 3);
    assert_eq!(back.spec.connector, "sha256:aaaa");
    assert!(!back.spec.egress.allow_loopback);
    let stored = store.target(TENANT, "crm").await.unwrap().unwrap();
    assert_eq!(stored.spec, back.spec);

    let history = store.target_history(TENANT, "crm").await.unwrap();
    let listed: Vec<(i64, &str, &str)> = history
        .iter()
        .map(|r| (r.revision, r.spec.connector.as_str(), r.note.as_str()))
        .collect();
    assert_eq!(
        listed,
        [
            (3, "sha256:aaaa", "rollback to 1"),
            (2, "sha256:bbbb", "put"),
            (1, "sha256:aaaa", "put"),
        ]
    );

    // Forward again to revision 2 by number.
    let forward = store.rollback_target(TENANT, "crm", Some(2)).await.unwrap();
    assert_eq!(forward.spec.connector, "sha256:bbbb");
    // Nothing earlier than revision 1, and no rollback to the current or a later one.
    let error = store
        .rollback_target(TENANT, "crm", Some(9))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("earlier"), "{error}");
    let error = store
        .rollback_target(TENANT, "nope", None)
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::NotFound(_)), "{error}");
}

#[tokio::test]
async fn an_unknown_field_in_a_spec_is_refused_by_name() {
    let text = r#"{"tenant": "acme", "name": "crm", "connector": "builtin:x",
        "egress": {"allow_loopbak": true}}"#;
    let error = serde_json::from_str::<TargetSpec>(text).unwrap_err();
    assert!(error.to_string().contains("allow_loopbak"), "{error}");
    let minimal: TargetSpec =
        serde_json::from_str(r#"{"tenant": "acme", "name": "crm", "connector": "builtin:x"}"#)
            .unwrap();
    assert_eq!(minimal.egress, TargetEgress::default());
}

#[tokio::test]
async fn delete_is_refused_while_jobs_are_pending_and_force_dead_letters_them() {
    let (store, _dir) = store().await;
    store.put_target(&spec("crm", "sha256:aaaa")).await.unwrap();
    let engine = Engine::new(store.clone());
    let jobs = create(&engine, user("u1", "One", &[])).await;
    assert_eq!(jobs.len(), 1);

    let error = store.delete_target(TENANT, "crm", false).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("1 pending") && message.contains("--force"),
        "{message}"
    );
    assert!(store.target(TENANT, "crm").await.unwrap().is_some());

    let deleted = store.delete_target(TENANT, "crm", true).await.unwrap();
    assert_eq!(deleted.dead_lettered, 1);
    assert!(store.target(TENANT, "crm").await.unwrap().is_none());
    assert!(store
        .target_history(TENANT, "crm")
        .await
        .unwrap()
        .is_empty());
    let dead = store
        .list_jobs(&JobFilter {
            state: Some(JobState::Dead),
            ..JobFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0].error.as_ref().unwrap().message,
        "the target was deleted"
    );

    // A target without open jobs goes without --force.
    store
        .put_target(&spec("other", "sha256:aaaa"))
        .await
        .unwrap();
    let deleted = store.delete_target(TENANT, "other", false).await.unwrap();
    assert_eq!(deleted.dead_lettered, 0);
}

#[tokio::test]
async fn seeding_keeps_a_run_time_change_unless_reseeding() {
    let (store, _dir) = store().await;
    let file = spec("crm", "builtin:file-version");
    assert!(matches!(
        store.seed_target(&file, false).await.unwrap(),
        Seeded::Created(_)
    ));
    assert!(matches!(
        store.seed_target(&file, false).await.unwrap(),
        Seeded::Unchanged(_)
    ));
    // The file changes while the target is still the file's: the file wins.
    let file2 = spec("crm", "builtin:file-version-2");
    let updated = store.seed_target(&file2, false).await.unwrap();
    assert!(matches!(updated, Seeded::Updated(_)));
    assert_eq!(updated.record().origin, TargetOrigin::Config);

    // An operator changes it at run time: the next start keeps that.
    store
        .put_target(&spec("crm", "sha256:runtime"))
        .await
        .unwrap();
    let kept = store.seed_target(&file2, false).await.unwrap();
    assert!(matches!(kept, Seeded::KeptRuntime(_)), "{kept:?}");
    assert_eq!(kept.record().spec.connector, "sha256:runtime");
    let stored = store.target(TENANT, "crm").await.unwrap().unwrap();
    assert_eq!(stored.spec.connector, "sha256:runtime");

    // Reseeding applies the file's version; the run-time one stays in the history.
    let reseeded = store.seed_target(&file2, true).await.unwrap();
    assert!(matches!(reseeded, Seeded::Updated(_)));
    assert_eq!(reseeded.record().spec.connector, "builtin:file-version-2");
    let history = store.target_history(TENANT, "crm").await.unwrap();
    assert_eq!(history[1].spec.connector, "sha256:runtime");
}

#[tokio::test]
async fn components_are_stored_once_by_digest() {
    let (store, _dir) = store().await;
    let bytes = b"\0asm not really a component".to_vec();
    let stored = store.put_component(&bytes).await.unwrap();
    assert_eq!(stored.reference, component_reference(&bytes));
    assert!(stored.reference.starts_with("sha256:"));
    assert_eq!(stored.size, bytes.len() as i64);
    let again = store.put_component(&bytes).await.unwrap();
    assert_eq!(again, stored);
    assert_eq!(store.components().await.unwrap(), vec![stored.clone()]);
    assert_eq!(
        store.component_bytes(&stored.reference).await.unwrap(),
        Some(bytes)
    );
    assert_eq!(
        store.component_bytes("sha256:0000").await.unwrap(),
        None,
        "an unknown digest is absent"
    );
}

/// Answers "not ready" until `ready` is set, then the fake target.
struct SlowToPrepare {
    ready: AtomicBool,
    asked: AtomicUsize,
    target: Arc<FakeTarget>,
}

impl ConnectorSource for SlowToPrepare {
    fn connector<'a>(
        &'a self,
        _target: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Arc<dyn TargetConnector>, ConnectorUnavailable>> {
        Box::pin(async move {
            self.asked.fetch_add(1, Ordering::SeqCst);
            if !self.ready.load(Ordering::SeqCst) {
                return Err(ConnectorUnavailable::NotReady("compiling".into()));
            }
            Ok(self.target.clone() as Arc<dyn TargetConnector>)
        })
    }
}

#[tokio::test]
async fn a_connector_not_ready_yet_leaves_jobs_queued_and_nobody_waits_on_it() {
    let (store, _dir) = store().await;
    let mut crm = spec("crm", "fake");
    crm.settings = fast_settings();
    crm.settings.blocking = true;
    crm.settings.max_attempts = 1;
    store.put_target(&crm).await.unwrap();
    let engine = Engine::new(store.clone());
    let target = FakeTarget::new(true);
    let source = Arc::new(SlowToPrepare {
        ready: AtomicBool::new(false),
        asked: AtomicUsize::new(0),
        target: target.clone(),
    });
    let (stop, run) = start(dispatcher(&engine, source.clone()));

    // A blocking write does not wait for a connector still being prepared (the wait's own
    // limit is far longer than this test may take).
    let (_, outcomes) = engine
        .apply_user_change_blocking(TENANT, UserChange::Create(user("u1", "One", &[])))
        .await
        .unwrap();
    assert_eq!(outcomes[0].state, JobState::Pending, "{outcomes:?}");
    assert_eq!(
        outcomes[0].error.as_ref().map(|e| e.kind.as_str()),
        Some(CONNECTOR_NOT_READY)
    );
    let stored = store.target(TENANT, "crm").await.unwrap().unwrap();
    assert!(!stored.paused, "not ready is no fault: {stored:?}");

    source.ready.store(true, Ordering::SeqCst);
    let id = outcomes[0].job_id;
    let mut state = JobState::Pending;
    for _ in 0..600 {
        state = engine
            .wait_for_jobs(&[id], Duration::from_secs(1))
            .await
            .unwrap()[0]
            .state;
        if state.is_final() {
            break;
        }
    }
    stop.send(()).unwrap();
    run.await.unwrap().unwrap();
    assert_eq!(state, JobState::Done);
    assert_eq!(target.objects().len(), 1);
    let job = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        job.attempts, 0,
        "waiting for the connector spent no attempt"
    );
    assert!(job.error.is_none(), "{:?}", job.error);
}
