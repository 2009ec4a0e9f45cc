//! `provisioner target ...`: configure and operate targets. A change made here is a run-time
//! change: checked before it is written, written atomically, kept across restarts (the
//! configuration file only seeds), and undone with `rollback`.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use provisioner_engine::policy;
use provisioner_engine::store::{self, TargetSpec};
use provisioner_engine::Engine;

use provisioner_server::admin::targets::{Deleted, PauseRequest, RevisionView, TargetView};

use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig};
use provisioner_server::{admission, Registry};
use serde::Serialize;

use super::access::{Access, Via, SERVER_ENV};
use super::admin_client::AdminClient;
use super::ops::{api_tenants, engine, DbArg};

/// Where the server's database and compilation cache are: its configuration file, or both
/// given directly; or, for the commands that can, a running server's admin API.
#[derive(Debug, Args)]
pub struct ServerStoreArgs {
    /// A running server, e.g. `http://127.0.0.1:9443` (default: $PROVISIONER_SERVER when
    /// neither --config nor --db is given); the command asks its admin API, with credentials
    /// from PROVISIONER_ADMIN_TOKEN, or PROVISIONER_ADMIN_USER and PROVISIONER_ADMIN_PASSWORD.
    /// Taken by `target history|rollback|delete` and `reconcile`.
    #[arg(long, conflicts_with_all = ["config", "db", "cache_dir"])]
    server: Option<String>,
    /// The server's configuration file (its database and compilation cache are used).
    #[arg(long, conflicts_with = "db")]
    config: Option<PathBuf>,
    /// Database URL, `sqlite:provisioner.db` or `postgres://user:password@host:5432/db` (instead
    /// of --config).
    #[arg(long)]
    db: Option<String>,
    /// The server's compilation cache directory (with --db; default: the runtime's default).
    #[arg(long, requires = "db")]
    cache_dir: Option<PathBuf>,
}

impl ServerStoreArgs {
    /// The admin API client when the command is to work through a running server: `--server`,
    /// or $PROVISIONER_SERVER when neither --config nor --db is given. None: offline.
    pub(super) fn api(&self) -> anyhow::Result<Option<AdminClient>> {
        if self.config.is_some() || self.db.is_some() {
            return Ok(None);
        }
        let server = self
            .server
            .clone()
            .or_else(|| std::env::var(SERVER_ENV).ok().filter(|s| !s.is_empty()));
        server.map(|s| AdminClient::from_env(&s)).transpose()
    }

    /// The server's configuration, when given by file.
    pub(super) fn server_config(&self) -> anyhow::Result<Option<provisioner_server::ServerConfig>> {
        Ok(match &self.config {
            Some(path) => Some(provisioner_server::config::load(path)?),
            None => None,
        })
    }

    /// The database URL, given directly or by the configuration file.
    pub(super) fn db_url(&self) -> anyhow::Result<String> {
        match (self.server_config()?, &self.db) {
            (Some(config), _) => Ok(config.database.url),
            (None, Some(db)) => Ok(db.clone()),
            (None, None) => {
                bail!("say where the server's database is: --config <file> or --db <url>")
            }
        }
    }

    /// The engine over the server's database.
    pub(super) async fn engine(&self) -> anyhow::Result<Engine> {
        if self.server.is_some() {
            bail!(
                "this command works on the server's database only, not through --server: give                  --config <file> or --db <url>"
            );
        }
        match (&self.config, &self.db) {
            (Some(path), _) => {
                let config = provisioner_server::config::load(path)?;
                Ok(provisioner_server::open_engine(&config).await?)
            }
            (None, Some(db)) => engine(&DbArg { db: db.clone() }).await,
            (None, None) => {
                bail!("say where the server's database is: --config <file> or --db <url>")
            }
        }
    }

