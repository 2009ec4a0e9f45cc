//! The operational commands as clients of a running server's admin API (`--server`): a real
//! `provisioner serve` process on a real SQLite database, driven by real `provisioner`
//! processes, against the same data the offline mode (`--db`) reads: jobs, history, dead
//! letters, replay, pause/resume, and a target's revisions, rollback, reconciliation and delete.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use provisioner_engine::store::{OutboundSettings, Store, TargetSpec};
use provisioner_engine::{Engine, UserChange, UserState};

const TOKEN: &str = "ops-api-test-token";

/// A database with tenant `acme`, a paused target `crm` (two revisions; its SCIM service is
/// unreachable) and three queued user creates, the oldest of them a dead letter.
fn seeded_database(dir: &std::path::Path) -> String {
    let db = format!("sqlite:{}", dir.join("ops.db").display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Store::open(&db).await.unwrap();
        for path in ["scim/v1", "scim/v2"] {
            store
                .put_target(&TargetSpec {
                    tenant: "acme".into(),
                    name: "crm".into(),
                    connector: "builtin:scim".into(),
                    properties: BTreeMap::from([(
                        "base-url".to_owned(),
                        serde_json::json!(format!("http://127.0.0.1:9/{path}")),
                    )]),
                    secret_refs: BTreeMap::new(),
                    claim_mappings: vec![],
                    settings: OutboundSettings::default(),
                    egress: Default::default(),
                })
                .await
                .unwrap();
        }
        let engine = Engine::new(store.clone());
        engine
            .pause_target("acme", "crm", "held for the test")
            .await
            .unwrap();
        for i in 0..3 {
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
        sqlx::query("UPDATE jobs SET state = 'dead' WHERE entity_id = 'u0'")
            .execute(store.pool())
            .await
            .unwrap();
        store.close().await;
    });
    db
}

/// A running `provisioner serve` on `db`; killed on drop.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &std::path::Path, db: &str) -> Server {
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[server]
listen = "127.0.0.1:0"

[database]
url = "{db}"

[[admin.tokens]]
label = "ops"
token = "literal:{TOKEN}"

[[tenants]]
name = "acme"
"#
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The server prints its base URL once it listens.
    // The rest of its output is drained, so it never writes to a closed pipe.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    for line in lines.by_ref() {
        if let Some(base) = line.unwrap().strip_prefix("SCIM API listening on ") {
            url = Some(base.trim().to_owned());
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    Server {
        child,
        url: url.expect("the server logs its address"),
    }
}

