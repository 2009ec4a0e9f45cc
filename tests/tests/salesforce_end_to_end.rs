//! End to end: the Salesforce connector component, run by the sandbox runtime, provisions into
//! the Salesforce emulator over loopback HTTP, configured exactly as the WSO2 tutorial.

use std::sync::{Arc, Mutex};

use provisioner_contract::{Operation, ProvisionError};
use provisioner_server::tutorial::{self, SalesforceOrg};
use provisioner_runtime::{
    CallError, EgressPolicy, Exchange, ExchangeKind, HttpObserver, Runtime, RuntimeConfig,
    TargetConfig, TargetInstance,
};
use salesforce_emulator::{
    Emulator, EmulatorConfig, FaultKind, FaultSpec, Operation as SfOperation,
};
use serde_json::{json, Value};

/// Records every exchange the host makes.
#[derive(Default)]
struct Recorder(Mutex<Vec<Exchange>>);

impl HttpObserver for Recorder {
    fn on_exchange(&self, exchange: &Exchange) {
        self.0.lock().unwrap().push(exchange.clone());
    }
}

impl Recorder {
    fn api(&self) -> Vec<Exchange> {
        self.all()
            .into_iter()
            .filter(|e| e.kind == ExchangeKind::Api)
            .collect()
    }

    fn all(&self) -> Vec<Exchange> {
        self.0.lock().unwrap().clone()
    }

    fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

struct Harness {
    emulator: Emulator,
    runtime: Runtime,
    target: TargetInstance,
    recorder: Arc<Recorder>,
}

fn org(emulator: &Emulator) -> SalesforceOrg {
    let config = emulator.config();
    SalesforceOrg {
        domain: emulator.base_url().to_string(),
        token_endpoint: emulator.token_url(),
        client_id: config.client_id.clone(),
        client_secret: config.client_secret.clone(),
        username: config.username.clone(),
        password_and_token: config.expected_password(),
    }
}

async fn harness_with(configure: impl FnOnce(TargetConfig) -> TargetConfig) -> Harness {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let runtime = Runtime::builder(RuntimeConfig::default())
        .observer(recorder.clone())
        .build()
        .unwrap();
    let (connector, _) = runtime
        .load_file(connector_artifacts::SALESFORCE_CONNECTOR)
        .await
        .unwrap();
    let config = configure(tutorial::tutorial_target(
        &org(&emulator),
        EgressPolicy::loopback(),
    ));
    let target = TargetInstance::new(&runtime, connector, config).unwrap();
    Harness {
        emulator,
        runtime,
        target,
        recorder,
    }
}

async fn harness() -> Harness {
    harness_with(|config| config).await
}

fn connector_error(result: Result<impl std::fmt::Debug, CallError>) -> ProvisionError {
    match result {
        Err(CallError::Connector(error)) => error,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

fn create_user(name: &str, extra: &[(&str, &str)]) -> provisioner_contract::Entity {
    let mut claims = vec![("emailaddress", name), ("lastname", "Tester")];
    claims.extend_from_slice(extra);
    tutorial::user(Operation::Create, name, None, &claims, &[])
}

fn token_requests(emulator: &Emulator) -> u64 {
    emulator
        .counters()
        .token_requests
        .values()
        .flat_map(|outcomes| outcomes.values())
        .sum()
}

#[tokio::test]
async fn tutorial_configuration_validates() {
    let h = harness().await;
    assert_eq!(h.target.validate().await.unwrap(), vec![]);
}

#[tokio::test]
async fn tutorial_user_is_created_with_exactly_the_expected_fields() {
    let h = harness().await;
    let entity = tutorial::user(
        Operation::Create,
        tutorial::TUTORIAL_USER_NAME,
        None,
        &tutorial::samuel_claims(),
        &[],
    );
    let outcome = h.target.provision(&entity).await.unwrap();
    let id = outcome.remote_id.expect("the created user's id");
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("005"), "{id}");

    // The request the connector sent: the twelve mapped fields, defaults filling absent claims.
    let api = h.recorder.api();
    assert_eq!(api.len(), 1, "one create call: {api:#?}");
    assert_eq!(api[0].method, "POST");
    assert!(
        api[0].url.ends_with("/services/data/v62.0/sobjects/User/"),
        "{}",
        api[0].url
    );
    let content_type = api[0]
        .request_headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.to_ascii_lowercase())
        .unwrap();
    assert!(content_type.contains("charset=utf-8"), "{content_type}");
    let body: Value = serde_json::from_slice(&api[0].request_body).unwrap();
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

    // The record Salesforce now holds.
    let record = h.emulator.user(&id).expect("record in the org");
    assert_eq!(record.text("Username"), Some("samuel@wso2.com"));
    assert_eq!(record.text("Email"), Some("samuel@wso2.com"));
    assert_eq!(record.text("LastName"), Some("Gnaniah"));
    assert_eq!(record.text("Alias"), Some("Samuel"));
    assert_eq!(record.text("TimeZoneSidKey"), Some("America/Los_Angeles"));
    assert_eq!(record.text("LocaleSidKey"), Some("en_US"));
    assert_eq!(record.text("LanguageLocaleKey"), Some("en_US"));
    assert_eq!(record.text("EmailEncodingKey"), Some("UTF-8"));
    assert!(record
        .text("ProfileId")
        .is_some_and(|profile| profile.starts_with("00e90000001aV2o")));
    assert_eq!(record.get("UserPermissionsMarketingUser"), json!(false));
    assert!(record.is_active());
}

#[tokio::test]
async fn update_sends_only_changed_fields_and_delete_deactivates_without_delete() {
    let h = harness().await;
    let name = "jane@example.com";
    let id = h
        .target
        .provision(&create_user(name, &[("givenname", "Jane")]))
        .await
        .unwrap()
        .remote_id
        .unwrap();
    h.recorder.clear();

    let update = tutorial::user(
        Operation::Update,
        name,
        Some(id.clone()),
        &[
            ("emailaddress", name),
            ("givenname", "Jane"),
            ("lastname", "Jones"),
        ],
        &["lastname"],
    );
    let outcome = h.target.provision(&update).await.unwrap();
    assert_eq!(outcome.remote_id.as_deref(), Some(id.as_str()));
    let api = h.recorder.api();
    assert_eq!(api.len(), 1);
    assert_eq!(api[0].method, "PATCH");
    assert!(api[0].url.ends_with(&format!("/sobjects/User/{id}")));
    let body: Value = serde_json::from_slice(&api[0].request_body).unwrap();
    assert_eq!(
        body,
        json!({"LastName": "Jones"}),
        "defaults must not be re-sent"
    );
    let record = h.emulator.user(&id).unwrap();
    assert_eq!(record.text("LastName"), Some("Jones"));
    assert_eq!(record.text("Alias"), Some("Jane"));

    h.recorder.clear();
    let delete = tutorial::user(Operation::Delete, name, Some(id.clone()), &[], &[]);
    h.target.provision(&delete).await.unwrap();
    assert!(h.recorder.api().iter().all(|e| e.method != "DELETE"));
    assert_eq!(h.emulator.counters().delete_attempts, 0);
    let record = h.emulator.user(&id).unwrap();
    assert!(!record.is_active());
    let renamed = record.username().to_string();
    assert_ne!(renamed, name, "the username is freed for re-provisioning");
    assert!(renamed.contains('@') && renamed.len() <= 80, "{renamed}");

    // The freed name can be provisioned again.
    let again = h.target.provision(&create_user(name, &[])).await.unwrap();
    assert_ne!(again.remote_id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn many_operations_cost_one_token_request() {
    let h = harness().await;
    for n in 0..10 {
        let name = format!("user{n}@example.com");
        h.target.provision(&create_user(&name, &[])).await.unwrap();
    }
    assert_eq!(
        h.emulator
            .users()
            .iter()
            .filter(|u| u.username().starts_with("user"))
            .count(),
        10
    );
    assert_eq!(token_requests(&h.emulator), 1);
    assert_eq!(h.runtime.tokens().token_requests(), 1);
    // The token request carried no secret in what the host reports.
    let token = h
        .recorder
        .all()
        .into_iter()
        .find(|e| e.kind == ExchangeKind::Token)
        .unwrap();
    let body = String::from_utf8_lossy(&token.request_body).to_string();
    let secret = h.emulator.config().client_secret;
    assert!(!body.contains(&secret), "{body}");
}

#[tokio::test]
async fn expired_session_mid_run_reauthenticates_once() {
    let h = harness().await;
    h.target
        .provision(&create_user("first@example.com", &[]))
        .await
        .unwrap();
    assert_eq!(token_requests(&h.emulator), 1);
    assert!(h.emulator.expire_tokens() >= 1);

    h.target
        .provision(&create_user("second@example.com", &[]))
        .await
        .unwrap();
    assert_eq!(
        token_requests(&h.emulator),
        2,
        "exactly one re-authentication"
    );
    let statuses: Vec<_> = h.recorder.api().iter().map(|e| e.status).collect();
    assert_eq!(statuses, vec![Some(201), Some(401), Some(201)]);
    assert!(h.emulator.user_by_username("second@example.com").is_some());

    // Further calls reuse the new token.
    h.target
        .provision(&create_user("third@example.com", &[]))
        .await
        .unwrap();
    assert_eq!(token_requests(&h.emulator), 2);
}

#[tokio::test]
async fn duplicate_username_in_another_org_is_invalid_data_with_salesforce_code() {
    let h = harness().await;
    let error = connector_error(
        h.target
            .provision(&create_user("taken@other-org.example.com", &[]))
            .await,
    );
    match error {
        ProvisionError::InvalidData(detail) => {
            assert_eq!(detail.target_code.as_deref(), Some("DUPLICATE_USERNAME"));
            assert!(
                detail.fields.contains(&"Username".to_string()),
                "{detail:?}"
            );
        }
        other => panic!("expected invalid-data, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_profile_id_is_invalid_data_with_salesforce_code() {
    let h = harness().await;
    let error = connector_error(
        h.target
            .provision(&create_user(
                "badprofile@example.com",
                &[("role", "00e000000000001")],
            ))
            .await,
    );
    match error {
        ProvisionError::InvalidData(detail) => {
            assert_eq!(
                detail.target_code.as_deref(),
                Some("INVALID_CROSS_REFERENCE_KEY")
            );
            assert_eq!(detail.http_status, Some(400));
        }
        other => panic!("expected invalid-data, got {other:?}"),
    }
    assert!(h
        .emulator
        .user_by_username("badprofile@example.com")
        .is_none());
}

#[tokio::test]
async fn missing_required_field_is_invalid_data_with_salesforce_code() {
    // A mapping without a LastName default, and a user without a last name.
    let h = harness_with(|mut config| {
        let mut mappings = tutorial::tutorial_claim_mappings();
        for mapping in &mut mappings {
            if mapping.target_field == "LastName" {
                mapping.default_value = None;
            }
        }
        config.values.insert(
            "sf-claim-mappings".into(),
            provisioner_runtime::ConfigInput::ClaimMappings(mappings),
        );
        config
    })
    .await;
    let entity = tutorial::user(
        Operation::Create,
        "nolastname@example.com",
        None,
        &[("emailaddress", "nolastname@example.com")],
        &[],
    );
    match connector_error(h.target.provision(&entity).await) {
        ProvisionError::InvalidData(detail) => {
            assert_eq!(
                detail.target_code.as_deref(),
                Some("REQUIRED_FIELD_MISSING")
            );
            assert!(
                detail.fields.contains(&"LastName".to_string()),
                "{detail:?}"
            );
        }
        other => panic!("expected invalid-data, got {other:?}"),
    }
    assert!(h
        .emulator
        .user_by_username("nolastname@example.com")
        .is_none());
}

#[tokio::test]
async fn server_unavailable_and_row_lock_are_transient() {
    let h = harness().await;
    for kind in [FaultKind::ServerUnavailable, FaultKind::UnableToLockRow] {
        h.emulator
            .arm_fault(FaultSpec::new(SfOperation::Create, kind).once());
        let name = format!("{kind:?}@example.com").to_lowercase();
        match connector_error(h.target.provision(&create_user(&name, &[])).await) {
            ProvisionError::Transient(error) => {
                let expected = match kind {
                    FaultKind::ServerUnavailable => "SERVER_UNAVAILABLE",
                    _ => "UNABLE_TO_LOCK_ROW",
                };
                assert_eq!(error.detail.target_code.as_deref(), Some(expected));
            }
            other => panic!("expected transient for {kind:?}, got {other:?}"),
        }
        // Retrying succeeds once the fault has passed.
        h.target.provision(&create_user(&name, &[])).await.unwrap();
    }
}

#[tokio::test]
async fn group_provisioning_is_reported_unsupported() {
    let h = harness().await;
    let mut group = tutorial::user(Operation::Create, "engineering", None, &[], &[]);
    group.kind = provisioner_contract::EntityKind::Group;
    assert!(matches!(
        connector_error(h.target.provision(&group).await),
        ProvisionError::Unsupported(_)
    ));
    assert_eq!(h.emulator.counters().api_calls, 0);
}

#[tokio::test]
async fn lookup_finds_a_user_by_username() {
    let h = harness().await;
    let id = h
        .target
        .provision(&create_user("findme@example.com", &[]))
        .await
        .unwrap()
        .remote_id
        .unwrap();
    let key = provisioner_contract::LookupKey::Entity(create_user("findme@example.com", &[]));
    let found = h.target.lookup(&key).await.unwrap().expect("found");
    assert_eq!(found.remote_id, id);
    assert_eq!(found.active, Some(true));
    let missing = provisioner_contract::LookupKey::Entity(create_user("nobody@example.com", &[]));
    assert_eq!(h.target.lookup(&missing).await.unwrap(), None);
}
