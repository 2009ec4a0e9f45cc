//! The server's TOML configuration: listen address, database, tenants with their inbound
//! credentials and outbound targets.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:9443"
//!
//! [server.tls]                       # absent: plain HTTP
//! certificate = "tls/chain.pem"      # PEM certificate chain, leaf first
//! private_key = "tls/key.pem"        # PEM private key (PKCS#8, PKCS#1 or SEC1)
//!
//! [database]
//! url = "sqlite:.provisioner/provisioner.db"  # or postgres://user:password@host:5432/db
//!
//! [[tenants]]
//! name = "carbon.super"
//! basic = [{ username = "admin", password = "env:ADMIN_PASSWORD" }]
//!
//! [[tenants.targets]]
//! name = "Salesforce.com"
//! connector = "builtin:salesforce"
//! properties = { sf-domain-name = "https://acme.my.salesforce.com" }
//! secrets = { sf-client-secret = "file:/run/secrets/sf-client-secret" }
//! egress = { ca_bundle = "tls/private-ca.pem" }   # extra CA roots for this target
//! ```
//!
//! Relative file paths (connectors, TLS files, CA bundles) are relative to the configuration file.
//!
//! Secrets (passwords, tokens, target secrets) are `env:VAR`, `file:/path` or a literal value
//! (`literal:` forces a literal that starts with `env:` or `file:`). [`load`] parses the file,
//! applies the `PROVISIONER_*` environment overrides and validates everything, including
//! secret references and connector paths; every error names the file, the key and the problem.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use scim::ScimConfig;
use serde::Deserialize;

use provisioner_contract::ClaimMapping;
use provisioner_engine::store::{OutboundSettings, ReconcilePolicy};
use provisioner_runtime::{
    CaBundle, CaBundleError, EgressPolicy, SecretPolicy, SecretSource, SecretValue,
};

/// Environment variable overriding `server.listen`.
pub const ENV_LISTEN: &str = "PROVISIONER_LISTEN";
/// Environment variable overriding `database.url`.
pub const ENV_DATABASE_URL: &str = "PROVISIONER_DATABASE_URL";
/// Environment variable overriding `runtime.cache_dir`.
pub const ENV_CACHE_DIR: &str = "PROVISIONER_CACHE_DIR";

/// The connector reference naming the Salesforce component built from this workspace.
pub const BUILTIN_SALESFORCE: &str = "builtin:salesforce";

/// The whole configuration file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Inbound HTTP settings.
    #[serde(default)]
    pub server: ListenConfig,
    /// Where the store lives.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Connector runtime settings.
    #[serde(default)]
    pub runtime: RuntimeSection,
    /// Dispatcher settings.
    #[serde(default)]
    pub dispatcher: DispatcherSection,
    /// Bounds on password (HTTP Basic) verification.
    #[serde(default)]
    pub auth: AuthSection,
    /// SCIM list limits and group-member policy.
    #[serde(default)]
    pub scim: ScimSection,
    /// The tenants served.
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
    /// Who may use the admin API (`/admin/v1`) and the console.
    #[serde(default)]
    pub admin: AdminSection,
    /// Where the key sealing stored target secrets comes from.
    #[serde(default)]
    pub secrets: SecretsSection,
}

/// `[admin]`: the admin API's own credentials (SCIM credentials never work there).
///
/// ```toml
/// [[admin.users]]
/// username = "root"
/// password = "env:ROOT_PASSWORD"     # or password_hash = "$argon2id$..."
/// # tenant = "carbon.super"          # present: administers only that tenant
///
/// [[admin.tokens]]
/// label = "ci"
/// token = "env:ADMIN_TOKEN"
/// ```
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    /// Users who log in with HTTP Basic or through the console.
    #[serde(default)]
    pub users: Vec<AdminUser>,
    /// Bearer tokens.
    #[serde(default)]
    pub tokens: Vec<AdminToken>,
}

/// `[[admin.users]]`: an administrator with a password.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminUser {
    /// User name (unique among administrators).
    pub username: String,
    /// The password as a secret source: `env:VAR`, `file:/path` or a literal.
    #[serde(default)]
    pub password: Option<String>,
    /// An argon2 PHC string (`$argon2id$...`).
    #[serde(default)]
    pub password_hash: Option<String>,
    /// The only tenant this administrator sees; absent for a server administrator.
    #[serde(default)]
    pub tenant: Option<String>,
}

