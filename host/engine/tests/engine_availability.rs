//! Riding out outages: the circuit breaker opens on a target that looks down, probes it with one
//! job at a time after a growing cooldown, and releases workers gradually once a probe gets
//! through; refused credentials pause the same way. The outages last simulated minutes: the
//! dispatcher runs on a clock the test moves forward.

mod engine_support;

use std::sync::Arc;
use std::time::Duration;

use engine_support::*;
use provisioner_engine::policy::{circuit_cooldown_ms, CIRCUIT_FAILURES, RECOVERY_STEP_MS};
use provisioner_engine::store::{
    now_ms, ClaimLimits, JobFilter, JobState, JobUpdate, OutboundSettings, Store, StoreResult,
    TargetRecord,
};
use provisioner_engine::{CallFailure, Clock, DispatchStats, Dispatcher, DispatcherConfig, Engine};

/// test_config's cap on one target's concurrent calls.
const TARGET_CAP: usize = 4;

async fn target(store: &Store) -> TargetRecord {
    store.target(TENANT, "crm").await.unwrap().unwrap()
}

/// Waits (in real time, bounded) until the target satisfies `condition`.
async fn wait_for(store: &Store, what: &str, condition: impl Fn(&TargetRecord) -> bool) {
    for _ in 0..4_000 {
        if condition(&target(store).await) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("the target never got {what}: {:?}", target(store).await);
}

/// Waits (in real time, bounded) until no job runs.
async fn wait_idle(store: &Store) {
    for _ in 0..4_000 {
        let counts = store.count_jobs(None).await.unwrap();
        if !counts.iter().any(|(state, _)| *state == JobState::Running) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("jobs kept running");
}

/// Moves the clock to just past the target's pause.
async fn end_pause(store: &Store, clock: &Clock) {
    let until = target(store).await.paused_until.expect("a timed pause");
    clock.advance((until - clock.now()).max(0) + 1);
}

/// A target `crm` that fails every call with `failure`, `users` users queued for it, and a
/// dispatcher running on a clock the test moves.
struct Down {
    store: Store,
    _dir: tempfile::TempDir,
    engine: Engine,
    fake: Arc<FakeTarget>,
    jobs: Vec<i64>,
    clock: Clock,
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<StoreResult<DispatchStats>>,
}

async fn down(settings: OutboundSettings, failure: CallFailure, users: usize) -> Down {
    let (store, _dir) = store().await;
    add_target(&store, "crm", settings).await;
    let engine = Engine::new(store.clone());
    let fake = FakeTarget::new(true);
    fake.state.lock().unwrap().always = Some(failure);
    let mut jobs = Vec::new();
    for i in 0..users {
        jobs.extend(create(&engine, user(&format!("u{i:03}"), "L", &[])).await);
    }
    let clock = Clock::system();
    let config = DispatcherConfig {
        clock: clock.clone(),
        // Leases outlast any stall of a loaded machine: a lease that expired under a call in
        // flight would have that job claimed and called again, a second call the outage's
        // count of probes does not expect (these tests are about the circuit, not leases).
        lease_ms: 60_000,
        ..test_config()
    };
    let source = FakeSource::with(&[("crm", fake.clone())]);
    let (stop, running) = start(Dispatcher::new(&engine, source, config));
    Down {
        store,
        _dir,
        engine,
        fake,
        jobs,
        clock,
        stop,
        running,
    }
}

/// What happened while a target was down.
struct Outage {
    /// Calls before the circuit opened (and those in flight then).
    burst: usize,
    /// Probes sent while the target was down.
    probes: usize,
    /// Calls made while the circuit was open (probes included), as the fake recorded them.
    calls_while_open: Vec<String>,
}

/// 200 users are created while the target answers 503 to everything; it stays down for
/// `down_ms` of simulated time, then comes back. Checks that every user arrives exactly once,
/// with no dead letter and no attempt spent by the outage.
async fn ride_out(down_ms: i64) -> Outage {
    let Down {
        store,
        _dir,
        engine,
        fake,
        jobs,
        clock,
        stop,
        running,
    } = down(fast_settings(), transient("HTTP_503", true), 200).await;

    wait_for(&store, "its circuit opened", |t| t.paused).await;
    wait_idle(&store).await;
    let opened = target(&store).await;
    assert_eq!(opened.circuit_opens, 1);
    assert!(
        opened
            .pause_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("circuit open") && r.contains("HTTP_503")),
        "{opened:?}"
    );
    let down_since = opened.paused_until.unwrap() - circuit_cooldown_ms(1);
    let burst = fake.calls().len();

    // While the target is down, each cooldown ends in one probe, which fails and opens the
    // circuit again for twice as long.
    let mut probes = 0;
    loop {
        let now = target(&store).await;
        if now.paused_until.unwrap() - down_since > down_ms {
            break;
        }
        end_pause(&store, &clock).await;
        let opens = now.circuit_opens + 1;
        wait_for(&store, "a failed probe", |t| {
            t.paused && t.circuit_opens == opens
        })
        .await;
        wait_idle(&store).await;
        probes += 1;
    }
    let calls_while_open = fake.calls()[burst..].to_vec();

    // The target is back: the next probe gets through and the queue drains.
    fake.state.lock().unwrap().always = None;
    end_pause(&store, &clock).await;
    let outcomes = engine
        .wait_for_jobs(&jobs, Duration::from_secs(120))
        .await
        .unwrap();
    let _ = stop.send(());
    let stats = running.await.unwrap().unwrap();

    assert!(
        outcomes.iter().all(|o| o.state == JobState::Done),
        "every job done: {:?}",
        outcomes.iter().find(|o| o.state != JobState::Done)
    );
    assert_eq!(stats.dead, 0);
    for i in 0..200 {
        let name = format!("u{i:03}@example.com");
        assert_eq!(fake.named(&name).len(), 1, "{name} exactly once");
    }
    let filter = JobFilter {
        limit: Some(1_000),
        ..JobFilter::default()
    };
    let most = store
        .list_jobs(&filter)
        .await
        .unwrap()
        .iter()
        .map(|job| job.attempts)
        .max();
    assert!(
        most <= Some(1),
        "only calls before the circuit opened spend attempts: {most:?}"
    );
    let closed = target(&store).await;
    assert!(!closed.paused && !closed.probing, "{closed:?}");
    assert_eq!(closed.circuit_opens, 0);
    assert_eq!(closed.pause_reason, None);
    Outage {
        burst,
        probes,
        calls_while_open,
    }
}

#[tokio::test]
async fn a_target_down_for_a_minute_gets_three_probes_and_every_user_once() {
    let outage = ride_out(60_000).await;
    assert!(
        outage.burst <= CIRCUIT_FAILURES as usize + TARGET_CAP,
        "{} calls before the circuit opened",
        outage.burst
    );
    // Cooldowns of 5, 10 and 20 s end within the minute; the next (40 s) after it.
    assert_eq!(outage.probes, 3);
    assert_eq!(
        outage.calls_while_open.len(),
        outage.probes,
        "probes only: {:?}",
        outage.calls_while_open
    );
}

#[tokio::test]
async fn a_target_down_for_ten_minutes_gets_six_probes_and_every_user_once() {
    let outage = ride_out(600_000).await;
    assert!(outage.burst <= CIRCUIT_FAILURES as usize + TARGET_CAP);
    // 5 + 10 + 20 + 40 + 80 + 160 s = 315 s; the next cooldown (300 s, the cap) ends at 615 s.
    assert_eq!(outage.probes, 6);
    assert_eq!(
        outage.calls_while_open.len(),
        outage.probes,
        "probes only: {:?}",
        outage.calls_while_open
    );
}

#[tokio::test]
async fn refused_credentials_pause_with_the_reason_then_one_job_probes() {
    let settings = OutboundSettings {
        backoff_cap_ms: 60_000,
        ..fast_settings()
    };
    let Down {
        store,
        _dir,
        engine,
        fake,
        jobs,
        clock,
        stop,
        running,
    } = down(settings, auth_failed(), 20).await;

    wait_for(&store, "paused", |t| t.paused).await;
    wait_idle(&store).await;
    let paused = target(&store).await;
    let reason = paused.pause_reason.clone().unwrap_or_default();
    assert!(reason.contains("authentication failed"), "{reason}");
    assert!(reason.contains("invalid client credentials"), "{reason}");
    let before = fake.calls().len();
    assert!(before <= TARGET_CAP, "{before} calls before the pause");

    // The pause ends: one job probes, is refused, and the target pauses again.
    end_pause(&store, &clock).await;
    wait_for(&store, "paused again", |t| {
        t.paused && t.paused_until > paused.paused_until
    })
    .await;
    wait_idle(&store).await;
    assert_eq!(fake.calls().len(), before + 1, "one probe");

    // Credentials fixed: the next probe gets through and every user arrives once.
    fake.state.lock().unwrap().always = None;
    end_pause(&store, &clock).await;
    let outcomes = engine
        .wait_for_jobs(&jobs, Duration::from_secs(60))
        .await
        .unwrap();
    let _ = stop.send(());
    running.await.unwrap().unwrap();
    assert!(outcomes.iter().all(|o| o.state == JobState::Done));
    for i in 0..20 {
        assert_eq!(fake.named(&format!("u{i:03}@example.com")).len(), 1);
    }
    let filter = JobFilter {
        limit: Some(100),
        ..JobFilter::default()
    };
    let jobs = store.list_jobs(&filter).await.unwrap();
    assert!(jobs.iter().all(|job| job.attempts == 0), "{jobs:?}");
}

/// Claims at `now` with the target cap `cap`; returns how many jobs it handed out.
async fn claim_at(store: &Store, now: i64, cap: i64) -> usize {
    let limits = ClaimLimits {
        target_concurrency: cap,
        ..ClaimLimits::default()
    };
    let claim = store.claim_fair("w", now, 600_000, 16, &limits).await;
    claim.unwrap().jobs.len()
}

#[tokio::test]
async fn after_a_timed_pause_one_job_probes_then_concurrency_doubles_per_step_up_to_the_cap() {
    let (store, _dir) = store().await;
    add_target(&store, "crm", fast_settings()).await;
    let engine = Engine::new(store.clone());
    for i in 0..30 {
        create(&engine, user(&format!("u{i:02}"), "L", &[])).await;
    }
    let t0 = now_ms() + 1_000;
    store
        .pause_target(TENANT, "crm", "quota exhausted", Some(t0))
        .await
        .unwrap();
    assert_eq!(claim_at(&store, t0 - 1, 0).await, 0, "paused");

    // The pause ends: one probe at a time, whatever the cap.
    assert_eq!(claim_at(&store, t0, 0).await, 1);
    let probing = target(&store).await;
    assert!(probing.probing && !probing.paused, "{probing:?}");
    assert_eq!(probing.pause_reason.as_deref(), Some("quota exhausted"));
    assert_eq!(claim_at(&store, t0 + 5_000, 0).await, 0, "the probe runs");

    // The probe gets through: concurrency 1, 2, 4, 8, then the cap (6).
    let running: Vec<i64> = sqlx::query_scalar("SELECT id FROM jobs WHERE state = 'running'")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let done = JobUpdate::Finish {
        state: JobState::Done,
        remote_id: None,
        error: None,
        attempts: 0,
    };
    assert!(store.update_job(running[0], "w", &done).await.unwrap());
    let t1 = t0 + 10_000;
    assert_eq!(claim_at(&store, t1, 6).await, 1);
    let recovered = target(&store).await;
    assert!(!recovered.probing, "{recovered:?}");
    assert_eq!(recovered.recovered_at, Some(t1));
    assert_eq!(recovered.pause_reason, None);
    assert_eq!(claim_at(&store, t1 + RECOVERY_STEP_MS - 1, 6).await, 0);
    assert_eq!(claim_at(&store, t1 + RECOVERY_STEP_MS, 6).await, 1);
    assert_eq!(claim_at(&store, t1 + 2 * RECOVERY_STEP_MS, 6).await, 2);
    assert_eq!(
        claim_at(&store, t1 + 3 * RECOVERY_STEP_MS, 6).await,
        2,
        "cap"
    );

    // An operator's resume lifts everything at once.
    store
        .pause_target(TENANT, "crm", "operator", Some(t1 + 4 * RECOVERY_STEP_MS))
        .await
        .unwrap();
    engine.resume_target(TENANT, "crm").await.unwrap();
    let resumed = target(&store).await;
    assert!(!resumed.paused && !resumed.probing && resumed.recovered_at.is_none());
    assert_eq!(claim_at(&store, t1 + 5 * RECOVERY_STEP_MS, 0).await, 16);
}
