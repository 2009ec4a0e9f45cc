//! The SCIM server over real HTTP (reqwest over loopback), measured in one run:
//!
//! - (a) `POST /scim/v2/Users` throughput with durable commits (each create is one SQLite
//!   transaction: user row + outbox job) from 16 concurrent clients, with bearer auth (the main
//!   figure) and with Basic auth (argon2id verification on every request). The dispatcher is
//!   running, as in `provisioner serve`: it provisions the users into the Salesforce emulator
//!   through the real connector while the requests come in, and the time until the last job is
//!   `done` is reported too;
//! - (b) the latency (p50/p99) of sequential creates for a target configured `blocking = true`
//!   (the response returns after the emulator has the user), against sequential creates for the
//!   same, non-blocking, target in a second tenant (the response returns after the commit).
//!
//! One process: emulator, server (SCIM API + dispatcher + connector sandbox + SQLite in a temp
//! dir) and load generator on one multi-thread tokio runtime.
//!
//! Run: `cargo bench -p provisioner --bench scim_throughput`
//!
//! Sizes: `SCIM_BENCH_USERS` (1000), `SCIM_BENCH_BASIC_USERS` (200), `SCIM_BENCH_CONCURRENCY`
//! (16), `SCIM_BENCH_SEQUENTIAL` (200).

#[path = "../tests/support/org.rs"]
mod org_support;
#[path = "support/scim_bench.rs"]
mod scim_bench;

use org_support::org;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use provisioner_engine::store::{JobFilter, JobState};
use provisioner_server::config::{BearerCredential, TenantConfig};
use provisioner_server::{self as server, quickstart, ServerHandle};
use scim_bench::{env_size, percentile, quickstart_with_bearer, roomy_emulator};
use serde_json::{json, Value};

const PASSWORD: &str = "scim-bench-password";
const TOKEN: &str = "scim-bench-token";
const BLOCKING_TENANT: &str = "blocking.example";
const BLOCKING_TOKEN: &str = "scim-bench-blocking-token";

#[derive(Clone, Copy)]
enum Auth {
    Bearer(&'static str),
    Basic,
}

fn user_body(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("{name}@bench.example.com"),
        "name": {"givenName": "Bench", "familyName": name},
        "displayName": format!("Bench {name}"),
        "emails": [{"value": format!("{name}@bench.example.com"), "primary": true}],
        "active": true
    })
}

async fn create(http: &reqwest::Client, base: &str, auth: Auth, name: &str) -> Duration {
    let request = http
        .post(format!("{base}/scim/v2/Users"))
        .header("Content-Type", "application/scim+json")
        .body(user_body(name).to_string());
    let request = match auth {
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::Basic => request.basic_auth(quickstart::ADMIN, Some(PASSWORD)),
    };
    let started = Instant::now();
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.bytes().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    elapsed
}