/// `[[admin.tokens]]`: a bearer token for the admin API.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    /// Name used in logs and `whoami`.
    pub label: String,
    /// The token as a secret source: `env:VAR`, `file:/path` or a literal.
    pub token: String,
    /// The only tenant this token sees; absent for a server administrator.
    #[serde(default)]
    pub tenant: Option<String>,
}

/// `[secrets]`: the 32-byte key that seals target secrets written through the admin API.
/// `PROVISIONER_SECRET_KEY` (hex or base64) takes precedence over `key_file`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretsSection {
    /// File holding the key, hex or base64 (relative to the configuration file).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

/// `[server]`: the inbound SCIM API.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenConfig {
    /// Socket address to listen on, e.g. `127.0.0.1:9443` (port 0 picks a free port).
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Public base URL of the SCIM 2 endpoints; derived from the `Host` header when absent.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Largest accepted request body in bytes.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// HTTPS: serve the SCIM API over TLS with this certificate and key (plain HTTP when absent).
    #[serde(default)]
    pub tls: Option<TlsConfig>,
}

impl Default for ListenConfig {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            base_url: None,
            max_body_bytes: default_max_body(),
            tls: None,
        }
    }
}

/// `[server.tls]`: the certificate and key the SCIM API is served with.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the certificate chain, the server's own certificate first.
    pub certificate: PathBuf,
    /// PEM file with the private key of that certificate (PKCS#8, PKCS#1 or SEC1).
    pub private_key: PathBuf,
}

fn default_listen() -> String {
    "127.0.0.1:9443".into()
}

fn default_max_body() -> usize {
    1024 * 1024
}

/// `[database]`: the store.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:<path>` (embedded; relative paths are relative to the working directory) or
    /// `postgres://user:password@host:port/database` (several servers may share it).
    #[serde(default = "default_database_url")]
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: default_database_url(),
        }
    }
}

fn default_database_url() -> String {
    "sqlite:.provisioner/provisioner.db".into()
}

/// `[runtime]`: the connector sandbox.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSection {
    /// Directory of compiled connector artifacts (the runtime's default when absent).
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
}

/// `[scim]`: list limits and the policy for group members that do not exist.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ScimSection {
    /// Page size of a list that gives no `count`.
    pub default_page_size: usize,
    /// Largest page a list may ask for (`count` beyond is lowered to it).
    pub max_page_size: usize,
    /// Most resources a list may read to evaluate a filter or sort no index answers (`co`,
    /// `ne`, `not`, unindexed attributes); past it the list fails with 400 `tooMany`.
    pub max_filter_scan: usize,
    /// `ignore` (leave a member id that names no user or group out, and write the rest) or
    /// `reject` (refuse the whole write with 400).
    pub unknown_members: scim::config::UnknownMembers,
}

impl Default for ScimSection {
    fn default() -> Self {
        let scim = ScimConfig::default();
        Self {
            default_page_size: scim.default_page_size,
            max_page_size: scim.max_page_size,
            max_filter_scan: scim.max_filter_scan,
            unknown_members: scim.unknown_members,
        }
    }
}

/// `[dispatcher]`: how outbox jobs are run.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DispatcherSection {
    /// Jobs run concurrently at most.
    pub workers: usize,
    /// Lease of a claimed job in milliseconds; a killed process's jobs return after this.
    pub lease_ms: i64,
    /// Longest wait between looks at the queue when idle, in milliseconds.
    pub poll_ms: u64,
    /// Outer limit on one connector call, in milliseconds.
    pub call_timeout_ms: u64,
    /// Jobs of one target that run at once at most, across processes sharing the database
    /// (a target's `outbound.max_concurrency` overrides it); 0 means no cap.
    pub target_max_concurrency: usize,
    /// Jobs of one tenant that run at once at most; 0 means half the workers.
    pub tenant_max_concurrency: usize,
    /// Connector calls one tenant may start per minute; 0 means no quota.
    pub tenant_calls_per_minute: u32,
    /// Shortest wait after a rate-limited answer, whatever its retry-after says, in ms.
    pub retry_after_floor_ms: u64,
    /// Rate-limited waiting one job gets without spending attempts, in milliseconds; past
    /// it, rate-limited answers spend attempts and the job ends under `max_attempts`.
    pub rate_limit_budget_ms: u64,
}

