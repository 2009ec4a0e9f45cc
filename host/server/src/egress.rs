//! What each configured target may reach and where its secrets may go, computed from a
//! configuration file without serving, so an operator can check it before enabling a target.

use std::collections::HashMap;

use provisioner_engine::connector::ConnectorUnavailable;
use provisioner_engine::store::Store;
use provisioner_runtime::{EgressReport, Runtime};

use crate::{register_targets, Registry, ServerConfig, ServerError};

/// One configured target's effective egress, or why its connector cannot be built.
#[derive(Debug)]
pub struct TargetEgress {
    /// Tenant of the target.
    pub tenant: String,
    /// Target name.
    pub target: String,
    /// The egress, or what keeps the target from running (a missing secret, a bad property...).
    pub report: Result<EgressReport, ConnectorUnavailable>,
}

/// The effective egress of every target `config` describes, built exactly as the server builds
/// them (in a scratch store that is deleted afterwards; the configured database is not touched).
pub async fn egress_reports(
    config: &ServerConfig,
    runtime: Runtime,
) -> Result<Vec<TargetEgress>, ServerError> {
    let scratch = tempfile::tempdir()
        .map_err(|e| ServerError::Runtime(format!("cannot create a scratch directory: {e}")))?;
    let url = format!("sqlite:{}", scratch.path().join("egress.db").display());
    let store = Store::open(&url).await?;
    let extras = register_targets(&store, config).await?;
    let registry = Registry::with_extras(runtime, extras.into_iter().collect::<HashMap<_, _>>());
    let mut reports = Vec::new();
    for record in store.targets(None).await? {
        let report = registry
            .instance(&record)
            .await
            .map(|instance| instance.egress_report());
        reports.push(TargetEgress {
            tenant: record.spec.tenant,
            target: record.spec.name,
            report,
        });
    }
    Ok(reports)
}
