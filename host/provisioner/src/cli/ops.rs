//! Operating the provisioning queue: jobs by state, an entity's history, dead letters and
//! replay; the target commands live in [`super::target`].

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use provisioner_contract::EntityKind;
use provisioner_engine::store::{kind_str, operation_str, JobFilter, JobRecord, JobState, Store};
use provisioner_engine::Engine;

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
        db: DbArg,
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
        db: DbArg,
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
        db: DbArg,
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
        db: DbArg,
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

/// Runs an operations command.
pub async fn run(command: OpsCommand) -> anyhow::Result<()> {
    match command {
        OpsCommand::Jobs {
            db,
            tenant,
            target,
            state,
            limit,
            json,
        } => {
            let engine = engine(&db).await?;
            let state = state.map(|s| s.parse::<JobState>()).transpose()?;
            let filter = JobFilter {
                tenant: tenant.clone(),
                target,
                state,
                limit: Some(limit),
            };
            let jobs = engine.store().list_jobs(&filter).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else {
                let counts = engine.store().count_jobs(tenant.as_deref()).await?;
                let summary: Vec<String> = counts
                    .iter()
                    .map(|(state, n)| format!("{state}={n}"))
                    .collect();
                println!("jobs: {}", summary.join(" "));
                print_jobs(&jobs);
            }
        }
        OpsCommand::History {
            db,
            tenant,
            id,
            group,
            json,
        } => {
            let engine = engine(&db).await?;
            let kind = if group {
                EntityKind::Group
            } else {
                EntityKind::User
            };
            let history = engine.store().entity_history(&tenant, kind, &id).await?;
            if history.jobs.is_empty() && history.remote_ids.is_empty() {
                bail!("no provisioning history for {tenant}/{id}");
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&history)?);
            } else {
                for (target, remote_id) in &history.remote_ids {
                    println!("remote id in {target}: {remote_id}");
                }
                print_jobs(&history.jobs);
                println!("calls:");
                for a in &history.attempts {
                    println!(
                        "  job {:>6} {:<12} {:<7} {:<16} {:>6} ms {}{}",
                        a.job_id,
                        a.target,
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
            db,
            tenant,
            target,
            json,
        } => {
            let engine = engine(&db).await?;
            let filter = JobFilter {
                tenant,
                target,
                state: Some(JobState::Dead),
                limit: Some(10_000),
            };
            let jobs = engine.store().list_jobs(&filter).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&jobs)?);
            } else {
                print_jobs(&jobs);
            }
        }
        OpsCommand::Replay {
            db,
            tenant,
            target,
            job,
            all,
        } => {
            if job.is_none() && !all {
                bail!("say which dead letters to replay: --job <id> or --all");
            }
            let engine = engine(&db).await?;
            let replayed = engine.replay_dead_letters(&tenant, &target, job).await?;
            println!("replayed {replayed} dead letter(s) of {tenant}/{target}");
        }
        OpsCommand::Target { command } => target::run(command).await?,
    }
    Ok(())
}

fn print_jobs(jobs: &[JobRecord]) {
    for job in jobs {
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
            job.tenant,
            job.target,
            kind_str(job.entity_kind),
            job.entity_id,
            operation_str(job.operation),
            job.state,
            job.attempts,
            job.remote_id
                .as_deref()
                .map(|r| format!(" remote={r}"))
                .unwrap_or_default(),
            error
        );
    }
}
