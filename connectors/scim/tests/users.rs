//! Users against a scripted SCIM service: the requests sent and the outcomes returned.

mod common;

use common::{case, config, provision};
use provisioner_sdk::claims;
use provisioner_sdk::mock::{self, MockHost};
use provisioner_sdk::prelude::*;
use provisioner_sdk::serde_json::json;
use provisioner_sdk::{ConnectionFailure, HttpError};

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn ann() -> User {
    User::new("local-1", "ann@example.com")
        .with_claim(claims::GIVEN_NAME, "Ann")
        .with_claim(claims::LAST_NAME, "Lee")
        .with_claim(claims::EMAIL, "ann@example.com")
        .with_claim(claims::ACCOUNT_DISABLED, "false")
}

#[test]
fn create_posts_a_scim_user_and_returns_its_id() {
    let host = MockHost::new();
    host.on(
        Method::Post,
        "/scim/v2/Users",
        mock::json(201, &json!({"id": "r-1"})),
    );
    let outcome = provision(&host, &config(), Change::create(ann())).unwrap();
    assert_eq!(outcome.remote_id.as_deref(), Some("r-1"));
    let sent = &host.requests()[0];
    assert_eq!(sent.url, "https://idp.example.com/scim/v2/Users");
    assert_eq!(sent.credential.as_deref(), Some("bearer:bearer-token"));
    assert_eq!(sent.header("content-type"), Some("application/scim+json"));
    assert_eq!(sent.header("accept"), Some("application/scim+json"));
    let body = sent.json();
    assert_eq!(body["userName"], "ann@example.com");
    assert_eq!(body["externalId"], "local-1");
    assert_eq!(
        body["name"],
        json!({"givenName": "Ann", "familyName": "Lee"})
    );
    assert_eq!(
        body["emails"],
        json!([{"type": "work", "value": "ann@example.com"}])
    );
    assert_eq!(body["active"], true);
}

#[test]
fn a_user_created_disabled_is_created_inactive_and_a_missing_id_is_a_warning() {
    let host = MockHost::new();
    host.on(Method::Post, "/scim/v2/Users", mock::json(201, &json!({})));
    let mut user = ann();
    user.claims.retain(|c| c.uri != claims::ACCOUNT_DISABLED);
    let user = user.with_claim(claims::ACCOUNT_DISABLED, "true");
    let outcome = provision(&host, &config(), Change::create(user)).unwrap();
    assert_eq!(outcome.remote_id, None, "no id is invented");
    assert!(
        outcome.warnings[0].contains("without an `id`"),
        "{:?}",
        outcome.warnings
    );
    assert_eq!(host.requests()[0].json()["active"], false);
}

