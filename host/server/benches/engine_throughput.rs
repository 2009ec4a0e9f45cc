//! Throughput and backlog behaviour of the durable engine, measured in one run:
//!
//! - the Salesforce emulator's raw capacity: a plain HTTP load generator POSTing valid User
//!   creates with a pre-obtained token (creates/s);
//! - the commit rate of `Engine::apply_user_change` (local change + outbox job, one
//!   transaction each);
//! - the dispatcher draining those jobs through the real Salesforce connector component into a
//!   fresh emulator (users/s), and the same end to end with commits and dispatch running
//!   concurrently (users/s, with the commit, queue and sandbox included), both as a ratio to
//!   the raw capacity;
//! - a 100k-job backlog: process RSS before/after enqueueing, database size, and the latency of
//!   `claim_jobs` at a small backlog vs at 100k (median, p99).
//!
//! The backlog phase runs first, so its RSS baseline is not inflated by the other phases.
//!
//! Run: `cargo bench -p provisioner-server --bench engine_throughput`
//!
//! Sizes can be overridden by environment variables: `ENGINE_BENCH_RAW_REQUESTS` (2000),
//! `ENGINE_BENCH_CONCURRENCY` (16: load-generator tasks and dispatcher workers),
//! `ENGINE_BENCH_USERS` (2000), `ENGINE_BENCH_BACKLOG` (100000), `ENGINE_BENCH_SMALL_BACKLOG`
//! (100), `ENGINE_BENCH_CLAIMS` (200), `ENGINE_BENCH_CLAIM_BATCH` (16).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use provisioner_engine::store::{
    self, now_ms, JobState, JobUpdate, NewJob, OutboundSettings, Store, TargetRecord, TargetSpec,
    UserRecord,
};
use provisioner_engine::{
    ConnectorSource, Dispatcher, DispatcherConfig, Engine, UserChange, UserState,
};
use provisioner_runtime::{EgressPolicy, Runtime, RuntimeConfig};
use provisioner_server::tutorial::{claim, tutorial_claim_mappings};
use provisioner_server::Registry;
use salesforce_emulator::{Emulator, EmulatorConfig};

const TENANT: &str = "acme";

struct Sizes {
    raw_requests: usize,
    concurrency: usize,
    users: usize,
    backlog: usize,
    small_backlog: usize,
    claims: usize,
    claim_batch: usize,
}

fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

impl Sizes {
    fn from_env() -> Self {
        Self {
            raw_requests: env_size("ENGINE_BENCH_RAW_REQUESTS", 2_000),
            concurrency: env_size("ENGINE_BENCH_CONCURRENCY", 16).max(1),
            users: env_size("ENGINE_BENCH_USERS", 2_000).max(1),
            backlog: env_size("ENGINE_BENCH_BACKLOG", 100_000),
            small_backlog: env_size("ENGINE_BENCH_SMALL_BACKLOG", 100).max(1),
            claims: env_size("ENGINE_BENCH_CLAIMS", 200).max(1),
            claim_batch: env_size("ENGINE_BENCH_CLAIM_BATCH", 16).max(1),
        }
    }
}

fn main() {
    let sizes = Sizes::from_env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "engine_throughput: {} cores, {} raw requests, {} users, concurrency {}, backlog {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        sizes.raw_requests,
        sizes.users,
        sizes.concurrency,
        sizes.backlog,
    );
    rt.block_on(async {
        let backlog = backlog_phase(&sizes).await;
        let raw = raw_capacity(&sizes).await;
        let runtime = Runtime::new(RuntimeConfig::default()).unwrap();
        let staged = staged_phase(&sizes, &runtime).await;
        let pipelined = pipelined_phase(&sizes, &runtime).await;
        report(&sizes, raw, &staged, pipelined, &backlog);
    });
}

// ---------------------------------------------------------------------------------------------
// Emulator and target set-up.

fn roomy_org() -> EmulatorConfig {
    EmulatorConfig {
        licences: 1_000_000,
        api_max: 100_000_000,
        request_log_capacity: 10,
        ..EmulatorConfig::default()
    }
}

