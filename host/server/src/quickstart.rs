//! The quickstart server's configuration: tenant `carbon.super` with the tutorial's Salesforce
//! target pointed at a local (emulated) org, an `admin` Basic user (for SCIM and, as a server
//! administrator, for the admin API and console, with the same password), and a fresh embedded
//! database.

use std::path::Path;

use crate::tutorial::{self, SalesforceOrg};
use provisioner_runtime::config::ConfigInput;
use provisioner_runtime::EgressPolicy;

use super::config::{
    AdminSection, AdminUser, BasicCredential, DatabaseConfig, EgressConfig, ListenConfig,
    MappingEntry, PropertyValue, ServerConfig, TargetEntry, TenantConfig, BUILTIN_SALESFORCE,
};

/// The quickstart tenant.
pub const TENANT: &str = "carbon.super";
/// The quickstart's Basic user name.
pub const ADMIN: &str = "admin";

/// The tutorial's SCIM 1.x request body, verbatim.
pub const TUTORIAL_BODY: &str = r#"{"schemas":     ["urn:scim:schemas:core:1.0"],"userName":"samuel@wso2.com","password":"test25","name":{"familyName":"Gnaniah"},"emails":     ["samuel@wso2.com"],"entitlements":     [{"value":"00e90000001aV2o","display":"ChatterFreeUser"}]}"#;

/// A random password of 20 alphanumeric characters.
pub fn random_password() -> String {
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// The tutorial's Salesforce target against a local (emulated) `org`, as a configuration entry
/// (loopback egress; the org's secrets as literal values, kept in memory only).
pub fn tutorial_target(org: &SalesforceOrg) -> TargetEntry {
    let target = tutorial::tutorial_target(org, EgressPolicy::loopback());
    let properties = target
        .values
        .iter()
        .map(|(key, value)| {
            let value = match value {
                ConfigInput::Text(t) => PropertyValue::Text(t.clone()),
                ConfigInput::Bool(b) => PropertyValue::Bool(*b),
                ConfigInput::Int(i) => PropertyValue::Int(*i),
                ConfigInput::ClaimMappings(rows) => PropertyValue::Mappings(
                    rows.iter()
                        .map(|m| MappingEntry {
                            field: m.target_field.clone(),
                            claim: m.claim.clone(),
                            default: m.default_value.clone(),
                        })
                        .collect(),
                ),
            };
            (key.clone(), value)
        })
        .collect();
    let secrets = target
        .secrets
        .iter()
        .map(|(key, value)| (key.clone(), format!("literal:{}", value.expose())))
        .collect();
    TargetEntry {
        name: target.target,
        connector: BUILTIN_SALESFORCE.into(),
        properties,
        secrets,
        outbound: Default::default(),
        egress: EgressConfig {
            allow_loopback: true,
            ..EgressConfig::default()
        },
        secret_policy: Default::default(),
    }
}

/// The quickstart configuration: `listen`, a database file in `data_dir`, tenant
/// `carbon.super` with the `admin`/`password` Basic user and the tutorial's Salesforce target.
pub fn config(org: &SalesforceOrg, data_dir: &Path, listen: &str, password: &str) -> ServerConfig {
    ServerConfig {
        server: ListenConfig {
            listen: listen.into(),
            ..ListenConfig::default()
        },
        database: DatabaseConfig {
            url: format!("sqlite:{}", data_dir.join("provisioner.db").display()),
        },
        tenants: vec![TenantConfig {
            name: TENANT.into(),
            basic: vec![BasicCredential {
                username: ADMIN.into(),
                password: Some(format!("literal:{password}")),
                password_hash: None,
            }],
            bearer: Vec::new(),
            targets: vec![tutorial_target(org)],
        }],
        admin: AdminSection {
            users: vec![AdminUser {
                username: ADMIN.into(),
                password: Some(format!("literal:{password}")),
                password_hash: None,
                tenant: None,
            }],
            tokens: Vec::new(),
        },
        ..ServerConfig::default()
    }
}

/// The ready-to-paste curl that creates the tutorial's user through the SCIM 1.x endpoint.
pub fn tutorial_curl(addr: std::net::SocketAddr, password: &str) -> String {
    format!(
        "curl -v --header \"Content-Type:application/json\" --user {ADMIN}:{password} --data '{TUTORIAL_BODY}' http://{addr}/wso2/scim/Users"
    )
}
