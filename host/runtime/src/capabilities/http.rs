//! The `http` import: outbound HTTP under the target's egress policy, with host-side credentials.
//!
//! Every request goes through [`HttpCapability::send`]: the URL must be absolute http(s) and its
//! origin one of the target's configured endpoints ([`AllowList`]); the guest may not set
//! credential, cookie, host, proxy or framing headers itself; a credential it names is resolved
//! by the host ([`secrets`](super::secrets), [`tokens`](super::tokens)) and attached only here.
//! The [`Transport`] below then checks resolved addresses, never follows redirects and caps the
//! response size. Responses are scrubbed of the target's secrets before the guest sees them, and
//! each exchange is reported, redacted, to an optional [`HttpObserver`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use url::Url;

use super::egress::TargetEgress;
use super::headers;
use super::secrets::{self, InjectedHeader, SecretValue, REDACTED};
use super::tokens::{self, CachedToken, TokenManager};
use super::transport::{
    Method as WireMethod, OutboundRequest, Transport, TransportError, TransportResponse,
};
use provisioner_contract::{
    ConnectionFailure, Credential, HttpError, Method, OauthGrant, Request, Response,
};

/// Most headers a guest may set on one request.
const MAX_HEADERS: usize = 100;
/// Most bytes of header names and values a guest may set on one request.
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Limits applied to every outbound request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HttpLimits {
    /// Time allowed for one exchange; also caps the timeout a guest asks for.
    pub request_timeout: Duration,
    /// Largest response body accepted; larger ones fail with `response-too-large`.
    pub max_response_bytes: u64,
    /// Largest request body a guest may send.
    pub max_request_bytes: u64,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            max_response_bytes: 8 * 1024 * 1024,
            max_request_bytes: 8 * 1024 * 1024,
        }
    }
}

/// Whether an exchange was the connector's own request or a token request made for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ExchangeKind {
    /// A request the connector sent with `http.send`.
    Api,
    /// A token request the host made to obtain an OAuth access token.
    Token,
}

/// One HTTP exchange as reported to an [`HttpObserver`]; secrets are replaced by `[REDACTED]`.
#[derive(Clone, Debug, Serialize)]
pub struct Exchange {
    /// Tenant of the target.
    pub tenant: String,
    /// Target name.
    pub target: String,
    /// Connector id.
    pub connector: String,
    /// Connector request or host token request.
    pub kind: ExchangeKind,
    /// Method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Request headers, credentials redacted.
    pub request_headers: Vec<(String, String)>,
    /// Request body, secrets redacted.
    pub request_body: Vec<u8>,
    /// Response status, when a response came back.
    pub status: Option<u16>,
    /// Size of the response body in bytes (0 without a response).
    pub response_bytes: usize,
    /// What went wrong, when no response came back.
    pub error: Option<String>,
    /// How long the exchange took.
    pub duration: Duration,
}

/// Receives every exchange the host makes (for the CLI's request log, metrics and tests).
pub trait HttpObserver: Send + Sync + 'static {
    /// Called after each exchange, successful or not.
    fn on_exchange(&self, exchange: &Exchange);
}

/// Runtime-wide pieces of the HTTP capability.
pub(crate) struct HttpShared {
    pub transport: Arc<dyn Transport>,
    pub observer: Option<Arc<dyn HttpObserver>>,
    pub tokens: Arc<TokenManager>,
    pub limits: HttpLimits,
}

/// The `http` import as seen by one call: the target's egress plus the runtime's transport.
#[derive(Clone)]
pub(crate) struct HttpCapability {
    pub egress: Arc<TargetEgress>,
    pub shared: Arc<HttpShared>,
}

/// A request the policy accepted, before the transport sends it.
pub(crate) struct Checked {
    pub kind: ExchangeKind,
    pub method: WireMethod,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub injected: Vec<InjectedHeader>,
    pub body: Option<Vec<u8>>,
    pub timeout: Duration,
}