#[test]
fn a_conflict_carries_the_existing_id_found_by_user_name() {
    let host = MockHost::new();
    let scim_error = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "409", "scimType": "uniqueness", "detail": "userName is taken"
    });
    host.on(Method::Post, "/scim/v2/Users", mock::json(409, &scim_error));
    host.on(
        Method::Get,
        "/scim/v2/Users?filter=userName%20eq%20%22ann%40example.com%22",
        mock::json(
            200,
            &json!({"totalResults": 1, "Resources": [{"id": "r-7", "active": true}]}),
        ),
    );
    match provision(&host, &config(), Change::create(ann())) {
        Err(ProvisionError::Conflict(conflict)) => {
            assert_eq!(conflict.existing_remote_id.as_deref(), Some("r-7"));
            assert_eq!(conflict.detail.target_code.as_deref(), Some("uniqueness"));
            assert_eq!(conflict.detail.http_status, Some(409));
            assert_eq!(
                conflict.detail.message,
                "POST answered HTTP 409 (uniqueness): userName is taken"
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
    // The lookup failing too leaves the id unknown but keeps the conflict.
    let failing = MockHost::new();
    failing.push(mock::status(409)).push(mock::status(500));
    match provision(&failing, &config(), Change::create(ann())) {
        Err(ProvisionError::Conflict(conflict)) => assert_eq!(conflict.existing_remote_id, None),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn statuses_and_scim_errors_map_by_the_shared_table() {
    let long_detail = "x".repeat(1000);
    let cases = [
        (mock::status(400), "invalid-data"),
        (mock::status(401), "auth-failed"),
        (mock::status(403), "auth-failed"),
        (mock::status(500), "transient"),
        (mock::status(503), "transient"),
        (
            mock::json(
                400,
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400", "scimType": "invalidValue", "detail": long_detail}),
            ),
            "invalid-data",
        ),
    ];
    for (response, expected) in cases {
        let status = response.status;
        let host = MockHost::new();
        host.push(response);
        let result = provision(&host, &config(), Change::create(ann()));
        assert_eq!(case(&result), expected, "status {status}");
        let error = result.unwrap_err();
        assert_eq!(error.detail().http_status, Some(status));
        assert!(
            error.detail().message.len() < 300,
            "bounded: {}",
            error.detail().message
        );
        if let ProvisionError::Transient(t) = &error {
            assert!(t.outcome_unknown, "a 5xx on a POST may have been applied");
        }
    }
    let host = MockHost::new();
    let mut limited = mock::status(429);
    limited.headers.push(("Retry-After".into(), "7".into()));
    host.push(limited);
    match provision(&host, &config(), Change::create(ann())) {
        Err(ProvisionError::RateLimited(r)) => assert_eq!(r.retry_after_ms, Some(7000)),
        other => panic!("expected rate-limited, got {other:?}"),
    }
}

#[test]
fn an_update_patches_only_the_changed_claims() {
    let host = MockHost::new();
    host.on(Method::Patch, "/scim/v2/Users/r-1", mock::status(204));
    let mut user = ann()
        .with_remote_id("r-1")
        .with_claim(claims::MOBILE, "+1 555")
        .with_changed(claims::GIVEN_NAME)
        .with_changed(claims::MOBILE)
        .with_changed(claims::TITLE)
        .with_changed(claims::EMAIL_HOME);
    user.claims
        .iter_mut()
        .find(|c| c.uri == claims::GIVEN_NAME)
        .unwrap()
        .values = vec!["Anne".into()];
    let outcome = provision(&host, &config(), Change::update(user)).unwrap();
    assert_eq!(outcome.remote_id.as_deref(), Some("r-1"));
    let sent = &host.requests()[0];
    assert_eq!(sent.method, Method::Patch);
    assert_eq!(
        sent.json(),
        json!({"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "name.givenName", "value": "Anne"},
            {"op": "remove", "path": "title"},
            {"op": "remove", "path": "emails[type eq \"home\"]"},
            {"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555"}
        ]})
    );
}

#[test]
fn a_rename_replaces_user_name_and_disabling_replaces_active() {
    let host = MockHost::new();
    host.on(
        Method::Patch,
        "/scim/v2/Users/r-1",
        mock::json(200, &json!({"id": "r-1"})),
    );
    let user = User::new("local-1", "ann.lee@example.com")
        .with_claim(claims::USERNAME, "ann.lee@example.com")
        .with_claim(claims::ACCOUNT_DISABLED, "true")
        .with_remote_id("r-1")
        .with_changed(claims::USERNAME)
        .with_changed(claims::ACCOUNT_DISABLED);
    provision(&host, &config(), Change::update(user)).unwrap();
    assert_eq!(
        host.requests()[0].json()["Operations"],
        json!([
            {"op": "replace", "path": "userName", "value": "ann.lee@example.com"},
            {"op": "replace", "path": "active", "value": false}
        ])
    );
}

#[test]
fn an_update_naming_no_change_brings_every_mapped_attribute_in_line() {
    let host = MockHost::new();
    host.on(Method::Patch, "/scim/v2/Users/r-1", mock::status(404));
    let result = provision(
        &host,
        &config(),
        Change::update(ann().with_remote_id("r-1")),
    );
    assert_eq!(case(&result), "not-found", "404 on update is not-found");
    let operations = host.requests()[0].json()["Operations"].clone();
    let paths: Vec<&str> = operations
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "userName",
            "name.givenName",
            "name.familyName",
            "emails[type eq \"work\"].value",
            "active"
        ]
    );
    assert!(operations
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["op"] == "replace"));
}

