//! The connector as a contract 0.1.0 component (cargo feature `contract-v0-1`, wasm32 only).
//!
//! Why it exists: hosts must keep loading components built for 0.1.0, and this build of the
//! connector is the one the tests load to prove it. The logic speaks only contract 0.2 (the
//! SDK's types), so this module binds `wit/v0.1` itself, exports it and adapts at the edge:
//!
//! - every type whose shape did not change (configuration, errors, outcomes, the whole `http`
//!   and `log` interfaces) is bound to the SDK's own type through `with`, so it needs no
//!   conversion, and [`Imports`] serves [`Host`] straight from the 0.1 imports;
//! - the 0.1 `entity` record carries its operation: it becomes a 0.2 [`Change`] of a [`User`] or
//!   a [`Group`]; a lookup by entity drops the operation;
//! - 0.1 metadata has no `max-batch-size` (0.1 hosts send one change at a time).

use crate::{
    Change, ConfigProblem, ConnectorConfig, Entity, EntityKind, Group, Host, HttpError, Level,
    OauthGrant, ProvisionError, ProvisionOutcome, RemoteObject, Request, Response, User,
};

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit/v0.1",
        world: "connector",
        with: {
            "provisioning:connector/types@0.1.0/property-kind": provisioner_sdk::PropertyKind,
            "provisioning:connector/types@0.1.0/config-property": provisioner_sdk::ConfigProperty,
            "provisioning:connector/types@0.1.0/entity-kind": provisioner_sdk::EntityKind,
            "provisioning:connector/types@0.1.0/secret-ref": provisioner_sdk::SecretRef,
            "provisioning:connector/types@0.1.0/claim-mapping": provisioner_sdk::ClaimMapping,
            "provisioning:connector/types@0.1.0/config-value": provisioner_sdk::ConfigValue,
            "provisioning:connector/types@0.1.0/config-entry": provisioner_sdk::ConfigEntry,
            "provisioning:connector/types@0.1.0/connector-config": provisioner_sdk::ConnectorConfig,
            "provisioning:connector/types@0.1.0/config-problem": provisioner_sdk::ConfigProblem,
            "provisioning:connector/types@0.1.0/operation": provisioner_sdk::Operation,
            "provisioning:connector/types@0.1.0/claim": provisioner_sdk::Claim,
            "provisioning:connector/types@0.1.0/member": provisioner_sdk::Member,
            "provisioning:connector/types@0.1.0/provision-outcome": provisioner_sdk::ProvisionOutcome,
            "provisioning:connector/types@0.1.0/error-detail": provisioner_sdk::ErrorDetail,
            "provisioning:connector/types@0.1.0/transient-error": provisioner_sdk::TransientError,
            "provisioning:connector/types@0.1.0/rate-limit-error": provisioner_sdk::RateLimitError,
            "provisioning:connector/types@0.1.0/conflict-error": provisioner_sdk::ConflictError,
            "provisioning:connector/types@0.1.0/provision-error": provisioner_sdk::ProvisionError,
            "provisioning:connector/types@0.1.0/attribute-match": provisioner_sdk::AttributeMatch,
            "provisioning:connector/types@0.1.0/remote-object": provisioner_sdk::RemoteObject,
            "provisioning:connector/http@0.1.0/method": provisioner_sdk::Method,
            "provisioning:connector/http@0.1.0/client-credentials-grant": provisioner_sdk::ClientCredentialsGrant,
            "provisioning:connector/http@0.1.0/password-grant": provisioner_sdk::PasswordGrant,
            "provisioning:connector/http@0.1.0/jwt-bearer-grant": provisioner_sdk::JwtBearerGrant,
            "provisioning:connector/http@0.1.0/oauth-grant": provisioner_sdk::OauthGrant,
            "provisioning:connector/http@0.1.0/basic-credential": provisioner_sdk::BasicCredential,
            "provisioning:connector/http@0.1.0/secret-header": provisioner_sdk::SecretHeader,
            "provisioning:connector/http@0.1.0/credential": provisioner_sdk::Credential,
            "provisioning:connector/http@0.1.0/request": provisioner_sdk::Request,
            "provisioning:connector/http@0.1.0/response": provisioner_sdk::Response,
            "provisioning:connector/http@0.1.0/token-error": provisioner_sdk::TokenError,
            "provisioning:connector/http@0.1.0/http-error": provisioner_sdk::HttpError,
            "provisioning:connector/http@0.1.0/connection-failure": provisioner_sdk::ConnectionFailure,
            "provisioning:connector/log@0.1.0/level": provisioner_sdk::Level,
        },
    });
}

use bindings::exports::provisioning::connector::provisioning::Guest;
use bindings::provisioning::connector::types as v0_1;
use bindings::provisioning::connector::{http, log};

/// The host, through the 0.1 imports.
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

/// The 0.2 entity a 0.1 entity describes, without its operation.
fn entity(entity: v0_1::Entity) -> Entity {
    match entity.kind {
        EntityKind::User => Entity::User(User {
            local_id: entity.local_id,
            name: entity.name,
            remote_id: entity.remote_id,
            claims: entity.claims,
            changed_claims: entity.changed_claims,
            previous_name: entity.previous_name,
        }),
        EntityKind::Group => Entity::Group(Group {
            local_id: entity.local_id,
            name: entity.name,
            remote_id: entity.remote_id,
            members: entity.members,
            added_members: entity.added_members,
            removed_members: entity.removed_members,
            previous_name: entity.previous_name,
        }),
    }
}

/// The exported 0.1 `provisioning` interface.
struct Component;

impl Guest for Component {
    fn metadata() -> v0_1::ConnectorMetadata {
        let metadata = crate::metadata();
        v0_1::ConnectorMetadata {
            id: metadata.id,
            name: metadata.name,
            version: metadata.version,
            description: metadata.description,
            entity_kinds: metadata.entity_kinds,
            properties: metadata.properties,
        }
    }

    fn validate(config: ConnectorConfig) -> Vec<ConfigProblem> {
        crate::validate(&config)
    }

    fn provision(
        config: ConnectorConfig,
        change: v0_1::Entity,
    ) -> Result<ProvisionOutcome, ProvisionError> {
        let change = Change {
            operation: change.operation,
            entity: entity(change),
        };
        crate::provision(&Imports, &config, &change)
    }

    fn lookup(
        config: ConnectorConfig,
        key: v0_1::LookupKey,
    ) -> Result<Option<RemoteObject>, ProvisionError> {
        let key = match key {
            v0_1::LookupKey::Attribute(attribute) => crate::LookupKey::Attribute(attribute),
            v0_1::LookupKey::Entity(local) => crate::LookupKey::Entity(entity(local)),
        };
        crate::lookup(&Imports, &config, &key)
    }
}

bindings::export!(Component with_types_in bindings);
