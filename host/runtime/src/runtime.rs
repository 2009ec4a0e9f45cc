//! The runtime: one shared wasmtime `Engine`, compiled components cached on disk and in memory
//! (keyed by content digest), each component's contract version read before it is linked.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::component::Linker;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
    Strategy,
};

use crate::answers::Bounded;
use crate::cache;
use crate::call::{self, CallContext, CallError, HostState};
use crate::capabilities::egress::{AllowList, EgressPolicy, TargetEgress};
use crate::capabilities::http::{HttpCapability, HttpObserver, HttpShared};
use crate::capabilities::log::LogCapability;
use crate::capabilities::secrets::TargetSecrets;
use crate::capabilities::tokens::TokenManager;
use crate::capabilities::transport::{ReqwestTransport, Transport};
use crate::imports::ImportsError;
use crate::load::{LoadError, LoadReport, LoadSource};
use crate::reuse::InstanceCounts;
use crate::settings::RuntimeConfig;
use provisioner_contract::{ConnectorMetadata, ConnectorPre, ContractVersion};

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot start the connector runtime: {0}")]
pub struct RuntimeError(String);

/// A loaded connector: a component ready to instantiate, and its metadata.
pub struct Connector {
    digest: String,
    metadata: ConnectorMetadata,
    pub(crate) pre: ConnectorPre<HostState>,
}

impl Connector {
    /// The contract version the component was built for.
    pub fn contract_version(&self) -> ContractVersion {
        self.pre.version()
    }

    /// Hex SHA-256 of the component bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The metadata the connector returned at load.
    pub fn metadata(&self) -> &ConnectorMetadata {
        &self.metadata
    }
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("id", &self.metadata.id)
            .field("version", &self.metadata.version)
            .field("contract", &self.pre.version().semver())
            .field("digest", &self.digest)
            .finish()
    }
}

/// Slots of the pooling allocator in use, and the memory it keeps resident for free slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolUsage {
    /// Component instances allocated (one per live connector instance).
    pub component_instances: u64,
    /// Linear memory slots allocated.
    pub memories: usize,
    /// Fiber stacks allocated (one per call running now).
    pub stacks: usize,
    /// Bytes kept resident in free memory slots, ready for the next instance (bounded by the
    /// per-slot keep-resident size times the slots ever used).
    pub unused_memory_bytes_resident: usize,
}

/// The connector runtime; cheap to clone, shared by every target.
#[derive(Clone)]
pub struct Runtime {
    pub(crate) inner: Arc<RuntimeInner>,
}

pub(crate) struct RuntimeInner {
    pub engine: Engine,
    linker: Linker<HostState>,
    pub config: RuntimeConfig,
    pub http: Arc<HttpShared>,
    fingerprint: String,
    pooling: bool,
    connectors: Mutex<HashMap<String, Arc<Connector>>>,
    /// Sandboxes alive now, and the idle warm ones among them.
    pub counts: Arc<InstanceCounts>,
}

/// Builds a [`Runtime`] with a custom transport, observer or token manager.
pub struct RuntimeBuilder {
    config: RuntimeConfig,
    transport: Option<Arc<dyn Transport>>,
    observer: Option<Arc<dyn HttpObserver>>,
    tokens: Option<Arc<TokenManager>>,
}

