//! `provision-batch`: creates and PATCHes through sObject Collections, one result per change in
//! order, each as the change alone would have been answered.

mod common;

use common::*;
use salesforce_connector::*;
use serde_json::{json, Value};

const ID2: &str = "005xx0000067890AAA";

fn integer(key: &str, value: i64) -> ConfigEntry {
    ConfigEntry {
        key: key.into(),
        value: ConfigValue::Integer(value),
    }
}

/// A 200 collection answer.
fn results(items: Value) -> Result<Response, HttpError> {
    resp(200, &items.to_string())
}

fn ok(id: &str) -> Value {
    json!({"id": id, "success": true, "errors": []})
}

fn failed(code: &str, message: &str, fields: &[&str]) -> Value {
    json!({"success": false, "errors": [{"statusCode": code, "message": message, "fields": fields}]})
}

fn bob() -> Local {
    user(
        Operation::Create,
        "bob@example.com",
        &[
            ("givenname", "Bob"),
            ("lastname", "Brown"),
            ("emailaddress", "bob@example.com"),
        ],
    )
}

fn lastname_update(id: &str) -> Local {
    let mut update = alice(Operation::Update);
    update.remote_id = Some(id.into());
    update.claims[1].values = vec!["Jones".into()];
    update.changed_claims = vec![format!("{WSO2}lastname")];
    update
}

fn delete(id: &str) -> Local {
    let mut delete = alice(Operation::Delete);
    delete.remote_id = Some(id.into());
    delete
}

/// A single request's 400 DUPLICATE_USERNAME.
fn duplicate_username() -> Result<Response, HttpError> {
    sf_error(
        400,
        "DUPLICATE_USERNAME",
        "Duplicate Username.",
        &["Username"],
    )
}

/// Asserts every result is transient with its outcome unknown.
fn assert_all_unknown(got: &[Result<ProvisionOutcome, ProvisionError>]) {
    for r in got {
        match r.as_ref().unwrap_err() {
            ProvisionError::Transient(t) => assert!(t.outcome_unknown),
            other => panic!("expected transient, got {other:?}"),
        }
    }
}

/// The error a change alone gets when its single request is answered with `answer`.
fn single_error(change: &Local, answer: Result<Response, HttpError>) -> ProvisionError {
    let host = FakeHost::new(vec![answer]);
    provision(&host, &c0(), &change.change()).unwrap_err()
}

/// The body a change alone sends.
fn single_body(change: &Local) -> Value {
    let host = FakeHost::new(vec![created(ID)]);
    let _ = provision(&host, &c0(), &change.change());
    host.json(0)
}

#[test]
fn creates_and_patches_go_in_one_collection_request_each_with_results_in_order() {
    let mut group = user(Operation::Create, "Engineering", &[]);
    group.kind = EntityKind::Group;
    let mut unchanged = alice(Operation::Update);
    unchanged.remote_id = Some(ID.into());
    let locals = [
        alice(Operation::Create),
        bob(),
        group,
        lastname_update(ID),
        unchanged,
        delete(ID2),
    ];
    let changes = locals.clone().map(|c| c.change());
    let host = FakeHost::new(vec![
        results(json!([
            ok(ID),
            failed("DUPLICATE_USERNAME", "Duplicate Username.", &["Username"])
        ])),
        results(json!([ok(ID), ok(ID2)])),
    ]);
    let got = provision_batch(&host, &c0(), &changes);
    assert_eq!(got.len(), changes.len());
    assert_eq!(got[0].as_ref().unwrap().remote_id.as_deref(), Some(ID));
    assert_eq!(case(got[1].as_ref().unwrap_err()), "invalid-data");
    assert_eq!(case(got[2].as_ref().unwrap_err()), "unsupported");
    assert_eq!(got[3].as_ref().unwrap().remote_id.as_deref(), Some(ID));
    assert_eq!(got[4].as_ref().unwrap().remote_id.as_deref(), Some(ID));
    // A renamed deactivation lets the mapping go, as on the single path.
    assert_eq!(got[5].as_ref().unwrap().remote_id, None);

    let sent = host.sent();
    assert_eq!(sent.len(), 2, "one POST and one PATCH");
    assert_eq!(sent[0].method, Method::Post);
    assert_eq!(
        sent[0].url,
        format!("{DOMAIN}/services/data/v45.0/composite/sobjects")
    );
    assert_eq!(sent[1].method, Method::Patch);
    assert_eq!(sent[1].url, sent[0].url);
    let creates = host.json(0);
    assert_eq!(creates["allOrNone"], false);
    let records = creates["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    for (record, local) in records.iter().zip([alice(Operation::Create), bob()]) {
        let mut record = record.clone();
        assert_eq!(record["attributes"], json!({"type": "User"}));
        record.as_object_mut().unwrap().remove("attributes");
        assert_eq!(record, single_body(&local), "the single request's fields");
    }
    let patches = host.json(1);
    let records = patches["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(
        records[0],
        json!({"attributes": {"type": "User"}, "id": ID, "LastName": "Jones"})
    );
    assert_eq!(records[1]["id"], ID2);
    assert_eq!(records[1]["IsActive"], false);
    assert!(records[1]["Username"]
        .as_str()
        .unwrap()
        .starts_with("deactivated."));

    // The duplicate is the error the single request would have given.
    let single = single_error(&bob(), duplicate_username());
    assert_eq!(
        format!("{:?}", got[1].as_ref().unwrap_err()),
        format!("{single:?}")
    );
}

