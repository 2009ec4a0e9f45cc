//! Builds (and caches) the connector instance of each stored target.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

use crate::capabilities::egress::EgressPolicy;
use crate::capabilities::secrets::SecretValue;
use crate::config::{ConfigInput, TargetConfig};
use crate::contract::{Entity, LookupKey, PropertyKind, ProvisionOutcome, RemoteObject};
use crate::instance::TargetInstance;
use crate::runtime::{CallError, Connector, Runtime};
use crate::store::TargetRecord;

use super::connector::{
    CallFailure, CallResult, ConnectorSource, SandboxFailureKind, TargetConnector,
};
use super::secrets;

/// Everything needed to instantiate one target's connector.
#[derive(Clone, Debug)]
pub struct BuildRequest {
    /// The stored target.
    pub target: TargetRecord,
    /// Secret values resolved from the target's references, by property key.
    pub secrets: BTreeMap<String, SecretValue>,
}

/// Instantiates connectors; implemented over the sandboxed runtime, and by fakes in tests.
pub trait ConnectorFactory: Send + Sync + 'static {
    /// Builds the connector described by `request`.
    fn build(
        &self,
        request: BuildRequest,
    ) -> BoxFuture<'_, Result<Arc<dyn TargetConnector>, String>>;
}

/// Turns stored targets into connector instances, rebuilding one when its target's
/// configuration revision changes.
pub struct Registry {
    factory: Arc<dyn ConnectorFactory>,
    cache: Mutex<HashMap<TargetKey, Built>>,
}

/// (tenant, target name).
type TargetKey = (String, String);

/// A built connector and the target revision it was built from.
type Built = (i64, Arc<dyn TargetConnector>);

impl Registry {
    /// A registry that builds connectors with `factory`.
    pub fn new(factory: Arc<dyn ConnectorFactory>) -> Self {
        Self {
            factory,
            cache: Mutex::default(),
        }
    }

    /// A registry that runs targets' components in `runtime`, under `egress`.
    pub fn with_runtime(runtime: Runtime, egress: EgressPolicy) -> Self {
        Self::new(Arc::new(RuntimeFactory { runtime, egress }))
    }

    /// The build request for a stored target, with its secrets resolved from their references.
    pub fn build_request(target: &TargetRecord) -> Result<BuildRequest, String> {
        let secrets = secrets::resolve_all(&target.spec.secret_refs)?
            .into_iter()
            .map(|(key, value)| (key, SecretValue::new(value)))
            .collect();
        Ok(BuildRequest {
            target: target.clone(),
            secrets,
        })
    }
}

impl ConnectorSource for Registry {
    fn connector<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Arc<dyn TargetConnector>, String>> {
        Box::pin(async move {
            let key = (target.spec.tenant.clone(), target.spec.name.clone());
            if let Some((revision, connector)) = self.cache.lock().expect("lock").get(&key) {
                if *revision == target.revision {
                    return Ok(connector.clone());
                }
            }
            let request = Self::build_request(target)?;
            let connector = self.factory.build(request).await?;
            self.cache
                .lock()
                .expect("lock")
                .insert(key, (target.revision, connector.clone()));
            Ok(connector)
        })
    }
}

/// Builds targets' connectors in the sandboxed runtime.
pub struct RuntimeFactory {
    runtime: Runtime,
    egress: EgressPolicy,
}

impl RuntimeFactory {
    /// A factory over `runtime`; every target gets the `egress` policy for non-public addresses.
    pub fn new(runtime: Runtime, egress: EgressPolicy) -> Self {
        Self { runtime, egress }
    }

    async fn component(&self, reference: &str) -> Result<Arc<Connector>, String> {
        if let Some(digest) = reference.strip_prefix("sha256:") {
            return self
                .runtime
                .connector(digest)
                .or_else(|| self.runtime.connector(reference))
                .ok_or_else(|| format!("no loaded component has digest `{reference}`"));
        }
        self.runtime
            .load_file(reference)
            .await
            .map(|(connector, _)| connector)
            .map_err(|error| format!("loading `{reference}`: {error}"))
    }
}

impl ConnectorFactory for RuntimeFactory {
    fn build(
        &self,
        request: BuildRequest,
    ) -> BoxFuture<'_, Result<Arc<dyn TargetConnector>, String>> {
        Box::pin(async move {
            let spec = &request.target.spec;
            let connector = self.component(&spec.connector).await?;
            let mut config =
                TargetConfig::new(spec.tenant.clone(), spec.name.clone()).egress(self.egress);
            for (key, value) in &spec.properties {
                let input = match value {
                    serde_json::Value::String(text) => ConfigInput::Text(text.clone()),
                    serde_json::Value::Bool(flag) => ConfigInput::Bool(*flag),
                    serde_json::Value::Number(n) if n.is_i64() => {
                        ConfigInput::Int(n.as_i64().unwrap_or_default())
                    }
                    other => {
                        return Err(format!("property `{key}` has an unsupported value {other}"))
                    }
                };
                config.values.insert(key.clone(), input);
            }
            if !spec.claim_mappings.is_empty() {
                let key = connector
                    .metadata()
                    .properties
                    .iter()
                    .find(|p| p.kind == PropertyKind::ClaimMappings)
                    .map(|p| p.key.clone())
                    .ok_or_else(|| {
                        "the connector takes no claim mappings, but the target has some".to_owned()
                    })?;
                config
                    .values
                    .insert(key, ConfigInput::ClaimMappings(spec.claim_mappings.clone()));
            }
            config.secrets = request.secrets;
            let instance = TargetInstance::new(&self.runtime, connector, config)
                .map_err(|error| error.to_string())?;
            Ok(Arc::new(instance) as Arc<dyn TargetConnector>)
        })
    }
}

/// Maps the runtime's call error onto the engine's failure cases.
pub fn call_failure(error: CallError) -> CallFailure {
    let kind = match &error {
        CallError::Connector(error) => return CallFailure::Connector(error.clone()),
        CallError::DeadlineExceeded { .. } | CallError::Timeout { .. } => {
            SandboxFailureKind::Timeout
        }
        CallError::MemoryLimit { .. } => SandboxFailureKind::Memory,
        CallError::Trap { .. } => SandboxFailureKind::Trap,
        CallError::Instantiation { .. } => SandboxFailureKind::Instantiation,
    };
    CallFailure::Sandbox {
        kind,
        message: error.to_string(),
    }
}

impl TargetConnector for TargetInstance {
    fn provision(&self, entity: Entity) -> BoxFuture<'_, CallResult<ProvisionOutcome>> {
        Box::pin(async move {
            TargetInstance::provision(self, &entity)
                .await
                .map_err(call_failure)
        })
    }

    fn lookup(&self, key: LookupKey) -> BoxFuture<'_, CallResult<Option<RemoteObject>>> {
        Box::pin(async move {
            TargetInstance::lookup(self, &key)
                .await
                .map_err(call_failure)
        })
    }
}
