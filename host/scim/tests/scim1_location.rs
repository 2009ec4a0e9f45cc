//! WSO2's SCIM 1.x endpoint over loopback HTTP: its responses locate users under the 1.x path
//! (`Location` header and `meta.location`), and following that location works.

use std::sync::Arc;

use reqwest::{Client, StatusCode};
use scim::{router, CredentialStore, MemoryBackend, ScimConfig, TenantId};
use serde_json::{json, Value};

const TOKEN: &str = "token-scim1-location-0123456789";

/// The router on a free loopback port; returns its `http://127.0.0.1:<port>`.
async fn start(config: ScimConfig) -> String {
    let creds = CredentialStore::new();
    creds.add_bearer(TenantId::new("t"), "client", TOKEN);
    let app = router(Arc::new(MemoryBackend::new()), Arc::new(creds), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Option<String>, Value) {
    let r = req.bearer_auth(TOKEN).send().await.unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        location,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

const TUTORIAL: &str = r#"{"schemas":["urn:scim:schemas:core:1.0"],"userName":"samuel@wso2.com","password":"test25","name":{"familyName":"Gnaniah"},"emails":["samuel@wso2.com"]}"#;

#[tokio::test]
async fn scim1_responses_locate_users_under_the_scim1_path() {
    let base = start(ScimConfig::default()).await;
    let http = Client::new();
    let v1 = format!("{base}/wso2/scim/Users");

    let (status, location, created) = send(
        http.post(&v1)
            .header("content-type", "application/json")
            .body(TUTORIAL),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap();
    let expected = format!("{v1}/{id}");
    assert_eq!(location.as_deref(), Some(expected.as_str()));
    assert_eq!(created["meta"]["location"], expected);

    // The location is a 1.x resource: following it answers in the 1.x shape.
    let (status, _, read) = send(http.get(&expected)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read["schemas"], json!(["urn:scim:schemas:core:1.0"]));
    assert_eq!(read["meta"]["location"], expected);

    let (status, _, replaced) = send(
        http.put(&expected)
            .header("content-type", "application/json")
            .body(TUTORIAL.replace("Gnaniah", "Gnaniah-Smith")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replaced["name"]["familyName"], "Gnaniah-Smith");
    assert_eq!(replaced["meta"]["location"], expected);

    let (status, _, list) = send(http.get(&v1)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["Resources"][0]["meta"]["location"], expected);

    // The SCIM 2 endpoint keeps locating the same user under /scim/v2.
    let (status, _, v2) = send(http.get(format!("{base}/scim/v2/Users/{id}"))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v2["meta"]["location"], format!("{base}/scim/v2/Users/{id}"));
}

#[tokio::test]
async fn a_configured_public_base_url_locates_scim1_users_under_it() {
    let base = start(ScimConfig {
        base_url: Some("https://idp.example/scim/v2".into()),
        ..ScimConfig::default()
    })
    .await;
    let (status, location, created) = send(
        Client::new()
            .post(format!("{base}/wso2/scim/Users"))
            .header("content-type", "application/json")
            .body(TUTORIAL),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let expected = format!(
        "https://idp.example/wso2/scim/Users/{}",
        created["id"].as_str().unwrap()
    );
    assert_eq!(location.as_deref(), Some(expected.as_str()));
    assert_eq!(created["meta"]["location"], expected);
}
