//! The SCIM server holding one large tenant, over real HTTP (reqwest over loopback), for each
//! size N of `SCIM_SCALE_SIZES` (`10000,100000`):
//!
//! 1. load: N users (email `userName`, `externalId`, `name`, a work email, `title`, enterprise
//!    `department`, `active`) and N/1000 groups of 50 members, plus one group of 10,000 members
//!    when N >= 100,000, created through [`scim::ops::create`] (the code path of `POST /Users`
//!    and `POST /Groups`) over an [`EngineBackend`] on the server's database file, from
//!    `SCIM_SCALE_LOADERS` (4) concurrent loaders, in a loader process; the load rates and the
//!    loader's peak RSS are printed;
//! 2. the server is started on that database (bearer auth, no targets), and its process's RSS
//!    and the database size on disk (SQLite file and its `-wal`) are recorded;
//! 3. measured over HTTP, one request at a time: `filter=userName eq`, `GET /Users/<id>`,
//!    `startIndex=<random>&count=100`, `filter=emails.value eq`, `filter=externalId eq`,
//!    `GET /Groups?filter=displayName eq ...&excludedAttributes=members`, `POST /Users` and
//!    `PATCH /Users/<id>` (replace `title` and `active`, alternately in Okta's and Entra ID's
//!    shapes), each as p50/p99 of random existing resources.
//!
//! Each size is measured in a fresh process and loaded by another (both are this binary again,
//! told so by `SCIM_SCALE_MEASURE` and `SCIM_SCALE_LOAD_INTO`), so that neither the memory
//! loading leaves in the allocator nor an earlier size's counts as the server's.
//!
//! Every phase stops after its number of requests or once it has run `SCIM_SCALE_PHASE_SECS`
//! (60) seconds, whichever comes first, so a run completes on a slow storage; the number of
//! requests each figure is made of is printed. `SCIM_SCALE_REQUESTS` (500) is the number of
//! single-resource reads; pages and groups take a fifth of it, creates and patches 300 each.
//! `SCIM_SCALE_GROUPS` overrides the number of 50-member groups (N/1000).
//!
//! The databases live in temporary directories (under `TMPDIR`); a million users take about
//! 1.5 GB. At the end a markdown table (one row per size) is printed.
//!
//! Run: `SCIM_SCALE_SIZES=10000,100000,1000000 cargo bench -p provisioner-server --bench scim_scale`

#[path = "../tests/support/org.rs"]
mod org_support;
// Only the environment sizes and percentiles are used here.
#[allow(dead_code)]
#[path = "support/scim_bench.rs"]
mod scim_bench;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use provisioner_server::config::{
    BearerCredential, DatabaseConfig, ListenConfig, RuntimeSection, ServerConfig, TenantConfig,
};
use provisioner_server::{self as server, EngineBackend};
use rand::Rng;
use scim::ops::{self, Ctx};
use scim::TenantId;
use scim_bench::{env_size, percentile};
use serde_json::{json, Value};

const TENANT: &str = "scale.example";
const TOKEN: &str = "scim-scale-token";
const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Members of each ordinary group.
const GROUP_MEMBERS: usize = 50;
/// Members of the one large group.
const BIG_GROUP_MEMBERS: usize = 10_000;
/// The tenant size from which the large group exists.
const BIG_GROUP_FROM: usize = 100_000;
/// Users whose index is a multiple of this have their ids kept (the random reads and the
/// groups' members are picked among them).
const KEEP_EVERY: usize = 20;

const GIVEN: [&str; 16] = [
    "Ada", "Barbara", "Carlos", "Dana", "Elif", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kim",
    "Lena", "Mateo", "Nora", "Omar", "Priya",
];
const FAMILY: [&str; 16] = [
    "Jensen",
    "Okafor",
    "Silva",
    "Novak",
    "Tanaka",
    "Müller",
    "Haddad",
    "Kowalski",
    "Nguyen",
    "Rossi",
    "Andersen",
    "Moreau",
    "Patel",
    "Schmidt",
    "Costa",
    "Lindqvist",
];
const TITLES: [&str; 8] = [
    "Engineer",
    "Senior Engineer",
    "Manager",
    "Analyst",
    "Designer",
    "Director",
    "Accountant",
    "Support Specialist",
];
const DEPARTMENTS: [&str; 10] = [
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Support",
    "Legal",
    "Operations",
    "Research",
    "People",
    "Security",
];

