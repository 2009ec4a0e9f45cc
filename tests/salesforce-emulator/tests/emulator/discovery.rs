//! What independent clients read first: profiles by name, `Profile.Name` on users, the identity
//! URL of a token, the describe attributes of User fields, and `Username IN (…)`.

use reqwest::Method;
use salesforce_emulator::ids;
use serde_json::{json, Value};

use crate::common::{expect_error, status_json, Ctx};

#[tokio::test]
async fn profiles_are_queryable_by_name() {
    let ctx = Ctx::new().await;
    let (status, body) = ctx.query("SELECT Id, Name FROM Profile").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totalSize"], 5);
    assert_eq!(body["records"][0]["attributes"]["type"], "Profile");

    let (status, body) = ctx
        .query("SELECT Id, Name FROM Profile WHERE Name = 'standard user'")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totalSize"], 1);
    let record = &body["records"][0];
    assert_eq!(record["Name"], "Standard User");
    assert_eq!(
        record["Id"],
        ids::to18("00e5g000001AbCd").unwrap(),
        "ids come back in 18-character form"
    );
    assert_eq!(
        record["attributes"]["url"],
        format!(
            "/services/data/v62.0/sobjects/Profile/{}",
            record["Id"].as_str().unwrap()
        )
    );

    let (status, body) = ctx.query("SELECT Username FROM Profile").await;
    assert_eq!(status, 400);
    assert_eq!(body[0]["errorCode"], "INVALID_FIELD");
    assert!(body[0]["message"]
        .as_str()
        .unwrap()
        .contains("on entity 'Profile'"));
}

#[tokio::test]
async fn user_queries_select_and_filter_on_the_profile_name() {
    let ctx = Ctx::new().await;
    let a = ctx.create_user("a", json!({})).await;
    ctx.create_user("b", json!({"ProfileId": "00e90000001aV2o"}))
        .await;
    let (status, body) = ctx
        .query("SELECT Id, Profile.Name FROM User WHERE Profile.Name = 'Standard User'")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["totalSize"], 1);
    let record = &body["records"][0];
    assert_eq!(record["Id"], a);
    assert_eq!(record["Profile"]["Name"], "Standard User");
    assert_eq!(record["Profile"]["attributes"]["type"], "Profile");

    let (_, body) = ctx
        .query("SELECT Username FROM User WHERE Username IN ('a@example.com', 'B@example.com', 'x@example.com') ORDER BY Username")
        .await;
    let names: Vec<&str> = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a@example.com", "b@example.com"]);
}

#[tokio::test]
async fn the_identity_url_names_the_token_user_and_the_org_apis() {
    let ctx = Ctx::new().await;
    let c = ctx.emu.config();
    let token = ctx.client_credentials_token().await;
    let identity_url = token["id"].as_str().unwrap();
    let access_token = token["access_token"].as_str().unwrap();
    let calls_before = ctx.emu.counters().api_calls;

    let resp = ctx
        .http
        .get(identity_url)
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let (status, body) = status_json(resp).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], identity_url);
    assert_eq!(body["user_id"], ctx.emu.integration_user_id());
    assert_eq!(body["organization_id"], ids::to18(&c.org_id).unwrap());
    assert_eq!(body["username"], c.username);
    assert_eq!(body["active"], true);
    assert_eq!(
        body["urls"]["rest"],
        format!("{}/services/data/v{{version}}/", ctx.emu.base_url())
    );
    assert_eq!(
        ctx.emu.counters().api_calls,
        calls_before,
        "identity calls are not API calls"
    );

    let resp = ctx.http.get(identity_url).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let other = identity_url.replace(body["user_id"].as_str().unwrap(), "005000000000009AAA");
    let resp = ctx
        .http
        .get(other)
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.text().await.unwrap(), "Bad_Id");
}

#[tokio::test]
async fn describe_reports_soap_types_and_uniqueness() {
    let ctx = Ctx::new().await;
    let (status, body) = status_json(ctx.get("sobjects/User/describe").await).await;
    assert_eq!(status, 200);
    let field = |name: &str| -> Value {
        body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} described"))
    };
    assert_eq!(field("Id")["soapType"], "tns:ID");
    assert_eq!(field("ProfileId")["soapType"], "tns:ID");
    assert_eq!(field("Username")["soapType"], "xsd:string");
    assert_eq!(field("IsActive")["soapType"], "xsd:boolean");
    assert_eq!(field("CreatedDate")["soapType"], "xsd:dateTime");
    assert_eq!(field("Username")["unique"], true);
    assert_eq!(field("LastName")["unique"], false);
    assert_eq!(field("FederationIdentifier")["externalId"], false);

    let resp = ctx
        .req(Method::GET, "sobjects/Profile/describe")
        .send()
        .await
        .unwrap();
    expect_error(resp, 404, "NOT_FOUND").await;
}
