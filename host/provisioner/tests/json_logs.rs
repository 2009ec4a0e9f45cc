//! `provisioner serve --log-format json`: every line on standard error is one JSON object, and
//! the line that ends a SCIM request carries the request's id (the client's `X-Request-Id`),
//! its status and the span it ran in.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

const TOKEN: &str = "json-logs-test-bearer-token-0123456789";

/// Starts the server; returns it and its base URL (read from its first lines of output).
fn serve(dir: &std::path::Path) -> (Child, String) {
    let config = dir.join("server.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[database]\nurl = \"sqlite:{}\"\n\n\
             [[tenants]]\nname = \"logs.example\"\n\n[[tenants.bearer]]\nlabel = \"test\"\n\
             token = \"literal:{TOKEN}\"\n",
            dir.join("p.db").display()
        ),
    )
    .unwrap();
    let stderr = std::fs::File::create(dir.join("stderr.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--log-format", "json"])
        .env("RUST_LOG", "info")
        .env_remove("PROVISIONER_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the provisioner binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(base) = line.strip_prefix("SCIM API listening on ") {
            // Keep draining stdout so the process never writes to a closed pipe.
            std::thread::spawn(move || lines.for_each(drop));
            return (child, base.trim().to_owned());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!(
        "the server did not start: {}",
        std::fs::read_to_string(dir.join("stderr.log")).unwrap_or_default()
    );
}

#[tokio::test]
async fn json_log_lines_parse_and_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = serve(dir.path());
    let response = reqwest::Client::new()
        .post(format!("{base}/scim/v2/Users"))
        .bearer_auth(TOKEN)
        .header("X-Request-Id", "json-logs-1")
        .json(&serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "logs@example.com"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-request-id"], "json-logs-1");

    // The request's line is written after the response; wait for it, then stop the server.
    let log = dir.path().join("stderr.log");
    let mut text = String::new();
    for _ in 0..100 {
        text = std::fs::read_to_string(&log).unwrap();
        if text.contains("json-logs-1") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let lines: Vec<Value> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    assert!(!lines.is_empty(), "no log lines");
    for line in &lines {
        assert!(
            line["timestamp"].is_string() && line["level"].is_string(),
            "{line}"
        );
    }
    let served = lines
        .iter()
        .find(|line| {
            line["message"] == "request served"
                && line["spans"]
                    .as_array()
                    .is_some_and(|spans| spans.iter().any(|s| s["request_id"] == "json-logs-1"))
        })
        .unwrap_or_else(|| panic!("no line for the request in:\n{text}"));
    assert_eq!(served["status"], 201);
    assert_eq!(served["level"], "INFO");
    let span = &served["spans"][0];
    assert_eq!(span["name"], "request");
    assert_eq!(span["method"], "POST");
    assert_eq!(span["path"], "/scim/v2/Users");
}
