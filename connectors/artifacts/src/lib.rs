//! Paths of the wasm components built from this workspace's sources.
//!
//! The build script compiles each connector (and the hostile guests used by the sandbox tests)
//! for `wasm32-wasip2`; nothing compiled is committed.

/// The Salesforce connector component.
pub const SALESFORCE_CONNECTOR: &str = env!("COMPONENT_SALESFORCE_CONNECTOR");

/// Hostile guest whose `provision` never returns.
pub const GUEST_ENDLESS_LOOP: &str = env!("COMPONENT_GUEST_ENDLESS_LOOP");

/// Hostile guest that grows its memory without bound.
pub const GUEST_MEMORY_HOG: &str = env!("COMPONENT_GUEST_MEMORY_HOG");

/// Hostile guest that tries to read secrets and send them to other hosts.
pub const GUEST_EXFILTRATOR: &str = env!("COMPONENT_GUEST_EXFILTRATOR");

/// Test guest that forwards a configured request through the host's HTTP capability.
pub const GUEST_ECHO: &str = env!("COMPONENT_GUEST_ECHO");