/// The `userName` of user `i`.
fn user_name(i: usize) -> String {
    format!("user{i:07}@scale.example.com")
}

/// The `externalId` of user `i` (an Okta-like id).
fn external_id(i: usize) -> String {
    format!("00u{i:010}x")
}

/// The work email of user `i`.
fn work_email(i: usize) -> String {
    let given = GIVEN[i % GIVEN.len()].to_lowercase();
    let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()].to_lowercase();
    format!("{given}.{family}.{i}@corp.example.com")
}

/// The creation body of user `i`.
fn user_body(i: usize) -> Value {
    let given = GIVEN[i % GIVEN.len()];
    let family = FAMILY[(i / GIVEN.len()) % FAMILY.len()];
    json!({
        "schemas": [USER_URN, ENTERPRISE_URN],
        "userName": user_name(i),
        "externalId": external_id(i),
        "name": {"givenName": given, "familyName": family, "formatted": format!("{given} {family}")},
        "displayName": format!("{given} {family} {i}"),
        "emails": [{"value": work_email(i), "type": "work", "primary": true}],
        "title": TITLES[i % TITLES.len()],
        "active": i % 25 != 0,
        ENTERPRISE_URN: {
            "employeeNumber": i.to_string(),
            "department": DEPARTMENTS[i % DEPARTMENTS.len()]
        }
    })
}

/// The display name of ordinary group `g`.
fn group_name(g: usize) -> String {
    format!("Team {g:05} {}", DEPARTMENTS[g % DEPARTMENTS.len()])
}

/// What was loaded: the kept users' ids by index, the groups' names, and the wall times.
struct Loaded {
    ids: HashMap<usize, String>,
    groups: Vec<String>,
    users_wall: Duration,
    groups_wall: Duration,
    big_group_wall: Option<Duration>,
    /// The loader process's peak RSS in MiB.
    peak_mib: f64,
}

/// The file in which a loader process hands what it loaded to the measuring process.
const LOADED_FILE: &str = "loaded.tsv";

impl Loaded {
    /// Writes the record into `dir`: a `times` line, one `group` line per group name and one
    /// `user` line per kept id.
    fn save(&self, dir: &Path) {
        let big = self
            .big_group_wall
            .map_or("-".to_string(), |d| d.as_secs_f64().to_string());
        let mut out = format!(
            "times\t{}\t{}\t{big}\t{}\n",
            self.users_wall.as_secs_f64(),
            self.groups_wall.as_secs_f64(),
            proc_status_mib("VmHWM")
        );
        for name in &self.groups {
            out.push_str(&format!("group\t{name}\n"));
        }
        for (i, id) in &self.ids {
            out.push_str(&format!("user\t{i}\t{id}\n"));
        }
        std::fs::write(dir.join(LOADED_FILE), out).unwrap();
    }

    /// Reads the record a loader process wrote into `dir`.
    fn read(dir: &Path) -> Loaded {
        let text = std::fs::read_to_string(dir.join(LOADED_FILE))
            .unwrap_or_else(|e| panic!("the loader wrote no {LOADED_FILE}: {e}"));
        let secs = |s: &str| Duration::from_secs_f64(s.parse().unwrap());
        let mut loaded = Loaded {
            ids: HashMap::new(),
            groups: Vec::new(),
            users_wall: Duration::ZERO,
            groups_wall: Duration::ZERO,
            big_group_wall: None,
            peak_mib: f64::NAN,
        };
        for line in text.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields[..] {
                ["times", users, groups, big, peak] => {
                    loaded.peak_mib = peak.parse().unwrap();
                    loaded.users_wall = secs(users);
                    loaded.groups_wall = secs(groups);
                    loaded.big_group_wall = (big != "-").then(|| secs(big));
                }
                ["group", name] => loaded.groups.push(name.to_string()),
                ["user", i, id] => {
                    loaded.ids.insert(i.parse().unwrap(), id.to_string());
                }
                _ => panic!("{LOADED_FILE}: unexpected line `{line}`"),
            }
        }
        loaded
    }
}

