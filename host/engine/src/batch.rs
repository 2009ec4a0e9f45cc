//! Batch dispatch: the jobs claimed for one connector call run together, and their changes go
//! to the target in one `provision-batch` call.
//!
//! Each job still runs through [`crate::execute`], the one place where a job's change is decided
//! and its result applied; only the connector it calls differs. The jobs of one call share a
//! batcher, a [`TargetConnector`] in front of the target's own: its `provision` queues the
//! change and waits for that change's result. The batcher sends the queued changes as one call
//! as soon as every job of the group still running has queued its change or is busy in another
//! call (a lookup, which goes through on its own): a job doing local work (reading the store,
//! marking a create's outcome unknown) is waited for, so no timer decides what a batch holds.
//! A job that queues after the batch left (after its lookup, say) goes in the next one.
//!
//! A whole-call failure becomes every change's failure; each job then records its own attempt
//! and applies the retry policy as a single call's failure. Per-entity ordering needs nothing
//! here: a claim hands out at most one job of an entity at a time.
//!
//! [`BatchSizes`] writes each target's batch size (its connector's [`TargetConnector::batch_size`])
//! to the store when the dispatcher builds the connector, for claims to use.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use tokio::sync::oneshot;

use crate::connector::{
    CallFailure, CallResult, ConnectorSource, ConnectorUnavailable, SandboxFailureKind,
    TargetConnector,
};
use crate::execute::{run_job, run_job_via, Context, RunEnd};
use crate::store::{JobRecord, Store, StoreResult, TargetRecord};
use provisioner_contract::{Change, LookupKey, ProvisionOutcome, RemoteObject};

/// Runs the jobs claimed for one call: a single job alone, several together through a shared
/// batcher. Returns each job's id and how its run ended.
pub(crate) async fn run_call(
    ctx: &Context,
    jobs: Vec<JobRecord>,
) -> Vec<(i64, StoreResult<RunEnd>)> {
    if jobs.len() <= 1 {
        let mut ended = Vec::with_capacity(1);
        for job in jobs {
            let id = job.id;
            ended.push((id, run_job(ctx, job).await));
        }
        return ended;
    }
    let group = Arc::new(Group {
        state: Mutex::new(State {
            open: jobs.len(),
            ..State::default()
        }),
    });
    let source = GroupSource {
        source: ctx.connectors.clone(),
        group: group.clone(),
        batcher: Mutex::new(None),
    };
    let runs = jobs.into_iter().map(|job| {
        let (source, group) = (&source, &group);
        async move {
            let id = job.id;
            let end = run_job_via(ctx, source, job).await;
            group.finished();
            (id, end)
        }
    });
    futures::future::join_all(runs).await
}

/// Splits a claim's jobs into the calls they were claimed for (see
/// [`crate::store::Claim::calls`]).
pub(crate) fn calls_of(jobs: Vec<JobRecord>, calls: &[Vec<i64>]) -> Vec<Vec<JobRecord>> {
    let mut by_id: HashMap<i64, JobRecord> = jobs.into_iter().map(|job| (job.id, job)).collect();
    let mut grouped: Vec<Vec<JobRecord>> = calls
        .iter()
        .map(|ids| ids.iter().filter_map(|id| by_id.remove(id)).collect())
        .filter(|group: &Vec<JobRecord>| !group.is_empty())
        .collect();
    // Jobs no call names (none, from `claim_fair`) run alone.
    let mut rest: Vec<JobRecord> = by_id.into_values().collect();
    rest.sort_by_key(|job| job.id);
    grouped.extend(rest.into_iter().map(|job| vec![job]));
    grouped
}

/// A change waiting for the next batch, with where its result goes.
struct Queued {
    change: Change,
    reply: oneshot::Sender<CallResult<ProvisionOutcome>>,
}

