//! Checklist items 1-3, 5 and 6: the token endpoint and sessions.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use salesforce_emulator::{EmulatorConfig, Settings};
use serde_json::Value;
use sha2::Sha256;

use crate::common::{expect_error, status_json, Ctx};

fn password_form(c: &EmulatorConfig) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "password".into()),
        ("client_id", c.client_id.clone()),
        ("client_secret", c.client_secret.clone()),
        ("username", c.username.clone()),
        ("password", format!("{}{}", c.password, c.security_token)),
    ]
}

async fn oauth_error(resp: reqwest::Response, error: &str, description: &str) {
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_description"], description, "{body}");
}

#[tokio::test]
async fn password_grant_returns_the_salesforce_shape() {
    let ctx = Ctx::new().await;
    let c = ctx.emu.config();
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .form(&password_form(&c))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
    assert!(resp.headers().get("sforce-limit-info").is_none());
    let body: Value = resp.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    let (org, rest) = token.split_once('!').unwrap();
    assert_eq!(org, c.org_id);
    assert!(rest.len() > 20);
    assert_eq!(body["instance_url"], ctx.emu.base_url());
    assert_eq!(body["token_type"], "Bearer");
    assert!(body.get("scope").is_none());
    assert!(body.get("expires_in").is_none());
    assert!(body.get("refresh_token").is_none());
    let issued_at = body["issued_at"].as_str().expect("issued_at is a string");
    assert_eq!(issued_at.len(), 13);
    assert!(issued_at.chars().all(|c| c.is_ascii_digit()));
    let id = body["id"].as_str().unwrap();
    assert_eq!(
        id,
        format!(
            "{}/id/{}/{}",
            ctx.emu.base_url(),
            salesforce_emulator::ids::to18(&c.org_id).unwrap(),
            ctx.emu.integration_user_id()
        )
    );
    let mut mac = Hmac::<Sha256>::new_from_slice(c.client_secret.as_bytes()).unwrap();
    mac.update(format!("{id}{issued_at}").as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(body["signature"], expected);

    // The token works on the REST API, with both header schemes.
    for scheme in ["Bearer", "OAuth"] {
        let resp = ctx
            .http
            .get(ctx.data("limits"))
            .header("authorization", format!("{scheme} {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{scheme}");
    }
    assert_eq!(ctx.emu.counters().token_count("password", "success"), 1);
}

#[tokio::test]
async fn parameters_in_the_query_string_work_and_json_bodies_do_not() {
    let ctx = Ctx::new().await;
    let c = ctx.emu.config();
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .query(&password_form(&c))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let json_body: serde_json::Map<String, Value> = password_form(&c)
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .json(&json_body)
        .send()
        .await
        .unwrap();
    oauth_error(resp, "unsupported_grant_type", "grant type not supported").await;
}

#[tokio::test]
async fn password_grant_failures() {
    let ctx = Ctx::new().await;
    let c = ctx.emu.config();
    let post =
        |form: Vec<(&'static str, String)>| ctx.http.post(ctx.emu.token_url()).form(&form).send();
    // Password without the security token.
    let mut form = password_form(&c);
    form[4].1 = c.password.clone();
    oauth_error(
        post(form).await.unwrap(),
        "invalid_grant",
        "authentication failure",
    )
    .await;
    // Wrong user.
    let mut form = password_form(&c);
    form[3].1 = "nobody@example.com".into();
    oauth_error(
        post(form).await.unwrap(),
        "invalid_grant",
        "authentication failure",
    )
    .await;
    // Unknown client.
    let mut form = password_form(&c);
    form[1].1 = "unknown".into();
    oauth_error(
        post(form).await.unwrap(),
        "invalid_client_id",
        "client identifier invalid",
    )
    .await;
    // Wrong secret.
    let mut form = password_form(&c);
    form[2].1 = "wrong".into();
    oauth_error(
        post(form).await.unwrap(),
        "invalid_client",
        "invalid client credentials",
    )
    .await;
    // Unknown and missing grant.
    let mut form = password_form(&c);
    form[0].1 = "authorization_code".into();
    oauth_error(
        post(form).await.unwrap(),
        "unsupported_grant_type",
        "grant type not supported",
    )
    .await;
    let form = password_form(&c)[1..].to_vec();
    oauth_error(
        post(form).await.unwrap(),
        "unsupported_grant_type",
        "grant type not supported",
    )
    .await;
    // Blocked flow.
    ctx.emu.update_settings(Settings {
        password_flow_blocked: Some(true),
        ..Default::default()
    });
    oauth_error(
        post(password_form(&c)).await.unwrap(),
        "invalid_grant",
        "authentication failure",
    )
    .await;
    let counters = ctx.emu.counters();
    assert_eq!(counters.token_count("password", "invalid_grant"), 3);
    assert_eq!(
        counters.token_count("(missing)", "unsupported_grant_type"),
        1
    );
}

#[tokio::test]
async fn trusted_ip_needs_no_security_token() {
    let ctx = Ctx::with_config(EmulatorConfig {
        trusted_ip: true,
        ..Default::default()
    })
    .await;
    let c = ctx.emu.config();
    let mut form = password_form(&c);
    form[4].1 = c.password.clone();
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn client_credentials_in_body_or_basic() {
    let ctx = Ctx::new().await;
    let c = ctx.emu.config();
    let body = ctx.client_credentials_token().await;
    assert_eq!(body["scope"], "id api");
    assert_eq!(body["token_type"], "Bearer");

    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    let resp = ctx
        .http
        .get(ctx.data("limits"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Missing and wrong secrets.
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &c.client_id),
        ])
        .send()
        .await
        .unwrap();
    oauth_error(resp, "invalid_client", "invalid client credentials").await;
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .basic_auth(&c.client_id, Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    oauth_error(resp, "invalid_client", "invalid client credentials").await;
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .basic_auth("someone-else", Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    oauth_error(resp, "invalid_client_id", "client identifier invalid").await;
    assert_eq!(
        ctx.emu
            .counters()
            .token_count("client_credentials", "success"),
        2
    );
}

#[tokio::test]
async fn client_credentials_refused_on_the_login_host() {
    let ctx = Ctx::with_config(EmulatorConfig {
        login_host: true,
        ..Default::default()
    })
    .await;
    let c = ctx.emu.config();
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    oauth_error(
        resp,
        "invalid_grant",
        "request not supported on this domain",
    )
    .await;
}

async fn expect_invalid_session(resp: reqwest::Response) {
    assert!(resp.headers().get("sforce-limit-info").is_none());
    let err = expect_error(resp, 401, "INVALID_SESSION_ID").await;
    assert_eq!(err["message"], "Session expired or invalid");
}

#[tokio::test]
async fn bad_missing_expired_and_revoked_tokens_get_401() {
    let ctx = Ctx::new().await;
    let url = ctx.data("sobjects/User/");
    expect_invalid_session(ctx.http.get(&url).send().await.unwrap()).await;
    expect_invalid_session(
        ctx.http
            .get(&url)
            .bearer_auth("00Dxx!bogus")
            .send()
            .await
            .unwrap(),
    )
    .await;
    expect_invalid_session(
        ctx.http
            .get(&url)
            .header("authorization", "Basic abc")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ctx.get("sobjects/User/").await.status(), 200);

    // Admin expiry through the control API.
    let resp = ctx
        .control(Method::POST, "/__emulator__/tokens/expire")
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200);
    assert_eq!(body["expired"], 1);
    expect_invalid_session(ctx.get("sobjects/User/").await).await;
    // Unauthenticated calls are not counted against the API allocation.
    assert_eq!(ctx.emu.api_usage().used, 1);
    assert_eq!(ctx.emu.counters().unauthenticated_calls, 4);
}

#[tokio::test]
async fn sessions_time_out_after_inactivity_and_slide_with_use() {
    let ctx = Ctx::with_config(EmulatorConfig {
        token_lifetime: std::time::Duration::from_millis(1000),
        ..Default::default()
    })
    .await;
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(
            ctx.get("limits").await.status(),
            200,
            "use slides the timeout"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    expect_invalid_session(ctx.get("limits").await).await;
}