impl HttpCapability {
    /// Implements `http.send`.
    pub async fn send(&self, request: Request) -> Result<Response, HttpError> {
        let (url, origin) = self.egress.allow.check(&request.url)?;
        let headers = check_guest_headers(request.headers)?;
        if let Some(body) = &request.body {
            let cap = self.shared.limits.max_request_bytes;
            if body.len() as u64 > cap {
                return Err(HttpError::InvalidRequest(format!(
                    "request body of {} bytes exceeds the host's limit of {cap} bytes",
                    body.len()
                )));
            }
        }
        let injected = match &request.credential {
            None => Vec::new(),
            Some(Credential::Oauth(grant)) => {
                let token = self
                    .shared
                    .tokens
                    .access_token(&self.egress, grant, || self.request_token(grant))
                    .await?;
                vec![InjectedHeader {
                    name: "authorization".into(),
                    value: SecretValue::new(format!("Bearer {}", token.expose())),
                }]
            }
            Some(credential) => vec![secrets::inject(&self.egress.secrets, credential, &origin)?],
        };
        if let Some(injected) = injected.first() {
            if headers.iter().any(|(n, _)| *n == injected.name) {
                return Err(HttpError::InvalidRequest(format!(
                    "header `{}` is set both by the request and by its credential",
                    injected.name
                )));
            }
        }
        let timeout = match request.timeout_ms {
            Some(ms) => {
                Duration::from_millis(u64::from(ms).max(1)).min(self.shared.limits.request_timeout)
            }
            None => self.shared.limits.request_timeout,
        };
        let checked = Checked {
            kind: ExchangeKind::Api,
            method: wire_method(request.method),
            url,
            headers,
            injected,
            body: request.body,
            timeout,
        };
        let sent_credentials = secrets::credential_forms(&checked.injected);
        let response = self.dispatch(checked).await?;
        Ok(self.scrub(response, &sent_credentials))
    }

    /// Sends the token request of `grant` under the target's allow-list, reported as a
    /// [`ExchangeKind::Token`] exchange.
    async fn request_token(&self, grant: &OauthGrant) -> Result<CachedToken, HttpError> {
        let http = self;
        let secrets = &http.egress.secrets;
        let token_url = match grant {
            OauthGrant::ClientCredentials(g) => &g.token_url,
            OauthGrant::Password(g) => &g.token_url,
            OauthGrant::JwtBearer(g) => &g.token_url,
        };
        let (url, origin) = http.egress.allow.check(token_url).map_err(|e| match e {
            HttpError::Denied(m) => HttpError::Denied(format!("token URL refused: {m}")),
            other => other,
        })?;
        let (body, injected) = tokens::token_form(secrets, grant, &origin)?;
        let mut redactions: Vec<SecretValue> = secrets.values().cloned().collect();
        redactions.extend(secrets::credential_forms(&injected));
        let checked = Checked {
            kind: ExchangeKind::Token,
            method: WireMethod::POST,
            url,
            headers: vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            injected,
            body: Some(body.into_bytes()),
            timeout: http.shared.limits.request_timeout,
        };
        http.shared.tokens.count_request();
        let response = http.dispatch(checked).await?;
        tokens::parse_token_response(response.status, &response.body, &redactions)
    }

    /// Implements `http.invalidate-token`.
    pub fn invalidate_token(&self, grant: &OauthGrant) {
        self.shared.tokens.invalidate(&self.egress, grant);
    }

    /// Sends a checked request through the transport and reports it to the observer.
    pub(crate) async fn dispatch(&self, checked: Checked) -> Result<TransportResponse, HttpError> {
        let started = Instant::now();
        let mut headers = checked.headers.clone();
        headers.extend(
            checked
                .injected
                .iter()
                .map(|h| (h.name.clone(), h.value.expose().to_string())),
        );
        let outbound = OutboundRequest {
            method: checked.method.clone(),
            url: checked.url.clone(),
            headers,
            body: checked.body.clone(),
            timeout: checked.timeout,
            max_response_bytes: self.shared.limits.max_response_bytes,
            address_policy: self.egress.policy,
            ca_bundle: self.egress.ca_bundle.clone(),
        };
        let result = self.shared.transport.send(outbound).await;
        let duration = started.elapsed();
        tracing::debug!(
            tenant = %self.egress.tenant,
            target = %self.egress.target,
            connector = %self.egress.connector,
            kind = ?checked.kind,
            method = %checked.method,
            url = %checked.url,
            status = result.as_ref().ok().map(|r| r.status),
            error = result.as_ref().err().map(tracing::field::display),
            elapsed_ms = duration.as_millis() as u64,
            "outbound http"
        );
        if let Some(observer) = &self.shared.observer {
            observer.on_exchange(&self.exchange(&checked, &result, duration));
        }
        result.map_err(|e| self.http_error(e))
    }

