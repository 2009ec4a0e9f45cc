//! sObject Collections: create, update, delete and retrieve of up to 200 users in one call.

use reqwest::Method;
use salesforce_emulator::{FaultKind, FaultSpec, Operation};
use serde_json::{json, Value};

use crate::common::{expect_error, merged, status_json, Ctx};

fn record(name: &str, overrides: Value) -> Value {
    let mut r = merged(name, overrides);
    r["attributes"] = json!({"type": "User"});
    r
}

async fn collection(ctx: &Ctx, method: Method, body: &Value) -> (u16, Value) {
    let resp = ctx
        .req(method, "composite/sobjects")
        .json(body)
        .send()
        .await
        .unwrap();
    status_json(resp).await
}

#[tokio::test]
async fn a_create_collection_answers_per_record_in_order_as_one_api_call() {
    let ctx = Ctx::new().await;
    ctx.create_user("taken", json!({})).await;
    let calls_before = ctx.emu.counters().api_calls;
    let body = json!({"allOrNone": false, "records": [
        record("a", json!({})),
        record("taken", json!({})),
        record("b", json!({"Email": "nope"})),
        record("c", json!({"LastName": "__remove__"})),
        record("d", json!({"LanguageLocaleKey": "xx_XX"})),
        record("e", json!({})),
    ]});
    let (status, results) = collection(&ctx, Method::POST, &body).await;
    assert_eq!(status, 200, "{results}");
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 6);
    for i in [0, 5] {
        assert_eq!(results[i]["success"], true, "{}", results[i]);
        assert_eq!(results[i]["errors"], json!([]));
        let id = results[i]["id"].as_str().unwrap();
        assert!(ctx.emu.user(id).is_some());
    }
    assert_eq!(
        ctx.emu
            .user(results[0]["id"].as_str().unwrap())
            .unwrap()
            .username(),
        "a@example.com"
    );
    let codes: Vec<&str> = results[1..5]
        .iter()
        .map(|r| {
            assert_eq!(r["success"], false);
            assert!(r.get("id").is_none(), "a failed create has no id: {r}");
            r["errors"][0]["statusCode"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        codes,
        [
            "DUPLICATE_USERNAME",
            "INVALID_EMAIL_ADDRESS",
            "REQUIRED_FIELD_MISSING",
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        ]
    );
    assert_eq!(results[1]["errors"][0]["fields"], json!(["Username"]));
    // The same messages as the single-record route.
    let single = ctx
        .post("sobjects/User/", &merged("b", json!({"Email": "nope"})))
        .await;
    let single = expect_error(single, 400, "INVALID_EMAIL_ADDRESS").await;
    assert_eq!(results[2]["errors"][0]["message"], single["message"]);

    let counters = ctx.emu.counters();
    assert_eq!(
        counters.api_calls - calls_before,
        2,
        "one for the collection, one for the single"
    );
    assert_eq!(counters.operation("create"), 3);
    assert!(ctx.emu.user_by_username("e@example.com").is_some());
    assert!(ctx.emu.user_by_username("b@example.com").is_none());
}

#[tokio::test]
async fn all_or_none_rolls_every_record_back() {
    let ctx = Ctx::new().await;
    let users = ctx.emu.users().len();
    let body = json!({"allOrNone": true, "records": [
        record("a", json!({})),
        record("b", json!({"Email": "nope"})),
        record("c", json!({})),
    ]});
    let (status, results) = collection(&ctx, Method::POST, &body).await;
    assert_eq!(status, 200);
    assert_eq!(
        results[1]["errors"][0]["statusCode"],
        "INVALID_EMAIL_ADDRESS"
    );
    for i in [0, 2] {
        assert_eq!(results[i]["success"], false);
        assert_eq!(
            results[i]["errors"][0]["statusCode"],
            "ALL_OR_NONE_OPERATION_ROLLED_BACK"
        );
    }
    assert_eq!(ctx.emu.users().len(), users, "nothing was committed");
    assert!(ctx.emu.user_by_username("a@example.com").is_none());
}

#[tokio::test]
async fn more_than_200_records_is_refused_whole() {
    let ctx = Ctx::new().await;
    let records: Vec<Value> = (0..201)
        .map(|i| record(&format!("u{i}"), json!({})))
        .collect();
    let resp = ctx
        .req(Method::POST, "composite/sobjects")
        .json(&json!({"records": records}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, "EXCEEDED_ID_LIMIT").await;
    assert!(ctx.emu.user_by_username("u0@example.com").is_none());

    let records: Vec<Value> = (0..200)
        .map(|i| record(&format!("u{i}"), json!({})))
        .collect();
    let (status, results) = collection(&ctx, Method::POST, &json!({"records": records})).await;
    assert_eq!(status, 200);
    assert_eq!(results.as_array().unwrap().len(), 200);
    assert!(results
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["success"] == true));
}

#[tokio::test]
async fn an_update_collection_patches_each_record_by_id() {
    let ctx = Ctx::new().await;
    let a = ctx.create_user("a", json!({})).await;
    let b = ctx.create_user("b", json!({})).await;
    let c = ctx.create_user("c", json!({})).await;
    let body = json!({"allOrNone": false, "records": [
        {"attributes": {"type": "User"}, "id": a, "LastName": "Jones"},
        {"attributes": {"type": "User"}, "id": b, "Username": "a@example.com"},
        {"attributes": {"type": "User"}, "id": "005000000000009AAA", "LastName": "X"},
        {"attributes": {"type": "User"}, "LastName": "NoId"},
        {"attributes": {"type": "User"}, "id": c, "IsActive": false},
        {"attributes": {"type": "User"}, "id": c, "LastName": "Twice"},
    ]});
    let (status, results) = collection(&ctx, Method::PATCH, &body).await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results[0], json!({"id": a, "success": true, "errors": []}));
    assert_eq!(results[1]["id"], b);
    assert_eq!(results[1]["errors"][0]["statusCode"], "DUPLICATE_USERNAME");
    assert_eq!(
        results[2]["errors"][0]["statusCode"],
        "INVALID_CROSS_REFERENCE_KEY"
    );
    assert_eq!(results[3]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
    assert_eq!(results[4]["success"], true);
    assert_eq!(results[5]["errors"][0]["statusCode"], "DUPLICATE_VALUE");
    assert_eq!(ctx.emu.user(&a).unwrap().text("LastName"), Some("Jones"));
    assert_eq!(ctx.emu.user(&b).unwrap().username(), "b@example.com");
    let c_user = ctx.emu.user(&c).unwrap();
    assert!(!c_user.is_active());
    assert_eq!(c_user.text("LastName"), Some("Doe"));
}

#[tokio::test]
async fn faults_armed_for_writes_apply_to_collections() {
    let ctx = Ctx::new().await;
    ctx.emu
        .arm_fault(FaultSpec::new(Operation::Create, FaultKind::ServerUnavailable).once());
    let body = json!({"records": [record("a", json!({}))]});
    let resp = ctx
        .req(Method::POST, "composite/sobjects")
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_error(resp, 503, "SERVER_UNAVAILABLE").await;
    assert!(ctx.emu.user_by_username("a@example.com").is_none());

    let a = ctx.create_user("b", json!({})).await;
    ctx.emu.arm_fault(FaultSpec::deactivation_refused(
        "CANNOT_DEACTIVATE",
        "not now",
    ));
    let (status, body) = collection(
        &ctx,
        Method::PATCH,
        &json!({"records": [{"attributes": {"type": "User"}, "id": a, "IsActive": false}]}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body[0]["errorCode"], "CANNOT_DEACTIVATE");
    assert!(ctx.emu.user(&a).unwrap().is_active());
}

#[tokio::test]
async fn a_delete_collection_refuses_users_per_record() {
    let ctx = Ctx::new().await;
    let a = ctx.create_user("a", json!({})).await;
    let resp = ctx
        .req(
            Method::DELETE,
            &format!("composite/sobjects?ids={a},005000000000009AAA,bogus&allOrNone=false"),
        )
        .send()
        .await
        .unwrap();
    let (status, results) = status_json(resp).await;
    assert_eq!(status, 200, "{results}");
    assert_eq!(results[0]["id"], a);
    assert_eq!(results[0]["success"], false);
    assert_eq!(
        results[0]["errors"][0]["statusCode"],
        "INVALID_TYPE_FOR_OPERATION"
    );
    assert_eq!(results[1]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
    assert_eq!(results[2]["errors"][0]["statusCode"], "MALFORMED_ID");
    assert!(ctx.emu.user(&a).is_some());
    assert_eq!(ctx.emu.counters().delete_attempts, 1);
}

#[tokio::test]
async fn a_retrieve_collection_returns_records_in_id_order_with_null_for_missing() {
    let ctx = Ctx::new().await;
    let a = ctx.create_user("a", json!({})).await;
    let b = ctx.create_user("b", json!({})).await;
    let resp = ctx
        .get(&format!(
            "composite/sobjects/User?ids={b},005000000000009AAA,{a}&fields=Username,IsActive"
        ))
        .await;
    let (status, records) = status_json(resp).await;
    assert_eq!(status, 200, "{records}");
    assert_eq!(records[0]["Username"], "b@example.com");
    assert_eq!(records[0]["Id"], b);
    assert_eq!(records[1], Value::Null);
    assert_eq!(records[2]["Username"], "a@example.com");
    assert_eq!(records[2]["IsActive"], true);
    assert_eq!(records[2]["attributes"]["type"], "User");

    let resp = ctx.get(&format!("composite/sobjects/User?ids={a}")).await;
    expect_error(resp, 400, "MISSING_ARGUMENT").await;
}

#[tokio::test]
async fn versions_before_42_have_no_collections() {
    let ctx = Ctx::new().await;
    let resp = ctx
        .http
        .post(ctx.url("/services/data/v41.0/composite/sobjects"))
        .bearer_auth(&ctx.token)
        .json(&json!({"records": [record("a", json!({}))]}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "NOT_FOUND").await;
}
