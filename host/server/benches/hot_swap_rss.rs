//! Memory of a running server after putting six different connector components into one
//! target, one after another (each prepared before the next), with compiled components no
//! target uses evicted, and, for comparison, with every component kept loaded (as before
//! eviction existed: the bench itself holds each one).
//!
//! `cargo bench -p provisioner-server --bench hot_swap_rss` runs both, each in its own process
//! (resident memory only grows back so slowly that one process cannot measure both), and
//! prints the resident set size after start and after each put.

#[path = "../tests/support/org.rs"]
mod org_support;

use std::collections::BTreeMap;
use std::time::Duration;

use org_support::org;
use provisioner_engine::store::{OutboundSettings, TargetEgress, TargetSpec};
use provisioner_server::{self as server, quickstart};
use salesforce_emulator::{Emulator, EmulatorConfig};

/// The six components, with properties that fit each (a secret as a file reference).
fn components() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        ("echo", test_components::GUEST_ECHO, vec!["endpoint"]),
        ("endless-loop", test_components::GUEST_ENDLESS_LOOP, vec![]),
        ("memory-hog", test_components::GUEST_MEMORY_HOG, vec![]),
        (
            "exfiltrator",
            test_components::GUEST_EXFILTRATOR,
            vec!["endpoint", "api-key"],
        ),
        (
            "overreach",
            test_components::GUEST_OVERREACH,
            vec!["endpoint", "api-key"],
        ),
        (
            "salesforce-0.1",
            test_components::SALESFORCE_CONNECTOR_V0_1,
            vec![],
        ),
    ]
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn run(keep_all: bool) {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = quickstart::config(&org(&emulator), dir.path(), "127.0.0.1:0", "pw");
    config.runtime.cache_dir = Some(dir.path().join("cache"));
    let secret = dir.path().join("api-key");
    std::fs::write(&secret, "api-key-0123456789").unwrap();
    let handle = server::start(config).await.unwrap();
    let store = handle.engine().store().clone();
    let runtime = handle.registry().runtime().clone();
    let mode = if keep_all { "kept loaded" } else { "evicted" };
    println!("[{mode}] after start: {:.0} MiB", rss_mib());
    let mut held = Vec::new();
    for (name, path, properties) in components() {
        let bytes = std::fs::read(path).unwrap();
        let stored = store.put_component(&bytes).await.unwrap();
        let mut values = BTreeMap::new();
        let mut secret_refs = BTreeMap::new();
        for key in properties {
            if key == "api-key" {
                secret_refs.insert(key.to_owned(), format!("file:{}", secret.display()));
            } else {
                values.insert(key.to_owned(), "https://target.example".into());
            }
        }
        let record = store
            .put_target(&TargetSpec {
                tenant: quickstart::TENANT.into(),
                name: "Salesforce.com".into(),
                connector: stored.reference.clone(),
                properties: values,
                secret_refs,
                claim_mappings: vec![],
                settings: OutboundSettings::default(),
                egress: TargetEgress::default(),
            })
            .await
            .unwrap();
        let mut ready = None;
        for _ in 0..12_000 {
            ready = handle.registry().prepared(&record);
            if ready.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if keep_all {
            held.push(runtime.load_bytes(bytes).await.unwrap().0);
        }
        // Two sync rounds, so that whatever the switch released is evicted.
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        println!(
            "[{mode}] after putting {name:<15} ({:>5.1} MiB wasm, prepared: {}): {:.0} MiB, {} component(s) in memory",
            stored.size as f64 / 1_048_576.0,
            match ready {
                Some(true) => "ready",
                Some(false) => "failed",
                None => "not yet",
            },
            rss_mib(),
            runtime.loaded().len()
        );
    }
    drop(held);
    handle.shutdown().await.unwrap();
    emulator.shutdown().await;
}

fn main() {
    let mode = std::env::args().find(|a| a == "--keep-all" || a == "--evict");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match mode.as_deref() {
        Some("--keep-all") => runtime.block_on(run(true)),
        Some(_) => runtime.block_on(run(false)),
        None => {
            // Each mode in a fresh process of this same bench binary.
            let me = std::env::current_exe().unwrap();
            for flag in ["--evict", "--keep-all"] {
                let status = std::process::Command::new(&me)
                    .arg(flag)
                    .status()
                    .expect("cannot rerun the bench");
                assert!(status.success(), "the {flag} run failed");
            }
        }
    }
}
