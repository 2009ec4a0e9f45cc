//! Checklist item 4: the JWT bearer grant (RS256 assertion; `iss`, `aud`, `exp`, `sub` checks).

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use salesforce_emulator::jwt::JWT_BEARER_GRANT;
use salesforce_emulator::{Emulator, EmulatorConfig, EmulatorError};
use serde_json::{json, Value};

use crate::common::{status_json, Ctx};

const PRIVATE_KEY: &str = include_str!("../fixtures/jwt-private-key.pem");
const PUBLIC_KEY: &str = include_str!("../fixtures/jwt-public-key.pem");
const OTHER_PRIVATE_KEY: &str = include_str!("../fixtures/jwt-other-private-key.pem");

fn jwt_config() -> EmulatorConfig {
    EmulatorConfig {
        jwt_public_key_pem: Some(PUBLIC_KEY.into()),
        ..EmulatorConfig::default()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Valid claims for the integration user with the emulator as audience.
fn claims(ctx: &Ctx) -> Value {
    let c = ctx.emu.config();
    json!({
        "iss": c.client_id,
        "sub": c.username,
        "aud": ctx.emu.base_url(),
        "exp": now() + 180,
    })
}

fn sign(claims: &Value, pem: &str) -> String {
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

async fn exchange(ctx: &Ctx, assertion: &str) -> (u16, Value) {
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .form(&[("grant_type", JWT_BEARER_GRANT), ("assertion", assertion)])
        .send()
        .await
        .unwrap();
    status_json(resp).await
}

async fn expect_refused(ctx: &Ctx, assertion: &str, error: &str, description: &str) {
    let (status, body) = exchange(ctx, assertion).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], error, "{body}");
    assert_eq!(body["error_description"], description, "{body}");
    assert_eq!(
        ctx.emu.counters().token_count(JWT_BEARER_GRANT, error),
        1,
        "{:?}",
        ctx.emu.counters().token_requests
    );
}

/// `claims(ctx)` with `changes` merged in (`null` removes a claim).
fn with(ctx: &Ctx, changes: Value) -> Value {
    let mut c = claims(ctx);
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

#[tokio::test]
async fn valid_assertion_returns_the_salesforce_shape_with_scope() {
    let ctx = Ctx::with_config(jwt_config()).await;
    let c = ctx.emu.config();
    let (status, body) = exchange(&ctx, &sign(&claims(&ctx), PRIVATE_KEY)).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with(&format!("{}!", c.org_id)), "{token}");
    assert_eq!(body["instance_url"], ctx.emu.base_url());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "id api");
    assert_eq!(body["issued_at"].as_str().unwrap().len(), 13);
    assert!(body["signature"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(body["id"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/{}", ctx.emu.integration_user_id())));
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("expires_in").is_none());
    assert_eq!(
        ctx.emu.counters().token_count(JWT_BEARER_GRANT, "success"),
        1
    );

    // The token works on the REST API.
    let resp = ctx
        .http
        .get(ctx.data("limits"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn login_and_test_audiences_prn_and_small_skew_are_accepted() {
    let ctx = Ctx::with_config(jwt_config()).await;
    let cases = [
        json!({"aud": "https://login.salesforce.com"}),
        json!({"aud": "https://test.salesforce.com/"}),
        json!({"aud": ["https://example.com", ctx.emu.base_url()]}),
        json!({"sub": null, "prn": ctx.emu.config().username}),
        json!({"exp": now() - 60}),
    ];
    for changes in cases {
        let (status, body) = exchange(&ctx, &sign(&with(&ctx, changes.clone()), PRIVATE_KEY)).await;
        assert_eq!(status, 200, "{changes}: {body}");
    }
}

#[tokio::test]
async fn unknown_issuer_is_invalid_client_id() {
    let ctx = Ctx::with_config(jwt_config()).await;
    let assertion = sign(&with(&ctx, json!({"iss": "3MVGunknown"})), PRIVATE_KEY);
    expect_refused(
        &ctx,
        &assertion,
        "invalid_client_id",
        "client identifier invalid",
    )
    .await;
}

#[tokio::test]
async fn wrong_audience_fails_audience_validation() {
    let ctx = Ctx::with_config(jwt_config()).await;
    let assertion = sign(
        &with(&ctx, json!({"aud": "https://acme.my.salesforce.com"})),
        PRIVATE_KEY,
    );
    expect_refused(
        &ctx,
        &assertion,
        "invalid_grant",
        "Audience validation failed",
    )
    .await;
}

#[tokio::test]
async fn expired_assertion_is_an_expired_authorization_code() {
    let ctx = Ctx::with_config(jwt_config()).await;
    let assertion = sign(&with(&ctx, json!({"exp": now() - 240})), PRIVATE_KEY);
    expect_refused(
        &ctx,
        &assertion,
        "invalid_grant",
        "expired authorization code",
    )
    .await;
}

#[tokio::test]
async fn assertion_without_exp_is_refused_as_expired() {
    let ctx = Ctx::with_config(jwt_config()).await;
    let assertion = sign(&with(&ctx, json!({"exp": null})), PRIVATE_KEY);
    expect_refused(
        &ctx,
        &assertion,
        "invalid_grant",
        "expired authorization code",
    )
    .await;
}

#[tokio::test]
async fn wrong_key_is_an_invalid_assertion() {
    let ctx = Ctx::with_config(jwt_config()).await;
    let assertion = sign(&claims(&ctx), OTHER_PRIVATE_KEY);
    expect_refused(&ctx, &assertion, "invalid_grant", "invalid assertion").await;
}

#[tokio::test]
async fn tampered_unsigned_and_hmac_assertions_are_invalid() {
    let ctx = Ctx::with_config(jwt_config()).await;
    let good = sign(&claims(&ctx), PRIVATE_KEY);
    // Swap in other claims under the original signature.
    let parts: Vec<&str> = good.split('.').collect();
    let forged = sign(&with(&ctx, json!({"exp": now() + 3600})), OTHER_PRIVATE_KEY);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        forged.split('.').nth(1).unwrap(),
        parts[2]
    );
    let hs256 = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&ctx),
        &EncodingKey::from_secret(PUBLIC_KEY.as_bytes()),
    )
    .unwrap();
    for assertion in [tampered.as_str(), hs256.as_str(), "not-a-jwt", ""] {
        let (status, body) = exchange(&ctx, assertion).await;
        assert_eq!(status, 400, "{assertion}: {body}");
        assert_eq!(body["error"], "invalid_grant", "{body}");
        assert_eq!(body["error_description"], "invalid assertion", "{body}");
    }
    // A missing assertion parameter, too.
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .form(&[("grant_type", JWT_BEARER_GRANT)])
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(
        (status, &body["error_description"]),
        (400, &json!("invalid assertion"))
    );
}

#[tokio::test]
async fn no_configured_key_refuses_every_assertion() {
    let ctx = Ctx::new().await;
    let assertion = sign(&claims(&ctx), PRIVATE_KEY);
    expect_refused(&ctx, &assertion, "invalid_grant", "invalid assertion").await;
}

#[tokio::test]
async fn unapproved_user_is_refused() {
    let ctx = Ctx::with_config(jwt_config()).await;
    let assertion = sign(
        &with(&ctx, json!({"sub": "someone@emulator.example.com"})),
        PRIVATE_KEY,
    );
    expect_refused(
        &ctx,
        &assertion,
        "invalid_grant",
        "user hasn't approved this consumer",
    )
    .await;

    // The integration user too, once it is no longer pre-authorised.
    let ctx = Ctx::with_config(EmulatorConfig {
        jwt_approved_users: vec![],
        ..jwt_config()
    })
    .await;
    let assertion = sign(&claims(&ctx), PRIVATE_KEY);
    expect_refused(
        &ctx,
        &assertion,
        "invalid_grant",
        "user hasn't approved this consumer",
    )
    .await;
}

#[tokio::test]
async fn another_approved_user_gets_its_own_session() {
    let mut config = jwt_config();
    config.jwt_approved_users.push("jwtuser@example.com".into());
    config.jwt_approved_users.push("ghost@example.com".into());
    let ctx = Ctx::with_config(config).await;
    let id = ctx.create_user("jwtuser", json!({})).await;
    let (status, body) = exchange(
        &ctx,
        &sign(
            &with(&ctx, json!({"sub": "JWTUser@example.com"})),
            PRIVATE_KEY,
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["id"].as_str().unwrap().ends_with(&format!("/{id}")),
        "{body}"
    );

    // Approved but not a user of the org.
    let (status, body) = exchange(
        &ctx,
        &sign(
            &with(&ctx, json!({"sub": "ghost@example.com"})),
            PRIVATE_KEY,
        ),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error_description"], "authentication failure");
}

#[tokio::test]
async fn an_unusable_public_key_is_a_configuration_error() {
    let config = EmulatorConfig {
        jwt_public_key_pem: Some(
            "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n".into(),
        ),
        ..EmulatorConfig::default()
    };
    assert!(matches!(
        Emulator::start(config).await,
        Err(EmulatorError::Config(_))
    ));
}
