//! Building and sending Salesforce REST requests.
//!
//! Every request carries the OAuth credential; the host attaches the token. A 401
//! INVALID_SESSION_ID makes the connector drop the host's cached token and retry once; the
//! variant that says the session is not valid for the REST API is not retried, since a new
//! token would not help.

use serde_json::Value;

use crate::auth;
use crate::errors::{self, Action};
use crate::settings::Settings;
use provisioner_sdk::error::method_name;
use provisioner_sdk::Host;
use provisioner_sdk::{HttpError, Level, Method, OauthGrant, ProvisionError, Request, Response};

/// Content type of JSON bodies; always UTF-8.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// Percent-encodes everything except RFC 3986 unreserved characters.
pub use provisioner_sdk::request::encode as percent_encode;

/// A client for one target's REST API, bound to a host.
pub struct Api<'a> {
    host: &'a dyn Host,
    settings: &'a Settings,
    grant: OauthGrant,
}

impl<'a> Api<'a> {
    /// A client using the grant the settings describe.
    pub fn new(host: &'a dyn Host, settings: &'a Settings) -> Self {
        Api {
            host,
            settings,
            grant: auth::grant(settings),
        }
    }

    /// The grant attached to every request.
    pub fn grant(&self) -> &OauthGrant {
        &self.grant
    }

    /// `.../sobjects/User/` for a create, `.../sobjects/User/{id}` for one record.
    pub fn user_url(&self, id: Option<&str>) -> String {
        self.settings
            .data_url(&format!("sobjects/User/{}", id.unwrap_or_default()))
    }

    /// `.../composite/sobjects`: sObject Collections.
    pub fn collections_url(&self) -> String {
        self.settings.data_url("composite/sobjects")
    }

    /// `.../query?q=<soql>`.
    pub fn query_url(&self, soql: &str) -> String {
        self.settings
            .data_url(&format!("query?q={}", percent_encode(soql)))
    }

    /// Builds a request with the JSON headers, the credential and the configured timeout.
    pub fn request(&self, method: Method, url: String, body: Option<&Value>) -> Request {
        let mut headers = vec![("Accept".to_string(), "application/json".to_string())];
        if body.is_some() {
            headers.push(("Content-Type".to_string(), JSON_CONTENT_TYPE.to_string()));
        }
        Request {
            method,
            url,
            headers,
            // serde_json writes UTF-8.
            body: body.map(|b| b.to_string().into_bytes()),
            credential: Some(auth::credential(&self.grant)),
            timeout_ms: self.settings.request_timeout_ms,
        }
    }

    /// Sends a request and returns the 2xx response, re-authenticating once on an expired
    /// session; every other outcome becomes a typed error for `action`.
    pub fn execute(&self, action: Action, request: &Request) -> Result<Response, ProvisionError> {
        let mut reauthenticated = false;
        loop {
            let response = self.send(request).map_err(|e| {
                let err = errors::from_http_error(action, &e);
                self.log_failure(request, &err);
                err
            })?;
            if (200..300).contains(&response.status) {
                return Ok(response);
            }
            if response.status == 401
                && !reauthenticated
                && errors::is_expired_session(&response.body)
            {
                self.host.log(
                    Level::Info,
                    "salesforce session expired; obtaining a new token and retrying once",
                    &[("url".into(), path_of(&request.url))],
                );
                self.host.invalidate_token(&self.grant);
                reauthenticated = true;
                continue;
            }
            let mut err = errors::from_response(action, &response);
            if reauthenticated {
                if let ProvisionError::AuthFailed(d) = &mut err {
                    d.message.push_str(" (after obtaining a new token)");
                }
            }
            self.log_failure(request, &err);
            return Err(err);
        }
    }

    /// Logs through the host with the target's request context.
    pub fn log(&self, level: Level, message: &str) {
        self.host.log(level, message, &[]);
    }

    fn send(&self, request: &Request) -> Result<Response, HttpError> {
        let result = self.host.send(request);
        let status = match &result {
            Ok(r) => r.status.to_string(),
            Err(_) => "none".to_string(),
        };
        self.host.log(
            Level::Debug,
            "salesforce request",
            &[
                ("method".into(), method_name(request.method).into()),
                ("url".into(), path_of(&request.url)),
                ("status".into(), status),
            ],
        );
        result
    }

    fn log_failure(&self, request: &Request, err: &ProvisionError) {
        let (case, detail) = errors::case_of(err);
        self.host.log(
            Level::Warn,
            "salesforce request failed",
            &[
                ("method".into(), method_name(request.method).into()),
                ("url".into(), path_of(&request.url)),
                ("error".into(), case.into()),
                (
                    "code".into(),
                    detail.target_code.clone().unwrap_or_default(),
                ),
            ],
        );
    }
}

/// The URL without its query, which may carry user data.
fn path_of(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}
