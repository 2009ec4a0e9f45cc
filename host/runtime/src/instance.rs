//! A configured connector instance: one tenant's target, ready to take calls.

use std::sync::Arc;

use crate::answers::Bounded;
use crate::capabilities::egress::{EgressReport, TargetEgress};
use crate::capabilities::http::{HttpCapability, HttpObserver, HttpShared};
use crate::capabilities::log::LogCapability;
use crate::capabilities::transport::Transport;
use crate::config::{self, TargetConfig, TargetConfigError};
use provisioner_contract::{
    Change, ConfigProblem, ConnectorConfig, ConnectorInstance, ListRequest, LookupKey,
    ProvisionError, ProvisionOutcome, RemoteObject, RemotePage,
};
use wasmtime::Store;

use crate::call::{self, CallContext, CallError, CallStats, GuestFuture, HostState, StatsSink};
use crate::reuse::WarmInstances;
use crate::runtime::{Connector, Runtime};

/// A connector configured for one tenant's target. Each call runs in a fresh sandbox, unless
/// the runtime lets targets reuse instances ([`crate::RuntimeConfig::calls_per_instance`]).
pub struct TargetInstance {
    runtime: Runtime,
    connector: Arc<Connector>,
    connector_config: ConnectorConfig,
    egress: Arc<TargetEgress>,
    last_stats: StatsSink,
    /// This target's idle warm instances (always empty unless the runtime reuses instances).
    warm: WarmInstances,
    /// This instance's own HTTP parts, when they are not the runtime's ([`Self::with_transport`]).
    http: Option<Arc<HttpShared>>,
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
    ) -> Result<Self, TargetConfigError> {
        let resolved = config::resolve(connector.metadata(), &config)?;
        let egress = Arc::new(TargetEgress {
            tenant: config.tenant.clone(),
            target: config.target.clone(),
            connector: connector.metadata().id.clone(),
            allow: resolved.allow,
            policy: config.egress,
            secrets: resolved.secrets,
            ca_bundle: config.ca_bundle.clone(),
        });
        Ok(Self {
            runtime: runtime.clone(),
            connector,
            connector_config: resolved.connector_config,
            egress,
            last_stats: StatsSink::default(),
            warm: WarmInstances::new(runtime),
            http: None,
        })
    }

    /// This instance with all its HTTP, token requests included, sent through `transport`
    /// instead of the runtime's and reported to `observer`, with a token manager of its own:
    /// nothing it sends reaches the runtime's transport, and it neither uses nor caches the
    /// runtime's tokens. The egress allow-list, header rules and redaction still apply. (A dry
    /// run: `transport` records each request and answers it without the network.)
    pub fn with_transport(
        mut self,
        transport: Arc<dyn Transport>,
        observer: Arc<dyn HttpObserver>,
    ) -> Self {
        self.http = Some(Arc::new(HttpShared {
            transport,
            observer: Some(observer),
            tokens: Arc::default(),
            limits: self.runtime.config().http.clone(),
        }));
        self
    }

    /// What the most recent call of this instance to finish cost (with concurrent calls, any
    /// one of them); `None` before the first call.
    pub fn last_call_stats(&self) -> Option<CallStats> {
        *self.last_stats.lock().unwrap()
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

    /// What the target may reach and where its secrets may go.
    pub fn egress_report(&self) -> EgressReport {
        self.egress.report()
    }

    /// Asks the connector to check the configuration (no network).
    pub async fn validate(&self) -> Result<Vec<ConfigProblem>, CallError> {
        self.validate_config(self.connector_config.clone()).await
    }

    /// Asks the connector to check `config` as given, unchecked against the schema (conformance
    /// checks: an empty configuration must be answered with problems, never a trap).
    pub async fn validate_config(
        &self,
        config: ConnectorConfig,
    ) -> Result<Vec<ConfigProblem>, CallError> {
        self.call(&config, |guest, store, config| {
            Box::pin(guest.validate(store, config))
        })
        .await
    }

    /// Applies one local change to the target.
    pub async fn provision(&self, change: &Change) -> Result<ProvisionOutcome, CallError> {
        self.call(
            &(&self.connector_config, change),
            |guest, store, (config, change)| Box::pin(guest.provision(store, config, change)),
        )
        .await?
        .map_err(CallError::Connector)
    }

    /// The most changes one `provision-batch` call carries: the connector's own
    /// `max-batch-size`, capped by the runtime's limit (and at least one).
    pub fn batch_size(&self) -> usize {
        let declared = usize::try_from(self.connector.metadata().max_batch_size).unwrap_or(1);
        declared.clamp(1, self.runtime.config().max_batch_size.max(1))
    }

    /// Applies several changes, in calls of at most [`Self::batch_size`] changes each, and
    /// returns one result per change in the order given. A connector that answers a call with
    /// another number of results fails the whole call ([`CallError::InvalidAnswer`]).
    pub async fn provision_batch(
        &self,
        changes: &[Change],
    ) -> Result<Vec<Result<ProvisionOutcome, ProvisionError>>, CallError> {
        let mut results = Vec::with_capacity(changes.len());
        for chunk in changes.chunks(self.batch_size()) {
            let answered = self
                .call(
                    &(&self.connector_config, chunk),
                    |guest, store, (config, batch)| {
                        Box::pin(guest.provision_batch(store, config, batch))
                    },
                )
                .await?;
            if answered.len() != chunk.len() {
                return Err(CallError::InvalidAnswer {
                    message: format!(
                        "provision-batch returned {} results for {} changes",
                        answered.len(),
                        chunk.len()
                    ),
                });
            }
            results.extend(answered);
        }
        Ok(results)
    }

    /// Finds a remote entity.
    pub async fn lookup(&self, key: &LookupKey) -> Result<Option<RemoteObject>, CallError> {
        self.call(
            &(&self.connector_config, key),
            |guest, store, (config, key)| Box::pin(guest.lookup(store, config, key)),
        )
        .await?
        .map_err(CallError::Connector)
    }

    /// Reads one page of remote entities (for reconciliation).
    pub async fn list_entities(&self, request: &ListRequest) -> Result<RemotePage, CallError> {
        self.call(
            &(&self.connector_config, request),
            |guest, store, (config, request)| Box::pin(guest.list_entities(store, config, request)),
        )
        .await?
        .map_err(CallError::Connector)
    }

    /// Runs one call and bounds its answer ([`crate::answers`]): in a fresh sandbox, or, when
    /// the runtime lets targets reuse instances, in one of this target's warm ones.
    async fn call<A, R, F>(&self, args: &A, call: F) -> Result<R, CallError>
    where
        A: Sync + ?Sized,
        R: Bounded,
        F: for<'a> FnOnce(
                &'a ConnectorInstance,
                &'a mut Store<HostState>,
                &'a A,
            ) -> GuestFuture<'a, R>
            + Send,
    {
        let context = CallContext {
            http: match &self.http {
                Some(shared) => HttpCapability {
                    egress: self.egress.clone(),
                    shared: shared.clone(),
                },
                None => self.runtime.http_capability(self.egress.clone()),
            },
            log: LogCapability::new(
                &self.egress.tenant,
                &self.egress.target,
                &self.egress.connector,
            ),
            stats: Some(self.last_stats.clone()),
        };
        let inner = &self.runtime.inner;
        let warm = self.warm.take();
        let (result, sandbox) =
            call::invoke_in(inner, &self.connector.pre, warm, context, args, call).await;
        let answer = result?
            .bounded()
            .map_err(|message| CallError::InvalidAnswer { message });
        if let (Ok(_), Some(sandbox)) = (&answer, sandbox) {
            self.warm.keep(sandbox);
        }
        answer
    }
}