fn salesforce_spec(emulator: &Emulator, name: &str, dir: &Path) -> TargetSpec {
    let config = emulator.config();
    let secret_path = dir.join(format!("{name}-client-secret"));
    std::fs::write(&secret_path, &config.client_secret).unwrap();
    let properties: BTreeMap<String, serde_json::Value> = [
        ("sf-api-version", "v62.0".into()),
        ("sf-domain-name", emulator.base_url().into()),
        ("sf-token-endpoint", emulator.token_url().into()),
        ("sf-auth-flow", "client_credentials".into()),
        ("sf-clientid", config.client_id.clone().into()),
        ("sf-request-timeout-ms", serde_json::Value::from(5_000)),
    ]
    .into_iter()
    .map(|(k, v): (&str, serde_json::Value)| (k.to_owned(), v))
    .collect();
    TargetSpec {
        tenant: TENANT.into(),
        name: name.into(),
        connector: "builtin:salesforce".into(),
        properties,
        secret_refs: [(
            "sf-client-secret".to_owned(),
            format!("file:{}", secret_path.display()),
        )]
        .into(),
        claim_mappings: tutorial_claim_mappings(),
        settings: OutboundSettings {
            max_attempts: 8,
            backoff_base_ms: 20,
            backoff_cap_ms: 500,
            ..OutboundSettings::default()
        },
        egress: Default::default(),
    }
}

fn user_claims(id: &str) -> store::Claims {
    [
        (claim("emailaddress"), vec![format!("{id}@example.com")]),
        (claim("lastname"), vec!["Bench".to_owned()]),
        (claim("givenname"), vec!["Pat".to_owned()]),
    ]
    .into()
}

fn sf_user(id: &str) -> UserState {
    UserState {
        id: id.into(),
        user_name: format!("{id}@example.com"),
        claims: user_claims(id),
        roles: vec![],
        document: None,
        search_keys: Vec::new(),
    }
}

async fn open_store(dir: &Path) -> (Store, std::path::PathBuf) {
    let path = dir.join("engine.db");
    let store = Store::open(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    (store, path)
}

fn dispatcher(engine: &Engine, registry: Arc<Registry>, sizes: &Sizes) -> Dispatcher {
    Dispatcher::new(
        engine,
        registry,
        DispatcherConfig {
            workers: sizes.concurrency,
            lease_ms: 30_000,
            poll_ms: 20,
            ..DispatcherConfig::default()
        },
    )
}

/// A registry whose connector for `target` is already built (component loaded, instance
/// configured), so the timed runs do not include the one-time component load.
async fn warm_registry(runtime: &Runtime, target: &TargetRecord) -> Arc<Registry> {
    let registry = Arc::new(Registry::with_runtime(
        runtime.clone(),
        EgressPolicy::loopback(),
    ));
    registry.connector(target).await.unwrap();
    registry
}

/// Checks every job is done and the emulator holds exactly the users provisioned.
async fn check_all_done(store: &Store, emulator: &Emulator, users: usize) {
    let counts = store.count_jobs(None).await.unwrap();
    let done = counts
        .iter()
        .find(|(state, _)| *state == JobState::Done)
        .map_or(0, |(_, n)| *n);
    assert_eq!(done as usize, users, "job states: {counts:?}");
    let provisioned = emulator
        .users()
        .into_iter()
        .filter(|u| {
            u.get("Username")
                .as_str()
                .is_some_and(|n| n.ends_with("@example.com"))
        })
        .count();
    assert_eq!(provisioned, users, "users in the emulator");
}

// ---------------------------------------------------------------------------------------------
// (a) The emulator's raw capacity.

/// Creates/s the emulator sustains from a plain HTTP load generator.
async fn raw_capacity(sizes: &Sizes) -> Rate {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let token = emulator.issue_token();
    let url = format!("{}/services/data/v62.0/sobjects/User/", emulator.base_url());
    let client = reqwest::Client::new();
    let body = |name: String| {
        serde_json::json!({
            "Username": format!("{name}@example.com"),
            "LastName": "Bench",
            "FirstName": "Pat",
            "Email": format!("{name}@example.com"),
            "Alias": "pbench",
            "TimeZoneSidKey": "America/Los_Angeles",
            "LocaleSidKey": "en_US",
            "EmailEncodingKey": "UTF-8",
            "ProfileId": "00e5g000001AbCd",
            "LanguageLocaleKey": "en_US",
        })
    };
    let run = |prefix: &'static str, total: usize| {
        let next = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..sizes.concurrency)
            .map(|_| {
                let (next, client, url, token) =
                    (next.clone(), client.clone(), url.clone(), token.clone());
                tokio::spawn(async move {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= total {
                            break;
                        }
                        let response = client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&body(format!("{prefix}{i:06}")))
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(response.status().as_u16(), 201);
                        response.bytes().await.unwrap();
                    }
                })
            })
            .collect();
        async move {
            for task in tasks {
                task.await.unwrap();
            }
        }
    };
    // Warm up connections, then measure.
    run("warm", sizes.concurrency * 4).await;
    let start = Instant::now();
    run("raw", sizes.raw_requests).await;
    let rate = Rate::new(sizes.raw_requests, start.elapsed());
    emulator.shutdown().await;
    rate
}

