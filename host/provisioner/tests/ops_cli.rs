//! `provisioner jobs` and `provisioner history` as an operator runs them: a real process on a
//! real SQLite database holding queued jobs.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Stdio};

use provisioner_engine::store::{OutboundSettings, Store, TargetSpec};
use provisioner_engine::{Engine, UserChange, UserState};

/// A database holding one tenant, one target and `users` queued user creates.
fn database_with_jobs(dir: &std::path::Path, users: usize) -> String {
    let db = format!("sqlite:{}", dir.join("ops.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::open(&db).await.unwrap();
        store
            .put_target(&TargetSpec {
                tenant: "acme".into(),
                name: "crm".into(),
                connector: "crm.wasm".into(),
                properties: BTreeMap::new(),
                secret_refs: BTreeMap::new(),
                claim_mappings: vec![],
                settings: OutboundSettings::default(),
                egress: Default::default(),
            })
            .await
            .unwrap();
        let engine = Engine::new(store.clone());
        for i in 0..users {
            let user = UserState {
                id: format!("u{i}"),
                user_name: format!("user{i}@example.com"),
                ..UserState::default()
            };
            engine
                .apply_user_change("acme", UserChange::Create(user))
                .await
                .unwrap();
        }
        store.close().await;
    });
    db
}

fn provisioner(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args(args)
        .output()
        .expect("the provisioner binary runs")
}

#[test]
fn job_lines_name_the_entity_kind_and_operation_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_with_jobs(dir.path(), 1);

    let out = provisioner(&["jobs", "--db", &db]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("acme/crm user u0 create pending"), "{said}");
    assert!(!said.contains("User"), "no Debug rendering: {said}");
    assert!(!said.contains("Create"), "no Debug rendering: {said}");

    let out = provisioner(&["history", "--db", &db, "--tenant", "acme", "u0"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{said}");
    assert!(said.contains("acme/crm user u0 create pending"), "{said}");
}

#[test]
fn a_reader_that_stops_early_ends_the_listing_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = database_with_jobs(dir.path(), 3);
    for args in [
        vec!["jobs", "--db", db.as_str()],
        vec!["dead-letters", "--db", db.as_str()],
        vec!["target", "list", "--db", db.as_str()],
        vec!["history", "--db", db.as_str(), "--tenant", "acme", "u1"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_provisioner"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the command prints (as `head` does once it has its
        // lines): every write then fails with a broken pipe.
        drop(child.stdout.take());
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "{args:?} ends quietly on a closed output: {status} {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
