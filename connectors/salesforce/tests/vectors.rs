//! The WSO2 test vectors (reference `wso2-outbound-provisioning.md` section f), adapted to the
//! contract: the host performs the token exchange (TOK), so these check the grant it is given.

mod common;

use common::*;
use salesforce_connector::*;
use serde_json::json;

fn create_url() -> String {
    format!("{DOMAIN}/services/data/v45.0/sobjects/User/")
}

fn record_url() -> String {
    format!("{DOMAIN}/services/data/v45.0/sobjects/User/{ID}")
}

fn alice_body() -> serde_json::Value {
    json!({
        "Alias": "Alice",
        "Email": "alice@example.com",
        "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US",
        "LastName": "Smith",
        "LocaleSidKey": "en_US",
        "ProfileId": "00e5g000001AbCd",
        "TimeZoneSidKey": "America/Los_Angeles",
        "UserPermissionsCallCenterAutoLogin": false,
        "UserPermissionsMarketingUser": false,
        "UserPermissionsOfflineUser": false,
        "Username": "alice@example.com"
    })
}

/// The C0 password grant (TOK): client id, secret and user, with secrets by reference.
fn c0_grant() -> OauthGrant {
    OauthGrant::Password(PasswordGrant {
        token_url: "https://login.salesforce.com/services/oauth2/token".into(),
        client_id: "CID".into(),
        client_secret: SecretRef {
            key: "sf-client-secret".into(),
        },
        username: "integ@acme.com".into(),
        password: SecretRef {
            key: "sf-password".into(),
        },
    })
}

/// Creates `entity` under `config` and returns the body sent.
fn created_body(config: &ConnectorConfig, entity: &Local) -> serde_json::Value {
    let host = FakeHost::new(vec![created(ID)]);
    provision(&host, config, &entity.change()).unwrap();
    host.json(0)
}

#[test]
fn v01_create_posts_every_field_and_stores_the_id() {
    let host = FakeHost::new(vec![created(ID)]);
    let out = provision(&host, &c0(), &alice(Operation::Create).change()).unwrap();
    assert_eq!(out.remote_id.as_deref(), Some(ID));
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    let sent = host.sent();
    assert_eq!(sent.len(), 1);
    let r = &sent[0];
    assert_eq!(r.method, Method::Post);
    assert_eq!(r.url, create_url());
    assert_eq!(host.json(0), alice_body());
    assert_eq!(r.credential, Some(Credential::Oauth(c0_grant())));
    assert!(r.headers.contains(&(
        "Content-Type".into(),
        "application/json; charset=UTF-8".into()
    )));
    assert!(r
        .headers
        .contains(&("Accept".into(), "application/json".into())));
    assert_eq!(r.timeout_ms, None);
}

#[test]
fn v02_pattern_overrides_the_username_mapping_and_lowercases() {
    let entity = user(
        Operation::Create,
        "Alice@Example.COM",
        &[
            ("givenname", "Alice"),
            ("lastname", "Smith"),
            ("emailaddress", "alice.work@corp.com"),
        ],
    );
    let body = created_body(&c0(), &entity);
    assert_eq!(body["Username"], "alice@example.com");
    assert_eq!(body["Email"], "alice.work@corp.com");
}

#[test]
fn v03_provisioning_domain() {
    let config = with(c0(), text("sf-prov-domainName", "corp.example.com"));
    for (name, expected) in [
        ("alice@example.com", "alice.example.com@corp.example.com"),
        ("bob", "bob@corp.example.com"),
        ("carol@corp.example.com", "carol@corp.example.com"),
    ] {
        let mut entity = alice(Operation::Create);
        entity.name = name.into();
        assert_eq!(
            created_body(&config, &entity)["Username"],
            expected,
            "{name}"
        );
    }
}

