//! `provisioner explain` as an operator runs it: the real binary against a real SQLite
//! database, the built-in Salesforce connector in its dry run, the Salesforce emulator on
//! loopback (which must see nothing). The tutorial user shows its twelve fields with the claim
//! or default behind each and the exact body of the create.

#[path = "../../engine/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "../../server/tests/support/salesforce.rs"]
mod salesforce_support;

use std::process::Output;
use std::time::Duration;

use engine_support::*;
use provisioner_engine::store::OutboundSettings;
use provisioner_engine::{Engine, UserState};
use provisioner_server::tutorial::{claim, TUTORIAL_MAPPING, TUTORIAL_USER_NAME};
use salesforce_emulator::Emulator;
use salesforce_support::*;

async fn provisioner(args: &[&str]) -> Output {
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args(args)
        .kill_on_drop(true)
        .output();
    tokio::time::timeout(Duration::from_secs(600), run)
        .await
        .expect("provisioner explain finishes")
        .expect("the provisioner binary runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_shows_the_tutorial_users_fields_and_the_create_without_sending_it() {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let (store, dir, url) = store_with_url().await;
    salesforce_target(
        &store,
        &emulator,
        "sf",
        OutboundSettings::default(),
        dir.path(),
    )
    .await;
    let engine = Engine::new(store.clone());
    create(
        &engine,
        UserState {
            id: "samuel".into(),
            user_name: TUTORIAL_USER_NAME.into(),
            claims: [
                (claim("emailaddress"), vec![TUTORIAL_USER_NAME.to_owned()]),
                (claim("lastname"), vec!["Gnaniah".to_owned()]),
            ]
            .into(),
            ..UserState::default()
        },
    )
    .await;
    let base = ["--db", url.as_str(), "--tenant", TENANT, "--target", "sf"];

    let out =
        provisioner(&[&["explain"], &base[..], &["--user", TUTORIAL_USER_NAME]].concat()).await;
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("target sf: in scope"), "{said}");
    assert!(said.contains("operation: create (no remote id)"), "{said}");
    for (field, local, _) in TUTORIAL_MAPPING {
        let line = said
            .lines()
            .find(|line| line.starts_with(&format!("{field} ")))
            .unwrap_or_else(|| panic!("no line for {field}:\n{said}"));
        let source = if matches!(field, "Email" | "LastName" | "Username") {
            format!("claim {}", claim(local))
        } else {
            format!("default (claim {} has no value)", claim(local))
        };
        assert!(line.ends_with(&source), "{line}");
    }
    assert!(said.contains("/sobjects/User/   (api)"), "{said}");
    assert!(said.contains("\"LastName\": \"Gnaniah\""), "{said}");
    assert!(said.contains("authorization: [REDACTED]"), "{said}");
    assert!(!said.contains(&emulator.config().client_secret), "{said}");

    let out =
        provisioner(&[&["explain"], &base[..], &["--user", "samuel", "--json"]].concat()).await;
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["fields"].as_array().unwrap().len(), 12);
    let create = &json["requests"][1];
    assert_eq!(create["method"], "POST");
    assert_eq!(create["body"]["Username"], TUTORIAL_USER_NAME);
    assert_eq!(create["body"]["Alias"], "Samuel");

    let out = provisioner(&[&["explain"], &base[..], &["--user", "nobody"]].concat()).await;
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("user `nobody` not found"), "{said}");

    // The dry runs reached neither the org nor its token endpoint.
    let counters = emulator.counters();
    assert_eq!(counters.api_calls, 0, "{counters:?}");
    assert!(counters.token_requests.is_empty(), "{counters:?}");
    emulator.shutdown().await;
}