/// Loads a tenant of `n` users into the database in `dir` in a child process (this bench
/// binary, told so by `SCIM_SCALE_LOAD_INTO`), so that the measuring process's memory is the
/// server's alone.
fn load_in_child(dir: &Path, n: usize, groups: usize, loaders: usize) -> Loaded {
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .env("SCIM_SCALE_LOAD_INTO", dir)
        .env("SCIM_SCALE_LOAD_USERS", n.to_string())
        .env("SCIM_SCALE_GROUPS", groups.to_string())
        .env("SCIM_SCALE_LOADERS", loaders.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "the loader process failed: {status}");
    Loaded::read(dir)
}

/// The loader process: loads the tenant into the database in `dir` and records what it loaded.
fn loader_main(dir: &Path) {
    let n = env_size("SCIM_SCALE_LOAD_USERS", 0);
    let groups = env_size("SCIM_SCALE_GROUPS", n / 1000);
    let loaders = env_size("SCIM_SCALE_LOADERS", 4).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let loaded = rt.block_on(load(&config(dir), n, groups, loaders));
    loaded.save(dir);
    println!(
        "loader process: peak RSS {:.0} MiB, database {:.0} MiB (file + WAL)",
        proc_status_mib("VmHWM"),
        database_mib(dir)
    );
}

/// Runs `count` jobs `0..count` from `loaders` concurrent tasks, printing progress.
async fn run_concurrently<T, F, Fut>(what: &str, count: usize, loaders: usize, job: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<T>> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let job = Arc::new(job);
    let started = Instant::now();
    let step = (count / 10).max(1);
    let tasks: Vec<_> = (0..loaders)
        .map(|_| {
            let (next, job, what) = (next.clone(), job.clone(), what.to_owned());
            tokio::spawn(async move {
                let mut kept = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        break;
                    }
                    kept.extend(job(i).await);
                    if (i + 1) % step == 0 {
                        let secs = started.elapsed().as_secs_f64();
                        println!(
                            "  {what}: {} of {count} after {secs:.1} s ({:.0}/s)",
                            i + 1,
                            (i + 1) as f64 / secs
                        );
                    }
                }
                kept
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("a loader panicked"));
    }
    all
}

