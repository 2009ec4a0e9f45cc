//! Groups, lookups and listing against a scripted SCIM service.

mod common;

use common::{case, config, group, group_change, member, provision};
use provisioner_sdk::mock::{self, MockHost};
use provisioner_sdk::prelude::*;
use provisioner_sdk::serde_json::json;
use scim_connector::ScimConnector;

#[test]
fn a_group_is_created_with_the_members_that_have_remote_ids() {
    let host = MockHost::new();
    host.on(
        Method::Post,
        "/scim/v2/Groups",
        mock::json(201, &json!({"id": "g-1"})),
    );
    let devs = group(
        "devs",
        None,
        &[("u1", Some("r-1")), ("u2", None), ("u3", Some("r-3"))],
    );
    let outcome = provision(&host, &config(), group_change(Operation::Create, devs)).unwrap();
    assert_eq!(outcome.remote_id.as_deref(), Some("g-1"));
    assert!(
        outcome.warnings[0].contains("1 member(s) of `devs`"),
        "{:?}",
        outcome.warnings
    );
    assert_eq!(
        host.requests()[0].json(),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "devs",
            "externalId": "g1",
            "members": [{"value": "r-1"}, {"value": "r-3"}]
        })
    );
}

#[test]
fn a_group_update_without_named_changes_replaces_name_and_members_in_one_patch() {
    let host = MockHost::new();
    host.on(Method::Patch, "/scim/v2/Groups/g-1", mock::status(204));
    let devs = group(
        "developers",
        Some("g-1"),
        &[("u1", Some("r-1")), ("u2", None), ("u3", Some("r-3"))],
    );
    let outcome = provision(&host, &config(), group_change(Operation::Update, devs)).unwrap();
    assert_eq!(outcome.remote_id.as_deref(), Some("g-1"));
    assert_eq!(outcome.warnings.len(), 1, "u2 has no remote id yet");
    let emptied = group("developers", Some("g-1"), &[]);
    provision(&host, &config(), group_change(Operation::Update, emptied)).unwrap();
    let requests = host.requests();
    assert_eq!(
        requests.len(),
        2,
        "one request per update, nothing read first"
    );
    assert_eq!(
        requests[0].json()["Operations"],
        json!([
            {"op": "replace", "path": "displayName", "value": "developers"},
            {"op": "replace", "path": "members", "value": [{"value": "r-1"}, {"value": "r-3"}]}
        ])
    );
    assert_eq!(
        requests[1].json()["Operations"][1],
        json!({"op": "remove", "path": "members"}),
        "an empty group removes every member"
    );
}

#[test]
fn named_member_changes_are_patched_without_reading_the_group() {
    let host = MockHost::new();
    host.on(Method::Patch, "/scim/v2/Groups/g-1", mock::status(204));
    let mut devs = group("devs", Some("g-1"), &[("u1", Some("r-1"))]);
    devs.added_members = vec![member("u1", Some("r-1"))];
    devs.removed_members = vec![member("u9", Some("r-\"9"))];
    devs.previous_name = Some("old".into());
    provision(&host, &config(), group_change(Operation::Update, devs)).unwrap();
    let requests = host.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].json()["Operations"],
        json!([
            {"op": "replace", "path": "displayName", "value": "devs"},
            {"op": "add", "path": "members", "value": [{"value": "r-1"}]},
            {"op": "remove", "path": "members[value eq \"r-\\\"9\"]"}
        ])
    );
}

#[test]
fn group_put_delete_and_missing_groups() {
    let host = MockHost::new();
    host.on(
        Method::Put,
        "/scim/v2/Groups/g-1",
        mock::json(200, &json!({"id": "g-1"})),
    );
    host.on(Method::Delete, "/scim/v2/Groups/g-1", mock::status(204));
    host.on(Method::Delete, "/scim/v2/Groups/g-2", mock::status(404));
    host.on(Method::Patch, "/scim/v2/Groups/g-3", mock::status(404));
    let put = config().with_text("update-method", "put");
    let devs = group("devs", Some("g-1"), &[("u1", Some("r-1"))]);
    provision(&host, &put, group_change(Operation::Update, devs.clone())).unwrap();
    assert_eq!(
        host.requests()[0].json()["members"],
        json!([{"value": "r-1"}])
    );
    assert_eq!(host.requests()[0].json()["id"], "g-1");
    let deleted = provision(&host, &config(), group_change(Operation::Delete, devs)).unwrap();
    assert_eq!(deleted.remote_id, None);
    let gone = group("x", Some("g-2"), &[]);
    assert!(provision(&host, &config(), group_change(Operation::Delete, gone)).is_ok());
    let missing = group("y", Some("g-3"), &[]);
    let result = provision(&host, &config(), group_change(Operation::Update, missing));
    assert_eq!(case(&result), "not-found");
}

