//! Basic authentication under load, over loopback HTTP with the peer address known to the
//! router: password checks beyond the bound are answered 503 at once, repeated failures from
//! one client back off, and bearer clients are served throughout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{Client, StatusCode};
use scim::{router, CredentialStore, GateLimits, MemoryBackend, ScimConfig, TenantId};

const TOKEN: &str = "token-tenant-a-0123456789";
const USER: &str = "samuel@wso2.com";
const PASSWORD: &str = "password";

async fn start(limits: GateLimits) -> String {
    let creds = CredentialStore::with_limits(limits);
    creds.add_basic(TenantId::new("a"), USER, PASSWORD);
    creds.add_basic(TenantId::new("a"), "ops", "ops-password");
    creds.add_bearer(TenantId::new("a"), "a-token", TOKEN);
    let app = router(
        Arc::new(MemoryBackend::new()),
        Arc::new(creds),
        ScimConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    format!("http://{addr}/scim/v2/Users")
}

async fn basic(http: &Client, url: &str, password: &str) -> reqwest::Response {
    http.get(url)
        .basic_auth(USER, Some(password))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_password_checks_is_cut_off_with_503_and_bearer_clients_are_served() {
    let url = start(GateLimits {
        verifiers: 1,
        queue: 1,
        free_failures: 1_000,
        ..GateLimits::default()
    })
    .await;
    let http = Client::new();
    let flood: Vec<_> = (0..16)
        .map(|i| {
            let (http, url) = (http.clone(), url.clone());
            tokio::spawn(async move { basic(&http, &url, &format!("guess-{i}")).await })
        })
        .collect();
    let bearer = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
    let mut busy = 0;
    for response in flood {
        let response = response.await.unwrap();
        match response.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                assert_eq!(response.headers()["retry-after"], "1");
                let body: serde_json::Value = response.json().await.unwrap();
                assert!(
                    body["detail"].as_str().unwrap().contains("bearer token"),
                    "{body}"
                );
            }
            other => panic!("unexpected {other}"),
        }
    }
    // Sixteen concurrent checks against one verifier and one waiting place.
    assert!(busy >= 1, "no request was turned away");
    // Once the flood is over, the right password is accepted again.
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    while status == StatusCode::SERVICE_UNAVAILABLE {
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = basic(&http, &url, PASSWORD).await.status();
    }
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_wrong_passwords_from_one_client_back_off() {
    let url = start(GateLimits {
        free_failures: 3,
        base_backoff: Duration::from_secs(600),
        ..GateLimits::default()
    })
    .await;
    let http = Client::new();
    assert_eq!(basic(&http, &url, PASSWORD).await.status(), StatusCode::OK);
    for i in 0..3 {
        let wrong = basic(&http, &url, &format!("guess-{i}")).await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    // Credentials verified before the failures keep working.
    assert_eq!(basic(&http, &url, PASSWORD).await.status(), StatusCode::OK);
    // Backing off: the right password of another user, never verified, is refused from this
    // client without a check.
    let other = http
        .get(&url)
        .basic_auth("ops", Some("ops-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
    let bearer = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(bearer.status(), StatusCode::OK);
}
