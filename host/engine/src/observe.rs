//! What the engine tells an observer while it works, and the request a change came from.
//!
//! An [`Observer`] is told of every connector call (its outcome, failure and duration), every
//! job that reaches a final state and every target a limit held back; the server turns these
//! into metrics. Every method has a no-op default and [`NoObserver`] is the dispatcher's default,
//! so the engine runs the same without one. The calls happen on the dispatcher's workers, so an
//! observer must be quick (count, not do I/O).
//!
//! A change made inside [`with_request_id`] stores that request id on every job it queues
//! (`jobs.request_id`), so a job, its attempts and their log lines join to the request (a SCIM
//! call) that caused them, without every write path taking the id as an argument.

use std::future::Future;
use std::time::Duration;

use crate::connector::CallFailure;
use crate::store::{HoldReason, JobRecord, JobState};

/// One connector call as it ended.
#[derive(Clone, Copy, Debug)]
pub struct CallEvent<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The target called.
    pub target: &'a str,
    /// The call: `create`, `update`, `delete` or `lookup`.
    pub call: &'a str,
    /// How it ended, as recorded on the attempt: `ok`, `found`, `absent` or the failure kind.
    pub outcome: &'a str,
    /// The failure, when the call failed.
    pub failure: Option<&'a CallFailure>,
    /// How long the call took.
    pub duration: Duration,
}

/// Receives the engine's events; every method defaults to doing nothing.
pub trait Observer: Send + Sync + 'static {
    /// A connector call ended (a single call, or one job's share of a batch call).
    fn call_finished(&self, event: &CallEvent<'_>) {
        let _ = event;
    }

    /// A job reached a final state (`done`, `dead` or `superseded`).
    fn job_finished(&self, job: &JobRecord, state: JobState) {
        let _ = (job, state);
    }

    /// A claim left a target's ready jobs waiting because of a limit (once per target and
    /// claim).
    fn held_back(&self, tenant: &str, target: &str, reason: HoldReason) {
        let _ = (tenant, target, reason);
    }
}

/// The observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

tokio::task_local! {
    static REQUEST_ID: String;
}

/// Runs `work` as part of request `id`: the jobs any change in it queues carry the id.
pub async fn with_request_id<F: Future>(id: String, work: F) -> F::Output {
    REQUEST_ID.scope(id, work).await
}

/// The id of the request the current task works for, if it runs inside [`with_request_id`].
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_request_id_is_seen_inside_its_scope_only() {
        assert_eq!(current_request_id(), None);
        let inside = with_request_id("abc".into(), async { current_request_id() }).await;
        assert_eq!(inside.as_deref(), Some("abc"));
        assert_eq!(current_request_id(), None);
    }
}
