//! Component glue: exports the `provisioning` interface and maps the real `http` and `log`
//! imports onto [`Host`]. Compiled for wasm32 only, so that native builds of the cdylib carry no
//! export symbols; the logic lives in the other modules. The exported functions follow the bound
//! contract version (see [`crate::contract`]).

use crate::contract::bindings::exports::provisioning::connector::provisioning::Guest;
use crate::contract::bindings::provisioning::connector::{http, log};
use crate::contract::{
    Change, ConfigProblem, ConnectorConfig, ConnectorMetadata, HttpError, Level, LookupKey,
    OauthGrant, ProvisionError, ProvisionOutcome, RemoteObject, Request, Response,
};
#[cfg(not(feature = "contract-v0-1"))]
use crate::contract::{ListRequest, RemotePage};
use crate::host::Host;

/// The host as seen from inside the component.
struct Imports;

impl Host for Imports {
    fn send(&self, request: &Request) -> Result<Response, HttpError> {
        http::send(request)
    }

    fn invalidate_token(&self, grant: &OauthGrant) {
        http::invalidate_token(grant)
    }

    fn log(&self, level: Level, message: &str, fields: &[(String, String)]) {
        log::log(level, message, fields)
    }
}

/// The exported connector.
struct Component;

impl Guest for Component {
    fn metadata() -> ConnectorMetadata {
        crate::metadata()
    }

    fn validate(config: ConnectorConfig) -> Vec<ConfigProblem> {
        crate::validate(&config)
    }

    fn provision(
        config: ConnectorConfig,
        change: Change,
    ) -> Result<ProvisionOutcome, ProvisionError> {
        crate::provision(&Imports, &config, &change)
    }

    #[cfg(not(feature = "contract-v0-1"))]
    fn provision_batch(
        config: ConnectorConfig,
        changes: Vec<Change>,
    ) -> Vec<Result<ProvisionOutcome, ProvisionError>> {
        crate::provision_batch(&Imports, &config, &changes)
    }

    fn lookup(
        config: ConnectorConfig,
        key: LookupKey,
    ) -> Result<Option<RemoteObject>, ProvisionError> {
        crate::lookup(&Imports, &config, &key)
    }

    #[cfg(not(feature = "contract-v0-1"))]
    fn list_entities(
        config: ConnectorConfig,
        request: ListRequest,
    ) -> Result<RemotePage, ProvisionError> {
        crate::list_entities(&Imports, &config, &request)
    }
}

crate::contract::bindings::export!(Component with_types_in crate::contract::bindings);
