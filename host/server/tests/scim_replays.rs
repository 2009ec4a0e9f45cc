//! Request sequences of real SCIM clients replayed against the real server (quickstart
//! configuration, SQLite store, engine and dispatcher, on loopback), with a bearer token as
//! those clients authenticate.
//!
//! - Microsoft Entra ID, from Microsoft's "Tutorial: Develop and plan provisioning for a SCIM
//!   endpoint in Microsoft Entra ID" (its request/response examples): user create, query by
//!   `userName`, PATCH of attributes, disable, manager, group create with `externalId` and the
//!   `ADSCIM/Group` schema URN, member add/remove by value list, the membership query
//!   `filter=id eq "g" and members[value eq "u"]&excludedAttributes=members`, delete.
//! - Okta, from Okta's "SCIM 2.0 protocol reference": `filter=userName eq` with
//!   `startIndex=1&count=100`, create, PUT, PATCH `active:false` without a path, group push
//!   (create, rename with the group's `id` in the value, members add and remove by filter),
//!   `excludedAttributes=members`, delete.
//!
//! Assertions that need every attribute stored (group `externalId`, address `type`, ...) are
//! in tests marked `needs whole-resource storage`.

#[path = "support/org.rs"]
mod org_support;
#[path = "support/scim_server.rs"]
mod scim_support;

use provisioner_server::config::BearerCredential;
use reqwest::Method;
use scim_support::Setup;
use serde_json::{json, Value};

const TOKEN: &str = "replay-client-bearer-token-0123456789";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const AD_GROUP: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group";

/// The quickstart server with a bearer token for its tenant, as Entra ID and Okta call it.
async fn start() -> Setup {
    scim_support::start("replay-admin-password", |config| {
        config.tenants[0].bearer.push(BearerCredential {
            label: "replay client".into(),
            token: format!("literal:{TOKEN}"),
        });
    })
    .await
}

/// One response: status, `Location` header and JSON body (`Null` when there is none).
struct Reply {
    status: u16,
    location: Option<String>,
    body: Value,
}

/// Sends `method path` (relative to `/scim/v2`, query included) with the bearer token and an
/// optional `application/scim+json` body, as the clients do.
async fn call(s: &Setup, method: Method, path: &str, body: Option<Value>) -> Reply {
    let mut req = s
        .http
        .request(method, format!("{}/scim/v2{path}", s.base))
        .bearer_auth(TOKEN);
    if let Some(body) = body {
        req = req
            .header("content-type", "application/scim+json; charset=utf-8")
            .body(body.to_string());
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        location,
        body,
    }
}

async fn get(s: &Setup, path: &str) -> Reply {
    call(s, Method::GET, path, None).await
}

async fn post(s: &Setup, path: &str, body: Value) -> Reply {
    call(s, Method::POST, path, Some(body)).await
}

/// A PATCH of `ops`; asserts 200 and returns the patched resource.
async fn patch_ok(s: &Setup, path: &str, ops: Value) -> Value {
    let r = call(
        s,
        Method::PATCH,
        path,
        Some(json!({"schemas": [PATCH_OP], "Operations": ops})),
    )
    .await;
    assert_eq!(r.status, 200, "PATCH {path} {ops}: {}", r.body);
    r.body
}

