//! Test support: paths of the wasm components the tests load, all built from source by the build
//! script. Never a dependency of production code (built-in connectors live in
//! `builtin-connectors`).

/// The Salesforce connector built for contract 0.1.0 (its `contract-v0-1` feature).
pub const SALESFORCE_CONNECTOR_V0_1: &str = env!("COMPONENT_SALESFORCE_CONNECTOR_V0_1");

/// Hostile guest whose `provision` never returns.
pub const GUEST_ENDLESS_LOOP: &str = env!("COMPONENT_GUEST_ENDLESS_LOOP");

/// Hostile guest that grows its memory without bound.
pub const GUEST_MEMORY_HOG: &str = env!("COMPONENT_GUEST_MEMORY_HOG");

/// Hostile guest that tries to read secrets and send them to other hosts.
pub const GUEST_EXFILTRATOR: &str = env!("COMPONENT_GUEST_EXFILTRATOR");

/// Test guest that forwards a configured request through the host's HTTP capability.
pub const GUEST_ECHO: &str = env!("COMPONENT_GUEST_ECHO");

/// A component built for contract 0.3.0, which this host does not support.
pub const GUEST_FUTURE_CONTRACT: &str = env!("COMPONENT_GUEST_FUTURE_CONTRACT");

/// Hostile guest that reaches past its grant (its own URL default, secrets in any header) and
/// answers with oversized or forged data.
pub const GUEST_OVERREACH: &str = env!("COMPONENT_GUEST_OVERREACH");

/// The template connector with a `bug` property (`none`, `404-transient`, `panic-on-update`),
/// for the conformance kit (`provisioner connector check`).
pub const GUEST_BROKEN: &str = env!("COMPONENT_GUEST_BROKEN");