#[test]
fn put_mode_replaces_the_whole_user_and_no_remote_id_is_not_found() {
    let host = MockHost::new();
    host.on(
        Method::Put,
        "/scim/v2/Users/r%2F1",
        mock::json(200, &json!({"id": "r/1"})),
    );
    let config = config().with_text("update-method", "put");
    let outcome = provision(&host, &config, Change::update(ann().with_remote_id("r/1"))).unwrap();
    assert_eq!(outcome.remote_id.as_deref(), Some("r/1"));
    let body = host.requests()[0].json();
    assert_eq!(body["id"], "r/1");
    assert_eq!(body["userName"], "ann@example.com");
    assert_eq!(body["name"]["givenName"], "Ann");
    let result = provision(&host, &config, Change::update(ann()));
    assert_eq!(case(&result), "not-found");
    assert_eq!(
        host.requests().len(),
        1,
        "nothing is sent without a remote id"
    );
}

#[test]
fn delete_deactivates_by_default_and_keeps_the_mapping() {
    let host = MockHost::new();
    host.on(
        Method::Patch,
        "/scim/v2/Users/r-1",
        mock::json(200, &json!({"id": "r-1"})),
    );
    host.on(Method::Patch, "/scim/v2/Users/gone", mock::status(404));
    let user = User::new("local-1", "ann@example.com").with_remote_id("r-1");
    let outcome = provision(&host, &config(), Change::delete(user)).unwrap();
    assert_eq!(outcome.remote_id.as_deref(), Some("r-1"));
    assert_eq!(
        host.requests()[0].json()["Operations"],
        json!([{"op": "replace", "path": "active", "value": false}])
    );
    let gone = User::new("local-2", "bob").with_remote_id("gone");
    assert_eq!(
        provision(&host, &config(), Change::delete(gone))
            .unwrap()
            .remote_id,
        None
    );
    let never = User::new("local-3", "carol");
    assert_eq!(
        provision(&host, &config(), Change::delete(never))
            .unwrap()
            .remote_id,
        None
    );
    assert_eq!(host.requests().len(), 2);
}

#[test]
fn delete_mode_delete_sends_delete_and_a_404_is_success() {
    let host = MockHost::new();
    host.on(Method::Delete, "/scim/v2/Users/r-1", mock::status(204));
    host.on(Method::Delete, "/scim/v2/Users/r-2", mock::status(404));
    host.on(Method::Delete, "/scim/v2/Users/r-3", mock::status(500));
    let config = config().with_text("delete-mode", "delete");
    let user = |id: &str| Change::delete(User::new("l", "u").with_remote_id(id));
    assert_eq!(
        provision(&host, &config, user("r-1")).unwrap().remote_id,
        None
    );
    assert_eq!(
        provision(&host, &config, user("r-2")).unwrap().remote_id,
        None
    );
    match provision(&host, &config, user("r-3")) {
        Err(ProvisionError::Transient(t)) => assert!(t.outcome_unknown),
        other => panic!("expected transient, got {other:?}"),
    }
    assert!(host.requests().iter().all(|r| r.method == Method::Delete));
}

#[test]
fn basic_and_no_authentication_shape_the_credential() {
    let host = MockHost::new();
    host.on(
        Method::Post,
        "/scim/v2/Users",
        mock::json(201, &json!({"id": 5})),
    );
    let basic = config()
        .with_text("auth", "basic")
        .with_text("basic-username", "provisioner")
        .with_secret("basic-password");
    let created = provision(&host, &basic, Change::create(ann())).unwrap();
    assert_eq!(
        created.remote_id.as_deref(),
        Some("5"),
        "numeric ids become text"
    );
    let none = config().with_text("auth", "none");
    provision(&host, &none, Change::create(ann())).unwrap();
    let requests = host.requests();
    assert_eq!(
        requests[0].credential.as_deref(),
        Some("basic:provisioner:basic-password")
    );
    assert_eq!(requests[1].credential, None);
}

#[test]
fn transport_failures_on_writes_leave_the_outcome_unknown() {
    let host = MockHost::new();
    host.push_error(HttpError::Timeout);
    host.push_error(HttpError::ConnectionFailed(ConnectionFailure {
        message: "connection reset".into(),
        sent: true,
    }));
    for _ in 0..2 {
        match provision(&host, &config(), Change::create(ann())) {
            Err(ProvisionError::Transient(t)) => assert!(t.outcome_unknown),
            other => panic!("expected transient, got {other:?}"),
        }
    }
}
