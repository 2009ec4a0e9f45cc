//! Tenants sharing one dispatcher, with real sandboxed components: a tenant whose target hangs
//! every call does not stall another tenant's provisioning, and a connector that answers
//! "rate-limited, retry after 0 ms" forever ends as a dead letter after a bounded number of calls.

#[path = "../../engine/tests/engine_support/mod.rs"]
mod engine_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use engine_support::*;
use provisioner_engine::policy::RateLimitPolicy;
use provisioner_engine::store::{JobFilter, JobState, OutboundSettings, Store, TargetSpec};
use provisioner_engine::{DispatcherConfig, Engine, UserChange, UserState};
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig};
use provisioner_server::Registry;
use tokio::sync::Notify;

/// A loopback target: `/hang` answers only once released, `/ok` at once.
struct Target {
    base: String,
    release: Arc<Notify>,
    hanging: Arc<AtomicUsize>,
}

async fn start_target() -> Target {
    #[derive(Clone)]
    struct Shared {
        release: Arc<Notify>,
        hanging: Arc<AtomicUsize>,
    }
    async fn hang(State(shared): State<Shared>) -> &'static str {
        shared.hanging.fetch_add(1, Ordering::SeqCst);
        shared.release.notified().await;
        shared.hanging.fetch_sub(1, Ordering::SeqCst);
        "released"
    }
    let shared = Shared {
        release: Arc::new(Notify::new()),
        hanging: Arc::new(AtomicUsize::new(0)),
    };
    let app = axum::Router::new()
        .route("/hang", axum::routing::get(hang))
        .route("/ok", axum::routing::get(|| async { "ok" }))
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Target {
        base,
        release: shared.release,
        hanging: shared.hanging,
    }
}

/// Registers `tenant`'s target `name` running the component at `component`.
async fn put_target(
    store: &Store,
    dir: &std::path::Path,
    tenant: &str,
    name: &str,
    component: &str,
    endpoint: &str,
    settings: OutboundSettings,
) {
    let secret = dir.join(format!("{tenant}-{name}-api-key"));
    std::fs::write(&secret, "api-key-0123456789").unwrap();
    store
        .put_target(&TargetSpec {
            tenant: tenant.into(),
            name: name.into(),
            connector: component.into(),
            properties: BTreeMap::from([("endpoint".to_owned(), endpoint.into())]),
            secret_refs: BTreeMap::from([(
                "api-key".to_owned(),
                format!("file:{}", secret.display()),
            )]),
            claim_mappings: vec![],
            settings,
            egress: Default::default(),
        })
        .await
        .unwrap();
}

fn registry() -> Arc<Registry> {
    let cache = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-tenants-cache");
    // One change per call: the tests count a hanging target's requests as its calls in flight
    // (a batch would send its changes' requests one after another within one call).
    let config = RuntimeConfig {
        max_batch_size: 1,
        ..RuntimeConfig::new(cache)
    };
    let runtime = Runtime::new(config).unwrap();
    Arc::new(Registry::with_runtime(runtime, EgressPolicy::loopback()))
}

/// A user whose single claim drives the test component.
fn user_with(id: &str, uri: &str, value: &str) -> UserState {
    let mut state = user(id, "Hostile", &[]);
    state.claims.insert(uri.to_owned(), vec![value.to_owned()]);
    state
}

async fn count(engine: &Engine, tenant: &str, state: JobState) -> usize {
    engine
        .store()
        .list_jobs(&JobFilter {
            tenant: Some(tenant.into()),
            state: Some(state),
            ..JobFilter::default()
        })
        .await
        .unwrap()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_tenant_whose_target_hangs_does_not_stall_another_tenant() {
    let target = start_target().await;
    let (store, dir) = store().await;
    let patient = OutboundSettings {
        max_attempts: 1,
        ..OutboundSettings::default()
    };
    let echo = test_components::GUEST_ECHO;
    put_target(
        &store,
        dir.path(),
        "noisy",
        "slow",
        echo,
        &target.base,
        patient.clone(),
    )
    .await;
    put_target(
        &store,
        dir.path(),
        "quiet",
        "fast",
        echo,
        &target.base,
        patient,
    )
    .await;
    let engine = Engine::new(store.clone());
    // The noisy tenant's backlog is queued first, so a first-come dispatcher would serve it first.
    for i in 0..24 {
        let state = user_with(&format!("n{i:02}"), "urn:echo:path", "/hang");
        engine
            .apply_user_change("noisy", UserChange::Create(state))
            .await
            .unwrap();
    }
    for i in 0..8 {
        let state = user_with(&format!("q{i:02}"), "urn:echo:path", "/ok");
        engine
            .apply_user_change("quiet", UserChange::Create(state))
            .await
            .unwrap();
    }

    let config = DispatcherConfig {
        workers: 8,
        target_max_concurrency: 4,
        call_timeout: Duration::from_secs(120),
        ..test_config()
    };
    let (stop, run) = start(provisioner_engine::Dispatcher::new(
        &engine,
        registry(),
        config,
    ));
    // Every quiet job completes while the noisy target holds its calls.
    tokio::time::timeout(Duration::from_secs(120), async {
        while count(&engine, "quiet", JobState::Done).await < 8 {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the quiet tenant's jobs finish while the noisy tenant's target hangs");
    assert_eq!(count(&engine, "noisy", JobState::Done).await, 0);
    let hanging = target.hanging.load(Ordering::SeqCst);
    assert!(
        (1..=4).contains(&hanging),
        "the hanging target holds {hanging} calls; its cap is 4"
    );

    // Released, the noisy backlog drains too: nothing was lost while it waited.
    let drained = tokio::time::timeout(Duration::from_secs(120), async {
        while count(&engine, "noisy", JobState::Done).await < 24 {
            target.release.notify_waiters();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let _ = stop.send(());
    run.await.unwrap().unwrap();
    drained.expect("the noisy backlog drains once its target answers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limited_with_retry_after_zero_forever_ends_as_a_dead_letter() {
    let (store, dir) = store().await;
    let settings = OutboundSettings {
        max_attempts: 3,
        backoff_base_ms: 5,
        backoff_cap_ms: 20,
        ..OutboundSettings::default()
    };
    put_target(
        &store,
        dir.path(),
        TENANT,
        "greedy",
        test_components::GUEST_OVERREACH,
        "http://127.0.0.1:1",
        settings,
    )
    .await;
    let engine = Engine::new(store.clone());
    let state = user_with("r00", "urn:overreach:act", "rate-limit-zero");
    engine
        .apply_user_change(TENANT, UserChange::Create(state))
        .await
        .unwrap();
    let config = DispatcherConfig {
        rate_limits: RateLimitPolicy {
            retry_after_floor_ms: 10,
            budget_ms: 100,
        },
        ..test_config()
    };
    let dispatcher = provisioner_engine::Dispatcher::new(&engine, registry(), config);
    let stats = tokio::time::timeout(Duration::from_secs(60), dispatcher.run_until_idle())
        .await
        .expect("the job ends instead of being retried forever")
        .unwrap();
    assert_eq!(stats.dead, 1, "{stats:?}");
    let job = &engine
        .store()
        .list_jobs(&JobFilter::default())
        .await
        .unwrap()[0];
    let calls = engine.store().attempts_for_job(job.id).await.unwrap().len();
    // Free retries within the 100 ms budget at a 10 ms floor, then the three attempts.
    assert!(
        (4..=14).contains(&calls),
        "{calls} calls before the job ended"
    );
}
