//! Host capabilities offered to connectors, one module per import or concern.
//!
//! - [`http`]: the `http` import, its policy and its observer hook;
//! - [`origin`]: origins, the unit of every grant;
//! - [`egress`]: allow-lists of origins, the address policy, and what one target may reach;
//! - `headers`: which request headers a connector may set;
//! - [`transport`]: the wire below the policy (reqwest by default, pluggable);
//! - [`trust`]: extra CA certificates a target trusts (private CAs);
//! - [`secrets`]: secret values and credential injection;
//! - [`tokens`]: the OAuth token manager;
//! - [`log`]: the `log` import.

pub mod egress;
pub(crate) mod headers;
pub mod http;
pub(crate) mod log;
pub mod origin;
pub mod secrets;
pub mod tokens;
pub mod transport;
pub mod trust;
