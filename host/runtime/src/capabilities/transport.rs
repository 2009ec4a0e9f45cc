//! The transport below the HTTP policy: sends one fully formed, already-checked request.
//!
//! [`ReqwestTransport`] is the production implementation. It never follows redirects, ignores
//! proxy settings from the environment, resolves host names itself and refuses addresses the
//! target's [`EgressPolicy`] does not allow, and reads response bodies with a size cap. It always
//! verifies server certificates: against the built-in web PKI roots plus the target's
//! [`CaBundle`], if it names one. Benchmarks and tests can plug in a canned [`Transport`] instead.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::Url;

use super::egress::EgressPolicy;
use super::trust::CaBundle;

/// HTTP method of an outbound request.
pub use reqwest::Method;

/// A request that passed the policy, with any credential already attached.
#[derive(Debug)]
pub struct OutboundRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL whose origin is on the target's allow-list.
    pub url: Url,
    /// Headers (names lower case); credential headers included.
    pub headers: Vec<(String, String)>,
    /// Body, if any.
    pub body: Option<Vec<u8>>,
    /// Time allowed for the whole exchange, response body included.
    pub timeout: Duration,
    /// Largest response body accepted, in bytes.
    pub max_response_bytes: u64,
    /// Which non-public addresses may be connected to.
    pub address_policy: EgressPolicy,
    /// CA certificates trusted in addition to the built-in roots.
    pub ca_bundle: Option<CaBundle>,
}

/// A complete response.
#[derive(Clone, Debug, Default)]
pub struct TransportResponse {
    /// Status code.
    pub status: u16,
    /// Headers in received order (names lower case, values lossily decoded).
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

/// Why a transport got no complete response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The destination address is not allowed by the egress policy.
    #[error("denied: {0}")]
    Denied(String),
    /// No complete response within the timeout.
    #[error("timed out")]
    Timeout,
    /// Connecting failed (`sent == false`) or the connection broke after the request was sent.
    #[error("connection failed: {message}")]
    Connection {
        /// What went wrong.
        message: String,
        /// Whether the request may have reached the server.
        sent: bool,
    },
    /// The response body is larger than the cap (the cap, in bytes).
    #[error("response larger than {0} bytes")]
    TooLarge(u64),
    /// The request could not be built (bad header, bad method).
    #[error("invalid request: {0}")]
    Invalid(String),
}

/// A boxed future returned by [`Transport::send`].
pub type TransportFuture<'a> =
    Pin<Box<dyn Future<Output = Result<TransportResponse, TransportError>> + Send + 'a>>;

/// Sends requests that the HTTP capability has already checked and completed.
pub trait Transport: Send + Sync + 'static {
    /// Sends one request and reads the whole response.
    fn send(&self, request: OutboundRequest) -> TransportFuture<'_>;
}

/// What distinguishes one HTTP client from another: its resolver's address policy and the
/// digest of its extra CA certificates.
type ClientKey = (EgressPolicy, Option<[u8; 32]>);

/// The production transport, on reqwest with rustls.
pub struct ReqwestTransport {
    /// One client per distinct (address policy, CA bundle), built on first use; each client's
    /// resolver enforces its policy and its roots are the built-in ones plus the bundle.
    clients: Mutex<HashMap<ClientKey, reqwest::Client>>,
}

impl Default for ReqwestTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl ReqwestTransport {
    /// A transport with lazily built clients.
    pub fn new() -> Self {
        Self {
            clients: Default::default(),
        }
    }