impl Default for DispatcherSection {
    fn default() -> Self {
        let engine = provisioner_engine::DispatcherConfig::default();
        Self {
            workers: 16,
            lease_ms: 30_000,
            poll_ms: 250,
            call_timeout_ms: 120_000,
            target_max_concurrency: engine.target_max_concurrency,
            tenant_max_concurrency: engine.tenant_max_concurrency,
            tenant_calls_per_minute: engine.tenant_calls_per_minute,
            retry_after_floor_ms: engine.rate_limits.retry_after_floor_ms.unsigned_abs(),
            rate_limit_budget_ms: engine.rate_limits.budget_ms.unsigned_abs(),
        }
    }
}

/// `[auth]`: what HTTP Basic requests may cost the server (see [`scim::PasswordGate`]).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSection {
    /// Password verifications (argon2, ~19 MiB each) running at once; default: half the
    /// CPUs, at least one.
    pub password_verifiers: usize,
    /// Requests waiting for a verifier; beyond them a request is answered 503 at once.
    pub password_queue: usize,
    /// How long a successful verification is remembered, in seconds (0: never).
    pub verified_cache_secs: u64,
    /// How many successful verifications are remembered at most.
    pub verified_cache_entries: usize,
    /// Consecutive failures of one client address or user name before back-off starts.
    pub free_failures: u32,
    /// The first back-off window in milliseconds; each further failure doubles it.
    pub backoff_base_ms: u64,
    /// The longest back-off window in milliseconds.
    pub backoff_max_ms: u64,
}

impl Default for AuthSection {
    fn default() -> Self {
        let d = scim::GateLimits::default();
        Self {
            password_verifiers: d.verifiers,
            password_queue: d.queue,
            verified_cache_secs: d.cache_ttl.as_secs(),
            verified_cache_entries: d.cache_entries,
            free_failures: d.free_failures,
            backoff_base_ms: d.base_backoff.as_millis() as u64,
            backoff_max_ms: d.max_backoff.as_millis() as u64,
        }
    }
}

impl AuthSection {
    /// The password gate's bounds these settings describe.
    pub fn limits(&self) -> scim::GateLimits {
        scim::GateLimits {
            verifiers: self.password_verifiers,
            queue: self.password_queue,
            cache_ttl: std::time::Duration::from_secs(self.verified_cache_secs),
            cache_entries: self.verified_cache_entries,
            free_failures: self.free_failures,
            base_backoff: std::time::Duration::from_millis(self.backoff_base_ms),
            max_backoff: std::time::Duration::from_millis(self.backoff_max_ms),
            ..scim::GateLimits::default()
        }
    }
}

/// `[[tenants]]`: one tenant, its inbound credentials and its targets.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    /// Tenant name, e.g. `carbon.super`.
    pub name: String,
    /// HTTP Basic users that may call the SCIM API for this tenant.
    #[serde(default)]
    pub basic: Vec<BasicCredential>,
    /// Bearer tokens that may call the SCIM API for this tenant.
    #[serde(default)]
    pub bearer: Vec<BearerCredential>,
    /// Outbound provisioning targets.
    #[serde(default)]
    pub targets: Vec<TargetEntry>,
}

/// A Basic user: exactly one of `password` (a secret, hashed at load) or `password_hash`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicCredential {
    /// User name (unique across all tenants).
    pub username: String,
    /// The password as a secret source: `env:VAR`, `file:/path` or a literal.
    #[serde(default)]
    pub password: Option<String>,
    /// An argon2 PHC string (`$argon2id$...`).
    #[serde(default)]
    pub password_hash: Option<String>,
}

/// A bearer token.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerCredential {
    /// Name used in logs.
    pub label: String,
    /// The token as a secret source: `env:VAR`, `file:/path` or a literal.
    pub token: String,
}

