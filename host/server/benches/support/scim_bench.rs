//! What the SCIM benches share: sizes from the environment, a roomy emulated org, the
//! quickstart server configuration with a bearer token, and percentiles.

use std::path::Path;
use std::time::Duration;

use provisioner_server::config::{BearerCredential, ServerConfig};
use provisioner_server::quickstart;
use salesforce_emulator::{Emulator, EmulatorConfig};

use crate::org_support::org;

/// The size named `name` in the environment, else `default`.
pub fn env_size(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// An emulated org with room for any number of users and API calls, and a short request log.
pub async fn roomy_emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        licences: 1_000_000,
        api_max: 100_000_000,
        request_log_capacity: 10,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// The quickstart configuration against `emulator` with its data in `dir`, the admin's
/// `password`, and the bearer token `token` for the quickstart tenant.
pub fn quickstart_with_bearer(
    emulator: &Emulator,
    dir: &Path,
    password: &str,
    token: &str,
) -> ServerConfig {
    let mut config = quickstart::config(&org(emulator), dir, "127.0.0.1:0", password);
    config.runtime.cache_dir = Some(dir.join("cache"));
    config.tenants[0].bearer.push(BearerCredential {
        label: "bench".into(),
        token: format!("literal:{token}"),
    });
    config
}

/// The `p` quantile (0..=1) of sorted samples, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}
