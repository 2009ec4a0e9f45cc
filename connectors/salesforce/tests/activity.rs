//! Deactivation through the host's well-known account-disabled claim: `IsActive` follows it on
//! create and update, without a rename, and a delete that does not rename keeps the mapping.

mod common;

use common::*;
use salesforce_connector::*;
use serde_json::json;

const DISABLED: &str = "http://wso2.org/claims/accountDisabled";

/// Alice with the account-disabled claim set to `disabled`.
fn alice_disabled(operation: Operation, disabled: &str) -> Local {
    let mut entity = alice(operation);
    entity.claims.push(Claim {
        uri: DISABLED.into(),
        values: vec![disabled.into()],
    });
    entity
}

#[test]
fn disabling_patches_is_active_false_alone_and_keeps_the_id() {
    let mut entity = alice_disabled(Operation::Update, "true");
    entity.remote_id = Some(ID.into());
    entity.changed_claims = vec![DISABLED.into()];
    let host = FakeHost::new(vec![no_content()]);
    let out = provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(out.remote_id.as_deref(), Some(ID));
    let sent = host.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, Method::Patch);
    assert!(sent[0].url.ends_with(&format!("/sobjects/User/{ID}")));
    assert_eq!(
        host.text(0),
        r#"{"IsActive":false}"#,
        "no Username: no rename"
    );
}

#[test]
fn enabling_patches_is_active_true_in_any_case_of_the_value() {
    let mut entity = alice_disabled(Operation::Update, "False");
    entity.remote_id = Some(ID.into());
    entity.changed_claims = vec![DISABLED.into()];
    let host = FakeHost::new(vec![no_content()]);
    provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(host.text(0), r#"{"IsActive":true}"#);
}

#[test]
fn an_unchanged_claim_sends_no_is_active() {
    let mut entity = alice_disabled(Operation::Update, "true");
    entity.remote_id = Some(ID.into());
    entity.claims[1].values = vec!["Jones".into()];
    entity.changed_claims = vec![format!("{WSO2}lastname")];
    let host = FakeHost::new(vec![no_content()]);
    provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(host.text(0), r#"{"LastName":"Jones"}"#);
}

#[test]
fn a_user_created_disabled_is_posted_inactive_and_an_enabled_one_as_before() {
    let host = FakeHost::new(vec![created(ID)]);
    provision(
        &host,
        &c0(),
        &alice_disabled(Operation::Create, "true").change(),
    )
    .unwrap();
    let body = host.json(0);
    assert_eq!(body["IsActive"], json!(false));
    assert_eq!(body["Username"], json!("alice@example.com"));

    let host = FakeHost::new(vec![created(ID)]);
    provision(
        &host,
        &c0(),
        &alice_disabled(Operation::Create, "false").change(),
    )
    .unwrap();
    assert!(
        host.json(0).get("IsActive").is_none(),
        "Salesforce creates users active by default"
    );
}

#[test]
fn a_create_over_a_kept_record_follows_the_claim() {
    for (disabled, active) in [("true", false), ("false", true)] {
        let mut entity = alice_disabled(Operation::Create, disabled);
        entity.remote_id = Some(ID.into());
        let host = FakeHost::new(vec![no_content()]);
        provision(&host, &c0(), &entity.change()).unwrap();
        assert_eq!(host.sent()[0].method, Method::Patch);
        assert_eq!(
            host.json(0)["IsActive"],
            json!(active),
            "disabled {disabled}"
        );
    }
}

#[test]
fn a_delete_without_rename_keeps_the_mapping_and_with_rename_releases_it() {
    let mut entity = user(Operation::Delete, "bob@example.com", &[]);
    entity.remote_id = Some(ID.into());
    let host = FakeHost::new(vec![no_content()]);
    let config = with(c0(), boolean("sf-rename-on-delete", false));
    let out = provision(&host, &config, &entity.change()).unwrap();
    assert_eq!(host.text(0), r#"{"IsActive":false}"#);
    assert_eq!(
        out.remote_id.as_deref(),
        Some(ID),
        "the record still holds its Username"
    );

    let host = FakeHost::new(vec![no_content()]);
    let out = provision(&host, &c0(), &entity.change()).unwrap();
    assert!(host.json(0).get("Username").is_some());
    assert_eq!(out.remote_id, None);
}

#[test]
fn with_rename_on_deactivate_a_disabled_user_is_renamed_and_restored() {
    let config = with(c0(), boolean("sf-rename-on-deactivate", true));
    let mut entity = alice_disabled(Operation::Update, "true");
    entity.remote_id = Some(ID.into());
    entity.changed_claims = vec![DISABLED.into()];
    let host = FakeHost::new(vec![no_content()]);
    provision(&host, &config, &entity.change()).unwrap();
    let body = host.json(0);
    assert_eq!(body["IsActive"], json!(false));
    let renamed = body["Username"].as_str().unwrap();
    assert!(renamed.starts_with("deactivated."), "{renamed}");

    // A rename of the local user while disabled keeps the deactivated form.
    entity.changed_claims = vec!["http://wso2.org/claims/username".into()];
    let host = FakeHost::new(vec![no_content()]);
    provision(&host, &config, &entity.change()).unwrap();
    assert_eq!(host.json(0)["Username"], json!(renamed));

    let mut entity = alice_disabled(Operation::Update, "false");
    entity.remote_id = Some(ID.into());
    entity.changed_claims = vec![DISABLED.into()];
    let host = FakeHost::new(vec![no_content()]);
    provision(&host, &config, &entity.change()).unwrap();
    assert_eq!(
        host.json(0),
        json!({"IsActive": true, "Username": "alice@example.com"})
    );
}