/// `[[tenants.targets]]`: one outbound target.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    /// Target name, unique within the tenant.
    pub name: String,
    /// Path of the connector component (relative to the configuration file), or
    /// `builtin:salesforce`.
    pub connector: String,
    /// Non-secret property values; an array of tables is the claim mapping.
    #[serde(default)]
    pub properties: BTreeMap<String, PropertyValue>,
    /// Secret property values as sources: `env:VAR`, `file:/path` or a literal.
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
    /// Outbound behaviour.
    #[serde(default)]
    pub outbound: OutboundConfig,
    /// Which non-public destinations the target may reach.
    #[serde(default)]
    pub egress: EgressConfig,
    /// Where the target's secrets may go: narrower origins per secret, and header names besides
    /// `authorization` that may carry one.
    #[serde(default)]
    pub secret_policy: SecretPolicy,
}

/// A non-secret property value.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum PropertyValue {
    /// Text, URL or choice.
    Text(String),
    /// Boolean.
    Bool(bool),
    /// Integer.
    Int(i64),
    /// Claim mappings.
    Mappings(Vec<MappingEntry>),
}

/// One claim mapping row: a target field filled from a claim, with a default.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingEntry {
    /// Target-side field, e.g. `LastName`.
    pub field: String,
    /// Claim URI, or a WSO2 claim name such as `lastname`; absent for a constant.
    #[serde(default)]
    pub claim: Option<String>,
    /// Value used when the claim is absent (or always, for a constant).
    #[serde(default)]
    pub default: Option<String>,
}

/// The longest a blocking write may wait for a target's outcome
/// (`[tenants.targets.outbound] timeout_ms`), in milliseconds.
pub const MAX_BLOCKING_TIMEOUT_MS: i64 = 60_000;

/// `[tenants.targets.outbound]`: blocking mode, who is provisioned, retry limits.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutboundConfig {
    /// Whether a SCIM write waits for this target's outcome.
    pub blocking: bool,
    /// How long a blocking write waits at most, in milliseconds.
    pub timeout_ms: i64,
    /// Only users holding one of these roles (their own, or the display name of a group they
    /// are a direct member of) are provisioned; empty means every user.
    pub provisioning_roles: Vec<String>,
    /// Attempts a job may burn before it becomes a dead letter.
    pub max_attempts: i64,
    /// First retry delay in milliseconds.
    pub backoff_base_ms: i64,
    /// Largest retry delay in milliseconds.
    pub backoff_cap_ms: i64,
    /// Jobs of this target that run at once at most; none takes the dispatcher's default.
    pub max_concurrency: Option<i64>,
    /// What reconciliation does with drift: `report` (default) or `repair`.
    pub reconcile: ReconcilePolicy,
    /// Reconcile this target every so many minutes; absent: on demand only.
    pub reconcile_every_minutes: Option<i64>,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        let d = OutboundSettings::default();
        Self {
            blocking: d.blocking,
            timeout_ms: d.blocking_timeout_ms,
            provisioning_roles: d.provisioning_roles,
            max_attempts: d.max_attempts,
            backoff_base_ms: d.backoff_base_ms,
            backoff_cap_ms: d.backoff_cap_ms,
            max_concurrency: d.max_concurrency,
            reconcile: d.reconcile_policy,
            reconcile_every_minutes: d.reconcile_every_minutes,
        }
    }
}

impl OutboundConfig {
    /// The engine's settings for these values.
    pub fn settings(&self) -> OutboundSettings {
        OutboundSettings {
            blocking: self.blocking,
            blocking_timeout_ms: self.timeout_ms,
            provisioning_roles: self.provisioning_roles.clone(),
            scope_filter: None,
            max_attempts: self.max_attempts,
            backoff_base_ms: self.backoff_base_ms,
            backoff_cap_ms: self.backoff_cap_ms,
            max_concurrency: self.max_concurrency,
            reconcile_policy: self.reconcile,
            reconcile_every_minutes: self.reconcile_every_minutes,
        }
    }
}

/// `[tenants.targets.egress]`: non-public destinations the target may reach, and the CA
/// certificates it trusts besides the built-in roots.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EgressConfig {
    /// Allow loopback addresses (local emulators, tests).
    pub allow_loopback: bool,
    /// Allow private and link-local networks.
    pub allow_private: bool,
    /// PEM file of CA certificates for a target whose server uses a private CA. They are added
    /// to the built-in roots; certificates are always verified.
    pub ca_bundle: Option<PathBuf>,
}

impl EgressConfig {
    /// The configured CA bundle, read and checked (`None` when none is configured).
    pub fn load_ca_bundle(&self) -> Result<Option<CaBundle>, CaBundleError> {
        self.ca_bundle
            .as_deref()
            .map(CaBundle::from_pem_file)
            .transpose()
    }
}

