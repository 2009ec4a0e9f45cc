//! `provisioner connector check`, run as a user runs it, against the deliberately broken test
//! connector (`tests/guests/broken`): it passes with no bug and names each bug.

use std::path::Path;
use std::process::{Command, Output};

fn check(cache: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args([
            "connector",
            "check",
            test_components::GUEST_BROKEN,
            "--cache-dir",
        ])
        .arg(cache)
        .args(extra)
        .output()
        .expect("run provisioner")
}

fn with_bug(dir: &Path, bug: &str) -> String {
    let path = dir.join(format!("{bug}.json"));
    std::fs::write(&path, format!("{{\"bug\": \"{bug}\"}}")).unwrap();
    path.display().to_string()
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_template_connector_passes_every_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let output = check(dir.path(), &["--json"]);
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["connector"], "broken");
    assert_eq!(report["failures"], serde_json::json!([]));
    // 4 operations x 8 scenarios, every one judged and passed.
    let calls = report["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 32);
    assert!(calls.iter().all(|c| c["verdict"] == "pass"), "{calls:#?}");
    let got = |op: &str, scenario: &str| {
        calls
            .iter()
            .find(|c| c["operation"] == op && c["scenario"] == scenario)
            .map(|c| c["got"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(
        got("create", "conflict"),
        "conflict (existing 005CHECKEXISTS0002)"
    );
    assert_eq!(got("update", "rate-limited"), "rate-limited (7000 ms)");
    assert_eq!(got("create", "stall"), "transient (outcome unknown)");
    assert_eq!(got("delete", "reset"), "transient (outcome unknown)");
    assert_eq!(got("lookup", "not-found"), "none");
    assert!(report["component_bytes"].as_u64().unwrap() > 10_000);
    assert!(report["peak_memory_bytes"].as_u64().unwrap() > 0);
    assert!(calls
        .iter()
        .all(|c| c["peak_memory_bytes"].as_u64().unwrap() > 0));
}

#[test]
fn a_404_mapped_to_transient_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = with_bug(dir.path(), "404-transient");
    let output = check(dir.path(), &["--config", &config]);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(
        stderr.contains(
            "update → 404: expected not-found, got transient (the target said the entity does \
             not exist; retrying cannot help)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("delete → 404: expected success or not-found, got transient"));
    assert!(stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn a_panic_on_update_is_named_with_its_message() {
    let dir = tempfile::tempdir().unwrap();
    let config = with_bug(dir.path(), "panic-on-update");
    let output = check(dir.path(), &["--config", &config]);
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(stderr.contains("update trapped (success): "), "{stderr}");
    assert!(stderr.contains("update is not implemented yet"), "{stderr}");
    // The other operations still pass.
    assert!(!stderr.contains("create"), "{stderr}");
    assert!(!stderr.contains("lookup"), "{stderr}");
}

#[test]
fn a_component_importing_wasi_http_is_refused_with_the_hint() {
    let dir = tempfile::tempdir().unwrap();
    // A component that imports wasi:http, as componentize-js builds by default.
    let component = dir.path().join("http.wasm");
    std::fs::write(
        &component,
        wat::parse_str(r#"(component (import "wasi:http/outgoing-handler@0.2.3" (instance)))"#)
            .unwrap(),
    )
    .unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args(["connector", "check"])
        .arg(&component)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .output()
        .unwrap();
    let (_, stderr) = text(&output);
    assert!(!output.status.success());
    assert!(
        stderr.contains("wasi:http/outgoing-handler@0.2.3"),
        "{stderr}"
    );
    assert!(
        stderr.contains("use the contract's `http` import"),
        "{stderr}"
    );
}

/// A loopback target that answers `POST /users` with an id and records what it received.
async fn users_target() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::extract::{Request, State};
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let app = axum::Router::new()
        .fallback(
            |State(seen): State<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
             request: Request| async move {
                let line = format!(
                    "{} {} {:?}",
                    request.method(),
                    request.uri(),
                    request.headers().get("authorization")
                );
                seen.lock().unwrap().push(line);
                (
                    axum::http::StatusCode::CREATED,
                    [("content-type", "application/json")],
                    r#"{"id": "u-42"}"#,
                )
            },
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn invoke_prints_each_request_with_secrets_redacted_and_the_outcome() {
    let (base, seen) = users_target().await;
    let dir = tempfile::tempdir().unwrap();
    let secret = "invoke-secret-token-5150";
    let config = dir.path().join("props.json");
    std::fs::write(
        &config,
        serde_json::json!({"endpoint": base, "api-token": secret}).to_string(),
    )
    .unwrap();
    let user = dir.path().join("user.json");
    std::fs::write(
        &user,
        r#"{"name": "ada@example.com", "claims": {"http://wso2.org/claims/givenname": "Ada"}}"#,
    )
    .unwrap();
    let invoke = move |extra: &'static [&'static str]| {
        let (config, user, cache) = (config.clone(), user.clone(), dir.path().join("cache"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_provisioner"));
        command
            .args(["connector", "invoke", test_components::GUEST_BROKEN])
            .arg("--config")
            .arg(&config)
            .arg("--user")
            .arg(&user)
            .args(["--operation", "create", "--cache-dir"])
            .arg(&cache)
            .args(extra);
        command
    };
    let mut allowed = invoke(&["--allow-loopback"]);
    let output = tokio::task::spawn_blocking(move || allowed.output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("-> POST {base}/users")),
        "{stdout}"
    );
    assert!(
        stdout.contains("\"userName\":\"ada@example.com\""),
        "{stdout}"
    );
    assert!(stdout.contains("[REDACTED]"), "{stdout}");
    assert!(stdout.contains("<- 201"), "{stdout}");
    assert!(
        stdout.contains("outcome: success, remote id u-42"),
        "{stdout}"
    );
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    // The target did get the real token.
    assert_eq!(seen.lock().unwrap().len(), 1);
    assert!(seen.lock().unwrap()[0].contains(secret));

    // Without --allow-loopback the target's loopback address is refused.
    let mut refused = invoke(&[]);
    let output = tokio::task::spawn_blocking(move || refused.output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = text(&output);
    assert!(!output.status.success(), "{stdout}");
    assert!(stderr.contains("outcome:"), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("loopback"),
        "{stdout}\n{stderr}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}
