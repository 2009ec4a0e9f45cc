//! Shared setup of the connector's native tests.
#![allow(dead_code)]

use provisioner_sdk::mock::{self, MockHost};
use provisioner_sdk::prelude::*;
use scim_connector::ScimConnector;

/// A target at `https://idp.example.com/scim/v2` with a bearer token and the built-in mappings.
pub fn config() -> ConnectorConfig {
    mock::config()
        .with_text("base-url", "https://idp.example.com/scim/v2/")
        .with_secret("bearer-token")
}

/// Applies `change` with `config` against `host`.
pub fn provision(
    host: &MockHost,
    config: &ConnectorConfig,
    change: Change,
) -> Result<ProvisionOutcome, ProvisionError> {
    ScimConnector::provision(&Context::new(host, config), &change)
}

/// A group change.
pub fn group_change(operation: Operation, group: Group) -> Change {
    Change {
        operation,
        entity: Entity::Group(group),
    }
}

/// A group with `members` as (local id, remote id).
pub fn group(name: &str, remote_id: Option<&str>, members: &[(&str, Option<&str>)]) -> Group {
    Group {
        local_id: "g1".into(),
        name: name.into(),
        remote_id: remote_id.map(str::to_string),
        members: members.iter().map(|(l, r)| member(l, *r)).collect(),
        added_members: vec![],
        removed_members: vec![],
        previous_name: None,
    }
}

/// A member.
pub fn member(local_id: &str, remote_id: Option<&str>) -> Member {
    Member {
        local_id: local_id.into(),
        name: format!("{local_id}@example.com"),
        remote_id: remote_id.map(str::to_string),
    }
}

/// The case of an error, as the contract names it.
pub fn case(result: &Result<impl std::fmt::Debug, ProvisionError>) -> &'static str {
    match result {
        Ok(_) => "ok",
        Err(ProvisionError::Transient(_)) => "transient",
        Err(ProvisionError::RateLimited(_)) => "rate-limited",
        Err(ProvisionError::QuotaExhausted(_)) => "quota-exhausted",
        Err(ProvisionError::AuthFailed(_)) => "auth-failed",
        Err(ProvisionError::Conflict(_)) => "conflict",
        Err(ProvisionError::InvalidData(_)) => "invalid-data",
        Err(ProvisionError::NotFound(_)) => "not-found",
        Err(ProvisionError::Unsupported(_)) => "unsupported",
        Err(ProvisionError::Permanent(_)) => "permanent",
    }
}
