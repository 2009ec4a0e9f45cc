//! The dispatcher's connector source in the server: prepares each stored target's sandboxed
//! connector ahead of need (loading and compiling its component in the background), rebuilds it
//! when the target's configuration revision changes, and lets go of what no target uses.
//!
//! A target's connector reference is `builtin:<name>` (bytes embedded in the binary), `sha256:`
//! (a component stored in the database by digest, or already loaded by the runtime) or a
//! component file. Its egress policy is the stored one; its secrets come from the stored
//! `env:`/`file:` references plus what the configuration file adds ([`TargetExtras`]: literal
//! secrets, which the store refuses to hold, the secret policy and any CA bundle).
//!
//! Compilation never happens on a request path: a worker asking for a connector that is still
//! being prepared gets [`ConnectorUnavailable::NotReady`] after a short grace, and the job stays
//! queued (no attempt spent, the target not paused) until the connector is ready.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::watch;

use provisioner_contract::{
    Change, ListRequest, LookupKey, PropertyKind, ProvisionOutcome, RemoteObject, RemotePage,
};
use provisioner_engine::connector::{
    CallFailure, CallResult, ChangeRenderer, ConnectorSource, ConnectorUnavailable,
    SandboxFailureKind, TargetConnector,
};
use provisioner_engine::store::{Store, TargetRecord, TargetSpec, DIGEST_PREFIX};
use provisioner_runtime::secret_source::resolve_references;

use crate::secrets::{Secrets, STORED_PREFIX};
use provisioner_runtime::{
    CaBundle, CallError, ConfigInput, Connector, EgressPolicy, Runtime, SecretPolicy, SecretValue,
    TargetConfig, TargetInstance,
};

/// How long a worker waits for a connector being prepared before leaving its job queued: long
/// enough for a load from the disk cache, far shorter than any compilation.
const PREPARE_GRACE: Duration = Duration::from_millis(200);

/// What the configuration file adds to one stored target.
#[derive(Clone, Debug, Default)]
pub struct TargetExtras {
    /// Non-public destinations the target may reach (also stored with the target).
    pub egress: EgressPolicy,
    /// Where the target's secrets may go.
    pub secret_policy: SecretPolicy,
    /// CA certificates the target trusts besides the built-in roots.
    pub ca_bundle: Option<CaBundle>,
    /// Secret values given literally in the configuration, by property key.
    pub literal_secrets: BTreeMap<String, SecretValue>,
    /// The file's version of the target: the extras apply only while the stored target has
    /// this configuration (not after an operator replaced it at run time). None: always.
    pub seeded: Option<TargetSpec>,
}

/// (tenant, target name).
type TargetKey = (String, String);

/// A prepared connector, or why it could not be prepared.
type Prepared = Result<Arc<dyn TargetConnector>, ConnectorUnavailable>;

/// Where one target's connector is, for one configuration revision.
struct Slot {
    revision: i64,
    state: SlotState,
}

enum SlotState {
    /// Being loaded (and compiled if need be); the receiver turns true when done.
    Preparing(watch::Receiver<bool>),
    /// Built and ready to call.
    Ready(Arc<dyn TargetConnector>),
    /// Could not be built; handed to the next worker that asks (which pauses the target).
    Failed(ConnectorUnavailable),
}

/// What one [`Registry::sync`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Targets whose connector started being prepared.
    pub preparing: Vec<String>,
    /// Targets no longer stored, whose connector was dropped.
    pub dropped: Vec<String>,
    /// Components no target uses any more, dropped from the runtime's memory (digests).
    pub evicted: Vec<String>,
}

/// Prepares, caches per configuration revision and evicts each target's sandboxed connector.
#[derive(Clone)]
pub struct Registry {
    runtime: Runtime,
    store: Option<Store>,
    secrets: Option<Secrets>,
    extras: Arc<HashMap<TargetKey, TargetExtras>>,
    default_egress: EgressPolicy,
    slots: Arc<Mutex<HashMap<TargetKey, Slot>>>,
}

