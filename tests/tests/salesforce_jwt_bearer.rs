//! End to end: the tutorial's Salesforce target authenticating with the JWT bearer flow. The host
//! signs an RS256 assertion with the target's `sf-private-key` secret; the emulator verifies it
//! against the matching public key (test-only fixtures in `tests/salesforce-emulator/tests/fixtures/`).

use std::sync::{Arc, Mutex};

use provisioner_contract::{Operation, ProvisionError};
use provisioner_runtime::{
    CallError, EgressPolicy, Exchange, ExchangeKind, HttpObserver, Runtime, RuntimeConfig,
    TargetInstance,
};
use provisioner_server::tutorial::{self, SalesforceOrg};
use salesforce_emulator::jwt::JWT_BEARER_GRANT;
use salesforce_emulator::{Emulator, EmulatorConfig};

const PRIVATE_KEY: &str = include_str!("../salesforce-emulator/tests/fixtures/jwt-private-key.pem");
const PUBLIC_KEY: &str = include_str!("../salesforce-emulator/tests/fixtures/jwt-public-key.pem");
const OTHER_PRIVATE_KEY: &str =
    include_str!("../salesforce-emulator/tests/fixtures/jwt-other-private-key.pem");

/// Records every exchange the host makes.
#[derive(Default)]
struct Recorder(Mutex<Vec<Exchange>>);

impl HttpObserver for Recorder {
    fn on_exchange(&self, exchange: &Exchange) {
        self.0.lock().unwrap().push(exchange.clone());
    }
}

struct Harness {
    emulator: Emulator,
    runtime: Runtime,
    target: TargetInstance,
    recorder: Arc<Recorder>,
}

/// The emulator trusting `PUBLIC_KEY`, and the tutorial target switched to the JWT bearer flow
/// signing with `private_key`.
async fn harness(private_key: &str) -> Harness {
    let emulator = Emulator::start(EmulatorConfig {
        jwt_public_key_pem: Some(PUBLIC_KEY.into()),
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let recorder = Arc::new(Recorder::default());
    let runtime = Runtime::builder(RuntimeConfig::default())
        .observer(recorder.clone())
        .build()
        .unwrap();
    let (connector, _) = runtime
        .load_bytes(builtin_connectors::SALESFORCE.bytes)
        .await
        .unwrap();
    let emu_config = emulator.config();
    let org = SalesforceOrg {
        domain: emulator.base_url().to_string(),
        token_endpoint: emulator.token_url(),
        client_id: emu_config.client_id.clone(),
        client_secret: String::new(),
        username: emu_config.username.clone(),
        password_and_token: String::new(),
    };
    let mut config = tutorial::tutorial_target(&org, EgressPolicy::loopback())
        .value("sf-auth-flow", "jwt-bearer")
        .value("sf-username", emu_config.username.as_str())
        .value("sf-jwt-audience", emulator.base_url())
        .secret("sf-private-key", private_key);
    config.secrets.remove("sf-password");
    config.secrets.remove("sf-client-secret");
    let target = TargetInstance::new(&runtime, connector, config).unwrap();
    Harness {
        emulator,
        runtime,
        target,
        recorder,
    }
}

fn samuel() -> provisioner_contract::Change {
    tutorial::user(
        Operation::Create,
        tutorial::TUTORIAL_USER_NAME,
        None,
        &tutorial::samuel_claims(),
        &[],
    )
}

#[tokio::test]
async fn tutorial_user_is_created_through_the_jwt_bearer_flow() {
    let h = harness(PRIVATE_KEY).await;
    assert_eq!(h.target.validate().await.unwrap(), vec![]);

    let outcome = h.target.provision(&samuel()).await.unwrap();
    let id = outcome.remote_id.expect("the created user's id");
    assert!(id.starts_with("005") && id.len() == 18, "{id}");

    // Exactly one token request, a successful jwt-bearer one.
    let counters = h.emulator.counters();
    assert_eq!(
        counters.token_count(JWT_BEARER_GRANT, "success"),
        1,
        "{:?}",
        counters.token_requests
    );
    assert_eq!(
        counters.token_requests.len(),
        1,
        "{:?}",
        counters.token_requests
    );
    assert_eq!(
        counters.token_requests[JWT_BEARER_GRANT]
            .values()
            .sum::<u64>(),
        1
    );
    assert_eq!(h.runtime.tokens().token_requests(), 1);

    // The user exists in the org.
    let record = h.emulator.user(&id).expect("record in the org");
    assert_eq!(record.username(), tutorial::TUTORIAL_USER_NAME);
    assert_eq!(record.text("LastName"), Some("Gnaniah"));
    assert!(record.is_active());
    assert!(h
        .emulator
        .user_by_username(tutorial::TUTORIAL_USER_NAME)
        .is_some());

    // What the host reports of the token request: the grant type, never the assertion.
    let exchanges = h.recorder.0.lock().unwrap().clone();
    let token = exchanges
        .iter()
        .find(|e| e.kind == ExchangeKind::Token)
        .expect("a token exchange");
    let body = String::from_utf8_lossy(&token.request_body).to_string();
    assert!(
        body.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"),
        "{body}"
    );
    assert!(body.contains("assertion=%5BREDACTED%5D"), "{body}");
    assert!(!body.contains("eyJ"), "{body}");
}

#[tokio::test]
async fn wrong_private_key_fails_with_auth_failed_invalid_grant() {
    let h = harness(OTHER_PRIVATE_KEY).await;
    let result = h.target.provision(&samuel()).await;
    match result {
        Err(CallError::Connector(ProvisionError::AuthFailed(detail))) => {
            assert_eq!(
                detail.target_code.as_deref(),
                Some("invalid_grant"),
                "{detail:?}"
            );
            assert!(detail.message.contains("invalid assertion"), "{detail:?}");
        }
        other => panic!("expected auth-failed, got {other:?}"),
    }
    let counters = h.emulator.counters();
    assert_eq!(
        counters.token_count(JWT_BEARER_GRANT, "invalid_grant"),
        1,
        "{:?}",
        counters.token_requests
    );
    assert_eq!(counters.token_count(JWT_BEARER_GRANT, "success"), 0);
    assert_eq!(counters.api_calls, 0);
    assert!(h
        .emulator
        .user_by_username(tutorial::TUTORIAL_USER_NAME)
        .is_none());
}
