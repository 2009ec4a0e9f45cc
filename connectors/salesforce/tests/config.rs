//! Metadata, validation problems, and lookup.

mod common;

use common::*;
use salesforce_connector::*;

fn keys(problems: &[ConfigProblem]) -> Vec<&str> {
    problems.iter().filter_map(|p| p.key.as_deref()).collect()
}

fn has(problems: &[ConfigProblem], key: &str, fragment: &str) -> bool {
    problems
        .iter()
        .any(|p| p.key.as_deref() == Some(key) && p.message.contains(fragment))
}

fn integer(key: &str, value: i64) -> ConfigEntry {
    ConfigEntry {
        key: key.into(),
        value: ConfigValue::Integer(value),
    }
}

#[test]
fn metadata_describes_users_and_every_key() {
    let m = metadata();
    assert_eq!(m.id, "salesforce");
    assert_eq!(m.entity_kinds, vec![EntityKind::User]);
    let p = |k: &str| {
        m.properties
            .iter()
            .find(|p| p.key == k)
            .unwrap_or_else(|| panic!("{k}"))
    };
    for key in ["sf-client-secret", "sf-password", "sf-private-key"] {
        assert!(p(key).secret, "{key}");
    }
    assert_eq!(p("sf-private-key").kind, PropertyKind::MultilineText);
    assert_eq!(p("sf-domain-name").kind, PropertyKind::Url);
    assert!(p("sf-domain-name").required);
    assert!(p("sf-api-version").required);
    assert!(p("sf-clientid").required);
    assert!(p("sf-claim-mappings").required);
    assert_eq!(p("sf-claim-mappings").kind, PropertyKind::ClaimMappings);
    assert_eq!(
        p("sf-token-endpoint").default_value.as_deref(),
        Some("https://login.salesforce.com/services/oauth2/token")
    );
    assert_eq!(
        p("sf-auth-flow").options,
        ["client_credentials", "password", "jwt-bearer"]
    );
    assert_eq!(
        p("sf-auth-flow").default_value.as_deref(),
        Some("client_credentials")
    );
    assert_eq!(p("sf-alias-overflow").options, ["truncate", "error"]);
    assert_eq!(
        p("sf-rename-on-delete").default_value.as_deref(),
        Some("true")
    );
    assert_eq!(p("sf-prov-pattern").default_value.as_deref(), Some("{UN}"));
    assert_eq!(p("sf-prov-separator").default_value.as_deref(), Some("_"));
    assert_eq!(p("sf-request-timeout-ms").kind, PropertyKind::Integer);
    assert_eq!(p("sf-batch-size").kind, PropertyKind::Integer);
    assert_eq!(p("sf-batch-size").default_value.as_deref(), Some("200"));
    assert_eq!(m.properties.len(), 20);
    assert_eq!(
        p("sf-rename-on-deactivate").default_value.as_deref(),
        Some("false")
    );
    for prop in &m.properties {
        assert!(!prop.description.is_empty(), "{}", prop.key);
    }
}

#[test]
fn c0_is_valid_and_accepts_both_version_shapes() {
    assert!(validate(&c0()).is_empty(), "{:?}", validate(&c0()));
    let bare = with(c0(), text("sf-api-version", "45.0"));
    assert!(validate(&bare).is_empty());
    // A trailing slash on the domain is stripped, not doubled.
    let slash = with(c0(), text("sf-domain-name", &format!("{DOMAIN}/")));
    let host = FakeHost::new(vec![created(ID)]);
    provision(&host, &slash, &alice(Operation::Create).change()).unwrap();
    assert_eq!(
        host.sent()[0].url,
        format!("{DOMAIN}/services/data/v45.0/sobjects/User/")
    );
}

#[test]
fn missing_and_malformed_keys_are_named() {
    let empty = ConnectorConfig {
        tenant: "t".into(),
        target: "sf".into(),
        entries: vec![],
    };
    let problems = validate(&empty);
    for key in [
        "sf-api-version",
        "sf-domain-name",
        "sf-clientid",
        "sf-client-secret",
        "sf-claim-mappings",
    ] {
        assert!(keys(&problems).contains(&key), "{key}: {problems:?}");
    }

    let bad = with(
        with(
            with(c0(), text("sf-api-version", "45")),
            text("sf-domain-name", "acme.my.salesforce.com"),
        ),
        text("sf-token-endpoint", "ftp://login.salesforce.com"),
    );
    let problems = validate(&bad);
    assert!(has(&problems, "sf-api-version", "v62.0"));
    assert!(has(&problems, "sf-domain-name", "absolute http(s) URL"));
    assert!(has(&problems, "sf-token-endpoint", "absolute http(s) URL"));

    let retired = with(c0(), text("sf-api-version", "v30.0"));
    assert!(has(&validate(&retired), "sf-api-version", "retired"));

    let timeout = with(c0(), integer("sf-request-timeout-ms", -1));
    assert!(keys(&validate(&timeout)).contains(&"sf-request-timeout-ms"));
    assert!(validate(&with(c0(), integer("sf-request-timeout-ms", 30000))).is_empty());
}