impl Registry {
    /// A registry whose targets may all reach `egress` besides what each target's stored
    /// policy allows, with only their stored secret references.
    pub fn with_runtime(runtime: Runtime, egress: EgressPolicy) -> Self {
        Self {
            runtime,
            store: None,
            secrets: None,
            extras: Arc::default(),
            default_egress: egress,
            slots: Arc::default(),
        }
    }

    /// A registry with per-target extras from the configuration; every target's egress is its
    /// stored policy.
    pub fn with_extras(runtime: Runtime, extras: HashMap<TargetKey, TargetExtras>) -> Self {
        Self {
            extras: Arc::new(extras),
            ..Self::with_runtime(runtime, EgressPolicy::default())
        }
    }

    /// Loads `sha256:` components missing from the runtime's memory from `store`.
    pub fn with_store(mut self, store: Store) -> Self {
        self.store = Some(store);
        self
    }

    /// Resolves `stored:<key>` secret references from `secrets` (see [`crate::secrets`]).
    pub fn with_secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = Some(secrets);
        self
    }

    /// Forgets the prepared connector of a target, so that it is prepared afresh (e.g. with a
    /// secret written since) before its next call.
    pub fn invalidate(&self, tenant: &str, target: &str) {
        let removed = self
            .slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(tenant.to_string(), target.to_string()));
        drop(removed);
    }

    /// The values of a target's secret references: `stored:<key>` opened from the sealed
    /// secrets, `env:`/`file:` read; an error names the secret at fault.
    pub async fn resolve_secrets(
        &self,
        spec: &TargetSpec,
    ) -> Result<BTreeMap<String, SecretValue>, ConnectorUnavailable> {
        let (stored, other): (BTreeMap<_, _>, BTreeMap<_, _>) = spec
            .secret_refs
            .clone()
            .into_iter()
            .partition(|(_, reference)| reference.starts_with(STORED_PREFIX));
        let mut values =
            resolve_references(&other).map_err(|(key, error)| ConnectorUnavailable::Secret {
                key,
                message: error.to_string(),
            })?;
        for (key, reference) in stored {
            let name = &reference[STORED_PREFIX.len()..];
            let value = match &self.secrets {
                Some(secrets) => secrets
                    .get(&spec.tenant, &spec.name, name)
                    .await
                    .map_err(|e| e.to_string()),
                None => Err("this process has no access to stored secrets".to_string()),
            }
            .map_err(|message| ConnectorUnavailable::Secret {
                key: key.clone(),
                message,
            })?;
            values.insert(key, value);
        }
        Ok(values)
    }

    /// The runtime the connectors run in.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The configured connector instance of a stored target: its component loaded (compiled if
    /// need be: this may take long, so the dispatcher never calls it directly), its secrets
    /// resolved and its configuration checked against the connector's schema.
    pub async fn instance(
        &self,
        target: &TargetRecord,
    ) -> Result<TargetInstance, ConnectorUnavailable> {
        let spec = &target.spec;
        let secrets = self.resolve_secrets(spec).await?;
        let connector =
            load_stored_connector(&self.runtime, self.store.as_ref(), &spec.connector).await?;
        let config = self.target_config(spec, &connector, secrets)?;
        TargetInstance::new(&self.runtime, connector, config)
            .map_err(|error| ConnectorUnavailable::Config(error.to_string()))
    }

    /// The configured connector instance of a stored target for a dry run: like
    /// [`Registry::instance`], but every secret (those the target names and every one the
    /// connector declares) is the placeholder `placeholder`: the target's real secrets are never read, so
    /// they can appear nowhere, and nothing is resolved from the environment, files or the
    /// secret store. Route its HTTP elsewhere with [`TargetInstance::with_transport`].
    pub async fn placeholder_instance(
        &self,
        target: &TargetRecord,
        placeholder: &str,
    ) -> Result<TargetInstance, ConnectorUnavailable> {
        let spec = &target.spec;
        let connector =
            load_stored_connector(&self.runtime, self.store.as_ref(), &spec.connector).await?;
        let mut config = self.target_config(spec, &connector, BTreeMap::new())?;
        // Every secret the connector declares (a process without the configuration file's
        // literal secrets, or a flow whose secrets only the connector requires, still runs).
        let declared = connector
            .metadata()
            .properties
            .iter()
            .filter(|p| p.secret)
            .map(|p| &p.key);
        let keys = spec
            .secret_refs
            .keys()
            .chain(config.secrets.keys())
            .chain(declared);
        let placeholders = keys
            .map(|key| (key.clone(), SecretValue::new(placeholder.to_owned())))
            .collect();
        config.secrets = placeholders;
        TargetInstance::new(&self.runtime, connector, config)
            .map_err(|error| ConnectorUnavailable::Config(error.to_string()))
    }

    /// The runtime configuration of `spec` for `connector`, with the given secret values plus
    /// the configuration file's literal ones; its egress is the stored policy (widened by the
    /// registry's own, if any).
    pub(crate) fn target_config(
        &self,
        spec: &TargetSpec,
        connector: &Connector,
        mut secrets: BTreeMap<String, SecretValue>,
    ) -> Result<TargetConfig, ConnectorUnavailable> {
        let extras = self
            .extras
            .get(&(spec.tenant.clone(), spec.name.clone()))
            .filter(|extras| extras.seeded.as_ref().is_none_or(|seeded| seeded == spec))
            .cloned()
            .unwrap_or_default();
        secrets.extend(extras.literal_secrets);
        let egress = EgressPolicy {
            allow_loopback: spec.egress.allow_loopback
                || extras.egress.allow_loopback
                || self.default_egress.allow_loopback,
            allow_private: spec.egress.allow_private
                || extras.egress.allow_private
                || self.default_egress.allow_private,
        };
        let mut config = TargetConfig::new(spec.tenant.clone(), spec.name.clone())
            .egress(egress)
            .secret_policy(extras.secret_policy);
        config.ca_bundle = extras.ca_bundle;
        for (key, value) in &spec.properties {
            config.values.insert(key.clone(), config_input(key, value)?);
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
        Ok(config)
    }

    /// Whether preparing the connector of `target`'s current revision has ended: `Some(true)`
    /// ready, `Some(false)` failed, `None` still preparing or not started.
    pub fn prepared(&self, target: &TargetRecord) -> Option<bool> {
        let key = (target.spec.tenant.clone(), target.spec.name.clone());
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = slots.get(&key).filter(|s| s.revision == target.revision)?;
        match slot.state {
            SlotState::Preparing(_) => None,
            SlotState::Ready(_) => Some(true),
            SlotState::Failed(_) => Some(false),
        }
    }

    /// Why preparing the connector of `target`'s current revision failed, if it did.
    pub fn preparation_failure(&self, target: &TargetRecord) -> Option<String> {
        let key = (target.spec.tenant.clone(), target.spec.name.clone());
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        match &slots
            .get(&key)
            .filter(|s| s.revision == target.revision)?
            .state
        {
            SlotState::Failed(reason) => Some(reason.to_string()),
            _ => None,
        }
    }

    /// Whether the connector of `target`'s current revision is prepared and ready to call.
    pub fn is_ready(&self, target: &TargetRecord) -> bool {
        let key = (target.spec.tenant.clone(), target.spec.name.clone());
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .is_some_and(|slot| {
                slot.revision == target.revision && matches!(slot.state, SlotState::Ready(_))
            })
    }

    /// Brings the registry in line with the stored `targets`: starts preparing (in the
    /// background) the connector of every unpaused target whose current revision has none yet,
    /// drops the connectors of targets no longer stored, and evicts from the runtime's memory
    /// every component nothing uses any more.
    pub fn sync(&self, targets: &[TargetRecord]) -> SyncReport {
        let mut report = SyncReport::default();
        let live: HashSet<TargetKey> = targets
            .iter()
            .map(|t| (t.spec.tenant.clone(), t.spec.name.clone()))
            .collect();
        let mut dropped = Vec::new();
        {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            let gone: Vec<TargetKey> = slots
                .keys()
                .filter(|key| !live.contains(*key))
                .cloned()
                .collect();
            for key in gone {
                report.dropped.push(format!("{}/{}", key.0, key.1));
                dropped.extend(slots.remove(&key));
            }
        }
        // Dropped outside the lock: dropping a connector frees its compiled code.
        drop(dropped);
        for target in targets.iter().filter(|t| !t.paused) {
            if self.start_preparing(target).is_some() {
                report
                    .preparing
                    .push(format!("{}/{}", target.spec.tenant, target.spec.name));
            }
        }
        report.evicted = self.runtime.evict_unused();
        report
    }

    /// Starts preparing `target`'s connector unless its revision has a slot already; returns
    /// the receiver that turns true when it is done, if a preparation started.
    fn start_preparing(&self, target: &TargetRecord) -> Option<watch::Receiver<bool>> {
        let key = (target.spec.tenant.clone(), target.spec.name.clone());
        let (done, receiver) = watch::channel(false);
        let replaced = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            if slots
                .get(&key)
                .is_some_and(|s| s.revision == target.revision)
            {
                return None;
            }
            slots.insert(
                key,
                Slot {
                    revision: target.revision,
                    state: SlotState::Preparing(receiver.clone()),
                },
            )
        };
        // The previous revision's connector goes now (outside the lock); the next sync evicts
        // its component if no other target uses it.
        drop(replaced);
        let registry = self.clone();
        let target = target.clone();
        tokio::spawn(async move {
            let prepared = registry.prepare(&target).await;
            registry.settle(&target, prepared);
            let _ = done.send(true);
        });
        Some(receiver)
    }

    /// Builds a target's connector, logging before and after (with the time it took).
    async fn prepare(&self, target: &TargetRecord) -> Prepared {
        let spec = &target.spec;
        tracing::info!(tenant = %spec.tenant, target = %spec.name, connector = %spec.connector,
            revision = target.revision, "preparing connector (loading, compiling if not cached)");
        let started = Instant::now();
        let prepared = self
            .instance(target)
            .await
            .map(|instance| Arc::new(SandboxedTarget(instance)) as Arc<dyn TargetConnector>);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &prepared {
            Ok(_) => tracing::info!(tenant = %spec.tenant, target = %spec.name,
                revision = target.revision, elapsed_ms, "connector ready"),
            Err(error) => tracing::warn!(tenant = %spec.tenant, target = %spec.name,
                revision = target.revision, elapsed_ms, %error, "connector cannot be prepared"),
        }
        prepared
    }

    /// Records the outcome of a preparation, unless the target moved on to another revision.
    fn settle(&self, target: &TargetRecord, prepared: Prepared) {
        let key = (target.spec.tenant.clone(), target.spec.name.clone());
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = slots.get_mut(&key) {
            if slot.revision == target.revision {
                slot.state = match prepared {
                    Ok(connector) => SlotState::Ready(connector),
                    Err(error) => SlotState::Failed(error),
                };
            }
        }
    }

    /// The slot's answer for `target`'s revision: ready, failed (the slot is cleared so that
    /// a resumed target is prepared afresh) or still preparing.
    fn answer(&self, target: &TargetRecord) -> Option<Prepared> {
        let key = (target.spec.tenant.clone(), target.spec.name.clone());
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slot = slots.get(&key).filter(|s| s.revision == target.revision)?;
        match &slot.state {
            SlotState::Ready(connector) => Some(Ok(connector.clone())),
            SlotState::Preparing(_) => None,
            SlotState::Failed(_) => match slots.remove(&key).map(|s| s.state) {
                Some(SlotState::Failed(error)) => Some(Err(error)),
                _ => None,
            },
        }
    }
}

