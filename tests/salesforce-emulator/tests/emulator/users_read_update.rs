//! Checklist items 13-16: retrieve, update, deactivate/reactivate, no delete, lookup and upsert.

use reqwest::Method;
use salesforce_emulator::{EmulatorConfig, FaultSpec};
use serde_json::{json, Value};

use crate::common::{expect_error, status_json, Ctx, V};

#[tokio::test]
async fn get_by_15_and_18_char_id() {
    let ctx = Ctx::new().await;
    let id = ctx.create_user("get", json!({"Title": "CTO"})).await;
    for key in [&id[..], &id[..15]] {
        let resp = ctx.get(&format!("sobjects/User/{key}")).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.headers()["content-type"],
            "application/json;charset=UTF-8"
        );
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["Id"], id);
        assert_eq!(body["attributes"]["type"], "User");
        assert_eq!(
            body["attributes"]["url"],
            format!("/services/data/{V}/sobjects/User/{id}")
        );
        assert_eq!(body["Username"], "get@example.com");
        assert_eq!(body["IsActive"], true);
        assert_eq!(body["Title"], "CTO");
        assert_eq!(body["Phone"], Value::Null);
        assert_eq!(body["Name"], "Jane Doe");
        let created = body["CreatedDate"].as_str().unwrap();
        // 2013-05-20T20:49:32.000+0000
        assert_eq!(created.len(), 28, "{created}");
        assert_eq!(&created[10..11], "T");
        assert_eq!(&created[19..20], ".");
        assert!(created.ends_with("+0000"));
    }
}

#[tokio::test]
async fn get_with_fields_and_errors() {
    let ctx = Ctx::new().await;
    let id = ctx.create_user("fields", json!({})).await;
    let resp = ctx
        .get(&format!("sobjects/User/{id}?fields=Username,isactive"))
        .await;
    let body: Value = resp.json().await.unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4, "{body}");
    assert_eq!(body["Username"], "fields@example.com");
    assert_eq!(body["IsActive"], true);
    assert_eq!(body["Id"], id);
    assert!(body.get("LastName").is_none());

    let err = expect_error(
        ctx.get(&format!("sobjects/User/{id}?fields=Username,Nope"))
            .await,
        400,
        "INVALID_FIELD",
    )
    .await;
    assert!(err["message"]
        .as_str()
        .unwrap()
        .starts_with("No such column 'Nope' on entity 'User'."));

    let err = expect_error(
        ctx.get("sobjects/User/005000000000000AAA").await,
        404,
        "NOT_FOUND",
    )
    .await;
    assert_eq!(err["message"], "The requested resource does not exist");
    let err = expect_error(ctx.get("sobjects/User/123").await, 404, "NOT_FOUND").await;
    assert_eq!(
        err["message"],
        "Provided external ID field does not exist or is not accessible: 123"
    );
    // Unknown sObject type.
    expect_error(
        ctx.get("sobjects/Widget__c/001000000000000").await,
        404,
        "NOT_FOUND",
    )
    .await;
}

