//! Salesforce outbound-provisioning connector.
//!
//! Provisions users into a Salesforce org through the REST API, the way WSO2 Identity Server's
//! Salesforce connector does, minus its defects: typed errors, UTF-8 bodies, partial updates,
//! a deactivate-and-rename delete that keeps the mapping when the rename fails, and a lookup for
//! correlation.
//!
//! All logic lives in plain Rust modules parameterized on [`Host`], so it compiles and tests
//! natively; the component glue (`component.rs`, wasm32 only) maps the real imports onto that
//! trait. The native entry points are [`metadata`], [`validate`], [`provision`] and [`lookup`].

wit_bindgen::generate!({
    path: "../../wit",
    world: "connector",
    additional_derives: [PartialEq],
});

pub mod api;
pub mod auth;
pub mod errors;
pub mod fields;
pub mod host;
pub mod lookup;
pub mod mapping;
pub mod provision;
pub mod schema;
pub mod settings;
pub mod username;

#[cfg(target_arch = "wasm32")]
mod component;

pub use host::Host;
pub use provisioning::connector::http::{
    ClientCredentialsGrant, ConnectionFailure, Credential, HttpError, JwtBearerGrant, Method,
    OauthGrant, PasswordGrant, Request, Response, TokenError,
};
pub use provisioning::connector::log::Level;
pub use provisioning::connector::types::{
    AttributeMatch, Claim, ClaimMapping, ConfigEntry, ConfigProblem, ConfigProperty, ConfigValue,
    ConflictError, ConnectorConfig, ConnectorMetadata, Entity, EntityKind, ErrorDetail, LookupKey,
    Member, Operation, PropertyKind, ProvisionError, ProvisionOutcome, RateLimitError,
    RemoteObject, SecretRef, TransientError,
};

/// The connector's metadata and configuration schema.
pub fn metadata() -> ConnectorMetadata {
    schema::metadata()
}

/// Checks a configuration without touching the network; an empty list means it is usable.
pub fn validate(config: &ConnectorConfig) -> Vec<ConfigProblem> {
    settings::validate(config)
}

/// Applies one local change to Salesforce through `host`.
pub fn provision(
    host: &dyn Host,
    config: &ConnectorConfig,
    entity: &Entity,
) -> Result<ProvisionOutcome, ProvisionError> {
    provision::provision(host, config, entity)
}

/// Finds a Salesforce user by an attribute or by the connector's correlation rule (Username).
pub fn lookup(
    host: &dyn Host,
    config: &ConnectorConfig,
    key: &LookupKey,
) -> Result<Option<RemoteObject>, ProvisionError> {
    lookup::lookup(host, config, key)
}