#[test]
fn v04_pattern_tokens_separator_and_domain() {
    let config = with(
        with(
            with(c0(), text("sf-prov-pattern", "{UD, UN, TD, IDP}")),
            text("sf-prov-separator", "-"),
        ),
        text("sf-prov-domainName", "abc.com"),
    );
    let mut entity = alice(Operation::Create);
    entity.name = "alex".into();
    assert_eq!(
        created_body(&config, &entity)["Username"],
        "primary-alex-carbon.super-salesforce@abc.com"
    );

    // A target name with a space makes a non-email: refused before anything is sent.
    let mut spaced = config.clone();
    spaced.target = "Salesforce Provisioning".into();
    let host = FakeHost::new(vec![]);
    let err = provision(&host, &spaced, &entity.change()).unwrap_err();
    assert_eq!(case(&err), "invalid-data");
    assert_eq!(detail(&err).fields, vec!["Username".to_string()]);
    assert!(host.sent().is_empty());

    // Separator `.`: removed literally from UD/TD/IDP (WSO2's regex blanked them to `alex..`).
    let dotted = with(config.clone(), text("sf-prov-separator", "."));
    assert_eq!(
        created_body(&dotted, &entity)["Username"],
        "primary.alex.carbonsuper.salesforce@abc.com"
    );

    // A pattern without braces is a configuration error.
    let bare = with(config, text("sf-prov-pattern", "UN"));
    assert!(validate(&bare)
        .iter()
        .any(|p| p.key.as_deref() == Some("sf-prov-pattern")));
    let host = FakeHost::new(vec![]);
    let err = provision(&host, &bare, &entity.change()).unwrap_err();
    assert_eq!(case(&err), "permanent");
    assert!(detail(&err).message.contains("sf-prov-pattern"));
    assert!(host.sent().is_empty());
}

#[test]
fn v05_boolean_fields_do_not_borrow_non_boolean_claims() {
    let mut entity = alice(Operation::Create);
    for (k, v) in [("mobile", "+94771234567"), ("dob", "1990-01-01")] {
        entity.claims.push(Claim {
            uri: format!("{WSO2}{k}"),
            values: vec![v.into()],
        });
    }
    // C0 as WSO2 documents it: the boolean field keeps its default, with a warning; `dob`
    // is text and goes to LanguageLocaleKey as configured (Salesforce judges the picklist).
    let host = FakeHost::new(vec![created(ID)]);
    let out = provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(host.json(0)["UserPermissionsMarketingUser"], false);
    assert_eq!(host.json(0)["LanguageLocaleKey"], "1990-01-01");
    assert_eq!(out.warnings.len(), 1);

    // With constants (no claim), nothing is borrowed and nothing is warned about.
    let mut mappings = fixture_mappings("c0-claim-mappings.json");
    for m in mappings.iter_mut() {
        if m.target_field == "LanguageLocaleKey" || m.target_field.starts_with("UserPermissions") {
            m.claim = None;
        }
    }
    let host = FakeHost::new(vec![created(ID)]);
    let out = provision(&host, &with_mappings(c0(), mappings), &entity.change()).unwrap();
    assert_eq!(host.json(0), alice_body());
    assert!(out.warnings.is_empty());
}

#[test]
fn v06_alias_is_truncated_or_refused() {
    let mut entity = alice(Operation::Create);
    entity.claims[0].values = vec!["Alexandria".into()];
    let host = FakeHost::new(vec![created(ID)]);
    let out = provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(host.json(0)["Alias"], "Alexandr");
    assert_eq!(out.warnings.len(), 1);

    let strict = with(c0(), text("sf-alias-overflow", "error"));
    let host = FakeHost::new(vec![]);
    let err = provision(&host, &strict, &entity.change()).unwrap_err();
    assert_eq!(case(&err), "invalid-data");
    assert_eq!(detail(&err).fields, vec!["Alias".to_string()]);
    assert!(host.sent().is_empty());
}

#[test]
fn v07_duplicate_username_is_invalid_data_without_an_id() {
    let host = FakeHost::new(vec![sf_error(
        400,
        "DUPLICATE_USERNAME",
        "Duplicate Username.<br>The username already exists in this or another Salesforce organization.",
        &["Username"],
    )]);
    let err = provision(&host, &c0(), &alice(Operation::Create).change()).unwrap_err();
    let ProvisionError::InvalidData(d) = err else {
        panic!("{err:?}")
    };
    assert_eq!(d.target_code.as_deref(), Some("DUPLICATE_USERNAME"));
    assert_eq!(d.fields, vec!["Username".to_string()]);
    assert_eq!(d.http_status, Some(400));
    assert!(!d.message.contains("<br>"));
}

#[test]
fn v08_partial_update_sends_only_the_changed_field() {
    let mut entity = alice(Operation::Update);
    entity.remote_id = Some(ID.into());
    entity.claims[1].values = vec!["Jones".into()];
    entity.changed_claims = vec![format!("{WSO2}lastname")];
    let host = FakeHost::new(vec![no_content()]);
    let out = provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(out.remote_id.as_deref(), Some(ID));
    let sent = host.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, Method::Patch);
    assert_eq!(sent[0].url, record_url());
    assert_eq!(host.text(0), r#"{"LastName":"Jones"}"#);
}

