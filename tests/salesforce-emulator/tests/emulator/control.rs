//! The control API: users, counters, request log, reset, seed, settings, tokens, info.

use reqwest::Method;
use salesforce_emulator::{Emulator, EmulatorConfig, ServeOptions};
use serde_json::{json, Value};

use crate::common::{merged, status_json, Ctx, V};

async fn control_get(ctx: &Ctx, path: &str) -> Value {
    let resp = ctx.control(Method::GET, path).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

async fn control_post(ctx: &Ctx, path: &str, body: Value) -> (u16, Value) {
    let resp = ctx
        .control(Method::POST, path)
        .json(&body)
        .send()
        .await
        .unwrap();
    status_json(resp).await
}

#[tokio::test]
async fn users_counters_and_requests() {
    let ctx = Ctx::new().await;
    let id = ctx.create_user("ctl", json!({"Phone": "+1 555"})).await;
    ctx.get(&format!("sobjects/User/{id}")).await;
    ctx.query("SELECT Id FROM User").await;

    let users = control_get(&ctx, "/__emulator__/users").await;
    let users = users.as_array().unwrap();
    assert_eq!(users.len(), 2);
    let u = users.iter().find(|u| u["Id"] == id).unwrap();
    assert_eq!(u["Username"], "ctl@example.com");
    assert_eq!(u["Phone"], "+1 555");
    assert_eq!(u["IsActive"], true);
    assert!(u.get("CreatedDate").is_some());
    assert_eq!(u["FederationIdentifier"], Value::Null);
    let one = control_get(&ctx, &format!("/__emulator__/users/{}", &id[..15])).await;
    assert_eq!(one["Id"], id);

    let counters = control_get(&ctx, "/__emulator__/counters").await;
    assert_eq!(counters["api_calls"], 3);
    assert_eq!(counters["by_operation"]["create"], 1);
    assert_eq!(counters["by_operation"]["get"], 1);
    assert_eq!(counters["by_operation"]["query"], 1);
    assert_eq!(counters["by_method"]["POST"], 1);
    assert_eq!(counters["by_method"]["GET"], 2);
    assert_eq!(
        counters["by_path"][format!("POST /services/data/{V}/sobjects/User/")],
        1
    );
    assert_eq!(counters["api_usage"], json!({"used": 3, "max": 15000}));

    let log = control_get(&ctx, "/__emulator__/requests").await;
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), 3, "control calls are not logged");
    assert_eq!(log[0]["method"], "POST");
    assert_eq!(log[0]["path"], format!("/services/data/{V}/sobjects/User/"));
    assert_eq!(log[0]["status"], 201);
    assert_eq!(log[2]["status"], 200);
    assert!(log[2]["query"].as_str().unwrap().starts_with("q="));
}