impl ConnectorSource for Registry {
    fn renderer<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Option<Arc<dyn ChangeRenderer>>> {
        Box::pin(async move {
            let renderer = crate::explain::DryRunRenderer::for_target(self, target).await?;
            Some(Arc::new(renderer) as Arc<dyn ChangeRenderer>)
        })
    }

    fn connector<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Arc<dyn TargetConnector>, ConnectorUnavailable>> {
        Box::pin(async move {
            if let Some(answer) = self.answer(target) {
                return answer;
            }
            let waiting = self.start_preparing(target).or_else(|| {
                let key = (target.spec.tenant.clone(), target.spec.name.clone());
                let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
                match &slots.get(&key)?.state {
                    SlotState::Preparing(receiver) => Some(receiver.clone()),
                    _ => None,
                }
            });
            if let Some(mut receiver) = waiting {
                let _ = tokio::time::timeout(PREPARE_GRACE, receiver.wait_for(|done| *done)).await;
            }
            self.answer(target).unwrap_or_else(|| {
                Err(ConnectorUnavailable::NotReady(format!(
                    "the connector of target `{}` (revision {}) is being prepared (its component \
                     compiled); its jobs wait until it is ready",
                    target.spec.name, target.revision
                )))
            })
        })
    }
}

fn config_input(key: &str, value: &serde_json::Value) -> Result<ConfigInput, ConnectorUnavailable> {
    match value {
        serde_json::Value::String(text) => Ok(ConfigInput::Text(text.clone())),
        serde_json::Value::Bool(flag) => Ok(ConfigInput::Bool(*flag)),
        serde_json::Value::Number(n) if n.is_i64() => {
            Ok(ConfigInput::Int(n.as_i64().unwrap_or_default()))
        }
        other => Err(ConnectorUnavailable::Config(format!(
            "property `{key}` has an unsupported value {other}"
        ))),
    }
}