impl From<&EgressConfig> for EgressPolicy {
    fn from(e: &EgressConfig) -> Self {
        EgressPolicy {
            allow_loopback: e.allow_loopback,
            allow_private: e.allow_private,
        }
    }
}

/// A configuration problem: which file, which key, where, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The configuration file (`<built-in>` for a configuration built in code).
    pub file: String,
    /// Dotted key path, e.g. `tenants[0].targets[1].secrets.sf-password`.
    pub key: String,
    /// 1-based line and column, when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some((line, column)) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        let key = if self.key.is_empty() {
            "(top level)"
        } else {
            &self.key
        };
        write!(f, ": `{key}`: {}", self.message)
    }
}

/// Reads, parses, overrides from the environment, and validates a configuration file.
pub fn load(path: &Path) -> Result<ServerConfig, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        key: String::new(),
        position: None,
        message: format!("cannot read the file: {e}"),
    })?;
    let mut config = parse(&file, &text)?;
    config.apply_env(|key| std::env::var(key).ok());
    let base = path.parent().unwrap_or(Path::new("."));
    config.resolve_paths(base);
    config.validate(&file)?;
    Ok(config)
}

/// Parses configuration text; `file` names it in errors. No environment, no validation.
pub fn parse(file: &str, text: &str) -> Result<ServerConfig, ConfigError> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(file, text, "", &e))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let key = if key == "." { String::new() } else { key };
        toml_error(file, text, &key, e.inner())
    })
}

fn toml_error(file: &str, text: &str, key: &str, e: &toml::de::Error) -> ConfigError {
    let position = e.span().map(|span| line_column(text, span.start));
    ConfigError {
        file: file.into(),
        key: key.into(),
        position,
        message: e.message().trim().to_string(),
    }
}

fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

