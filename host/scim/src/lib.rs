//! SCIM 2.0 (RFC 7643/7644) protocol layer and HTTP surface of the provisioning host.
//!
//! Users and groups enter the host here; storage sits behind [`ScimBackend`] so the job engine
//! can commit each change together with its outbound provisioning jobs. Entry points:
//!
//! - [`router`]: the axum router (`/scim/v2/...` and WSO2's SCIM 1.x `/wso2/scim/Users`);
//! - [`ScimBackend`]: tenant-scoped, versioned storage; [`MemoryBackend`] implements it;
//! - [`Authenticator`]: per-tenant Basic/bearer authentication; [`CredentialStore`] implements it,
//!   checking passwords through a bounded [`PasswordGate`];
//! - [`user_claims`] / [`changed_claims`]: SCIM attributes as WSO2 local claims;
//! - [`kind::ScimResourceKind`]: what differs between Users and Groups; the operations in
//!   [`ops`], the HTTP handlers and `/Bulk` are each written once, generic over it.
//!
//! Every write is validated completely before exactly one backend call, so a failed request
//! leaves nothing half-written.

pub mod auth;
pub mod backend;
pub mod bulk;
pub mod claims;
pub mod compat;
pub mod config;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod http;
pub mod index;
pub mod kind;
pub mod list;
pub mod memory;
pub mod ops;
pub mod password_gate;
pub mod patch;
pub mod resource;
pub mod schema;
mod verifier_pool;

pub use auth::{AuthDecision, Authenticator, CredentialStore, Credentials, Principal};
pub use backend::{BackendError, ScimBackend, TenantId};
pub use claims::{changed_claims, user_claims, Claims};
pub use config::ScimConfig;
pub use error::{ScimError, ScimType};
pub use http::router;
pub use memory::MemoryBackend;
pub use password_gate::{GateLimits, PasswordGate};
pub use resource::{GroupResource, UserResource};
