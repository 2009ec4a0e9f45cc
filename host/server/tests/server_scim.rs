//! The server over real HTTP: the tutorial's SCIM curl, then replace, PATCH, delete and a group,
//! provisioned by the in-process dispatcher through the Salesforce connector into the emulator.

#[path = "support/org.rs"]
mod org_support;
#[path = "support/scim_server.rs"]
mod scim_support;

use scim_support::{eventually, settled_jobs, Setup};

use provisioner_contract::EntityKind;
use provisioner_engine::store::JobState;
use provisioner_server::config::{BasicCredential, TenantConfig};
use provisioner_server::quickstart;
use salesforce_emulator::UserRecord;
use serde_json::{json, Value};

const PASSWORD: &str = "quickstart-test-password";

/// The quickstart configuration on a free port, plus a second tenant `other.example` with its
/// own Basic user and no targets.
async fn setup() -> Setup {
    scim_support::start(PASSWORD, |config| {
        config.tenants.push(TenantConfig {
            name: "other.example".into(),
            basic: vec![BasicCredential {
                username: "other".into(),
                password: Some("other-password".into()),
                password_hash: None,
            }],
            ..TenantConfig::default()
        });
    })
    .await
}

fn text(user: &UserRecord, field: &str) -> Option<String> {
    user.text(field).map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tutorial_curl_then_replace_patch_delete_and_group() {
    let s = setup().await;

    // The tutorial's curl: exact body, Basic auth, `Content-Type:application/json`.
    let response = s
        .http
        .post(format!("{}/wso2/scim/Users", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .header("Content-Type", "application/json")
        .body(quickstart::TUTORIAL_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(created.get("password").is_none());

    let remote = eventually("the user in Salesforce", || {
        s.emulator.user_by_username("samuel@wso2.com")
    })
    .await;
    assert_eq!(text(&remote, "Email").as_deref(), Some("samuel@wso2.com"));
    assert_eq!(text(&remote, "LastName").as_deref(), Some("Gnaniah"));
    assert_eq!(
        text(&remote, "ProfileId").as_deref().map(|p| &p[..15]),
        Some("00e90000001aV2o")
    );
    assert_eq!(text(&remote, "Alias").as_deref(), Some("Samuel"));
    assert_eq!(
        text(&remote, "TimeZoneSidKey").as_deref(),
        Some("America/Los_Angeles")
    );
    assert_eq!(text(&remote, "LocaleSidKey").as_deref(), Some("en_US"));
    assert_eq!(remote.get("IsActive"), json!(true));
    let remote_id = remote.id.clone();

    // SCIM 2 read back, with a version for ETags.
    let user: Value = s
        .http
        .get(format!("{}/scim/v2/Users/{id}", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(user["userName"], "samuel@wso2.com");
    assert_eq!(user["name"]["familyName"], "Gnaniah");
    assert_eq!(user["meta"]["version"], "W/\"1\"");

    // userName is unique (case-insensitively) within the tenant.
    let duplicate = s
        .http
        .post(format!("{}/scim/v2/Users", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .header("Content-Type", "application/scim+json")
        .json(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "SAMUEL@wso2.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(duplicate.status(), 409);

    // Replace (PUT) with a new family name: LastName follows.
    let mut replacement = user.clone();
    replacement["name"]["familyName"] = json!("Gnaniah-Perera");
    let replaced = s
        .http
        .put(format!("{}/scim/v2/Users/{id}", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .header("If-Match", "W/\"1\"")
        .json(&replacement)
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 200);
    let replaced: Value = replaced.json().await.unwrap();
    assert_eq!(replaced["meta"]["version"], "W/\"2\"");
    // `meta.created` stays; `lastModified` moves (the replace came after Salesforce's round trip).
    assert_eq!(replaced["meta"]["created"], user["meta"]["created"]);
    assert_eq!(replaced["meta"]["created"], created["meta"]["created"]);
    assert_ne!(
        replaced["meta"]["lastModified"],
        user["meta"]["lastModified"]
    );
    eventually("LastName to follow the replace", || {
        s.emulator
            .user(&remote_id)
            .filter(|u| u.text("LastName") == Some("Gnaniah-Perera"))
    })
    .await;

    // A stale If-Match is refused.
    let stale = s
        .http
        .put(format!("{}/scim/v2/Users/{id}", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .header("If-Match", "W/\"1\"")
        .json(&replacement)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 412);

    // PATCH the given name: Alias follows.
    let patched = s
        .http
        .patch(format!("{}/scim/v2/Users/{id}", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "name.givenName", "value": "Sam"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    eventually("Alias to follow the PATCH", || {
        s.emulator
            .user(&remote_id)
            .filter(|u| u.text("Alias") == Some("Sam"))
    })
    .await;

    // A group: recorded as unsupported by Salesforce (done, not failed).
    let group = s
        .http
        .post(format!("{}/scim/v2/Groups", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Engineering",
            "members": [{"value": id}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(group.status(), 201);
    let group: Value = group.json().await.unwrap();
    assert_eq!(group["members"][0]["value"], id.as_str());
    let jobs = settled_jobs(&s, quickstart::TENANT).await;
    let group_job = jobs
        .iter()
        .find(|j| j.entity_kind == EntityKind::Group)
        .expect("a job for the group");
    assert_eq!(group_job.state, JobState::Done, "{group_job:?}");
    assert_eq!(
        group_job.error.as_ref().map(|e| e.kind.as_str()),
        Some("unsupported"),
        "{group_job:?}"
    );
    assert!(jobs.iter().all(|j| j.state == JobState::Done), "{jobs:#?}");

    // Another tenant sees neither the user nor the group.
    let other = s
        .http
        .get(format!("{}/scim/v2/Users/{id}", s.base))
        .basic_auth("other", Some("other-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let list: Value = s
        .http
        .get(format!("{}/scim/v2/Users", s.base))
        .basic_auth("other", Some("other-password"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["totalResults"], 0);

    // Delete: the Salesforce user is deactivated (never deleted), and leaves the group.
    let deleted = s
        .http
        .delete(format!("{}/scim/v2/Users/{id}", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    eventually("IsActive=false after the delete", || {
        s.emulator
            .user(&remote_id)
            .filter(|u| u.get("IsActive") == json!(false))
    })
    .await;
    let group: Value = s
        .http
        .get(format!(
            "{}/scim/v2/Groups/{}",
            s.base,
            group["id"].as_str().unwrap()
        ))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        group
            .get("members")
            .is_none_or(|m| m.as_array().unwrap().is_empty()),
        "{group}"
    );
    let gone = s
        .http
        .get(format!("{}/scim/v2/Users/{id}", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);

    s.server.shutdown().await.unwrap();
    s.emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_or_missing_credentials_are_401() {
    let s = setup().await;
    let url = format!("{}/wso2/scim/Users", s.base);
    let wrong = s
        .http
        .post(&url)
        .basic_auth(quickstart::ADMIN, Some("not-the-password"))
        .header("Content-Type", "application/json")
        .body(quickstart::TUTORIAL_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let none = s
        .http
        .get(format!("{}/scim/v2/Users", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
    let bearer = s
        .http
        .get(format!("{}/scim/v2/Users", s.base))
        .bearer_auth("no-such-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), 401);
    // Nothing was written.
    assert!(s
        .server
        .engine()
        .store()
        .users(quickstart::TENANT)
        .await
        .unwrap()
        .is_empty());
    s.server.shutdown().await.unwrap();
    s.emulator.shutdown().await;
}