impl ServerConfig {
    /// Applies `PROVISIONER_LISTEN`, `PROVISIONER_DATABASE_URL` and `PROVISIONER_CACHE_DIR`.
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        if let Some(listen) = env(ENV_LISTEN) {
            self.server.listen = listen;
        }
        if let Some(url) = env(ENV_DATABASE_URL) {
            self.database.url = url;
        }
        if let Some(dir) = env(ENV_CACHE_DIR) {
            self.runtime.cache_dir = Some(dir.into());
        }
    }

    /// Makes relative connector, TLS and CA bundle paths relative to `base` (the configuration
    /// file's directory); `builtin:` and `sha256:` references stay as they are.
    pub fn resolve_paths(&mut self, base: &Path) {
        let rebase = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = base.join(&*path);
            }
        };
        if let Some(tls) = &mut self.server.tls {
            rebase(&mut tls.certificate);
            rebase(&mut tls.private_key);
        }
        if let Some(key_file) = &mut self.secrets.key_file {
            rebase(key_file);
        }
        for target in self.tenants.iter_mut().flat_map(|t| t.targets.iter_mut()) {
            if !target.connector.starts_with(builtin_connectors::PREFIX)
                && !target.connector.starts_with("sha256:")
                && Path::new(&target.connector).is_relative()
            {
                target.connector = base.join(&target.connector).display().to_string();
            }
            if let Some(bundle) = &mut target.egress.ca_bundle {
                rebase(bundle);
            }
        }
    }

    /// The listen address.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        self.server
            .listen
            .parse()
            .map_err(|e| format!("`{}` is not a socket address: {e}", self.server.listen))
    }

    /// Checks everything that can be checked without a network: addresses, uniqueness,
    /// credentials, secret references, connector files, outbound limits.
    pub fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let err = |key: String, message: String| ConfigError {
            file: file.into(),
            key,
            position: None,
            message,
        };
        self.listen_addr()
            .map_err(|m| err("server.listen".into(), m))?;
        if let Some(tls) = &self.server.tls {
            crate::tls::server_config(tls)
                .map_err(|e| err(format!("server.tls.{}", e.key()), e.to_string()))?;
        }
        if let Err(error) = provisioner_engine::store::Backend::of_url(&self.database.url) {
            return Err(err("database.url".into(), error.to_string()));
        }
        if self.auth.password_verifiers == 0 {
            return Err(err(
                "auth.password_verifiers".into(),
                "must be at least 1: with no verifier no Basic request could be answered".into(),
            ));
        }
        if self.scim.max_page_size == 0 || self.scim.default_page_size > self.scim.max_page_size {
            return Err(err(
                "scim.max_page_size".into(),
                format!(
                    "must be at least 1 and at least scim.default_page_size ({})",
                    self.scim.default_page_size
                ),
            ));
        }
        if self.auth.backoff_max_ms < self.auth.backoff_base_ms {
            return Err(err(
                "auth.backoff_max_ms".into(),
                "must be at least auth.backoff_base_ms".into(),
            ));
        }
        let mut tenants = BTreeSet::new();
        let mut usernames = BTreeSet::new();
        self.validate_admin(&err)?;
        for (ti, tenant) in self.tenants.iter().enumerate() {
            let at = format!("tenants[{ti}]");
            if tenant.name.trim().is_empty() {
                return Err(err(format!("{at}.name"), "must not be empty".into()));
            }
            if !tenants.insert(tenant.name.as_str()) {
                return Err(err(
                    format!("{at}.name"),
                    format!("tenant `{}` is configured twice", tenant.name),
                ));
            }
            for (bi, basic) in tenant.basic.iter().enumerate() {
                let at = format!("{at}.basic[{bi}]");
                if basic.username.is_empty() {
                    return Err(err(format!("{at}.username"), "must not be empty".into()));
                }
                if !usernames.insert(basic.username.as_str()) {
                    return Err(err(
                        format!("{at}.username"),
                        format!(
                            "`{}` is already a Basic user (user names are unique across tenants)",
                            basic.username
                        ),
                    ));
                }
                match (&basic.password, &basic.password_hash) {
                    (Some(p), None) => {
                        resolve_secret(p).map_err(|m| err(format!("{at}.password"), m))?;
                    }
                    (None, Some(h)) if h.starts_with("$argon2") => {}
                    (None, Some(_)) => {
                        return Err(err(
                            format!("{at}.password_hash"),
                            "must be an argon2 PHC string (`$argon2id$...`)".into(),
                        ))
                    }
                    _ => {
                        return Err(err(
                            at,
                            "give exactly one of `password` and `password_hash`".into(),
                        ))
                    }
                }
            }
            for (bi, bearer) in tenant.bearer.iter().enumerate() {
                let at = format!("{at}.bearer[{bi}]");
                let token =
                    resolve_secret(&bearer.token).map_err(|m| err(format!("{at}.token"), m))?;
                if token.expose().len() < 16 {
                    return Err(err(
                        format!("{at}.token"),
                        "a bearer token needs at least 16 characters".into(),
                    ));
                }
            }
            let mut names = BTreeSet::new();
            for (gi, target) in tenant.targets.iter().enumerate() {
                let at = format!("{at}.targets[{gi}]");
                if target.name.trim().is_empty() {
                    return Err(err(format!("{at}.name"), "must not be empty".into()));
                }
                if !names.insert(target.name.as_str()) {
                    return Err(err(
                        format!("{at}.name"),
                        format!("target `{}` is configured twice", target.name),
                    ));
                }
                if target.connector.starts_with(builtin_connectors::PREFIX) {
                    if builtin_connectors::lookup(&target.connector).is_none() {
                        return Err(err(
                            format!("{at}.connector"),
                            format!(
                                "no built-in connector `{}`; built in: {}",
                                target.connector,
                                builtin_connectors::references().join(", ")
                            ),
                        ));
                    }
                } else if !target.connector.starts_with("sha256:")
                    && !Path::new(&target.connector).is_file()
                {
                    return Err(err(
                        format!("{at}.connector"),
                        format!("no component file at `{}`", target.connector),
                    ));
                }
                target
                    .claim_mappings()
                    .map_err(|(k, m)| err(format!("{at}.properties.{k}"), m))?;
                for (key, source) in &target.secrets {
                    if target.properties.contains_key(key) {
                        return Err(err(
                            format!("{at}.secrets.{key}"),
                            "is also given as a (non-secret) property".into(),
                        ));
                    }
                    resolve_secret(source).map_err(|m| err(format!("{at}.secrets.{key}"), m))?;
                }
                target
                    .egress
                    .load_ca_bundle()
                    .map_err(|e| err(format!("{at}.egress.ca_bundle"), e.to_string()))?;
                let o = &target.outbound;
                if o.max_attempts < 1 {
                    return Err(err(
                        format!("{at}.outbound.max_attempts"),
                        "must be at least 1".into(),
                    ));
                }
                if !(0..=MAX_BLOCKING_TIMEOUT_MS).contains(&o.timeout_ms) {
                    return Err(err(
                        format!("{at}.outbound.timeout_ms"),
                        format!(
                            "is {} ms; a blocking write waits between 0 and \
                             {MAX_BLOCKING_TIMEOUT_MS} ms (60 s) for the target: the SCIM \
                             client is held that long, so a slower target should not be blocking",
                            o.timeout_ms
                        ),
                    ));
                }
                if o.backoff_base_ms < 0 || o.backoff_cap_ms < o.backoff_base_ms {
                    return Err(err(
                        format!("{at}.outbound.backoff_cap_ms"),
                        "needs backoff_base_ms >= 0 and backoff_cap_ms >= backoff_base_ms".into(),
                    ));
                }
                if o.reconcile_every_minutes.is_some_and(|n| n < 1) {
                    return Err(err(
                        format!("{at}.outbound.reconcile_every_minutes"),
                        "must be at least 1 (leave it out to reconcile on demand only)".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl ServerConfig {
    /// Checks `[admin]`: unique user names, one password source each, resolvable secrets,
    /// long enough tokens, and tenants that exist.
    fn validate_admin(
        &self,
        err: &dyn Fn(String, String) -> ConfigError,
    ) -> Result<(), ConfigError> {
        let known = |at: &str, tenant: &Option<String>| match tenant {
            Some(name) if !self.tenants.iter().any(|t| &t.name == name) => Err(err(
                format!("{at}.tenant"),
                format!(
                    "no tenant `{name}` is configured (configured: {})",
                    self.tenants
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
            _ => Ok(()),
        };
        let mut usernames = BTreeSet::new();
        for (i, user) in self.admin.users.iter().enumerate() {
            let at = format!("admin.users[{i}]");
            if user.username.is_empty() {
                return Err(err(format!("{at}.username"), "must not be empty".into()));
            }
            if !usernames.insert(user.username.as_str()) {
                return Err(err(
                    format!("{at}.username"),
                    format!("`{}` is already an admin user", user.username),
                ));
            }
            match (&user.password, &user.password_hash) {
                (Some(p), None) => {
                    resolve_secret(p).map_err(|m| err(format!("{at}.password"), m))?;
                }
                (None, Some(h)) if h.starts_with("$argon2") => {}
                (None, Some(_)) => {
                    return Err(err(
                        format!("{at}.password_hash"),
                        "must be an argon2 PHC string (`$argon2id$...`)".into(),
                    ))
                }
                _ => {
                    return Err(err(
                        at,
                        "give exactly one of `password` and `password_hash`".into(),
                    ))
                }
            }
            known(&at, &user.tenant)?;
        }
        for (i, token) in self.admin.tokens.iter().enumerate() {
            let at = format!("admin.tokens[{i}]");
            let value = resolve_secret(&token.token).map_err(|m| err(format!("{at}.token"), m))?;
            if value.expose().len() < 16 {
                return Err(err(
                    format!("{at}.token"),
                    "an admin token needs at least 16 characters".into(),
                ));
            }
            known(&at, &token.tenant)?;
        }
        Ok(())
    }
}

impl TargetEntry {
    /// The claim mappings given among the properties (at most one array of tables); claim names
    /// without a scheme are WSO2 claims. The error names the property.
    pub fn claim_mappings(&self) -> Result<Vec<ClaimMapping>, (String, String)> {
        let mut found: Option<(&String, &Vec<MappingEntry>)> = None;
        for (key, value) in &self.properties {
            if let PropertyValue::Mappings(rows) = value {
                if let Some((first, _)) = found {
                    return Err((
                        key.clone(),
                        format!("claim mappings are already given in `{first}`"),
                    ));
                }
                found = Some((key, rows));
            }
        }
        let Some((key, rows)) = found else {
            return Ok(Vec::new());
        };
        rows.iter()
            .enumerate()
            .map(|(i, row)| {
                if row.field.is_empty() {
                    return Err((format!("{key}[{i}].field"), "must not be empty".into()));
                }
                if row.claim.is_none() && row.default.is_none() {
                    return Err((
                        format!("{key}[{i}]"),
                        "needs a `claim`, a `default`, or both".into(),
                    ));
                }
                Ok(ClaimMapping {
                    target_field: row.field.clone(),
                    claim: row.claim.as_deref().map(claim_uri),
                    default_value: row.default.clone(),
                })
            })
            .collect()
    }

    /// The non-secret, non-mapping properties as JSON values.
    pub fn scalar_properties(&self) -> BTreeMap<String, serde_json::Value> {
        self.properties
            .iter()
            .filter_map(|(key, value)| {
                let json = match value {
                    PropertyValue::Text(t) => serde_json::Value::from(t.clone()),
                    PropertyValue::Bool(b) => serde_json::Value::from(*b),
                    PropertyValue::Int(i) => serde_json::Value::from(*i),
                    PropertyValue::Mappings(_) => return None,
                };
                Some((key.clone(), json))
            })
            .collect()
    }
}

/// A claim URI from a configured claim: `lastname` means `http://wso2.org/claims/lastname`.
pub fn claim_uri(claim: &str) -> String {
    if claim.contains(':') {
        claim.to_string()
    } else {
        crate::tutorial::claim(claim)
    }
}

/// Resolves a configuration secret: `env:VAR`, `file:/path`, `literal:value` or a literal value.
/// Errors name the variable or file, never a value.
pub fn resolve_secret(source: &str) -> Result<SecretValue, String> {
    SecretSource::config_value(source)
        .resolve()
        .map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_key_and_line() {
        let text = "[server]\nlisten = \"127.0.0.1:1\"\n\n[[tenants]]\nname = \"t\"\n\n[[tenants.targets]]\nname = \"x\"\nconnector = \"c.wasm\"\n[tenants.targets.egress]\nallow_loopbak = true\n";
        let e = parse("p.toml", text).unwrap_err();
        assert_eq!(e.file, "p.toml");
        assert!(e.key.starts_with("tenants[0].targets[0].egress"), "{e}");
        assert!(e.message.contains("allow_loopbak"), "{e}");
        assert_eq!(e.position.map(|p| p.0), Some(11), "{e}");
    }

    #[test]
    fn type_error_names_key() {
        let e = parse("p.toml", "[dispatcher]\nworkers = \"many\"\n").unwrap_err();
        assert_eq!(e.key, "dispatcher.workers", "{e}");
        assert_eq!(e.position, Some((2, 11)), "{e}");
    }

    #[test]
    fn scim_section() {
        let c = parse(
            "p.toml",
            "[scim]\nunknown_members = \"reject\"\nmax_filter_scan = 5000\n",
        )
        .unwrap();
        assert_eq!(c.scim.unknown_members, scim::config::UnknownMembers::Reject);
        assert_eq!(c.scim.max_filter_scan, 5000);
        assert_eq!(c.scim.max_page_size, ScimConfig::default().max_page_size);
        let e = parse("p.toml", "[scim]\nunknown_members = \"drop\"\n").unwrap_err();
        assert_eq!(e.key, "scim.unknown_members", "{e}");
        assert!(
            e.message.contains("ignore") && e.message.contains("reject"),
            "{e}"
        );
        let c = parse(
            "p.toml",
            "[scim]\ndefault_page_size = 500\nmax_page_size = 100\n",
        )
        .unwrap();
        let e = c.validate("p.toml").unwrap_err();
        assert_eq!(e.key, "scim.max_page_size", "{e}");
    }

    #[test]
    fn env_overrides() {
        let mut c = parse("p.toml", "[server]\nlisten = \"127.0.0.1:1\"\n").unwrap();
        c.apply_env(|k| (k == ENV_LISTEN).then(|| "127.0.0.1:2".to_string()));
        assert_eq!(c.server.listen, "127.0.0.1:2");
        assert_eq!(c.database.url, default_database_url());
    }

    #[test]
    fn secrets_resolve() {
        assert_eq!(resolve_secret("plain").unwrap().expose(), "plain");
        assert_eq!(resolve_secret("literal:env:x").unwrap().expose(), "env:x");
        let e = resolve_secret("env:PROVISIONER_SURELY_UNSET_VAR").unwrap_err();
        assert!(e.contains("PROVISIONER_SURELY_UNSET_VAR"));
    }
}
