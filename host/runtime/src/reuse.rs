//! Instance reuse within one target, and the counts of live and idle instances.
//!
//! By default every call gets a fresh instance (`calls_per_instance` of
//! [`crate::RuntimeConfig`] is one) and nothing here keeps any. With reuse on, a
//! [`crate::TargetInstance`] keeps the instances of its completed calls warm for its next calls;
//! they never serve another target, a failed call's instance is never kept, and the runtime holds
//! at most [`crate::RuntimeConfig::max_idle_instances`] idle instances over all targets.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::call::Sandbox;
use crate::runtime::Runtime;

/// Instances alive in one runtime: every sandbox (running a call or idle), and the idle ones.
#[derive(Debug, Default)]
pub(crate) struct InstanceCounts {
    live: AtomicUsize,
    idle: AtomicUsize,
}

impl InstanceCounts {
    /// Sandboxes alive now (calls in flight and idle warm instances).
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    /// Idle warm instances now.
    pub fn idle(&self) -> usize {
        self.idle.load(Ordering::Relaxed)
    }
}

/// Held by each sandbox: counts it as live until it is dropped.
pub(crate) struct LiveInstance(Arc<InstanceCounts>);

impl LiveInstance {
    /// Counts one more live sandbox.
    pub fn new(counts: &Arc<InstanceCounts>) -> Self {
        counts.live.fetch_add(1, Ordering::Relaxed);
        Self(counts.clone())
    }
}

impl Drop for LiveInstance {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One target's idle warm instances.
pub(crate) struct WarmInstances {
    idle: Mutex<Vec<Sandbox>>,
    counts: Arc<InstanceCounts>,
    enabled: bool,
    max_idle: usize,
}

impl WarmInstances {
    /// Empty; keeps instances only if `runtime`'s configuration reuses them.
    pub fn new(runtime: &Runtime) -> Self {
        let config = runtime.config();
        Self {
            idle: Mutex::default(),
            counts: runtime.inner.counts.clone(),
            enabled: config.reuses_instances(),
            max_idle: config.max_idle_instances as usize,
        }
    }

    /// A warm instance for the next call, if one is idle.
    pub fn take(&self) -> Option<Sandbox> {
        if !self.enabled {
            return None;
        }
        let sandbox = self.idle.lock().unwrap().pop()?;
        self.counts.idle.fetch_sub(1, Ordering::Relaxed);
        Some(sandbox)
    }

    /// Keeps `sandbox` for a later call of this target, or drops it when reuse is off or the
    /// runtime already holds its most idle instances.
    pub fn keep(&self, sandbox: Sandbox) {
        if !self.enabled {
            return;
        }
        if self.counts.idle.fetch_add(1, Ordering::Relaxed) >= self.max_idle {
            self.counts.idle.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        self.idle.lock().unwrap().push(sandbox);
    }
}

impl Drop for WarmInstances {
    /// The target is gone: its idle instances are dropped and no longer counted.
    fn drop(&mut self) {
        let idle = self.idle.get_mut().map(|idle| idle.len()).unwrap_or(0);
        self.counts.idle.fetch_sub(idle, Ordering::Relaxed);
    }
}