    fn exchange(
        &self,
        checked: &Checked,
        result: &Result<TransportResponse, TransportError>,
        duration: Duration,
    ) -> Exchange {
        let mut redactions: Vec<SecretValue> = self.egress.secrets.values().cloned().collect();
        redactions.extend(secrets::credential_forms(&checked.injected));
        let mut request_headers: Vec<(String, String)> = checked
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), secrets::redact_str(v, &redactions)))
            .collect();
        request_headers.extend(
            checked
                .injected
                .iter()
                .map(|h| (h.name.clone(), REDACTED.to_string())),
        );
        let request_body = match (&checked.body, checked.kind) {
            (None, _) => Vec::new(),
            (Some(body), ExchangeKind::Token) => tokens::redact_form(body),
            (Some(body), ExchangeKind::Api) => secrets::redact_bytes(body, &redactions),
        };
        Exchange {
            tenant: self.egress.tenant.clone(),
            target: self.egress.target.clone(),
            connector: self.egress.connector.clone(),
            kind: checked.kind,
            method: checked.method.to_string(),
            url: checked.url.to_string(),
            request_headers,
            request_body,
            status: result.as_ref().ok().map(|r| r.status),
            response_bytes: result.as_ref().map(|r| r.body.len()).unwrap_or(0),
            error: result.as_ref().err().map(ToString::to_string),
            duration,
        }
    }

    /// Removes secrets from a response before the guest sees it (a target that echoes the
    /// request would otherwise hand the credential to the connector).
    fn scrub(&self, response: TransportResponse, sent_credentials: &[SecretValue]) -> Response {
        let tokens = self.shared.tokens.cached_tokens(&self.egress);
        let mut redactions: Vec<&SecretValue> = self.egress.secrets.values().collect();
        redactions.extend(tokens.iter());
        redactions.extend(sent_credentials.iter());
        Response {
            status: response.status,
            headers: response
                .headers
                .into_iter()
                .map(|(n, v)| (n, secrets::redact_str(&v, redactions.iter().copied())))
                .collect(),
            body: secrets::redact_bytes(&response.body, redactions.iter().copied()),
        }
    }

    /// Maps a transport failure to the contract's error, scrubbed of secrets.
    pub(crate) fn http_error(&self, error: TransportError) -> HttpError {
        let clean = |text: String| secrets::redact_str(&text, self.egress.secrets.values());
        match error {
            TransportError::Denied(m) => HttpError::Denied(clean(m)),
            TransportError::Timeout => HttpError::Timeout,
            TransportError::Connection { message, sent } => {
                HttpError::ConnectionFailed(ConnectionFailure {
                    message: clean(message),
                    sent,
                })
            }
            TransportError::TooLarge(cap) => HttpError::ResponseTooLarge(cap),
            TransportError::Invalid(m) => HttpError::InvalidRequest(clean(m)),
        }
    }
}

fn wire_method(method: Method) -> WireMethod {
    match method {
        Method::Get => WireMethod::GET,
        Method::Head => WireMethod::HEAD,
        Method::Post => WireMethod::POST,
        Method::Put => WireMethod::PUT,
        Method::Patch => WireMethod::PATCH,
        Method::Delete => WireMethod::DELETE,
    }
}

fn check_guest_headers(headers: Vec<(String, String)>) -> Result<Vec<(String, String)>, HttpError> {
    if headers.len() > MAX_HEADERS {
        return Err(HttpError::InvalidRequest(format!(
            "{} headers exceed the limit of {MAX_HEADERS}",
            headers.len()
        )));
    }
    let total: usize = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    if total > MAX_HEADER_BYTES {
        return Err(HttpError::InvalidRequest(format!(
            "headers of {total} bytes exceed the limit of {MAX_HEADER_BYTES} bytes"
        )));
    }
    headers
        .into_iter()
        .map(|(name, value)| {
            headers::check_header_name(&name)?;
            if reqwest::header::HeaderValue::from_str(&value).is_err() {
                return Err(HttpError::InvalidRequest(format!(
                    "invalid value for header `{name}`"
                )));
            }
            Ok((name.to_ascii_lowercase(), value))
        })
        .collect()
}