// ---------------------------------------------------------------------------------------------
// (b) End to end through the engine.

struct Staged {
    commit: Rate,
    dispatch: Rate,
}

/// Commits every change first, then drains the queue.
async fn staged_phase(sizes: &Sizes, runtime: &Runtime) -> Staged {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open_store(dir.path()).await;
    let target = store
        .put_target(&salesforce_spec(&emulator, "sf-staged", dir.path()))
        .await
        .unwrap();
    let registry = warm_registry(runtime, &target).await;
    let engine = Engine::new(store.clone());

    let start = Instant::now();
    for i in 0..sizes.users {
        let receipt = engine
            .apply_user_change(TENANT, UserChange::Create(sf_user(&format!("s{i:06}"))))
            .await
            .unwrap();
        assert_eq!(receipt.jobs.len(), 1);
    }
    let commit = Rate::new(sizes.users, start.elapsed());

    let start = Instant::now();
    let stats = dispatcher(&engine, registry, sizes)
        .run_until_idle()
        .await
        .unwrap();
    let dispatch = Rate::new(sizes.users, start.elapsed());
    assert_eq!(stats.done as usize, sizes.users, "{stats:?}");
    check_all_done(&store, &emulator, sizes.users).await;
    store.close().await;
    emulator.shutdown().await;
    Staged { commit, dispatch }
}

/// Commits changes while a dispatcher drains them; timed from the first commit until the last
/// job is done.
async fn pipelined_phase(sizes: &Sizes, runtime: &Runtime) -> Rate {
    let emulator = Emulator::start(roomy_org()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open_store(dir.path()).await;
    let target = store
        .put_target(&salesforce_spec(&emulator, "sf-pipelined", dir.path()))
        .await
        .unwrap();
    let registry = warm_registry(runtime, &target).await;
    let engine = Engine::new(store.clone());
    let dispatcher = Arc::new(dispatcher(&engine, registry, sizes));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let dispatcher = dispatcher.clone();
        tokio::spawn(async move {
            dispatcher
                .run(async {
                    let _ = stopped.await;
                })
                .await
        })
    };

    let start = Instant::now();
    for i in 0..sizes.users {
        engine
            .apply_user_change(TENANT, UserChange::Create(sf_user(&format!("p{i:06}"))))
            .await
            .unwrap();
    }
    while store.outstanding_jobs().await.unwrap() > 0 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let rate = Rate::new(sizes.users, start.elapsed());
    let _ = stop.send(());
    let stats = running.await.unwrap().unwrap();
    assert_eq!(stats.done as usize, sizes.users, "{stats:?}");
    check_all_done(&store, &emulator, sizes.users).await;
    store.close().await;
    emulator.shutdown().await;
    rate
}

// ---------------------------------------------------------------------------------------------
// (c) A 100k-job backlog.

struct Backlog {
    rss_before_kib: u64,
    rss_after_kib: u64,
    rss_after_claims_kib: u64,
    enqueue: Rate,
    db_bytes: u64,
    wal_bytes: u64,
    small: Latency,
    large: Latency,
    paused: Latency,
    idle_queries: Latency,
}

