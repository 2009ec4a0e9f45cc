//! Safe hot swap of a target's connector, against a real server (`provisioner_server::start`),
//! real SQLite, real components built from source and real HTTP servers on loopback: a typo'd
//! property is refused with the key named and nothing changed; a put switches a running server
//! to another component without restart, reaching a loopback target through the stored egress
//! policy; rollback and delete; a restart keeps the run-time version and says so; the replaced
//! component is evicted from memory.

#[path = "support/org.rs"]
mod org_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use org_support::org;
use provisioner_engine::store::{
    OutboundSettings, Store, TargetEgress, TargetOrigin, TargetRecord, TargetSpec,
};
use provisioner_server::admission::{admit, Admitted, Refused};
use provisioner_server::{self as server, quickstart, EngineBackend, ServerConfig, ServerHandle};
use salesforce_emulator::{Emulator, EmulatorConfig};
use scim::resource::{new_id, MultiValue, Name};
use scim::{ScimBackend, TenantId, UserResource};

const TARGET: &str = "Salesforce.com";

/// An HTTP server on loopback recording the path of every request it gets.
struct Sink {
    url: String,
    paths: Arc<Mutex<Vec<String>>>,
    stop: tokio::sync::oneshot::Sender<()>,
}

async fn sink() -> Sink {
    let paths: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = paths.clone();
    let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(uri.path().to_owned());
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Sink { url, paths, stop }
}

fn config(emulator: &Emulator, dir: &Path) -> ServerConfig {
    let mut config = quickstart::config(&org(emulator), dir, "127.0.0.1:0", "pw");
    config.dispatcher.poll_ms = 50;
    config.runtime.cache_dir = Some(dir.join("cache"));
    config
}

/// The echo test connector as the tenant's `salesforce` target, pointed at `endpoint`.
fn echo_spec(endpoint: &str, properties: &[(&str, &str)], egress: TargetEgress) -> TargetSpec {
    let mut values: BTreeMap<String, serde_json::Value> =
        BTreeMap::from([("endpoint".to_owned(), endpoint.into())]);
    for (key, value) in properties {
        values.insert((*key).to_owned(), (*value).into());
    }
    TargetSpec {
        tenant: quickstart::TENANT.into(),
        name: TARGET.into(),
        connector: test_components::GUEST_ECHO.into(),
        properties: values,
        secret_refs: BTreeMap::new(),
        claim_mappings: vec![],
        settings: OutboundSettings::default(),
        egress,
    }
}

async fn put(config: &ServerConfig, spec: TargetSpec) -> Result<Admitted, Refused> {
    let engine = server::open_engine(config).await.unwrap();
    let runtime = server::runtime(config).unwrap();
    let lines = Mutex::new(Vec::new());
    let admitted = admit(engine.store(), &runtime, spec, None, &|line| {
        lines.lock().unwrap().push(line.to_owned())
    })
    .await;
    engine.store().close().await;
    if admitted.is_ok() {
        let lines = lines.into_inner().unwrap();
        assert_eq!(
            lines.len(),
            2,
            "a line before and after compiling: {lines:?}"
        );
        assert!(lines[1].contains(" s: echo 0.1.0"), "{lines:?}");
    }
    admitted
}

async fn create_user(handle: &ServerHandle, name: &str) {
    let backend = EngineBackend::new(handle.engine().clone());
    let user = UserResource {
        id: new_id(),
        user_name: name.into(),
        name: Some(Name {
            family_name: Some("Swap".into()),
            ..Name::default()
        }),
        emails: vec![MultiValue {
            value: Some(name.into()),
            primary: Some(true),
            ..MultiValue::default()
        }],
        ..UserResource::default()
    };
    backend
        .create_user(&TenantId::new(quickstart::TENANT), user)
        .await
        .unwrap();
}