#[test]
fn v08b_update_renames_only_when_the_username_changes() {
    let mut entity = alice(Operation::Update);
    entity.remote_id = Some(ID.into());
    entity.name = "Alice.New@Example.com".into();
    entity.changed_claims = vec!["http://wso2.org/claims/username".into()];
    let host = FakeHost::new(vec![no_content()]);
    provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(host.json(0), json!({"Username": "alice.new@example.com"}));

    // A changed email does not touch Username, though C0 maps emailaddress to it.
    entity.changed_claims = vec![format!("{WSO2}emailaddress")];
    let host = FakeHost::new(vec![no_content()]);
    provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(host.json(0), json!({"Email": "alice@example.com"}));
}

#[test]
fn v09_update_without_an_id_is_a_create() {
    let host = FakeHost::new(vec![created(ID)]);
    let out = provision(&host, &c0(), &alice(Operation::Update).change()).unwrap();
    assert_eq!(out.remote_id.as_deref(), Some(ID));
    assert_eq!(host.sent()[0].method, Method::Post);
    assert_eq!(host.sent()[0].url, create_url());
    assert_eq!(host.json(0), alice_body());
}

#[test]
fn v10_delete_deactivates_and_renames_to_a_valid_email() {
    let mut entity = user(Operation::Delete, "alice@example.com", &[]);
    entity.remote_id = Some(ID.into());
    let host = FakeHost::new(vec![no_content()]);
    let out = provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(out.remote_id, None, "the mapping can go");
    let sent = host.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, Method::Patch);
    assert_eq!(sent[0].url, record_url());
    assert_eq!(
        host.json(0),
        json!({"IsActive": false, "Username": "deactivated.alice.005xx0000012345aaa@example.com"})
    );
    // Deterministic: a retry sends the same body.
    let again = FakeHost::new(vec![no_content()]);
    provision(&again, &c0(), &entity.change()).unwrap();
    assert_eq!(again.text(0), host.text(0));

    // No stored id: nothing to deactivate, no request.
    entity.remote_id = None;
    let host = FakeHost::new(vec![]);
    let err = provision(&host, &c0(), &entity.change()).unwrap_err();
    assert_eq!(case(&err), "not-found");
    assert!(host.sent().is_empty());

    // Never a DELETE, and without the rename only IsActive.
    entity.remote_id = Some(ID.into());
    let host = FakeHost::new(vec![no_content()]);
    provision(
        &host,
        &with(c0(), boolean("sf-rename-on-delete", false)),
        &entity.change(),
    )
    .unwrap();
    assert_eq!(host.text(0), r#"{"IsActive":false}"#);
    assert_eq!(host.sent()[0].method, Method::Patch);
}

