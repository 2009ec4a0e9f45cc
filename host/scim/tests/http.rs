//! End-to-end tests over loopback HTTP: the router on 127.0.0.1:0 with the in-memory backend.

use std::sync::Arc;

use reqwest::{Client, RequestBuilder, Response, StatusCode};
use scim::{
    router, user_claims, CredentialStore, MemoryBackend, ScimBackend, ScimConfig, TenantId,
};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

struct Server {
    base: String,
    backend: Arc<MemoryBackend>,
    http: Client,
}

const TOKEN_A: &str = "token-tenant-a-0123456789";
const TOKEN_B: &str = "token-tenant-b-9876543210";

fn tenant_a() -> TenantId {
    TenantId::new("a")
}

async fn start_with(config: ScimConfig) -> Server {
    let backend = Arc::new(MemoryBackend::new());
    let creds = CredentialStore::new();
    creds.add_basic(tenant_a(), "samuel@wso2.com", "password");
    creds.add_bearer(tenant_a(), "a-token", TOKEN_A);
    creds.add_bearer(TenantId::new("b"), "b-token", TOKEN_B);
    let app = router(backend.clone(), Arc::new(creds), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base: format!("http://{addr}"),
        backend,
        http: Client::new(),
    }
}

async fn start() -> Server {
    start_with(ScimConfig::default()).await
}

impl Server {
    fn req(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/scim/v2{path}", self.base))
            .bearer_auth(TOKEN_A)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.req(method, path);
        if let Some(b) = body {
            r = r
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        split(r.send().await.unwrap()).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    async fn patch(&self, path: &str, ops: Value) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::PATCH,
            path,
            Some(json!({"schemas": [PATCH], "Operations": ops})),
        )
        .await
    }

    async fn delete(&self, path: &str) -> StatusCode {
        self.send(reqwest::Method::DELETE, path, None).await.0
    }

    async fn create_user(&self, name: &str, extra: Value) -> Value {
        let mut body = json!({"schemas": [USER], "userName": name});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (s, v) = self.post("/Users", body).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v
    }

    /// Snapshot of tenant A's stored data, to prove failed requests wrote nothing.
    async fn snapshot(&self) -> (Vec<scim::UserResource>, Vec<scim::GroupResource>) {
        (
            self.backend
                .scan_users(&tenant_a(), None, usize::MAX)
                .await
                .unwrap(),
            self.backend
                .scan_groups(&tenant_a(), None, usize::MAX)
                .await
                .unwrap(),
        )
    }
}