/// Polls `done` every 50 ms, at most 60 s; whether it came true.
async fn eventually(mut done: impl FnMut() -> bool) -> bool {
    for _ in 0..1200 {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

async fn stored(store: &Store) -> TargetRecord {
    store
        .target(quickstart::TENANT, TARGET)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typo_or_a_missing_file_is_refused_naming_it_and_nothing_changes() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(&emulator, dir.path());
    server::start(config.clone())
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();
    let engine = server::open_engine(&config).await.unwrap();
    let before = stored(engine.store()).await;

    let typo = echo_spec(
        "http://127.0.0.1:9",
        &[("endpiont", "http://127.0.0.1:9"), ("usrname", "x")],
        TargetEgress::default(),
    );
    let refused = put(&config, typo).await.unwrap_err();
    let message = refused.to_string();
    assert_eq!(refused.problems.len(), 2, "{message}");
    assert!(message.contains("`endpiont`: not a property"), "{message}");
    assert!(message.contains("`usrname`"), "{message}");
    assert!(
        message.contains("its properties are: endpoint, api-key"),
        "the known keys are listed: {message}"
    );
    assert!(message.contains("nothing changed"), "{message}");

    let mut missing = echo_spec("http://127.0.0.1:9", &[], TargetEgress::default());
    missing.connector = dir.path().join("moved.wasm").display().to_string();
    let refused = put(&config, missing).await.unwrap_err();
    assert!(
        refused.to_string().contains("moved.wasm") && refused.to_string().contains("cannot read"),
        "{refused}"
    );

    let mut wrong_kind = echo_spec("not a url", &[], TargetEgress::default());
    wrong_kind
        .properties
        .insert("client-id".into(), true.into());
    let refused = put(&config, wrong_kind).await.unwrap_err();
    let message = refused.to_string();
    assert!(message.contains("`endpoint`: invalid URL"), "{message}");
    assert!(message.contains("`client-id`: expected"), "{message}");

    assert_eq!(
        stored(engine.store()).await,
        before,
        "the target is unchanged"
    );
    assert_eq!(
        engine
            .store()
            .target_history(quickstart::TENANT, TARGET)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        engine.store().components().await.unwrap().is_empty(),
        "no component stored"
    );
    engine.store().close().await;
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_switches_a_running_server_rollback_switches_back_and_the_old_component_is_evicted() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(&emulator, dir.path());
    let handle = server::start(config.clone()).await.unwrap();
    let sink = sink().await;

    // The stored egress policy opens loopback for this run-time target.
    let admitted = put(
        &config,
        echo_spec(
            &sink.url,
            &[],
            TargetEgress {
                allow_loopback: true,
                allow_private: false,
            },
        ),
    )
    .await
    .unwrap();
    let reference = admitted.component.as_ref().unwrap().reference.clone();
    assert_eq!(admitted.record.spec.connector, reference);
    assert!(reference.starts_with("sha256:"));
    assert_eq!(admitted.record.origin, TargetOrigin::Operator);

    // The running server switches without a restart: the next user goes to the sink.
    create_user(&handle, "first@example.com").await;
    assert!(
        eventually(|| !sink.paths.lock().unwrap().is_empty()).await,
        "the run-time target reached the loopback sink"
    );
    assert!(emulator.user_by_username("first@example.com").is_none());
    let echo_digest = reference.trim_start_matches("sha256:").to_owned();
    let runtime = handle.registry().runtime().clone();
    assert!(runtime.loaded().contains(&echo_digest));

    // Rollback: back to the configuration file's Salesforce connector, atomically.
    let back = handle
        .engine()
        .store()
        .rollback_target(quickstart::TENANT, TARGET, None)
        .await
        .unwrap();
    assert_eq!(back.spec.connector, "builtin:salesforce");
    create_user(&handle, "second@example.com").await;
    assert!(
        eventually(|| emulator.user_by_username("second@example.com").is_some()).await,
        "after the rollback the user reached Salesforce"
    );
    assert_eq!(
        sink.paths.lock().unwrap().len(),
        1,
        "nothing more went to the sink"
    );

    // The echo component is used by no target any more: evicted from the runtime's memory.
    assert!(
        eventually(|| !runtime.loaded().contains(&echo_digest)).await,
        "the replaced component was evicted: {:?}",
        runtime.loaded()
    );

    // Delete: refused while jobs are open is covered by the store's tests; here the target
    // goes, and with it its connector.
    let deleted = handle
        .engine()
        .store()
        .delete_target(quickstart::TENANT, TARGET, true)
        .await
        .unwrap();
    assert_eq!(deleted.dead_lettered, 0);
    assert!(
        eventually(|| runtime.loaded().is_empty()).await,
        "no component is held once no target uses it: {:?}",
        runtime.loaded()
    );
    handle.shutdown().await.unwrap();
    let _ = sink.stop.send(());
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_run_time_version_and_says_so() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = config(&emulator, dir.path());
    let handle = server::start(config.clone()).await.unwrap();
    assert!(handle.notices().is_empty());
    let sink = sink().await;
    let file = dir.path().join("echo-copy.wasm");
    std::fs::copy(test_components::GUEST_ECHO, &file).unwrap();
    let mut spec = echo_spec(
        &sink.url,
        &[],
        TargetEgress {
            allow_loopback: true,
            allow_private: false,
        },
    );
    spec.connector = file.display().to_string();
    let admitted = put(&config, spec).await.unwrap();
    handle.shutdown().await.unwrap();
    std::fs::remove_file(&file).unwrap();

    // The component file is gone: the server loads it from the database by digest.
    let restarted = server::start(config.clone()).await.unwrap();
    let notices = restarted.notices().to_vec();
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert!(
        notices[0].contains("carbon.super/Salesforce.com")
            && notices[0].contains("not applied")
            && notices[0].contains("--reseed"),
        "{}",
        notices[0]
    );
    let kept = stored(restarted.engine().store()).await;
    assert_eq!(kept.spec.connector, admitted.record.spec.connector);
    assert_eq!(
        kept.revision, admitted.record.revision,
        "nothing was written at start"
    );

    create_user(&restarted, "after-restart@example.com").await;
    assert!(
        eventually(|| !sink.paths.lock().unwrap().is_empty()).await,
        "the kept run-time version runs after the restart"
    );
    restarted.shutdown().await.unwrap();

    // --reseed applies the file's version; the run-time one stays in the history.
    let options = server::StartOptions {
        reseed: true,
        ..server::StartOptions::default()
    };
    let reseeded = server::start_with(config, options).await.unwrap();
    assert!(reseeded.notices().is_empty());
    let now = stored(reseeded.engine().store()).await;
    assert_eq!(now.spec.connector, "builtin:salesforce");
    assert_eq!(now.origin, TargetOrigin::Config);
    let history = reseeded
        .engine()
        .store()
        .target_history(quickstart::TENANT, TARGET)
        .await
        .unwrap();
    assert_eq!(history[1].spec.connector, admitted.record.spec.connector);
    reseeded.shutdown().await.unwrap();
    let _ = sink.stop.send(());
    emulator.shutdown().await;
}
