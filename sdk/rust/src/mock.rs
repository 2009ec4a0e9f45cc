//! [`MockHost`]: a scripted host for native unit tests of a connector.
//!
//! Script responses by method and path (answered every time; the latest script for a route
//! wins) or in a queue (answered once each, in order, for requests no route matches). Every
//! request is recorded, with its credential shown by the secret's *key* (the mock never sees a
//! value, just as a real connector never does), and so is every log event.
//!
//! ```
//! use provisioner_sdk::mock::{self, MockHost};
//! use provisioner_sdk::{Context, Method, RequestBuilder};
//!
//! let host = MockHost::new();
//! host.on(Method::Post, "/users", mock::json(201, &serde_json::json!({"id": "42"})));
//! let config = mock::config().with_secret("api-token");
//! let cx = Context::new(&host, &config);
//! let created = cx
//!     .send_json(RequestBuilder::post("https://api.example.com").segment("users").bearer("api-token"))
//!     .unwrap();
//! assert_eq!(created["id"], "42");
//! assert_eq!(host.requests()[0].credential.as_deref(), Some("bearer:api-token"));
//! ```

use std::cell::RefCell;
use std::collections::VecDeque;

use crate::{
    ConnectorConfig, Credential, Host, HttpError, Level, Method, OauthGrant, Request, Response,
};

/// One answer the mock gives.
type Answer = Result<Response, HttpError>;

/// A request as the mock received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The full URL.
    pub url: String,
    /// The URL's path and query, without scheme and authority (`/users?userName=a`).
    pub path: String,
    /// The headers the connector set (the credential is not among them).
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// The credential, by secret key: `bearer:<key>`, `basic:<user>:<key>`,
    /// `header:<name>:<key>`, `oauth-client-credentials:<client-id>:<key>`,
    /// `oauth-password:<user>:<key>` or `oauth-jwt:<subject>:<key>`.
    pub credential: Option<String>,
    /// The timeout asked for.
    pub timeout_ms: Option<u32>,
}

impl RecordedRequest {
    /// The body parsed as JSON (`null` when there is none or it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(serde_json::Value::Null)
    }

    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A log event as the mock received it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedLog {
    /// Severity.
    pub level: Level,
    /// Message.
    pub message: String,
    /// Structured fields.
    pub fields: Vec<(String, String)>,
}

/// A scripted [`Host`] that records what the connector does.
#[derive(Default)]
pub struct MockHost {
    routes: RefCell<Vec<(Method, String, Answer)>>,
    queue: RefCell<VecDeque<Answer>>,
    requests: RefCell<Vec<RecordedRequest>>,
    logs: RefCell<Vec<RecordedLog>>,
    invalidated: RefCell<Vec<OauthGrant>>,
}

impl MockHost {
    /// A host with no scripted responses.
    pub fn new() -> Self {
        Self::default()
    }

    /// Answers every `method` request whose path (with its query when `path` has one) is
    /// `path` with `response`.
    pub fn on(&self, method: Method, path: &str, response: Response) -> &Self {
        self.route(method, path, Ok(response))
    }

    /// Fails every `method` request to `path` with `error`.
    pub fn on_error(&self, method: Method, path: &str, error: HttpError) -> &Self {
        self.route(method, path, Err(error))
    }

    /// Queues `response` for the next request that no route matches.
    pub fn push(&self, response: Response) -> &Self {
        self.queue.borrow_mut().push_back(Ok(response));
        self
    }

    /// Queues `error` for the next request that no route matches.
    pub fn push_error(&self, error: HttpError) -> &Self {
        self.queue.borrow_mut().push_back(Err(error));
        self
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.borrow().clone()
    }

    /// Every log event received so far, in order.
    pub fn logs(&self) -> Vec<RecordedLog> {
        self.logs.borrow().clone()
    }

    /// The grants whose cached token the connector invalidated, in order.
    pub fn invalidated_tokens(&self) -> Vec<OauthGrant> {
        self.invalidated.borrow().clone()
    }

    fn route(&self, method: Method, path: &str, answer: Answer) -> &Self {
        self.routes
            .borrow_mut()
            .push((method, path.to_string(), answer));
        self
    }

    fn answer(&self, method: Method, path: &str) -> Answer {
        let without_query = path.split('?').next().unwrap_or(path);
        let routed = self
            .routes
            .borrow()
            .iter()
            .rev()
            .find(|(m, p, _)| {
                *m == method && (p == path || (!p.contains('?') && p == without_query))
            })
            .map(|(_, _, answer)| answer.clone());
        routed
            .or_else(|| self.queue.borrow_mut().pop_front())
            .unwrap_or_else(|| {
                Err(HttpError::InvalidRequest(format!(
                    "MockHost has no response scripted for {} {path}; add one with \
                     MockHost::on or MockHost::push",
                    crate::error::method_name(method)
                )))
            })
    }
}

impl Host for MockHost {
    fn send(&self, request: &Request) -> Result<Response, HttpError> {
        let path = path_of(&request.url);
        self.requests.borrow_mut().push(RecordedRequest {
            method: request.method,
            url: request.url.clone(),
            path: path.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            credential: request.credential.as_ref().map(describe),
            timeout_ms: request.timeout_ms,
        });
        self.answer(request.method, &path)
    }

    fn invalidate_token(&self, grant: &OauthGrant) {
        self.invalidated.borrow_mut().push(grant.clone());
    }

    fn log(&self, level: Level, message: &str, fields: &[(String, String)]) {
        self.logs.borrow_mut().push(RecordedLog {
            level,
            message: message.to_string(),
            fields: fields.to_vec(),
        });
    }
}

