//! Embedding the runtime: load a connector component and provision one user.
//!
//! Here the component is the built-in Salesforce connector and the target a local Salesforce
//! emulator; a host would load its own component file and point it at the real system.
//! Run with `cargo run -p provisioner-runtime --example embed`.

use provisioner_contract::{Change, Claim, ClaimMapping, Entity, Operation, User};
use provisioner_runtime::{
    ConfigInput, EgressPolicy, Runtime, RuntimeConfig, TargetConfig, TargetInstance,
};

/// Salesforce field, local claim, default.
const MAPPING: [(&str, &str, &str); 9] = [
    ("Username", "emailaddress", ""),
    ("Email", "emailaddress", ""),
    ("LastName", "lastname", ""),
    ("Alias", "givenname", "ada"),
    ("ProfileId", "role", "00e90000001aV2o"),
    ("EmailEncodingKey", "-", "UTF-8"),
    ("LanguageLocaleKey", "-", "en_US"),
    ("LocaleSidKey", "-", "en_US"),
    ("TimeZoneSidKey", "-", "America/Los_Angeles"),
];
use salesforce_emulator::{Emulator, EmulatorConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let org = Emulator::start(EmulatorConfig::default()).await?;

    // One runtime per process: shared engine, compiled-component cache, epoch ticker.
    let runtime = Runtime::new(RuntimeConfig::default())?;
    let (connector, _) = runtime
        .load_bytes(builtin_connectors::SALESFORCE.bytes)
        .await?;
    println!(
        "loaded {} (contract {})",
        connector.metadata().name,
        connector.contract_version()
    );

    // One target: the operator's values, secrets (never seen by the guest), egress policy.
    let salesforce = org.config();
    let config = TargetConfig::new("acme", "salesforce")
        .value("sf-api-version", "v62.0")
        .value("sf-domain-name", org.base_url())
        .value("sf-token-endpoint", org.token_url().as_str())
        .value("sf-clientid", salesforce.client_id.as_str())
        .value("sf-auth-flow", "password")
        .value("sf-username", salesforce.username.as_str())
        .secret("sf-client-secret", salesforce.client_secret.as_str())
        .secret("sf-password", salesforce.expected_password().as_str())
        .value("sf-claim-mappings", ConfigInput::ClaimMappings(mappings()))
        .egress(EgressPolicy::loopback());
    let target = TargetInstance::new(&runtime, connector, config)?;

    // One change; every call runs in a fresh sandbox.
    let claim = |uri: &str, value: &str| Claim {
        uri: format!("http://wso2.org/claims/{uri}"),
        values: vec![value.into()],
    };
    let change = Change {
        operation: Operation::Create,
        entity: Entity::User(User {
            local_id: "u-1".into(),
            name: "ada@example.com".into(),
            remote_id: None,
            claims: vec![
                claim("emailaddress", "ada@example.com"),
                claim("lastname", "Lovelace"),
            ],
            changed_claims: vec![],
            previous_name: None,
        }),
    };
    let outcome = target.provision(&change).await?;
    println!("created remote user {:?}", outcome.remote_id);
    org.shutdown().await;
    Ok(())
}

fn mappings() -> Vec<ClaimMapping> {
    let mapping = |(field, claim, default): &(&str, &str, &str)| ClaimMapping {
        target_field: field.to_string(),
        claim: Some(format!("http://wso2.org/claims/{claim}")),
        default_value: (!default.is_empty()).then(|| default.to_string()),
    };
    MAPPING.iter().map(mapping).collect()
}
