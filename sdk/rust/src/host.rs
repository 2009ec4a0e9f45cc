//! The capabilities a connector gets from its host: outbound HTTP, token-cache control and
//! logging.
//!
//! Inside the component these are the contract's `http` and `log` imports ([`Imports`], on
//! wasm32 only); natively any implementation will do, such as [`crate::mock::MockHost`].

use crate::{HttpError, Level, OauthGrant, Request, Response};

/// Outbound HTTP, token-cache control and logging, as the host provides them.
pub trait Host {
    /// Sends one request; the host attaches the credential and enforces its egress policy.
    fn send(&self, request: &Request) -> Result<Response, HttpError>;

    /// Drops the host's cached access token for `grant`, so the next `send` obtains a new one.
    fn invalidate_token(&self, grant: &OauthGrant);

    /// Records a structured log event, tagged by the host with tenant and target.
    fn log(&self, level: Level, message: &str, fields: &[(String, String)]);
}

/// The real host, seen from inside the component: the contract's imports.
#[cfg(target_arch = "wasm32")]
#[derive(Debug, Clone, Copy, Default)]
pub struct Imports;

#[cfg(target_arch = "wasm32")]
impl Host for Imports {
    fn send(&self, request: &Request) -> Result<Response, HttpError> {
        crate::bindings::provisioning::connector::http::send(request)
    }

    fn invalidate_token(&self, grant: &OauthGrant) {
        crate::bindings::provisioning::connector::http::invalidate_token(grant)
    }

    fn log(&self, level: Level, message: &str, fields: &[(String, String)]) {
        crate::bindings::provisioning::connector::log::log(level, message, fields)
    }
}