/// Where the jobs of one group are.
#[derive(Default)]
struct State {
    /// Jobs of the group whose run has not ended.
    open: usize,
    /// Jobs busy in a call of their own (a lookup).
    elsewhere: usize,
    /// The target's connector, once a job of the group built it.
    target: Option<Arc<dyn TargetConnector>>,
    /// Changes waiting for the batch.
    queued: Vec<Queued>,
}

/// The jobs of one call, sharing one batcher.
struct Group {
    state: Mutex<State>,
}

impl Group {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A job's run ended.
    fn finished(&self) {
        let mut state = self.state();
        state.open = state.open.saturating_sub(1);
        flush_if_complete(&mut state);
    }
}

/// Sends the queued changes as one call when every open job has queued or is elsewhere.
fn flush_if_complete(state: &mut State) {
    // A job that gave up waiting (its call timed out) is no longer waiting for its change.
    state.queued.retain(|queued| !queued.reply.is_closed());
    if state.queued.is_empty() || state.queued.len() + state.elsewhere < state.open {
        return;
    }
    let Some(target) = state.target.clone() else {
        return;
    };
    let queued = std::mem::take(&mut state.queued);
    tokio::spawn(send(target, queued));
}

/// Makes the call (in calls of at most the target's batch size) and hands each change its
/// result. One change goes as a single `provision`.
async fn send(target: Arc<dyn TargetConnector>, queued: Vec<Queued>) {
    let size = target.batch_size().max(1);
    let mut queued = queued.into_iter().peekable();
    while queued.peek().is_some() {
        let (changes, mut replies): (Vec<Change>, Vec<_>) = queued
            .by_ref()
            .take(size)
            .map(|queued| (queued.change, queued.reply))
            .unzip();
        let call = async {
            if changes.len() == 1 {
                let change = changes.into_iter().next().expect("one change");
                vec![target.provision(change).await]
            } else {
                let sent = changes.len();
                match target.provision_batch(changes).await {
                    Ok(results) if results.len() == sent => results,
                    Ok(results) => vec![Err(wrong_count(results.len(), sent)); sent],
                    Err(failure) => vec![Err(failure); sent],
                }
            }
        };
        // The call is dropped (as a single call's is on its timeout) once every job waiting for
        // it has given up, so a hung target never holds more calls than its cap.
        let abandoned = futures::future::join_all(replies.iter_mut().map(|reply| reply.closed()));
        let results = tokio::select! {
            results = call => results,
            _ = abandoned => continue,
        };
        for (reply, result) in replies.into_iter().zip(results) {
            let _ = reply.send(result);
        }
    }
}

/// A batch answered with another number of results than changes: every change's outcome is
/// unknown.
fn wrong_count(answered: usize, sent: usize) -> CallFailure {
    CallFailure::Sandbox {
        kind: SandboxFailureKind::Trap,
        message: format!("provision-batch returned {answered} results for {sent} changes"),
    }
}

/// The connector source of one group: the target's connector behind the group's batcher.
struct GroupSource {
    source: Arc<dyn ConnectorSource>,
    group: Arc<Group>,
    batcher: Mutex<Option<Arc<dyn TargetConnector>>>,
}

impl ConnectorSource for GroupSource {
    fn connector<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Arc<dyn TargetConnector>, ConnectorUnavailable>> {
        Box::pin(async move {
            let connector = self.source.connector(target).await?;
            let mut state = self.group.state();
            match &state.target {
                None => state.target = Some(connector.clone()),
                // The target's connector changed while the group ran (a hot swap): this job
                // calls the new one directly, outside the batch.
                Some(batched) if !same(batched, &connector) => return Ok(connector),
                Some(_) => {}
            }
            drop(state);
            let mut batcher = self.batcher.lock().unwrap_or_else(|p| p.into_inner());
            let batcher = batcher.get_or_insert_with(|| {
                Arc::new(Batcher {
                    group: self.group.clone(),
                    target: connector,
                })
            });
            Ok(batcher.clone())
        })
    }
}

