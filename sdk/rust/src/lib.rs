//! SDK for provisioning connectors: WebAssembly components that turn local identity changes into
//! calls on a target system, on contract 0.2 (`provisioning:connector@0.2.0`).
//!
//! Implement [`Connector`] on a unit type, export it with [`export_connector!`], and build with
//! `cargo build --release --target wasm32-wasip2`. Every call gets a [`Context`]: the host's
//! HTTP and log capabilities plus a typed reader of the target's configuration. Natively (unit
//! tests) the same code runs against [`mock::MockHost`].
//!
//! ```
//! use provisioner_sdk::prelude::*;
//!
//! struct Acme;
//!
//! impl Connector for Acme {
//!     fn metadata() -> ConnectorMetadata {
//!         ConnectorMetadata::new("acme", "Acme", "0.1.0", "Provisions users into Acme.")
//!             .property(ConfigProperty::url("endpoint").required())
//!     }
//!
//!     fn create_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
//!         let endpoint = cx.config().required("endpoint", Config::url)?;
//!         let body = serde_json::json!({ "userName": user.name });
//!         let created = cx.send_json(RequestBuilder::post(&endpoint).segment("users").json(&body))?;
//!         Ok(ProvisionOutcome::created(created["id"].as_str().map(str::to_string)))
//!     }
//! }
//!
//! provisioner_sdk::export_connector!(Acme);
//! ```
//!
//! The author guide is the crate's `README.md`.

pub mod claims;
pub mod config;
pub mod connector;
pub mod context;
pub mod entity;
pub mod error;
#[doc(hidden)]
pub mod export;
pub mod host;
pub mod metadata;
pub mod mock;
pub mod request;
pub mod response;
pub mod schema;

/// The bindings generated from the contract's WIT (`wit/`, contract 0.2.0).
///
/// The SDK re-exports every type at the crate root; reach in here only for what it does not
/// wrap.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "connector",
        additional_derives: [PartialEq],
        pub_export_macro: true,
        export_macro_name: "__export_connector_bindings",
        default_bindings_module: "provisioner_sdk::bindings",
    });
}

pub use bindings::provisioning::connector::http::{
    BasicCredential, ClientCredentialsGrant, ConnectionFailure, Credential, HttpError,
    JwtBearerGrant, Method, OauthGrant, PasswordGrant, Request, Response, SecretHeader, TokenError,
};
pub use bindings::provisioning::connector::log::Level;
pub use bindings::provisioning::connector::types::{
    AttributeMatch, Change, Claim, ClaimMapping, ConfigEntry, ConfigProblem, ConfigProperty,
    ConfigValue, ConflictError, ConnectorConfig, ConnectorMetadata, Entity, EntityKind,
    ErrorDetail, Group, ListRequest, LookupKey, Member, Operation, PropertyKind, ProvisionError,
    ProvisionOutcome, RateLimitError, RemoteObject, RemotePage, SecretRef, TransientError, User,
};

pub use config::{Config, ConfigError};
pub use connector::Connector;
pub use context::Context;
pub use host::Host;
pub use request::RequestBuilder;

/// Re-exported so connectors can build JSON bodies without naming their own dependency.
pub use serde_json;

/// Everything a connector usually needs: `use provisioner_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::claims;
    pub use crate::error;
    pub use crate::{
        AttributeMatch, Change, Claim, ClaimMapping, Config, ConfigError, ConfigProblem,
        ConfigProperty, ConfigValue, Connector, ConnectorConfig, ConnectorMetadata, Context,
        Credential, Entity, EntityKind, ErrorDetail, Group, Host, Level, ListRequest, LookupKey,
        Member, Method, Operation, PropertyKind, ProvisionError, ProvisionOutcome, RemoteObject,
        RemotePage, Request, RequestBuilder, Response, SecretRef, User,
    };
}