/// The path and query of `url` (`/` when it has none).
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    match after_scheme.find(['/', '?']) {
        Some(i) if after_scheme[i..].starts_with('?') => format!("/{}", &after_scheme[i..]),
        Some(i) => after_scheme[i..].to_string(),
        None => "/".to_string(),
    }
}

/// A credential shown by its secret key.
fn describe(credential: &Credential) -> String {
    match credential {
        Credential::Bearer(secret) => format!("bearer:{}", secret.key),
        Credential::Basic(basic) => format!("basic:{}:{}", basic.username, basic.password.key),
        Credential::Header(header) => format!("header:{}:{}", header.name, header.value.key),
        Credential::Oauth(OauthGrant::ClientCredentials(g)) => {
            format!(
                "oauth-client-credentials:{}:{}",
                g.client_id, g.client_secret.key
            )
        }
        Credential::Oauth(OauthGrant::Password(g)) => {
            format!("oauth-password:{}:{}", g.username, g.password.key)
        }
        Credential::Oauth(OauthGrant::JwtBearer(g)) => {
            format!("oauth-jwt:{}:{}", g.subject, g.private_key.key)
        }
    }
}

/// A response with `status` and no body.
pub fn status(status: u16) -> Response {
    Response {
        status,
        headers: vec![],
        body: vec![],
    }
}

/// A response with `status` and a JSON body.
pub fn json(status: u16, body: &serde_json::Value) -> Response {
    Response {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

/// A response with `status` and a text body.
pub fn text(status: u16, body: &str) -> Response {
    Response {
        status,
        headers: vec![("Content-Type".into(), "text/plain".into())],
        body: body.as_bytes().to_vec(),
    }
}

/// An empty configuration of tenant `carbon.super`, target `test`; add values with the
/// `with_*` builders of [`ConnectorConfig`].
pub fn config() -> ConnectorConfig {
    ConnectorConfig::new("carbon.super", "test")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RequestBuilder, SecretRef};

    fn send(host: &MockHost, request: RequestBuilder) -> Result<Response, HttpError> {
        host.send(&request.build())
    }

    #[test]
    fn routes_answer_repeatedly_and_the_latest_wins() {
        let host = MockHost::new();
        host.on(Method::Get, "/users", status(200));
        host.on(Method::Get, "/users", status(204));
        for _ in 0..2 {
            let r = send(
                &host,
                RequestBuilder::get("https://h/users").query("a", "b"),
            );
            assert_eq!(r.unwrap().status, 204);
        }
        assert_eq!(host.requests()[0].path, "/users?a=b");
    }

    #[test]
    fn routes_with_a_query_match_it_exactly() {
        let host = MockHost::new();
        host.on(Method::Get, "/users?userName=a", status(200));
        host.on(Method::Get, "/users?userName=b", status(404));
        let get = |name| {
            send(
                &host,
                RequestBuilder::get("https://h/users").query("userName", name),
            )
        };
        assert_eq!(get("a").unwrap().status, 200);
        assert_eq!(get("b").unwrap().status, 404);
        assert!(matches!(get("c"), Err(HttpError::InvalidRequest(_))));
    }

    #[test]
    fn the_queue_answers_once_each_in_order() {
        let host = MockHost::new();
        host.push(status(500)).push_error(HttpError::Timeout);
        assert_eq!(
            send(&host, RequestBuilder::post("https://h/x"))
                .unwrap()
                .status,
            500
        );
        assert_eq!(
            send(&host, RequestBuilder::post("https://h/x")),
            Err(HttpError::Timeout)
        );
        match send(&host, RequestBuilder::delete("https://h/x")) {
            Err(HttpError::InvalidRequest(why)) => {
                assert!(why.contains("no response scripted for DELETE /x"), "{why}")
            }
            other => panic!("expected a scripting error, got {other:?}"),
        }
    }

    #[test]
    fn requests_are_recorded_with_credentials_by_key() {
        let host = MockHost::new();
        host.push(status(200)).push(status(200));
        send(
            &host,
            RequestBuilder::put("https://h")
                .json(&serde_json::json!({"a": 1}))
                .basic("bob", "password")
                .timeout_ms(10),
        )
        .unwrap();
        send(
            &host,
            RequestBuilder::get("https://h?x=1").secret_header("X-Key", "api-key"),
        )
        .unwrap();
        let requests = host.requests();
        assert_eq!(requests[0].path, "/");
        assert_eq!(
            requests[0].credential.as_deref(),
            Some("basic:bob:password")
        );
        assert_eq!(requests[0].json()["a"], 1);
        assert_eq!(requests[0].header("content-type"), Some("application/json"));
        assert_eq!(requests[0].timeout_ms, Some(10));
        assert_eq!(requests[1].path, "/?x=1");
        assert_eq!(
            requests[1].credential.as_deref(),
            Some("header:X-Key:api-key")
        );
    }

    #[test]
    fn invalidations_and_logs_are_recorded() {
        let host = MockHost::new();
        let grant = OauthGrant::ClientCredentials(crate::ClientCredentialsGrant {
            token_url: "https://h/token".into(),
            client_id: "app".into(),
            client_secret: SecretRef {
                key: "secret".into(),
            },
            use_basic_auth: false,
        });
        host.invalidate_token(&grant);
        host.log(Level::Error, "boom", &[]);
        assert_eq!(host.invalidated_tokens(), vec![grant]);
        assert_eq!(host.logs()[0].message, "boom");
    }
}
