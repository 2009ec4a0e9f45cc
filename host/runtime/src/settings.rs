//! How the runtime limits and caches connectors.

use std::path::PathBuf;
use std::time::Duration;

use crate::capabilities::http::HttpLimits;

/// How the runtime limits and caches connectors.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RuntimeConfig {
    /// Directory of compiled-component artifacts (created on first use).
    pub cache_dir: PathBuf,
    /// Guest execution budget of one call: wall-clock time spent running the connector, not
    /// counting time it waits on host calls such as HTTP.
    pub call_deadline: Duration,
    /// Limit on a whole call, host calls included.
    pub outer_timeout: Duration,
    /// Linear memory a call may use, in bytes (all memories of the instance together).
    pub memory_limit_bytes: u64,
    /// Bytes of guest stdout and of stderr kept per call (the rest is dropped).
    pub guest_output_limit_bytes: usize,
    /// Outbound HTTP limits.
    pub http: HttpLimits,
    /// Use wasmtime's pooling allocator (falls back to on-demand if it cannot reserve memory).
    pub pooling: bool,
    /// With pooling: calls that may run at once; instantiation fails beyond it.
    pub max_concurrent_calls: u32,
    /// How often the epoch advances; the deadline is checked at this granularity.
    pub epoch_tick: Duration,
    /// Most changes in one `provision-batch` call, whatever a connector declares.
    pub max_batch_size: usize,
    /// Calls one connector instance may serve, all for the same target, before it is dropped.
    /// `1` (the default) gives every call a fresh instance, so nothing a connector keeps in
    /// memory survives a call. Above 1 a target keeps its instances warm between calls (never
    /// shared with another target or tenant; dropped after any failed call), which saves the
    /// instantiation but lets a connector carry state from one call of its target to the next.
    pub calls_per_instance: u32,
    /// With `calls_per_instance` above 1: warm instances kept idle across all targets (each
    /// holds its linear memory); the pooling allocator reserves this many slots beyond
    /// `max_concurrent_calls` for them.
    pub max_idle_instances: u32,
}

/// `$XDG_CACHE_HOME/provisioner/components`, else `$HOME/.cache/provisioner/components`, else
/// a directory under the system temporary directory.
fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("provisioner").join("components")
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            cache_dir: default_cache_dir(),
            call_deadline: Duration::from_secs(5),
            outer_timeout: Duration::from_secs(60),
            memory_limit_bytes: 64 * 1024 * 1024,
            guest_output_limit_bytes: 64 * 1024,
            http: HttpLimits::default(),
            pooling: true,
            max_concurrent_calls: 64,
            epoch_tick: Duration::from_millis(10),
            max_batch_size: 200,
            calls_per_instance: 1,
            max_idle_instances: 16,
        }
    }
}

impl RuntimeConfig {
    /// Whether targets keep warm instances between calls (`calls_per_instance` above 1).
    pub fn reuses_instances(&self) -> bool {
        self.calls_per_instance > 1 && self.max_idle_instances > 0
    }

    /// Instances that may be alive at once: calls in flight and, with reuse, idle warm ones.
    pub fn max_live_instances(&self) -> u32 {
        let idle = if self.reuses_instances() {
            self.max_idle_instances
        } else {
            0
        };
        self.max_concurrent_calls.max(1).saturating_add(idle)
    }

    /// Defaults, with artifacts cached in `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            ..Self::default()
        }
    }
}
