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
//! With `--reconcile`, each synced org is then reconciled twice (report only): in sync, and
//! after 1% of its users had their LastName edited in the org (each of those is confirmed with a
//! dry run of the connector); prints the wall time, the users read on each side and the drift.
//!
//! Run: `cargo bench -p provisioner-tests --bench initial_sync [-- --users N] [--batch-sizes 200,1]
//! [--reconcile]`

#[path = "../../host/engine/tests/engine_support/mod.rs"]
mod engine_support;
#[path = "../../host/server/tests/support/salesforce.rs"]
mod salesforce_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use engine_support::{create, TENANT};
use provisioner_engine::store::DriftKind;
use provisioner_engine::store::{OutboundSettings, Store};
use provisioner_engine::{Dispatcher, DispatcherConfig, Engine, ReconcileOptions};
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
    let reconcile = std::env::args().any(|a| a == "--reconcile");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench(users, batch_sizes, reconcile))
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

async fn bench(users: usize, batch_sizes: Vec<i64>, reconcile: bool) -> anyhow::Result<()> {
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
        let result = sync_once(
            &runtime,
            &url,
            dir.path(),
            users,
            batching.then_some(batch),
            reconcile,
        )
        .await?;
        println!(
            "{batch:>10}  {users:>6}  {:>7.1}  {:>8.0}  {:>9}  ({:.1})",
            result.wall.as_secs_f64(),
            users as f64 / result.wall.as_secs_f64(),
            result.api_calls,
            result.queueing.as_secs_f64()
        );
        for run in &result.reconciliations {
            println!(
                "  reconcile {:<26} {:>7.1} s  remote {:>7}  local {:>7}  drift {:>6}",
                run.what,
                run.wall.as_secs_f64(),
                run.remote_seen,
                run.local_seen,
                run.drift
            );
        }
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
    reconciliations: Vec<Reconciled>,
}

/// What one reconciliation run measured.
struct Reconciled {
    what: &'static str,
    wall: Duration,
    remote_seen: i64,
    local_seen: i64,
    drift: i64,
}

/// Adds the Salesforce target to the store at `url` (users already in it) and syncs it.
async fn sync_once(
    runtime: &Runtime,
    url: &str,
    dir: &std::path::Path,
    users: usize,
    batch: Option<i64>,
    reconcile: bool,
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
    let registry = Arc::new(
        Registry::with_runtime(runtime.clone(), EgressPolicy::loopback()).with_store(store.clone()),
    );
    let dispatcher = Dispatcher::new(
        &engine,
        registry.clone(),
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
    let reconciliations = if reconcile {
        reconcile_twice(&engine, &registry, &emulator, users).await?
    } else {
        Vec::new()
    };
    store.close().await;
    emulator.shutdown().await;
    Ok(Measured {
        wall,
        queueing,
        api_calls,
        reconciliations,
    })
}

/// Reconciles the synced org (report only) in sync, then after 1% of its users had their
/// LastName edited there; checks each run found what it should.
async fn reconcile_twice(
    engine: &Engine,
    registry: &Registry,
    emulator: &Emulator,
    users: usize,
) -> anyhow::Result<Vec<Reconciled>> {
    let mut measured = Vec::new();
    let clean = reconcile_once(engine, registry, "in sync").await?;
    // Only the org's integration user, which no local user maps to.
    if clean.drift != 1 {
        bail!("a synced org showed {} drift entries, not 1", clean.drift);
    }
    measured.push(clean);
    let edited = (users / 100).max(1);
    let mut remote = emulator.users();
    remote.retain(|u| {
        u.get("Username")
            .as_str()
            .is_some_and(|n| n.starts_with('b') && n.ends_with("@example.com"))
    });
    for user in remote.iter().take(edited) {
        let change = serde_json::json!({"LastName": "EditedInOrg"});
        emulator
            .edit_user(&user.id, change.as_object().cloned().unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("editing {} in the org: {e:?}", user.id))?;
    }
    let drifted = reconcile_once(engine, registry, "after 1% edited in org").await?;
    if drifted.drift != edited as i64 + 1 {
        bail!(
            "{edited} users edited in the org showed {} drift entries, not {}",
            drifted.drift,
            edited + 1
        );
    }
    measured.push(drifted);
    Ok(measured)
}

async fn reconcile_once(
    engine: &Engine,
    registry: &Registry,
    what: &'static str,
) -> anyhow::Result<Reconciled> {
    let started = Instant::now();
    let report = engine
        .reconcile(registry, TENANT, "sf", ReconcileOptions::default())
        .await?;
    let wall = started.elapsed();
    // The only field edited is LastName: any other field drift would be a false one.
    if let Some(other) = report
        .drift
        .iter()
        .find(|d| d.kind == DriftKind::FieldDiffers && d.field.as_deref() != Some("LastName"))
    {
        bail!("a field nobody edited drifted: {other:?}");
    }
    Ok(Reconciled {
        what,
        wall,
        remote_seen: report.run.remote_seen,
        local_seen: report.run.local_seen,
        drift: report.run.drift_count,
    })
}