/// Resident set size of this process, KiB.
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Adds users `from..to` and one pending job each for `target`, in batched transactions.
async fn enqueue(store: &Store, target: &str, from: usize, to: usize) {
    const BATCH: usize = 2_000;
    let mut at = from;
    while at < to {
        let end = (at + BATCH).min(to);
        let mut tx = store.begin_write().await.unwrap();
        let mut jobs = Vec::with_capacity(end - at);
        for i in at..end {
            let id = format!("b{i:07}");
            let user = UserRecord {
                tenant: TENANT.into(),
                id: id.clone(),
                user_name: format!("{id}@example.com"),
                claims: user_claims(&id),
                roles: vec![],
                version: 1,
                deleted: false,
                created_at: now_ms(),
                updated_at: now_ms(),
                document: None,
            };
            store::put_user(&mut tx, &user).await.unwrap();
            jobs.push(NewJob {
                target: target.into(),
                entity_kind: provisioner_contract::EntityKind::User,
                entity_id: id,
                entity_name: user.user_name,
                operation: provisioner_contract::Operation::Create,
                changed_claims: user.claims.keys().cloned().collect(),
                entity_version: 1,
            });
        }
        store::insert_jobs(&mut tx, TENANT, &jobs).await.unwrap();
        tx.commit().await.unwrap();
        at = end;
    }
}

/// Times `claims` calls of `claim_jobs` (as a dispatcher with `batch` free workers makes),
/// releasing the claimed jobs back to the queue after each so the backlog stays the same.
async fn claim_latency(store: &Store, claims: usize, batch: usize, expect: usize) -> Latency {
    let owner = "bench";
    let mut samples = Vec::with_capacity(claims);
    for _ in 0..claims {
        let start = Instant::now();
        let jobs = store
            .claim_jobs(owner, now_ms(), 30_000, batch as i64)
            .await
            .unwrap();
        samples.push(start.elapsed());
        assert_eq!(jobs.len(), expect);
        for job in jobs {
            let released = store
                .update_job(
                    job.id,
                    owner,
                    &JobUpdate::Retry {
                        due_at: now_ms(),
                        attempts: job.attempts,
                        outcome_unknown: false,
                        error: None,
                    },
                )
                .await
                .unwrap();
            assert!(released);
        }
    }
    Latency::of(samples)
}

async fn backlog_phase(sizes: &Sizes) -> Backlog {
    let dir = tempfile::tempdir().unwrap();
    let (store, path) = open_store(dir.path()).await;
    // A target whose connector is never run: nothing dispatches in this phase.
    store
        .put_target(&TargetSpec {
            tenant: TENANT.into(),
            name: "backlog".into(),
            connector: "never-run".into(),
            properties: BTreeMap::new(),
            secret_refs: BTreeMap::new(),
            claim_mappings: vec![],
            settings: OutboundSettings::default(),
            egress: Default::default(),
        })
        .await
        .unwrap();
    let small_n = sizes.small_backlog.min(sizes.backlog.max(1));
    enqueue(&store, "backlog", 0, small_n).await;
    let batch = sizes.claim_batch;
    let small = claim_latency(&store, sizes.claims, batch, batch.min(small_n)).await;

    let rss_before_kib = vm_rss_kib();
    let start = Instant::now();
    enqueue(&store, "backlog", small_n, sizes.backlog.max(small_n)).await;
    let enqueue = Rate::new(sizes.backlog.max(small_n) - small_n, start.elapsed());
    let rss_after_kib = vm_rss_kib();
    let large = claim_latency(&store, sizes.claims, batch, batch).await;
    let rss_after_claims_kib = vm_rss_kib();
    // What an idle dispatcher asks the store on every loop, at this backlog.
    let mut samples = Vec::new();
    for _ in 0..20 {
        let start = Instant::now();
        store.outstanding_jobs().await.unwrap();
        store.next_due_at().await.unwrap();
        samples.push(start.elapsed());
    }
    let idle_queries = Latency::of(samples);

    // The same backlog behind a paused target: every claim finds nothing due.
    store
        .pause_target(TENANT, "backlog", "bench", None)
        .await
        .unwrap();
    let paused = claim_latency(&store, (sizes.claims / 4).max(1), batch, 0).await;
    let pending: i64 = store
        .count_jobs(None)
        .await
        .unwrap()
        .iter()
        .filter(|(state, _)| *state == JobState::Pending)
        .map(|(_, n)| n)
        .sum();
    assert_eq!(pending as usize, sizes.backlog.max(small_n));

    let db_bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
    let wal_bytes = std::fs::metadata(path.with_extension("db-wal")).map_or(0, |m| m.len());
    store.close().await;
    Backlog {
        rss_before_kib,
        rss_after_kib,
        rss_after_claims_kib,
        enqueue,
        db_bytes,
        wal_bytes,
        small,
        large,
        paused,
        idle_queries,
    }
}

