//! Salesforce outbound-provisioning connector.
//!
//! Provisions users into a Salesforce org through the REST API, the way WSO2 Identity Server's
//! Salesforce connector does, minus its defects: typed errors, UTF-8 bodies, partial updates,
//! a deactivate-and-rename delete that keeps the mapping when the rename fails, and a lookup for
//! correlation.
//!
//! Built on the provisioner SDK (contract 0.2): [`connector::Salesforce`] is the exported
//! connector; with the cargo feature `contract-v0-1`, the `legacy` module exports the same logic
//! as a contract 0.1.0 component instead. All logic lives in plain Rust modules parameterized on
//! [`Host`], so it compiles and tests natively. The native entry points are [`metadata`],
//! [`validate`], [`provision`], [`provision_batch`], [`lookup`] and [`list_entities`].

pub mod api;
pub mod auth;
pub mod batch;
pub mod connector;
pub mod errors;
pub mod fields;
#[cfg(all(feature = "contract-v0-1", target_arch = "wasm32"))]
mod legacy;
pub mod list;
pub mod lookup;
pub mod mapping;
pub mod pattern;
pub mod provision;
pub mod salesforce;
pub mod schema;
pub mod settings;
pub mod username;
pub mod view;

pub use provisioner_sdk::{
    AttributeMatch, BasicCredential, Change, Claim, ClaimMapping, ClientCredentialsGrant,
    ConfigEntry, ConfigProblem, ConfigProperty, ConfigValue, ConflictError, ConnectionFailure,
    ConnectorConfig, ConnectorMetadata, Credential, Entity, EntityKind, ErrorDetail, Group, Host,
    HttpError, JwtBearerGrant, Level, ListRequest, LookupKey, Member, Method, OauthGrant,
    Operation, PasswordGrant, PropertyKind, ProvisionError, ProvisionOutcome, RateLimitError,
    RemoteObject, RemotePage, Request, Response, SecretHeader, SecretRef, TokenError,
    TransientError, User,
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
    change: &Change,
) -> Result<ProvisionOutcome, ProvisionError> {
    provision::provision(host, config, &change.into())
}

/// Applies `changes` in order, each as [`provision`] would; one result per change, in order.
pub fn provision_batch(
    host: &dyn Host,
    config: &ConnectorConfig,
    changes: &[Change],
) -> Vec<Result<ProvisionOutcome, ProvisionError>> {
    provision::provision_batch(host, config, changes.iter().map(Into::into))
}

/// Finds a Salesforce user by an attribute or by the connector's correlation rule (Username).
pub fn lookup(
    host: &dyn Host,
    config: &ConnectorConfig,
    key: &LookupKey,
) -> Result<Option<RemoteObject>, ProvisionError> {
    lookup::lookup(host, config, &key.into())
}

/// Reads one page of remote users (`nextRecordsUrl` paging); `unsupported` for groups.
pub fn list_entities(
    host: &dyn Host,
    config: &ConnectorConfig,
    request: &ListRequest,
) -> Result<RemotePage, ProvisionError> {
    list::list_entities(host, config, request)
}