    /// The registry that builds the targets' connectors as the server does: from the
    /// configuration file's targets (and their egress), or, with --db, with `egress` for
    /// every target.
    pub(super) async fn registry(
        &self,
        engine: &Engine,
        egress: EgressPolicy,
    ) -> anyhow::Result<Registry> {
        let runtime = self.runtime()?;
        let registry = match self.server_config()? {
            Some(config) => {
                let extras = provisioner_server::register_targets(engine.store(), &config).await?;
                Registry::with_extras(runtime, extras)
            }
            None => Registry::with_runtime(runtime, egress),
        };
        Ok(registry.with_store(engine.store().clone()))
    }

    /// The connector runtime with the server's compilation cache.
    pub(super) fn runtime(&self) -> anyhow::Result<Runtime> {
        match &self.config {
            Some(path) => {
                let config = provisioner_server::config::load(path)?;
                Ok(provisioner_server::runtime(&config)?)
            }
            None => {
                let mut config = RuntimeConfig::default();
                if let Some(dir) = &self.cache_dir {
                    config.cache_dir = dir.clone();
                }
                Ok(Runtime::new(config)?)
            }
        }
    }
}

/// Which target: its tenant and name.
#[derive(Debug, Args)]
pub struct TargetName {
    /// Tenant of the target.
    #[arg(long)]
    tenant: String,
    /// The target.
    target: String,
}

