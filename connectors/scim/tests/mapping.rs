//! Target paths, claim mappings, the resource they build, and configuration validation.

mod common;

use provisioner_sdk::claims;
use provisioner_sdk::mock;
use provisioner_sdk::prelude::*;
use provisioner_sdk::serde_json::json;
use scim_connector::mapping::{self, Mapping};
use scim_connector::path::{TargetPath, ENTERPRISE_USER};
use scim_connector::users::resource;
use scim_connector::ScimConnector;

fn path(text: &str) -> TargetPath {
    TargetPath::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn paths_parse_into_schema_attribute_filter_and_sub_attribute() {
    let work = path(r#"emails[type eq "work"].value"#);
    assert_eq!(work.attribute, "emails");
    assert_eq!(work.filter, Some(("type".into(), "work".into())));
    assert_eq!(work.sub.as_deref(), Some("value"));
    assert_eq!(
        path(r#"emails[type eq "work"]"#),
        work,
        "a filter alone means its value"
    );

    let manager = path(&format!("{ENTERPRISE_USER}:manager.value"));
    assert_eq!(manager.schema.as_deref(), Some(ENTERPRISE_USER));
    assert_eq!(
        (manager.attribute.as_str(), manager.sub.as_deref()),
        ("manager", Some("value"))
    );

    let core = path("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName");
    assert_eq!(
        core,
        path("name.givenName"),
        "the core URN prefix is dropped"
    );
    let quoted = path(r#"emails[type eq "a \"b\" \\c"].value"#);
    assert_eq!(quoted.filter.unwrap().1, r#"a "b" \c"#);

    for bad in [
        "",
        "1abc",
        "emails[type eq work]",
        "emails[type",
        "emails[type ne \"x\"]",
        "a:b",
    ] {
        assert!(TargetPath::parse(bad).is_err(), "{bad} should not parse");
    }
}

#[test]
fn only_writable_user_attributes_of_the_right_shape_pass_the_check() {
    for good in [
        "title",
        "active",
        "name.givenName",
        "emails",
        "phoneNumbers",
        "roles",
        r#"addresses[type eq "work"].locality"#,
        r#"phoneNumbers[type eq "mobile"].value"#,
        &format!("{ENTERPRISE_USER}:department"),
        &format!("{ENTERPRISE_USER}:manager"),
        "urn:example:params:scim:schemas:extension:acme:2.0:User:badge",
    ] {
        assert_eq!(path(good).check(), Ok(()), "{good}");
    }
    for (bad, says) in [
        ("groups", "not a writable SCIM User attribute"),
        ("name", "need a sub-attribute"),
        (
            "name.nickname",
            "sub-attributes must be the attribute's own",
        ),
        ("addresses", "need a sub-attribute"),
        (r#"title[type eq "x"]"#, "takes no filter"),
        (
            &format!("{ENTERPRISE_USER}:badge"),
            "not an enterprise User attribute",
        ),
    ] {
        let error = path(bad).check().unwrap_err();
        assert!(error.contains(says), "{bad}: {error}");
    }
}

#[test]
fn patch_paths_render_filters_escaped_and_remove_whole_elements() {
    let work = path(r#"emails[type eq "wo\"rk"].value"#);
    assert_eq!(work.patch_path(false), r#"emails[type eq "wo\"rk"].value"#);
    assert_eq!(work.patch_path(true), r#"emails[type eq "wo\"rk"]"#);
    assert_eq!(path("name.givenName").patch_path(true), "name.givenName");
    assert_eq!(path("emails.value").patch_path(false), "emails");
    assert_eq!(
        path(&format!("{ENTERPRISE_USER}:manager.value")).patch_path(false),
        format!("{ENTERPRISE_USER}:manager.value")
    );
}

fn entra_user() -> User {
    User::new("local-1", "ann@example.com")
        .with_claim(claims::GIVEN_NAME, "Ann")
        .with_claim(claims::LAST_NAME, "Lee")
        .with_claim(claims::EMAIL, "ann@example.com")
        .with_claim(claims::EMAIL_HOME, "ann@home.example")
        .with_claim(claims::MOBILE, "+1 555 0100")
        .with_claim(claims::COUNTRY, "NZ")
        .with_claim(claims::LOCALITY, "Wellington")
        .with_claim_values(claims::ROLE, &["admin", "dev"])
        .with_claim(claims::DEPARTMENT, "R&D")
        .with_claim(claims::ACCOUNT_DISABLED, "false")
}

fn defaults() -> Vec<Mapping> {
    mapping::read(&Config::new(&common::config())).unwrap()
}

#[test]
fn the_built_in_table_builds_a_full_scim_user() {
    let body = resource(&entra_user(), &defaults(), None);
    assert_eq!(
        body,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE_USER],
            "userName": "ann@example.com",
            "externalId": "local-1",
            "name": {"givenName": "Ann", "familyName": "Lee"},
            "emails": [
                {"type": "work", "value": "ann@example.com"},
                {"type": "home", "value": "ann@home.example"}
            ],
            "phoneNumbers": [{"type": "mobile", "value": "+1 555 0100"}],
            "addresses": [{"type": "work", "locality": "Wellington", "country": "NZ"}],
            "roles": [{"value": "admin"}, {"value": "dev"}],
            ENTERPRISE_USER: {"department": "R&D"},
            "active": true
        })
    );
}

#[test]
fn configured_mappings_replace_the_table_and_apply_defaults_constants_and_booleans() {
    let mappings = vec![
        ClaimMapping {
            target_field: "title".into(),
            claim: Some(claims::TITLE.into()),
            default_value: Some("Staff".into()),
        },
        ClaimMapping {
            target_field: "userType".into(),
            claim: None,
            default_value: Some("Employee".into()),
        },
        ClaimMapping {
            target_field: "emails".into(),
            claim: Some(claims::EMAIL.into()),
            default_value: None,
        },
        ClaimMapping {
            target_field: r#"emails[type eq "work"].primary"#.into(),
            claim: None,
            default_value: Some("TRUE".into()),
        },
    ];
    let config = common::config().with_mappings("claim-mappings", mappings);
    let read = mapping::read(&Config::new(&config)).unwrap();
    let user = User::new("l", "bob").with_claim(claims::EMAIL, "b@x.org");
    let body = resource(&user, &read, Some("r-9"));
    assert_eq!(body["id"], "r-9");
    assert_eq!(body["title"], "Staff", "an absent claim writes the default");
    assert_eq!(
        body["userType"], "Employee",
        "a mapping without claim is a constant"
    );
    assert_eq!(
        body["emails"],
        json!([{"value": "b@x.org"}, {"type": "work", "primary": true}])
    );
    assert!(
        body.get("name").is_none(),
        "the built-in table no longer applies"
    );
    assert!(
        body.get("active").is_none(),
        "no accountDisabled claim, no active"
    );
}

#[test]
fn validate_wants_the_credentials_of_the_chosen_auth_and_understood_paths() {
    assert_eq!(ScimConnector::validate(&common::config()), vec![]);
    let keys = |config: &ConnectorConfig| -> Vec<Option<String>> {
        ScimConnector::validate(config)
            .into_iter()
            .map(|p| p.key)
            .collect()
    };
    let base = mock::config().with_text("base-url", "https://idp.example.com/scim/v2");
    assert_eq!(keys(&base), vec![Some("bearer-token".to_string())]);
    assert_eq!(
        keys(&base.clone().with_text("auth", "basic")),
        vec![
            Some("basic-username".to_string()),
            Some("basic-password".to_string())
        ]
    );
    assert_eq!(keys(&base.clone().with_text("auth", "none")), vec![]);
    assert_eq!(keys(&mock::config()), vec![Some("base-url".to_string())]);

    let bad = base.with_text("auth", "none").with_mappings(
        "claim-mappings",
        vec![
            ClaimMapping {
                target_field: "name".into(),
                claim: Some(claims::GIVEN_NAME.into()),
                default_value: None,
            },
            ClaimMapping {
                target_field: "emails[type eq".into(),
                claim: Some(claims::EMAIL.into()),
                default_value: None,
            },
            ClaimMapping {
                target_field: "title".into(),
                claim: Some(claims::TITLE.into()),
                default_value: None,
            },
        ],
    );
    let problems = ScimConnector::validate(&bad);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems
        .iter()
        .all(|p| p.key.as_deref() == Some("claim-mappings")));
    assert!(
        problems[0].message.contains("`name`"),
        "{}",
        problems[0].message
    );
    assert!(
        problems[1].message.contains("without its `]`"),
        "{}",
        problems[1].message
    );
}

#[test]
fn metadata_declares_users_groups_and_the_schema() {
    let metadata = ScimConnector::metadata();
    assert_eq!(
        (metadata.id.as_str(), metadata.name.as_str()),
        ("scim", "SCIM 2.0")
    );
    assert_eq!(
        metadata.entity_kinds,
        vec![EntityKind::User, EntityKind::Group]
    );
    assert_eq!(metadata.max_batch_size, 1);
    let keys: Vec<&str> = metadata.properties.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "base-url",
            "auth",
            "bearer-token",
            "basic-username",
            "basic-password",
            "delete-mode",
            "update-method",
            "claim-mappings"
        ]
    );
    let default = |key: &str| {
        metadata
            .properties
            .iter()
            .find(|p| p.key == key)
            .unwrap()
            .default_value
            .clone()
    };
    assert_eq!(default("auth").as_deref(), Some("bearer"));
    assert_eq!(default("delete-mode").as_deref(), Some("deactivate"));
    assert_eq!(default("update-method").as_deref(), Some("patch"));
}