#[test]
fn per_record_errors_map_as_their_single_requests_do() {
    let changes = [
        lastname_update(ID),
        lastname_update(ID2),
        lastname_update("005xx0000011111AAA"),
    ]
    .map(|c| c.change());
    let host = FakeHost::new(vec![results(json!([
        {"id": ID, "success": false, "errors": [{"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid cross reference id", "fields": []}]},
        {"id": ID2, "success": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access to this record", "fields": []}]},
        {"id": "005xx0000011111AAA", "success": false, "errors": [{"statusCode": "STRING_TOO_LONG", "message": "Last Name: data value too large", "fields": ["LastName"]}]},
    ]))]);
    let got = provision_batch(&host, &c0(), &changes);
    let single = [
        sf_error(
            404,
            "INVALID_CROSS_REFERENCE_KEY",
            "invalid cross reference id",
            &[],
        ),
        sf_error(
            400,
            "UNABLE_TO_LOCK_ROW",
            "unable to obtain exclusive access to this record",
            &[],
        ),
        sf_error(
            400,
            "STRING_TOO_LONG",
            "Last Name: data value too large",
            &["LastName"],
        ),
    ];
    let cases: Vec<&str> = got.iter().map(|r| case(r.as_ref().unwrap_err())).collect();
    assert_eq!(cases, ["not-found", "transient", "invalid-data"]);
    for (i, answer) in single.into_iter().enumerate() {
        let alone = single_error(&lastname_update(ID), answer);
        assert_eq!(
            format!("{:?}", got[i].as_ref().unwrap_err()),
            format!("{alone:?}"),
            "change {i}"
        );
    }
}

#[test]
fn a_whole_request_failure_fails_every_change_it_carried() {
    let changes = [alice(Operation::Create), bob()].map(|c| c.change());

    // 401 twice: re-authenticated once, then auth-failed for both.
    let host = FakeHost::new(vec![
        sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid", &[]),
        sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid", &[]),
    ]);
    let got = provision_batch(&host, &c0(), &changes);
    assert_eq!(host.sent().len(), 2);
    assert_eq!(host.invalidated.borrow().len(), 1);
    for r in &got {
        assert_eq!(case(r.as_ref().unwrap_err()), "auth-failed");
    }

    // A 500 on a write: each create's outcome is unknown.
    let host = FakeHost::new(vec![sf_error(
        500,
        "UNKNOWN_EXCEPTION",
        "An unexpected error occurred.",
        &[],
    )]);
    let got = provision_batch(&host, &c0(), &changes);
    assert_all_unknown(&got);

    // A timeout: the same.
    let host = FakeHost::new(vec![Err(HttpError::Timeout)]);
    let got = provision_batch(&host, &c0(), &changes);
    assert_all_unknown(&got);

    // The daily limit: quota-exhausted for each.
    let host = FakeHost::new(vec![sf_error(
        403,
        "REQUEST_LIMIT_EXCEEDED",
        "TotalRequests Limit exceeded.",
        &[],
    )]);
    let got = provision_batch(&host, &c0(), &changes);
    for r in &got {
        assert_eq!(case(r.as_ref().unwrap_err()), "quota-exhausted");
    }
}

#[test]
fn a_collection_answer_of_the_wrong_length_leaves_creates_unknown() {
    let changes = [alice(Operation::Create), bob()].map(|c| c.change());
    let host = FakeHost::new(vec![results(json!([ok(ID)]))]);
    let got = provision_batch(&host, &c0(), &changes);
    assert_all_unknown(&got);
}

#[test]
fn no_request_carries_more_than_the_batch_size() {
    let many: Vec<Change> = (0..250)
        .map(|i| {
            let mut u = bob();
            u.name = format!("user{i}@example.com");
            u.change()
        })
        .collect();
    let answers = |n: usize| results(Value::Array((0..n).map(|_| ok(ID)).collect()));
    let host = FakeHost::new(vec![answers(200), answers(50)]);
    let got = provision_batch(&host, &c0(), &many);
    assert_eq!(got.len(), 250);
    assert!(got.iter().all(Result::is_ok));
    assert_eq!(host.sent().len(), 2);
    assert_eq!(host.json(0)["records"].as_array().unwrap().len(), 200);
    assert_eq!(host.json(1)["records"].as_array().unwrap().len(), 50);
    assert_eq!(
        host.json(1)["records"][49]["Username"],
        "user249@example.com"
    );

    let config = with(c0(), integer("sf-batch-size", 100));
    let host = FakeHost::new(vec![answers(100), answers(100), answers(50)]);
    let got = provision_batch(&host, &config, &many);
    assert!(got.iter().all(Result::is_ok));
    assert_eq!(host.sent().len(), 3);
}

#[test]
fn a_record_is_never_named_twice_in_one_request() {
    let changes = [lastname_update(ID), delete(ID)].map(|c| c.change());
    let host = FakeHost::new(vec![results(json!([ok(ID)])), results(json!([ok(ID)]))]);
    let got = provision_batch(&host, &c0(), &changes);
    assert!(got.iter().all(Result::is_ok));
    assert_eq!(host.sent().len(), 2, "the second write waits for the first");
    assert_eq!(host.json(0)["records"][0]["LastName"], "Jones");
    assert_eq!(host.json(1)["records"][0]["IsActive"], false);
}

#[test]
fn a_refused_rename_deactivates_alone_and_keeps_the_mapping() {
    let changes = [delete(ID)].map(|c| c.change());
    let host = FakeHost::new(vec![
        results(
            json!([{"id": ID, "success": false, "errors": [{"statusCode": "DUPLICATE_USERNAME", "message": "Duplicate Username.", "fields": ["Username"]}]}]),
        ),
        no_content(),
    ]);
    let got = provision_batch(&host, &c0(), &changes);
    let outcome = got[0].as_ref().unwrap();
    assert_eq!(outcome.remote_id.as_deref(), Some(ID));
    assert_eq!(outcome.warnings.len(), 1);
    assert_eq!(host.sent().len(), 2);
    assert_eq!(
        host.sent()[1].url,
        format!("{DOMAIN}/services/data/v45.0/sobjects/User/{ID}")
    );
    assert_eq!(host.text(1), r#"{"IsActive":false}"#);
}

#[test]
fn batch_size_one_or_an_old_api_version_sends_each_change_alone() {
    let locals = [alice(Operation::Create), bob(), lastname_update(ID)];
    let changes = locals.clone().map(|c| c.change());
    for config in [
        with(c0(), integer("sf-batch-size", 1)),
        with(
            c0(),
            ConfigEntry {
                key: "sf-api-version".into(),
                value: ConfigValue::Text("v41.0".into()),
            },
        ),
    ] {
        let host = FakeHost::new(vec![created(ID), duplicate_username(), no_content()]);
        let got = provision_batch(&host, &config, &changes);
        assert_eq!(got[0].as_ref().unwrap().remote_id.as_deref(), Some(ID));
        assert_eq!(case(got[1].as_ref().unwrap_err()), "invalid-data");
        assert!(got[2].is_ok());
        let sent = host.sent();
        assert_eq!(sent.len(), 3);
        assert!(sent.iter().all(|r| r.url.contains("/sobjects/User/")));
        assert_eq!(host.text(2), r#"{"LastName":"Jones"}"#);
    }
}

#[test]
fn an_out_of_range_batch_size_is_a_configuration_problem() {
    for n in [0, 201, -1] {
        let problems = validate(&with(c0(), integer("sf-batch-size", n)));
        assert!(
            problems
                .iter()
                .any(|p| p.key.as_deref() == Some("sf-batch-size")),
            "{n}: {problems:?}"
        );
    }
    assert!(validate(&with(c0(), integer("sf-batch-size", 200)))
        .iter()
        .all(|p| p.key.as_deref() != Some("sf-batch-size")));
    assert_eq!(metadata().max_batch_size, 200);
}

#[test]
fn an_empty_batch_sends_nothing() {
    let host = FakeHost::new(vec![]);
    assert!(provision_batch(&host, &c0(), &[]).is_empty());
    assert!(host.sent().is_empty());
}

#[test]
fn a_bad_configuration_fails_every_change_of_a_batch() {
    let config = without(c0(), "sf-domain-name");
    let changes = [alice(Operation::Create), alice(Operation::Update)].map(|c| c.change());
    let host = FakeHost::new(vec![]);
    let results = provision_batch(&host, &config, &changes);
    assert_eq!(results.len(), 2);
    for result in &results {
        let err = result.as_ref().unwrap_err();
        assert_eq!(case(err), "permanent");
        assert!(detail(err).message.contains("sf-domain-name"));
    }
    assert!(host.sent().is_empty());
}
