//! Batch dispatch end to end: a target whose connector takes several changes per call gets its
//! jobs in `provision-batch` calls, and every job ends exactly as it would alone (results,
//! dead letters, adopted conflicts, unknown outcomes resolved by lookup, per-entity order).

mod engine_support;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use engine_support::*;
use futures::future::BoxFuture;
use provisioner_contract::{Change, LookupKey, Operation, ProvisionOutcome, RemoteObject};
use provisioner_engine::store::{now_ms, ClaimLimits, JobRecord, JobState, Store};
use provisioner_engine::{CallFailure, CallResult, Engine, TargetConnector, UserChange};
use tokio::sync::oneshot;

/// One connector call as the batching fake saw it.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    /// A `provision-batch` call, with each change as `<operation> <name>`.
    Batch(Vec<String>),
    /// A single `provision` call.
    Single(String),
}

/// A fake target that takes up to `size` changes per call, recording every call; changes are
/// applied by the shared [`FakeTarget`]. Faults are scripted per user name, or for a whole
/// batch call.
struct BatchingTarget {
    fake: Arc<FakeTarget>,
    size: usize,
    seen: Mutex<Vec<Seen>>,
    /// The next change of this user fails with this (applied first when the flag is set).
    by_name: Mutex<HashMap<String, (CallFailure, bool)>>,
    /// The next batch call fails as a whole with this (every change applied first when the
    /// flag is set: the answer is lost, not the writes).
    whole_call: Mutex<Option<(CallFailure, bool)>>,
    /// The next batch call waits here.
    gate: Mutex<Option<Gate>>,
}

fn described(change: &Change) -> String {
    let operation = match change.operation {
        Operation::Create => "create",
        Operation::Update => "update",
        Operation::Delete => "delete",
    };
    format!("{operation} {}", change.entity.name())
}

/// Holds the first batch call until the test lets it go.
struct Gate {
    entered: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
}

impl BatchingTarget {
    fn new(size: usize) -> Arc<Self> {
        Arc::new(Self {
            fake: FakeTarget::new(true),
            size,
            seen: Mutex::default(),
            by_name: Mutex::default(),
            whole_call: Mutex::default(),
            gate: Mutex::default(),
        })
    }

    fn fail_next(&self, name: &str, failure: CallFailure, applied: bool) {
        self.by_name
            .lock()
            .unwrap()
            .insert(name.to_owned(), (failure, applied));
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn batch_sizes(&self) -> Vec<usize> {
        let mut sizes: Vec<usize> = self
            .seen()
            .iter()
            .filter_map(|seen| match seen {
                Seen::Batch(changes) => Some(changes.len()),
                Seen::Single(_) => None,
            })
            .collect();
        sizes.sort_unstable();
        sizes
    }

    /// Applies one change, or its scripted fault.
    async fn apply(&self, change: Change) -> CallResult<ProvisionOutcome> {
        let fault = self.by_name.lock().unwrap().remove(change.entity.name());
        match fault {
            Some((failure, applied)) => {
                if applied {
                    let _ = self.fake.provision(change).await;
                }
                Err(failure)
            }
            None => self.fake.provision(change).await,
        }
    }
}

impl TargetConnector for BatchingTarget {
    fn provision(&self, change: Change) -> BoxFuture<'_, CallResult<ProvisionOutcome>> {
        Box::pin(async move {
            self.seen
                .lock()
                .unwrap()
                .push(Seen::Single(described(&change)));
            self.apply(change).await
        })
    }

    fn lookup(&self, key: LookupKey) -> BoxFuture<'_, CallResult<Option<RemoteObject>>> {
        self.fake.lookup(key)
    }

    fn batch_size(&self) -> usize {
        self.size
    }

    fn provision_batch(
        &self,
        changes: Vec<Change>,
    ) -> BoxFuture<'_, CallResult<Vec<CallResult<ProvisionOutcome>>>> {
        Box::pin(async move {
            assert!(changes.len() <= self.size, "a batch over the batch size");
            let mut names: Vec<&str> = changes.iter().map(|c| c.entity.name()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), changes.len(), "one entity twice in a batch");
            let gate = self.gate.lock().unwrap().take();
            if let Some(gate) = gate {
                let _ = gate.entered.send(());
                let _ = gate.release.await;
            }
            self.seen
                .lock()
                .unwrap()
                .push(Seen::Batch(changes.iter().map(described).collect()));
            let whole = self.whole_call.lock().unwrap().take();
            if let Some((failure, applied)) = whole {
                if applied {
                    for change in changes {
                        let _ = self.fake.provision(change).await;
                    }
                }
                return Err(failure);
            }
            let mut results = Vec::with_capacity(changes.len());
            for change in changes {
                results.push(self.apply(change).await);
            }
            Ok(results)
        })
    }
}

