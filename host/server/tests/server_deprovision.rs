//! Deprovisioning end to end: SCIM requests shaped as Microsoft Entra ID and Okta send them,
//! through the server, the engine and the real Salesforce connector component, into the
//! emulated org. Deactivation keeps the Salesforce user (inactive, same Username, mapping
//! kept); a group named after the target's provisioning role provisions and deprovisions its
//! members.

#[path = "support/org.rs"]
mod org_support;
#[path = "support/scim_server.rs"]
mod scim_support;

use provisioner_contract::EntityKind;
use provisioner_engine::store::JobState;
use provisioner_server::config::PropertyValue;
use provisioner_server::quickstart;
use salesforce_emulator::UserRecord;
use scim_support::{eventually, settled_jobs, Setup};
use serde_json::{json, Value};

const PASSWORD: &str = "deprovision-test-password";
const TARGET: &str = "Salesforce.com";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Sends `body` with `method` to `/scim/v2/<path>` as the admin; returns status and body.
async fn scim(s: &Setup, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let response = s
        .http
        .request(method, format!("{}/scim/v2/{path}", s.base))
        .basic_auth(quickstart::ADMIN, Some(PASSWORD))
        .header("Content-Type", "application/scim+json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Creates a SCIM user named `<name>@example.com`; returns its id.
async fn create_user(s: &Setup, name: &str, active: bool) -> String {
    let (status, user) = scim(
        s,
        reqwest::Method::POST,
        "Users",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": format!("{name}@example.com"),
            "name": {"givenName": "Pat", "familyName": name},
            "emails": [{"value": format!("{name}@example.com"), "primary": true}],
            "active": active
        }),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    user["id"].as_str().unwrap().to_owned()
}

/// PATCHes `path` with `operations`, expecting success.
async fn patch(s: &Setup, path: &str, operations: Value) {
    let (status, body) = scim(
        s,
        reqwest::Method::PATCH,
        path,
        json!({"schemas": [PATCH_OP], "Operations": operations}),
    )
    .await;
    assert!(status == 200 || status == 204, "{status} {body}");
}

/// How many PATCH requests the org received for the record `id`.
fn patches_of(s: &Setup, id: &str) -> usize {
    s.emulator
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with(&format!("/sobjects/User/{id}")))
        .count()
}

/// Every job of the tenant once settled: all done, none failed.
async fn all_done(s: &Setup) -> usize {
    let jobs = settled_jobs(s, quickstart::TENANT).await;
    assert!(
        jobs.iter().all(|j| j.state == JobState::Done
            && j.error.as_ref().is_none_or(|e| e.kind == "unsupported")),
        "{jobs:#?}"
    );
    jobs.len()
}

/// The org's users with this Username (its own integration user is not one of them).
fn named(s: &Setup, username: &str) -> Vec<UserRecord> {
    s.emulator
        .users()
        .into_iter()
        .filter(|u| u.text("Username") == Some(username))
        .collect()
}

fn is_active(record: &UserRecord) -> bool {
    record.get("IsActive") == json!(true)
}

