//! What hostile or unlucky traffic costs the SCIM server, over real HTTP (reqwest over loopback):
//!
//! - (a) a Basic-auth flood: `SCIM_ABUSE_FLOOD` (256) concurrent clients sending wrong passwords
//!   for a known user for `SCIM_ABUSE_SECS` (10) seconds, while one bearer client reads a user
//!   in a loop: the process RSS (idle, peak, and after the flood) and the bearer client's
//!   latency;
//! - (b) `POST /scim/v2/Users` throughput from 16 clients with Basic auth next to bearer;
//! - (c) a PATCH adding `MAX_VALUES` (10,000) emails in one request, and one adding 20,000 (over
//!   the bound, refused with 400 `tooMany`);
//! - (d) writes of another tenant while one tenant's create waits for its blocking target, whose
//!   org answers only after 10 s.
//!
//! `SCIM_ABUSE_AUTH` picks the password-check bounds (`[auth]`): `bounded` (the defaults),
//! `no-backoff` (the defaults without per-client back-off, so every wrong password is verified
//! and the verifier bound alone protects the server), or `unbounded` (as many verifiers as the
//! blocking pool has threads, an endless queue, nothing remembered, no back-off: every Basic
//! request runs argon2 at once, the behaviour before the bounds existed).
//!
//! One process: emulator, server and load generator on one multi-thread tokio runtime, so the
//! RSS is the whole process's (the load generator's share is small and the same in each mode).
//!
//! Run: `SCIM_ABUSE_AUTH=unbounded cargo bench -p provisioner-server --bench scim_abuse`, then
//! with `bounded` and `no-backoff`. `SCIM_ABUSE_PARTS` (`abcd`) picks the parts,
//! `SCIM_ABUSE_PATCH_SIZES` (`10000,20000`) the numbers of emails of (c).

#[path = "../tests/support/org.rs"]
mod org_support;
#[path = "support/scim_bench.rs"]
mod scim_bench;

use org_support::org;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use provisioner_engine::store::{JobFilter, JobState};
use provisioner_server::config::{BearerCredential, TenantConfig};
use provisioner_server::{self as server, quickstart};
use salesforce_emulator::{FaultSpec, Operation};
use scim_bench::{env_size, percentile, quickstart_with_bearer, roomy_emulator};
use serde_json::{json, Value};

const PASSWORD: &str = "scim-abuse-password";
const TOKEN: &str = "scim-abuse-token-0123456789";
const OTHER_TENANT: &str = "other.example";
const OTHER_TOKEN: &str = "scim-abuse-other-token-0123456789";
const HELD_TENANT: &str = "held.example";
const HELD_TOKEN: &str = "scim-abuse-held-token-0123456789";

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn user_body(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("{name}@bench.example.com"),
        "name": {"givenName": "Bench", "familyName": name},
        "emails": [{"value": format!("{name}@bench.example.com"), "primary": true}],
    })
}

enum Auth<'a> {
    Bearer(&'a str),
    Basic(&'a str),
}

async fn create(http: &reqwest::Client, base: &str, auth: Auth<'_>, name: &str) -> Value {
    let request = http
        .post(format!("{base}/scim/v2/Users"))
        .header("Content-Type", "application/scim+json")
        .body(user_body(name).to_string());
    let request = match auth {
        Auth::Bearer(token) => request.bearer_auth(token),
        Auth::Basic(password) => request.basic_auth(quickstart::ADMIN, Some(password)),
    };
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 201, "{body}");
    body
}