#[test]
fn flows_require_their_credentials() {
    // Password flow (C0) without the password.
    let problems = validate(&without(c0(), "sf-password"));
    assert_eq!(keys(&problems), ["sf-password"]);

    // JWT bearer needs the key and the user, not the secret.
    let jwt = with(
        without(without(c0(), "sf-usePasswordGrant"), "sf-client-secret"),
        text("sf-auth-flow", "jwt-bearer"),
    );
    assert_eq!(keys(&validate(&jwt)), ["sf-private-key"]);
    let jwt = with(jwt, secret("sf-private-key"));
    assert!(validate(&jwt).is_empty());
    let host = FakeHost::new(vec![created(ID)]);
    provision(&host, &jwt, &alice(Operation::Create).change()).unwrap();
    assert_eq!(
        host.sent()[0].credential,
        Some(Credential::Oauth(OauthGrant::JwtBearer(JwtBearerGrant {
            token_url: "https://login.salesforce.com/services/oauth2/token".into(),
            issuer: "CID".into(),
            subject: "integ@acme.com".into(),
            audience: "https://login.salesforce.com".into(),
            private_key: SecretRef {
                key: "sf-private-key".into()
            },
            lifetime_seconds: 180,
        })))
    );
    assert_eq!(
        keys(&validate(&without(jwt, "sf-username"))),
        ["sf-username"]
    );

    // sf-usePasswordGrant must not contradict sf-auth-flow.
    let contradiction = with(c0(), text("sf-auth-flow", "client_credentials"));
    assert!(has(
        &validate(&contradiction),
        "sf-usePasswordGrant",
        "contradicts"
    ));
    let agreeing = with(c0(), text("sf-auth-flow", "password"));
    assert!(validate(&agreeing).is_empty());
    assert!(has(
        &validate(&with(c0(), text("sf-auth-flow", "saml"))),
        "sf-auth-flow",
        "unknown flow"
    ));

    // Secrets must come by reference.
    let plain = with(c0(), text("sf-client-secret", "CSEC"));
    assert!(has(&validate(&plain), "sf-client-secret", "secret"));
}

#[test]
fn pattern_and_domain_problems() {
    assert!(has(
        &validate(&with(c0(), text("sf-prov-pattern", "UN"))),
        "sf-prov-pattern",
        "braces"
    ));
    assert!(has(
        &validate(&with(c0(), text("sf-prov-pattern", "{UN, EMAIL}"))),
        "sf-prov-pattern",
        "EMAIL"
    ));
    assert!(keys(&validate(&with(
        c0(),
        text("sf-prov-domainName", "not a domain")
    )))
    .contains(&"sf-prov-domainName"));
    assert!(
        keys(&validate(&with(c0(), text("sf-alias-overflow", "wrap"))))
            .contains(&"sf-alias-overflow")
    );
}

#[test]
fn mapping_problems() {
    let mut mappings = fixture_mappings("tutorial-claim-mappings.json");
    // The tutorial's URL-encoded ProfileId.
    mappings
        .iter_mut()
        .find(|m| m.target_field == "ProfileId")
        .unwrap()
        .default_value = Some("2F00e6F000003nIYI".into());
    mappings
        .iter_mut()
        .find(|m| m.target_field == "UserPermissionsOfflineUser")
        .unwrap()
        .default_value = Some("no".into());
    mappings.retain(|m| m.target_field != "TimeZoneSidKey" && m.target_field != "Alias");
    mappings.push(ClaimMapping {
        target_field: "Bad Field".into(),
        claim: None,
        default_value: Some("x".into()),
    });
    let problems = validate(&with_mappings(c0(), mappings));
    assert!(problems
        .iter()
        .all(|p| p.key.as_deref() == Some("sf-claim-mappings")));
    assert!(
        has(&problems, "sf-claim-mappings", "use `00e6F000003nIYI`"),
        "{problems:?}"
    );
    assert!(has(
        &problems,
        "sf-claim-mappings",
        "UserPermissionsOfflineUser"
    ));
    assert!(has(&problems, "sf-claim-mappings", "Alias, TimeZoneSidKey"));
    assert!(has(&problems, "sf-claim-mappings", "Bad Field"));
    assert_eq!(problems.len(), 4, "{problems:?}");

    // A Username mapping is not needed: the pattern provides it.
    let no_username: Vec<_> = fixture_mappings("c0-claim-mappings.json")
        .into_iter()
        .filter(|m| m.target_field != "Username")
        .collect();
    assert!(validate(&with_mappings(c0(), no_username)).is_empty());
}