/// Target commands.
#[derive(Debug, Subcommand)]
pub enum TargetCommand {
    /// List targets with their revision, origin, egress and pause state.
    List {
        #[command(flatten)]
        access: Access,
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show what each target of a configuration file may reach and where its secrets may go,
    /// exactly as the server would build it (the configured database is not touched).
    Egress {
        /// The server configuration file.
        #[arg(long)]
        config: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create or replace a target from a JSON file, safely: the component is loaded and
    /// compiled ahead (into the server's compilation cache), the properties are checked against
    /// the connector's schema and its `validate`, and only then is the target written,
    /// atomically, with its component stored in the database by digest. Secrets are
    /// `env:VAR` / `file:/path` references; `"egress": {"allow_loopback": true,
    /// "allow_private": false}` opens non-public destinations. A running server switches within
    /// a second, and keeps this version across restarts. A new target starts a sync run that
    /// queues the tenant's existing users for it (`provisioner sync` shows its progress).
    Put {
        #[command(flatten)]
        store: ServerStoreArgs,
        /// The target specification (JSON).
        file: PathBuf,
    },
    /// List a target's stored revisions, newest first.
    History {
        #[command(flatten)]
        store: ServerStoreArgs,
        #[command(flatten)]
        name: TargetName,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Switch a target back to its previous revision (or --to a given one), atomically, as a
    /// new revision.
    Rollback {
        #[command(flatten)]
        store: ServerStoreArgs,
        #[command(flatten)]
        name: TargetName,
        /// The revision to switch back to (default: the one before the current).
        #[arg(long)]
        to: Option<i64>,
    },
    /// Delete a target, its revisions and its remote-id mappings (its jobs stay as history).
    /// Refused while it has pending or running jobs, unless --force, which dead-letters them.
    Delete {
        #[command(flatten)]
        store: ServerStoreArgs,
        #[command(flatten)]
        name: TargetName,
        /// Dead-letter the target's pending and running jobs and delete it anyway.
        #[arg(long)]
        force: bool,
    },
    /// Pause a target until it is resumed.
    Pause {
        #[command(flatten)]
        access: Access,
        #[command(flatten)]
        name: TargetName,
        /// Why, for other operators.
        #[arg(long, default_value = "paused by an operator")]
        reason: String,
    },
    /// Resume a paused target.
    Resume {
        #[command(flatten)]
        access: Access,
        #[command(flatten)]
        name: TargetName,
    },
}

/// Runs a target command.
pub async fn run(command: TargetCommand) -> anyhow::Result<()> {
    match command {
        TargetCommand::List {
            access,
            tenant,
            json,
        } => {
            let targets = list_targets(&access.open().await?, tenant).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&targets)?);
            } else {
                for t in &targets {
                    println!("{}", describe(&t.tenant, &t.target));
                }
            }
        }
        TargetCommand::Egress { config, json } => egress(config, json).await?,
        TargetCommand::Put { store, file } => put(store, file).await?,
        TargetCommand::History {
            store,
            name: TargetName { tenant, target },
            json,
        } => {
            let history: Vec<RevisionView> = match store.api()? {
                Some(client) => {
                    client
                        .get(&["tenants", &tenant, "targets", &target, "history"], &[])
                        .await?
                }
                None => store
                    .engine()
                    .await?
                    .store()
                    .target_history(&tenant, &target)
                    .await?
                    .into_iter()
                    .map(RevisionView::from)
                    .collect(),
            };
            if history.is_empty() {
                bail!("no stored revisions of target {tenant}/{target} (`target list` shows the targets)");
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&history)?);
            }
            for r in history.iter().filter(|_| !json) {
                println!(
                    "revision {:>4}  {:<8} {:<16} {} (egress: {}, at {} ms)",
                    r.revision, r.origin, r.note, r.spec.connector, r.spec.egress, r.created_at
                );
            }
        }
        TargetCommand::Rollback {
            store,
            name: TargetName { tenant, target },
            to,
        } => {
            let (revision, connector) = match store.api()? {
                Some(client) => {
                    let view: TargetView = client
                        .post(
                            &["tenants", &tenant, "targets", &target, "rollback"],
                            &serde_json::json!({ "to": to }),
                        )
                        .await?;
                    (view.revision, view.spec.connector)
                }
                None => {
                    let record = store
                        .engine()
                        .await?
                        .store()
                        .rollback_target(&tenant, &target, to)
                        .await?;
                    (record.revision, record.spec.connector)
                }
            };
            println!(
                "target {tenant}/{target} rolled back: now revision {revision} with connector \
                 {connector}; a running server switches within a second"
            );
        }
        TargetCommand::Delete {
            store,
            name: TargetName { tenant, target },
            force,
        } => {
            let dead_lettered = match store.api()? {
                Some(client) => {
                    let deleted: Deleted = client
                        .delete(
                            &["tenants", &tenant, "targets", &target],
                            &[("force", force.to_string())],
                        )
                        .await?;
                    deleted.dead_lettered
                }
                None => {
                    store
                        .engine()
                        .await?
                        .store()
                        .delete_target(&tenant, &target, force)
                        .await?
                        .dead_lettered
                }
            };
            println!("target {tenant}/{target} deleted");
            if dead_lettered > 0 {
                println!(
                    "  {dead_lettered} pending or running job(s) dead-lettered (`dead-letters \
                     --target {target}` lists them)"
                );
            }
        }
        TargetCommand::Pause {
            access,
            name: TargetName { tenant, target },
            reason,
        } => {
            match access.open().await? {
                Via::Offline(engine) => engine.pause_target(&tenant, &target, &reason).await?,
                Via::Api(client) => {
                    let _: TargetView = client
                        .post(
                            &[
                                "tenants",
                                tenant.as_str(),
                                "targets",
                                target.as_str(),
                                "pause",
                            ],
                            &PauseRequest {
                                reason: Some(reason),
                            },
                        )
                        .await?;
                }
            }
            println!("paused {tenant}/{target}");
        }
        TargetCommand::Resume {
            access,
            name: TargetName { tenant, target },
        } => {
            match access.open().await? {
                Via::Offline(engine) => engine.resume_target(&tenant, &target).await?,
                Via::Api(client) => {
                    let _: TargetView = client
                        .post(
                            &[
                                "tenants",
                                tenant.as_str(),
                                "targets",
                                target.as_str(),
                                "resume",
                            ],
                            &serde_json::json!({}),
                        )
                        .await?;
                }
            }
            println!("resumed {tenant}/{target}");
        }
    }
    Ok(())
}

/// A target with its tenant, as every mode prints it.
#[derive(Debug, Serialize)]
struct TenantTarget {
    tenant: String,
    #[serde(flatten)]
    target: TargetView,
}