/// Loads `n` users and the groups into the database of `config`, through `scim::ops::create`.
async fn load(config: &ServerConfig, n: usize, groups: usize, loaders: usize) -> Loaded {
    let engine = server::open_engine(config).await.unwrap();
    let backend = Arc::new(EngineBackend::new(engine.clone()));
    let ctx = Arc::new(Ctx::new(
        TenantId::new(TENANT),
        "http://scale.invalid/scim/v2",
    ));

    let started = Instant::now();
    let kept = {
        let (backend, ctx) = (backend.clone(), ctx.clone());
        run_concurrently("users", n, loaders, move |i| {
            let (backend, ctx) = (backend.clone(), ctx.clone());
            async move {
                let user = ops::create::<_, scim::kind::User>(&*backend, &ctx, user_body(i))
                    .await
                    .unwrap_or_else(|e| panic!("loading user {i}: {e:?}"));
                (i % KEEP_EVERY == 0).then_some((i, user.id))
            }
        })
        .await
    };
    let users_wall = started.elapsed();
    let ids: Arc<HashMap<usize, String>> = Arc::new(kept.into_iter().collect());
    println!(
        "loaded {n} users in {:.1} s = {:.0} users/s ({loaders} loaders)",
        users_wall.as_secs_f64(),
        n as f64 / users_wall.as_secs_f64()
    );

    // Group g holds the kept users of block g (GROUP_MEMBERS * KEEP_EVERY users wide).
    let started = Instant::now();
    let names = {
        let (backend, ctx, ids) = (backend.clone(), ctx.clone(), ids.clone());
        run_concurrently("groups", groups, loaders, move |g| {
            let (backend, ctx, ids) = (backend.clone(), ctx.clone(), ids.clone());
            async move {
                let first = (g * GROUP_MEMBERS * KEEP_EVERY) % n.max(1);
                let members: Vec<Value> = (0..GROUP_MEMBERS)
                    .filter_map(|k| ids.get(&(first + k * KEEP_EVERY)))
                    .map(|id| json!({"value": id}))
                    .collect();
                let name = group_name(g);
                let body = json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name,
                    "members": members
                });
                ops::create::<_, scim::kind::Group>(&*backend, &ctx, body)
                    .await
                    .unwrap_or_else(|e| panic!("loading group {g}: {e:?}"));
                Some(name)
            }
        })
        .await
    };
    let groups_wall = started.elapsed();
    println!(
        "loaded {groups} groups of {GROUP_MEMBERS} members in {:.1} s = {:.2} s per group",
        groups_wall.as_secs_f64(),
        groups_wall.as_secs_f64() / groups.max(1) as f64
    );

    let big_group_wall = if n >= BIG_GROUP_FROM {
        let started = Instant::now();
        let members: Vec<Value> = (0..BIG_GROUP_MEMBERS)
            .filter_map(|k| ids.get(&(k * KEEP_EVERY)))
            .map(|id| json!({"value": id}))
            .collect();
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "All Staff",
            "members": members
        });
        ops::create::<_, scim::kind::Group>(&*backend, &ctx, body)
            .await
            .unwrap_or_else(|e| panic!("loading the large group: {e:?}"));
        let wall = started.elapsed();
        println!(
            "loaded one group of {BIG_GROUP_MEMBERS} members in {:.1} s",
            wall.as_secs_f64()
        );
        Some(wall)
    } else {
        None
    };

    engine.store().close().await;
    let ids = Arc::try_unwrap(ids).unwrap_or_else(|ids| (*ids).clone());
    Loaded {
        ids,
        groups: names,
        users_wall,
        groups_wall,
        big_group_wall,
        peak_mib: f64::NAN,
    }
}

/// The server's configuration: one tenant with a bearer token and no targets, its database in
/// `dir`.
fn config(dir: &Path) -> ServerConfig {
    ServerConfig {
        server: ListenConfig {
            listen: "127.0.0.1:0".into(),
            ..ListenConfig::default()
        },
        database: DatabaseConfig {
            url: format!("sqlite:{}", dir.join("scale.db").display()),
        },
        runtime: RuntimeSection {
            cache_dir: Some(dir.join("cache")),
        },
        tenants: vec![TenantConfig {
            name: TENANT.into(),
            bearer: vec![BearerCredential {
                label: "bench".into(),
                token: format!("literal:{TOKEN}"),
            }],
            ..TenantConfig::default()
        }],
        ..ServerConfig::default()
    }
}