fn same(a: &Arc<dyn TargetConnector>, b: &Arc<dyn TargetConnector>) -> bool {
    std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b))
}

/// The connector the jobs of a group call: provisions go into the group's batch, lookups
/// straight to the target.
struct Batcher {
    group: Arc<Group>,
    target: Arc<dyn TargetConnector>,
}

/// Counts a job as busy in a call of its own while it lives.
struct Elsewhere<'a>(&'a Group);

impl<'a> Elsewhere<'a> {
    fn enter(group: &'a Group) -> Self {
        let mut state = group.state();
        state.elsewhere += 1;
        flush_if_complete(&mut state);
        Elsewhere(group)
    }
}

impl Drop for Elsewhere<'_> {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.elsewhere = state.elsewhere.saturating_sub(1);
    }
}

impl TargetConnector for Batcher {
    fn provision(&self, change: Change) -> BoxFuture<'_, CallResult<ProvisionOutcome>> {
        Box::pin(async move {
            let (reply, result) = oneshot::channel();
            {
                let mut state = self.group.state();
                state.queued.push(Queued { change, reply });
                flush_if_complete(&mut state);
            }
            result.await.unwrap_or_else(|_| {
                Err(CallFailure::Sandbox {
                    kind: SandboxFailureKind::Trap,
                    message: "the batch call ended without answering this change".into(),
                })
            })
        })
    }

    fn lookup(&self, key: LookupKey) -> BoxFuture<'_, CallResult<Option<RemoteObject>>> {
        Box::pin(async move {
            let _elsewhere = Elsewhere::enter(&self.group);
            self.target.lookup(key).await
        })
    }

    fn batch_size(&self) -> usize {
        self.target.batch_size()
    }
}

/// A connector source that writes each target's batch size to the store when it builds the
/// target's connector (once per process, and again when it changes).
pub(crate) struct BatchSizes {
    source: Arc<dyn ConnectorSource>,
    store: Store,
    known: Mutex<HashMap<(String, String), usize>>,
}

impl BatchSizes {
    /// Records the batch sizes of `source`'s connectors in `store`.
    pub(crate) fn new(source: Arc<dyn ConnectorSource>, store: Store) -> Self {
        Self {
            source,
            store,
            known: Mutex::default(),
        }
    }

    /// Builds the connector of every unpaused target, recording each batch size, so that the
    /// first claims already fill batches. A target whose connector cannot be built yet is left
    /// to its jobs (which record its size once it can).
    pub(crate) async fn learn(&self) -> StoreResult<()> {
        let targets = self.store.targets(None).await?;
        let builds = targets
            .iter()
            .filter(|target| !target.paused)
            .map(|target| self.connector(target));
        futures::future::join_all(builds).await;
        Ok(())
    }

    async fn record(&self, target: &TargetRecord, size: usize) {
        let key = (target.spec.tenant.clone(), target.spec.name.clone());
        if self.known.lock().expect("lock").get(&key) == Some(&size) {
            return;
        }
        match self.store.set_target_batch_size(&key.0, &key.1, size).await {
            Ok(_) => {
                tracing::debug!(tenant = %key.0, target_name = %key.1, size, "target batch size");
                self.known.lock().expect("lock").insert(key, size);
            }
            Err(error) => {
                tracing::warn!(tenant = %key.0, target_name = %key.1, %error,
                    "could not record the target's batch size; its claims stay one job per call")
            }
        }
    }
}

impl ConnectorSource for BatchSizes {
    fn connector<'a>(
        &'a self,
        target: &'a TargetRecord,
    ) -> BoxFuture<'a, Result<Arc<dyn TargetConnector>, ConnectorUnavailable>> {
        Box::pin(async move {
            let connector = self.source.connector(target).await?;
            self.record(target, connector.batch_size().max(1)).await;
            Ok(connector)
        })
    }
}
