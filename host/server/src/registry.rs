//! The dispatcher's connector source in the server: builds each stored target's sandboxed
//! connector (and rebuilds it when the target's configuration revision changes).
//!
//! A target's connector reference is `builtin:<name>` (bytes embedded in the binary), `sha256:`
//! (a component already loaded by the runtime) or a component file. Its secrets come from the
//! stored `env:`/`file:` references plus what the configuration file adds ([`TargetExtras`]:
//! literal secrets, which the store refuses to hold, the egress and secret policies and any CA
//! bundle).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;

use provisioner_contract::{Change, LookupKey, PropertyKind, ProvisionOutcome, RemoteObject};
use provisioner_engine::connector::{
    CallFailure, CallResult, ConnectorSource, ConnectorUnavailable, SandboxFailureKind,
    TargetConnector,
};
use provisioner_engine::store::TargetRecord;
use provisioner_runtime::secret_source::resolve_references;
use provisioner_runtime::{
    CaBundle, CallError, ConfigInput, Connector, EgressPolicy, Runtime, SecretPolicy, SecretValue,
    TargetConfig, TargetInstance,
};

/// What the configuration file adds to one stored target.
#[derive(Clone, Debug, Default)]
pub struct TargetExtras {
    /// Non-public destinations the target may reach.
    pub egress: EgressPolicy,
    /// Where the target's secrets may go.
    pub secret_policy: SecretPolicy,
    /// CA certificates the target trusts besides the built-in roots.
    pub ca_bundle: Option<CaBundle>,
    /// Secret values given literally in the configuration, by property key.
    pub literal_secrets: BTreeMap<String, SecretValue>,
}

/// (tenant, target name).
type TargetKey = (String, String);

/// A built connector and the target revision it was built from.
type Built = (i64, Arc<dyn TargetConnector>);

/// Builds (and caches per configuration revision) each target's sandboxed connector.
pub struct Registry {
    runtime: Runtime,
    extras: HashMap<TargetKey, TargetExtras>,
    default_egress: EgressPolicy,
    cache: Mutex<HashMap<TargetKey, Built>>,
}

impl Registry {
    /// A registry whose targets all get `egress` for non-public addresses and only their stored
    /// secret references.
    pub fn with_runtime(runtime: Runtime, egress: EgressPolicy) -> Self {
        Self {
            runtime,
            extras: HashMap::new(),
            default_egress: egress,
            cache: Mutex::default(),
        }
    }

    /// A registry with per-target extras from the configuration; targets absent from `extras`
    /// get the default (public-only) egress.
    pub fn with_extras(runtime: Runtime, extras: HashMap<TargetKey, TargetExtras>) -> Self {
        Self {
            runtime,
            extras,
            default_egress: EgressPolicy::default(),
            cache: Mutex::default(),
        }
    }

    /// The configured connector instance of a stored target: its component loaded, its secrets
    /// resolved and its configuration checked against the connector's schema.
    pub async fn instance(
        &self,
        target: &TargetRecord,
    ) -> Result<TargetInstance, ConnectorUnavailable> {
        let spec = &target.spec;
        let extras = self
            .extras
            .get(&(spec.tenant.clone(), spec.name.clone()))
            .cloned()
            .unwrap_or(TargetExtras {
                egress: self.default_egress,
                ..TargetExtras::default()
            });
        let mut secrets = resolve_references(&spec.secret_refs).map_err(|(key, error)| {
            ConnectorUnavailable::Secret {
                key,
                message: error.to_string(),
            }
        })?;
        secrets.extend(extras.literal_secrets);

        let connector = load_connector(&self.runtime, &spec.connector).await?;
        let mut config = TargetConfig::new(spec.tenant.clone(), spec.name.clone())
            .egress(extras.egress)
            .secret_policy(extras.secret_policy);
        config.ca_bundle = extras.ca_bundle;
        for (key, value) in &spec.properties {
            let input = match value {
                serde_json::Value::String(text) => ConfigInput::Text(text.clone()),
                serde_json::Value::Bool(flag) => ConfigInput::Bool(*flag),
                serde_json::Value::Number(n) if n.is_i64() => {
                    ConfigInput::Int(n.as_i64().unwrap_or_default())
                }
                other => {
                    return Err(ConnectorUnavailable::Config(format!(
                        "property `{key}` has an unsupported value {other}"
                    )))
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
                    ConnectorUnavailable::Config(
                        "the connector takes no claim mappings, but the target has some".into(),
                    )
                })?;
            config
                .values
                .insert(key, ConfigInput::ClaimMappings(spec.claim_mappings.clone()));
        }
        config.secrets = secrets;
        TargetInstance::new(&self.runtime, connector, config)
            .map_err(|error| ConnectorUnavailable::Config(error.to_string()))
    }
}

