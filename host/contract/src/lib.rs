//! Host bindings of the `provisioning:connector` contract, one module per supported version.
//!
//! The contract is versioned WIT under `wit/vX.Y/`; released versions are frozen. While the major
//! version is 0, every minor version is a breaking one (WIT has no optional exports), so the host
//! supports a *range* of versions side by side, the way Zed's extension host does:
//!
//! - [`v0_2`] is the newest contract. Its generated types ([`latest`], re-exported at the crate
//!   root) are the ones the rest of the host works with.
//! - [`v0_1`] binds the older contract and adapts it to the newest: its calls take and return
//!   the newest types, converting at the boundary.
//! - [`SUPPORTED`] states the range in one place; [`ContractVersion::of_component`] reads a
//!   component's version from its export names before anything is instantiated, and refuses a
//!   version outside the range with an error that names both.
//!
//! [`ConnectorPre`] and [`ConnectorInstance`] hide the version from callers: load a component,
//! make a `ConnectorPre` for its version, and call it with the newest types.
//!
//! Depends on wasmtime (for `bindgen!`) and serde; nothing else of the host.

pub mod v0_1;
pub mod v0_2;
mod version;

pub use v0_2 as latest;
pub use version::{ContractVersion, VersionError, PACKAGE, SUPPORTED};

pub use v0_2::exports::provisioning::connector::provisioning::Guest as ProvisioningExports;
pub use v0_2::provisioning::connector::http::{
    BasicCredential, ClientCredentialsGrant, ConnectionFailure, Credential, HttpError,
    JwtBearerGrant, Method, OauthGrant, PasswordGrant, Request, Response, SecretHeader, TokenError,
};
pub use v0_2::provisioning::connector::log::Level;
pub use v0_2::provisioning::connector::types::*;

/// The well-known claim that says whether a user's account is disabled locally.
///
/// The host sends it with every `create` and `update` of a user, always with exactly one value:
/// `"true"` when the account is disabled (SCIM `active: false`, WSO2 `accountDisabled`),
/// `"false"` otherwise (also for a user that never had the claim). When it flips, it is among
/// the update's `changed-claims`. A connector keeps a disabled user in its target but inactive
/// (deactivated, its mapping kept), and active again on `"false"`; a user created disabled is
/// created inactive. Deprovisioning (a user deleted, or leaving a target's scope) is a `delete`
/// instead. The contract itself is unchanged: this is a claim like any other, with a meaning
/// every connector can rely on.
pub const ACCOUNT_DISABLED_CLAIM: &str = "http://wso2.org/claims/accountDisabled";

use wasmtime::component::{HasSelf, InstancePre, Linker};
use wasmtime::Store;

/// What a host must implement to serve the contract's imports (`http`, `log`); the newest
/// version's traits serve every supported version.
pub trait HostImports:
    v0_2::provisioning::connector::http::Host
    + v0_2::provisioning::connector::log::Host
    + v0_2::provisioning::connector::types::Host
    + Send
    + 'static
{
}

impl<T> HostImports for T where
    T: v0_2::provisioning::connector::http::Host
        + v0_2::provisioning::connector::log::Host
        + v0_2::provisioning::connector::types::Host
        + Send
        + 'static
{
}

/// Adds the imports of every supported contract version to `linker`.
pub fn add_to_linker<T: HostImports>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    v0_2::Connector::add_to_linker::<T, HasSelf<T>>(linker, |state| state)?;
    v0_1::add_to_linker(linker)
}

/// A component linked for its contract version, ready to instantiate.
pub enum ConnectorPre<T: 'static> {
    /// A contract 0.1.x component.
    V0_1(v0_1::ConnectorPre<T>),
    /// A contract 0.2.x component.
    V0_2(v0_2::ConnectorPre<T>),
}

impl<T: Send + 'static> ConnectorPre<T> {
    /// Checks that `pre`'s component exports `version`'s interface with the right types.
    pub fn new(version: ContractVersion, pre: InstancePre<T>) -> wasmtime::Result<Self> {
        Ok(match version {
            ContractVersion::V0_1 => Self::V0_1(v0_1::ConnectorPre::new(pre)?),
            ContractVersion::V0_2 => Self::V0_2(v0_2::ConnectorPre::new(pre)?),
        })
    }

    /// The contract version the component was built for.
    pub fn version(&self) -> ContractVersion {
        match self {
            Self::V0_1(_) => ContractVersion::V0_1,
            Self::V0_2(_) => ContractVersion::V0_2,
        }
    }

    /// Instantiates the component in `store`.
    pub async fn instantiate_async(
        &self,
        store: &mut Store<T>,
    ) -> wasmtime::Result<ConnectorInstance> {
        Ok(match self {
            Self::V0_1(pre) => ConnectorInstance::V0_1(pre.instantiate_async(store).await?),
            Self::V0_2(pre) => ConnectorInstance::V0_2(pre.instantiate_async(store).await?),
        })
    }
}