fn lookup(host: &MockHost, key: LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
    ScimConnector::lookup(&Context::new(host, &config()), &key)
}

#[test]
fn lookup_filters_by_user_name_escaped_and_percent_encoded() {
    let host = MockHost::new();
    host.on(
        Method::Get,
        "/scim/v2/Users?filter=userName%20eq%20%22a%5C%22b%5C%5Cc%22",
        mock::json(
            200,
            &json!({"totalResults": 1, "Resources": [
            {"id": "r-1", "userName": "a\"b\\c", "externalId": "l-1", "active": false}]}),
        ),
    );
    host.on(
        Method::Get,
        "/scim/v2/Users?filter=userName%20eq%20%22nobody%22",
        mock::json(200, &json!({"totalResults": 0, "Resources": []})),
    );
    host.on(
        Method::Get,
        "/scim/v2/Groups?filter=displayName%20eq%20%22devs%22",
        mock::json(
            200,
            &json!({"Resources": [{"id": "g-1", "displayName": "devs"}]}),
        ),
    );
    let user = |name: &str| LookupKey::Entity(Entity::User(User::new("l", name)));
    let found = lookup(&host, user("a\"b\\c")).unwrap().unwrap();
    assert_eq!(found.remote_id, "r-1");
    assert_eq!(found.active, Some(false));
    assert_eq!(
        found.attributes,
        vec![
            ("userName".to_string(), "a\"b\\c".to_string()),
            ("externalId".to_string(), "l-1".to_string())
        ]
    );
    assert_eq!(lookup(&host, user("nobody")).unwrap(), None);
    let by_group = lookup(
        &host,
        LookupKey::Entity(Entity::Group(group("devs", None, &[]))),
    );
    assert_eq!(by_group.unwrap().unwrap().remote_id, "g-1");
}

#[test]
fn lookup_by_attribute_refuses_filter_injection_and_maps_errors() {
    let host = MockHost::new();
    host.on(
        Method::Get,
        "/scim/v2/Users?filter=externalId%20eq%20%22l-1%22",
        mock::json(200, &json!({"Resources": [{"id": "r-1"}]})),
    );
    let by = |attribute: &str, value: &str| {
        LookupKey::Attribute(AttributeMatch {
            kind: EntityKind::User,
            attribute: attribute.into(),
            value: value.into(),
        })
    };
    assert_eq!(
        lookup(&host, by("externalId", "l-1"))
            .unwrap()
            .unwrap()
            .remote_id,
        "r-1"
    );
    let injected = lookup(&host, by("userName pr or userName", "x"));
    assert_eq!(case(&injected), "invalid-data");
    assert_eq!(
        host.requests().len(),
        1,
        "nothing is sent for a bad attribute"
    );

    let failing = MockHost::new();
    failing.push(mock::status(401)).push(mock::status(503));
    assert_eq!(case(&lookup(&failing, by("userName", "a"))), "auth-failed");
    match lookup(&failing, by("userName", "a")) {
        Err(ProvisionError::Transient(t)) => assert!(!t.outcome_unknown, "a GET applies nothing"),
        other => panic!("expected transient, got {other:?}"),
    }
}

#[test]
fn listing_pages_by_start_index_until_total_results() {
    let host = MockHost::new();
    let page = |ids: &[&str], start: u64| {
        let resources: Vec<_> = ids
            .iter()
            .map(|id| json!({"id": id, "userName": id, "active": true}))
            .collect();
        mock::json(
            200,
            &json!({"totalResults": 3, "startIndex": start, "Resources": resources}),
        )
    };
    host.on(
        Method::Get,
        "/scim/v2/Users?startIndex=1&count=2",
        page(&["a", "b"], 1),
    );
    host.on(
        Method::Get,
        "/scim/v2/Users?startIndex=3&count=2",
        page(&["c"], 3),
    );
    let list = |cursor: Option<&str>| {
        let request = ListRequest {
            kind: EntityKind::User,
            cursor: cursor.map(str::to_string),
            page_size: 2,
        };
        ScimConnector::list_entities(&Context::new(&host, &config()), &request)
    };
    let first = list(None).unwrap();
    let ids: Vec<&str> = first.objects.iter().map(|o| o.remote_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    assert_eq!(first.next_cursor.as_deref(), Some("3"));
    let last = list(first.next_cursor.as_deref()).unwrap();
    assert_eq!(last.objects.len(), 1);
    assert_eq!(last.objects[0].active, Some(true));
    assert_eq!(last.next_cursor, None);
    let bad = list(Some("page-two"));
    assert_eq!(case(&bad), "permanent");
    assert!(bad
        .unwrap_err()
        .detail()
        .message
        .contains("not a SCIM startIndex"));
}