impl RuntimeBuilder {
    /// Sends HTTP through `transport` instead of reqwest (benchmarks, tests).
    pub fn transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Reports every HTTP exchange to `observer`.
    pub fn observer(mut self, observer: Arc<dyn HttpObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Shares a token manager (by default each runtime has its own).
    pub fn tokens(mut self, tokens: Arc<TokenManager>) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Creates the engine, the linker and the epoch ticker.
    pub fn build(self) -> Result<Runtime, RuntimeError> {
        let config = self.config;
        let (engine, pooling) = create_engine(&config)?;
        let mut linker = Linker::<HostState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| RuntimeError(format!("linking WASI: {e}")))?;
        provisioner_contract::add_to_linker(&mut linker)
            .map_err(|e| RuntimeError(format!("linking the host imports: {e}")))?;
        start_epoch_ticker(&engine, config.epoch_tick)?;
        let fingerprint = cache::engine_fingerprint(&engine);
        tracing::debug!(pooling, engine = %fingerprint, "connector runtime started");
        let http = Arc::new(HttpShared {
            transport: self
                .transport
                .unwrap_or_else(|| Arc::new(ReqwestTransport::new())),
            observer: self.observer,
            tokens: self.tokens.unwrap_or_default(),
            limits: config.http.clone(),
        });
        Ok(Runtime {
            inner: Arc::new(RuntimeInner {
                engine,
                linker,
                config,
                http,
                fingerprint,
                pooling,
                connectors: Mutex::default(),
                counts: Arc::default(),
            }),
        })
    }
}