/// `users` creates from `concurrency` tasks; returns the wall time.
async fn concurrent_creates(
    http: &reqwest::Client,
    base: &str,
    auth: Auth,
    prefix: &str,
    users: usize,
    concurrency: usize,
) -> Duration {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (http, base, next, prefix) = (
                http.clone(),
                base.to_owned(),
                next.clone(),
                prefix.to_owned(),
            );
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= users {
                        break;
                    }
                    create(&http, &base, auth, &format!("{prefix}{i}")).await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

/// Waits until every job is final; returns the count of `done` jobs. Panics on dead letters.
async fn settle(server: &ServerHandle) -> usize {
    let store = server.engine().store().clone();
    for _ in 0..6_000 {
        let jobs = store
            .list_jobs(&JobFilter {
                limit: Some(i64::MAX),
                ..JobFilter::default()
            })
            .await
            .unwrap();
        if jobs.iter().all(|j| j.state.is_final()) {
            let dead: Vec<_> = jobs.iter().filter(|j| j.state == JobState::Dead).collect();
            assert!(
                dead.is_empty(),
                "{} dead letters, e.g. {} {:?}: {:?}",
                dead.len(),
                dead[0].entity_name,
                dead[0].operation,
                dead[0].error
            );
            return jobs.iter().filter(|j| j.state == JobState::Done).count();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("jobs did not settle in 120 s");
}

fn summary(mut samples: Vec<Duration>) -> (f64, f64, f64) {
    samples.sort();
    let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / samples.len() as f64;
    (
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        mean * 1000.0,
    )
}

fn main() {
    let users = env_size("SCIM_BENCH_USERS", 1_000).max(1);
    let basic_users = env_size("SCIM_BENCH_BASIC_USERS", 200);
    let concurrency = env_size("SCIM_BENCH_CONCURRENCY", 16).max(1);
    let sequential = env_size("SCIM_BENCH_SEQUENTIAL", 200).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "scim_throughput: {} cores, {users} users (bearer), {basic_users} users (Basic), \
         concurrency {concurrency}, {sequential} sequential creates per mode",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    rt.block_on(run(users, basic_users, concurrency, sequential));
}

async fn run(users: usize, basic_users: usize, concurrency: usize, sequential: usize) {
    let emulator = roomy_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = quickstart_with_bearer(&emulator, dir.path(), PASSWORD, TOKEN);
    // A second tenant with the same Salesforce target, configured blocking.
    let mut blocking_target = quickstart::tutorial_target(&org(&emulator));
    blocking_target.outbound.blocking = true;
    blocking_target.outbound.timeout_ms = 60_000;
    config.tenants.push(TenantConfig {
        name: BLOCKING_TENANT.into(),
        bearer: vec![BearerCredential {
            label: "bench-blocking".into(),
            token: format!("literal:{BLOCKING_TOKEN}"),
        }],
        targets: vec![blocking_target],
        ..TenantConfig::default()
    });
    let server = server::start(config).await.unwrap();
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();

    // Warm up: component compile/load, OAuth token, connections, one blocking round trip.
    for i in 0..concurrency {
        create(&http, &base, Auth::Bearer(TOKEN), &format!("warm{i}")).await;
    }
    create(&http, &base, Auth::Bearer(BLOCKING_TOKEN), "warmblocking").await;
    settle(&server).await;
    let mut expected = 0;
    let emulator_before = emulator.users().len();

    // (a) Throughput, bearer.
    let wall = concurrent_creates(
        &http,
        &base,
        Auth::Bearer(TOKEN),
        "bearer",
        users,
        concurrency,
    )
    .await;
    expected += users;
    settle(&server).await;
    println!(
        "(a) POST /Users, bearer, {concurrency} clients: {users} in {:.2} s = {:.0} creates/s",
        wall.as_secs_f64(),
        users as f64 / wall.as_secs_f64()
    );
    // Again, timed until the dispatcher has provisioned every user (the job poll starts only
    // after the last response, so it does not steal CPU from the request phase).
    let started = Instant::now();
    let wall2 = concurrent_creates(
        &http,
        &base,
        Auth::Bearer(TOKEN),
        "drain",
        users,
        concurrency,
    )
    .await;
    expected += users;
    settle(&server).await;
    let until_done = started.elapsed();
    println!(
        "(a) POST /Users, bearer, second round: {users} in {:.2} s = {:.0} creates/s; \
         all {users} provisioned into the emulator after {:.2} s = {:.0} users/s end to end",
        wall2.as_secs_f64(),
        users as f64 / wall2.as_secs_f64(),
        until_done.as_secs_f64(),
        users as f64 / until_done.as_secs_f64()
    );

    // (a) Throughput, Basic (argon2id per request).
    if basic_users > 0 {
        let wall =
            concurrent_creates(&http, &base, Auth::Basic, "basic", basic_users, concurrency).await;
        expected += basic_users;
        settle(&server).await;
        println!(
            "(a) POST /Users, Basic, {concurrency} clients: {basic_users} in {:.2} s = {:.0} creates/s",
            wall.as_secs_f64(),
            basic_users as f64 / wall.as_secs_f64()
        );
    }

    // (b) Sequential latency: non-blocking target, then blocking target.
    let mut samples = Vec::with_capacity(sequential);
    for i in 0..sequential {
        samples.push(create(&http, &base, Auth::Bearer(TOKEN), &format!("seq{i}")).await);
    }
    expected += sequential;
    settle(&server).await;
    let (p50, p99, mean) = summary(samples);
    println!(
        "(b) sequential POST /Users, non-blocking target: p50 {p50:.2} ms, p99 {p99:.2} ms, mean {mean:.2} ms"
    );
    let mut samples = Vec::with_capacity(sequential);
    for i in 0..sequential {
        let name = format!("blk{i}");
        samples.push(create(&http, &base, Auth::Bearer(BLOCKING_TOKEN), &name).await);
        // The response came after provisioning: the emulator already has the user.
        assert!(
            emulator
                .user_by_username(&format!("{name}@bench.example.com"))
                .is_some(),
            "blocking create returned before the user reached the emulator"
        );
    }
    expected += sequential;
    settle(&server).await;
    let (bp50, bp99, bmean) = summary(samples);
    println!(
        "(b) sequential POST /Users, blocking target (returns after the emulator has the user): \
         p50 {bp50:.2} ms, p99 {bp99:.2} ms, mean {bmean:.2} ms ({:.1}x / {:.1}x non-blocking)",
        bp50 / p50,
        bp99 / p99
    );
    assert_eq!(
        emulator.users().len() - emulator_before,
        2 * users + basic_users + 2 * sequential
    );
    let done = settle(&server).await;
    println!("{expected} users created and provisioned; {done} jobs done in all, no dead letters");

    server.shutdown().await.unwrap();
    emulator.shutdown().await;
}