/// A store with one target `batched` and an engine over it.
async fn setup() -> (Store, Engine, tempfile::TempDir) {
    let (store, dir) = store().await;
    add_target(&store, "batched", fast_settings()).await;
    let engine = Engine::new(store.clone());
    (store, engine, dir)
}

async fn run(engine: &Engine, target: &Arc<BatchingTarget>) {
    let source = FakeSource::of(vec![(
        "batched",
        target.clone() as Arc<dyn TargetConnector>,
    )]);
    let stats = dispatcher(engine, source).run_until_idle().await.unwrap();
    assert_eq!(stats.errors, 0, "{stats:?}");
}

async fn jobs(store: &Store, ids: &[i64]) -> Vec<JobRecord> {
    store.jobs_by_id(ids).await.unwrap()
}

/// A job's recorded attempts, each as `<call> <outcome>`.
async fn attempts(store: &Store, job: i64) -> Vec<String> {
    let attempts = store.attempts_for_job(job).await.unwrap();
    attempts
        .iter()
        .map(|a| format!("{} {}", a.call, a.outcome))
        .collect()
}

#[tokio::test]
async fn creates_go_out_in_batches_of_the_targets_size_and_all_end_done_with_their_ids() {
    let (store, engine, _dir) = setup().await;
    let mut ids = Vec::new();
    for i in 0..450 {
        ids.extend(create(&engine, user(&format!("u{i:03}"), "L", &[])).await);
    }
    let target = BatchingTarget::new(200);
    run(&engine, &target).await;

    assert_eq!(target.batch_sizes(), [50, 200, 200], "{:?}", target.seen());
    assert_eq!(target.seen().len(), 3, "no single provision calls");
    assert_eq!(
        store.target_batch_size(TENANT, "batched").await.unwrap(),
        200
    );
    let objects = target.fake.objects();
    assert_eq!(objects.len(), 450);
    for job in jobs(&store, &ids).await {
        assert_eq!(job.state, JobState::Done, "{job:?}");
        let remote_id = job.remote_id.clone().expect("a remote id");
        assert_eq!(objects[&remote_id].name, job.entity_name);
        let stored = store
            .remote_id(TENANT, "batched", job.entity_kind, &job.entity_id)
            .await
            .unwrap();
        assert_eq!(stored, Some(remote_id));
        let calls = attempts(&store, job.id).await;
        assert_eq!(calls, ["create ok"], "each job records its own attempt");
    }
}

/// How each job of the mixed scenario ended: (user, state, remote id, error code, calls made).
type Ending = BTreeMap<String, (JobState, Option<String>, Option<String>, Vec<String>)>;

/// Four creates with four different answers (ok, invalid data, a conflict naming the existing
/// entity, a transient error whose write did happen), through a target of batch size `size`.
async fn mixed(size: usize) -> (Ending, Arc<BatchingTarget>) {
    let (store, engine, _dir) = setup().await;
    let target = BatchingTarget::new(size);
    // carol exists already: the create conflicts, naming her id.
    let carol = target.fake.provision(change_for("carol")).await.unwrap();
    target.fake.state.lock().unwrap().calls.clear();
    target.fail_next("bob@example.com", invalid("INVALID_EMAIL_ADDRESS"), false);
    target.fail_next(
        "dave@example.com",
        transient("UNABLE_TO_LOCK_ROW", true),
        true,
    );

    let mut ids = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        ids.extend(create(&engine, user(name, "L", &[])).await);
    }
    run(&engine, &target).await;

    let mut ending = Ending::new();
    for job in jobs(&store, &ids).await {
        let calls = attempts(&store, job.id).await;
        let code = job.error.as_ref().and_then(|e| e.code.clone());
        ending.insert(
            job.entity_id.clone(),
            (job.state, job.remote_id, code, calls),
        );
    }
    assert_eq!(
        ending["carol"].1, carol.remote_id,
        "carol's entity is adopted"
    );
    (ending, target)
}