impl Runtime {
    /// A runtime with the default transport (reqwest) and its own token manager.
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        Self::builder(config).build()
    }

    /// A builder for a runtime with custom parts.
    pub fn builder(config: RuntimeConfig) -> RuntimeBuilder {
        RuntimeBuilder {
            config,
            transport: None,
            observer: None,
            tokens: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    /// The OAuth token manager (e.g. to read its request counter).
    pub fn tokens(&self) -> &Arc<TokenManager> {
        &self.inner.http.tokens
    }

    /// Whether the pooling allocator is in use.
    pub fn uses_pooling(&self) -> bool {
        self.inner.pooling
    }

    /// Connector instances alive now: one per call in flight, plus the idle warm instances kept
    /// for reuse ([`RuntimeConfig::calls_per_instance`]). With the pooling allocator each holds
    /// a pool slot, so this never exceeds [`RuntimeConfig::max_live_instances`].
    pub fn live_instances(&self) -> usize {
        self.inner.counts.live()
    }

    /// What the pooling allocator holds now; `None` with on-demand allocation.
    pub fn pool_usage(&self) -> Option<PoolUsage> {
        let metrics = self.inner.engine.pooling_allocator_metrics()?;
        Some(PoolUsage {
            component_instances: metrics.component_instances(),
            memories: metrics.memories(),
            stacks: metrics.stacks(),
            unused_memory_bytes_resident: metrics.unused_memory_bytes_resident(),
        })
    }

    /// Idle warm instances kept for reuse over all targets (0 unless reuse is on).
    pub fn idle_instances(&self) -> usize {
        self.inner.counts.idle()
    }

    /// A connector already loaded by this runtime, by digest.
    pub fn connector(&self, digest: &str) -> Option<Arc<Connector>> {
        self.inner.connectors.lock().unwrap().get(digest).cloned()
    }

    /// Digests of the connectors this runtime holds in memory.
    pub fn loaded(&self) -> Vec<String> {
        let mut digests: Vec<String> = self
            .inner
            .connectors
            .lock()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        digests.sort();
        digests
    }

    /// Drops from memory every loaded connector that nothing else holds any more (no target
    /// instance, no caller), freeing its compiled code; returns their digests. A later load of
    /// one of them comes from the disk cache.
    pub fn evict_unused(&self) -> Vec<String> {
        let mut connectors = self.inner.connectors.lock().unwrap();
        let unused: Vec<String> = connectors
            .iter()
            .filter(|(_, connector)| Arc::strong_count(connector) == 1)
            .map(|(digest, _)| digest.clone())
            .collect();
        for digest in &unused {
            connectors.remove(digest);
        }
        unused
    }

    /// Loads a component file. See [`Runtime::load_bytes`].
    pub async fn load_file(
        &self,
        path: impl AsRef<Path>,
    ) -> Result<(Arc<Connector>, LoadReport), LoadError> {
        let path = path.as_ref();
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|source| LoadError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        self.load_bytes(bytes).await
    }

    /// Loads a component: from memory if this runtime has it, else from the disk cache, else by
    /// compiling it (and caching the artifact). Then links it and calls its `metadata()`.
    pub async fn load_bytes(
        &self,
        bytes: impl Into<Vec<u8>>,
    ) -> Result<(Arc<Connector>, LoadReport), LoadError> {
        let started = Instant::now();
        let bytes = bytes.into();
        let digest = cache::digest(&bytes);
        let artifact = cache::artifact_path(
            &self.inner.config.cache_dir,
            &digest,
            &self.inner.fingerprint,
        );
        if let Some(connector) = self.connector(&digest) {
            let report = LoadReport {
                digest,
                source: LoadSource::Memory,
                artifact,
                elapsed: started.elapsed(),
            };
            return Ok((connector, report));
        }

        // Refuse what cannot link in milliseconds, before a compile that may take a minute.
        match crate::imports::check(&bytes) {
            Ok(()) => {}
            Err(ImportsError::Malformed(message)) => return Err(LoadError::Compile { message }),
            Err(refused) => return Err(LoadError::Imports(refused)),
        }
        let engine = self.inner.engine.clone();
        let path = artifact.clone();
        let (component, source) =
            tokio::task::spawn_blocking(move || cache::load_or_compile(&engine, &path, &bytes))
                .await
                .map_err(|e| LoadError::Compile {
                    message: format!("compilation task failed: {e}"),
                })??;

        let unknown_imports: Vec<String> = component
            .component_type()
            .imports(&self.inner.engine)
            .map(|(name, _)| name.to_string())
            .filter(|name| {
                !name.starts_with("wasi:") && !name.starts_with("provisioning:connector/")
            })
            .collect();
        if !unknown_imports.is_empty() {
            return Err(LoadError::Link {
                message: "the component imports interfaces outside WASI and the connector contract"
                    .into(),
                unknown_imports,
            });
        }
        let component_type = component.component_type();
        let version = ContractVersion::of_component(
            component_type
                .exports(&self.inner.engine)
                .map(|(name, _)| name),
        )?;
        let instance_pre =
            self.inner
                .linker
                .instantiate_pre(&component)
                .map_err(|e| LoadError::Link {
                    message: format!("{e:#}"),
                    unknown_imports: Vec::new(),
                })?;
        let pre = ConnectorPre::new(version, instance_pre).map_err(|e| LoadError::Link {
            message: format!("{e:#}"),
            unknown_imports: Vec::new(),
        })?;

        let mut connector = Connector {
            digest: digest.clone(),
            metadata: placeholder_metadata(),
            pre,
        };
        let context = CallContext {
            http: self.http_capability(Arc::new(TargetEgress {
                tenant: "-".into(),
                target: "-".into(),
                connector: digest[..12].to_string(),
                allow: AllowList::default(),
                policy: EgressPolicy::default(),
                secrets: TargetSecrets::default(),
                ca_bundle: None,
            })),
            log: LogCapability::new("-", "-", &digest[..12]),
            stats: None,
        };
        connector.metadata = call::invoke(
            &self.inner,
            &connector.pre,
            context,
            &(),
            |guest, store, _| Box::pin(guest.metadata(store)),
        )
        .await
        .and_then(|metadata| {
            metadata
                .bounded()
                .map_err(|message| CallError::InvalidAnswer { message })
        })
        .map_err(LoadError::Metadata)?;
        let connector = Arc::new(connector);
        let connector = self
            .inner
            .connectors
            .lock()
            .unwrap()
            .entry(digest.clone())
            .or_insert(connector)
            .clone();
        let report = LoadReport {
            digest,
            source,
            artifact,
            elapsed: started.elapsed(),
        };
        tracing::info!(
            connector = %connector.metadata.id,
            version = %connector.metadata.version,
            contract = connector.pre.version().semver(),
            digest = %report.digest,
            source = ?report.source,
            elapsed_ms = report.elapsed.as_millis() as u64,
            "connector loaded"
        );
        Ok((connector, report))
    }

    pub(crate) fn http_capability(&self, egress: Arc<TargetEgress>) -> HttpCapability {
        HttpCapability {
            egress,
            shared: self.inner.http.clone(),
        }
    }
}

fn placeholder_metadata() -> ConnectorMetadata {
    ConnectorMetadata {
        id: String::new(),
        name: String::new(),
        version: String::new(),
        description: String::new(),
        entity_kinds: Vec::new(),
        properties: Vec::new(),
        max_batch_size: 1,
    }
}

/// Engine settings shared by the pooling and on-demand configurations. Changing any of them
/// changes the engine fingerprint and so invalidates cached artifacts.
fn base_config() -> Config {
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .epoch_interruption(true)
        .strategy(Strategy::Cranelift)
        .cranelift_opt_level(OptLevel::Speed)
        // Data segments are mapped copy-on-write from an image made at load, not copied in at
        // every instantiation.
        .memory_init_cow(true)
        .async_stack_zeroing(true);
    wasm
}

/// Creates the engine, with the pooling allocator when asked and possible.
fn create_engine(config: &RuntimeConfig) -> Result<(Engine, bool), RuntimeError> {
    if config.pooling {
        let mut wasm = base_config();
        wasm.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config(config)));
        match Engine::new(&wasm) {
            Ok(engine) => return Ok((engine, true)),
            Err(e) => {
                tracing::warn!("pooling allocator unavailable, using on-demand allocation: {e:#}")
            }
        }
    }
    let engine = Engine::new(&base_config()).map_err(|e| RuntimeError(format!("{e:#}")))?;
    Ok((engine, false))
}

