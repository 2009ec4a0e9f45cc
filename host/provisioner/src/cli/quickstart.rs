//! `provisioner quickstart`: the tutorial's flow against an embedded Salesforce emulator.
//!
//! Starts the emulator on loopback, loads the Salesforce connector component configured as in
//! the WSO2 tutorial, then creates, updates and deactivates the tutorial's user, printing every
//! HTTP request the connector caused (secrets redacted) and the resulting Salesforce record.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;
use provisioner_contract::{Change, Operation};
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig, TargetInstance};
use provisioner_server::tutorial;
use salesforce_emulator::{Emulator, EmulatorConfig};

use super::emulated_org::{self, salesforce_org};
use super::exchanges::ExchangePrinter;

/// Options of the quickstart.
#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// The Salesforce connector component; defaults to the built-in one.
    #[arg(long)]
    connector: Option<PathBuf>,
    /// Directory for compiled components.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

/// Runs the quickstart.
pub async fn run(args: QuickstartArgs) -> anyhow::Result<()> {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .context("cannot start the Salesforce emulator")?;
    let org = salesforce_org(&emulator);
    println!("Salesforce emulator listening at {}", emulator.base_url());
    println!("  inspect it: {}", emulated_org::users_curl(&emulator));

    let mut config = RuntimeConfig::default();
    if let Some(dir) = args.cache_dir {
        config.cache_dir = dir;
    }
    let runtime = Runtime::builder(config)
        .observer(Arc::new(ExchangePrinter { indent: "  " }))
        .build()?;
    let (connector, report) = match &args.connector {
        Some(path) => runtime
            .load_file(path)
            .await
            .with_context(|| format!("cannot load the connector {}", path.display()))?,
        None => runtime
            .load_bytes(builtin_connectors::SALESFORCE.bytes)
            .await
            .context("cannot load the built-in Salesforce connector")?,
    };
    println!(
        "Loaded connector {} {} ({}; sha256 {})",
        connector.metadata().id,
        connector.metadata().version,
        if report.cache_hit() {
            "compiled artifact from cache"
        } else {
            "compiled now, cached for next time"
        },
        &connector.digest()[..12],
    );

    let target = TargetInstance::new(
        &runtime,
        connector,
        tutorial::tutorial_target(&org, EgressPolicy::loopback()),
    )?;
    let problems = target.validate().await?;
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("config problem: {:?}: {}", problem.key, problem.message);
        }
        bail!("the tutorial configuration does not validate");
    }
    println!(
        "Target {}/{} may reach: {}",
        target.tenant(),
        target.target(),
        target.allowed_origins().join(", ")
    );

    let name = tutorial::TUTORIAL_USER_NAME;
    let claims = tutorial::samuel_claims();
    let create = tutorial::user(Operation::Create, name, None, &claims, &[]);
    let id = step(&target, "1. Create the tutorial user", &create)
        .await?
        .context("Salesforce returned no id for the created user")?;
    print_record(&emulator, &id);

    let mut updated = claims.clone();
    updated.push(("givenname", "Sam"));
    updated.retain(|(claim, _)| *claim != "lastname");
    updated.push(("lastname", "Gnaniah-Perera"));
    let update = tutorial::user(
        Operation::Update,
        name,
        Some(id.clone()),
        &updated,
        &["givenname", "lastname"],
    );
    step(
        &target,
        "2. Update given name and last name (only changed fields are sent)",
        &update,
    )
    .await?;
    print_record(&emulator, &id);

    let delete = tutorial::user(Operation::Delete, name, Some(id.clone()), &[], &[]);
    step(
        &target,
        "3. Delete locally: deactivate in Salesforce (never DELETE)",
        &delete,
    )
    .await?;
    print_record(&emulator, &id);

    let counters = emulator.counters();
    println!(
        "\nSalesforce saw {} API calls and {} token request(s); the token was cached by the host.",
        counters.api_calls,
        counters
            .token_requests
            .values()
            .flat_map(|m| m.values())
            .sum::<u64>()
    );
    emulator.shutdown().await;
    Ok(())
}

async fn step(
    target: &TargetInstance,
    title: &str,
    change: &Change,
) -> anyhow::Result<Option<String>> {
    println!("\n{title}");
    match target.provision(change).await {
        Ok(outcome) => {
            for warning in &outcome.warnings {
                println!("  warning: {warning}");
            }
            Ok(outcome.remote_id)
        }
        Err(error) => bail!("provisioning failed: {error}"),
    }
}

fn print_record(emulator: &Emulator, id: &str) {
    match emulator.user(id) {
        Some(user) => {
            let mut fields = user.all_fields();
            fields.retain(|_, value| !value.is_null());
            let json = serde_json::to_string_pretty(&fields).unwrap_or_default();
            println!("  Salesforce record {id} (fields with values):");
            for line in json.lines() {
                println!("    {line}");
            }
        }
        None => println!("  Salesforce has no record {id}"),
    }
}