/// `flood` clients send requests with wrong credentials (`wrong` adds them to request `n` of
/// client `i`) for `secs` seconds while one bearer client reads user `id`; prints
/// the answers, the process RSS and the bearer client's latency.
async fn flood_round(
    label: &str,
    base: &str,
    id: &str,
    flood: usize,
    secs: u64,
    wrong: fn(reqwest::RequestBuilder, usize, usize) -> reqwest::RequestBuilder,
) {
    let http = reqwest::Client::new();
    let idle = rss_mib();
    let peak = Arc::new(AtomicU64::new(idle.to_bits()));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, running) = (peak.clone(), running.clone());
        tokio::spawn(async move {
            while running.load(Ordering::Relaxed) {
                let now = rss_mib();
                if now > f64::from_bits(peak.load(Ordering::Relaxed)) {
                    peak.store(now.to_bits(), Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    let (unauthorized, busy) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let attacker_http = reqwest::Client::builder()
        .pool_max_idle_per_host(flood)
        .build()
        .unwrap();
    let attackers: Vec<_> = (0..flood)
        .map(|i| {
            let (http, base) = (attacker_http.clone(), base.to_owned());
            let (unauthorized, busy) = (unauthorized.clone(), busy.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < deadline {
                    n += 1;
                    let request = http.get(format!("{base}/scim/v2/Users"));
                    let response = wrong(request, i, n).send().await;
                    match response.map(|r| r.status().as_u16()) {
                        Ok(401) => unauthorized.fetch_add(1, Ordering::Relaxed),
                        Ok(503) => busy.fetch_add(1, Ordering::Relaxed),
                        other => panic!("flood request: {other:?}"),
                    };
                }
            })
        })
        .collect();
    let mut samples = Vec::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        let response = http
            .get(format!("{base}/scim/v2/Users/{id}"))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap();
        samples.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let flood_end = Instant::now();
    for attacker in attackers {
        attacker.await.unwrap();
    }
    let drained = flood_end.elapsed();
    running.store(false, Ordering::Relaxed);
    sampler.await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_mib();
    samples.sort();
    println!(
        "(a) {label} flood, {flood} clients x {secs} s: {} answered 401, {} answered 503 \
         ({:.1} s for the last to be answered after the flood ended)",
        unauthorized.load(Ordering::Relaxed),
        busy.load(Ordering::Relaxed),
        drained.as_secs_f64(),
    );
    println!(
        "(a) {label}: RSS idle {idle:.0} MiB, peak {:.0} MiB, 2 s after the flood {after:.0} MiB",
        f64::from_bits(peak.load(Ordering::Relaxed)),
    );
    println!(
        "(a) {label}: bearer GET during the flood: {} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        samples.len(),
        percentile(&samples, 0.50),
        percentile(&samples, 0.99),
        percentile(&samples, 1.0),
    );
}

fn main() {
    let mode = std::env::var("SCIM_ABUSE_AUTH").unwrap_or_else(|_| "bounded".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "scim_abuse: {} cores, password checks `{mode}`",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    rt.block_on(run(&mode));
}

async fn run(mode: &str) {
    let flood = env_size("SCIM_ABUSE_FLOOD", 256);
    let parts = std::env::var("SCIM_ABUSE_PARTS").unwrap_or_else(|_| "abcd".into());
    let part = |p: char| parts.contains(p);
    let patch_sizes: Vec<usize> = std::env::var("SCIM_ABUSE_PATCH_SIZES")
        .unwrap_or_else(|_| "10000,20000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let secs = env_size("SCIM_ABUSE_SECS", 10) as u64;
    let emulator = roomy_emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = quickstart_with_bearer(&emulator, dir.path(), PASSWORD, TOKEN);
    config.tenants.push(TenantConfig {
        name: OTHER_TENANT.into(),
        bearer: vec![BearerCredential {
            label: "other".into(),
            token: format!("literal:{OTHER_TOKEN}"),
        }],
        ..TenantConfig::default()
    });
    // A tenant whose target is blocking, for (d).
    let mut held_target = quickstart::tutorial_target(&org(&emulator));
    held_target.outbound.blocking = true;
    held_target.outbound.timeout_ms = 10_000;
    config.tenants.push(TenantConfig {
        name: HELD_TENANT.into(),
        bearer: vec![BearerCredential {
            label: "held".into(),
            token: format!("literal:{HELD_TOKEN}"),
        }],
        targets: vec![held_target],
        ..TenantConfig::default()
    });
    match mode {
        "bounded" => {}
        "no-backoff" => config.auth.free_failures = u32::MAX,
        "unbounded" => {
            config.auth.password_verifiers = 512;
            config.auth.password_queue = usize::MAX / 2;
            config.auth.verified_cache_secs = 0;
            config.auth.free_failures = u32::MAX;
        }
        other => panic!("SCIM_ABUSE_AUTH={other}: expected bounded, no-backoff or unbounded"),
    }
    let server = server::start(config).await.unwrap();
    let base = format!("http://{}", server.addr());
    let http = reqwest::Client::new();

    // Warm up: component load, OAuth token, connections.
    let target = create(&http, &base, Auth::Bearer(TOKEN), "target").await;
    let id = target["id"].as_str().unwrap().to_owned();
    for i in 0..4 {
        create(&http, &base, Auth::Bearer(TOKEN), &format!("warm{i}")).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    if part('b') {
        // (b) Create throughput, Basic next to bearer (before the flood, whose wrong passwords
        // make the server back off from this client address and user name).
        let creates = env_size("SCIM_ABUSE_CREATES", 200);
        for (label, basic) in [("bearer", false), ("Basic", true)] {
            let next = Arc::new(AtomicUsize::new(0));
            let started = Instant::now();
            let tasks: Vec<_> = (0..16)
                .map(|_| {
                    let (http, base, next) = (http.clone(), base.clone(), next.clone());
                    tokio::spawn(async move {
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= creates {
                                break;
                            }
                            let name = format!("{}{i}", if basic { "basic" } else { "bearer" });
                            let auth = if basic {
                                Auth::Basic(PASSWORD)
                            } else {
                                Auth::Bearer(TOKEN)
                            };
                            create(&http, &base, auth, &name).await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            let wall = started.elapsed();
            println!(
                "(b) POST /Users, {label}, 16 clients: {creates} in {:.2} s = {:.0} creates/s",
                wall.as_secs_f64(),
                creates as f64 / wall.as_secs_f64()
            );
        }
    }
    if part('a') {
        // (a) Floods of wrong credentials: bearer tokens (refused without any hashing work, the
        // floor this in-process harness can show), then Basic passwords of a known user.
        flood_round("wrong-bearer", &base, &id, flood, secs, |r, i, n| {
            r.bearer_auth(format!("wrong-token-{i}-{n}"))
        })
        .await;
        flood_round("wrong-Basic", &base, &id, flood, secs, |r, i, n| {
            r.basic_auth(quickstart::ADMIN, Some(format!("guess-{i}-{n}")))
        })
        .await;
    }
    if part('c') {
        // (c) PATCH with many values.
        for &count in &patch_sizes {
            let emails: Vec<Value> = (0..count)
                .map(|i| json!({"value": format!("e{i}@bench.example.com"), "type": "other"}))
                .collect();
            let body = json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "emails", "value": emails}],
            })
            .to_string();
            let started = Instant::now();
            let response = http
                .patch(format!("{base}/scim/v2/Users/{id}"))
                .bearer_auth(TOKEN)
                .header("Content-Type", "application/scim+json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            response.bytes().await.unwrap();
            let elapsed = started.elapsed();
            assert!(status == 200 || status == 400, "PATCH answered {status}");
            println!(
                "(c) PATCH adding {count} emails ({} KiB): {status} in {:.1} ms",
                body.len() / 1024,
                elapsed.as_secs_f64() * 1000.0
            );
        }
    }
    if part('d') {
        // (d) One tenant's blocking target holds its create; another tenant writes meanwhile.
        let store = server.engine().store().clone();
        let settled = JobFilter {
            limit: Some(i64::MAX),
            ..JobFilter::default()
        };
        while !store
            .list_jobs(&settled)
            .await
            .unwrap()
            .iter()
            .all(|j| j.state.is_final())
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        emulator.arm_fault(FaultSpec::delay(Operation::Create, 10_000));
        let blocking = {
            let (http, base) = (http.clone(), base.clone());
            tokio::spawn(async move {
                let started = Instant::now();
                create(&http, &base, Auth::Bearer(HELD_TOKEN), "held").await;
                started.elapsed()
            })
        };
        while store
            .list_jobs(&JobFilter {
                state: Some(JobState::Running),
                ..JobFilter::default()
            })
            .await
            .unwrap()
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut other = Vec::new();
        for i in 0..20 {
            let started = Instant::now();
            create(
                &http,
                &base,
                Auth::Bearer(OTHER_TOKEN),
                &format!("other{i}"),
            )
            .await;
            other.push(started.elapsed());
        }
        let held_finished_first = blocking.is_finished();
        other.sort();
        let held = blocking.await.unwrap();
        println!(
        "(d) 20 POSTs of another tenant while a create's blocking target is held: p50 {:.2} ms, \
         max {:.2} ms; the held create {} when they were done, and returned after {:.2} s",
        percentile(&other, 0.5),
        percentile(&other, 1.0),
        if held_finished_first {
            "had finished"
        } else {
            "had not finished"
        },
        held.as_secs_f64(),
    );
        emulator.clear_faults();
    }
    drop(server);
}