#[test]
fn v11_delete_rename_refused_keeps_the_mapping() {
    let config = with(c0(), text("sf-prov-domainName", "corp.example.com"));
    let mut entity = user(Operation::Delete, "bob", &[]);
    entity.remote_id = Some(ID.into());
    let host = FakeHost::new(vec![
        sf_error(
            400,
            "DUPLICATE_USERNAME",
            "Duplicate Username.",
            &["Username"],
        ),
        no_content(),
    ]);
    let out = provision(&host, &config, &entity.change()).unwrap();
    assert_eq!(
        host.json(0),
        json!({"IsActive": false, "Username": "deactivated.bob.005xx0000012345aaa@corp.example.com"})
    );
    assert_eq!(host.text(1), r#"{"IsActive":false}"#);
    assert_eq!(out.remote_id.as_deref(), Some(ID), "the mapping is kept");
    assert_eq!(out.warnings.len(), 1);

    // A failure other than invalid data is not papered over.
    let host = FakeHost::new(vec![sf_error(
        503,
        "SERVER_UNAVAILABLE",
        "Server Unavailable",
        &[],
    )]);
    let err = provision(&host, &config, &entity.change()).unwrap_err();
    assert_eq!(case(&err), "transient");
    assert_eq!(host.sent().len(), 1);
}

#[test]
fn v12_client_credentials_grant_carries_exactly_the_client_id_and_secret() {
    let config = without(
        without(
            with(c0(), boolean("sf-usePasswordGrant", false)),
            "sf-username",
        ),
        "sf-password",
    );
    assert!(validate(&config).is_empty(), "{:?}", validate(&config));
    let host = FakeHost::new(vec![created(ID)]);
    provision(&host, &config, &alice(Operation::Create).change()).unwrap();
    assert_eq!(
        host.sent()[0].credential,
        Some(Credential::Oauth(OauthGrant::ClientCredentials(
            ClientCredentialsGrant {
                token_url: "https://login.salesforce.com/services/oauth2/token".into(),
                client_id: "CID".into(),
                client_secret: SecretRef {
                    key: "sf-client-secret".into()
                },
                use_basic_auth: false,
            }
        )))
    );
    // The default flow (nothing said) is client credentials too.
    let default = without(config, "sf-usePasswordGrant");
    let host = FakeHost::new(vec![created(ID)]);
    provision(&host, &default, &alice(Operation::Create).change()).unwrap();
    assert!(matches!(
        host.sent()[0].credential,
        Some(Credential::Oauth(OauthGrant::ClientCredentials(_)))
    ));
}

#[test]
fn v13_refused_token_is_auth_failed_with_the_oauth_error() {
    let refused = |status: Option<u16>| {
        Err(HttpError::TokenRefused(TokenError {
            status,
            error: "invalid_grant".into(),
            description: "authentication failure".into(),
        }))
    };
    let host = FakeHost::new(vec![refused(Some(400))]);
    let err = provision(&host, &c0(), &alice(Operation::Create).change()).unwrap_err();
    let ProvisionError::AuthFailed(d) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(d.target_code.as_deref(), Some("invalid_grant"));
    assert_eq!(d.http_status, Some(400));
    assert_eq!(host.sent().len(), 1, "no retry");
    assert!(host.invalidated.borrow().is_empty());

    // A token endpoint that is down is transient.
    for status in [None, Some(503)] {
        let host = FakeHost::new(vec![refused(status)]);
        let err = provision(&host, &c0(), &alice(Operation::Create).change()).unwrap_err();
        let ProvisionError::Transient(t) = &err else {
            panic!("{err:?}")
        };
        assert!(!t.outcome_unknown, "no data request was sent");
    }
}

#[test]
fn v14_bodies_are_utf8() {
    let mut entity = alice(Operation::Create);
    entity.claims[0].values = vec!["Zoë".into()];
    entity.claims[1].values = vec!["李".into()];
    let host = FakeHost::new(vec![created(ID)]);
    provision(&host, &c0(), &entity.change()).unwrap();
    let body = host.sent()[0].body.clone().unwrap();
    let find = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    assert!(find(&[b'Z', b'o', 0xC3, 0xAB]));
    assert!(find(&[0xE6, 0x9D, 0x8E]));
    assert!(!body.contains(&b'?'));
    assert_eq!(host.json(0)["LastName"], "李");
}

#[test]
fn v15_secondary_user_store() {
    let mut entity = user(
        Operation::Create,
        "SECONDARY/dave@example.com",
        &[
            ("givenname", "Dave"),
            ("lastname", "Doe"),
            ("emailaddress", "dave@example.com"),
        ],
    );
    let body = created_body(&c0(), &entity);
    assert_eq!(body["Username"], "dave@example.com");

    entity.operation = Operation::Delete;
    entity.claims.clear();
    entity.remote_id = Some(ID.into());
    let host = FakeHost::new(vec![no_content()]);
    provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(
        host.json(0)["Username"],
        "deactivated.dave.005xx0000012345aaa@example.com"
    );

    // UD is the store domain.
    let ud = with(c0(), text("sf-prov-pattern", "{UD, UN}"));
    entity.operation = Operation::Create;
    entity.remote_id = None;
    entity.claims = alice(Operation::Create).claims;
    assert_eq!(
        created_body(&ud, &entity)["Username"],
        "secondary_dave@example.com"
    );
}

#[test]
fn v16_password_change_and_groups_send_nothing() {
    // A password change reaches the connector as an update of an unmapped claim.
    let mut entity = alice(Operation::Update);
    entity.remote_id = Some(ID.into());
    entity.changed_claims = vec!["org:wso2:carbon:identity:provisioning:claim:password".into()];
    let host = FakeHost::new(vec![]);
    let out = provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(out.remote_id.as_deref(), Some(ID));
    assert!(host.sent().is_empty());

    for operation in [Operation::Create, Operation::Update, Operation::Delete] {
        let mut group = user(operation, "Engineering", &[]);
        group.kind = EntityKind::Group;
        let host = FakeHost::new(vec![]);
        let err = provision(&host, &c0(), &group.change()).unwrap_err();
        assert_eq!(case(&err), "unsupported");
        assert!(detail(&err).message.contains("users only"));
        assert!(host.sent().is_empty());
    }
}

#[test]
fn tutorial_mapping_table_is_expressible_verbatim() {
    let config = with_mappings(
        without(c0(), "sf-usePasswordGrant"),
        fixture_mappings("tutorial-claim-mappings.json"),
    );
    assert!(validate(&config).is_empty(), "{:?}", validate(&config));
    let entity = user(Operation::Create, "samuel@wso2.com", &[]);
    let body = created_body(&config, &entity);
    assert_eq!(
        body,
        json!({
            "Alias": "Samuel",
            "Email": "samuel@wso2.com",
            "EmailEncodingKey": "UTF-8",
            "LanguageLocaleKey": "en_US",
            "LastName": "Gnaniah",
            "LocaleSidKey": "en_US",
            "ProfileId": "00e90000001aV2o",
            "TimeZoneSidKey": "America/Los_Angeles",
            "UserPermissionsCallCenterAutoLogin": false,
            "UserPermissionsMarketingUser": false,
            "UserPermissionsOfflineUser": false,
            "Username": "samuel@wso2.com"
        })
    );
}

#[test]
fn expired_session_is_retried_once_with_a_fresh_token() {
    let expired = || sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid", &[]);
    let host = FakeHost::new(vec![expired(), created(ID)]);
    let out = provision(&host, &c0(), &alice(Operation::Create).change()).unwrap();
    assert_eq!(out.remote_id.as_deref(), Some(ID));
    assert_eq!(host.invalidated.borrow().as_slice(), &[c0_grant()]);
    let sent = host.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], sent[1]);

    let host = FakeHost::new(vec![expired(), expired()]);
    let err = provision(&host, &c0(), &alice(Operation::Create).change()).unwrap_err();
    assert_eq!(case(&err), "auth-failed");
    assert_eq!(
        detail(&err).target_code.as_deref(),
        Some("INVALID_SESSION_ID")
    );
    assert_eq!(host.sent().len(), 2);
    assert_eq!(host.invalidated.borrow().len(), 1);

    // A session that can never use the REST API is not retried.
    let host = FakeHost::new(vec![sf_error(
        401,
        "INVALID_SESSION_ID",
        "This session is not valid for use with the REST API",
        &[],
    )]);
    let err = provision(&host, &c0(), &alice(Operation::Create).change()).unwrap_err();
    assert_eq!(case(&err), "auth-failed");
    assert_eq!(host.sent().len(), 1);
    assert!(host.invalidated.borrow().is_empty());
}

