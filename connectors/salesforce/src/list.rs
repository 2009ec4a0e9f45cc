//! Reading remote entities page by page (`list-entities`, contract 0.2), for reconciliation.
//!
//! Not supported yet. Users would be read by keyset paging in SOQL, `SELECT Id, Username,
//! IsActive, ... FROM User WHERE Id > '<last Id>' ORDER BY Id LIMIT <n>`, with the last Id as the
//! cursor; but the Salesforce emulator the connector is tested against only compares with `=`,
//! `!=`, `LIKE` and `IN`, so that query cannot be tested yet. Groups are never provisioned, so
//! they are never listed.

use crate::errors;
use provisioner_sdk::Host;
use provisioner_sdk::{ConnectorConfig, EntityKind, ListRequest, ProvisionError, RemotePage};

/// Answers a page request: `unsupported` for every kind (see the module documentation).
pub fn list_entities(
    _host: &dyn Host,
    _config: &ConnectorConfig,
    request: &ListRequest,
) -> Result<RemotePage, ProvisionError> {
    Err(match request.kind {
        EntityKind::User => errors::unsupported(
            "the Salesforce connector cannot list users yet; reconcile by looking users up one \
             at a time"
                .into(),
        ),
        EntityKind::Group => errors::groups_unsupported("cannot be listed"),
    })
}