async fn remote_id(s: &Setup, local: &str) -> Option<String> {
    s.server
        .engine()
        .store()
        .remote_id(quickstart::TENANT, TARGET, EntityKind::User, local)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entra_and_okta_deactivation_keeps_the_salesforce_user_inactive() {
    let s = scim_support::start(PASSWORD, |_| {}).await;
    let id = create_user(&s, "dana", true).await;
    let record = eventually("the user in Salesforce", || {
        s.emulator.user_by_username("dana@example.com")
    })
    .await;
    assert!(is_active(&record));
    let mut jobs = all_done(&s).await;

    // Each shape flips IsActive with one job and one PATCH, nothing else.
    let shapes = [
        (
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
            false,
        ),
        (
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
            true,
        ),
        (
            json!([{"op": "replace", "value": {"active": false}}]),
            false,
        ),
        (json!([{"op": "replace", "value": {"active": true}}]), true),
    ];
    for (operations, active) in shapes {
        let patches = patches_of(&s, &record.id);
        patch(&s, &format!("Users/{id}"), operations.clone()).await;
        let now = all_done(&s).await;
        assert_eq!(now, jobs + 1, "one job for {operations}");
        jobs = now;
        assert_eq!(
            patches_of(&s, &record.id),
            patches + 1,
            "one PATCH for {operations}"
        );
        let after = s.emulator.user(&record.id).unwrap();
        assert_eq!(is_active(&after), active, "{operations}: {after:?}");
        assert_eq!(
            after.text("Username"),
            Some("dana@example.com"),
            "never renamed"
        );
        assert_eq!(
            remote_id(&s, &id).await.as_deref(),
            Some(record.id.as_str())
        );
    }
    assert_eq!(
        named(&s, "dana@example.com").len(),
        1,
        "one Salesforce user all along"
    );
    s.server.shutdown().await.unwrap();
    s.emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_created_inactive_is_created_inactive() {
    let s = scim_support::start(PASSWORD, |_| {}).await;
    let id = create_user(&s, "eli", false).await;
    all_done(&s).await;
    let record = s
        .emulator
        .user_by_username("eli@example.com")
        .expect("created");
    assert!(!is_active(&record), "{record:?}");
    patch(
        &s,
        &format!("Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    all_done(&s).await;
    assert!(is_active(&s.emulator.user(&record.id).unwrap()));
    s.server.shutdown().await.unwrap();
    s.emulator.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_of_the_role_group_provisions_and_deprovisions() {
    let s = scim_support::start(PASSWORD, |config| {
        let target = &mut config.tenants[0].targets[0];
        target.outbound.provisioning_roles = vec!["sales".into()];
        target
            .properties
            .insert("sf-rename-on-delete".into(), PropertyValue::Bool(false));
    })
    .await;
    let id = create_user(&s, "flo", true).await;
    all_done(&s).await;
    let before = s.emulator.users().len();
    assert!(
        named(&s, "flo@example.com").is_empty(),
        "not in the role: not provisioned"
    );

    let (status, group) = scim(
        &s,
        reqwest::Method::POST,
        "Groups",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "sales",
            "members": [{"value": id}]
        }),
    )
    .await;
    assert_eq!(status, 201, "{group}");
    let group_id = group["id"].as_str().unwrap().to_owned();
    all_done(&s).await;
    let record = s
        .emulator
        .user_by_username("flo@example.com")
        .expect("provisioned");
    assert!(is_active(&record));

    patch(
        &s,
        &format!("Groups/{group_id}"),
        json!([{"op": "remove", "path": format!("members[value eq \"{id}\"]")}]),
    )
    .await;
    all_done(&s).await;
    let after = s.emulator.user(&record.id).unwrap();
    assert!(!is_active(&after), "deprovisioned: {after:?}");
    assert_eq!(after.text("Username"), Some("flo@example.com"));
    assert_eq!(
        remote_id(&s, &id).await.as_deref(),
        Some(record.id.as_str())
    );

    patch(
        &s,
        &format!("Groups/{group_id}"),
        json!([{"op": "add", "path": "members", "value": [{"value": id}]}]),
    )
    .await;
    all_done(&s).await;
    assert!(
        is_active(&s.emulator.user(&record.id).unwrap()),
        "reactivated"
    );
    assert_eq!(
        s.emulator.users().len(),
        before + 1,
        "the same record, not a new one: {:#?}",
        s.emulator.users()
    );
    assert_eq!(named(&s, "flo@example.com").len(), 1);

    // Microsoft Entra ID's shape of a member removal, then deleting the group: each
    // deprovisions, and each return reactivates the same record.
    patch(
        &s,
        &format!("Groups/{group_id}"),
        json!([{"op": "Remove", "path": "members", "value": [{"value": id}]}]),
    )
    .await;
    all_done(&s).await;
    assert!(!is_active(&s.emulator.user(&record.id).unwrap()));
    patch(
        &s,
        &format!("Groups/{group_id}"),
        json!([{"op": "Add", "path": "members", "value": [{"value": id}]}]),
    )
    .await;
    all_done(&s).await;
    assert!(is_active(&s.emulator.user(&record.id).unwrap()));
    let (status, _) = scim(
        &s,
        reqwest::Method::DELETE,
        &format!("Groups/{group_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    all_done(&s).await;
    let after = s.emulator.user(&record.id).unwrap();
    assert!(!is_active(&after), "the role group is gone: {after:?}");
    assert_eq!(named(&s, "flo@example.com").len(), 1);
    s.server.shutdown().await.unwrap();
    s.emulator.shutdown().await;
}