// ---------------------------------------------------------------------------------------------
// Figures.

#[derive(Clone, Copy)]
struct Rate {
    count: usize,
    elapsed: Duration,
}

impl Rate {
    fn new(count: usize, elapsed: Duration) -> Self {
        Self { count, elapsed }
    }

    fn per_sec(self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }
}

struct Latency {
    p50: Duration,
    p99: Duration,
}

impl Latency {
    fn of(mut samples: Vec<Duration>) -> Self {
        samples.sort();
        let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
        Self {
            p50: at(0.5),
            p99: at(0.99),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn report(sizes: &Sizes, raw: Rate, staged: &Staged, pipelined: Rate, backlog: &Backlog) {
    let raw_rate = raw.per_sec();
    println!();
    println!(
        "throughput                                        count   seconds       per s   vs raw"
    );
    let row = |label: &str, rate: Rate| {
        println!(
            "{label:<46} {:>8} {:>9.2} {:>11.0} {:>7.3}x",
            rate.count,
            rate.elapsed.as_secs_f64(),
            rate.per_sec(),
            rate.per_sec() / raw_rate
        );
    };
    row(
        &format!("emulator raw creates ({} conc. HTTP)", sizes.concurrency),
        raw,
    );
    row("apply_user_change commits (change + outbox)", staged.commit);
    row(
        &format!(
            "dispatch only ({} workers, sandbox + HTTP)",
            sizes.concurrency
        ),
        staged.dispatch,
    );
    row("end to end, pipelined (commit+queue+sandbox)", pipelined);
    let serial = Rate::new(
        staged.commit.count,
        staged.commit.elapsed + staged.dispatch.elapsed,
    );
    row("end to end, staged (all commits, then drain)", serial);

    let mib = |kib: u64| kib as f64 / 1024.0;
    let jobs = sizes.backlog.max(1) as f64;
    println!();
    println!("backlog of {} queued jobs", sizes.backlog);
    println!(
        "  enqueue (batched 2000/tx, user + job)       {:>11.0} jobs/s",
        backlog.enqueue.per_sec()
    );
    println!(
        "  RSS before / after enqueue / after claims   {:.1} / {:.1} / {:.1} MiB (+{:.1} MiB)",
        mib(backlog.rss_before_kib),
        mib(backlog.rss_after_kib),
        mib(backlog.rss_after_claims_kib),
        mib(backlog
            .rss_after_claims_kib
            .max(backlog.rss_after_kib)
            .saturating_sub(backlog.rss_before_kib)),
    );
    println!(
        "  database file + WAL                         {:.1} + {:.1} MiB ({:.0} bytes/job incl. user)",
        backlog.db_bytes as f64 / 1048576.0,
        backlog.wal_bytes as f64 / 1048576.0,
        (backlog.db_bytes + backlog.wal_bytes) as f64 / jobs,
    );
    println!(
        "  claim_jobs(limit {}), {} claims            p50 ms    p99 ms",
        sizes.claim_batch, sizes.claims
    );
    for (label, latency) in [
        (
            format!("    backlog {}", sizes.small_backlog),
            &backlog.small,
        ),
        (format!("    backlog {}", sizes.backlog), &backlog.large),
        (
            format!("    backlog {}, target paused", sizes.backlog),
            &backlog.paused,
        ),
    ] {
        println!(
            "{label:<44} {:>7.3} {:>9.3}",
            ms(latency.p50),
            ms(latency.p99)
        );
    }
    println!(
        "    large / small                            {:>7.2}x {:>8.2}x",
        ms(backlog.large.p50) / ms(backlog.small.p50),
        ms(backlog.large.p99) / ms(backlog.small.p99),
    );
    println!(
        "{:<44} {:>7.3} {:>9.3}",
        format!("  outstanding_jobs + next_due_at, {}", sizes.backlog),
        ms(backlog.idle_queries.p50),
        ms(backlog.idle_queries.p99)
    );
}