#[tokio::test]
async fn reset_returns_to_the_start_state() {
    let ctx = Ctx::new().await;
    ctx.create_user("gone", json!({})).await;
    ctx.emu.arm_fault(salesforce_emulator::FaultSpec::new(
        salesforce_emulator::Operation::Get,
        salesforce_emulator::FaultKind::ServerUnavailable,
    ));
    let (status, _) = control_post(&ctx, "/__emulator__/reset", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(ctx.emu.users().len(), 1);
    assert!(ctx.emu.faults().is_empty());
    assert_eq!(ctx.emu.api_usage().used, 0);
    assert_eq!(ctx.emu.counters().api_calls, 0);
    // Tokens were dropped too.
    assert_eq!(ctx.get("limits").await.status(), 401);
}

#[tokio::test]
async fn seed_profiles_usernames_licences_and_users() {
    let ctx = Ctx::new().await;
    let (status, body) = control_post(
        &ctx,
        "/__emulator__/seed",
        json!({
            "add_profiles": [{"id": "00e5g000004NeWp", "name": "Partner"}],
            "add_other_org_usernames": ["someone@elsewhere.example.com"],
            "licences": 3,
            "users": [merged("seeded", json!({}))]
        }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["created"].as_array().unwrap().len(), 1);
    assert_eq!(body["licences"], 3);
    assert_eq!(body["licences_remaining"], 1);

    ctx.create_user("partner", json!({"ProfileId": "00e5g000004NeWp"}))
        .await;
    let resp = ctx
        .post(
            "sobjects/User/",
            &merged("x", json!({"Username": "someone@elsewhere.example.com"})),
        )
        .await;
    crate::common::expect_error(resp, 400, "DUPLICATE_USERNAME").await;
    let resp = ctx
        .post("sobjects/User/", &merged("fourth", json!({})))
        .await;
    crate::common::expect_error(resp, 400, "LICENSE_LIMIT_EXCEEDED").await;

    // Seeding invalid users reports the validation error.
    let (status, body) = control_post(
        &ctx,
        "/__emulator__/seed",
        json!({"users": [merged("bad", json!({"Alias": "waytoolong"}))]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body[0]["errorCode"], "STRING_TOO_LONG");
}

#[tokio::test]
async fn settings_tokens_and_info() {
    let ctx = Ctx::new().await;
    let info = control_get(&ctx, "/__emulator__/info").await;
    assert_eq!(info["base_url"], ctx.emu.base_url());
    assert_eq!(info["token_url"], ctx.emu.token_url());
    assert_eq!(info["client_id"], ctx.emu.config().client_id);
    assert_eq!(info["integration_user_id"], ctx.emu.integration_user_id());

    let (status, body) = control_post(
        &ctx,
        "/__emulator__/settings",
        json!({"password_flow_blocked": true}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["password_flow_blocked"], true);
    assert!(ctx.emu.config().password_flow_blocked);

    let (status, body) = control_post(&ctx, "/__emulator__/tokens", json!({})).await;
    assert_eq!(status, 201);
    let token = body["access_token"].as_str().unwrap().to_string();
    let resp = ctx
        .http
        .get(ctx.data("limits"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, body) =
        control_post(&ctx, "/__emulator__/tokens/expire", json!({"token": token})).await;
    assert_eq!(body["expired"], 1);
    let resp = ctx
        .http
        .get(ctx.data("limits"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // The other token is still alive.
    assert_eq!(ctx.get("limits").await.status(), 200);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let ctx = Ctx::new().await;
    let url = ctx.url("/services/data/");
    assert_eq!(ctx.http.get(&url).send().await.unwrap().status(), 200);
    ctx.emu.shutdown().await;
    let fresh = reqwest::Client::new();
    assert!(fresh.get(&url).send().await.is_err());
}

#[tokio::test]
async fn control_api_needs_the_control_token_unless_open() {
    let ctx = Ctx::new().await;
    let token = ctx
        .emu
        .control_token()
        .expect("a token by default")
        .to_string();
    for path in [
        "/__emulator__/info",
        "/__emulator__/users",
        "/__emulator__/limits",
    ] {
        let anonymous = ctx.http.get(ctx.url(path)).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{path}");
        assert!(anonymous.headers().contains_key("www-authenticate"));
        let (_, body) = status_json(anonymous).await;
        assert!(!body.to_string().contains(&ctx.emu.config().client_secret));
        for (bearer, expected) in [(format!("{token}x"), 401), (token.clone(), 200)] {
            let resp = ctx
                .http
                .get(ctx.url(path))
                .bearer_auth(bearer)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), expected, "{path}");
        }
    }
    // A refused write changes nothing.
    let refused = ctx
        .http
        .post(ctx.url("/__emulator__/settings"))
        .json(&json!({"password_flow_blocked": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    assert!(!ctx.emu.config().password_flow_blocked);

    let open = Emulator::start_with(
        EmulatorConfig::default(),
        ServeOptions::default().open_control(),
    )
    .await
    .unwrap();
    assert_eq!(open.control_token(), None);
    let info = ctx
        .http
        .get(format!("{}/__emulator__/info", open.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
}

#[tokio::test]
async fn editing_a_user_injects_drift_without_counting_a_call() {
    let ctx = Ctx::new().await;
    let id = ctx
        .create_user("drift", json!({"LastName": "Before"}))
        .await;
    let used = ctx.emu.api_usage().used;
    let resp = ctx
        .control(Method::PATCH, &format!("/__emulator__/users/{id}"))
        .json(&json!({"LastName": "Edited", "IsActive": false}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["LastName"], "Edited");
    assert_eq!(body["IsActive"], false);
    let user = ctx.emu.user(&id).unwrap();
    assert_eq!(user.get("LastName"), json!("Edited"));
    assert!(!user.is_active());
    assert_eq!(
        ctx.emu.api_usage().used,
        used,
        "control calls are not API calls"
    );

    // Validated like a REST update; an unknown id is 404.
    let resp = ctx
        .control(Method::PATCH, &format!("/__emulator__/users/{id}"))
        .json(&json!({"Alias": "waytoolong"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 400);
    assert_eq!(body[0]["errorCode"], "STRING_TOO_LONG");
    let resp = ctx
        .control(Method::PATCH, "/__emulator__/users/005000000000099AAA")
        .json(&json!({"LastName": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}