/// Bytes of a fiber stack's top zeroed with `memset` when a call ends (the rest is returned to
/// the kernel): a call's stack rarely goes deeper, so those pages stay resident and the next
/// call takes no page faults on them.
const STACK_KEEP_RESIDENT: usize = 128 * 1024;

/// Bytes of each linear memory (and table) kept resident when an instance is dropped: reset in
/// place to the component's initial image instead of being unmapped and faulted in again.
const MEMORY_KEEP_RESIDENT: usize = 2 * 1024 * 1024;

/// The pool: one slot per instance that may be alive at once, each memory capped at the
/// per-call memory limit.
fn pooling_config(config: &RuntimeConfig) -> PoolingAllocationConfig {
    let n = config.max_live_instances();
    let memory = usize::try_from(config.memory_limit_bytes).unwrap_or(usize::MAX);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(8))
        .total_memories(n.saturating_mul(2))
        .total_tables(n.saturating_mul(8))
        .total_stacks(config.max_concurrent_calls.max(1))
        .max_core_instances_per_component(50)
        .max_memories_per_component(8)
        .max_tables_per_component(32)
        .max_memories_per_module(1)
        .max_tables_per_module(8)
        .table_elements(20_000)
        .max_memory_size(memory)
        .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT)
        .table_keep_resident(512 * 1024)
        .async_stack_keep_resident(STACK_KEEP_RESIDENT)
        // Reset only the pages a call dirtied (Linux 6.7+), not the whole resident prefix.
        .pagemap_scan(Enabled::Auto);
    pool
}

/// Advances the engine's epoch every `tick` on a background thread, until the engine is dropped.
fn start_epoch_ticker(engine: &Engine, tick: Duration) -> Result<(), RuntimeError> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("provisioner-epoch".into())
        .spawn(move || loop {
            std::thread::sleep(tick);
            match weak.upgrade() {
                Some(engine) => engine.increment_epoch(),
                None => return,
            }
        })
        .map(drop)
        .map_err(|e| RuntimeError(format!("cannot start the epoch ticker: {e}")))
}
