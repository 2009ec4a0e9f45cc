//! A generic SCIM 2.0 outbound connector (RFC 7643 / RFC 7644), built on `provisioner-sdk`.
//!
//! Provisions users and groups into any service that speaks SCIM 2.0 (`builtin:scim`):
//!
//! | change | request | outcome |
//! |---|---|---|
//! | user create | `POST {base}/Users`: `userName`, `externalId` (local id), mapped attributes, `active` | the body's `id`; 409 → conflict with the id of the same `userName` |
//! | user update | `PATCH {base}/Users/{id}`: `replace`/`remove` for the changed claims only (`put`: `PUT` of the whole user) | the same id |
//! | user delete | `PATCH` `active` false, keeping the mapping (`delete`: `DELETE`) | the id (deactivate) or none; 404 → none |
//! | group create | `POST {base}/Groups`: `displayName`, `externalId`, members with remote ids | the body's `id` |
//! | group update | `PATCH {base}/Groups/{id}`: `add`/`remove` of the members the host names, else `replace` of `displayName` and `members` (or `PUT`) | the same id |
//! | group delete | `DELETE {base}/Groups/{id}` | none; 404 → none |
//! | lookup | `GET {base}/Users?filter=userName eq "..."` (groups: `displayName`) | the first of `Resources` |
//! | list | `GET {base}/Users?startIndex=..&count=..` | a page; the cursor is the next `startIndex` |
//!
//! Claims become attributes through [`mapping`] (a built-in table unless `claim-mappings` is
//! set); failures go through the SDK's shared status mapping, refined by SCIM error bodies
//! ([`errors`]). The logic is plain Rust over the SDK's [`Context`], tested natively with its
//! `MockHost`; the component exports come from `export_connector!`.

pub mod api;
pub mod errors;
pub mod groups;
pub mod lookup;
pub mod mapping;
pub mod path;
pub mod settings;
pub mod users;

use provisioner_sdk::prelude::*;

/// The connector's version.
pub const VERSION: &str = "0.1.0";

/// The SCIM 2.0 connector.
pub struct ScimConnector;

impl Connector for ScimConnector {
    fn metadata() -> ConnectorMetadata {
        let mut metadata = ConnectorMetadata::new(
            "scim",
            "SCIM 2.0",
            VERSION,
            "Provisions users and groups into any SCIM 2.0 service (RFC 7643/7644).",
        )
        .entity_kinds(&[EntityKind::User, EntityKind::Group])
        .max_batch_size(1);
        metadata.properties = settings::properties();
        metadata
    }

    fn validate(config: &ConnectorConfig) -> Vec<ConfigProblem> {
        settings::validate(config)
    }

    fn lookup(cx: &Context, key: &LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
        lookup::lookup(cx, key)
    }

    fn list_entities(cx: &Context, request: &ListRequest) -> Result<RemotePage, ProvisionError> {
        lookup::list(cx, request)
    }

    fn create_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
        users::create(cx, user)
    }

    fn update_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
        users::update(cx, user)
    }

    fn delete_user(cx: &Context, user: &User) -> Result<ProvisionOutcome, ProvisionError> {
        users::delete(cx, user)
    }

    fn create_group(cx: &Context, group: &Group) -> Result<ProvisionOutcome, ProvisionError> {
        groups::create(cx, group)
    }

    fn update_group(cx: &Context, group: &Group) -> Result<ProvisionOutcome, ProvisionError> {
        groups::update(cx, group)
    }

    fn delete_group(cx: &Context, group: &Group) -> Result<ProvisionOutcome, ProvisionError> {
        groups::delete(cx, group)
    }
}

provisioner_sdk::export_connector!(ScimConnector);
