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
        }
    }
}

impl RuntimeConfig {
    /// Defaults, with artifacts cached in `cache_dir`.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        Self {
            cache_dir: cache_dir.into(),
            ..Self::default()
        }
    }
}
