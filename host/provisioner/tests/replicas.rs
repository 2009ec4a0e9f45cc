//! Two dispatcher processes on one database, at once, provisioning into one emulated Salesforce
//! org: every user arrives exactly once, with its latest change, and no job is left behind.
//! On SQLite the two share the file; with `PROVISIONER_TEST_POSTGRES_URL` set they share a
//! PostgreSQL database, as replicas of the server do.

#[path = "../../engine/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "../../server/tests/support/salesforce.rs"]
mod salesforce_support;

use std::process::Stdio;
use std::time::Duration;

use engine_support::*;
use provisioner_engine::store::{JobState, OutboundSettings};
use provisioner_engine::{Engine, UserChange};
use salesforce_emulator::Emulator;
use salesforce_support::*;
use tokio::process::{Child, Command};

const USERS: usize = 400;

fn dispatcher_process(url: &str, dir: &std::path::Path, name: &str) -> Child {
    let log = std::fs::File::create(dir.join(format!("dispatch-{name}.log"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args([
            "dispatch",
            "--db",
            url,
            "--until-idle",
            "--allow-loopback",
            "--workers",
            "8",
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the provisioner binary starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_dispatchers_on_one_database_provision_each_user_exactly_once() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir, url) = store_with_url().await;
    let settings = OutboundSettings {
        max_attempts: 20,
        backoff_base_ms: 20,
        backoff_cap_ms: 1_000,
        ..OutboundSettings::default()
    };
    salesforce_target(&store, &emulator, "sf", settings, dir.path()).await;
    let engine = Engine::new(store.clone());
    for i in 0..USERS {
        let id = format!("r{i:04}");
        engine
            .apply_user_change(TENANT, UserChange::Create(sf_user(&id, "Replica")))
            .await
            .unwrap();
        if i % 4 == 0 {
            engine
                .apply_user_change(TENANT, UserChange::Update(sf_user(&id, "Updated")))
                .await
                .unwrap();
        }
    }

    let a = dispatcher_process(&url, dir.path(), "a");
    let b = dispatcher_process(&url, dir.path(), "b");
    for (name, mut child) in [("a", a), ("b", b)] {
        let status = tokio::time::timeout(Duration::from_secs(600), child.wait())
            .await
            .expect("the dispatcher finishes")
            .unwrap();
        let log = std::fs::read_to_string(dir.path().join(format!("dispatch-{name}.log")));
        assert!(status.success(), "dispatcher {name}: {status}: {log:?}");
    }

    for i in 0..USERS {
        let username = format!("r{i:04}@example.com");
        let found = users_named(&emulator, &username);
        assert_eq!(found.len(), 1, "{username} exists exactly once");
        let expected = if i % 4 == 0 { "Updated" } else { "Replica" };
        assert_eq!(
            found[0].get("LastName").as_str(),
            Some(expected),
            "{username}"
        );
    }
    let counts = store.count_jobs(None).await.unwrap();
    assert!(
        counts.iter().all(|(state, _)| matches!(
            state,
            JobState::Done | JobState::Coalesced | JobState::Superseded
        )),
        "no job is left behind: {counts:?}"
    );
    emulator.shutdown().await;
}
