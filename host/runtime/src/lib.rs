//! The embeddable connector runtime of the provisioning host.
//!
//! Connectors are WebAssembly components of the `provisioning:connector` contract (`wit/`, any
//! version in [`provisioner_contract::SUPPORTED`]). The runtime loads them into one shared
//! wasmtime engine ([`Runtime`]), configures them per tenant's target ([`TargetInstance`]) and
//! runs every call in a fresh sandbox with a deadline, a memory limit and no ambient authority
//! (or, only when [`RuntimeConfig::calls_per_instance`] asks for it, in a warm instance of the
//! same target, under the same limits).
//! Connectors reach the network only through the host's [`http`](capabilities::http) capability,
//! which enforces the target's egress allow-list and attaches credentials the connector can name
//! but never read.
//!
//! ```text
//! Runtime::new(config) ─▶ load_file / load_bytes ─▶ Arc<Connector> (version, InstancePre, metadata)
//!                                               └─▶ TargetInstance::new(runtime, connector, target config)
//!                                                     └─▶ validate / provision / lookup / list (one Store each)
//! ```
//!
//! This crate is what a host embeds to load and call connectors (see `examples/embed.rs`). It
//! depends on wasmtime, reqwest, url and jsonwebtoken, never on a database, an HTTP server
//! framework or a command-line parser.

pub mod answers;
mod cache;
mod call;
pub mod capabilities;
pub mod config;
pub mod imports;
pub mod instance;
mod load;
mod reuse;
mod runtime;
pub mod secret_source;
mod settings;

pub use call::{CallError, CallStats};
pub use capabilities::egress::{EgressPolicy, EgressReport};
pub use capabilities::http::{Exchange, ExchangeKind, HttpLimits, HttpObserver};
pub use capabilities::origin::Origin;
pub use capabilities::secrets::SecretValue;
pub use capabilities::tokens::TokenManager;
pub use capabilities::transport::{
    OutboundRequest, ReqwestTransport, Transport, TransportError, TransportResponse,
};
pub use capabilities::trust::{CaBundle, CaBundleError};
pub use config::{ConfigInput, ConfigIssue, SecretPolicy, TargetConfig, TargetConfigError};
pub use imports::{ImportsError, RefusedImport};
pub use instance::TargetInstance;
pub use load::{LoadError, LoadReport, LoadSource};
pub use provisioner_contract as contract;
pub use runtime::{Connector, PoolUsage, Runtime, RuntimeBuilder, RuntimeError};
pub use secret_source::{SecretError, SecretSource};
pub use settings::RuntimeConfig;
