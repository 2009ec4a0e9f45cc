//! Composite: up to 25 subrequests as one API call, with references and allOrNone.

use serde_json::{json, Value};

use crate::common::{expect_error, merged, status_json, Ctx, V};

async fn composite(ctx: &Ctx, body: &Value) -> (u16, Value) {
    status_json(ctx.post("composite", body).await).await
}

#[tokio::test]
async fn subrequests_run_in_order_with_references_as_one_api_call() {
    let ctx = Ctx::new().await;
    let calls_before = ctx.emu.counters().api_calls;
    let body = json!({"allOrNone": false, "compositeRequest": [
        {"method": "POST", "url": format!("/services/data/{V}/sobjects/User"),
         "referenceId": "newUser", "body": merged("a", json!({}))},
        {"method": "PATCH", "url": format!("/services/data/{V}/sobjects/User/@{{newUser.id}}"),
         "referenceId": "rename", "body": {"LastName": "Jones"}},
        {"method": "GET", "url": format!("/services/data/{V}/sobjects/User/@{{newUser.id}}?fields=LastName"),
         "referenceId": "read"},
        {"method": "GET", "url": format!("/services/data/{V}/query?q=SELECT+Id+FROM+User+WHERE+Username='a@example.com'"),
         "referenceId": "q"},
        {"method": "PATCH", "url": format!("/services/data/{V}/sobjects/User/@{{q.records[0].Id}}"),
         "referenceId": "viaQuery", "body": {"FirstName": "Ann"}},
    ]});
    let (status, body) = composite(&ctx, &body).await;
    assert_eq!(status, 200, "{body}");
    let answers = body["compositeResponse"].as_array().unwrap();
    assert_eq!(answers.len(), 5);
    assert_eq!(answers[0]["referenceId"], "newUser");
    assert_eq!(answers[0]["httpStatusCode"], 201);
    let id = answers[0]["body"]["id"].as_str().unwrap();
    assert_eq!(answers[1]["httpStatusCode"], 204);
    assert_eq!(answers[1]["body"], Value::Null);
    assert_eq!(answers[2]["httpStatusCode"], 200);
    assert_eq!(answers[2]["body"]["LastName"], "Jones");
    assert_eq!(answers[3]["body"]["records"][0]["Id"], id);
    assert_eq!(answers[4]["httpStatusCode"], 204);
    assert_eq!(ctx.emu.user(id).unwrap().text("FirstName"), Some("Ann"));
    assert_eq!(ctx.emu.counters().api_calls - calls_before, 1);
}

#[tokio::test]
async fn all_or_none_halts_and_rolls_back_everything() {
    let ctx = Ctx::new().await;
    let users = ctx.emu.users().len();
    let body = json!({"allOrNone": true, "compositeRequest": [
        {"method": "POST", "url": format!("/services/data/{V}/sobjects/User"),
         "referenceId": "ok", "body": merged("a", json!({}))},
        {"method": "POST", "url": format!("/services/data/{V}/sobjects/User"),
         "referenceId": "bad", "body": merged("b", json!({"Email": "nope"}))},
        {"method": "POST", "url": format!("/services/data/{V}/sobjects/User"),
         "referenceId": "later", "body": merged("c", json!({}))},
    ]});
    let (status, body) = composite(&ctx, &body).await;
    assert_eq!(status, 200);
    let answers = body["compositeResponse"].as_array().unwrap();
    assert_eq!(answers[1]["httpStatusCode"], 400);
    assert_eq!(answers[1]["body"][0]["errorCode"], "INVALID_EMAIL_ADDRESS");
    for i in [0, 2] {
        assert_eq!(answers[i]["httpStatusCode"], 400);
        assert_eq!(answers[i]["body"][0]["errorCode"], "PROCESSING_HALTED");
    }
    assert_eq!(ctx.emu.users().len(), users);
}

#[tokio::test]
async fn a_reference_to_a_failed_subrequest_fails_only_its_dependants() {
    let ctx = Ctx::new().await;
    let body = json!({"compositeRequest": [
        {"method": "POST", "url": format!("/services/data/{V}/sobjects/User"),
         "referenceId": "bad", "body": merged("b", json!({"Email": "nope"}))},
        {"method": "PATCH", "url": format!("/services/data/{V}/sobjects/User/@{{bad.id}}"),
         "referenceId": "dependent", "body": {"LastName": "X"}},
        {"method": "POST", "url": format!("/services/data/{V}/sobjects/User"),
         "referenceId": "independent", "body": merged("c", json!({}))},
    ]});
    let (_, body) = composite(&ctx, &body).await;
    let answers = body["compositeResponse"].as_array().unwrap();
    assert_eq!(answers[1]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(answers[2]["httpStatusCode"], 201);
    assert!(ctx.emu.user_by_username("c@example.com").is_some());
}

#[tokio::test]
async fn more_than_25_subrequests_or_a_nested_composite_are_refused() {
    let ctx = Ctx::new().await;
    let subs: Vec<Value> = (0..26)
        .map(|i| json!({"method": "GET", "url": format!("/services/data/{V}/limits"), "referenceId": format!("r{i}")}))
        .collect();
    let resp = ctx
        .post("composite", &json!({"compositeRequest": subs}))
        .await;
    expect_error(resp, 400, "LIMIT_EXCEEDED").await;

    let body = json!({"compositeRequest": [
        {"method": "POST", "url": format!("/services/data/{V}/composite"), "referenceId": "inner",
         "body": {"compositeRequest": []}},
    ]});
    let (status, body) = composite(&ctx, &body).await;
    assert_eq!(status, 200);
    assert_eq!(body["compositeResponse"][0]["httpStatusCode"], 400);
}
