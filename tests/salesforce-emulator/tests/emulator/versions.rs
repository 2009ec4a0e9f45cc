//! Checklist item 7: API versions.

use serde_json::Value;

use crate::common::{expect_error, Ctx};

#[tokio::test]
async fn version_listing_needs_no_auth_and_is_not_counted() {
    let ctx = Ctx::new().await;
    for path in ["/services/data/", "/services/data"] {
        let resp = ctx.http.get(ctx.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.headers().get("sforce-limit-info").is_none());
        assert_eq!(
            resp.headers()["content-type"],
            "application/json;charset=UTF-8"
        );
        let list: Vec<Value> = resp.json().await.unwrap();
        assert_eq!(list.len(), 38);
        assert_eq!(
            list[0],
            serde_json::json!({"label":"Summer '14","url":"/services/data/v31.0","version":"31.0"})
        );
        let v41 = list.iter().find(|v| v["version"] == "41.0").unwrap();
        assert_eq!(v41["label"], "Winter '18");
        let last = list.last().unwrap();
        assert_eq!(last["version"], "68.0");
        assert_eq!(last["label"], "Winter '27");
        assert_eq!(last["url"], "/services/data/v68.0");
    }
    assert_eq!(ctx.emu.api_usage().used, 0);
}

#[tokio::test]
async fn latest_alias_retired_and_unknown_versions() {
    let ctx = Ctx::new().await;
    let resp = ctx
        .http
        .get(ctx.url("/services/data/latest/limits"))
        .bearer_auth(&ctx.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // `latest` resolves to 68.0 in record URLs.
    let id = ctx.create_user("latest", serde_json::json!({})).await;
    let resp = ctx
        .http
        .get(ctx.url(&format!("/services/data/latest/sobjects/User/{id}")))
        .bearer_auth(&ctx.token)
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["attributes"]["url"],
        format!("/services/data/v68.0/sobjects/User/{id}")
    );

    for v in ["v30.0", "v26.0", "v20.0"] {
        let resp = ctx
            .http
            .get(ctx.url(&format!("/services/data/{v}/sobjects/User/")))
            .bearer_auth(&ctx.token)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 410, "{v}");
    }
    for v in ["v1.0", "v69.0", "v62.1", "62.0", "vx"] {
        let resp = ctx
            .http
            .get(ctx.url(&format!("/services/data/{v}/sobjects/User/")))
            .bearer_auth(&ctx.token)
            .send()
            .await
            .unwrap();
        let err = expect_error(resp, 404, "NOT_FOUND").await;
        assert_eq!(
            err["message"], "The requested resource does not exist",
            "{v}"
        );
    }
    // v31.0 is still served.
    let resp = ctx
        .http
        .get(ctx.url("/services/data/v31.0/limits"))
        .bearer_auth(&ctx.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}
