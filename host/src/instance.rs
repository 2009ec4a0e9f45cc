//! A configured connector instance: one tenant's target, ready to take calls.

use std::sync::Arc;

use crate::capabilities::http::TargetEgress;
use crate::capabilities::log::LogCapability;
use crate::config::{self, ConfigError, TargetConfig};
use crate::contract::{
    ConfigProblem, ConnectorConfig, Entity, LookupKey, ProvisionOutcome, RemoteObject,
};
use crate::runtime::call::{CallContext, Op, OpResult};
use crate::runtime::{CallError, Connector, Runtime};

/// A connector configured for one tenant's target. Each call runs in a fresh sandbox.
pub struct TargetInstance {
    runtime: Runtime,
    connector: Arc<Connector>,
    connector_config: ConnectorConfig,
    egress: Arc<TargetEgress>,
}

impl std::fmt::Debug for TargetInstance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetInstance")
            .field("tenant", &self.egress.tenant)
            .field("target", &self.egress.target)
            .field("connector", &self.connector)
            .field("allowed_origins", &self.allowed_origins())
            .finish()
    }
}

impl TargetInstance {
    /// Checks `config` against the connector's schema and prepares the instance.
    ///
    /// Errors name every property at fault: unknown keys, wrong kinds, missing required values,
    /// secrets given as plain values and plain values given as secrets.
    pub fn new(
        runtime: &Runtime,
        connector: Arc<Connector>,
        config: TargetConfig,
    ) -> Result<Self, ConfigError> {
        let resolved = config::resolve(connector.metadata(), &config)?;
        let egress = Arc::new(TargetEgress {
            tenant: config.tenant.clone(),
            target: config.target.clone(),
            connector: connector.metadata().id.clone(),
            allow: resolved.allow,
            policy: config.egress,
            secrets: resolved.secrets,
        });
        Ok(Self {
            runtime: runtime.clone(),
            connector,
            connector_config: resolved.connector_config,
            egress,
        })
    }

    /// Tenant that owns the target.
    pub fn tenant(&self) -> &str {
        &self.egress.tenant
    }

    /// Target name.
    pub fn target(&self) -> &str {
        &self.egress.target
    }

    /// The connector.
    pub fn connector(&self) -> &Arc<Connector> {
        &self.connector
    }

    /// The configuration the guest receives (secrets as references only).
    pub fn connector_config(&self) -> &ConnectorConfig {
        &self.connector_config
    }

    /// The origins this target may reach, e.g. `https://login.salesforce.com`.
    pub fn allowed_origins(&self) -> Vec<String> {
        self.egress
            .allow
            .origins()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Asks the connector to check the configuration (no network).
    pub async fn validate(&self) -> Result<Vec<ConfigProblem>, CallError> {
        match self
            .call(Op::Validate(self.connector_config.clone()))
            .await?
        {
            OpResult::Validate(problems) => Ok(problems),
            _ => unreachable!("validate returns problems"),
        }
    }

    /// Applies one local change to the target.
    pub async fn provision(&self, entity: &Entity) -> Result<ProvisionOutcome, CallError> {
        match self
            .call(Op::Provision(self.connector_config.clone(), entity.clone()))
            .await?
        {
            OpResult::Provision(result) => result.map_err(CallError::Connector),
            _ => unreachable!("provision returns an outcome"),
        }
    }

    /// Finds a remote entity.
    pub async fn lookup(&self, key: &LookupKey) -> Result<Option<RemoteObject>, CallError> {
        match self
            .call(Op::Lookup(self.connector_config.clone(), key.clone()))
            .await?
        {
            OpResult::Lookup(result) => result.map_err(CallError::Connector),
            _ => unreachable!("lookup returns an object"),
        }
    }

    async fn call(&self, op: Op) -> Result<OpResult, CallError> {
        let context = CallContext {
            http: self.runtime.http_capability(self.egress.clone()),
            log: LogCapability::new(
                &self.egress.tenant,
                &self.egress.target,
                &self.egress.connector,
            ),
        };
        self.runtime.invoke(&self.connector, context, op).await
    }
}
