//! End to end: the Salesforce connector component, run by the sandbox runtime, provisions into
//! the Salesforce emulator over loopback HTTP, configured exactly as the WSO2 tutorial.
//!
//! Every scenario runs twice: with the built-in connector (contract 0.2.0) and with the same
//! connector built for contract 0.1.0, which the host adapts to the newest contract.

#[path = "../../host/server/tests/support/org.rs"]
mod org_support;

use org_support::org;
use std::sync::{Arc, Mutex};

use provisioner_contract::{ContractVersion, Operation, ProvisionError};
use provisioner_runtime::{
    CallError, EgressPolicy, Exchange, ExchangeKind, HttpObserver, Runtime, RuntimeConfig,
    TargetConfig, TargetInstance,
};
use provisioner_server::tutorial;
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

/// Which build of the Salesforce connector a scenario runs.
#[derive(Clone, Copy, Debug)]
enum Build {
    /// The built-in connector (contract 0.2.0).
    Builtin,
    /// The same connector built for contract 0.1.0.
    V0_1,
}

impl Build {
    fn bytes(self) -> Vec<u8> {
        match self {
            Build::Builtin => builtin_connectors::SALESFORCE.bytes.to_vec(),
            Build::V0_1 => std::fs::read(test_components::SALESFORCE_CONNECTOR_V0_1).unwrap(),
        }
    }
}

async fn harness_with(
    build: Build,
    configure: impl FnOnce(TargetConfig) -> TargetConfig,
) -> Harness {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let runtime = Runtime::builder(RuntimeConfig::default())
        .observer(recorder.clone())
        .build()
        .unwrap();
    let (connector, _) = runtime.load_bytes(build.bytes()).await.unwrap();
    let expected = match build {
        Build::Builtin => ContractVersion::V0_2,
        Build::V0_1 => ContractVersion::V0_1,
    };
    assert_eq!(connector.contract_version(), expected);
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

async fn harness(build: Build) -> Harness {
    harness_with(build, |config| config).await
}

fn connector_error(result: Result<impl std::fmt::Debug, CallError>) -> ProvisionError {
    match result {
        Err(CallError::Connector(error)) => error,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

fn create_user(name: &str, extra: &[(&str, &str)]) -> provisioner_contract::Change {
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

async fn tutorial_configuration_validates(build: Build) {
    let h = harness(build).await;
    assert_eq!(h.target.validate().await.unwrap(), vec![]);
}

async fn tutorial_user_is_created_with_exactly_the_expected_fields(build: Build) {
    let h = harness(build).await;
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

async fn update_sends_only_changed_fields_and_delete_deactivates_without_delete(build: Build) {
    let h = harness(build).await;
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

async fn many_operations_cost_one_token_request(build: Build) {
    let h = harness(build).await;
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

async fn expired_session_mid_run_reauthenticates_once(build: Build) {
    let h = harness(build).await;
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

async fn duplicate_username_in_another_org_is_invalid_data_with_salesforce_code(build: Build) {
    let h = harness(build).await;
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

async fn unknown_profile_id_is_invalid_data_with_salesforce_code(build: Build) {
    let h = harness(build).await;
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

async fn missing_required_field_is_invalid_data_with_salesforce_code(build: Build) {
    // A mapping without a LastName default, and a user without a last name.
    let h = harness_with(build, |mut config| {
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

async fn server_unavailable_and_row_lock_are_transient(build: Build) {
    let h = harness(build).await;
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

async fn group_provisioning_is_reported_unsupported(build: Build) {
    let h = harness(build).await;
    let group = provisioner_contract::Change {
        operation: Operation::Create,
        entity: provisioner_contract::Entity::Group(provisioner_contract::Group {
            local_id: "g-1".into(),
            name: "engineering".into(),
            remote_id: None,
            members: vec![],
            added_members: vec![],
            removed_members: vec![],
            previous_name: None,
        }),
    };
    assert!(matches!(
        connector_error(h.target.provision(&group).await),
        ProvisionError::Unsupported(_)
    ));
    assert_eq!(h.emulator.counters().api_calls, 0);
}

async fn lookup_finds_a_user_by_username(build: Build) {
    let h = harness(build).await;
    let id = h
        .target
        .provision(&create_user("findme@example.com", &[]))
        .await
        .unwrap()
        .remote_id
        .unwrap();
    let key =
        provisioner_contract::LookupKey::Entity(create_user("findme@example.com", &[]).entity);
    let found = h.target.lookup(&key).await.unwrap().expect("found");
    assert_eq!(found.remote_id, id);
    assert_eq!(found.active, Some(true));
    let missing =
        provisioner_contract::LookupKey::Entity(create_user("nobody@example.com", &[]).entity);
    assert_eq!(h.target.lookup(&missing).await.unwrap(), None);
}

/// One test per scenario and connector build.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        mod contract_v0_2 {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Build::Builtin).await
            })*
        }
        mod contract_v0_1 {
            $(#[tokio::test]
            async fn $name() {
                super::$name(super::Build::V0_1).await
            })*
        }
    };
}

scenarios!(
    tutorial_configuration_validates,
    tutorial_user_is_created_with_exactly_the_expected_fields,
    update_sends_only_changed_fields_and_delete_deactivates_without_delete,
    many_operations_cost_one_token_request,
    expired_session_mid_run_reauthenticates_once,
    duplicate_username_in_another_org_is_invalid_data_with_salesforce_code,
    unknown_profile_id_is_invalid_data_with_salesforce_code,
    missing_required_field_is_invalid_data_with_salesforce_code,
    server_unavailable_and_row_lock_are_transient,
    group_provisioning_is_reported_unsupported,
    lookup_finds_a_user_by_username,
);
