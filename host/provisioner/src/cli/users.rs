//! `provisioner users`: the console's "Add user" without SCIM. Writes go through the same
//! engine path as the SCIM API (one local change plus its provisioning jobs, one transaction);
//! a running `serve` (or `provisioner dispatch`) provisions them.

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use provisioner_server::{self as server, config, EngineBackend};
use scim::resource::{self, MultiValue, Name};
use scim::{ScimBackend, TenantId, UserResource};

/// Options of `users`.
#[derive(Debug, Args)]
pub struct UsersArgs {
    /// Configuration file (TOML) naming the database and the tenants' targets.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// The tenant.
    #[arg(long, global = true, default_value = "carbon.super")]
    tenant: String,
    #[command(subcommand)]
    command: UsersCommand,
}

/// A `users` subcommand.
#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Add a user; queues its creation in every applicable target.
    Add {
        /// User name, e.g. `samuel@wso2.com`.
        #[arg(long)]
        user_name: String,
        /// Given name.
        #[arg(long)]
        given_name: Option<String>,
        /// Family (last) name.
        #[arg(long)]
        family_name: Option<String>,
        /// Email address (defaults to the user name when it looks like one).
        #[arg(long)]
        email: Option<String>,
        /// A role (repeatable); provisioning roles select targets.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// An entitlement (repeatable), e.g. a Salesforce profile id.
        #[arg(long = "entitlement")]
        entitlements: Vec<String>,
    },
    /// List the tenant's users.
    List,
    /// Delete a user (by id or user name); queues its removal from every target.
    Delete {
        /// Local id.
        #[arg(long, conflicts_with = "user_name")]
        id: Option<String>,
        /// User name.
        #[arg(long)]
        user_name: Option<String>,
    },
}

fn values(list: Vec<String>) -> Vec<MultiValue> {
    list.into_iter()
        .map(|v| MultiValue {
            value: Some(v),
            ..MultiValue::default()
        })
        .collect()
}

/// Runs a `users` subcommand.
pub async fn run(args: UsersArgs) -> anyhow::Result<()> {
    let Some(path) = args.config else {
        bail!("`users` needs --config <file.toml> (the database and targets of the server)");
    };
    let config = config::load(&path)?;
    if !config.tenants.iter().any(|t| t.name == args.tenant) {
        bail!(
            "tenant `{}` is not configured in {}",
            args.tenant,
            path.display()
        );
    }
    let engine = server::open_engine(&config).await?;
    server::register_targets(engine.store(), &config).await?;
    let backend = EngineBackend::new(engine);
    let tenant = TenantId::new(args.tenant.clone());
    match args.command {
        UsersCommand::Add {
            user_name,
            given_name,
            family_name,
            email,
            roles,
            entitlements,
        } => {
            let email = email.or_else(|| user_name.contains('@').then(|| user_name.clone()));
            let name = Name {
                given_name,
                family_name,
                ..Name::default()
            };
            let user = UserResource {
                schemas: vec![scim::schema::USER_URN.into()],
                id: resource::new_id(),
                user_name,
                name: (name != Name::default()).then_some(name),
                emails: email
                    .map(|e| {
                        vec![MultiValue {
                            value: Some(e),
                            primary: Some(true),
                            ..MultiValue::default()
                        }]
                    })
                    .unwrap_or_default(),
                roles: values(roles),
                entitlements: values(entitlements),
                ..UserResource::default()
            };
            let created = backend
                .create_user(&tenant, user)
                .await
                .map_err(|e| anyhow::anyhow!("cannot add the user: {e}"))?;
            let jobs = backend
                .engine()
                .store()
                .entity_history(
                    &args.tenant,
                    provisioner_contract::EntityKind::User,
                    &created.id,
                )
                .await?
                .jobs;
            println!("added user {} (id {})", created.user_name, created.id);
            for job in jobs {
                println!(
                    "  queued {} for target {} (job {})",
                    provisioner_engine::store::operation_str(job.operation),
                    job.target,
                    job.id
                );
            }
        }
        UsersCommand::List => {
            let mut after: Option<String> = None;
            loop {
                let users = backend
                    .scan_users(&tenant, after.as_deref(), 1000)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot list users: {e}"))?;
                let Some(last) = users.last() else { break };
                after = Some(last.id.clone());
                for user in &users {
                    println!("{}  {}", user.id, user.user_name);
                }
            }
        }
        UsersCommand::Delete { id, user_name } => {
            let id = match (id, user_name) {
                (Some(id), _) => id,
                (None, Some(name)) => {
                    backend
                        .engine()
                        .store()
                        .user_by_name(&args.tenant, &name)
                        .await?
                        .with_context(|| format!("no user named `{name}` in `{}`", args.tenant))?
                        .id
                }
                (None, None) => bail!("give --id or --user-name"),
            };
            backend
                .delete_user(&tenant, &id, None)
                .await
                .map_err(|e| anyhow::anyhow!("cannot delete user `{id}`: {e}"))?;
            println!("deleted user {id}");
        }
    }
    Ok(())
}
