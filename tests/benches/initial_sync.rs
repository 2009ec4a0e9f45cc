//! Initial sync of N existing users (default 100,000) into a new Salesforce target: the users
//! are stored locally first (not timed), then a Salesforce target against the in-process
//! emulator is added and synced (a sync run queues one job per user while a dispatcher drains
//! them through the built-in connector in its sandbox). Prints, per connector `batch-size`
//! (1: one call per user; 200: sObject Collections), the wall time from the start of the run
//! until its last job finished, users/s, and the API calls the emulator counted.
//!
//! When the connector declares no `batch-size` property the property is left out (a
//! connector refuses keys it does not declare) and both rows run one call per user; the
//! output says so.
//!
//! Run: `cargo bench -p provisioner-tests --bench initial_sync [-- --users N] [--batch-sizes 200,1]`

#[path = "../../host/engine/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "../../host/server/tests/support/salesforce.rs"]
mod salesforce_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use engine_support::{create, TENANT};
use provisioner_engine::store::{OutboundSettings, Store};
use provisioner_engine::{Dispatcher, DispatcherConfig, Engine};
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig};
use provisioner_server::Registry;
use salesforce_emulator::{Emulator, EmulatorConfig};
use salesforce_support::{salesforce_spec, sf_user};

/// The connector property that sets how many users one call carries.
const BATCH_SIZE_PROPERTY: &str = "sf-batch-size";
/// The batch sizes compared, unless `--batch-sizes 200,1` says otherwise.
const BATCH_SIZES: [i64; 2] = [1, 200];

fn main() -> anyhow::Result<()> {
    let users = users_arg()?;
    let batch_sizes = batch_sizes_arg()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(users, batch_sizes))
}

/// `--batch-sizes a,b,...` from the command line; the default compares one call per user with
/// batches of 200.
fn batch_sizes_arg() -> anyhow::Result<Vec<i64>> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--batch-sizes") {
        Some(i) => args
            .get(i + 1)
            .context("--batch-sizes needs a list, e.g. --batch-sizes 200,1")?
            .split(',')
            .map(|size| {
                size.trim()
                    .parse()
                    .context("--batch-sizes takes numbers from 1 to 200, e.g. 200,1")
            })
            .collect(),
        None => Ok(BATCH_SIZES.to_vec()),
    }
}

/// `--users N` from the command line (other arguments, such as cargo's `--bench`, are
/// ignored).
fn users_arg() -> anyhow::Result<usize> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--users") {
        Some(i) => args
            .get(i + 1)
            .context("--users needs a number")?
            .parse()
            .context("--users needs a number of users, e.g. --users 100000"),
        None => Ok(100_000),
    }
}

async fn bench(users: usize, batch_sizes: Vec<i64>) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let base = dir.path().join("base.db");
    let started = Instant::now();
    {
        let store = Store::open(&format!("sqlite:{}", base.display())).await?;
        let engine = Engine::new(store.clone());
        for i in 0..users {
            create(&engine, sf_user(&user_id(i), "Sync")).await;
        }
        store.close().await;
    }
    println!(
        "{users} users stored locally in {:.1} s (not part of the sync)",
        started.elapsed().as_secs_f64()
    );

    let runtime = Runtime::new(RuntimeConfig::default())?;
    let batching = declares_batch_size(&runtime).await?;
    if !batching {
        println!(
            "the built-in Salesforce connector declares no `{BATCH_SIZE_PROPERTY}` property: it \
             is left out, so both rows make one call per user"
        );
    }
    println!("batch-size  users    wall s   users/s  API calls  (queueing s)");
    for batch in batch_sizes {
        let row = dir.path().join(format!("batch-{batch}.db"));
        std::fs::copy(&base, &row)?;
        let url = format!("sqlite:{}", row.display());
        let result =
            sync_once(&runtime, &url, dir.path(), users, batching.then_some(batch)).await?;
        println!(
            "{batch:>10}  {users:>6}  {:>7.1}  {:>8.0}  {:>9}  ({:.1})",
            result.wall.as_secs_f64(),
            users as f64 / result.wall.as_secs_f64(),
            result.api_calls,
            result.queueing.as_secs_f64()
        );
    }
    Ok(())
}

fn user_id(i: usize) -> String {
    format!("b{i:06}")
}

/// Whether the built-in Salesforce connector takes a batch size.
async fn declares_batch_size(runtime: &Runtime) -> anyhow::Result<bool> {
    let builtin = builtin_connectors::lookup("builtin:salesforce")
        .context("the built-in Salesforce connector is missing")?;
    let (connector, _) = runtime.load_bytes(builtin.bytes.to_vec()).await?;
    Ok(connector
        .metadata()
        .properties
        .iter()
        .any(|p| p.key == BATCH_SIZE_PROPERTY))
}

/// What one sync measured.
struct Measured {
    wall: Duration,
    queueing: Duration,
    api_calls: u64,
}

/// Adds the Salesforce target to the store at `url` (users already in it) and syncs it.
async fn sync_once(
    runtime: &Runtime,
    url: &str,
    dir: &std::path::Path,
    users: usize,
    batch: Option<i64>,
) -> anyhow::Result<Measured> {
    let emulator = Emulator::start(EmulatorConfig {
        licences: users as u32 + 10,
        api_max: u64::MAX / 2,
        request_log_capacity: 10,
        ..EmulatorConfig::default()
    })
    .await?;
    let store = Store::open(url).await?;
    let engine = Engine::new(store.clone());
    let settings = OutboundSettings {
        max_attempts: 20,
        backoff_base_ms: 50,
        backoff_cap_ms: 2_000,
        ..OutboundSettings::default()
    };
    let mut spec = salesforce_spec(&emulator, "sf", settings, dir);
    // A Collections call of 200 records takes longer than the tests' 2 s request timeout.
    spec.properties.insert(
        "sf-request-timeout-ms".into(),
        serde_json::Value::from(60_000),
    );
    if let Some(batch) = batch {
        spec.properties
            .insert(BATCH_SIZE_PROPERTY.into(), serde_json::Value::from(batch));
    }
    store.put_target(&spec).await?;
    let registry =
        Registry::with_runtime(runtime.clone(), EgressPolicy::loopback()).with_store(store.clone());
    let dispatcher = Dispatcher::new(
        &engine,
        Arc::new(registry),
        DispatcherConfig {
            workers: 16,
            ..DispatcherConfig::default()
        },
    );
    emulator.reset_api_usage();

    let started = Instant::now();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let draining = tokio::spawn(async move {
        dispatcher
            .run(async {
                let _ = stopped.await;
            })
            .await
    });
    let run = engine.sync_target(TENANT, "sf").await?;
    let queueing = started.elapsed();
    let run = loop {
        let run = engine.sync_run(run.id).await?;
        if run.state.is_settled() {
            break run;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall = started.elapsed();
    let _ = stop.send(());
    draining.await??;
    let api_calls = emulator.api_usage().used;

    if run.dead > 0 || run.enqueued != users as i64 {
        bail!(
            "the sync did not deliver every user: {} queued, {} dead",
            run.enqueued,
            run.dead
        );
    }
    let arrived = emulator
        .users()
        .iter()
        .filter(|u| {
            u.get("Username")
                .as_str()
                .is_some_and(|n| n.starts_with('b') && n.ends_with("@example.com"))
        })
        .count();
    if arrived != users {
        bail!("the emulator holds {arrived} of the {users} users");
    }
    store.close().await;
    emulator.shutdown().await;
    Ok(Measured {
        wall,
        queueing,
        api_calls,
    })
}