/// The changes of a call, sorted (a batch holds them in the order its jobs got to the call).
fn sorted(seen: &Seen) -> Vec<String> {
    let mut changes = match seen {
        Seen::Batch(changes) => changes.clone(),
        Seen::Single(change) => vec![change.clone()],
    };
    changes.sort();
    changes
}

fn change_for(id: &str) -> Change {
    Change {
        operation: Operation::Create,
        entity: provisioner_contract::Entity::User(provisioner_contract::User {
            local_id: id.into(),
            name: format!("{id}@example.com"),
            remote_id: None,
            claims: vec![],
            changed_claims: vec![],
            previous_name: None,
        }),
    }
}

#[tokio::test]
async fn mixed_results_in_one_batch_end_each_job_as_the_single_path_does() {
    let (batched, target) = mixed(200).await;
    let (single, alone) = mixed(1).await;
    // Remote ids are handed out in call order, which concurrency decides; the rest is equal.
    let without_ids = |ending: &Ending| {
        ending
            .iter()
            .map(|(user, (state, id, code, calls))| {
                (
                    user.clone(),
                    *state,
                    id.is_some(),
                    code.clone(),
                    calls.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_ids(&batched), without_ids(&single));
    assert!(alone.batch_sizes().is_empty(), "batch size 1 never batches");

    // The four creates went out in one batch; carol's update (after adopting) and dave's
    // update (after the lookup that resolved his unknown outcome) went alone.
    assert_eq!(
        sorted(&target.seen()[0]),
        ["alice", "bob", "carol", "dave"].map(|n| format!("create {n}@example.com"))
    );
    assert_eq!(target.batch_sizes(), [4]);

    let (state, remote_id, code, calls) = &batched["alice"];
    assert_eq!((*state, code), (JobState::Done, &None));
    assert!(remote_id.is_some());
    assert_eq!(calls, &["create ok"]);

    let (state, remote_id, code, calls) = &batched["bob"];
    assert_eq!(*state, JobState::Dead);
    assert_eq!(remote_id, &None);
    assert_eq!(code.as_deref(), Some("INVALID_EMAIL_ADDRESS"));
    assert_eq!(calls, &["create invalid_data"]);

    let (state, _, _, calls) = &batched["carol"];
    assert_eq!(*state, JobState::Done);
    assert_eq!(calls, &["create conflict", "update ok"]);

    let (state, remote_id, _, calls) = &batched["dave"];
    assert_eq!(*state, JobState::Done);
    assert_eq!(calls, &["create transient", "lookup found", "update ok"]);
    let daves = target.fake.named("dave@example.com");
    assert_eq!(daves.len(), 1, "dave's create was not sent again");
    assert!(remote_id.is_some());
}

#[tokio::test]
async fn a_whole_call_failure_requeues_every_job_and_lookups_prevent_duplicates() {
    let (store, engine, _dir) = setup().await;
    let target = BatchingTarget::new(200);
    // The target applied every change but the answer was a 500.
    *target.whole_call.lock().unwrap() = Some((transient("HTTP_500", true), true));
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.extend(create(&engine, user(&format!("w{i}"), "L", &[])).await);
    }
    run(&engine, &target).await;

    assert_eq!(target.fake.objects().len(), 6, "no duplicates");
    assert_eq!(
        sorted(&target.seen()[0]),
        (0..6)
            .map(|i| format!("create w{i}@example.com"))
            .collect::<Vec<_>>()
    );
    for job in jobs(&store, &ids).await {
        assert_eq!(job.state, JobState::Done, "{job:?}");
        let calls = attempts(&store, job.id).await;
        assert_eq!(calls, ["create transient", "lookup found", "update ok"]);
        let first = &store.attempts_for_job(job.id).await.unwrap()[0];
        assert_eq!(first.target_code.as_deref(), Some("HTTP_500"));
        let named = target.fake.named(&job.entity_name);
        assert_eq!(named.len(), 1, "{}", job.entity_name);
    }
    // No create after the failed batch: the unknown outcomes were resolved by lookup.
    let creates_after = target.seen()[1..]
        .iter()
        .flat_map(|seen| match seen {
            Seen::Batch(changes) => changes.clone(),
            Seen::Single(change) => vec![change.clone()],
        })
        .filter(|change| change.starts_with("create"))
        .count();
    assert_eq!(creates_after, 0, "{:?}", target.seen());
}

#[tokio::test]
async fn an_entitys_jobs_never_share_a_batch_and_keep_their_order() {
    let (store, engine, _dir) = setup().await;
    let target = BatchingTarget::new(200);
    let alice = create(&engine, user("alice", "First", &[])).await;
    run(&engine, &target).await;
    assert_eq!(jobs(&store, &alice).await[0].state, JobState::Done);

    // alice's first update goes in a batch with five creates; the batch is held until her
    // second update is queued, so that the second cannot be folded into the first.
    let (entered, entered_rx) = oneshot::channel();
    let (release, release_rx) = oneshot::channel();
    *target.gate.lock().unwrap() = Some(Gate {
        entered,
        release: release_rx,
    });
    let update = |last: &str| {
        let change = UserChange::Update(user("alice", last, &[]));
        let engine = &engine;
        async move {
            let receipt = engine.apply_user_change(TENANT, change).await.unwrap();
            receipt.jobs.iter().map(|j| j.job_id).collect::<Vec<_>>()
        }
    };
    let mut ids = update("Second").await;
    for i in 0..5 {
        ids.extend(create(&engine, user(&format!("o{i}"), "L", &[])).await);
    }
    let source = FakeSource::of(vec![(
        "batched",
        target.clone() as Arc<dyn TargetConnector>,
    )]);
    let (stop, running) = start(dispatcher(&engine, source));
    entered_rx.await.unwrap();
    ids.extend(update("Third").await);
    release.send(()).unwrap();
    let ended = engine
        .wait_for_jobs(&ids, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();

    assert!(ended.iter().all(|o| o.state == JobState::Done), "{ended:?}");
    let calls: Vec<Vec<String>> = target.seen()[1..].iter().map(sorted).collect();
    let with_alice: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, call)| call.iter().any(|c| c == "update alice@example.com"))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(with_alice.len(), 2, "two calls, never one batch: {calls:?}");
    assert_eq!(calls[with_alice[0]].len(), 6, "in a batch with the creates");
    let alice_remote = target.fake.named("alice@example.com");
    assert_eq!(alice_remote.len(), 1);
    assert_eq!(
        alice_remote[0].claims[LASTNAME],
        ["Third"],
        "the later update was applied last"
    );
}

#[tokio::test]
async fn claims_hand_a_batching_target_its_batch_size_per_call_and_count_running_jobs_as_calls() {
    let (store, engine, _dir) = setup().await;
    for i in 0..500 {
        create(&engine, user(&format!("c{i:03}"), "L", &[])).await;
    }
    let limits = ClaimLimits {
        target_concurrency: 2,
        ..ClaimLimits::default()
    };
    let now = now_ms();

    // Batch size 1 (none stored): one job per call.
    let one = store
        .claim_fair("a", now, 60_000, 8, &limits)
        .await
        .unwrap();
    assert_eq!(one.jobs.len(), 2);
    assert_eq!(one.calls.len(), 2);
    assert!(one.calls.iter().all(|call| call.len() == 1));
    assert!(store.recover_expired_leases(now + 120_000).await.unwrap() > 0);

    assert!(store
        .set_target_batch_size(TENANT, "batched", 200)
        .await
        .unwrap());
    assert!(!store
        .set_target_batch_size(TENANT, "batched", 200)
        .await
        .unwrap());
    // Two calls allowed: 400 jobs, in two calls of 200, oldest first.
    let batched = store
        .claim_fair("b", now, 60_000, 8, &limits)
        .await
        .unwrap();
    assert_eq!(batched.jobs.len(), 400);
    let sizes: Vec<usize> = batched.calls.iter().map(Vec::len).collect();
    assert_eq!(sizes, [200, 200]);
    let claimed: Vec<i64> = batched.calls.iter().flatten().copied().collect();
    let mut sorted = claimed.clone();
    sorted.sort_unstable();
    assert_eq!(claimed, sorted, "calls follow the queue order");

    // 400 running jobs are two calls: the target is at its cap.
    let held = store
        .claim_fair("c", now, 60_000, 8, &limits)
        .await
        .unwrap();
    assert!(held.jobs.is_empty());
    assert_eq!(held.held_back.len(), 1);
}