async fn list_targets(via: &Via, tenant: Option<String>) -> anyhow::Result<Vec<TenantTarget>> {
    Ok(match via {
        Via::Offline(engine) => engine
            .store()
            .targets(tenant.as_deref())
            .await?
            .into_iter()
            .map(|t| TenantTarget {
                tenant: t.spec.tenant.clone(),
                target: t.into(),
            })
            .collect(),
        Via::Api(client) => {
            let mut all = Vec::new();
            for tenant in api_tenants(client, tenant).await? {
                let targets: Vec<TargetView> = client
                    .get(&["tenants", tenant.as_str(), "targets"], &[])
                    .await?;
                all.extend(targets.into_iter().map(|target| TenantTarget {
                    tenant: tenant.clone(),
                    target,
                }));
            }
            all
        }
    })
}

/// One line about a target.
fn describe(tenant: &str, t: &TargetView) -> String {
    let state = if t.paused {
        format!(
            "paused ({}){}",
            t.pause_reason.clone().unwrap_or_default(),
            t.paused_until
                .map(|u| format!(" until {u}"))
                .unwrap_or_default()
        )
    } else if t.probing {
        format!(
            "probing with one job ({})",
            t.pause_reason.clone().unwrap_or_default()
        )
    } else if let Some(allowed) = t
        .recovered_at
        .map(|at| policy::recovery_concurrency(store::now_ms() - at))
        .filter(|allowed| *allowed < 64)
    {
        format!("active (recovering: up to {allowed} call(s) at once for now)")
    } else {
        "active".to_owned()
    };
    format!(
        "{}/{} {} revision {} ({}) {} egress: {}; {}",
        tenant,
        t.name,
        t.spec.connector,
        t.revision,
        t.origin,
        if t.spec.settings.blocking {
            "blocking"
        } else {
            "non-blocking"
        },
        t.spec.egress,
        state
    )
}

async fn put(store: ServerStoreArgs, file: PathBuf) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("cannot read {}", file.display()))?;
    let spec: TargetSpec = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a target specification", file.display()))?;
    let engine = store.engine().await?;
    let runtime = store.runtime()?;
    let base = file.parent().filter(|p| !p.as_os_str().is_empty());
    let admitted = admission::admit(engine.store(), &runtime, spec, base, &|line| {
        println!("{line}")
    })
    .await?;
    for warning in &admitted.warnings {
        println!("warning: {warning}");
    }
    let record = &admitted.record;
    println!(
        "target {}/{} saved: revision {}, connector {}, egress: {}",
        record.spec.tenant,
        record.spec.name,
        record.revision,
        record.spec.connector,
        record.spec.egress
    );
    println!(
        "a running server switches to it within a second; `provisioner target rollback --tenant \
         {} {}` switches back",
        record.spec.tenant, record.spec.name
    );
    if let Some(run) = &admitted.sync_run {
        println!(
            "new target: sync run {} queued {} existing user(s) for it; `provisioner sync \
             --tenant {} --target {}` shows its progress",
            run.id, run.enqueued, record.spec.tenant, record.spec.name
        );
    }
    Ok(())
}

async fn egress(config: PathBuf, json: bool) -> anyhow::Result<()> {
    let config = provisioner_server::config::load(&config)?;
    let runtime = provisioner_server::runtime(&config)?;
    let reports = provisioner_server::egress::egress_reports(&config, runtime).await?;
    if json {
        let rendered: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                serde_json::json!({
                    "tenant": r.tenant,
                    "target": r.target,
                    "egress": r.report.as_ref().ok(),
                    "error": r.report.as_ref().err().map(ToString::to_string),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rendered)?);
        return Ok(());
    }
    for r in &reports {
        println!("{}/{}", r.tenant, r.target);
        match &r.report {
            Ok(report) => {
                for line in report.to_string().lines() {
                    println!("  {line}");
                }
            }
            Err(error) => println!("  cannot be built: {error}"),
        }
    }
    Ok(())
}
