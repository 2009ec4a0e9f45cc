//! The long-running server: the inbound SCIM API, the outbox dispatcher and the connector
//! runtime in one process.
//!
//! [`start`] opens the store, seeds the configured targets (the file seeds, the database is the
//! state: a target changed at run time keeps its stored version, see [`seed_targets`]),
//! prepares every target's connector in the background ([`Registry`]), binds the SCIM router
//! ([`scim::router`] over an [`EngineBackend`]; over HTTPS when `[server.tls]` is configured,
//! see [`tls`]) and starts a [`Dispatcher`]; the returned
//! [`ServerHandle`] knows the bound address and shuts everything down gracefully: the listener
//! stops accepting, in-flight requests complete, jobs in flight finish (or return to the queue
//! when their lease lapses), and queued jobs stay in the database for the next start.

pub mod admin;
pub mod admission;
pub mod backend;
pub mod config;
pub mod console;
pub mod egress;
pub mod explain;
pub mod observability;
pub mod quickstart;
pub mod reconcile_schedule;
pub mod registry;
pub mod secrets;
pub mod tls;
pub mod tutorial;

use std::collections::HashMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use scim::{CredentialStore, ScimConfig, TenantId};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use provisioner_engine::policy::RateLimitPolicy;
use provisioner_engine::store::{
    Seeded, Store, StoreError, TargetEgress as StoredEgress, TargetSpec,
};
use provisioner_engine::{DispatchStats, Dispatcher, DispatcherConfig, Engine};
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig, SecretSource, SecretValue};

pub use backend::EngineBackend;
pub use config::{ConfigError, ServerConfig};
pub use registry::{load_connector, load_stored_connector, Registry, SyncReport, TargetExtras};

/// Why the server could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store could not be opened or written.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The connector runtime could not be created.
    #[error("connector runtime: {0}")]
    Runtime(String),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// A server task failed.
    #[error("server task: {0}")]
    Task(String),
}

/// A running server.
pub struct ServerHandle {
    addr: SocketAddr,
    https: bool,
    engine: Engine,
    registry: Registry,
    notices: Vec<String>,
    stop: watch::Sender<bool>,
    http: JoinHandle<std::io::Result<()>>,
    dispatcher: JoinHandle<Result<DispatchStats, StoreError>>,
    sync: JoinHandle<()>,
}

impl ServerHandle {
    /// The address the SCIM API listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://ADDR` when serving TLS, else `http://ADDR`.
    pub fn base_url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The engine the server writes through (for inspection and tests).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The connector registry (for inspection and tests).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Waits until the connector of every stored, unpaused target has been prepared (ready or
    /// failed), or five minutes have passed; returns whether all were. For callers that need a
    /// blocking target's writes to wait for its outcome from the first request on (a write to a
    /// target still compiling does not wait).
    pub async fn connectors_prepared(&self) -> bool {
        for _ in 0..6_000 {
            let all = match self.engine.store().targets(None).await {
                Ok(targets) => targets
                    .iter()
                    .filter(|t| !t.paused)
                    .all(|t| self.registry.prepared(t).is_some()),
                Err(_) => false,
            };
            if all {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// What an operator should know from the start, e.g. configured targets whose file version
    /// was not applied because they were changed at run time.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Stops accepting requests, lets in-flight requests and jobs finish, and returns what the
    /// dispatcher did.
    pub async fn shutdown(self) -> Result<DispatchStats, ServerError> {
        let _ = self.stop.send(true);
        let http = self
            .http
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?;
        let stats = self
            .dispatcher
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?;
        self.sync
            .await
            .map_err(|e| ServerError::Task(e.to_string()))?;
        self.engine.store().close().await;
        http.map_err(|e| ServerError::Task(format!("http server: {e}")))?;
        Ok(stats?)
    }
}

/// Opens the configured store (creating the SQLite file's directory) and returns its engine.
pub async fn open_engine(config: &ServerConfig) -> Result<Engine, ServerError> {
    let url = &config.database.url;
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = path.split('?').next().unwrap_or_default();
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    ServerError::Store(StoreError::BadUrl(format!(
                        "{url} (cannot create {}: {e})",
                        dir.display()
                    )))
                })?;
            }
        }
    }
    Ok(Engine::new(Store::open(url).await?))
}

