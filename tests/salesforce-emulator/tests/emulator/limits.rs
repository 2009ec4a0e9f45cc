//! Checklist item 19: API usage header, the limit and `/limits`.

use reqwest::Method;
use salesforce_emulator::{EmulatorConfig, LimitsUpdate};
use serde_json::{json, Value};

use crate::common::{expect_error, Ctx};

fn usage(resp: &reqwest::Response) -> String {
    resp.headers()["sforce-limit-info"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn every_data_call_counts_until_the_limit() {
    let ctx = Ctx::with_config(EmulatorConfig {
        api_max: 3,
        ..Default::default()
    })
    .await;
    let resp = ctx.get("limits").await;
    assert_eq!(usage(&resp), "api-usage=1/3");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["DailyApiRequests"], json!({"Max": 3, "Remaining": 2}));
    // Errors count too and carry the header.
    let resp = ctx.get("sobjects/User/123").await;
    assert_eq!(usage(&resp), "api-usage=2/3");
    let resp = ctx.post("sobjects/User/", &json!({})).await;
    assert_eq!(usage(&resp), "api-usage=3/3");

    let resp = ctx.get("limits").await;
    assert_eq!(usage(&resp), "api-usage=3/3");
    assert!(resp.headers().get("retry-after").is_none());
    let err = expect_error(resp, 403, "REQUEST_LIMIT_EXCEEDED").await;
    assert_eq!(err["message"], "TotalRequests Limit exceeded.");
    assert_eq!(ctx.emu.counters().limit_exceeded_calls, 1);

    // The token endpoint and the version listing are not limited and carry no header.
    let c = ctx.emu.config();
    let resp = ctx
        .http
        .post(ctx.emu.token_url())
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("sforce-limit-info").is_none());

    // The window resets through the control API.
    let resp = ctx
        .control(Method::POST, "/__emulator__/limits")
        .json(&json!({"reset": true}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"used": 0, "max": 3}));
    let resp = ctx.get("limits").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(usage(&resp), "api-usage=1/3");

    // And from Rust.
    ctx.emu.set_limits(LimitsUpdate {
        max: Some(100),
        used: Some(99),
        reset: false,
    });
    assert_eq!(usage(&ctx.get("limits").await), "api-usage=100/100");
    assert_eq!(ctx.get("limits").await.status(), 403);
    ctx.emu.reset_api_usage();
    assert_eq!(ctx.get("limits").await.status(), 200);
}
