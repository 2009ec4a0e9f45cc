//! Nothing queued is lost: a change committed while no server runs (the `users add` path) is
//! provisioned by the next server started on the same database.

#[path = "support/org.rs"]
mod org_support;

use org_support::org;
use std::time::Duration;

use provisioner_server::{self as server, quickstart, EngineBackend};
use salesforce_emulator::{Emulator, EmulatorConfig};
use scim::resource::{new_id, MultiValue, Name};
use scim::{ScimBackend, TenantId, UserResource};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_change_survives_a_restart() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = quickstart::config(&org(&emulator), dir.path(), "127.0.0.1:0", "pw");
    config.dispatcher.poll_ms = 50;

    // A first run registers the target, then stops.
    server::start(config.clone())
        .await
        .unwrap()
        .shutdown()
        .await
        .unwrap();

    // While stopped: a user is added through the engine, as `provisioner users add` does.
    let engine = server::open_engine(&config).await.unwrap();
    let backend = EngineBackend::new(engine.clone());
    let user = UserResource {
        id: new_id(),
        user_name: "pat@example.com".into(),
        name: Some(Name {
            family_name: Some("Offline".into()),
            ..Name::default()
        }),
        emails: vec![MultiValue {
            value: Some("pat@example.com".into()),
            primary: Some(true),
            ..MultiValue::default()
        }],
        ..UserResource::default()
    };
    backend
        .create_user(&TenantId::new(quickstart::TENANT), user)
        .await
        .unwrap();
    engine.store().close().await;
    assert!(emulator.user_by_username("pat@example.com").is_none());

    // The next start provisions it.
    let handle = server::start(config).await.unwrap();
    let mut found = None;
    for _ in 0..600 {
        found = emulator.user_by_username("pat@example.com");
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let found = found.expect("the queued user reached Salesforce after the restart");
    assert_eq!(found.text("LastName"), Some("Offline"));
    handle.shutdown().await.unwrap();
    emulator.shutdown().await;
}
