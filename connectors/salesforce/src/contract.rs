//! The connector contract's generated types, for the contract version this build targets.
//!
//! The crate binds `wit/v0.2` by default and the frozen `wit/v0.1` with the cargo feature
//! `contract-v0-1` (used to build the 0.1.0 component the host keeps as a fixture). This is the
//! only module that names a WIT path. Both versions give their types the same Rust names, so the
//! logic compiles against either, except:
//!
//! - [`Change`], what `provision` applies: in 0.2 the `change` record (the operation beside an
//!   `entity` variant of `user` or `group`); in 0.1 an alias of the `entity` record, which
//!   carries its own operation.
//! - `User`, `Group`, `ListRequest` and `RemotePage` exist in 0.2 only.
//!
//! The other places that depend on the version, all behind the same feature: `view` (builds the
//! version-independent views the logic reads), `schema` (`max-batch-size`), `lib`
//! (`list_entities`) and `component` (the exported functions).

/// The generated bindings; `component` implements their exports.
#[cfg(not(feature = "contract-v0-1"))]
pub(crate) mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.2",
        world: "connector",
        additional_derives: [PartialEq],
    });
}

/// The generated bindings; `component` implements their exports.
#[cfg(feature = "contract-v0-1")]
pub(crate) mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.1",
        world: "connector",
        additional_derives: [PartialEq],
    });
}

pub use bindings::provisioning::connector::http::{
    ClientCredentialsGrant, ConnectionFailure, Credential, HttpError, JwtBearerGrant, Method,
    OauthGrant, PasswordGrant, Request, Response, TokenError,
};
pub use bindings::provisioning::connector::log::Level;
pub use bindings::provisioning::connector::types::{
    AttributeMatch, Claim, ClaimMapping, ConfigEntry, ConfigProblem, ConfigProperty, ConfigValue,
    ConflictError, ConnectorConfig, ConnectorMetadata, Entity, EntityKind, ErrorDetail, LookupKey,
    Member, Operation, PropertyKind, ProvisionError, ProvisionOutcome, RateLimitError,
    RemoteObject, SecretRef, TransientError,
};

#[cfg(not(feature = "contract-v0-1"))]
pub use bindings::provisioning::connector::types::{Change, Group, ListRequest, RemotePage, User};

/// In 0.1 the unit of provisioning is the `entity` record itself: it carries its operation.
#[cfg(feature = "contract-v0-1")]
pub type Change = Entity;
