//! Two replicas on one database: two `Store` handles (two pools, as two server processes would
//! have) claim from the same outbox at once. No job is handed out twice, every job is done, each
//! target's concurrency cap holds across both, and an entity's jobs still run one at a time in
//! order. Runs on SQLite, and on PostgreSQL when `PROVISIONER_TEST_POSTGRES_URL` is set (where
//! claims lock rows `FOR UPDATE SKIP LOCKED`).

mod engine_support;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use engine_support::*;
use provisioner_engine::store::{now_ms, ClaimLimits, JobFilter, JobState, JobUpdate, Store};
use provisioner_engine::{Engine, EngineError, UserChange};

/// Jobs per target: a create per user, and an update for every third user (queued behind it).
const USERS_PER_TARGET: usize = 60;
const CAP: i64 = 3;

/// Claims and finishes jobs until the outbox is empty; returns the ids this replica claimed.
async fn replica(
    store: Store,
    owner: &'static str,
    running: Arc<Mutex<HashMap<String, i64>>>,
    earlier: Arc<BTreeMap<i64, Option<i64>>>,
) -> Vec<i64> {
    let limits = ClaimLimits {
        target_concurrency: CAP,
        ..ClaimLimits::default()
    };
    let mut claimed = Vec::new();
    loop {
        let claim = store
            .claim_fair(owner, now_ms(), 60_000, 5, &limits)
            .await
            .unwrap();
        if claim.jobs.is_empty() {
            if store.outstanding_jobs().await.unwrap() == 0 {
                return claimed;
            }
            tokio::task::yield_now().await;
            continue;
        }
        for job in &claim.jobs {
            let mut running = running.lock().unwrap();
            let n = running.entry(job.target.clone()).or_default();
            *n += 1;
            assert!(
                *n <= CAP,
                "target {} runs {n} jobs, over its cap",
                job.target
            );
        }
        for job in &claim.jobs {
            // The entity's earlier job finished before this one was handed out.
            if let Some(Some(before)) = earlier.get(&job.id) {
                let before = store.job(*before).await.unwrap().unwrap();
                assert_eq!(before.state, JobState::Done, "job {} ran early", job.id);
            }
        }
        tokio::task::yield_now().await;
        for job in claim.jobs {
            *running.lock().unwrap().get_mut(&job.target).unwrap() -= 1;
            let finish = JobUpdate::Finish {
                state: JobState::Done,
                remote_id: None,
                error: None,
                attempts: 1,
            };
            assert!(store.update_job(job.id, owner, &finish).await.unwrap());
            claimed.push(job.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_database_claim_every_job_exactly_once() {
    let (first, _dir, url) = store_with_url().await;
    let engine = Engine::new(first.clone());
    for (tenant, target) in [("a", "t1"), ("a", "t2"), ("b", "t3")] {
        add_target_for(&first, tenant, target, fast_settings()).await;
    }
    for tenant in ["a", "b"] {
        for i in 0..USERS_PER_TARGET {
            let id = format!("{tenant}-{i}");
            create_in(&engine, tenant, user(&id, "L", &[])).await;
            if i % 3 == 0 {
                engine
                    .apply_user_change(tenant, UserChange::Update(user(&id, "M", &[])))
                    .await
                    .unwrap();
            }
        }
    }
    let filter = JobFilter {
        limit: Some(10_000),
        ..JobFilter::default()
    };
    let jobs = first.list_jobs(&filter).await.unwrap();
    let expected = 3 * (USERS_PER_TARGET + USERS_PER_TARGET / 3);
    assert_eq!(jobs.len(), expected);
    // Each job's predecessor of the same (tenant, target, entity), if any.
    let mut last: HashMap<(String, String, String), i64> = HashMap::new();
    let mut earlier = BTreeMap::new();
    let mut sorted = jobs.clone();
    sorted.sort_by_key(|job| job.id);
    for job in &sorted {
        let key = (
            job.tenant.clone(),
            job.target.clone(),
            job.entity_id.clone(),
        );
        earlier.insert(job.id, last.insert(key, job.id));
    }

    // The second replica: its own pool on the same database.
    let second = Store::open(&url).await.unwrap();
    let running = Arc::new(Mutex::new(HashMap::new()));
    let earlier = Arc::new(earlier);
    let a = tokio::spawn(replica(
        first.clone(),
        "replica-a",
        running.clone(),
        earlier.clone(),
    ));
    let b = tokio::spawn(replica(second, "replica-b", running, earlier));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());

    let mut all: Vec<i64> = a.iter().chain(&b).copied().collect();
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a job was claimed twice");
    let mut ids: Vec<i64> = jobs.iter().map(|job| job.id).collect();
    ids.sort();
    assert_eq!(all, ids, "every job was claimed");
    let states = first.count_jobs(None).await.unwrap();
    assert_eq!(states, vec![(JobState::Done, expected as i64)]);
    assert!(!a.is_empty() && !b.is_empty(), "both replicas claimed work");
}

/// Two replicas (engines on their own pools) of one database holding user `u`; the first
/// replica's store, to read from, and the database's directory guard.
async fn two_replicas_with_one_user() -> (Store, tempfile::TempDir, Engine, Engine) {
    let (first, dir, url) = store_with_url().await;
    let second = Store::open(&url).await.unwrap();
    let (a, b) = (Engine::new(first.clone()), Engine::new(second));
    create(&a, user("u", "L", &[])).await;
    (first, dir, a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_of_one_version_let_exactly_one_win() {
    let (first, _dir, a, b) = two_replicas_with_one_user().await;
    // Both replicas update version 1 at once, many times over: each round, exactly one wins.
    for round in 0..20 {
        let version = first.user(TENANT, "u").await.unwrap().unwrap().version;
        let change = |last: &str| UserChange::Update(user("u", last, &[]));
        let (x, y) = tokio::join!(
            a.apply_user_change_at(TENANT, change(&format!("A{round}")), Some(version)),
            b.apply_user_change_at(TENANT, change(&format!("B{round}")), Some(version)),
        );
        let won = [&x, &y].iter().filter(|r| r.is_ok()).count();
        assert_eq!(won, 1, "round {round}: {x:?} / {y:?}");
        for result in [x, y] {
            if let Err(error) = result {
                assert!(
                    matches!(error, EngineError::VersionMismatch { .. }),
                    "{error}"
                );
            }
        }
        let now = first.user(TENANT, "u").await.unwrap().unwrap().version;
        assert_eq!(now, version + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unconditional_writes_both_apply_one_after_the_other() {
    let (first, _dir, a, b) = two_replicas_with_one_user().await;
    // Two replicas update the same user with no precondition (a SCIM PUT without If-Match): both
    // succeed, each on the version the other left, and no write is lost to a false conflict.
    for round in 0..20 {
        let version = first.user(TENANT, "u").await.unwrap().unwrap().version;
        let change = |last: &str| UserChange::Update(user("u", last, &[]));
        let (x, y) = tokio::join!(
            a.apply_user_change_at(TENANT, change(&format!("A{round}")), None),
            b.apply_user_change_at(TENANT, change(&format!("B{round}")), None),
        );
        let (x, y) = (x.unwrap(), y.unwrap());
        let mut versions = [x.version, y.version];
        versions.sort();
        assert_eq!(versions, [version + 1, version + 2], "round {round}");
        let now = first.user(TENANT, "u").await.unwrap().unwrap().version;
        assert_eq!(now, version + 2);
    }
}
