//! `provisioner sync` as an operator runs it: the real binary, a real SQLite database, the
//! built-in Salesforce connector in its sandbox and the Salesforce emulator on loopback. Users
//! stored before the target existed reach it through a sync run that is queued first
//! (`--no-wait`), then resumed and drained by the command's own dispatcher (`--dispatch`).

#[path = "../../engine/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "../../server/tests/support/salesforce.rs"]
mod salesforce_support;

use std::process::Output;
use std::time::Duration;

use engine_support::*;
use provisioner_engine::store::{OutboundSettings, SyncState};
use provisioner_engine::Engine;
use salesforce_emulator::Emulator;
use salesforce_support::*;

const USERS: usize = 300;

async fn provisioner(args: &[&str]) -> Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args(args)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("provisioner sync finishes")
        .expect("the provisioner binary runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_brings_every_existing_user_to_a_target_and_resumes_its_run() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir, url) = store_with_url().await;
    let engine = Engine::new(store.clone());
    for i in 0..USERS {
        create(&engine, sf_user(&format!("s{i:04}"), "Sync")).await;
    }
    // Written straight to the store, the target has no jobs: only a sync brings the users.
    let settings = OutboundSettings {
        max_attempts: 20,
        backoff_base_ms: 20,
        backoff_cap_ms: 1_000,
        ..OutboundSettings::default()
    };
    salesforce_target(&store, &emulator, "sf", settings, dir.path()).await;
    let target = ["--db", url.as_str(), "--tenant", TENANT, "--target", "sf"];

    let out = provisioner(&[&["sync"], &target[..], &["--no-wait"]].concat()).await;
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("starting sync run 1"), "{said}");
    assert!(said.contains(&format!("{USERS} jobs queued")), "{said}");
    assert!(
        users_named(&emulator, "s0000@example.com").is_empty(),
        "nothing is sent without a dispatcher"
    );

    let out = provisioner(
        &[
            &["sync"],
            &target[..],
            &["--dispatch", "--allow-loopback", "--json"],
        ]
        .concat(),
    )
    .await;
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(run["id"], 1, "the queued run is resumed: {said}");
    assert_eq!(run["state"], "done", "{said}");
    assert_eq!(run["enqueued"], USERS, "{said}");
    assert_eq!(run["finished"], USERS, "{said}");
    assert_eq!(run["dead"], 0, "{said}");
    assert!(run["users_per_second"].as_f64().unwrap() > 0.0, "{said}");

    for i in 0..USERS {
        let username = format!("s{i:04}@example.com");
        assert_eq!(
            users_named(&emulator, &username).len(),
            1,
            "{username} exists exactly once"
        );
    }
    let stored = store.sync_run(1).await.unwrap().unwrap();
    assert_eq!(stored.state, SyncState::Done);
    emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_end_the_command_in_failure_naming_how_to_see_them() {
    // One licence, held by the integration user: every create is refused for good.
    let emulator = Emulator::start(salesforce_emulator::EmulatorConfig {
        licences: 1,
        ..roomy_org()
    })
    .await
    .unwrap();
    let (store, dir, url) = store_with_url().await;
    let engine = Engine::new(store.clone());
    for i in 0..5 {
        create(&engine, sf_user(&format!("d{i}"), "Dead")).await;
    }
    salesforce_target(&store, &emulator, "sf", fast_settings(), dir.path()).await;

    let out = provisioner(&[
        "sync",
        "--db",
        &url,
        "--tenant",
        TENANT,
        "--target",
        "sf",
        "--dispatch",
        "--allow-loopback",
    ])
    .await;
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("failed: 5 users, 0 done, 5 dead"), "{said}");
    assert!(said.contains("provisioner dead-letters --db"), "{said}");
    assert!(said.contains("--target sf"), "{said}");
    emulator.shutdown().await;
}
