//! The operator story through the admin API, against the quickstart server (real SQLite, the
//! Salesforce connector, the emulated org): a user whose user name is not an email address
//! dead-letters on the tutorial target with Salesforce's code; the provisioning log shows the
//! code and message, and finds the call by the request that caused it; explain shows the Username field and why the connector refuses it, without
//! sending anything; the target is fixed through `PUT /targets/{target}`; explain then shows the
//! create it would send; a replay brings the user into the org; provisioning on demand returns
//! the attempt.

#[path = "support/org.rs"]
mod org_support;
#[path = "support/scim_server.rs"]
mod scim_support;

use reqwest::{Method, StatusCode};
use scim_support::Setup;
use serde_json::{json, Value};

use provisioner_server::config::{AdminSection, AdminToken};
use provisioner_server::quickstart;
use provisioner_server::tutorial::claim;

const TOKEN: &str = "operator-story-admin-token-0123456789";
const TENANT: &str = quickstart::TENANT;
const TARGET: &str = "Salesforce.com";
const USER: &str = "pat.jones";

async fn call(s: &Setup, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = s
        .http
        .request(
            method,
            format!("{}/admin/v1/tenants/{TENANT}{path}", s.base),
        )
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

/// Waits until every job of the user is final; returns them.
async fn settled(s: &Setup, id: &str) -> Vec<Value> {
    for _ in 0..600 {
        let (_, jobs) = call(s, Method::GET, &format!("/jobs?entity={id}"), None).await;
        let jobs = jobs.as_array().cloned().unwrap_or_default();
        let open = jobs
            .iter()
            .any(|j| matches!(j["state"].as_str(), Some("pending" | "running")));
        if !jobs.is_empty() && !open {
            return jobs;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the jobs of {id} never settled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_a_failed_user_understand_why_fix_the_target_replay_and_confirm() {
    let dir = tempfile::tempdir().unwrap();
    let s = scim_support::start("operator-story-scim-password", |config| {
        config.admin = AdminSection {
            users: Vec::new(),
            tokens: vec![AdminToken {
                label: "operator".into(),
                token: TOKEN.into(),
                tenant: None,
            }],
        };
        config.secrets.key_file = Some(dir.path().join("secret.key"));
        std::fs::write(dir.path().join("secret.key"), "22".repeat(32)).unwrap();
    })
    .await;

    // A user whose user name is not an email address: the identity provider gets 201, the
    // target refuses it, the job is a dead letter with Salesforce's code.
    let (status, created) = call(
        &s,
        Method::POST,
        "/users",
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": USER,
            "name": {"givenName": "Pat", "familyName": "Jones"},
            "emails": [{"value": "pat@example.com", "primary": true}],
        })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let jobs = settled(&s, &id).await;
    assert_eq!(jobs[0]["state"], "dead", "{jobs:?}");
    assert_eq!(jobs[0]["error"]["code"], "FIELD_INTEGRITY_EXCEPTION");

    // The provisioning log, searched by user name, shows the code, the message and the fields.
    let (status, log) = call(
        &s,
        Method::GET,
        &format!("/log?user={USER}&target={TARGET}&outcome=invalid_data"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{log}");
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{log}");
    let failed = &entries[0];
    assert_eq!(failed["user_name"], USER);
    assert_eq!(failed["operation"], "create");
    assert_eq!(failed["target_code"], "FIELD_INTEGRITY_EXCEPTION");
    let message = failed["message"].as_str().unwrap();
    assert!(
        message.contains("not in the form of an email address"),
        "{message}"
    );
    assert_eq!(failed["fields"]["LastName"], "Jones");
    assert_eq!(failed["fields"]["Email"], "pat@example.com");
    // The entry names the request that queued the job (the POST above), and that request's
    // calls are found by it.
    let request_id = failed["request_id"]
        .as_str()
        .expect("the log names the request");
    let (status, by_request) =
        call(&s, Method::GET, &format!("/log?request={request_id}"), None).await;
    assert_eq!(status, 200, "{by_request}");
    let by_request = by_request.as_array().unwrap();
    assert_eq!(by_request.len(), 1, "{by_request:?}");
    assert_eq!(by_request[0]["attempt_id"], failed["attempt_id"]);
    let (_, unknown) = call(&s, Method::GET, "/log?request=no-such-request", None).await;
    assert_eq!(unknown, json!([]));
    let (status, bad) = call(&s, Method::GET, "/log?limit=0", None).await;
    assert_eq!(status, 400, "{bad}");

    // Explain: the Username field and its claim, and the connector's refusal, sending nothing.
    let calls_before = s.emulator.counters();
    let (status, explained) = call(
        &s,
        Method::GET,
        &format!("/users/{id}/explain?target={TARGET}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{explained}");
    assert_eq!(explained["in_scope"], true);
    assert_eq!(explained["operation"], "create");
    let fields = explained["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 12);
    let username = fields.iter().find(|f| f["field"] == "Username").unwrap();
    assert_eq!(username["claim"], claim("emailaddress"));
    // The mapping offers the email, but the connector derives the Username from the user name
    // (the provisioning pattern) and refuses it: the field's row says so.
    assert_eq!(username["value"], "pat@example.com");
    let refusal = username["connector"].as_str().unwrap_or_default();
    assert!(
        refusal.starts_with("refused by the connector") && refusal.contains(USER),
        "{username}"
    );
    assert!(fields
        .iter()
        .filter(|f| f["field"] != "Username")
        .all(|f| f["connector"].is_null()));
    let outcome = explained["dry_run_outcome"].as_str().unwrap();
    assert!(
        outcome.starts_with("invalid_data") && outcome.contains(USER),
        "{outcome}"
    );
    assert_eq!(explained["requests"], json!([]));
    assert_eq!(
        s.emulator.counters(),
        calls_before,
        "explain sent something"
    );

    // The fix: usernames in the provisioning domain example.com (and the org's secrets
    // written through the API, as a target changed at run time keeps no literal secrets).
    let org = s.emulator.config();
    for (key, value) in [
        ("sf-client-secret", org.client_secret.clone()),
        ("sf-password", org.expected_password()),
    ] {
        let (status, body) = call(
            &s,
            Method::PUT,
            &format!("/targets/{TARGET}/secrets/{key}"),
            Some(json!({ "value": value })),
        )
        .await;
        assert_eq!(status, 204, "{body}");
    }
    let (_, current) = call(&s, Method::GET, &format!("/targets/{TARGET}"), None).await;
    let mut spec = current["spec"].clone();
    spec["properties"]["sf-prov-domainName"] = json!("example.com");
    spec["secret_refs"] = json!({
        "sf-client-secret": "stored:sf-client-secret",
        "sf-password": "stored:sf-password",
    });
    let (status, put) = call(&s, Method::PUT, &format!("/targets/{TARGET}"), Some(spec)).await;
    assert_eq!(status, 200, "{put}");

    // Explain again: the create the connector would now send.
    let (_, explained) = call(
        &s,
        Method::GET,
        &format!("/users/{USER}/explain?target={TARGET}"),
        None,
    )
    .await;
    assert_eq!(explained["dry_run_outcome"], "ok", "{explained}");
    let create = explained["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "api")
        .cloned()
        .unwrap_or_else(|| panic!("{explained}"));
    assert_eq!(create["method"], "POST");
    assert_eq!(create["body"]["Username"], "pat.jones@example.com");
    assert_eq!(create["body"]["LastName"], "Jones");
    // The Username row now shows the value the connector derives, and that it is not the
    // mapped one.
    let username = explained["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "Username")
        .cloned()
        .unwrap();
    assert_eq!(username["sent"], "pat.jones@example.com", "{username}");
    let note = username["connector"].as_str().unwrap_or_default();
    assert!(note.contains("not the mapped value"), "{username}");
    assert_eq!(
        s.emulator.counters(),
        calls_before,
        "explain sent something"
    );

    // Replay, and the user arrives in the org with the fields explain showed.
    let (status, replayed) = call(
        &s,
        Method::POST,
        "/dead-letters/replay",
        Some(json!({"entity_id": id})),
    )
    .await;
    assert_eq!(status, 200, "{replayed}");
    assert_eq!(replayed, json!({"replayed": 1}));
    let jobs = settled(&s, &id).await;
    assert!(jobs.iter().all(|j| j["state"] == "done"), "{jobs:?}");
    let record = s
        .emulator
        .user_by_username("pat.jones@example.com")
        .expect("the user in the org");
    assert_eq!(record.get("LastName"), json!("Jones"));
    assert_eq!(record.get("Email"), create["body"]["Email"]);

    // The user's log, newest first, ends with the successful create.
    let (_, log) = call(&s, Method::GET, &format!("/users/{id}/log"), None).await;
    let newest = &log.as_array().unwrap()[0];
    assert_eq!(newest["outcome"], "ok", "{log}");
    assert_eq!(newest["remote_id"], json!(record.id));

    // Provisioning on demand runs a job now and returns its attempt: an update of the record.
    let (status, provisioned) = call(
        &s,
        Method::POST,
        &format!("/users/{id}/provision?target={TARGET}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{provisioned}");
    assert_eq!(provisioned["state"], "done", "{provisioned}");
    assert_eq!(provisioned["remote_id"], json!(record.id));
    let attempts = provisioned["attempts"].as_array().unwrap();
    assert!(
        attempts
            .iter()
            .any(|a| a["call"] == "update" && a["outcome"] == "ok"),
        "{provisioned}"
    );
    let (status, missing) = call(
        &s,
        Method::GET,
        &format!("/users/nobody/explain?target={TARGET}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "user_not_found");
}