async fn split(r: Response) -> (StatusCode, Value) {
    let s = r.status();
    let text = r.text().await.unwrap();
    (s, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn assert_error(s: StatusCode, v: &Value, status: u16, scim_type: Option<&str>) {
    assert_eq!(s.as_u16(), status, "{v}");
    assert_eq!(v["schemas"], json!([ERR]), "{v}");
    assert_eq!(v["status"], json!(status.to_string()), "{v}");
    if let Some(t) = scim_type {
        assert_eq!(v["scimType"], json!(t), "{v}");
    }
}

#[tokio::test]
async fn tutorial_curl_creates_user_with_claims() {
    let srv = start().await;
    // The tutorial's exact body, with Basic auth and Content-Type: application/json.
    let body = r#"{"schemas":["urn:scim:schemas:core:1.0"],"userName":"samuel@wso2.com","password":"test25","name":{"familyName":"Gnaniah"},"emails":["samuel@wso2.com"],"entitlements":[{"value":"00e90000001aV2o","display":"ChatterFreeUser"}]}"#;
    let r = srv
        .http
        .post(format!("{}/wso2/scim/Users", srv.base))
        .header("Content-Type", "application/json")
        .basic_auth("samuel@wso2.com", Some("password"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let (_, v) = split(r).await;
    assert_eq!(v["schemas"], json!(["urn:scim:schemas:core:1.0"]));
    assert_eq!(v["userName"], "samuel@wso2.com");
    assert!(
        v.get("password").is_none(),
        "password must never be returned"
    );

    let users = srv
        .backend
        .scan_users(&tenant_a(), None, usize::MAX)
        .await
        .unwrap();
    assert_eq!(users.len(), 1);
    let stored = &users[0];
    assert!(stored
        .password
        .as_deref()
        .unwrap()
        .starts_with("$argon2id$"));
    let claims = user_claims(stored);
    let c = |n: &str| claims.get(&format!("http://wso2.org/claims/{n}")).cloned();
    assert_eq!(c("emailaddress").unwrap(), ["samuel@wso2.com"]);
    assert_eq!(c("lastname").unwrap(), ["Gnaniah"]);
    assert_eq!(c("role").unwrap(), ["00e90000001aV2o"]);
    assert_eq!(c("username").unwrap(), ["samuel@wso2.com"]);

    // Same userName again (any case): 409 uniqueness, nothing written.
    let r = srv
        .http
        .post(format!("{}/wso2/scim/Users", srv.base))
        .header("Content-Type", "application/json")
        .basic_auth("samuel@wso2.com", Some("password"))
        .body(body.replace("\"userName\":\"samuel", "\"userName\":\"SAMUEL"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        srv.backend
            .scan_users(&tenant_a(), None, usize::MAX)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn unknown_members_can_be_refused() {
    let srv = start_with(ScimConfig {
        unknown_members: scim::config::UnknownMembers::Reject,
        ..ScimConfig::default()
    })
    .await;
    let u = srv.create_user("member", json!({})).await;
    let (s, g) = srv
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": u["id"]}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let before = srv.snapshot().await;
    let (s, v) = srv
        .patch(
            &format!("/Groups/{}", g["id"].as_str().unwrap()),
            json!([{"op": "add", "path": "members", "value": [{"value": "nope"}, {"value": "nada"}]}]),
        )
        .await;
    assert_error(s, &v, 400, Some("invalidValue"));
    let detail = v["detail"].as_str().unwrap();
    assert!(
        detail.contains("\"nope\"") && detail.contains("\"nada\""),
        "{detail}"
    );
    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn user_lifecycle_with_patch_quirks() {
    let srv = start().await;
    let r = srv
        .req(reqwest::Method::POST, "/Users")
        .header("content-type", "application/scim+json")
        .body(
            json!({"schemas": [USER, ENT], "userName": "bjensen", "password": "pw1",
                "name": {"givenName": "Barbara", "familyName": "Jensen"},
                "emails": [{"value": "bj@example.com", "type": "work", "primary": true}],
                ENT: {"employeeNumber": "701984"}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(r.headers()["content-type"], "application/scim+json");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let (_, created) = split(r).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(etag, "W/\"1\"");
    assert_eq!(created["meta"]["version"], "W/\"1\"");
    assert!(location.ends_with(&format!("/scim/v2/Users/{id}")));
    assert_eq!(created["schemas"], json!([USER, ENT]));

    // Okta: GET then PUT the same document back with a change; password is kept.
    let (s, mut doc) = srv.get(&format!("/Users/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    let hash_before = srv
        .backend
        .get_user(&tenant_a(), &id)
        .await
        .unwrap()
        .password;
    doc["title"] = json!("Tour Guide");
    let (s, put) = srv.put(&format!("/Users/{id}"), doc).await;
    assert_eq!(s, StatusCode::OK, "{put}");
    assert_eq!(put["title"], "Tour Guide");
    assert_eq!(put["meta"]["version"], "W/\"2\"");
    let stored = srv.backend.get_user(&tenant_a(), &id).await.unwrap();
    assert_eq!(stored.password, hash_before);

    // Entra ID's PATCH: capitalised ops, string booleans, value-filter paths, URN-keyed values.
    let (s, v) = srv
        .patch(
            &format!("/Users/{id}"),
            json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "barbara@example.com"},
                {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555-0100"},
                {"op": "Add", "value": {"nickName": "Babs",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Tour"}},
                {"op": "Remove", "path": "name.givenName"}
            ]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["active"], json!(false));
    assert_eq!(v["emails"][0]["value"], "barbara@example.com");
    assert_eq!(
        v["phoneNumbers"],
        json!([{"type": "mobile", "value": "555-0100"}])
    );
    assert_eq!(v["nickName"], "Babs");
    assert_eq!(v[ENT]["department"], "Tour");
    assert_eq!(v[ENT]["employeeNumber"], "701984");
    assert!(v["name"].get("givenName").is_none());
    assert_eq!(v["meta"]["version"], "W/\"3\"");

    let stored = srv.backend.get_user(&tenant_a(), &id).await.unwrap();
    let claims = user_claims(&stored);
    assert_eq!(claims["http://wso2.org/claims/accountDisabled"], ["true"]);
    assert_eq!(claims["http://wso2.org/claims/mobile"], ["555-0100"]);
    assert_eq!(
        claims["http://wso2.org/claims/emailaddress"],
        ["barbara@example.com"]
    );

    // Delete, then it is gone.
    assert_eq!(
        srv.delete(&format!("/Users/{id}")).await,
        StatusCode::NO_CONTENT
    );
    let (s, v) = srv.get(&format!("/Users/{id}")).await;
    assert_error(s, &v, 404, None);
}

#[tokio::test]
async fn groups_and_membership_patch() {
    let srv = start().await;
    let u1 = srv.create_user("u1", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let u2 = srv.create_user("u2", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let u3 = srv.create_user("u3", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, g) = srv
        .post(
            "/Groups",
            json!({"schemas": [GROUP], "displayName": "Sales", "members": [{"value": u1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    let gid = g["id"].as_str().unwrap().to_string();
    assert_eq!(g["members"][0]["type"], "User");

    let (s, g) = srv
        .patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "add", "path": "members", "value": [{"value": u2}, {"value": u3}]}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{g}");
    assert_eq!(g["members"].as_array().unwrap().len(), 3);

    // Entra's removal with a value array, and the RFC's value-filter form.
    let (s, g) = srv
        .patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "Remove", "path": "members", "value": [{"value": u2}]}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{g}");
    let (s, g) = srv
        .patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "remove", "path": format!("members[value eq \"{u3}\"]")}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{g}");
    assert_eq!(
        g["members"],
        json!([{"value": u1, "type": "User", "display": "u1",
        "$ref": format!("{}/scim/v2/Users/{u1}", srv.base)}])
    );

    // The user shows its group.
    let (_, u) = srv.get(&format!("/Users/{u1}")).await;
    assert_eq!(u["groups"][0]["value"], json!(gid));

    // Adding a member that does not exist (the default policy): the unknown id is left out,
    // the rest of the request applies.
    let (s, g) = srv
        .patch(
            &format!("/Groups/{gid}"),
            json!([{"op": "add", "path": "members", "value": [{"value": "nope"}]},
                   {"op": "replace", "path": "externalId", "value": "ext-sales"}]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{g}");
    assert_eq!(g["externalId"], "ext-sales");
    let members: Vec<&Value> = g["members"].as_array().unwrap().iter().collect();
    assert!(members.iter().all(|m| m["value"] != "nope"), "{g}");

    // Deleting a user removes the membership.
    assert_eq!(
        srv.delete(&format!("/Users/{u1}")).await,
        StatusCode::NO_CONTENT
    );
    let (_, g) = srv.get(&format!("/Groups/{gid}")).await;
    assert!(g.get("members").is_none(), "{g}");
    assert_eq!(
        srv.delete(&format!("/Groups/{gid}")).await,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn list_filter_sort_page_project_search() {
    let srv = start().await;
    for (n, dept, mail) in [
        ("carol", "Sales", "carol@x.com"),
        ("alice", "Eng", "alice@y.org"),
        ("bob", "Eng", "bob@x.com"),
        ("dave", "Ops", "dave@x.com"),
    ] {
        srv.create_user(
            n,
            json!({"emails": [{"value": mail, "type": "work"}], ENT: {"department": dept},
                "active": n != "dave"}),
        )
        .await;
    }
    let names = |v: &Value| -> Vec<String> {
        v["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["userName"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let q = |f: &str| format!("/Users?filter={}&sortBy=userName", urlencode(f));

    let (s, v) = srv.get(&q(r#"userName eq "ALICE""#)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(names(&v), ["alice"]);
    let (_, v) = srv
        .get(&q(r#"emails[type eq "work" and value co "@x.com"]"#))
        .await;
    assert_eq!(names(&v), ["bob", "carol", "dave"]);
    let (_, v) = srv
        .get(&q(&format!(
            r#"{ENT}:department eq "Eng" or not (active eq true)"#
        )))
        .await;
    assert_eq!(names(&v), ["alice", "bob", "dave"]);
    let (_, v) = srv.get(&q(r#"userName sw "c" or userName ew "ve""#)).await;
    assert_eq!(names(&v), ["carol", "dave"]);
    let (_, v) = srv
        .get(&q(r#"userName gt "b" and userName le "carol""#))
        .await;
    assert_eq!(names(&v), ["bob", "carol"]);
    let (_, v) = srv.get(&q(r#"title pr"#)).await;
    assert_eq!(v["totalResults"], 0);
    let (_, v) = srv
        .get(&q(
            r#"userName ne "bob" and (userName lt "c" or userName ge "d")"#,
        ))
        .await;
    assert_eq!(names(&v), ["alice", "dave"]);

    // Pagination and descending sort.
    let (_, v) = srv
        .get("/Users?sortBy=userName&sortOrder=descending&startIndex=2&count=2")
        .await;
    assert_eq!(v["totalResults"], 4);
    assert_eq!(v["startIndex"], 2);
    assert_eq!(v["itemsPerPage"], 2);
    assert_eq!(names(&v), ["carol", "bob"]);
    let (_, v) = srv.get("/Users?count=0").await;
    assert_eq!(v["totalResults"], 4);
    assert_eq!(v["Resources"], json!([]));

    // Projection.
    let (_, v) = srv
        .get("/Users?attributes=userName,emails.value&sortBy=userName&count=1")
        .await;
    let r = &v["Resources"][0];
    assert_eq!(r["userName"], "alice");
    assert_eq!(r["emails"], json!([{"value": "alice@y.org"}]));
    assert!(r.get("meta").is_none() && r.get("id").is_some());
    let (_, v) = srv
        .get("/Users?excludedAttributes=emails,meta&count=1")
        .await;
    assert!(v["Resources"][0].get("emails").is_none());
    assert!(v["Resources"][0].get("userName").is_some());

    // POST /.search on Users and at the root.
    let (s, v) = srv
        .post(
            "/Users/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "userName sw \"a\" or userName sw \"b\"", "sortBy": "userName",
                "attributes": ["userName"], "startIndex": 1, "count": 10}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(names(&v), ["alice", "bob"]);
    assert!(v["Resources"][0].get("emails").is_none());
    srv.post(
        "/Groups",
        json!({"schemas": [GROUP], "displayName": "Engineers"}),
    )
    .await;
    let (_, v) = srv
        .post(
            "/.search",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                "filter": "displayName sw \"Eng\" or userName eq \"bob\""}),
        )
        .await;
    assert_eq!(v["totalResults"], 2, "{v}");

    // Group list with filter.
    let (_, v) = srv
        .get(&format!(
            "/Groups?filter={}",
            urlencode(r#"displayName eq "engineers""#)
        ))
        .await;
    assert_eq!(v["totalResults"], 1);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn etags_and_preconditions() {
    let srv = start().await;
    let id = srv.create_user("etag", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = srv.snapshot().await;

    let r = srv
        .req(reqwest::Method::PATCH, &format!("/Users/{id}"))
        .header("If-Match", "W/\"7\"")
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]}).to_string())
        .send()
        .await
        .unwrap();
    let (s, v) = split(r).await;
    assert_error(s, &v, 412, None);
    let r = srv
        .req(reqwest::Method::PUT, &format!("/Users/{id}"))
        .header("If-Match", "W/\"2\"")
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": [USER], "userName": "changed"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    let r = srv
        .req(reqwest::Method::DELETE, &format!("/Users/{id}"))
        .header("If-Match", "\"9\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(srv.snapshot().await, before);

    // Matching If-Match succeeds; If-None-Match with the current version gives 304.
    let r = srv
        .req(reqwest::Method::PATCH, &format!("/Users/{id}"))
        .header("If-Match", "W/\"1\"")
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["etag"], "W/\"2\"");
    let r = srv
        .req(reqwest::Method::GET, &format!("/Users/{id}"))
        .header("If-None-Match", "W/\"2\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn bulk_with_references_and_fail_on_errors() {
    let srv = start().await;
    let (s, v) = srv
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                "Operations": [
                    {"method": "POST", "path": "/Groups", "bulkId": "g1",
                     "data": {"schemas": [GROUP], "displayName": "Team", "members": [{"value": "bulkId:u1"}]}},
                    {"method": "POST", "path": "/Users", "bulkId": "u1",
                     "data": {"schemas": [USER], "userName": "bulky"}},
                    {"method": "PATCH", "path": "/Users/bulkId:u1",
                     "data": {"schemas": [PATCH], "Operations": [{"op": "add", "path": "title", "value": "Lead"}]}}
                ]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ops = v["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 3);
    assert_eq!(ops[0]["status"], "201", "{v}");
    assert_eq!(ops[1]["status"], "201");
    assert_eq!(ops[2]["status"], "200");
    let (_, users) = srv.get("/Users?filter=userName%20eq%20%22bulky%22").await;
    let u = &users["Resources"][0];
    assert_eq!(u["title"], "Lead");
    assert_eq!(u["groups"][0]["display"], "Team");

    // failOnErrors: 1 stops after the first failure; later operations are not run.
    let (s, v) = srv
        .post(
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "failOnErrors": 1,
                "Operations": [
                    {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"schemas": [USER], "userName": "ok1"}},
                    {"method": "POST", "path": "/Users", "bulkId": "b", "data": {"schemas": [USER]}},
                    {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"schemas": [USER], "userName": "never"}}
                ]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let ops = v["Operations"].as_array().unwrap();
    assert_eq!(ops.len(), 2, "{v}");
    assert_eq!(ops[1]["status"], "400");
    assert_eq!(ops[1]["response"]["scimType"], "invalidValue");
    let mut names: Vec<String> = srv
        .snapshot()
        .await
        .0
        .iter()
        .map(|u| u.user_name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["bulky", "ok1"]);
}

#[tokio::test]
async fn discovery_endpoints() {
    let srv = start().await;
    let (s, v) = srv.get("/ServiceProviderConfig").await;
    assert_eq!(s, StatusCode::OK);
    for f in ["patch", "bulk", "filter", "sort", "etag", "changePassword"] {
        assert_eq!(v[f]["supported"], true, "{f}");
    }
    assert_eq!(v["bulk"]["maxPayloadSize"], 1024 * 1024);
    assert_eq!(v["authenticationSchemes"].as_array().unwrap().len(), 2);
    let (_, v) = srv.get("/ResourceTypes").await;
    assert_eq!(v["totalResults"], 2);
    assert_eq!(v["Resources"][0]["schemaExtensions"][0]["schema"], ENT);
    let (s, v) = srv.get("/ResourceTypes/Group").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["endpoint"], "/Groups");
    let (_, v) = srv.get("/Schemas").await;
    assert_eq!(v["totalResults"], 3);
    let (s, v) = srv.get(&format!("/Schemas/{USER}")).await;
    assert_eq!(s, StatusCode::OK);
    let attrs = v["attributes"].as_array().unwrap();
    let user_name = attrs.iter().find(|a| a["name"] == "userName").unwrap();
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["required"], true);
    let (s, v) = srv.get("/Schemas/urn:nope").await;
    assert_error(s, &v, 404, None);
}

#[tokio::test]
async fn bad_input_writes_nothing() {
    let srv = start_with(ScimConfig {
        max_body_bytes: 4096,
        ..ScimConfig::default()
    })
    .await;
    let id = srv.create_user("keep", json!({"title": "T"})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = srv.snapshot().await;

    // Malformed JSON.
    let r = srv
        .req(reqwest::Method::POST, "/Users")
        .header("content-type", "application/json")
        .body("{\"schemas\": [")
        .send()
        .await
        .unwrap();
    let (s, v) = split(r).await;
    assert_error(s, &v, 400, Some("invalidSyntax"));

    // Unknown schema whose attributes would be lost (one without attributes is accepted).
    let (s, v) = srv
        .post(
            "/Users",
            json!({"schemas": [USER, "urn:example:custom"], "userName": "x",
                   "urn:example:custom": {"badge": "7"}}),
        )
        .await;
    assert_error(s, &v, 400, Some("invalidValue"));

    // Missing userName.
    let (s, v) = srv
        .post("/Users", json!({"schemas": [USER], "title": "x"}))
        .await;
    assert_error(s, &v, 400, Some("invalidValue"));

    // Wrongly typed attribute.
    let (s, v) = srv
        .post(
            "/Users",
            json!({"schemas": [USER], "userName": "y", "active": "maybe"}),
        )
        .await;
    assert_error(s, &v, 400, Some("invalidValue"));

    // Invalid filter.
    let (s, v) = srv.get("/Users?filter=userName%20xx%20%22a%22").await;
    assert_error(s, &v, 400, Some("invalidFilter"));

    // Bad PATCH paths: unknown attribute, malformed, filter without match; later good ops are
    // not applied either.
    let (s, v) = srv
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "title", "value": "changed"},
                   {"op": "replace", "path": "nosuch.attr", "value": "x"}]),
        )
        .await;
    assert_error(s, &v, 400, Some("invalidPath"));
    let (s, v) = srv
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "emails[type eq", "value": "x"}]),
        )
        .await;
    assert_error(s, &v, 400, Some("invalidPath"));
    let (s, v) = srv
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "title", "value": "changed"},
                   {"op": "replace", "path": "emails[type eq \"home\"]",
                    "value": {"value": "h@example.com"}}]),
        )
        .await;
    assert_error(s, &v, 400, Some("noTarget"));
    let (s, v) = srv
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "id", "value": "x"}]),
        )
        .await;
    assert_error(s, &v, 400, Some("mutability"));
    let (s, v) = srv
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "userName", "value": ""}]),
        )
        .await;
    assert_error(s, &v, 400, Some("invalidValue"));

    // Oversized body.
    let big = json!({"schemas": [USER], "userName": "big", "title": "x".repeat(10_000)});
    let (s, v) = srv.post("/Users", big).await;
    assert_error(s, &v, 413, None);

    // Unsupported content type.
    let r = srv
        .req(reqwest::Method::POST, "/Users")
        .header("content-type", "text/plain")
        .body(json!({"schemas": [USER], "userName": "ct"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Duplicate userName (case-insensitive) on create and on rename.
    let (s, v) = srv
        .post("/Users", json!({"schemas": [USER], "userName": "KEEP"}))
        .await;
    assert_error(s, &v, 409, Some("uniqueness"));

    assert_eq!(srv.snapshot().await, before);
}

#[tokio::test]
async fn authentication_and_tenant_isolation() {
    let srv = start().await;
    let id = srv.create_user("private", json!({})).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = srv.snapshot().await;

    // No credentials, wrong password, unknown token: 401 with a SCIM body and a challenge.
    for r in [
        srv.http.get(format!("{}/scim/v2/Users", srv.base)),
        srv.http
            .get(format!("{}/scim/v2/ServiceProviderConfig", srv.base))
            .basic_auth("samuel@wso2.com", Some("wrong")),
        srv.http
            .get(format!("{}/wso2/scim/Users", srv.base))
            .bearer_auth("not-a-token"),
    ] {
        let r = r.send().await.unwrap();
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("Basic"));
        let (s, v) = split(r).await;
        assert_error(s, &v, 401, None);
    }

    // Tenant B cannot see or touch tenant A's user.
    let b = |m: reqwest::Method, p: &str| {
        srv.http
            .request(m, format!("{}/scim/v2{p}", srv.base))
            .bearer_auth(TOKEN_B)
            .header("content-type", "application/scim+json")
    };
    let path = format!("/Users/{id}");
    for req in [
        b(reqwest::Method::GET, &path),
        b(reqwest::Method::DELETE, &path),
        b(reqwest::Method::PUT, &path).body(json!({"schemas": [USER], "userName": "stolen"}).to_string()),
        b(reqwest::Method::PATCH, &path).body(
            json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "x"}]})
                .to_string(),
        ),
    ] {
        let (s, v) = split(req.send().await.unwrap()).await;
        assert_error(s, &v, 404, None);
    }
    let (_, v) = split(b(reqwest::Method::GET, "/Users").send().await.unwrap()).await;
    assert_eq!(v["totalResults"], 0);
    // Tenant B may use the same userName in its own tenant.
    let (s, _) = split(
        b(reqwest::Method::POST, "/Users")
            .body(json!({"schemas": [USER], "userName": "private"}).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    // Tenant B cannot make A's user a member of its group: the id is unknown in B, so it is
    // left out of B's group (the default policy) and A's data is untouched.
    let (s, g) = split(
        b(reqwest::Method::POST, "/Groups")
            .body(
                json!({"schemas": [GROUP], "displayName": "G", "members": [{"value": id}]})
                    .to_string(),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{g}");
    assert!(g.get("members").is_none(), "{g}");
    assert_eq!(srv.snapshot().await, before);

    // Basic auth works on SCIM 2 as well.
    let r = srv
        .http
        .get(format!("{}/scim/v2/Users/{id}", srv.base))
        .basic_auth("samuel@wso2.com", Some("password"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