/// The ids in a ListResponse, after checking its envelope.
fn listed(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["schemas"], json!([LIST]));
    let items = r.body["Resources"].as_array().expect("Resources");
    assert_eq!(r.body["totalResults"], items.len(), "{}", r.body);
    items
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn member_ids(group: &Value) -> Vec<&str> {
    group["members"]
        .as_array()
        .map(|m| m.iter().map(|m| m["value"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

/// Entra ID's create-user body (Microsoft's example, with its own names).
fn entra_user(user_name: &str, external_id: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "emails": [{"primary": true, "type": "work", "value": format!("{user_name}@testuser.com")}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName",
                 "givenName": "givenName"},
        "roles": []
    })
}

/// Creates a user as Entra ID does; returns its id.
async fn entra_create(s: &Setup, user_name: &str) -> String {
    let r = post(
        s,
        "/Users",
        entra_user(user_name, &format!("ext-{user_name}")),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_owned()
}

fn filter_user_name(user_name: &str) -> String {
    format!("/Users?filter=userName eq \"{user_name}\"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_user_lifecycle() {
    let s = start().await;
    let user_name = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";

    // Entra first looks the user up, then creates it.
    assert!(listed(&get(&s, &filter_user_name(user_name)).await).is_empty());
    let created = post(
        &s,
        "/Users",
        entra_user(user_name, "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let u = &created.body;
    let id = u["id"].as_str().unwrap().to_owned();
    let location = format!("{}/scim/v2/Users/{id}", s.base);
    assert_eq!(created.location.as_deref(), Some(location.as_str()));
    assert_eq!(u["meta"]["location"], location);
    assert_eq!(u["meta"]["resourceType"], "User");
    assert_eq!(u["userName"], user_name);
    assert_eq!(u["externalId"], "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef");
    assert_eq!(u["active"], true);
    assert_eq!(u["name"]["givenName"], "givenName");
    assert_eq!(u["name"]["familyName"], "familyName");
    assert_eq!(
        u["emails"],
        json!([{"primary": true, "type": "work", "value": format!("{user_name}@testuser.com")}])
    );

    let found = get(&s, &filter_user_name(user_name)).await;
    assert_eq!(listed(&found), [id.as_str()]);
    assert_eq!(found.body["Resources"][0]["userName"], user_name);
    assert!(listed(&get(&s, &filter_user_name("non-existent user")).await).is_empty());
    assert_eq!(get(&s, &format!("/Users/{id}")).await.body["id"], id);

    // Update User [Multi-valued properties].
    let path = format!("/Users/{id}");
    let u = patch_ok(
        &s,
        &path,
        json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value",
             "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
        ]),
    )
    .await;
    assert_eq!(u["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(u["emails"][0]["type"], "work");
    assert_eq!(u["name"]["familyName"], "updatedFamilyName");
    assert_eq!(u["name"]["givenName"], "givenName");

    // Update User [Single-valued properties].
    let renamed = "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com";
    let u = patch_ok(
        &s,
        &path,
        json!([{"op": "Replace", "path": "userName", "value": renamed}]),
    )
    .await;
    assert_eq!(u["userName"], renamed);
    assert_eq!(
        listed(&get(&s, &filter_user_name(renamed)).await),
        [id.as_str()]
    );

    // Several attributes in one request, with Entra's capitalised ops and the manager as a
    // bare id; then the manager as an object through Add.
    let manager = entra_create(&s, "Test_Manager_1").await;
    let u = patch_ok(
        &s,
        &path,
        json!([
            {"op": "Add", "path": "title", "value": "Engineer"},
            {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "R&D"},
            {"op": "Replace", "path": format!("{ENTERPRISE}:manager"), "value": manager},
            {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"}
        ]),
    )
    .await;
    assert_eq!(u["title"], "Engineer");
    assert_eq!(u[ENTERPRISE]["department"], "R&D");
    assert_eq!(u[ENTERPRISE]["manager"]["value"], manager);
    assert_eq!(u["addresses"][0]["locality"], "Redmond");
    let other_manager = entra_create(&s, "Test_Manager_2").await;
    let u = patch_ok(
        &s,
        &path,
        json!([{"op": "Add", "path": format!("{ENTERPRISE}:manager"),
                "value": {"value": other_manager}}]),
    )
    .await;
    assert_eq!(u[ENTERPRISE]["manager"]["value"], other_manager);

    // Disable User, with Entra's string boolean.
    let u = patch_ok(
        &s,
        &path,
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    assert_eq!(u["active"], false);
    assert_eq!(get(&s, &path).await.body["active"], false);

    // A user that does not exist: 404 in the SCIM error shape.
    let missing = get(&s, "/Users/23B51B0E5D7AE9110A49411D").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["schemas"], json!([ERROR]));
    assert_eq!(missing.body["status"], "404");

    let deleted = call(&s, Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(get(&s, &path).await.status, 404);
    assert!(listed(&get(&s, &filter_user_name(renamed)).await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_group_lifecycle() {
    let s = start().await;
    let u1 = entra_create(&s, "Test_User_Member_1").await;
    let u2 = entra_create(&s, "Test_User_Member_2").await;

    let by_name = "/Groups?excludedAttributes=members&filter=displayName eq \"displayName\"";
    assert!(listed(&get(&s, by_name).await).is_empty());
    let created = post(
        &s,
        "/Groups",
        json!({
            "schemas": [GROUP, AD_GROUP],
            "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": "displayName",
            "meta": {"resourceType": "Group"}
        }),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let g = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["schemas"], json!([GROUP]));
    assert_eq!(created.body["displayName"], "displayName");
    assert_eq!(
        created.location.as_deref(),
        Some(format!("{}/scim/v2/Groups/{g}", s.base).as_str())
    );
    assert_eq!(listed(&get(&s, by_name).await), [g.as_str()]);

    let path = format!("/Groups/{g}");
    let read = get(&s, &format!("{path}?excludedAttributes=members")).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["id"], g);
    assert!(read.body.get("members").is_none());

    // Update Group [Non-member attributes].
    let renamed = patch_ok(
        &s,
        &path,
        json!([{"op": "Replace", "path": "displayName",
                "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]),
    )
    .await;
    assert_eq!(
        renamed["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );

    // Update Group [Add Members].
    let added = patch_ok(
        &s,
        &path,
        json!([{"op": "Add", "path": "members",
                "value": [{"$ref": null, "value": u1}, {"$ref": null, "value": u2}]}]),
    )
    .await;
    assert_eq!(member_ids(&added), [u1.as_str(), u2.as_str()]);

    // Entra's membership check.
    let is_member = |u: &str| {
        format!(
            "/Groups?filter=id eq \"{g}\" and members[value eq \"{u}\"]&excludedAttributes=members"
        )
    };
    let r = get(&s, &is_member(&u1)).await;
    assert_eq!(listed(&r), [g.as_str()]);
    assert!(r.body["Resources"][0].get("members").is_none());

    // Update Group [Remove Members]: only the listed member goes.
    let removed = patch_ok(
        &s,
        &path,
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": u1}]}]),
    )
    .await;
    assert_eq!(member_ids(&removed), [u2.as_str()]);
    assert!(listed(&get(&s, &is_member(&u1)).await).is_empty());
    assert_eq!(listed(&get(&s, &is_member(&u2)).await), [g.as_str()]);
    // The user's side shows the membership too.
    let user = get(&s, &format!("/Users/{u2}")).await.body;
    assert_eq!(user["groups"][0]["value"], g);

    assert_eq!(call(&s, Method::DELETE, &path, None).await.status, 204);
    assert_eq!(get(&s, &path).await.status, 404);
}

/// Okta's create-user body (Okta's example).
fn okta_user() -> Value {
    json!({
        "schemas": [USER],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_user_lifecycle() {
    let s = start().await;
    let lookup = "/Users?filter=userName eq \"test.user@okta.local\"&startIndex=1&count=100";
    let empty = get(&s, lookup).await;
    assert!(listed(&empty).is_empty());
    assert_eq!(empty.body["startIndex"], 1);
    assert_eq!(empty.body["itemsPerPage"], 0);

    let created = post(&s, "/Users", okta_user()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let u = &created.body;
    let id = u["id"].as_str().unwrap().to_owned();
    assert!(u.get("password").is_none(), "a password is never returned");
    assert_eq!(u["externalId"], "00ujl29u0le5T6Aj10h7");
    assert_eq!(u["displayName"], "Test User");
    assert_eq!(u["locale"], "en-US");
    assert_eq!(u["active"], true);
    assert_eq!(listed(&get(&s, lookup).await), [id.as_str()]);
    let page = get(&s, "/Users?startIndex=1&count=100").await;
    assert!(listed(&page).contains(&id));

    // Okta updates with GET, then PUT of the whole user (its own `id` and `meta` included).
    let path = format!("/Users/{id}");
    let mut put = get(&s, &path).await.body;
    put["name"] = json!({"givenName": "Another", "middleName": "", "familyName": "User"});
    put["displayName"] = json!("Another User");
    put["password"] = json!("1mz050nq");
    put["groups"] = json!([]);
    let replaced = call(&s, Method::PUT, &path, Some(put)).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["name"]["givenName"], "Another");
    assert_eq!(replaced.body["displayName"], "Another User");
    assert_eq!(replaced.body["userName"], "test.user@okta.local");

    // Deactivation and reactivation: path-less replace.
    for active in [false, true] {
        let ops = json!([{"op": "replace", "value": {"active": active}}]);
        assert_eq!(patch_ok(&s, &path, ops).await["active"], active);
    }
    // A password sync is accepted and never echoed.
    let u = patch_ok(
        &s,
        &path,
        json!([{"op": "replace", "value": {"password": "t1meMachine"}}]),
    )
    .await;
    assert!(u.get("password").is_none());

    assert_eq!(call(&s, Method::DELETE, &path, None).await.status, 204);
    assert!(listed(&get(&s, lookup).await).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn okta_group_push() {
    let s = start().await;
    let user = post(&s, "/Users", okta_user()).await.body["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let created = post(
        &s,
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "Test SCIMv2", "members": []}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let g = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("/Groups/{g}");
    let found = get(
        &s,
        "/Groups?filter=displayName eq \"Test SCIMv2\"&startIndex=1&count=100",
    )
    .await;
    assert_eq!(listed(&found), [g.as_str()]);
    let read = get(&s, &format!("{path}?excludedAttributes=members")).await;
    assert_eq!(read.body["displayName"], "Test SCIMv2");

    // Rename: a path-less replace that repeats the group's own id.
    let renamed = patch_ok(
        &s,
        &path,
        json!([{"op": "replace", "value": {"id": g, "displayName": "Test SCIMv2 renamed"}}]),
    )
    .await;
    assert_eq!(renamed["displayName"], "Test SCIMv2 renamed");

    let added = patch_ok(
        &s,
        &path,
        json!([{"op": "add", "path": "members",
                "value": [{"value": user, "display": "test.user@okta.local"}]}]),
    )
    .await;
    assert_eq!(member_ids(&added), [user.as_str()]);
    let listed_groups = get(
        &s,
        "/Groups?startIndex=1&count=100&excludedAttributes=members",
    )
    .await;
    assert_eq!(listed(&listed_groups), [g.as_str()]);
    assert!(listed_groups.body["Resources"][0].get("members").is_none());

    let remove = json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]);
    let removed = patch_ok(&s, &path, remove.clone()).await;
    assert!(member_ids(&removed).is_empty());
    // The same removal again (the member is already gone) is no error.
    patch_ok(&s, &path, remove).await;

    assert_eq!(call(&s, Method::DELETE, &path, None).await.status, 204);
    assert_eq!(get(&s, &path).await.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_group_keeps_its_external_id() {
    let s = start().await;
    let created = post(
        &s,
        "/Groups",
        json!({"schemas": [GROUP, AD_GROUP], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
               "displayName": "displayName", "meta": {"resourceType": "Group"}}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body["externalId"],
        "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    );
    let id = created.body["id"].as_str().unwrap();
    let read = get(&s, &format!("/Groups/{id}")).await;
    assert_eq!(
        read.body["externalId"],
        "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    );
    let by_external = get(
        &s,
        "/Groups?filter=externalId eq \"8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159\"",
    )
    .await;
    assert_eq!(listed(&by_external), [id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_work_address_keeps_its_type() {
    let s = start().await;
    let id = entra_create(&s, "Test_User_Address").await;
    let path = format!("/Users/{id}");
    let u = patch_ok(
        &s,
        &path,
        json!([{"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"}]),
    )
    .await;
    assert_eq!(
        u["addresses"],
        json!([{"type": "work", "locality": "Redmond"}])
    );
    let u = patch_ok(
        &s,
        &path,
        json!([{"op": "Replace", "path": "addresses[type eq \"work\"].locality",
                "value": "Seattle"}]),
    )
    .await;
    assert_eq!(
        u["addresses"],
        json!([{"type": "work", "locality": "Seattle"}])
    );
    assert_eq!(get(&s, &path).await.body["addresses"], u["addresses"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_user_attribute_round_trips() {
    let s = start().await;
    let mut body = entra_user("Test_User_Whole", "ext-whole");
    body["name"]["honorificPrefix"] = json!("Ms.");
    body["ims"] = json!([{"value": "ann@im.example", "type": "xmpp"}]);
    body["photos"] = json!([{"value": "https://photos.example/ann.jpg", "type": "photo"}]);
    body["addresses"] = json!([
        {"type": "work", "locality": "Redmond", "primary": true},
        {"type": "home", "locality": "Seattle", "primary": false}
    ]);
    body["phoneNumbers"] = json!([{"value": "+1 555 0100", "type": "work", "primary": false}]);
    let created = post(&s, "/Users", body.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let read = get(
        &s,
        &format!("/Users/{}", created.body["id"].as_str().unwrap()),
    )
    .await;
    for key in [
        "name",
        "ims",
        "photos",
        "addresses",
        "phoneNumbers",
        "emails",
    ] {
        assert_eq!(read.body[key], body[key], "{key}");
    }
}
