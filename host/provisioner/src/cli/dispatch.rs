//! `provisioner dispatch`: run the outbox dispatcher as a process.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use provisioner_engine::store::Store;
use provisioner_engine::{Dispatcher, DispatcherConfig, Engine};
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig};
use provisioner_server::Registry;

/// Dispatcher options.
#[derive(Debug, Args)]
pub struct DispatchArgs {
    /// Database URL: `sqlite:provisioner.db` or `postgres://user:password@host:5432/db`.
    #[arg(long)]
    db: String,
    /// Exit once no job can run without an operator, instead of running until interrupted.
    #[arg(long)]
    until_idle: bool,
    /// Jobs run concurrently at most.
    #[arg(long, default_value_t = 16)]
    workers: usize,
    /// Lease of a claimed job, in milliseconds; a killed process's jobs return after this.
    #[arg(long, default_value_t = 30_000)]
    lease_ms: i64,
    /// Let connectors reach loopback addresses (local emulators and tests).
    #[arg(long)]
    allow_loopback: bool,
    /// Let connectors reach private and link-local networks.
    #[arg(long)]
    allow_private: bool,
    /// Directory for compiled connector artifacts.
    #[arg(long)]
    cache_dir: Option<PathBuf>,
}

/// Runs the dispatcher until idle or until interrupted (Ctrl-C finishes the jobs in flight).
pub async fn run(args: DispatchArgs) -> anyhow::Result<()> {
    let store = Store::open(&args.db)
        .await
        .with_context(|| format!("cannot open the store at {}", args.db))?;
    let engine = Engine::new(store);
    let mut runtime_config = RuntimeConfig::default();
    if let Some(dir) = args.cache_dir {
        runtime_config.cache_dir = dir;
    }
    let runtime = Runtime::new(runtime_config)?;
    let egress = EgressPolicy {
        allow_loopback: args.allow_loopback,
        allow_private: args.allow_private,
    };
    let registry =
        Arc::new(Registry::with_runtime(runtime, egress).with_store(engine.store().clone()));
    let dispatcher = Dispatcher::new(
        &engine,
        registry,
        DispatcherConfig {
            workers: args.workers,
            lease_ms: args.lease_ms,
            call_timeout: Duration::from_secs(120),
            ..DispatcherConfig::default()
        },
    );
    let stats = if args.until_idle {
        dispatcher.run_until_idle().await?
    } else {
        dispatcher
            .run(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?
    };
    println!("{}", serde_json::to_string(&stats)?);
    Ok(())
}
