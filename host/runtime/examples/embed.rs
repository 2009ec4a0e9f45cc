//! Embedding the runtime: load a connector component and provision one user. Here the component
//! is the built-in Salesforce connector and the target a local Salesforce emulator; a host loads
//! its own component and points it at the real system. `cargo run -p provisioner-runtime --example embed`

use provisioner_contract::{Change, Claim, ClaimMapping, Entity, Operation, User};
use provisioner_runtime::{
    ConfigInput, EgressPolicy, Runtime, RuntimeConfig, TargetConfig, TargetInstance,
};
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
        "loaded {} ({})",
        connector.metadata().name,
        connector.contract_version()
    );

    // A target: the operator's values, secrets (never seen by the guest) and egress policy.
    let sf = org.config();
    let config = TargetConfig::new("acme", "salesforce")
        .value("sf-api-version", "v62.0")
        .value("sf-domain-name", org.base_url())
        .value("sf-token-endpoint", org.token_url().as_str())
        .value("sf-clientid", sf.client_id.as_str())
        .value("sf-auth-flow", "password")
        .value("sf-username", sf.username.as_str())
        .value("sf-claim-mappings", ConfigInput::ClaimMappings(mappings()))
        .secret("sf-client-secret", sf.client_secret.as_str())
        .secret("sf-password", sf.expected_password().as_str())
        .egress(EgressPolicy::loopback());
    let target = TargetInstance::new(&runtime, connector, config)?;

    // One change, run in a fresh sandbox.
    let claims = [
        ("emailaddress", "ada@example.com"),
        ("lastname", "Lovelace"),
    ];
    let user = User {
        local_id: "u-1".into(),
        name: "ada@example.com".into(),
        remote_id: None,
        claims: claims
            .map(|(c, v)| Claim {
                uri: claim(c),
                values: vec![v.into()],
            })
            .into(),
        changed_claims: vec![],
        previous_name: None,
    };
    let change = Change {
        operation: Operation::Create,
        entity: Entity::User(user),
    };
    let outcome = target.provision(&change).await?;
    println!("created remote user {:?}", outcome.remote_id);
    org.shutdown().await;
    Ok(())
}

fn claim(name: &str) -> String {
    format!("http://wso2.org/claims/{name}")
}

/// Salesforce field <- local claim, with a default (Salesforce requires every one of these).
#[rustfmt::skip]
fn mappings() -> Vec<ClaimMapping> {
    [("Username", "emailaddress", ""), ("Email", "emailaddress", ""), ("LastName", "lastname", ""),
     ("Alias", "givenname", "ada"), ("ProfileId", "role", "00e90000001aV2o"),
     ("EmailEncodingKey", "-", "UTF-8"), ("LanguageLocaleKey", "-", "en_US"),
     ("LocaleSidKey", "-", "en_US"), ("TimeZoneSidKey", "-", "America/Los_Angeles")]
        .map(|(field, c, default)| ClaimMapping {
            target_field: field.into(),
            claim: Some(claim(c)),
            default_value: (!default.is_empty()).then(|| default.into()),
        })
        .into()
}