#[test]
fn missing_required_fields_are_refused_before_sending() {
    let entity = user(
        Operation::Create,
        "eve@example.com",
        &[("givenname", "Eve")],
    );
    let host = FakeHost::new(vec![]);
    let err = provision(&host, &c0(), &entity.change()).unwrap_err();
    assert_eq!(case(&err), "invalid-data");
    assert_eq!(
        detail(&err).fields,
        vec!["LastName".to_string(), "Email".into()]
    );
    assert!(host.sent().is_empty());
}

#[test]
fn request_timeout_is_passed_to_the_host() {
    let config = with(
        c0(),
        ConfigEntry {
            key: "sf-request-timeout-ms".into(),
            value: ConfigValue::Integer(5000),
        },
    );
    let host = FakeHost::new(vec![created(ID)]);
    provision(&host, &config, &alice(Operation::Create).change()).unwrap();
    assert_eq!(host.sent()[0].timeout_ms, Some(5000));
}

#[test]
fn create_with_a_known_id_reactivates_the_record() {
    let mut entity = alice(Operation::Create);
    entity.remote_id = Some(ID.into());
    let host = FakeHost::new(vec![no_content()]);
    let out = provision(&host, &c0(), &entity.change()).unwrap();
    assert_eq!(out.remote_id.as_deref(), Some(ID));
    assert_eq!(host.sent()[0].method, Method::Patch);
    let mut expected = alice_body();
    expected["IsActive"] = json!(true);
    assert_eq!(host.json(0), expected);
}

#[test]
fn a_remote_id_that_is_not_a_salesforce_id_is_not_found_without_requests() {
    let mut entity = alice(Operation::Update);
    entity.remote_id = Some("5f0c7d4e-0000-4000-8000-000000000000".into());
    entity.changed_claims = vec![format!("{WSO2}lastname")];
    let host = FakeHost::new(vec![]);
    let err = provision(&host, &c0(), &entity.change()).unwrap_err();
    assert_eq!(case(&err), "not-found");
    assert!(host.sent().is_empty());
}

#[test]
fn patch_of_a_missing_record_is_not_found() {
    let mut entity = alice(Operation::Update);
    entity.remote_id = Some(ID.into());
    entity.changed_claims = vec![format!("{WSO2}lastname")];
    let host = FakeHost::new(vec![sf_error(
        404,
        "INVALID_CROSS_REFERENCE_KEY",
        "invalid cross reference id",
        &[],
    )]);
    let err = provision(&host, &c0(), &entity.change()).unwrap_err();
    assert_eq!(case(&err), "not-found");
    assert_eq!(detail(&err).http_status, Some(404));
}
