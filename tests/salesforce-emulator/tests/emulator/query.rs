//! Checklist item 17: the SOQL subset and paging.

use reqwest::Method;
use salesforce_emulator::Seed;
use serde_json::{json, Map, Value};

use crate::common::{expect_error, merged, Ctx, V};

#[tokio::test]
async fn lookup_by_username_and_federation_identifier() {
    let ctx = Ctx::new().await;
    let id = ctx
        .create_user(
            "o.brien",
            json!({"Username": "o'brien@example.com", "FederationIdentifier": "FED-42"}),
        )
        .await;
    let inactive = ctx.create_user("gone", json!({"IsActive": false})).await;

    let (status, body) = ctx
        .query("SELECT Id, Username, IsActive FROM User WHERE Username = 'O\\'Brien@Example.com'")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totalSize"], 1);
    assert_eq!(body["done"], true);
    assert!(body.get("nextRecordsUrl").is_none());
    let rec = &body["records"][0];
    assert_eq!(rec["Id"], id);
    assert_eq!(rec["Username"], "o'brien@example.com");
    assert_eq!(
        rec["attributes"],
        json!({"type": "User", "url": format!("/services/data/{V}/sobjects/User/{id}")})
    );
    assert_eq!(rec.as_object().unwrap().len(), 4);

    let (_, body) = ctx
        .query("select id from user where federationidentifier = 'fed-42'")
        .await;
    assert_eq!(body["totalSize"], 1);
    assert_eq!(body["records"][0]["Id"], id);

    // Inactive users are returned; booleans are unquoted literals; AND combines.
    let (_, body) = ctx
        .query("SELECT Id FROM User WHERE IsActive = false AND Username = 'gone@example.com'")
        .await;
    assert_eq!(body["totalSize"], 1);
    assert_eq!(body["records"][0]["Id"], inactive);

    let (_, body) = ctx
        .query("SELECT Id FROM User WHERE Username = 'nobody@example.com'")
        .await;
    assert_eq!(body, json!({"totalSize": 0, "done": true, "records": []}));

    // Id compares in 15 or 18 characters; LIMIT applies.
    let (_, body) = ctx
        .query(&format!(
            "SELECT Username FROM User WHERE Id = '{}'",
            &id[..15]
        ))
        .await;
    assert_eq!(body["totalSize"], 1);
    let (_, body) = ctx.query("SELECT Id FROM User LIMIT 2").await;
    assert_eq!(body["totalSize"], 2);
    assert_eq!(ctx.emu.counters().operation("query"), 6);
}

#[tokio::test]
async fn query_errors() {
    let ctx = Ctx::new().await;
    let q = |soql: &'static str| ctx.req(Method::GET, "query").query(&[("q", soql)]).send();
    expect_error(
        q("SELECT Id FORM User").await.unwrap(),
        400,
        "MALFORMED_QUERY",
    )
    .await;
    expect_error(
        q("SELECT Id FROM User WHERE Username = ").await.unwrap(),
        400,
        "MALFORMED_QUERY",
    )
    .await;
    expect_error(q("DELETE FROM User").await.unwrap(), 400, "MALFORMED_QUERY").await;
    let err = expect_error(
        q("SELECT Id, Shoe__c FROM User").await.unwrap(),
        400,
        "INVALID_FIELD",
    )
    .await;
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("No such column 'Shoe__c' on entity 'User'"));
    let err = expect_error(
        q("SELECT Id FROM Widget").await.unwrap(),
        400,
        "INVALID_TYPE",
    )
    .await;
    assert!(err["message"]
        .as_str()
        .unwrap()
        .contains("sObject type 'Widget' is not supported"));
    expect_error(ctx.get("query").await, 400, "MALFORMED_QUERY").await;
    expect_error(
        ctx.get("query/01gBOGUS-2000").await,
        400,
        "INVALID_QUERY_LOCATOR",
    )
    .await;
}

