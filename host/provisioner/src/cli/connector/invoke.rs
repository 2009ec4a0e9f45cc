//! `provisioner connector invoke`: one operation against a real endpoint, printing every request
//! and response (secrets redacted by the runtime) and the outcome.
//!
//! Egress is what a configured target gets: the origins of the url properties set in
//! `--config`, public addresses only unless `--allow-loopback` / `--allow-private` say otherwise.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use provisioner_contract::{Change, Claim, Entity, LookupKey, Operation, User};
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig, TargetInstance};

use super::props;
use crate::cli::exchanges::ExchangePrinter;

/// Options of `connector invoke`.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The connector: a component file (`.wasm`) or `builtin:<name>`.
    connector: String,
    /// A JSON object of property values (secrets as plain strings; they are redacted in output).
    #[arg(long)]
    config: PathBuf,
    /// The operation to run.
    #[arg(long, value_enum)]
    operation: InvokeOp,
    /// The user, as JSON: `{"name": "...", "local_id": "...", "remote_id": "...",
    /// "claims": {"<claim uri>": "value" or ["values"]}, "changed_claims": ["<uri>"]}`
    /// (only `name` is required).
    #[arg(long)]
    user: PathBuf,
    /// Let the connector reach loopback addresses (a local test server).
    #[arg(long)]
    allow_loopback: bool,
    /// Let the connector reach private and link-local networks.
    #[arg(long)]
    allow_private: bool,
    /// Directory for compiled components.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

/// The operations `invoke` can run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum InvokeOp {
    Create,
    Update,
    Delete,
    Lookup,
}

/// The user file.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UserFile {
    name: String,
    #[serde(default)]
    local_id: Option<String>,
    #[serde(default)]
    remote_id: Option<String>,
    #[serde(default)]
    claims: BTreeMap<String, ClaimValue>,
    #[serde(default)]
    changed_claims: Vec<String>,
}

/// One claim's value or values.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum ClaimValue {
    One(String),
    Many(Vec<String>),
}

fn read_user(path: &Path, operation: Operation) -> anyhow::Result<User> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the user file {}", path.display()))?;
    let file: UserFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a user: expected {{\"name\": \"...\", \"claims\": {{\"<uri>\": \"value\"}}}}",
            path.display()
        )
    })?;
    let claims = if operation == Operation::Delete {
        Vec::new()
    } else {
        file.claims
            .into_iter()
            .map(|(uri, value)| Claim {
                uri,
                values: match value {
                    ClaimValue::One(v) => vec![v],
                    ClaimValue::Many(v) => v,
                },
            })
            .collect()
    };
    Ok(User {
        local_id: file.local_id.unwrap_or_else(|| file.name.clone()),
        name: file.name,
        remote_id: file.remote_id,
        claims,
        changed_claims: file.changed_claims,
        previous_name: None,
    })
}

/// Runs one operation and prints what happened; fails when the connector did.
pub async fn run(args: InvokeArgs) -> anyhow::Result<()> {
    let mut config = RuntimeConfig::default();
    if let Some(dir) = &args.cache_dir {
        config.cache_dir = dir.clone();
    }
    let runtime = Runtime::builder(config)
        .observer(Arc::new(ExchangePrinter { indent: "" }))
        .build()?;
    let connector = provisioner_server::load_connector(&runtime, &args.connector)
        .await
        .map_err(|e| anyhow::anyhow!("cannot load the connector: {e}"))?;
    let egress = EgressPolicy {
        allow_loopback: args.allow_loopback,
        allow_private: args.allow_private,
    };
    let props = props::read(&args.config)?;
    let target_config = props::target_config(connector.metadata(), &props, egress)?;
    let target = TargetInstance::new(&runtime, connector, target_config)?;
    let problems = target.validate().await?;
    if !problems.is_empty() {
        for p in &problems {
            eprintln!(
                "config problem: {}: {}",
                p.key.as_deref().unwrap_or("-"),
                p.message
            );
        }
        bail!(
            "the configuration does not validate; fix {}",
            args.config.display()
        );
    }
    println!(
        "{} {} may reach: {}",
        target.connector().metadata().id,
        target.connector().metadata().version,
        target.allowed_origins().join(", ")
    );
    let operation = match args.operation {
        InvokeOp::Create => Operation::Create,
        InvokeOp::Update | InvokeOp::Lookup => Operation::Update,
        InvokeOp::Delete => Operation::Delete,
    };
    let entity = Entity::User(read_user(&args.user, operation)?);
    let outcome = if args.operation == InvokeOp::Lookup {
        target
            .lookup(&LookupKey::Entity(entity))
            .await
            .map(|found| match found {
                Some(object) => format!(
                    "found {} (active: {:?}) {:?}",
                    object.remote_id, object.active, object.attributes
                ),
                None => "not found".to_string(),
            })
    } else {
        target
            .provision(&Change { operation, entity })
            .await
            .map(|outcome| {
                format!(
                    "success, remote id {}{}",
                    outcome.remote_id.as_deref().unwrap_or("(none)"),
                    outcome
                        .warnings
                        .iter()
                        .map(|w| format!("\n  warning: {w}"))
                        .collect::<String>()
                )
            })
    };
    let stats = target.last_call_stats().unwrap_or_default();
    match outcome {
        Ok(text) => {
            println!(
                "outcome: {text}\n(guest {:.2} ms, peak memory {} KiB)",
                stats.guest_time().as_secs_f64() * 1000.0,
                stats.peak_memory_bytes / 1024
            );
            Ok(())
        }
        Err(e) => bail!("outcome: {e}"),
    }
}
