//! `provisioner serve`: the long-running server (SCIM API, dispatcher, connector runtime).
//!
//! With `--config` it serves what the file describes. Without, it is the quickstart server:
//! an embedded Salesforce emulator, tenant `carbon.super` with the tutorial's Salesforce target,
//! a fresh embedded database, and a random `admin` password, printed with a curl to try.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use provisioner_server as server;
use provisioner_server::config;
#[cfg(feature = "quickstart")]
use provisioner_server::quickstart;
#[cfg(feature = "quickstart")]
use salesforce_emulator::{Emulator, EmulatorConfig};

#[cfg(feature = "quickstart")]
use super::emulated_org::{self, salesforce_org};

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); without one, run the quickstart server.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Listen address of the quickstart server (`PROVISIONER_LISTEN` overrides it too).
    #[arg(long, default_value = "127.0.0.1:9443")]
    listen: String,
    /// Apply the configuration file's version of every target, even of those changed at run
    /// time (`target put`, `target rollback`); their run-time version stays in the history.
    #[arg(long, requires = "config")]
    reseed: bool,
    /// Log format on standard error: `text` (the default) or `json`, one object per line
    /// (`PROVISIONER_LOG_FORMAT` sets it when this flag is absent).
    #[arg(long, value_enum)]
    pub log_format: Option<super::logging::LogFormat>,
}

/// Runs the server until SIGINT or SIGTERM, then shuts down gracefully.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    match args.config {
        Some(path) => {
            let config = config::load(&path)?;
            let options = server::StartOptions {
                reseed: args.reseed,
                ..server::StartOptions::default()
            };
            let handle = server::start_with(config, options).await?;
            for notice in handle.notices() {
                println!("note: {notice}");
            }
            let base = handle.base_url();
            println!("SCIM API listening on {base}");
            println!("  SCIM 2.0:  {base}/scim/v2/Users");
            println!("  WSO2 1.x:  {base}/wso2/scim/Users");
            println!("  metrics:   {base}/metrics  (health: {base}/healthz, {base}/readyz)");
            wait_for_signal().await;
            eprintln!("shutting down: finishing in-flight requests and jobs...");
            let stats = handle.shutdown().await?;
            eprintln!("stopped; dispatcher: {}", serde_json::to_string(&stats)?);
        }
        #[cfg(feature = "quickstart")]
        None => run_quickstart(args.listen).await?,
        #[cfg(not(feature = "quickstart"))]
        None => anyhow::bail!(
            "this provisioner was built without the `quickstart` feature; pass --config <file>"
        ),
    }
    Ok(())
}

#[cfg(feature = "quickstart")]
async fn run_quickstart(listen: String) -> anyhow::Result<()> {
    let emulator = Emulator::start(EmulatorConfig::default())
        .await
        .context("cannot start the Salesforce emulator")?;
    let data_dir =
        std::env::temp_dir().join(format!("provisioner-quickstart-{}", std::process::id()));
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let password = quickstart::random_password();
    let mut config = quickstart::config(&salesforce_org(&emulator), &data_dir, &listen, &password);
    config.apply_env(|key| std::env::var(key).ok());
    let options = server::StartOptions {
        secret_key: Some(server::secrets::SecretKey::generate()),
        seal_literal_secrets: true,
        ..server::StartOptions::default()
    };
    let handle = server::start_with(config, options).await?;
    let addr = handle.addr();
    println!("Quickstart provisioning server");
    println!("  SCIM API:            http://{addr}/scim/v2  and  http://{addr}/wso2/scim/Users");
    println!("  metrics:             http://{addr}/metrics  (health: /healthz, /readyz)");
    println!("  tenant:              {}", quickstart::TENANT);
    println!("  Basic credentials:   {} / {password}", quickstart::ADMIN);
    println!(
        "  admin API:           http://{addr}/admin/v1  (same credentials, server administrator)"
    );
    println!("  web console:         http://{addr}/console/");
    println!(
        "  database:            {}",
        data_dir.join("provisioner.db").display()
    );
    println!("  Salesforce emulator: {}", emulator.base_url());
    println!();
    println!("Create the tutorial's user (samuel@wso2.com) through the SCIM 1.x endpoint:");
    println!();
    println!("  {}", quickstart::tutorial_curl(addr, &password));
    println!();
    println!("Then see it in (emulated) Salesforce:");
    println!();
    println!("  {}", emulated_org::users_curl(&emulator));
    println!();
    println!("Ctrl-C stops the server.");
    wait_for_signal().await;
    eprintln!("shutting down: finishing in-flight requests and jobs...");
    let stats = handle.shutdown().await?;
    eprintln!("stopped; dispatcher: {}", serde_json::to_string(&stats)?);
    emulator.shutdown().await;
    Ok(())
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