async fn seed_users(ctx: &Ctx, n: usize) {
    let users: Vec<Map<String, Value>> = (0..n)
        .map(|i| {
            merged(&format!("bulk{i:04}"), json!({}))
                .as_object()
                .unwrap()
                .clone()
        })
        .collect();
    let created = ctx
        .emu
        .seed(Seed {
            users,
            licences: Some(5000),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(created.len(), n);
}

#[tokio::test]
async fn paging_with_the_default_batch_size() {
    let ctx = Ctx::new().await;
    seed_users(&ctx, 2100).await;
    let (status, body) = ctx.query("SELECT Id, Username FROM User").await;
    assert_eq!(status, 200);
    assert_eq!(body["totalSize"], 2101);
    assert_eq!(body["done"], false);
    assert_eq!(body["records"].as_array().unwrap().len(), 2000);
    let next = body["nextRecordsUrl"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("/services/data/{V}/query/01g")),
        "{next}"
    );
    assert!(next.ends_with("-2000"), "{next}");
    let locator = next.rsplit('/').next().unwrap();
    assert_eq!(locator.split('-').next().unwrap().len(), 18);
    let resp = ctx
        .http
        .get(ctx.url(next))
        .bearer_auth(&ctx.token)
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["totalSize"], 2101);
    assert_eq!(body["done"], true);
    assert_eq!(body["records"].as_array().unwrap().len(), 101);
    assert!(body.get("nextRecordsUrl").is_none());
}

#[tokio::test]
async fn paging_honours_the_batch_size_header() {
    let ctx = Ctx::new().await;
    seed_users(&ctx, 449).await;
    let mut url = None::<String>;
    let mut seen = Vec::new();
    loop {
        let req = match &url {
            None => ctx
                .req(Method::GET, "query")
                .query(&[("q", "SELECT Username FROM User WHERE Username LIKE 'bulk%'")])
                .header("Sforce-Query-Options", "batchSize=200"),
            Some(u) => ctx.http.get(ctx.url(u)).bearer_auth(&ctx.token),
        };
        let body: Value = req.send().await.unwrap().json().await.unwrap();
        assert_eq!(body["totalSize"], 449);
        for r in body["records"].as_array().unwrap() {
            seen.push(r["Username"].as_str().unwrap().to_string());
        }
        match body["nextRecordsUrl"].as_str() {
            Some(next) => {
                assert_eq!(body["done"], false);
                url = Some(next.to_string());
            }
            None => {
                assert_eq!(body["done"], true);
                break;
            }
        }
    }
    assert_eq!(seen.len(), 449);
    assert_eq!(seen[0], "bulk0000@example.com");
    assert_eq!(seen[448], "bulk0448@example.com");
    // A batch size below 200 is raised to 200.
    let body: Value = ctx
        .req(Method::GET, "query")
        .query(&[("q", "SELECT Id FROM User")])
        .header("Sforce-Query-Options", "batchSize=10")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["records"].as_array().unwrap().len(), 200);
}

#[tokio::test]
async fn listing_every_user_in_id_order_by_pages() {
    let ctx = Ctx::new().await;
    seed_users(&ctx, 450).await;
    let inactive = ctx
        .create_user("inactive", json!({"IsActive": false}))
        .await;
    let mut url = None::<String>;
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let req = match &url {
            None => ctx
                .req(Method::GET, "query")
                .query(&[(
                    "q",
                    "SELECT Id, Username, IsActive, LastName FROM User ORDER BY Id",
                )])
                .header("Sforce-Query-Options", "batchSize=200"),
            Some(u) => ctx
                .http
                .get(ctx.url(u))
                .bearer_auth(&ctx.token)
                .header("Sforce-Query-Options", "batchSize=200"),
        };
        let body: Value = req.send().await.unwrap().json().await.unwrap();
        pages += 1;
        for r in body["records"].as_array().unwrap() {
            assert!(r["IsActive"].is_boolean(), "{r}");
            assert!(r["LastName"].is_string(), "{r}");
            ids.push(r["Id"].as_str().unwrap().to_string());
        }
        match body["nextRecordsUrl"].as_str() {
            Some(next) => url = Some(next.to_string()),
            None => break,
        }
    }
    // 450 seeded, the integration user and the inactive one: three pages, each user once.
    assert_eq!(pages, 3);
    assert_eq!(ids.len(), 452);
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| id.to_lowercase());
    sorted.dedup();
    assert_eq!(ids, sorted, "in Id order, without repeats");
    assert!(ids.contains(&inactive), "inactive users are listed too");
}
