//! The web console as the running server serves it (quickstart configuration on loopback):
//! every asset with its type and security headers, nothing loaded from another origin, and no
//! credentials needed for the assets while SCIM still requires its own.

#[path = "support/org.rs"]
mod org_support;
#[path = "support/scim_server.rs"]
mod scim_support;

use provisioner_server::console::{APP_CSS, APP_JS, CONTENT_SECURITY_POLICY, INDEX_HTML};
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY as CSP, CONTENT_TYPE, LOCATION};

const PASSWORD: &str = "console-test-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_assets_are_served_with_their_types_and_policy() {
    let s = scim_support::start(PASSWORD, |_| {}).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let response = http
        .get(format!("{}/console", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 308, "/console redirects to /console/");
    assert_eq!(response.headers()[LOCATION], "/console/");

    for (path, content_type, body) in [
        ("/console/", "text/html", INDEX_HTML),
        ("/console/app.js", "text/javascript", APP_JS),
        ("/console/app.css", "text/css", APP_CSS),
    ] {
        let response = http.get(format!("{}{path}", s.base)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{path}: {:?}",
            headers[CONTENT_TYPE]
        );
        assert_eq!(headers[CSP], CONTENT_SECURITY_POLICY, "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers[CACHE_CONTROL], "no-cache", "{path}");
        assert_eq!(response.text().await.unwrap(), body, "{path}");
    }

    let missing = http
        .get(format!("{}/console/missing.js", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The assets are public; what they show comes from the authenticated admin API, and SCIM
    // keeps requiring its own credentials.
    let scim = http
        .get(format!("{}/scim/v2/Users", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(scim.status(), 401);

    s.server.shutdown().await.unwrap();
}

#[test]
fn the_page_loads_only_its_own_assets() {
    assert!(INDEX_HTML.contains(r#"<script src="/console/app.js" defer></script>"#));
    assert!(INDEX_HTML.contains(r#"<link rel="stylesheet" href="/console/app.css">"#));
    for (name, asset) in [
        ("index.html", INDEX_HTML),
        ("app.js", APP_JS),
        ("app.css", APP_CSS),
    ] {
        for other_origin in ["http://", "https://", "@import", "url("] {
            assert!(
                !asset.contains(other_origin),
                "{name} refers to `{other_origin}`: the console loads nothing from elsewhere"
            );
        }
        // The policy forbids inline script and style, so the markup must not carry any.
        for inline in ["<script>", "style=", " onclick=", " onload="] {
            assert!(!asset.contains(inline), "{name} has inline `{inline}`");
        }
    }
}

#[test]
fn every_admin_path_the_console_calls_is_in_the_openapi_document() {
    let doc: serde_json::Value =
        serde_json::from_str(&provisioner_server::admin::openapi_text()).unwrap();
    let paths = doc["paths"].as_object().expect("the document has paths");
    let called = provisioner_server::console::api_paths();
    assert!(called.len() > 20, "{called:?}");
    let missing: Vec<String> = called
        .iter()
        .map(|(_, template)| format!("{}{template}", provisioner_server::admin::PREFIX))
        .filter(|path| !paths.contains_key(path))
        .collect();
    assert!(
        missing.is_empty(),
        "the console calls admin paths the API does not have: {missing:?}"
    );
}