/// Seeds every configured target into the store (keeping a run-time change, see
/// [`seed_targets`]) and returns what the configuration adds to each: egress policy, secret
/// policy and literal secrets.
pub async fn register_targets(
    store: &Store,
    config: &ServerConfig,
) -> Result<HashMap<(String, String), TargetExtras>, ServerError> {
    Ok(seed_targets(store, config, false, None).await?.0)
}

/// Seeds the configured targets: the file is the seed, the database the state. A target an
/// operator changed at run time (`target put`, `target rollback`) keeps its stored version
/// unless `reseed`; each such target whose file version differs yields a notice saying so and
/// how to apply the file's version. Returns the configuration's extras and the notices.
///
/// With `seal`, each literal secret of a configured target is written, sealed, to the stored
/// secrets and the stored target references it as `stored:<key>`, instead of living only in
/// this process's memory: a target changed at run time (admin API, console) then keeps its
/// secrets, as a target whose secrets come from `env:` or `file:` does.
pub async fn seed_targets(
    store: &Store,
    config: &ServerConfig,
    reseed: bool,
    seal: Option<&secrets::Secrets>,
) -> Result<(HashMap<(String, String), TargetExtras>, Vec<String>), ServerError> {
    let mut extras = HashMap::new();
    let mut notices = Vec::new();
    for (mut spec, mut target_extras) in configured_targets(config)? {
        let to_seal = match seal {
            Some(_) => refer_to_sealed(&mut spec, &mut target_extras),
            None => Default::default(),
        };
        let key = (spec.tenant.clone(), spec.name.clone());
        let seeded = store.seed_target(&spec, reseed).await?;
        if let (Some(sealed), false) = (seal, matches!(seeded, Seeded::KeptRuntime(_))) {
            // The file's version applies: its secrets are the ones its references name.
            for (secret, value) in &to_seal {
                sealed
                    .put(&spec.tenant, &spec.name, secret, value.expose())
                    .await
                    .map_err(|e| {
                        ServerError::Task(format!(
                            "sealing secret `{secret}` of target {}/{}: {e}",
                            spec.tenant, spec.name
                        ))
                    })?;
            }
        }
        if let Seeded::KeptRuntime(stored) = seeded {
            let notice = format!(
                "target {tenant}/{name}: the configuration file's version differs from the one \
                 changed at run time (revision {revision}, connector {connector}), which is kept; \
                 the file's version was not applied. To apply it, restart with \
                 `provisioner serve --reseed` (`provisioner target history --tenant {tenant} \
                 {name}` lists the revisions)",
                tenant = spec.tenant,
                name = spec.name,
                revision = stored.revision,
                connector = stored.spec.connector,
            );
            tracing::warn!("{notice}");
            notices.push(notice);
        }
        extras.insert(key, target_extras);
    }
    Ok((extras, notices))
}

/// Turns a configured target's literal secrets into `stored:<key>` references (see
/// [`seed_targets`]); returns the values to seal.
fn refer_to_sealed(
    spec: &mut TargetSpec,
    extras: &mut TargetExtras,
) -> std::collections::BTreeMap<String, SecretValue> {
    let literals = std::mem::take(&mut extras.literal_secrets);
    for key in literals.keys() {
        spec.secret_refs
            .insert(key.clone(), format!("{}{key}", secrets::STORED_PREFIX));
    }
    extras.seeded = Some(spec.clone());
    literals
}

