//! The admin API's OpenAPI document: generated from the code, kept in the repository as
//! `docs/openapi.json` (this test fails when they differ: regenerate with
//! `cargo run -p provisioner -- admin openapi > docs/openapi.json`), and covering every route
//! the server serves under `/admin/v1` (each documented operation answers, not the router's
//! "no such route").

#[path = "support/org.rs"]
mod org_support;
#[path = "support/scim_server.rs"]
mod scim_support;

use provisioner_server::admin;
use provisioner_server::config::{AdminSection, AdminToken};
use serde_json::Value;

const TOKEN: &str = "openapi-test-admin-token-0123456789";

fn committed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
    std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!("cannot read docs/openapi.json ({e}); generate it with `cargo run -p provisioner -- admin openapi > docs/openapi.json`")
    })
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let generated = admin::openapi_text();
    assert!(
        committed().trim_end() == generated.trim_end(),
        "docs/openapi.json differs from the document the code generates; regenerate it with \
         `cargo run -p provisioner -- admin openapi > docs/openapi.json`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_operation_is_served_and_the_document_is_served_too() {
    let s = scim_support::start("openapi-scim-password", |config| {
        config.admin = AdminSection {
            users: Vec::new(),
            tokens: vec![AdminToken {
                label: "openapi".into(),
                token: TOKEN.into(),
                tenant: None,
            }],
        };
    })
    .await;

    // The served document is the generated one, without authentication.
    let served: Value = s
        .http
        .get(format!("{}/admin/v1/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let generated: Value = serde_json::from_str(&admin::openapi_text()).unwrap();
    assert_eq!(served, generated);
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));

    // Every documented path and method is routed: an unrouted one would fall through to the
    // SCIM API's fallback (401 without SCIM credentials) or answer 405.
    let paths = served["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "only {} paths documented", paths.len());
    let mut checked = 0;
    for (path, item) in paths {
        assert!(path.starts_with("/admin/v1/"), "{path}");
        let concrete = path
            .replace("{tenant}", "no.such.tenant")
            .replace("{target}", "no-such-target")
            .replace("{key}", "no-such-key")
            .replace("{reference}", "sha256:00")
            .replace("{id}", "0");
        for (method, operation) in item.as_object().unwrap() {
            // Every response is described (OpenAPI requires it; validators refuse the document).
            for (status, response) in operation["responses"].as_object().unwrap() {
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status} has no description"
                );
            }
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let mut request = s
                .http
                .request(method.clone(), format!("{}{concrete}", s.base))
                .bearer_auth(TOKEN);
            if matches!(
                method,
                reqwest::Method::POST | reqwest::Method::PUT | reqwest::Method::PATCH
            ) {
                request = request
                    .header("content-type", "application/json")
                    .body("{}");
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_ne!(status, 405, "{method} {path} is documented but not routed");
            assert!(
                !(status == 401 && body.contains("urn:ietf:params:scim")),
                "{method} {path} is documented but not routed: {status} {body}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} operations checked");
}
