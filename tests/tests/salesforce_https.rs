//! End to end over TLS: the built-in Salesforce connector provisions into the emulator served
//! over HTTPS with a certificate from a CA generated at start. With the target's CA bundle
//! naming that CA the user is created; without it the connection fails certificate
//! verification (verification is never skipped).

#[path = "../../host/server/tests/support/org.rs"]
mod org_support;

use std::sync::{Arc, Mutex};

use org_support::org;
use provisioner_contract::{Operation, ProvisionError};
use provisioner_runtime::{
    CaBundle, CallError, EgressPolicy, Exchange, HttpObserver, Runtime, RuntimeConfig,
    TargetConfig, TargetInstance,
};
use provisioner_server::{self as server, quickstart, tutorial};
use salesforce_emulator::{Emulator, EmulatorConfig, ServeOptions};

/// Records every exchange the host makes.
#[derive(Default)]
struct Recorder(Mutex<Vec<Exchange>>);

impl HttpObserver for Recorder {
    fn on_exchange(&self, exchange: &Exchange) {
        self.0.lock().unwrap().push(exchange.clone());
    }
}

async fn https_emulator() -> (Emulator, tempfile::TempDir, std::path::PathBuf) {
    let emulator = Emulator::start_with(EmulatorConfig::default(), ServeOptions::default().https())
        .await
        .unwrap();
    assert!(emulator.base_url().starts_with("https://127.0.0.1:"));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("emulator-ca.pem");
    std::fs::write(&ca, emulator.ca_certificate_pem().unwrap()).unwrap();
    (emulator, dir, ca)
}

async fn target(
    emulator: &Emulator,
    configure: impl FnOnce(TargetConfig) -> TargetConfig,
) -> (TargetInstance, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let runtime = Runtime::builder(RuntimeConfig::default())
        .observer(recorder.clone())
        .build()
        .unwrap();
    let (connector, _) = runtime
        .load_bytes(builtin_connectors::SALESFORCE.bytes)
        .await
        .unwrap();
    let config = configure(tutorial::tutorial_target(
        &org(emulator),
        EgressPolicy::loopback(),
    ));
    let instance = TargetInstance::new(&runtime, connector, config).unwrap();
    (instance, recorder)
}

/// The user these tests create.
const USER: &str = "https-user@example.com";

fn https_user() -> provisioner_contract::Change {
    let claims = [("emailaddress", USER), ("lastname", "Secure")];
    tutorial::user(Operation::Create, USER, None, &claims, &[])
}

#[tokio::test]
async fn provisions_over_https_when_the_target_trusts_the_emulators_ca() {
    let (emulator, _dir, ca) = https_emulator().await;
    let bundle = CaBundle::from_pem_file(&ca).unwrap();
    assert_eq!(bundle.len(), 1);
    let (target, recorder) = target(&emulator, |config| config.ca_bundle(bundle)).await;

    let outcome = target.provision(&https_user()).await.unwrap();
    let id = outcome.remote_id.expect("the created user's id");
    let record = emulator.user(&id).expect("the user in the org");
    assert_eq!(record.text("Username"), Some(USER));
    assert_eq!(record.text("LastName"), Some("Secure"));

    let exchanges = recorder.0.lock().unwrap().clone();
    assert!(!exchanges.is_empty());
    for exchange in &exchanges {
        assert!(exchange.url.starts_with("https://"), "{}", exchange.url);
        assert!(exchange.status.is_some(), "{exchange:?}");
    }
}

#[tokio::test]
async fn without_the_ca_bundle_the_certificate_is_refused() {
    let (emulator, _dir, _ca) = https_emulator().await;
    let users_before = emulator.users().len();
    let (target, recorder) = target(&emulator, |config| config).await;

    let error = match target.provision(&https_user()).await {
        Err(CallError::Connector(ProvisionError::Transient(error))) => error,
        other => panic!("expected a transient connection failure, got {other:?}"),
    };
    assert!(
        error.detail.message.contains("invalid peer certificate"),
        "{error:?}"
    );
    assert!(!error.outcome_unknown, "nothing was sent: {error:?}");
    let exchanges = recorder.0.lock().unwrap().clone();
    assert!(!exchanges.is_empty());
    for exchange in &exchanges {
        assert_eq!(exchange.status, None, "{exchange:?}");
        let message = exchange.error.as_deref().unwrap_or_default();
        assert!(message.contains("invalid peer certificate"), "{message}");
    }
    assert_eq!(emulator.users().len(), users_before);
}

#[tokio::test]
async fn a_bundle_of_another_ca_does_not_make_the_emulator_trusted() {
    let (emulator, _dir, _ca) = https_emulator().await;
    let (other, _other_dir, other_ca) = https_emulator().await;
    drop(other);
    let bundle = CaBundle::from_pem_file(&other_ca).unwrap();
    let (target, _) = target(&emulator, |config| config.ca_bundle(bundle)).await;
    let result = target.provision(&https_user()).await;
    assert!(
        matches!(
            &result,
            Err(CallError::Connector(ProvisionError::Transient(e)))
                if e.detail.message.contains("invalid peer certificate")
        ),
        "{result:?}"
    );
}

/// The server's configuration path: `[tenants.targets.egress] ca_bundle` reaches the connector.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_configuration_ca_bundle_reaches_the_connector() {
    let (emulator, dir, ca) = https_emulator().await;
    let mut config = quickstart::config(&org(&emulator), dir.path(), "127.0.0.1:0", "pw-https");
    let target = &mut config.tenants[0].targets[0];
    target.egress.ca_bundle = Some(ca);
    target.outbound.blocking = true;
    target.outbound.timeout_ms = 60_000;
    let handle = server::start(config).await.unwrap();

    let response = reqwest::Client::new()
        .post(format!("{}/wso2/scim/Users", handle.base_url()))
        .basic_auth(quickstart::ADMIN, Some("pw-https"))
        .header("Content-Type", "application/json")
        .body(quickstart::TUTORIAL_BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
    let remote = emulator
        .user_by_username(tutorial::TUTORIAL_USER_NAME)
        .expect("the blocking write waited for the user to reach the org");
    assert_eq!(remote.text("LastName"), Some("Gnaniah"));
    handle.shutdown().await.unwrap();
}