/// Every target the configuration describes, as stored specifications plus what only the
/// configuration holds.
fn configured_targets(
    config: &ServerConfig,
) -> Result<Vec<(TargetSpec, TargetExtras)>, ServerError> {
    let mut targets = Vec::new();
    for tenant in &config.tenants {
        for target in &tenant.targets {
            let mut secret_refs = std::collections::BTreeMap::new();
            let mut literal_secrets = std::collections::BTreeMap::new();
            for (key, source) in &target.secrets {
                if SecretSource::config_value(source).is_reference() {
                    secret_refs.insert(key.clone(), source.clone());
                } else {
                    let value = config::resolve_secret(source).map_err(|message| ConfigError {
                        file: "<configuration>".into(),
                        key: format!(
                            "tenants.{}.targets.{}.secrets.{key}",
                            tenant.name, target.name
                        ),
                        position: None,
                        message,
                    })?;
                    literal_secrets.insert(key.clone(), value);
                }
            }
            let claim_mappings = target
                .claim_mappings()
                .map_err(|(key, message)| ConfigError {
                    file: "<configuration>".into(),
                    key: format!(
                        "tenants.{}.targets.{}.properties.{key}",
                        tenant.name, target.name
                    ),
                    position: None,
                    message,
                })?;
            let egress = EgressPolicy::from(&target.egress);
            let spec = TargetSpec {
                tenant: tenant.name.clone(),
                name: target.name.clone(),
                connector: target.connector.clone(),
                properties: target.scalar_properties(),
                secret_refs,
                claim_mappings,
                settings: target.outbound.settings(),
                egress: StoredEgress {
                    allow_loopback: egress.allow_loopback,
                    allow_private: egress.allow_private,
                },
            };
            let extras = TargetExtras {
                egress,
                secret_policy: target.secret_policy.clone(),
                ca_bundle: target.egress.load_ca_bundle().map_err(|e| ConfigError {
                    file: "<configuration>".into(),
                    key: format!(
                        "tenants.{}.targets.{}.egress.ca_bundle",
                        tenant.name, target.name
                    ),
                    position: None,
                    message: e.to_string(),
                })?,
                literal_secrets,
                seeded: Some(spec.clone()),
            };
            targets.push((spec, extras));
        }
    }
    Ok(targets)
}

/// The Basic and bearer credentials of every tenant (plain passwords hashed with argon2id).
pub fn credentials(config: &ServerConfig) -> Result<CredentialStore, ConfigError> {
    let store = CredentialStore::with_limits(config.auth.limits());
    for tenant in &config.tenants {
        let id = TenantId::new(tenant.name.clone());
        for basic in &tenant.basic {
            let key =
                |field: &str| format!("tenants.{}.basic.{}.{field}", tenant.name, basic.username);
            match (&basic.password, &basic.password_hash) {
                (_, Some(hash)) => store.add_basic_hashed(id.clone(), &basic.username, hash),
                (Some(source), None) => {
                    let password =
                        config::resolve_secret(source).map_err(|message| ConfigError {
                            file: "<configuration>".into(),
                            key: key("password"),
                            position: None,
                            message,
                        })?;
                    store.add_basic(id.clone(), &basic.username, password.expose());
                }
                (None, None) => {
                    return Err(ConfigError {
                        file: "<configuration>".into(),
                        key: key("password"),
                        position: None,
                        message: "give `password` or `password_hash`".into(),
                    })
                }
            }
        }
        for bearer in &tenant.bearer {
            let token = config::resolve_secret(&bearer.token).map_err(|message| ConfigError {
                file: "<configuration>".into(),
                key: format!("tenants.{}.bearer.{}.token", tenant.name, bearer.label),
                position: None,
                message,
            })?;
            store.add_bearer(id.clone(), &bearer.label, token.expose());
        }
    }
    Ok(store)
}

/// The connector runtime `config` asks for.
pub fn runtime(config: &ServerConfig) -> Result<Runtime, ServerError> {
    let mut runtime_config = RuntimeConfig::default();
    if let Some(dir) = &config.runtime.cache_dir {
        runtime_config.cache_dir = dir.clone();
    }
    Runtime::new(runtime_config).map_err(|e| ServerError::Runtime(e.to_string()))
}

/// How often the server brings its connectors in line with the stored targets (preparing
/// changed ones ahead of need, dropping deleted ones, evicting unused components).
const CONNECTOR_SYNC_EVERY: Duration = Duration::from_secs(1);