#[test]
fn lookup_by_attribute_escapes_and_encodes() {
    let body = r#"{"totalSize":1,"done":true,"records":[{"attributes":{"type":"User","url":"/x"},
        "Id":"005xx0000012345AAA","Username":"o'brien@example.com","IsActive":false,
        "FederationIdentifier":null,"Email":"ob@example.com","LastName":"O'Brien"}]}"#;
    let host = FakeHost::new(vec![resp(200, body)]);
    let key = LookupKey::Attribute(AttributeMatch {
        kind: EntityKind::User,
        attribute: "Username".into(),
        value: r"o'brien\@example.com".into(),
    });
    let found = lookup(&host, &c0(), &key).unwrap().unwrap();
    assert_eq!(found.remote_id, ID);
    assert_eq!(found.active, Some(false));
    assert_eq!(
        found.attributes,
        vec![
            ("Username".to_string(), "o'brien@example.com".to_string()),
            ("Email".into(), "ob@example.com".into()),
            ("LastName".into(), "O'Brien".into()),
        ]
    );
    let r = &host.sent()[0];
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.body, None);
    assert!(r.credential.is_some());
    assert_eq!(
        r.url,
        format!(
            "{DOMAIN}/services/data/v45.0/query?q=SELECT%20Id%2C%20Username%2C%20IsActive%2C%20FederationIdentifier%2C%20Email%2C%20LastName%20FROM%20User%20WHERE%20Username%20%3D%20%27o%5C%27brien%5C%5C%40example.com%27%20LIMIT%202"
        )
    );
}

#[test]
fn lookup_outcomes() {
    let key = LookupKey::Entity(alice(Operation::Create).entity());
    let empty = r#"{"totalSize":0,"done":true,"records":[]}"#;
    let host = FakeHost::new(vec![resp(200, empty)]);
    assert_eq!(lookup(&host, &c0(), &key).unwrap(), None);
    assert!(host.sent()[0]
        .url
        .ends_with("WHERE%20Username%20%3D%20%27alice%40example.com%27%20LIMIT%202"));

    let two = r#"{"totalSize":2,"done":true,"records":[{"Id":"005xx0000012345AAA"},{"Id":"005xx0000012346AAA"}]}"#;
    let host = FakeHost::new(vec![resp(200, two)]);
    let err = lookup(&host, &c0(), &key).unwrap_err();
    assert_eq!(case(&err), "conflict");
    assert!(detail(&err).message.contains("005xx0000012346AAA"));

    // Attribute names are checked before anything is sent.
    let host = FakeHost::new(vec![]);
    let bad = LookupKey::Attribute(AttributeMatch {
        kind: EntityKind::User,
        attribute: "Username = 'x' OR Id".into(),
        value: "y".into(),
    });
    assert_eq!(
        case(&lookup(&host, &c0(), &bad).unwrap_err()),
        "invalid-data"
    );
    let mut group = alice(Operation::Create);
    group.kind = EntityKind::Group;
    assert_eq!(
        case(&lookup(&host, &c0(), &LookupKey::Entity(group.entity())).unwrap_err()),
        "unsupported"
    );
    assert!(host.sent().is_empty());

    // Query errors are typed too; an expired session is retried once.
    let host = FakeHost::new(vec![
        sf_error(401, "INVALID_SESSION_ID", "Session expired or invalid", &[]),
        sf_error(
            400,
            "INVALID_FIELD",
            "No such column 'Foo__c' on entity 'User'",
            &[],
        ),
    ]);
    let foo = LookupKey::Attribute(AttributeMatch {
        kind: EntityKind::User,
        attribute: "Foo__c".into(),
        value: "1".into(),
    });
    assert_eq!(case(&lookup(&host, &c0(), &foo).unwrap_err()), "permanent");
    assert_eq!(host.invalidated.borrow().len(), 1);
}