/// Loads the component a connector reference names: `builtin:<name>` (embedded in the binary),
/// `sha256:<digest>` (already loaded by `runtime`) or a component file.
pub async fn load_connector(
    runtime: &Runtime,
    reference: &str,
) -> Result<Arc<Connector>, ConnectorUnavailable> {
    load_stored_connector(runtime, None, reference).await
}

/// Like [`load_connector`], and a `sha256:` component the runtime has not loaded comes from
/// `store` (where `provisioner target put` stored it).
pub async fn load_stored_connector(
    runtime: &Runtime,
    store: Option<&Store>,
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
    } else if let Some(digest) = reference.strip_prefix(DIGEST_PREFIX) {
        if let Some(connector) = runtime.connector(digest) {
            return Ok(connector);
        }
        let Some(store) = store else {
            return Err(unavailable("no loaded component has this digest".into()));
        };
        let bytes = store
            .component_bytes(reference)
            .await
            .map_err(|e| unavailable(format!("reading the stored component: {e}")))?
            .ok_or_else(|| {
                unavailable(
                    "no component with this digest is stored; put the target again with its \
                     component file (`provisioner target put`)"
                        .into(),
                )
            })?;
        runtime.load_bytes(bytes).await
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

    fn list_entities(&self, request: ListRequest) -> BoxFuture<'_, CallResult<RemotePage>> {
        Box::pin(async move { self.0.list_entities(&request).await.map_err(call_failure) })
    }

    fn batch_size(&self) -> usize {
        self.0.batch_size()
    }

    fn provision_batch(
        &self,
        changes: Vec<Change>,
    ) -> BoxFuture<'_, CallResult<Vec<CallResult<ProvisionOutcome>>>> {
        Box::pin(async move {
            let results = self
                .0
                .provision_batch(&changes)
                .await
                .map_err(call_failure)?;
            Ok(results
                .into_iter()
                .map(|result| result.map_err(CallFailure::Connector))
                .collect())
        })
    }
}
