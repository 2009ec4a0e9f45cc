//! The provisioning host's connector runtime.
//!
//! Connectors are WebAssembly components of the `provisioning:connector` world
//! (`wit/connector.wit`). The host loads them into one shared wasmtime engine ([`Runtime`]),
//! configures them per tenant's target ([`TargetInstance`]) and runs every call in a fresh
//! sandbox with a deadline, a memory limit and no ambient authority. Connectors reach the network
//! only through the host's [`http`](capabilities::http) capability, which enforces the target's
//! egress allow-list and attaches credentials the connector can name but never read.

pub mod capabilities;
pub mod config;
pub mod contract;
pub mod engine;
pub mod instance;
pub mod runtime;
pub mod server;
pub mod store;
pub mod tutorial;

pub use capabilities::egress::EgressPolicy;
pub use capabilities::http::{Exchange, ExchangeKind, HttpLimits, HttpObserver};
pub use capabilities::secrets::SecretValue;
pub use capabilities::tokens::TokenManager;
pub use capabilities::transport::{
    OutboundRequest, ReqwestTransport, Transport, TransportError, TransportResponse,
};
pub use config::{ConfigError, ConfigInput, ConfigIssue, TargetConfig};
pub use instance::TargetInstance;
pub use runtime::{
    CallError, Connector, LoadError, LoadReport, LoadSource, Runtime, RuntimeBuilder,
    RuntimeConfig, RuntimeError,
};
