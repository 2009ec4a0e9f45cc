//! The scripted mock target of `connector check`: an HTTP server on loopback that answers every
//! path with the current [`Scenario`]'s status, whatever the connector asks.
//!
//! Success bodies carry an `id` plus the list shapes of common targets (SCIM `Resources` and
//! `totalResults`, Salesforce `records` and `totalSize`), so lookups by query find the entity. A
//! `POST` to a path containing `token` always answers an OAuth token whose `instance_url` is the
//! mock itself, so connectors that authenticate with OAuth reach their API calls.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::Response;
use serde_json::json;

/// The remote id the mock gives every entity (18 letters and digits, which also passes
/// Salesforce-style id checks).
pub const REMOTE_ID: &str = "005CHECKREMOTE0001";
/// The id a 409 answer names as the existing entity.
pub const EXISTING_ID: &str = "005CHECKEXISTS0002";
/// Seconds the 429 answer's `Retry-After` asks for.
pub const RETRY_AFTER_SECONDS: u64 = 7;

/// How the mock answers API requests (token requests always succeed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// 2xx with a body that has `id`.
    Success,
    /// 401 to the first API request, success after.
    UnauthorizedOnce,
    /// 404.
    NotFound,
    /// 409 naming [`EXISTING_ID`].
    Conflict,
    /// 429 with `Retry-After: 7`.
    RateLimited,
    /// 500.
    ServerError,
    /// A 200 whose body breaks off: the connection is reset mid-response.
    Reset,
    /// No answer until well past the request deadline.
    Stall,
}

impl Scenario {
    /// Every scenario, success first.
    pub const ALL: [Scenario; 8] = [
        Scenario::Success,
        Scenario::UnauthorizedOnce,
        Scenario::NotFound,
        Scenario::Conflict,
        Scenario::RateLimited,
        Scenario::ServerError,
        Scenario::Reset,
        Scenario::Stall,
    ];

    /// How a report names the scenario.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Success => "success",
            Scenario::UnauthorizedOnce => "401 once",
            Scenario::NotFound => "404",
            Scenario::Conflict => "409",
            Scenario::RateLimited => "429",
            Scenario::ServerError => "500",
            Scenario::Reset => "reset",
            Scenario::Stall => "stall",
        }
    }
}

struct MockState {
    base: String,
    scenario: Mutex<Scenario>,
    api_requests: AtomicUsize,
    stall: Duration,
}

/// A running mock target; stops when dropped.
pub struct MockTarget {
    state: Arc<MockState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for MockTarget {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl MockTarget {
    /// Starts the mock on a free loopback port; a stalled answer waits `stall` (make it longer
    /// than the request deadline).
    pub async fn start(stall: Duration) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let state = Arc::new(MockState {
            base,
            scenario: Mutex::new(Scenario::Success),
            api_requests: AtomicUsize::new(0),
            stall,
        });
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { state, server })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> &str {
        &self.state.base
    }

    /// Answers from now on with `scenario` (and restarts the "once" counter).
    pub fn set(&self, scenario: Scenario) {
        *self.state.scenario.lock().unwrap() = scenario;
        self.state.api_requests.store(0, Ordering::SeqCst);
    }

    /// API requests (not token requests) received since the last [`MockTarget::set`].
    pub fn api_requests(&self) -> usize {
        self.state.api_requests.load(Ordering::SeqCst)
    }
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a valid response")
}

fn success(state: &MockState, method: &Method) -> Response {
    let entity = json!({
        "id": REMOTE_ID,
        "Id": REMOTE_ID,
        "userName": "check.user@example.com",
        "Username": "check.user@example.com",
        "displayName": "Check Group",
        "active": true,
        "IsActive": true,
    });
    match *method {
        Method::POST => json_response(
            StatusCode::CREATED,
            json!({"id": REMOTE_ID, "success": true, "errors": []}),
        ),
        Method::DELETE => Response::builder()
            .status(StatusCode::NO_CONTENT)
            .body(Body::empty())
            .expect("a valid response"),
        Method::GET | Method::HEAD => {
            let mut body = entity.clone();
            body["schemas"] = json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"]);
            body["Resources"] = json!([entity]);
            body["totalResults"] = json!(1);
            body["records"] = json!([entity]);
            body["totalSize"] = json!(1);
            body["done"] = json!(true);
            body["instance_url"] = json!(state.base);
            json_response(StatusCode::OK, body)
        }
        _ => json_response(StatusCode::OK, entity),
    }
}

fn error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        json!({"error": message, "detail": message, "message": message}),
    )
}

async fn answer(State(state): State<Arc<MockState>>, request: Request) -> Response {
    let method = request.method().clone();
    if method == Method::POST && request.uri().path().contains("token") {
        return json_response(
            StatusCode::OK,
            json!({
                "access_token": "check-access-token",
                "token_type": "Bearer",
                "expires_in": 3600,
                "instance_url": state.base,
                "id": format!("{}/id/check", state.base),
            }),
        );
    }
    let seen = state.api_requests.fetch_add(1, Ordering::SeqCst);
    let scenario = *state.scenario.lock().unwrap();
    match scenario {
        Scenario::Success => success(&state, &method),
        Scenario::UnauthorizedOnce if seen == 0 => {
            error(StatusCode::UNAUTHORIZED, "the access token expired")
        }
        Scenario::UnauthorizedOnce => success(&state, &method),
        Scenario::NotFound => error(StatusCode::NOT_FOUND, "no such entity"),
        Scenario::Conflict => json_response(
            StatusCode::CONFLICT,
            json!({"id": EXISTING_ID, "error": "the entity already exists"}),
        ),
        Scenario::RateLimited => {
            let mut response = error(StatusCode::TOO_MANY_REQUESTS, "slow down");
            response.headers_mut().insert(
                header::RETRY_AFTER,
                RETRY_AFTER_SECONDS
                    .to_string()
                    .parse()
                    .expect("a header value"),
            );
            response
        }
        Scenario::ServerError => error(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        Scenario::Reset => {
            let chunks: Vec<Result<&'static str, std::io::Error>> = vec![
                Ok("{\"id\": \"005CHECKREMOTE0001\", \"partial\": \""),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "reset by the mock target",
                )),
            ];
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(futures::stream::iter(chunks)))
                .expect("a valid response")
        }
        Scenario::Stall => {
            tokio::time::sleep(state.stall).await;
            error(StatusCode::GATEWAY_TIMEOUT, "answered too late")
        }
    }
}
