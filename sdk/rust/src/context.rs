//! The [`Context`] handed to every call: the host's capabilities and the target's
//! configuration, with helpers that turn transport failures and HTTP statuses into
//! [`ProvisionError`]s by the shared mapping (see [`crate::error`]).

use crate::{
    error, Config, ConnectorConfig, Host, Level, OauthGrant, ProvisionError, Request, Response,
};

/// What one call may use: the host and the configuration of the target it runs for.
///
/// A context lives for one call: the host instantiates the component afresh for every call, so
/// nothing survives from one call to the next.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    host: &'a dyn Host,
    config: &'a ConnectorConfig,
}

impl<'a> Context<'a> {
    /// A context over `host` for a call on the target configured by `config`.
    pub fn new(host: &'a dyn Host, config: &'a ConnectorConfig) -> Self {
        Context { host, config }
    }

    /// The host's raw capabilities.
    pub fn host(&self) -> &'a dyn Host {
        self.host
    }

    /// A typed reader of the target's configuration.
    pub fn config(&self) -> Config<'a> {
        Config::new(self.config)
    }

    /// The target's configuration as the host sent it.
    pub fn raw_config(&self) -> &'a ConnectorConfig {
        self.config
    }

    /// Sends `request`. Any HTTP status is returned; a request that got no response becomes
    /// the error of [`error::from_http_error`].
    pub fn send(&self, request: impl Into<Request>) -> Result<Response, ProvisionError> {
        let request = request.into();
        self.host
            .send(&request)
            .map_err(|e| error::from_http_error(request.method, &e))
    }

    /// Sends `request` and requires a 2xx answer; other statuses become the error of
    /// [`error::from_status`].
    pub fn send_ok(&self, request: impl Into<Request>) -> Result<Response, ProvisionError> {
        let request = request.into();
        let method = request.method;
        let response = self.send(request)?;
        if response.is_success() {
            Ok(response)
        } else {
            Err(error::from_status(method, &response))
        }
    }

    /// Sends `request`, requires a 2xx answer and reads its body as JSON (`null` when empty).
    pub fn send_json(
        &self,
        request: impl Into<Request>,
    ) -> Result<serde_json::Value, ProvisionError> {
        self.send_ok(request)?.json()
    }

    /// Drops the host's cached token for `grant`, e.g. after a 401 with an OAuth credential.
    pub fn invalidate_token(&self, grant: &OauthGrant) {
        self.host.invalidate_token(grant)
    }

    /// Records a log event with structured fields; the host tags it with tenant and target.
    /// Never log secrets or personal data you do not need.
    pub fn log(&self, level: Level, message: &str, fields: &[(&str, &str)]) {
        let fields: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.host.log(level, message, &fields)
    }

    /// Records a debug event.
    pub fn debug(&self, message: &str) {
        self.log(Level::Debug, message, &[])
    }

    /// Records an info event.
    pub fn info(&self, message: &str) {
        self.log(Level::Info, message, &[])
    }

    /// Records a warning.
    pub fn warn(&self, message: &str) {
        self.log(Level::Warn, message, &[])
    }

    /// Records an error event.
    pub fn error(&self, message: &str) {
        self.log(Level::Error, message, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::{self, MockHost};
    use crate::{HttpError, Method, RequestBuilder};

    #[test]
    fn send_maps_transport_errors_and_returns_any_status() {
        let host = MockHost::new();
        host.on(Method::Get, "/a", mock::status(404));
        host.on_error(Method::Post, "/b", HttpError::Timeout);
        let config = mock::config();
        let cx = Context::new(&host, &config);
        assert_eq!(
            cx.send(RequestBuilder::get("https://t/a")).unwrap().status,
            404
        );
        match cx.send(RequestBuilder::post("https://t/b")) {
            Err(ProvisionError::Transient(e)) => assert!(e.outcome_unknown),
            other => panic!("expected transient, got {other:?}"),
        }
    }

    #[test]
    fn send_ok_and_send_json_map_statuses() {
        let host = MockHost::new();
        host.on(
            Method::Get,
            "/ok",
            mock::json(200, &serde_json::json!({"id": "7"})),
        );
        host.on(Method::Get, "/denied", mock::status(403));
        let config = mock::config();
        let cx = Context::new(&host, &config);
        assert_eq!(
            cx.send_json(RequestBuilder::get("https://t/ok")).unwrap()["id"],
            "7"
        );
        assert!(matches!(
            cx.send_ok(RequestBuilder::get("https://t/denied")),
            Err(ProvisionError::AuthFailed(_))
        ));
    }

    #[test]
    fn logs_reach_the_host_with_their_fields() {
        let host = MockHost::new();
        let config = mock::config();
        let cx = Context::new(&host, &config);
        cx.log(Level::Info, "created", &[("id", "7")]);
        cx.warn("careful");
        let logs = host.logs();
        assert_eq!(logs.len(), 2);
        assert_eq!(logs[0].level, Level::Info);
        assert_eq!(logs[0].fields, vec![("id".to_string(), "7".to_string())]);
        assert_eq!(
            (logs[1].level, logs[1].message.as_str()),
            (Level::Warn, "careful")
        );
    }
}
