//! Test support: a Salesforce target backed by the emulator, run through the real connector
//! component (the built-in one).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use provisioner_engine::store::{OutboundSettings, Store, TargetRecord, TargetSpec};
use provisioner_engine::UserState;
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig};
use provisioner_server::tutorial::{claim, tutorial_claim_mappings};
use provisioner_server::Registry;
use salesforce_emulator::{Emulator, EmulatorConfig};

use crate::engine_support::TENANT;

/// An org with room for thousands of users and API calls.
pub fn roomy_org() -> EmulatorConfig {
    EmulatorConfig {
        licences: 100_000,
        api_max: 100_000_000,
        request_log_capacity: 10,
        ..EmulatorConfig::default()
    }
}

/// Registers a Salesforce target against `emulator` (client credentials; the secret is a
/// `file:` reference written into `dir`), with the tutorial's claim mappings.
pub async fn salesforce_target(
    store: &Store,
    emulator: &Emulator,
    name: &str,
    settings: OutboundSettings,
    dir: &Path,
) -> TargetRecord {
    store
        .put_target(&salesforce_spec(emulator, name, settings, dir))
        .await
        .unwrap()
}

/// Registers a Salesforce target like [`salesforce_target`] that sends one call per change
/// (`sf-batch-size` 1), for tests about the per-call economics: faults drawn per request, the
/// org's API-call quota.
pub async fn salesforce_single_call_target(
    store: &Store,
    emulator: &Emulator,
    name: &str,
    settings: OutboundSettings,
    dir: &Path,
) -> TargetRecord {
    let mut spec = salesforce_spec(emulator, name, settings, dir);
    spec.properties
        .insert("sf-batch-size".into(), serde_json::Value::from(1));
    store.put_target(&spec).await.unwrap()
}

/// The target specification [`salesforce_target`] registers.
pub fn salesforce_spec(
    emulator: &Emulator,
    name: &str,
    settings: OutboundSettings,
    dir: &Path,
) -> TargetSpec {
    let config = emulator.config();
    let secret_path = dir.join(format!("{name}-client-secret"));
    std::fs::write(&secret_path, &config.client_secret).unwrap();
    let properties: BTreeMap<String, serde_json::Value> = [
        ("sf-api-version", "v62.0".into()),
        ("sf-domain-name", emulator.base_url().into()),
        ("sf-token-endpoint", emulator.token_url().into()),
        ("sf-auth-flow", "client_credentials".into()),
        ("sf-clientid", config.client_id.clone().into()),
        ("sf-request-timeout-ms", serde_json::Value::from(2_000)),
    ]
    .into_iter()
    .map(|(k, v): (&str, serde_json::Value)| (k.to_owned(), v))
    .collect();
    TargetSpec {
        tenant: TENANT.into(),
        name: name.into(),
        connector: "builtin:salesforce".into(),
        properties,
        secret_refs: [(
            "sf-client-secret".to_owned(),
            format!("file:{}", secret_path.display()),
        )]
        .into(),
        claim_mappings: tutorial_claim_mappings(),
        settings,
        egress: Default::default(),
    }
}

/// A registry running components in a sandbox runtime that may reach loopback.
pub fn registry() -> Arc<Registry> {
    let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
    Arc::new(Registry::with_runtime(runtime, EgressPolicy::loopback()))
}

/// A user whose Salesforce Username is `<id>@example.com`.
pub fn sf_user(id: &str, last_name: &str) -> UserState {
    let email = format!("{id}@example.com");
    UserState {
        id: id.into(),
        user_name: email.clone(),
        claims: [
            (claim("emailaddress"), vec![email]),
            (claim("lastname"), vec![last_name.to_owned()]),
            (claim("givenname"), vec!["Pat".to_owned()]),
        ]
        .into(),
        roles: vec![],
        document: None,
        search_keys: Vec::new(),
    }
}

/// The emulator's users with this Username (case-insensitive), active or not.
pub fn users_named(emulator: &Emulator, username: &str) -> Vec<salesforce_emulator::UserRecord> {
    emulator
        .users()
        .into_iter()
        .filter(|u| {
            u.get("Username")
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(username))
        })
        .collect()
}
