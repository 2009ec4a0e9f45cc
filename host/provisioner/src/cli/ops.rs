//! Operating the provisioning queue: jobs by state, an entity's history, dead letters and
//! replay; the target commands live in [`super::target`]. Each works through a running server's
//! admin API (`--server`) or, offline, on the database (`--db`).

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use provisioner_contract::EntityKind;
use provisioner_engine::store::{JobFilter, JobState, Store};
use provisioner_engine::Engine;
use provisioner_server::admin::jobs::{AttemptView, JobDetail, JobView, ReplayRequest, Replayed};
use provisioner_server::admin::tenants::{TenantDetail, TenantSummary};
use serde::Serialize;

use super::access::{Access, Via};
use super::admin_client::AdminClient;
use super::target::{self, TargetCommand};

/// Where the store is.
#[derive(Debug, Args)]
pub struct DbArg {
    /// Database URL: `sqlite:provisioner.db` or `postgres://user:password@host:5432/db`.
    #[arg(long)]
    pub db: String,
}

/// Queue and target operations.
#[derive(Debug, Subcommand)]
pub enum OpsCommand {
    /// List jobs, newest first, optionally by state; prints counts per state first.
    Jobs {
        #[command(flatten)]
        access: Access,
        /// Only this tenant's jobs.
        #[arg(long)]
        tenant: Option<String>,
        /// Only this target's jobs.
        #[arg(long)]
        target: Option<String>,
        /// pending, running, done, dead, coalesced or superseded.
        #[arg(long)]
        state: Option<String>,
        /// At most this many jobs.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show an entity's provisioning history across targets: jobs, calls and remote ids.
    History {
        #[command(flatten)]
        access: Access,
        /// Tenant of the entity.
        #[arg(long)]
        tenant: String,
        /// Local id of the user (or of the group, with --group).
        id: String,
        /// The id is a group's.
        #[arg(long)]
        group: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List dead letters with the target's error code and message.
    DeadLetters {
        #[command(flatten)]
        access: Access,
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
        /// Only this target's.
        #[arg(long)]
        target: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Return dead letters of a target to the queue: one (--job) or all (--all).
    Replay {
        #[command(flatten)]
        access: Access,
        /// Tenant of the target.
        #[arg(long)]
        tenant: String,
        /// The target.
        #[arg(long)]
        target: String,
        /// Replay only this dead letter.
        #[arg(long, conflicts_with = "all")]
        job: Option<i64>,
        /// Replay every dead letter of the target.
        #[arg(long)]
        all: bool,
    },
    /// Configure and operate targets.
    Target {
        #[command(subcommand)]
        command: TargetCommand,
    },
}

pub(super) async fn engine(db: &DbArg) -> anyhow::Result<Engine> {
    let store = Store::open(&db.db)
        .await
        .with_context(|| format!("cannot open the store at {}", db.db))?;
    Ok(Engine::new(store))
}

/// A job with the tenant it belongs to, as every mode prints it.
#[derive(Debug, Serialize)]
pub(super) struct TenantJob {
    /// The job's tenant.
    pub tenant: String,
    /// The job.
    #[serde(flatten)]
    pub job: JobView,
}

/// The most jobs one admin API page holds.
const API_PAGE: i64 = 1000;

/// The tenants to list: the one asked for, or every tenant the caller administers.
pub(super) async fn api_tenants(
    client: &AdminClient,
    tenant: Option<String>,
) -> anyhow::Result<Vec<String>> {
    Ok(match tenant {
        Some(tenant) => vec![tenant],
        None => client
            .get::<Vec<TenantSummary>>(&["tenants"], &[])
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect(),
    })
}

/// Jobs by filter, newest first, with a summary line of counts.
async fn list_jobs(
    via: &Via,
    tenant: Option<String>,
    target: Option<String>,
    state: Option<JobState>,
    limit: i64,
) -> anyhow::Result<(Vec<TenantJob>, String)> {
    match via {
        Via::Offline(engine) => {
            let filter = JobFilter {
                tenant: tenant.clone(),
                target,
                state,
                limit: Some(limit),
            };
            let jobs = engine.store().list_jobs(&filter).await?;
            let counts = engine.store().count_jobs(tenant.as_deref()).await?;
            let summary: Vec<String> = counts
                .iter()
                .map(|(state, n)| format!("{state}={n}"))
                .collect();
            let jobs = jobs
                .into_iter()
                .map(|job| TenantJob {
                    tenant: job.tenant.clone(),
                    job: job.into(),
                })
                .collect();
            Ok((jobs, format!("jobs: {}", summary.join(" "))))
        }
        Via::Api(client) => {
            let mut jobs = Vec::new();
            let mut summary = Vec::new();
            for tenant in api_tenants(client, tenant).await? {
                // Pages of at most API_PAGE jobs, newest first, until `limit` or the end.
                let mut before: Option<i64> = None;
                let mut taken = 0;
                while taken < limit {
                    let page_size = (limit - taken).min(API_PAGE);
                    let mut query = vec![("limit", page_size.to_string())];
                    query.extend(target.clone().map(|t| ("target", t)));
                    query.extend(state.map(|s| ("state", s.as_str().to_owned())));
                    query.extend(before.map(|b| ("before", b.to_string())));
                    let page: Vec<JobView> = client
                        .get(&["tenants", tenant.as_str(), "jobs"], &query)
                        .await?;
                    let full = page.len() as i64 == page_size;
                    taken += page.len() as i64;
                    before = page.last().map(|job| job.id);
                    jobs.extend(page.into_iter().map(|job| TenantJob {
                        tenant: tenant.clone(),
                        job,
                    }));
                    if !full {
                        break;
                    }
                }
                let detail: TenantDetail = client.get(&["tenants", tenant.as_str()], &[]).await?;
                summary.push(format!(
                    "{tenant}: open={} dead={}",
                    detail.open_jobs, detail.dead_letters
                ));
            }
            jobs.sort_by_key(|j| std::cmp::Reverse(j.job.id));
            jobs.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            Ok((jobs, format!("jobs: {}", summary.join(" "))))
        }
    }
}

/// An entity's jobs (oldest first), the calls made for them, and its remote id per target.
struct History {
    jobs: Vec<TenantJob>,
    attempts: Vec<(i64, String, AttemptView)>,
    remote_ids: BTreeMap<String, String>,
}

/// The most jobs whose calls `history` reads through the admin API.
const HISTORY_JOBS: i64 = 100;

async fn history(via: &Via, tenant: &str, kind: EntityKind, id: &str) -> anyhow::Result<History> {
    match via {
        Via::Offline(engine) => {
            let history = engine.store().entity_history(tenant, kind, id).await?;
            Ok(History {
                attempts: history
                    .attempts
                    .into_iter()
                    .map(|a| (a.job_id, a.target.clone(), a.into()))
                    .collect(),
                jobs: history
                    .jobs
                    .into_iter()
                    .map(|job| TenantJob {
                        tenant: job.tenant.clone(),
                        job: job.into(),
                    })
                    .collect(),
                remote_ids: history.remote_ids.into_iter().collect(),
            })
        }
        Via::Api(client) => {
            let mut jobs: Vec<JobView> = client
                .get(
                    &["tenants", tenant, "jobs"],
                    &[
                        ("entity", id.to_owned()),
                        ("limit", HISTORY_JOBS.to_string()),
                    ],
                )
                .await?;
            // Oldest first, as offline.
            jobs.reverse();
            let mut attempts = Vec::new();
            let mut remote_ids = BTreeMap::new();
            for job in &jobs {
                let detail: JobDetail = client
                    .get(&["tenants", tenant, "jobs", &job.id.to_string()], &[])
                    .await?;
                if job.state == JobState::Done.as_str() {
                    match &job.remote_id {
                        Some(remote) => remote_ids.insert(job.target.clone(), remote.clone()),
                        None => remote_ids.remove(&job.target),
                    };
                }
                attempts.extend(
                    detail
                        .attempts
                        .into_iter()
                        .map(|a| (job.id, job.target.clone(), a)),
                );
            }
            Ok(History {
                jobs: jobs
                    .into_iter()
                    .map(|job| TenantJob {
                        tenant: tenant.to_owned(),
                        job,
                    })
                    .collect(),
                attempts,
                remote_ids,
            })
        }
    }
}

/// Runs an operations command.
pub async fn run(command: OpsCommand) -> anyhow::Result<()> {
    match command {
        OpsCommand::Jobs {
            access,
            tenant,
            target,
            state,
            limit,
            json,
        } => {
            let state = state.map(|s| s.parse::<JobState>()).transpose()?;
            let via = access.open().await?;
            let (jobs, summary) = list_jobs(&via, tenant, target, state, limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else {
                println!("{summary}");
                print_jobs(&jobs);
            }
        }
        OpsCommand::History {
            access,
            tenant,
            id,
            group,
            json,
        } => {
            let kind = if group {
                EntityKind::Group
            } else {
                EntityKind::User
            };
            let via = access.open().await?;
            let history = history(&via, &tenant, kind, &id).await?;
            if history.jobs.is_empty() && history.remote_ids.is_empty() {
                bail!("no provisioning history for {tenant}/{id}");
            }
            if json {
                let attempts: Vec<serde_json::Value> = history
                    .attempts
                    .iter()
                    .map(|(job_id, target, a)| {
                        let mut value = serde_json::to_value(a).unwrap_or_default();
                        value["job_id"] = (*job_id).into();
                        value["target"] = target.as_str().into();
                        value
                    })
                    .collect();
                let rendered = serde_json::json!({
                    "jobs": history.jobs,
                    "attempts": attempts,
                    "remote_ids": history.remote_ids,
                });
                println!("{}", serde_json::to_string_pretty(&rendered)?);
            } else {
                for (target, remote_id) in &history.remote_ids {
                    println!("remote id in {target}: {remote_id}");
                }
                print_jobs(&history.jobs);
                println!("calls:");
                for (job_id, target, a) in &history.attempts {
                    println!(
                        "  job {:>6} {:<12} {:<7} {:<16} {:>6} ms {}{}",
                        job_id,
                        target,
                        a.call,
                        a.outcome,
                        a.duration_ms,
                        a.target_code.as_deref().unwrap_or(""),
                        a.message
                            .as_deref()
                            .map(|m| format!(" {m}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
        OpsCommand::DeadLetters {
            access,
            tenant,
            target,
            json,
        } => {
            let via = access.open().await?;
            let (jobs, _) = list_jobs(&via, tenant, target, Some(JobState::Dead), 10_000).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else {
                print_jobs(&jobs);
            }
        }
        OpsCommand::Replay {
            access,
            tenant,
            target,
            job,
            all,
        } => {
            if job.is_none() && !all {
                bail!("say which dead letters to replay: --job <id> or --all");
            }
            let replayed = match access.open().await? {
                Via::Offline(engine) => engine.replay_dead_letters(&tenant, &target, job).await?,
                Via::Api(client) => {
                    let request = ReplayRequest {
                        target: Some(target.clone()),
                        entity_id: None,
                        job_ids: job.map(|j| vec![j]),
                    };
                    let replayed: Replayed = client
                        .post(
                            &["tenants", tenant.as_str(), "dead-letters", "replay"],
                            &request,
                        )
                        .await?;
                    replayed.replayed
                }
            };
            println!("replayed {replayed} dead letter(s) of {tenant}/{target}");
        }
        OpsCommand::Target { command } => target::run(command).await?,
    }
    Ok(())
}

fn print_jobs(jobs: &[TenantJob]) {
    for TenantJob { tenant, job } in jobs {
        let error = job
            .error
            .as_ref()
            .map(|e| {
                format!(
                    " [{}{}] {}",
                    e.kind,
                    e.code
                        .as_deref()
                        .map(|c| format!(" {c}"))
                        .unwrap_or_default(),
                    e.message
                )
            })
            .unwrap_or_default();
        println!(
            "{:>8} {}/{} {} {} {} {} attempts={}{}{}",
            job.id,
            tenant,
            job.target,
            job.entity_kind,
            job.entity_id,
            job.operation,
            job.state,
            job.failed_attempts,
            job.remote_id
                .as_deref()
                .map(|r| format!(" remote={r}"))
                .unwrap_or_default(),
            error
        );
    }
}
