//! The exported connector: the SDK's [`Connector`] trait over the native entry points.

use provisioner_sdk::{
    Change, ConfigProblem, Connector, ConnectorConfig, ConnectorMetadata, Context, ListRequest,
    LookupKey, ProvisionError, ProvisionOutcome, RemoteObject, RemotePage,
};

/// The Salesforce connector.
pub struct Salesforce;

impl Connector for Salesforce {
    fn metadata() -> ConnectorMetadata {
        crate::metadata()
    }

    fn validate(config: &ConnectorConfig) -> Vec<ConfigProblem> {
        crate::validate(config)
    }

    fn provision(cx: &Context, change: &Change) -> Result<ProvisionOutcome, ProvisionError> {
        crate::provision(cx.host(), cx.raw_config(), change)
    }

    fn provision_batch(
        cx: &Context,
        changes: &[Change],
    ) -> Vec<Result<ProvisionOutcome, ProvisionError>> {
        crate::provision_batch(cx.host(), cx.raw_config(), changes)
    }

    fn lookup(cx: &Context, key: &LookupKey) -> Result<Option<RemoteObject>, ProvisionError> {
        crate::lookup(cx.host(), cx.raw_config(), key)
    }

    fn list_entities(cx: &Context, request: &ListRequest) -> Result<RemotePage, ProvisionError> {
        crate::list_entities(cx.host(), cx.raw_config(), request)
    }
}

// A contract 0.1.0 build exports the `legacy` module's bindings instead.
#[cfg(not(feature = "contract-v0-1"))]
provisioner_sdk::export_connector!(Salesforce);
