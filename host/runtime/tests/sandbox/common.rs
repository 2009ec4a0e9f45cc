//! Shared test helpers: a recording loopback HTTP server, runtimes and entities.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use provisioner_contract::{Change, Claim, Entity, Operation, User};
use provisioner_runtime::{Exchange, HttpObserver, Runtime, RuntimeConfig};

/// One request the test server received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// Everything received, as text, for "never contains" assertions.
    pub fn all_text(&self) -> String {
        format!(
            "{} {} {:?} {}",
            self.method,
            self.path,
            self.headers,
            String::from_utf8_lossy(&self.body)
        )
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the `/token` endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenMode {
    Issue,
    Refuse,
    Garbage,
}

pub struct ServerState {
    pub requests: Mutex<Vec<Recorded>>,
    pub tokens_issued: AtomicUsize,
    pub token_mode: Mutex<TokenMode>,
}

/// A loopback HTTP server that records every request.
#[derive(Clone)]
pub struct TestServer {
    pub base: String,
    pub port: u16,
    pub state: Arc<ServerState>,
}

pub const HUGE_BYTES: usize = 2 * 1024 * 1024;

impl TestServer {
    pub async fn start() -> Self {
        let state = Arc::new(ServerState {
            requests: Mutex::default(),
            tokens_issued: AtomicUsize::new(0),
            token_mode: Mutex::new(TokenMode::Issue),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: format!("http://127.0.0.1:{port}"),
            port,
            state,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().unwrap().clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    pub fn tokens_issued(&self) -> usize {
        self.state.tokens_issued.load(Ordering::SeqCst)
    }

    pub fn set_token_mode(&self, mode: TokenMode) {
        *self.state.token_mode.lock().unwrap() = mode;
    }
}

fn headers_of(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

async fn handle(State(state): State<Arc<ServerState>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default()
        .to_vec();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        headers: headers_of(&parts.headers),
        body,
    };
    state.requests.lock().unwrap().push(recorded.clone());
    let query = parts.uri.query().unwrap_or("");
    match recorded.path.as_str() {
        "/ok" => "hello".into_response(),
        "/echo" => {
            let mut text = format!("{} {}\n", recorded.method, recorded.path);
            for (n, v) in &recorded.headers {
                text.push_str(&format!("{n}: {v}\n"));
            }
            text.push('\n');
            text.push_str(&String::from_utf8_lossy(&recorded.body));
            text.into_response()
        }
        "/collect" => "collected".into_response(),
        "/echo-split" => {
            // Echoes the credential cut in two, as a target might in a diagnostic.
            let credential = recorded.header("authorization").unwrap_or_default();
            let token = credential.split_once(' ').map_or(credential, |(_, t)| t);
            let (first, second) = token.split_at(token.len() / 2);
            format!(r#"{{"first":"{first}","second":"{second}"}}"#).into_response()
        }
        "/huge" => vec![b'a'; HUGE_BYTES].into_response(),
        "/huge-chunked" => {
            let chunks =
                (0..HUGE_BYTES / 65536).map(|_| Ok::<_, std::io::Error>(vec![b'b'; 65536]));
            Body::from_stream(futures::stream::iter(chunks)).into_response()
        }
        "/redirect" => {
            let to = query.strip_prefix("to=").unwrap_or("/ok").to_string();
            (StatusCode::FOUND, [("location", to)], "moved").into_response()
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            "slow".into_response()
        }
        "/token" => {
            // Slow enough that concurrent callers overlap.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let mode = *state.token_mode.lock().unwrap();
            match mode {
                TokenMode::Issue => {
                    let n = state.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
                    let body = format!(
                        r#"{{"access_token":"tok-{n}-0123456789","instance_url":"https://instance.example","token_type":"Bearer"}}"#
                    );
                    ([("content-type", "application/json")], body).into_response()
                }
                TokenMode::Refuse => (
                    StatusCode::BAD_REQUEST,
                    [("content-type", "application/json")],
                    r#"{"error":"invalid_client","error_description":"client secret is wrong"}"#,
                )
                    .into_response(),
                TokenMode::Garbage => {
                    (StatusCode::BAD_GATEWAY, "<html>upstream exploded</html>").into_response()
                }
            }
        }
        _ => (StatusCode::NOT_FOUND, "no such path").into_response(),
    }
}

/// Records every exchange the host reports.
#[derive(Default)]
pub struct Recorder(pub Mutex<Vec<Exchange>>);

impl HttpObserver for Recorder {
    fn on_exchange(&self, exchange: &Exchange) {
        self.0.lock().unwrap().push(exchange.clone());
    }
}

impl Recorder {
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.0.lock().unwrap().clone()
    }
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A cache directory shared by the tests of one binary, so each component compiles once.
pub fn shared_cache_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("provisioner-test-cache")
}

/// Test runtime config: shared cache, short deadline.
pub fn test_config() -> RuntimeConfig {
    let mut config = RuntimeConfig::new(shared_cache_dir());
    config.call_deadline = Duration::from_secs(2);
    config.outer_timeout = Duration::from_secs(20);
    config.max_concurrent_calls = 16;
    config
}

pub fn runtime_with(config: RuntimeConfig, observer: Option<Arc<Recorder>>) -> Runtime {
    init_tracing();
    let mut builder = Runtime::builder(config);
    if let Some(observer) = observer {
        builder = builder.observer(observer);
    }
    builder.build().expect("runtime starts")
}

/// The creation of a user with the given claims.
pub fn entity(claims: &[(&str, &str)]) -> Change {
    Change {
        operation: Operation::Create,
        entity: Entity::User(User {
            local_id: "u-1".into(),
            name: "alice".into(),
            remote_id: None,
            claims: claims
                .iter()
                .map(|(uri, value)| Claim {
                    uri: uri.to_string(),
                    values: vec![value.to_string()],
                })
                .collect(),
            changed_claims: vec![],
            previous_name: None,
        }),
    }
}

/// The value of `key=` in an outcome's warnings.
pub fn warning<'a>(warnings: &'a [String], key: &str) -> &'a str {
    let prefix = format!("{key}=");
    warnings
        .iter()
        .find_map(|w| w.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no `{key}` in {warnings:?}"))
}