#[tokio::test]
async fn patch_updates_and_validates() {
    let ctx = Ctx::new().await;
    let id = ctx.create_user("patch", json!({})).await;
    ctx.create_user("other", json!({})).await;
    let before = ctx.emu.user(&id).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let resp = ctx
        .patch(
            &format!("sobjects/User/{id}"),
            &json!({"Title": "VP", "FirstName": "Janet"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    assert!(resp.headers().get("sforce-limit-info").is_some());
    assert!(resp.bytes().await.unwrap().is_empty());
    let after = ctx.emu.user(&id).unwrap();
    assert_eq!(after.text("Title"), Some("VP"));
    assert_eq!(after.text("LastName"), Some("Doe"));
    assert!(after.modified_ms >= before.modified_ms);

    // POST with _HttpMethod=PATCH.
    let resp = ctx
        .req(
            Method::POST,
            &format!("sobjects/User/{}?_HttpMethod=PATCH", &id[..15]),
        )
        .json(&json!({"Department": "R&D"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    assert_eq!(ctx.emu.user(&id).unwrap().text("Department"), Some("R&D"));

    // Same validation as create; uniqueness excludes the record itself.
    let resp = ctx
        .patch(
            &format!("sobjects/User/{id}"),
            &json!({"Username": "PATCH@example.com"}),
        )
        .await;
    assert_eq!(resp.status(), 204);
    let resp = ctx
        .patch(
            &format!("sobjects/User/{id}"),
            &json!({"Username": "other@example.com"}),
        )
        .await;
    expect_error(resp, 400, "DUPLICATE_USERNAME").await;
    let resp = ctx
        .patch(
            &format!("sobjects/User/{id}"),
            &json!({"Alias": "waytoolong"}),
        )
        .await;
    expect_error(resp, 400, "STRING_TOO_LONG").await;
    let resp = ctx
        .patch(&format!("sobjects/User/{id}"), &json!({"LastName": null}))
        .await;
    expect_error(resp, 400, "REQUIRED_FIELD_MISSING").await;
    let resp = ctx
        .patch(&format!("sobjects/User/{id}"), &json!({"Id": id}))
        .await;
    expect_error(resp, 400, "INVALID_FIELD").await;
    let resp = ctx
        .patch(&format!("sobjects/User/{id}"), &json!({"IsActive": "no"}))
        .await;
    expect_error(resp, 400, "JSON_PARSER_ERROR").await;
    let resp = ctx
        .req(Method::PATCH, &format!("sobjects/User/{id}"))
        .send()
        .await
        .unwrap();
    expect_error(resp, 400, "JSON_PARSER_ERROR").await;

    let err = expect_error(
        ctx.patch("sobjects/User/005000000000000AAA", &json!({"Title": "x"}))
            .await,
        404,
        "INVALID_CROSS_REFERENCE_KEY",
    )
    .await;
    assert_eq!(err["message"], "invalid cross reference id");
}

#[tokio::test]
async fn deactivation_frees_and_reactivation_needs_a_licence() {
    let ctx = Ctx::with_config(EmulatorConfig {
        licences: 2,
        ..Default::default()
    })
    .await;
    let a = ctx.create_user("a", json!({})).await;
    assert_eq!(ctx.emu.licences_remaining(), 0);
    let resp = ctx
        .patch(&format!("sobjects/User/{a}"), &json!({"IsActive": false}))
        .await;
    assert_eq!(resp.status(), 204);
    assert!(!ctx.emu.user(&a).unwrap().is_active());
    assert_eq!(ctx.emu.licences_remaining(), 1);
    let b = ctx.create_user("b", json!({})).await;
    let resp = ctx
        .patch(&format!("sobjects/User/{a}"), &json!({"IsActive": true}))
        .await;
    let err = expect_error(resp, 400, "LICENSE_LIMIT_EXCEEDED").await;
    assert_eq!(err["message"], "License Limit Exceeded");
    assert!(!ctx.emu.user(&a).unwrap().is_active());
    ctx.patch(&format!("sobjects/User/{b}"), &json!({"IsActive": false}))
        .await;
    let resp = ctx
        .patch(&format!("sobjects/User/{a}"), &json!({"IsActive": true}))
        .await;
    assert_eq!(resp.status(), 204);
    assert!(ctx.emu.user(&a).unwrap().is_active());
    // Inactive users still show in GET.
    let resp = ctx.get(&format!("sobjects/User/{b}")).await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["IsActive"], false);
}

#[tokio::test]
async fn injected_deactivation_refusal() {
    let ctx = Ctx::new().await;
    let id = ctx.create_user("refuse", json!({})).await;
    ctx.emu.arm_fault(
        FaultSpec::deactivation_refused(
            "CANNOT_DEACTIVATE_DEFAULT_OWNER",
            "This user is the default lead owner.",
        )
        .once(),
    );
    // Ordinary updates are not refused.
    assert_eq!(
        ctx.patch(&format!("sobjects/User/{id}"), &json!({"Title": "x"}))
            .await
            .status(),
        204
    );
    let err = expect_error(
        ctx.patch(&format!("sobjects/User/{id}"), &json!({"IsActive": false}))
            .await,
        400,
        "CANNOT_DEACTIVATE_DEFAULT_OWNER",
    )
    .await;
    assert_eq!(err["message"], "This user is the default lead owner.");
    assert!(ctx.emu.user(&id).unwrap().is_active());
    assert_eq!(
        ctx.patch(&format!("sobjects/User/{id}"), &json!({"IsActive": false}))
            .await
            .status(),
        204
    );
    assert!(!ctx.emu.user(&id).unwrap().is_active());
}

#[tokio::test]
async fn delete_and_put_are_not_allowed_and_logged() {
    let ctx = Ctx::new().await;
    let id = ctx.create_user("nodelete", json!({})).await;
    let resp = ctx
        .req(Method::DELETE, &format!("sobjects/User/{id}"))
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 405);
    assert_eq!(
        body,
        json!([{"errorCode":"METHOD_NOT_ALLOWED","message":"HTTP Method 'DELETE' not allowed. Allowed are GET,HEAD,PATCH"}])
    );
    let resp = ctx
        .req(Method::PUT, &format!("sobjects/User/{id}"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let err = expect_error(resp, 405, "METHOD_NOT_ALLOWED").await;
    assert_eq!(
        err["message"],
        "HTTP Method 'PUT' not allowed. Allowed are GET,HEAD,PATCH"
    );
    assert!(ctx.emu.user(&id).is_some());
    let counters = ctx.emu.counters();
    assert_eq!(counters.delete_attempts, 1);
    assert_eq!(
        counters.delete_attempt_paths,
        [format!("/services/data/{V}/sobjects/User/{id}")]
    );
    let resp = ctx
        .control(Method::GET, "/__emulator__/counters")
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["delete_attempts"], 1);
    assert!(ctx
        .emu
        .requests()
        .iter()
        .any(|r| r.method == "DELETE" && r.status == 405));
}

#[tokio::test]
async fn lookup_and_upsert_by_federation_identifier() {
    let ctx = Ctx::new().await;
    let resp = ctx
        .patch(
            "sobjects/User/FederationIdentifier/fed-1",
            &crate::common::merged("ups", json!({})),
        )
        .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["created"], true);
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(
        ctx.emu.user(&id).unwrap().text("FederationIdentifier"),
        Some("fed-1")
    );

    let resp = ctx
        .patch(
            "sobjects/User/FederationIdentifier/fed-1",
            &json!({"Title": "Boss"}),
        )
        .await;
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        json!({"id": id, "success": true, "errors": [], "created": false})
    );

    let resp = ctx.get("sobjects/User/FederationIdentifier/fed-1").await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["Title"], "Boss");
    expect_error(
        ctx.get("sobjects/User/FederationIdentifier/none").await,
        404,
        "NOT_FOUND",
    )
    .await;
    let err = expect_error(ctx.get("sobjects/User/Shoe__c/9").await, 404, "NOT_FOUND").await;
    assert_eq!(
        err["message"],
        "Provided external ID field does not exist or is not accessible: Shoe__c"
    );
    let resp = ctx
        .req(
            Method::PATCH,
            "sobjects/User/FederationIdentifier/fed-2?updateOnly=true",
        )
        .json(&json!({"Title": "x"}))
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "NOT_FOUND").await;
}
