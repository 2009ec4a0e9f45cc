//! The capabilities the connector logic needs from its host.
//!
//! In the component these are the `http` and `log` imports; natively (tests, benchmarks) any
//! implementation will do, e.g. one that replays canned responses.

use crate::contract::{HttpError, Level, OauthGrant, Request, Response};

/// Outbound HTTP, token-cache control and logging, as the host provides them.
pub trait Host {
    /// Sends one request; the host attaches the credential and enforces its egress policy.
    fn send(&self, request: &Request) -> Result<Response, HttpError>;

    /// Drops the host's cached access token for `grant`, so the next `send` obtains a new one.
    fn invalidate_token(&self, grant: &OauthGrant);

    /// Records a structured log event.
    fn log(&self, level: Level, message: &str, fields: &[(String, String)]);
}