/// An instantiated connector of any supported version, called with the newest types.
pub enum ConnectorInstance {
    /// A contract 0.1.x instance.
    V0_1(v0_1::Connector),
    /// A contract 0.2.x instance.
    V0_2(v0_2::Connector),
}

impl ConnectorInstance {
    /// `metadata()`; an older connector's metadata is completed with the newest fields' defaults.
    pub async fn metadata<T: Send>(
        &self,
        store: &mut Store<T>,
    ) -> wasmtime::Result<ConnectorMetadata> {
        match self {
            Self::V0_1(guest) => v0_1::metadata(guest, store).await,
            Self::V0_2(guest) => {
                guest
                    .provisioning_connector_provisioning()
                    .call_metadata(store)
                    .await
            }
        }
    }

    /// `validate(config)`.
    pub async fn validate<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &ConnectorConfig,
    ) -> wasmtime::Result<Vec<ConfigProblem>> {
        match self {
            Self::V0_1(guest) => v0_1::validate(guest, store, config).await,
            Self::V0_2(guest) => {
                guest
                    .provisioning_connector_provisioning()
                    .call_validate(store, config)
                    .await
            }
        }
    }

    /// `provision(config, change)`.
    pub async fn provision<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &ConnectorConfig,
        change: &Change,
    ) -> wasmtime::Result<Result<ProvisionOutcome, ProvisionError>> {
        match self {
            Self::V0_1(guest) => v0_1::provision(guest, store, config, change).await,
            Self::V0_2(guest) => {
                guest
                    .provisioning_connector_provisioning()
                    .call_provision(store, config, change)
                    .await
            }
        }
    }

    /// `provision-batch(config, changes)`; an older connector applies the changes one by one in
    /// the same instance. The caller checks that one result came back per change.
    pub async fn provision_batch<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &ConnectorConfig,
        changes: &[Change],
    ) -> wasmtime::Result<Vec<Result<ProvisionOutcome, ProvisionError>>> {
        match self {
            Self::V0_1(guest) => {
                let mut results = Vec::with_capacity(changes.len());
                for change in changes {
                    results.push(v0_1::provision(guest, store, config, change).await?);
                }
                Ok(results)
            }
            Self::V0_2(guest) => {
                guest
                    .provisioning_connector_provisioning()
                    .call_provision_batch(store, config, changes)
                    .await
            }
        }
    }

    /// `lookup(config, key)`.
    pub async fn lookup<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &ConnectorConfig,
        key: &LookupKey,
    ) -> wasmtime::Result<Result<Option<RemoteObject>, ProvisionError>> {
        match self {
            Self::V0_1(guest) => v0_1::lookup(guest, store, config, key).await,
            Self::V0_2(guest) => {
                guest
                    .provisioning_connector_provisioning()
                    .call_lookup(store, config, key)
                    .await
            }
        }
    }

    /// `list-entities(config, request)`; contract 0.1 has no listing and answers `unsupported`.
    pub async fn list_entities<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &ConnectorConfig,
        request: &ListRequest,
    ) -> wasmtime::Result<Result<RemotePage, ProvisionError>> {
        match self {
            Self::V0_1(_) => Ok(Err(ProvisionError::Unsupported(ErrorDetail {
                message: "the connector implements contract 0.1.0, which cannot list entities"
                    .into(),
                target_code: None,
                fields: Vec::new(),
                http_status: None,
            }))),
            Self::V0_2(guest) => {
                guest
                    .provisioning_connector_provisioning()
                    .call_list_entities(store, config, request)
                    .await
            }
        }
    }
}

impl Entity {
    /// The entity's kind.
    pub fn kind(&self) -> EntityKind {
        match self {
            Entity::User(_) => EntityKind::User,
            Entity::Group(_) => EntityKind::Group,
        }
    }

    /// Stable local identifier.
    pub fn local_id(&self) -> &str {
        match self {
            Entity::User(user) => &user.local_id,
            Entity::Group(group) => &group.local_id,
        }
    }

    /// User name or group display name.
    pub fn name(&self) -> &str {
        match self {
            Entity::User(user) => &user.name,
            Entity::Group(group) => &group.name,
        }
    }

    /// Identifier in the target, if the host knows one.
    pub fn remote_id(&self) -> Option<&str> {
        match self {
            Entity::User(user) => user.remote_id.as_deref(),
            Entity::Group(group) => group.remote_id.as_deref(),
        }
    }
}

impl ProvisionError {
    /// What the target said about the failure, whatever its case.
    pub fn detail(&self) -> &ErrorDetail {
        match self {
            ProvisionError::Transient(t) => &t.detail,
            ProvisionError::RateLimited(r) | ProvisionError::QuotaExhausted(r) => &r.detail,
            ProvisionError::Conflict(c) => &c.detail,
            ProvisionError::AuthFailed(d)
            | ProvisionError::InvalidData(d)
            | ProvisionError::NotFound(d)
            | ProvisionError::Unsupported(d)
            | ProvisionError::Permanent(d) => d,
        }
    }
}
