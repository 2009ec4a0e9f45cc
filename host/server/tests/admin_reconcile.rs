//! Reconciliation through the admin API over real HTTP, against the quickstart server and its
//! emulated org: a report run (started without waiting, read back from its location) finds an
//! edited field, a repair run (waited for) queues its fix and the dispatcher applies it; runs are listed and read back; other tenants' administrators see none
//! of it.

#[path = "support/org.rs"]
mod org_support;
#[path = "support/scim_server.rs"]
mod scim_support;

use reqwest::{Method, StatusCode};
use scim_support::{eventually, Setup};
use serde_json::{json, Value};

use provisioner_server::quickstart;

const ROOT_TOKEN: &str = "server-admin-token-0123456789abcdef";
const OTHER_TOKEN: &str = "other-tenant-admin-token-0123456789";
const TENANT: &str = quickstart::TENANT;
const TARGET: &str = "Salesforce.com";

async fn setup() -> Setup {
    scim_support::start("scim-client-password", |config| {
        scim_support::add_other_tenant_and_admin_tokens(config, ROOT_TOKEN, OTHER_TOKEN);
    })
    .await
}

async fn call(
    s: &Setup,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = s
        .http
        .request(
            method,
            format!("{}/admin/v1/tenants/{TENANT}{path}", s.base),
        )
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The drift entries of a report of `kind`.
fn of_kind<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["drift"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == kind)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_is_reported_repaired_and_listed_through_the_api() {
    let s = setup().await;
    let user_name = "drift.user@example.com";
    let (status, user) = call(
        &s,
        Method::POST,
        "/users",
        ROOT_TOKEN,
        Some(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": "Dee", "familyName": "Original"},
            "emails": [{"value": user_name, "primary": true}],
        })),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let local_id = user["id"].as_str().unwrap().to_owned();
    let remote = eventually("the user reaches the org", || {
        s.emulator.user_by_username(user_name)
    })
    .await;
    s.emulator
        .edit_user(
            &remote.id,
            json!({"LastName": "EditedInOrg"})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();

    // Started without waiting: 202 with the running run and where to read it; it goes on in
    // the server and ends there.
    let path = format!("/targets/{TARGET}/reconcile");
    let response = s
        .http
        .post(format!("{}/admin/v1/tenants/{TENANT}{path}", s.base))
        .bearer_auth(ROOT_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let started: Value = response.json().await.unwrap();
    assert_eq!(started["state"], "running", "{started}");
    assert_eq!(
        location,
        format!(
            "/admin/v1/tenants/carbon.super/targets/Salesforce.com/reconciliations/{}",
            started["id"]
        )
    );
    let read = |location: String| {
        let s = &s;
        async move {
            let response = s
                .http
                .get(format!("{}{location}", s.base))
                .bearer_auth(ROOT_TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.json::<Value>().await.unwrap()
        }
    };
    let mut report = read(location.clone()).await;
    for _ in 0..600 {
        if report["state"] != "running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        report = read(location.clone()).await;
    }
    assert_eq!(report["state"], "done", "{report}");
    assert_eq!(report["policy"], "report");
    let fields = of_kind(&report, "field_differs");
    assert_eq!(fields.len(), 1, "{report}");
    assert_eq!(fields[0]["entity_id"], local_id.as_str());
    assert_eq!(fields[0]["field"], "LastName");
    assert_eq!(fields[0]["expected"], "Original");
    assert_eq!(fields[0]["actual"], "EditedInOrg");
    assert_eq!(fields[0]["repair"], Value::Null);
    // The org's integration user is no local user's.
    let unknown = of_kind(&report, "unknown_remotely");
    assert_eq!(unknown.len(), 1, "{report}");
    assert_eq!(
        unknown[0]["remote_id"],
        s.emulator.integration_user_id().as_str()
    );
    assert!(of_kind(&report, "missing_remotely").is_empty());

    let (status, repair) = call(
        &s,
        Method::POST,
        &path,
        ROOT_TOKEN,
        Some(json!({"repair": true, "wait": true})),
    )
    .await;
    assert_eq!(status, 200, "{repair}");
    assert_eq!(repair["state"], "done", "{repair}");
    assert_eq!(repair["policy"], "repair");
    let fix = of_kind(&repair, "field_differs")[0]["repair"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(fix.starts_with("queued job "), "{fix}");
    eventually("the repair reaches the org", || {
        let user = s.emulator.user(&remote.id)?;
        (user.get("LastName") == json!("Original")).then_some(())
    })
    .await;

    let list = format!("/targets/{TARGET}/reconciliations");
    let (status, runs) = call(&s, Method::GET, &list, ROOT_TOKEN, None).await;
    assert_eq!(status, 200, "{runs}");
    let ids: Vec<i64> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            repair["id"].as_i64().unwrap(),
            report["id"].as_i64().unwrap()
        ]
    );
    assert!(runs[0].get("drift").is_none(), "the list carries no drift");
    let (status, again) = call(
        &s,
        Method::GET,
        &format!("{list}/{}", repair["id"]),
        ROOT_TOKEN,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again, repair);
    let (status, missing) = call(&s, Method::GET, &format!("{list}/99999"), ROOT_TOKEN, None).await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "reconciliation_not_found");

    // Bad bodies and other tenants' administrators.
    let (status, bad) = call(
        &s,
        Method::POST,
        &path,
        ROOT_TOKEN,
        Some(json!({"repair": "yes"})),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    for (method, path) in [(Method::POST, path.as_str()), (Method::GET, list.as_str())] {
        let (status, body) = call(&s, method, path, OTHER_TOKEN, None).await;
        assert_eq!(status, 404, "{body}");
        assert_eq!(body["error"], "tenant_not_found");
    }
    s.server.shutdown().await.unwrap();
    s.emulator.shutdown().await;
}