    /// How many distinct clients have been built so far.
    pub fn client_count(&self) -> usize {
        self.clients.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn client(
        &self,
        policy: EgressPolicy,
        ca_bundle: Option<&CaBundle>,
    ) -> Result<reqwest::Client, TransportError> {
        let key = (policy, ca_bundle.map(CaBundle::digest));
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(PolicyResolver { policy }))
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("provisioner/", env!("CARGO_PKG_VERSION")));
        if let Some(bundle) = ca_bundle {
            let roots = bundle.roots().map_err(|e| {
                TransportError::Invalid(format!(
                    "CA bundle `{}` is unusable: {}",
                    bundle.source(),
                    error_text(&e)
                ))
            })?;
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        let client = builder.build().map_err(|e| {
            TransportError::Invalid(format!("cannot build HTTP client: {}", error_text(&e)))
        })?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    async fn exchange(
        &self,
        request: OutboundRequest,
    ) -> Result<TransportResponse, TransportError> {
        // IP literals are not resolved, so check them here; names are checked by the resolver.
        let literal = match request.url.host() {
            Some(url::Host::Ipv4(ip)) => Some(std::net::IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(std::net::IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal {
            if let Some(why) = request.address_policy.refusal(ip) {
                return Err(TransportError::Denied(format!(
                    "egress denied: {ip} is {why}, which this target's egress policy does not allow"
                )));
            }
        }
        let client = self.client(request.address_policy, request.ca_bundle.as_ref())?;
        let mut builder = client
            .request(request.method, request.url)
            .timeout(request.timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let built = builder
            .build()
            .map_err(|e| TransportError::Invalid(error_text(&e)))?;
        let mut response = client.execute(built).await.map_err(map_send_error)?;

        let cap = request.max_response_bytes;
        if response.content_length().is_some_and(|len| len > cap) {
            return Err(TransportError::TooLarge(cap));
        }
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(map_body_error)? {
            if body.len() as u64 + chunk.len() as u64 > cap {
                return Err(TransportError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(TransportResponse {
            status,
            headers,
            body,
        })
    }
}

impl Transport for ReqwestTransport {
    fn send(&self, request: OutboundRequest) -> TransportFuture<'_> {
        Box::pin(async move {
            // reqwest's timeout covers the body too; this is a backstop for the resolver.
            let limit = request.timeout + Duration::from_millis(250);
            match tokio::time::timeout(limit, self.exchange(request)).await {
                Ok(result) => result,
                Err(_) => Err(TransportError::Timeout),
            }
        })
    }
}

/// The error our resolver returns for addresses the policy refuses.
#[derive(Debug)]
struct AddressDenied(String);

impl fmt::Display for AddressDenied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for AddressDenied {}

/// Resolves with the system resolver and drops every address the policy refuses; fails with
/// [`AddressDenied`] when none is left.
struct PolicyResolver {
    policy: EgressPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = Vec::new();
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|addr| match policy.refusal(addr.ip()) {
                    None => true,
                    Some(why) => {
                        refused.push(format!("{} ({why})", addr.ip()));
                        false
                    }
                })
                .collect();
            if allowed.is_empty() {
                let message = if refused.is_empty() {
                    format!("`{host}` did not resolve to any address")
                } else {
                    format!(
                        "egress denied: `{host}` resolves to {}, which this target's egress policy does not allow",
                        refused.join(", ")
                    )
                };
                return Err(Box::new(AddressDenied(message)) as Box<dyn StdError + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

fn find_denied(error: &(dyn StdError + 'static)) -> Option<String> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(denied) = e.downcast_ref::<AddressDenied>() {
            return Some(denied.0.clone());
        }
        current = e.source();
    }
    None
}

/// The error and its sources on one line.
fn error_text(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(e) = current {
        let part = e.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        current = e.source();
    }
    text
}

fn map_send_error(error: reqwest::Error) -> TransportError {
    if let Some(message) = find_denied(&error) {
        return TransportError::Denied(message);
    }
    if error.is_timeout() {
        return TransportError::Timeout;
    }
    if error.is_builder() {
        return TransportError::Invalid(error_text(&error));
    }
    TransportError::Connection {
        message: error_text(&error),
        sent: !error.is_connect(),
    }
}

fn map_body_error(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        return TransportError::Timeout;
    }
    TransportError::Connection {
        message: error_text(&error),
        sent: true,
    }
}