/// Choices made when starting, beyond the configuration file.
#[derive(Clone, Debug, Default)]
pub struct StartOptions {
    /// Apply the configuration file's version of every configured target even where an
    /// operator changed it at run time (that version stays in the history for rollback).
    pub reseed: bool,
    /// The key sealing stored secrets when neither `PROVISIONER_SECRET_KEY` nor
    /// `[secrets] key_file` gives one (the quickstart's in-memory key).
    pub secret_key: Option<secrets::SecretKey>,
    /// Seal the literal secrets of configured targets into the stored secrets (see
    /// [`seed_targets`]), so that those targets can be changed at run time without giving
    /// their secrets again (the quickstart's choice). Needs a key.
    pub seal_literal_secrets: bool,
}

/// Starts the server described by `config` (already validated, e.g. by [`config::load`]).
pub async fn start(config: ServerConfig) -> Result<ServerHandle, ServerError> {
    start_with(config, StartOptions::default()).await
}

/// [`start`] with options.
pub async fn start_with(
    config: ServerConfig,
    options: StartOptions,
) -> Result<ServerHandle, ServerError> {
    config.validate("<configuration>")?;
    let engine = open_engine(&config).await?;
    let secret_key = secrets::SecretKey::from_config(&config.secrets, |k| std::env::var(k).ok())
        .map_err(|e| ConfigError {
            file: "<configuration>".into(),
            key: "secrets.key_file".into(),
            position: None,
            message: e.to_string(),
        })?
        .or(options.secret_key);
    let sealed = secrets::Secrets::new(engine.store().clone(), secret_key);
    let seal = options.seal_literal_secrets.then_some(&sealed);
    let (extras, notices) = seed_targets(engine.store(), &config, options.reseed, seal).await?;
    let auth = Arc::new(credentials(&config)?);
    let admin_credentials = Arc::new(admin::AdminCredentials::from_config(&config)?);

    let runtime = runtime(&config)?;
    let registry = Registry::with_extras(runtime, extras)
        .with_store(engine.store().clone())
        .with_secrets(sealed.clone());
    let connectors = Arc::new(registry.clone());
    let metrics = Arc::new(observability::Metrics::default());
    let d = &config.dispatcher;
    let dispatcher = Dispatcher::with_observer(
        &engine,
        connectors,
        DispatcherConfig {
            workers: d.workers,
            lease_ms: d.lease_ms,
            poll_ms: d.poll_ms,
            call_timeout: Duration::from_millis(d.call_timeout_ms),
            target_max_concurrency: d.target_max_concurrency,
            tenant_max_concurrency: d.tenant_max_concurrency,
            tenant_calls_per_minute: d.tenant_calls_per_minute,
            rate_limits: RateLimitPolicy {
                retry_after_floor_ms: i64::try_from(d.retry_after_floor_ms).unwrap_or(i64::MAX),
                budget_ms: i64::try_from(d.rate_limit_budget_ms).unwrap_or(i64::MAX),
            },
            ..DispatcherConfig::default()
        },
        metrics.clone(),
    );

    let backend = Arc::new(EngineBackend::new(engine.clone()));
    let indexed = backend
        .index_legacy()
        .await
        .map_err(|e| ServerError::Task(format!("indexing stored users and groups: {e}")))?;
    if indexed > 0 {
        tracing::info!(indexed, "stored users and groups indexed for SCIM lookups");
    }
    let scim_config = ScimConfig {
        max_body_bytes: config.server.max_body_bytes,
        base_url: config.server.base_url.clone(),
        default_page_size: config.scim.default_page_size,
        max_page_size: config.scim.max_page_size,
        max_filter_scan: config.scim.max_filter_scan,
        unknown_members: config.scim.unknown_members,
        ..ScimConfig::default()
    };
    let admin_state = admin::AdminState {
        engine: engine.clone(),
        registry: registry.clone(),
        backend: backend.clone(),
        scim: scim_config.clone(),
        credentials: admin_credentials,
        secrets: sealed,
        tenants: Arc::new(config.tenants.iter().map(|t| t.name.clone()).collect()),
        secure_cookies: config.server.tls.is_some()
            || config
                .server
                .base_url
                .as_deref()
                .is_some_and(|url| url.starts_with("https://")),
    };
    let metrics_token = match &config.server.metrics_token {
        Some(source) => Some(
            config::resolve_secret(source).map_err(|message| ConfigError {
                file: "<configuration>".into(),
                key: "server.metrics_token".into(),
                position: None,
                message,
            })?,
        ),
        None => None,
    };
    let app = scim::router(backend, auth, scim_config)
        .merge(admin::router(admin_state))
        .merge(console::router())
        .merge(observability::routes(observability::ObservabilityState {
            engine: engine.clone(),
            registry: registry.clone(),
            metrics,
            metrics_token,
        }));
    let app = observability::with_request_ids(app);
    let listen = config.listen_addr().map_err(|message| ConfigError {
        file: "<configuration>".into(),
        key: "server.listen".into(),
        position: None,
        message,
    })?;
    let tls = match &config.server.tls {
        Some(tls) => Some(tls::server_config(tls).map_err(|e| ConfigError {
            file: "<configuration>".into(),
            key: format!("server.tls.{}", e.key()),
            position: None,
            message: e.to_string(),
        })?),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: listen.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServerError::Bind {
        addr: listen.to_string(),
        source,
    })?;

    let (stop, stopped) = watch::channel(false);
    let https = tls.is_some();
    let http = match tls {
        None => serve(listener, app, stopped.clone()),
        Some(tls) => {
            let listener =
                tls::TlsListener::new(listener, tls).map_err(|source| ServerError::Bind {
                    addr: listen.to_string(),
                    source,
                })?;
            serve(listener, app, stopped.clone())
        }
    };
    let sync = {
        let connectors = sync_connectors(registry.clone(), engine.store().clone(), stopped.clone());
        let schedule = reconcile_schedule::run(
            engine.clone(),
            registry.clone(),
            stopped.clone(),
            reconcile_schedule::CHECK_EVERY,
        );
        tokio::spawn(async move {
            tokio::join!(connectors, schedule);
        })
    };
    let dispatcher = {
        let mut stopped = stopped;
        tokio::spawn(async move {
            dispatcher
                .run(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        })
    };
    tracing::info!(%addr, https, "SCIM and admin APIs listening");
    Ok(ServerHandle {
        addr,
        https,
        engine,
        registry,
        notices,
        stop,
        http,
        dispatcher,
        sync,
    })
}

/// Keeps the registry in line with the stored targets until `stopped`: at start every target's
/// connector is prepared (compiled) in the background before the dispatcher needs it, then
/// changed targets are prepared as soon as they are seen, deleted ones dropped and components
/// no target uses evicted from memory.
async fn sync_connectors(registry: Registry, store: Store, mut stopped: watch::Receiver<bool>) {
    loop {
        match store.targets(None).await {
            Ok(targets) => {
                let report = registry.sync(&targets);
                if !report.dropped.is_empty() || !report.evicted.is_empty() {
                    tracing::info!(dropped = ?report.dropped, evicted = report.evicted.len(),
                        "connectors of deleted or changed targets released");
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read the targets to prepare connectors"),
        }
        let stop = stopped.wait_for(|s| *s);
        if tokio::time::timeout(CONNECTOR_SYNC_EVERY, stop)
            .await
            .is_ok()
        {
            return;
        }
    }
}

/// Serves `app` on `listener` until `stopped` turns true, then finishes in-flight requests.
fn serve<L>(
    listener: L,
    app: axum::Router,
    mut stopped: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>>
where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    // `tap_io` gives any listener axum's `ConnectInfo`, so the client's address reaches the
    // handlers (per-client authentication back-off) over plain HTTP and TLS alike.
    let listener = axum::serve::ListenerExt::tap_io(listener, |_| {});
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|s| *s).await;
        })
        .await
    })
}
