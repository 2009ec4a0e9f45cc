//! `max-batch-size` and `list-entities`: users read by a SOQL query ordered by Id and paged by
//! `nextRecordsUrl`, with the mapped fields as text.

mod common;

use common::*;
use provisioner_sdk::mock::{self, MockHost};
use salesforce_connector::*;
use serde_json::json;

/// The query of the first page for the C0 mappings.
const FIRST_PAGE_SOQL: &str = "SELECT Id, Username, IsActive, Alias, Email, EmailEncodingKey, \
    LanguageLocaleKey, LastName, LocaleSidKey, ProfileId, TimeZoneSidKey, \
    UserPermissionsCallCenterAutoLogin, UserPermissionsMarketingUser, UserPermissionsOfflineUser \
    FROM User ORDER BY Id";

fn users(cursor: Option<&str>, page_size: u32) -> ListRequest {
    ListRequest {
        kind: EntityKind::User,
        cursor: cursor.map(Into::into),
        page_size,
    }
}

fn record(id: &str, username: &str, active: bool, last_name: Option<&str>) -> serde_json::Value {
    json!({
        "attributes": {"type": "User", "url": format!("/services/data/v45.0/sobjects/User/{id}")},
        "Id": id, "Username": username, "IsActive": active, "LastName": last_name,
        "UserPermissionsMarketingUser": false, "ProfileId": "00e5g000001AbCdAAA"
    })
}

#[test]
fn batches_hold_up_to_one_collection_request() {
    assert_eq!(metadata().max_batch_size, 200);
}

#[test]
fn the_first_page_queries_every_user_by_id_with_the_mapped_fields() {
    let host = MockHost::new();
    let next = "/services/data/v45.0/query/01gxx0000000001AAA-200";
    host.push(mock::json(
        200,
        &json!({
            "totalSize": 201, "done": false, "nextRecordsUrl": next,
            "records": [
                record("005xx0000000001AAA", "a@acme.com", true, Some("Ant")),
                record("005xx0000000002AAA", "b@acme.com", false, None),
            ]
        }),
    ));
    let page = list_entities(&host, &c0(), &users(None, 50)).unwrap();

    let sent = host.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, Method::Get);
    let soql = sent[0]
        .path
        .strip_prefix("/services/data/v45.0/query?q=")
        .unwrap();
    assert_eq!(decode(soql), FIRST_PAGE_SOQL);
    assert_eq!(
        sent[0].header("Sforce-Query-Options"),
        Some("batchSize=200"),
        "Salesforce's smallest batch is 200"
    );
    assert_eq!(
        sent[0].credential.as_deref(),
        Some("oauth-password:integ@acme.com:sf-password")
    );

    assert_eq!(page.next_cursor.as_deref(), Some(next));
    assert_eq!(page.objects.len(), 2);
    let first = &page.objects[0];
    assert_eq!(first.remote_id, "005xx0000000001AAA");
    assert_eq!(first.active, Some(true));
    let attribute = |o: &RemoteObject, name: &str| {
        o.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(attribute(first, "Username").as_deref(), Some("a@acme.com"));
    assert_eq!(attribute(first, "LastName").as_deref(), Some("Ant"));
    assert_eq!(
        attribute(first, "UserPermissionsMarketingUser").as_deref(),
        Some("false"),
        "booleans as text"
    );
    assert_eq!(
        attribute(first, "IsActive"),
        None,
        "the active state is its own field"
    );
    let second = &page.objects[1];
    assert_eq!(second.active, Some(false), "inactive users are listed");
    assert_eq!(attribute(second, "LastName"), None, "nulls are left out");
}

#[test]
fn the_cursor_is_followed_and_the_last_page_has_none() {
    let host = MockHost::new();
    let cursor = "/services/data/v45.0/query/01gxx0000000001AAA-2000";
    host.on(
        Method::Get,
        cursor,
        mock::json(
            200,
            &json!({
                "totalSize": 2001, "done": true,
                "records": [record("005xx0000000003AAA", "c@acme.com", true, Some("Cat"))]
            }),
        ),
    );
    let page = list_entities(&host, &c0(), &users(Some(cursor), 5_000)).unwrap();
    let sent = host.requests();
    assert_eq!(sent[0].url, format!("{DOMAIN}{cursor}"));
    assert_eq!(
        sent[0].header("Sforce-Query-Options"),
        Some("batchSize=2000"),
        "Salesforce's largest batch is 2,000"
    );
    assert_eq!(page.objects.len(), 1);
    assert_eq!(page.next_cursor, None);
}

#[test]
fn a_foreign_cursor_is_refused_without_a_request() {
    for cursor in [
        "https://evil.example/services/data/v45.0/query/x",
        "/services/data/v45.0/sobjects/User/005xx0000000001AAA",
        "/services/data/v45.0/query/../../../x",
    ] {
        let host = MockHost::new();
        let err = list_entities(&host, &c0(), &users(Some(cursor), 200)).unwrap_err();
        assert_eq!(case(&err), "invalid-data", "{cursor}");
        assert!(detail(&err).message.contains("start the listing again"));
        assert!(host.requests().is_empty());
    }
}

#[test]
fn salesforce_errors_are_typed() {
    let host = MockHost::new();
    host.push(mock::json(
        400,
        &json!([{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]),
    ));
    let cursor = "/services/data/v45.0/query/01gxx0000000001AAA-2000";
    let err = list_entities(&host, &c0(), &users(Some(cursor), 200)).unwrap_err();
    assert_eq!(
        detail(&err).target_code.as_deref(),
        Some("INVALID_QUERY_LOCATOR")
    );

    let host = MockHost::new();
    host.push(mock::json(
        200,
        &json!({"done": true, "records": [{"Username": "x"}]}),
    ));
    let err = list_entities(&host, &c0(), &users(None, 200)).unwrap_err();
    assert_eq!(case(&err), "permanent");
    assert!(detail(&err).message.contains("a record Id"));
}

#[test]
fn groups_are_not_listed() {
    let host = MockHost::new();
    let request = ListRequest {
        kind: EntityKind::Group,
        cursor: None,
        page_size: 100,
    };
    let err = list_entities(&host, &c0(), &request).unwrap_err();
    assert_eq!(case(&err), "unsupported");
    assert!(detail(&err).message.contains("users only"));
    assert!(host.requests().is_empty());
}

/// Undoes the connector's percent-encoding of the query.
fn decode(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&encoded[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