impl ConnectorSource for Registry {
    fn connector<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Arc<dyn TargetConnector>, ConnectorUnavailable>> {
        Box::pin(async move {
            let key = (target.spec.tenant.clone(), target.spec.name.clone());
            let cached = self
                .cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
                .filter(|(revision, _)| *revision == target.revision)
                .map(|(_, connector)| connector.clone());
            if let Some(connector) = cached {
                return Ok(connector);
            }
            let connector: Arc<dyn TargetConnector> =
                Arc::new(SandboxedTarget(self.instance(target).await?));
            self.cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, (target.revision, connector.clone()));
            Ok(connector)
        })
    }
}

/// Loads the component a connector reference names: `builtin:<name>` (embedded in the binary),
/// `sha256:<digest>` (already loaded by `runtime`) or a component file.
pub async fn load_connector(
    runtime: &Runtime,
    reference: &str,
) -> Result<Arc<Connector>, ConnectorUnavailable> {
    let unavailable = |message: String| ConnectorUnavailable::Component {
        reference: reference.to_owned(),
        message,
    };
    let loaded = if reference.starts_with(builtin_connectors::PREFIX) {
        let builtin = builtin_connectors::lookup(reference).ok_or_else(|| {
            unavailable(format!(
                "no such built-in connector; built in: {}",
                builtin_connectors::references().join(", ")
            ))
        })?;
        runtime.load_bytes(builtin.bytes).await
    } else if let Some(digest) = reference.strip_prefix("sha256:") {
        return runtime
            .connector(digest)
            .or_else(|| runtime.connector(reference))
            .ok_or_else(|| unavailable("no loaded component has this digest".into()));
    } else {
        runtime.load_file(reference).await
    };
    loaded
        .map(|(connector, _)| connector)
        .map_err(|error| unavailable(error.to_string()))
}

/// Maps the runtime's call error onto the engine's failure cases.
pub fn call_failure(error: CallError) -> CallFailure {
    let kind = match &error {
        CallError::Connector(error) => return CallFailure::Connector(error.clone()),
        CallError::DeadlineExceeded { .. } | CallError::Timeout { .. } => {
            SandboxFailureKind::Timeout
        }
        CallError::MemoryLimit { .. } => SandboxFailureKind::Memory,
        CallError::Trap { .. } | CallError::InvalidAnswer { .. } => SandboxFailureKind::Trap,
        CallError::Instantiation { .. } => SandboxFailureKind::Instantiation,
    };
    CallFailure::Sandbox {
        kind,
        message: error.to_string(),
    }
}

/// A target's runtime instance, as the engine calls it.
struct SandboxedTarget(TargetInstance);

impl TargetConnector for SandboxedTarget {
    fn provision(&self, change: Change) -> BoxFuture<'_, CallResult<ProvisionOutcome>> {
        Box::pin(async move { self.0.provision(&change).await.map_err(call_failure) })
    }

    fn lookup(&self, key: LookupKey) -> BoxFuture<'_, CallResult<Option<RemoteObject>>> {
        Box::pin(async move { self.0.lookup(&key).await.map_err(call_failure) })
    }
}
