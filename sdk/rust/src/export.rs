//! The component exports: adapts a [`Connector`] to the generated `Guest` trait. Used through
//! [`crate::export_connector!`]; not part of the SDK's API.

use std::marker::PhantomData;

use crate::bindings::exports::provisioning::connector::provisioning::Guest;
use crate::{
    Change, ConfigProblem, Connector, ConnectorConfig, ConnectorMetadata, Context, Host,
    ListRequest, LookupKey, ProvisionError, ProvisionOutcome, RemoteObject, RemotePage,
};

/// A connector type as the generated bindings see it.
pub struct Exported<C>(PhantomData<C>);

/// The host every exported call runs against: the real imports in the component, a host that
/// refuses everything in native builds (which export nothing and never call this).
fn host() -> &'static dyn Host {
    #[cfg(target_arch = "wasm32")]
    {
        &crate::host::Imports
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        &NoHost
    }
}

#[cfg(not(target_arch = "wasm32"))]
struct NoHost;

#[cfg(not(target_arch = "wasm32"))]
impl Host for NoHost {
    fn send(&self, _: &crate::Request) -> Result<crate::Response, crate::HttpError> {
        Err(crate::HttpError::Denied(
            "native builds have no host; use provisioner_sdk::mock::MockHost".into(),
        ))
    }

    fn invalidate_token(&self, _: &crate::OauthGrant) {}

    fn log(&self, _: crate::Level, _: &str, _: &[(String, String)]) {}
}

impl<C: Connector> Guest for Exported<C> {
    fn metadata() -> ConnectorMetadata {
        C::metadata()
    }

    fn validate(config: ConnectorConfig) -> Vec<ConfigProblem> {
        C::validate(&config)
    }

    fn provision(
        config: ConnectorConfig,
        change: Change,
    ) -> Result<ProvisionOutcome, ProvisionError> {
        C::provision(&Context::new(host(), &config), &change)
    }

    fn provision_batch(
        config: ConnectorConfig,
        changes: Vec<Change>,
    ) -> Vec<Result<ProvisionOutcome, ProvisionError>> {
        C::provision_batch(&Context::new(host(), &config), &changes)
    }

    fn list_entities(
        config: ConnectorConfig,
        request: ListRequest,
    ) -> Result<RemotePage, ProvisionError> {
        C::list_entities(&Context::new(host(), &config), &request)
    }

    fn lookup(
        config: ConnectorConfig,
        key: LookupKey,
    ) -> Result<Option<RemoteObject>, ProvisionError> {
        C::lookup(&Context::new(host(), &config), &key)
    }
}

/// Exports a [`Connector`] implementation as the component's `provisioning` interface.
///
/// Invoke it once, at the crate root of a `cdylib`: `provisioner_sdk::export_connector!(Acme);`.
/// It emits the exports only when compiling for wasm32, so native builds of the same crate (unit
/// tests, benchmarks) carry no export symbols.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __ProvisionerSdkExported = $crate::export::Exported<$connector>;
            $crate::bindings::__export_connector_bindings!(
                __ProvisionerSdkExported with_types_in $crate::bindings
            );
        };
    };
}
