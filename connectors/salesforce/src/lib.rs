//! Salesforce outbound-provisioning connector.
//!
//! Provisions users into a Salesforce org through the REST API, the way WSO2 Identity Server's
//! Salesforce connector does, minus its defects: typed errors, UTF-8 bodies, partial updates,
//! a deactivate-and-rename delete that keeps the mapping when the rename fails, and a lookup for
//! correlation.
//!
//! The crate binds contract 0.2 (`wit/v0.2`) by default and the frozen 0.1 with the cargo
//! feature `contract-v0-1` (see [`contract`]). All logic lives in plain Rust modules
//! parameterized on [`Host`], so it compiles and tests natively; the component glue
//! (`component.rs`, wasm32 only, so native cdylib builds carry no export symbols) maps the real
//! imports onto that trait. The native entry points are [`metadata`], [`validate`],
//! [`provision`], [`provision_batch`], [`lookup`] and, with contract 0.2, `list_entities`.

pub mod api;
pub mod auth;
pub mod contract;
pub mod errors;
pub mod fields;
pub mod host;
#[cfg(not(feature = "contract-v0-1"))]
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

#[cfg(target_arch = "wasm32")]
mod component;

pub use contract::*;
pub use host::Host;

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

/// Reads one page of remote entities (contract 0.2); `unsupported` for now.
#[cfg(not(feature = "contract-v0-1"))]
pub fn list_entities(
    host: &dyn Host,
    config: &ConnectorConfig,
    request: &ListRequest,
) -> Result<RemotePage, ProvisionError> {
    list::list_entities(host, config, request)
}
