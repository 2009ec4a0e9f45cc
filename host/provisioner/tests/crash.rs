//! Crash safety with a real process: the dispatcher is SIGKILLed mid-run and restarted; no
//! user is lost or duplicated and no job is left behind.

#[path = "../../engine/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "../../server/tests/support/salesforce.rs"]
mod salesforce_support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use engine_support::*;
use provisioner_engine::store::{JobState, OutboundSettings};
use provisioner_engine::{Engine, UserChange};
use salesforce_emulator::Emulator;
use salesforce_support::*;
use tokio::process::{Child, Command};

const USERS: usize = 2_000;

fn dispatcher_process(url: &str, dir: &std::path::Path, run: &str) -> Child {
    let log = std::fs::File::create(dir.join(format!("dispatch-{run}.log"))).unwrap();
    Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args([
            "dispatch",
            "--db",
            url,
            "--until-idle",
            "--allow-loopback",
            "--workers",
            "16",
            "--lease-ms",
            "1500",
        ])
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("the provisioner binary starts")
}

async fn done_jobs(engine: &Engine) -> i64 {
    engine
        .store()
        .count_jobs(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|(state, _)| *state == JobState::Done)
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_dispatcher_killed_mid_run_resumes_without_losing_or_duplicating_users() {
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
        engine
            .apply_user_change(
                TENANT,
                UserChange::Create(sf_user(&format!("c{i:05}"), "Crash")),
            )
            .await
            .unwrap();
    }
    // A few updates queued behind the creates.
    for i in (0..USERS).step_by(10) {
        engine
            .apply_user_change(
                TENANT,
                UserChange::Update(sf_user(&format!("c{i:05}"), "Updated")),
            )
            .await
            .unwrap();
    }

    let mut first = dispatcher_process(&url, dir.path(), "first");
    let started = Instant::now();
    loop {
        let done = done_jobs(&engine).await;
        if done as usize >= USERS / 4 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the first run made no progress ({done} done)"
        );
        if let Some(status) = first.try_wait().unwrap() {
            let log =
                std::fs::read_to_string(dir.path().join("dispatch-first.log")).unwrap_or_default();
            let skip = log.chars().count().saturating_sub(4000);
            let tail: String = log.chars().skip(skip).collect();
            panic!("the dispatcher exited early: {status}; its log ends:\n{tail}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().await.unwrap(); // SIGKILL
    let killed_at = done_jobs(&engine).await;
    assert!(
        (killed_at as usize) < USERS,
        "killed mid-run ({killed_at} of {USERS} done)"
    );

    let mut second = dispatcher_process(&url, dir.path(), "second");
    let status = tokio::time::timeout(Duration::from_secs(600), second.wait())
        .await
        .expect("the restarted dispatcher finishes")
        .unwrap();
    assert!(status.success(), "restarted dispatcher failed: {status}");

    for i in 0..USERS {
        let username = format!("c{i:05}@example.com");
        let found = users_named(&emulator, &username);
        assert_eq!(found.len(), 1, "{username} exists exactly once");
        let expected = if i % 10 == 0 { "Updated" } else { "Crash" };
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