/// A `/proc/self/status` field (e.g. `VmRSS`) in MiB.
fn proc_status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// The size of the database file and its write-ahead log, in MiB.
fn database_mib(dir: &Path) -> f64 {
    ["scale.db", "scale.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len() as f64)
        .sum::<f64>()
        / (1024.0 * 1024.0)
}

/// The samples of one measured phase.
struct Phase {
    samples: Vec<Duration>,
    wall: Duration,
}

impl Phase {
    fn p50(&self) -> f64 {
        percentile(&self.samples, 0.50)
    }

    fn p99(&self) -> f64 {
        percentile(&self.samples, 0.99)
    }

    /// `p50 / p99` in ms.
    fn cell(&self) -> String {
        format!("{} / {}", ms(self.p50()), ms(self.p99()))
    }
}

/// Milliseconds with a precision that suits their size.
fn ms(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Runs `request(k)` for k = 0.. until `count` requests or `budget` of wall time have passed.
async fn phase<F, Fut>(name: &str, count: usize, budget: Duration, mut request: F) -> Phase
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Duration>,
{
    let started = Instant::now();
    let mut samples = Vec::with_capacity(count);
    while samples.len() < count.max(1) && (samples.is_empty() || started.elapsed() < budget) {
        samples.push(request(samples.len()).await);
    }
    samples.sort();
    let phase = Phase {
        samples,
        wall: started.elapsed(),
    };
    println!(
        "  {name}: {} requests in {:.1} s: p50 {} ms, p99 {} ms",
        phase.samples.len(),
        phase.wall.as_secs_f64(),
        ms(phase.p50()),
        ms(phase.p99())
    );
    phase
}

/// Sends `request` with the bearer token; checks the status and returns the time and the body.
async fn send(request: reqwest::RequestBuilder, expected: u16) -> (Duration, Value) {
    let started = Instant::now();
    let response = request.bearer_auth(TOKEN).send().await.unwrap();
    let status = response.status();
    let body = response.bytes().await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(
        status.as_u16(),
        expected,
        "{}",
        String::from_utf8_lossy(&body)
    );
    (
        elapsed,
        serde_json::from_slice(&body).unwrap_or(Value::Null),
    )
}

/// A filtered user search expected to find exactly one user; returns its time.
async fn search_one(http: &reqwest::Client, base: &str, filter: String) -> Duration {
    let request = http
        .get(format!("{base}/scim/v2/Users"))
        .query(&[("filter", filter.as_str())]);
    let (elapsed, body) = send(request, 200).await;
    assert_eq!(body["totalResults"], 1, "{filter}: {body}");
    elapsed
}

/// The figures of one size.
struct Row {
    n: usize,
    groups: usize,
    loaded: Loaded,
    rss_mib: f64,
    db_mib: f64,
    phases: Vec<Phase>,
    peak_mib: f64,
}

/// The measured phases, in table order.
const PHASES: [&str; 8] = [
    "userName eq",
    "emails.value eq",
    "externalId eq",
    "GET /Users/{id}",
    "page of 100",
    "Groups displayName eq (p50)",
    "POST /Users",
    "PATCH /Users/{id}",
];

async fn run_size(n: usize, loaders: usize, reads: usize, budget: Duration) -> Row {
    println!("== {n} users ==");
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let groups = env_size("SCIM_SCALE_GROUPS", n / 1000).max(1);
    let loaded = load_in_child(dir.path(), n, groups, loaders);

    let server = server::start(config).await.unwrap();
    let base = server.base_url();
    let rss_mib = proc_status_mib("VmRSS");
    let db_mib = database_mib(dir.path());
    println!("server started: RSS {rss_mib:.0} MiB, database {db_mib:.0} MiB (file + WAL)");
    let http = reqwest::Client::new();
    let kept: Vec<&String> = loaded.ids.values().collect();
    let mut rng = rand::thread_rng();
    let mut random_user = move || rng.gen_range(0..n);
    let mut rng = rand::thread_rng();
    let mut random_kept = move || kept[rng.gen_range(0..kept.len())].clone();

    let mut phases = Vec::new();
    let searches: [fn(usize) -> String; 3] = [
        |i| format!("userName eq \"{}\"", user_name(i)),
        |i| format!("emails.value eq \"{}\"", work_email(i)),
        |i| format!("externalId eq \"{}\"", external_id(i)),
    ];
    for (name, filter) in PHASES.iter().zip(searches) {
        phases.push(
            phase(name, reads, budget, |_| {
                search_one(&http, &base, filter(random_user()))
            })
            .await,
        );
    }
    phases.push(
        phase(PHASES[3], reads, budget, |_| {
            let request = http.get(format!("{base}/scim/v2/Users/{}", random_kept()));
            async move { send(request, 200).await.0 }
        })
        .await,
    );
    let page = 100.min(n);
    let mut rng = rand::thread_rng();
    phases.push(
        phase(PHASES[4], (reads / 5).max(1), budget, |_| {
            let start = rng.gen_range(1..=n - page + 1).to_string();
            let request = http
                .get(format!("{base}/scim/v2/Users"))
                .query(&[("startIndex", start.as_str()), ("count", "100")]);
            async move {
                let (elapsed, body) = send(request, 200).await;
                let returned = body["Resources"].as_array().map_or(0, Vec::len);
                assert_eq!(returned, page, "a page of {page} users");
                elapsed
            }
        })
        .await,
    );
    let mut rng = rand::thread_rng();
    let group_names = &loaded.groups;
    phases.push(
        phase(PHASES[5], (reads / 5).max(1), budget, |_| {
            let name = group_names
                .get(rng.gen_range(0..group_names.len().max(1)))
                .cloned()
                .unwrap_or_else(|| "All Staff".into());
            let filter = format!("displayName eq \"{name}\"");
            let request = http.get(format!("{base}/scim/v2/Groups")).query(&[
                ("filter", filter.as_str()),
                ("excludedAttributes", "members"),
            ]);
            async move {
                let (elapsed, body) = send(request, 200).await;
                assert_eq!(body["totalResults"], 1, "{filter}: {body}");
                assert!(body["Resources"][0].get("members").is_none(), "{body}");
                elapsed
            }
        })
        .await,
    );
    phases.push(
        phase(PHASES[6], 300, budget, |k| {
            let request = http
                .post(format!("{base}/scim/v2/Users"))
                .header("Content-Type", "application/scim+json")
                .body(user_body(n + k).to_string());
            async move { send(request, 201).await.0 }
        })
        .await,
    );
    phases.push(
        phase(PHASES[7], 300, budget, |k| {
            let title = format!("Title {k}");
            let active = k % 2 == 0;
            // Okta sends one operation without a path; Entra ID one per attribute, with a
            // capitalised op and the boolean as a string.
            let body = if k % 2 == 0 {
                json!({"schemas": [PATCH_URN], "Operations": [
                    {"op": "replace", "value": {"title": title, "active": active}}
                ]})
            } else {
                json!({"schemas": [PATCH_URN], "Operations": [
                    {"op": "Replace", "path": "title", "value": title},
                    {"op": "Replace", "path": "active", "value": if active { "True" } else { "False" }}
                ]})
            };
            let request = http
                .patch(format!("{base}/scim/v2/Users/{}", random_kept()))
                .header("Content-Type", "application/scim+json")
                .body(body.to_string());
            async move {
                let (elapsed, body) = send(request, 200).await;
                assert_eq!(body["title"], title, "{body}");
                assert_eq!(body["active"], active, "{body}");
                elapsed
            }
        })
        .await,
    );
    let peak_mib = proc_status_mib("VmHWM");
    println!("server process: peak RSS {peak_mib:.0} MiB");
    server.shutdown().await.unwrap();
    Row {
        n,
        groups,
        loaded,
        rss_mib,
        db_mib,
        phases,
        peak_mib,
    }
}

impl Row {
    /// The row of the main table.
    fn main_line(&self) -> String {
        let loaded = &self.loaded;
        let groups = match loaded.big_group_wall {
            Some(big) => format!(
                "{:.1} ({} × {GROUP_MEMBERS}) + {:.1} (1 × {BIG_GROUP_MEMBERS})",
                loaded.groups_wall.as_secs_f64(),
                self.groups,
                big.as_secs_f64()
            ),
            None => format!(
                "{:.1} ({} × {GROUP_MEMBERS})",
                loaded.groups_wall.as_secs_f64(),
                self.groups
            ),
        };
        let cells: Vec<String> = self
            .phases
            .iter()
            .zip(PHASES)
            .map(|(p, name)| {
                if name.ends_with("(p50)") {
                    ms(p.p50())
                } else {
                    p.cell()
                }
            })
            .collect();
        format!(
            "| {} | {:.0} | {groups} | {:.0} | {:.0} | {} |",
            self.n,
            self.n as f64 / loaded.users_wall.as_secs_f64(),
            self.rss_mib,
            self.db_mib,
            cells.join(" | ")
        )
    }

    /// The row of the table of request counts, phase times and peak memory.
    fn counts_line(&self) -> String {
        let cells: Vec<String> = self
            .phases
            .iter()
            .map(|p| format!("{} ({:.0})", p.samples.len(), p.wall.as_secs_f64()))
            .collect();
        format!(
            "| {} | {} | {:.0} | {:.0} |",
            self.n,
            cells.join(" | "),
            self.peak_mib,
            self.loaded.peak_mib
        )
    }
}

/// Prints both tables from the rows (main line, counts line) of each size.
fn print_tables(rows: &[(String, String)]) {
    println!();
    println!(
        "| users | load (users/s) | groups load (s) | RSS, server started (MiB) | DB + WAL (MiB) | {} |",
        PHASES
            .iter()
            .map(|p| if p.ends_with("(p50)") {
                format!("{p} ms")
            } else {
                format!("{p} p50 / p99 ms")
            })
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|{}", "---:|".repeat(5 + PHASES.len()));
    for (main, _) in rows {
        println!("{main}");
    }
    println!();
    println!(
        "Requests measured per phase (phase wall time in s), the server's peak RSS and the \
         loader's:"
    );
    println!();
    println!(
        "| users | {} | server peak RSS (MiB) | loader peak RSS (MiB) |",
        PHASES
            .iter()
            .map(|p| p.trim_end_matches(" (p50)"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|{}", "---:|".repeat(3 + PHASES.len()));
    for (_, counts) in rows {
        println!("{counts}");
    }
}

/// Measures one size in a child process (this binary, told so by `SCIM_SCALE_MEASURE`), so
/// that each size's server starts in a fresh process; returns its two table rows.
fn measure_in_child(n: usize, rows_dir: &Path) -> (String, String) {
    let rows = rows_dir.join(format!("rows-{n}.md"));
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new(exe)
        .env("SCIM_SCALE_MEASURE", n.to_string())
        .env("SCIM_SCALE_ROWS", &rows)
        .status()
        .unwrap();
    assert!(status.success(), "measuring {n} users failed: {status}");
    let text = std::fs::read_to_string(&rows).unwrap();
    let mut lines = text.lines().map(str::to_owned);
    let main = lines.next().expect("the measuring process wrote no rows");
    let counts = lines.next().expect("the measuring process wrote one row");
    (main, counts)
}

/// The measuring process: loads and measures `n` users and writes its rows to `rows`.
fn measure_main(n: usize, rows: &Path) {
    let loaders = env_size("SCIM_SCALE_LOADERS", 4).max(1);
    let reads = env_size("SCIM_SCALE_REQUESTS", 500).max(1);
    let budget = Duration::from_secs(env_size("SCIM_SCALE_PHASE_SECS", 60) as u64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let row = rt.block_on(run_size(n, loaders, reads, budget));
    std::fs::write(
        rows,
        format!("{}\n{}\n", row.main_line(), row.counts_line()),
    )
    .unwrap();
}

fn main() {
    if let Some(dir) = std::env::var_os("SCIM_SCALE_LOAD_INTO") {
        loader_main(Path::new(&dir));
        return;
    }
    if let (Some(n), Some(rows)) = (
        std::env::var("SCIM_SCALE_MEASURE").ok(),
        std::env::var_os("SCIM_SCALE_ROWS"),
    ) {
        measure_main(n.parse().unwrap(), Path::new(&rows));
        return;
    }
    let sizes: Vec<usize> = std::env::var("SCIM_SCALE_SIZES")
        .unwrap_or_else(|_| "10000,100000".into())
        .split(',')
        .map(|s| {
            s.trim().parse().unwrap_or_else(|_| {
                panic!("SCIM_SCALE_SIZES: `{s}` is not a number of users (e.g. 10000,100000)")
            })
        })
        .collect();
    assert!(
        sizes.iter().all(|&n| n >= 200),
        "SCIM_SCALE_SIZES: every size must be at least 200 users"
    );
    println!(
        "scim_scale: {} build, {} cores, sizes {sizes:?}, {} loaders, {} reads per phase, \
         phases capped at {} s",
        if cfg!(debug_assertions) {
            "debug (unoptimized)"
        } else {
            "optimized"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        env_size("SCIM_SCALE_LOADERS", 4).max(1),
        env_size("SCIM_SCALE_REQUESTS", 500).max(1),
        env_size("SCIM_SCALE_PHASE_SECS", 60),
    );
    let started = Instant::now();
    let rows_dir = tempfile::tempdir().unwrap();
    let rows: Vec<_> = sizes
        .iter()
        .map(|&n| measure_in_child(n, rows_dir.path()))
        .collect();
    print_tables(&rows);
    println!();
    println!("whole run: {:.0} s", started.elapsed().as_secs_f64());
}