fn provisioner(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_provisioner"));
    command
        .args(args)
        .env_remove("PROVISIONER_SERVER")
        .env_remove("PROVISIONER_ADMIN_TOKEN")
        .env_remove("PROVISIONER_ADMIN_USER")
        .env_remove("PROVISIONER_ADMIN_PASSWORD");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the provisioner binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn operational_commands_work_through_the_admin_api_as_offline() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_database(dir.path());
    let server = serve(dir.path(), &db);
    let api = [
        ("PROVISIONER_SERVER", server.url.as_str()),
        ("PROVISIONER_ADMIN_TOKEN", TOKEN),
    ];

    // The same listing through the API and offline.
    let online = provisioner(&["jobs", "--tenant", "acme", "--json"], &api);
    assert!(online.status.success(), "{}", text(&online));
    let offline = provisioner(&["jobs", "--db", &db, "--json"], &[]);
    assert!(offline.status.success(), "{}", text(&offline));
    let online: serde_json::Value = serde_json::from_slice(&online.stdout).unwrap();
    let offline: serde_json::Value = serde_json::from_slice(&offline.stdout).unwrap();
    assert_eq!(online, offline, "both modes print the same jobs");
    assert_eq!(online.as_array().unwrap().len(), 3);

    // The tenant's counts, as the admin API reports them.
    let out = provisioner(&["jobs", "--tenant", "acme"], &api);
    assert!(
        text(&out).starts_with("jobs: acme: open=2 dead=1"),
        "{}",
        text(&out)
    );

    let dead = provisioner(&["dead-letters", "--tenant", "acme"], &api);
    let said = text(&dead);
    assert!(dead.status.success(), "{said}");
    assert!(said.contains("acme/crm user u0 create dead"), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");

    let out = provisioner(&["history", "--tenant", "acme", "u1"], &api);
    assert!(
        text(&out).contains("acme/crm user u1 create pending"),
        "{}",
        text(&out)
    );

    // Replay through the API: the dead letter is pending again, as the database shows.
    let out = provisioner(
        &["replay", "--tenant", "acme", "--target", "crm", "--all"],
        &api,
    );
    assert!(
        out.status.success() && text(&out).contains("replayed 1 dead letter(s) of acme/crm"),
        "{}",
        text(&out)
    );
    let out = provisioner(&["dead-letters", "--db", &db], &[]);
    assert!(text(&out).trim().is_empty(), "{}", text(&out));

    // Pause state through the API, seen offline too.
    let out = provisioner(&["target", "list"], &api);
    assert!(
        text(&out).contains("paused (held for the test)"),
        "{}",
        text(&out)
    );
    let out = provisioner(&["target", "resume", "--tenant", "acme", "crm"], &api);
    assert!(out.status.success(), "{}", text(&out));
    let out = provisioner(
        &[
            "target",
            "pause",
            "--tenant",
            "acme",
            "crm",
            "--reason",
            "api pause",
        ],
        &api,
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = provisioner(&["target", "list", "--db", &db, "--json"], &[]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed[0]["paused"], true, "{listed}");
    assert_eq!(listed[0]["pause_reason"], "api pause", "{listed}");
    assert_eq!(listed[0]["tenant"], "acme", "{listed}");

    // A target's revisions, the same through the API and offline; a rollback through the API.
    let history = |env: &[(&str, &str)], extra: &[&str]| {
        let args = [
            &["target", "history", "--tenant", "acme", "crm", "--json"],
            extra,
        ]
        .concat();
        let out = provisioner(&args, env);
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let online = history(&api, &[]);
    assert_eq!(online, history(&[], &["--db", &db]));
    assert_eq!(online.as_array().unwrap().len(), 2, "{online}");
    let out = provisioner(
        &["target", "rollback", "--tenant", "acme", "crm", "--to", "1"],
        &api,
    );
    assert!(
        out.status.success() && text(&out).contains("now revision 3"),
        "{}",
        text(&out)
    );
    let rolled = history(&[], &["--db", &db]);
    let newest = rolled
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["revision"] == 3)
        .unwrap();
    assert_eq!(
        newest["spec"]["properties"]["base-url"],
        "http://127.0.0.1:9/scim/v1"
    );

    // Reconciliation by the server: its connector cannot list the unreachable service, so the
    // run fails, and the command says so and fails too.
    let out = provisioner(&["reconcile", "--tenant", "acme", "--target", "crm"], &api);
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("reconciliation run 1 of acme/crm (report): failed"),
        "{said}"
    );
    let out = provisioner(
        &["target", "history", "--db", &db, "--tenant", "acme", "crm"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));

    // Deleting through the API: refused while jobs are open (the three creates, the replayed
    // dead letter among them), then forced.
    let out = provisioner(&["target", "delete", "--tenant", "acme", "crm"], &api);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("409"), "{}", text(&out));
    let out = provisioner(
        &["target", "delete", "--tenant", "acme", "crm", "--force"],
        &api,
    );
    assert!(
        out.status.success() && text(&out).contains("3 pending or running job(s) dead-lettered"),
        "{}",
        text(&out)
    );
    let out = provisioner(&["target", "list", "--db", &db, "--json"], &[]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed, serde_json::json!([]));
}

#[test]
fn credentials_and_the_mode_are_asked_for_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let db = seeded_database(dir.path());
    let server = serve(dir.path(), &db);

    let out = provisioner(&["jobs"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("--server") && text(&out).contains("--db"),
        "names both modes: {}",
        text(&out)
    );

    let out = provisioner(&["jobs", "--server", &server.url], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("PROVISIONER_ADMIN_TOKEN"),
        "names where credentials go: {}",
        text(&out)
    );

    // A command that works on the database only says so.
    let out = provisioner(
        &[
            "explain",
            "--server",
            &server.url,
            "--tenant",
            "acme",
            "--target",
            "crm",
            "--user",
            "u1",
        ],
        &[("PROVISIONER_ADMIN_TOKEN", TOKEN)],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("database only") && text(&out).contains("--db"),
        "{}",
        text(&out)
    );

    let out = provisioner(
        &["jobs", "--server", &server.url],
        &[("PROVISIONER_ADMIN_TOKEN", "wrong")],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("refused the credentials"),
        "{}",
        text(&out)
    );
}
