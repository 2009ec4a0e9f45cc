//! Component glue: exports the `provisioning` interface and maps the real `http` and `log`
//! imports onto [`Host`]. Compiled for wasm32 only; the logic lives in the other modules.

use crate::exports::provisioning::connector::provisioning::Guest;
use crate::host::Host;
use crate::provisioning::connector::http::{self, HttpError, OauthGrant, Request, Response};
use crate::provisioning::connector::log::{self, Level};
use crate::provisioning::connector::types::{
    ConfigProblem, ConnectorConfig, ConnectorMetadata, Entity, LookupKey, ProvisionError,
    ProvisionOutcome, RemoteObject,
};

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
        entity: Entity,
    ) -> Result<ProvisionOutcome, ProvisionError> {
        crate::provision(&Imports, &config, &entity)
    }

    fn lookup(
        config: ConnectorConfig,
        key: LookupKey,
    ) -> Result<Option<RemoteObject>, ProvisionError> {
        crate::lookup(&Imports, &config, &key)
    }
}

crate::export!(Component with_types_in crate);
