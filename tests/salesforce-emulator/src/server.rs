//! The emulator server and its in-process handle: binding (HTTP, or HTTPS with a generated CA),
//! routing, control-API access, request observation, direct state access for tests, and
//! graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
    Router,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::EmulatorConfig;
use crate::conn::{AbortableListener, ConnHandle, ResetConnection};
use crate::control::{self, LimitsUpdate, Seed, Settings, CONTROL_PREFIX};
use crate::control_auth::{self, ControlAccess};
use crate::counters::{Counters, RequestLogEntry};
use crate::faults::{ArmedFault, FaultSpec};
use crate::identity::{identity, IDENTITY_PATH};
use crate::limits::ApiUsage;
use crate::oauth::{token_endpoint, TOKEN_PATH};
use crate::response::ApiError;
use crate::state::{AppState, Org, Shared};
use crate::time::now_ms;
use crate::users::UserRecord;
use crate::{ids, rest};

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// Binding or inspecting the listening socket failed.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    /// The configuration is unusable.
    #[error("invalid configuration: {0}")]
    Config(String),
}

/// How the emulator serves: HTTP or HTTPS, and who may use the control API.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOptions {
    /// Serve HTTPS with a CA generated at start ([`Emulator::ca_certificate_pem`]).
    pub https: bool,
    /// Control API access; a random control token by default.
    pub control: ControlAccess,
}

impl ServeOptions {
    /// Serve HTTPS (builder style).
    pub fn https(mut self) -> Self {
        self.https = true;
        self
    }

    /// Leave the control API open to anyone who can reach the port (builder style); for tests
    /// that need it.
    pub fn open_control(mut self) -> Self {
        self.control = ControlAccess::Open;
        self
    }
}

/// A running emulator. Dropping it stops the server (in the background); [`Emulator::shutdown`]
/// stops it and waits.
#[derive(Debug)]
pub struct Emulator {
    shared: AppState,
    addr: SocketAddr,
    control_token: Option<String>,
    ca_pem: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Builds the full router over a shared state; with a `control_token`, every control route
/// requires it as a bearer token.
pub fn router(app: AppState, control_token: Option<&str>) -> Router {
    let control = match control_token {
        Some(token) => control::router().route_layer(middleware::from_fn_with_state(
            Arc::<str>::from(token),
            control_auth::require_token,
        )),
        None => control::router(),
    };
    Router::new()
        .route(TOKEN_PATH, post(token_endpoint))
        .route(IDENTITY_PATH, get(identity))
        .merge(control)
        .fallback(rest_or_not_found)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

async fn rest_or_not_found(
    state: State<AppState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let path = uri.path();
    if path == "/services/data" || path.starts_with("/services/data/") {
        rest::data_api(state, method, uri, headers, body).await
    } else {
        axum::response::IntoResponse::into_response(ApiError::not_found())
    }
}

/// Logs and counts every request and performs connection resets asked for by handlers.
async fn observe(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let conn = req.extensions().get::<ConnectInfo<ConnHandle>>().cloned();
    let started = Instant::now();
    let at_ms = now_ms();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let resp = next.run(req).await;
    let reset = resp.extensions().get::<ResetConnection>().is_some();
    if reset {
        if let Some(ConnectInfo(conn)) = &conn {
            conn.abort();
        }
    }
    if !path.starts_with(CONTROL_PREFIX) {
        let mut org = app.org();
        *org.counters.by_method.entry(method.clone()).or_default() += 1;
        *org.counters
            .by_path
            .entry(format!("{method} {path}"))
            .or_default() += 1;
        org.log.push(RequestLogEntry {
            seq: 0,
            method,
            path,
            query,
            status: if reset { 0 } else { resp.status().as_u16() },
            at_ms,
            duration_ms: started.elapsed().as_millis() as u64,
        });
    }
    resp
}

/// Issues a valid access token for the integration user without going through OAuth.
pub fn mint_token(app: &AppState) -> String {
    let mut org = app.org();
    let org15 = org.config.org_id.clone();
    let user = org.directory.integration_user_id.clone();
    let Org { sessions, rng, .. } = &mut *org;
    sessions.issue(&org15, &user, rng)
}

fn check_config(config: &EmulatorConfig) -> Result<(), EmulatorError> {
    if config.org_id.len() != 15
        || !config.org_id.starts_with(ids::ORG_PREFIX)
        || !ids::is_valid_id(&config.org_id)
    {
        return Err(EmulatorError::Config(format!(
            "org_id must be a 15-character 00D id, got {:?}",
            config.org_id
        )));
    }
    for p in &config.profiles {
        if !ids::is_valid_id(&p.id) || !p.id.starts_with(ids::PROFILE_PREFIX) {
            return Err(EmulatorError::Config(format!(
                "profile id {:?} is not a 00e id",
                p.id
            )));
        }
    }
    if let Some(pem) = &config.jwt_public_key_pem {
        crate::jwt::parse_public_key(pem).map_err(EmulatorError::Config)?;
    }
    if config.latest_api_version < config.oldest_api_version {
        return Err(EmulatorError::Config(
            "latest_api_version is below oldest_api_version".into(),
        ));
    }
    Ok(())
}

impl Emulator {
    /// Starts an emulator over HTTP on an ephemeral loopback port, its control API behind a
    /// random control token.
    pub async fn start(config: EmulatorConfig) -> Result<Self, EmulatorError> {
        Self::start_with(config, ServeOptions::default()).await
    }

    /// Starts an emulator on an ephemeral loopback port with the given options.
    pub async fn start_with(
        config: EmulatorConfig,
        options: ServeOptions,
    ) -> Result<Self, EmulatorError> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)), config, options).await
    }

    /// Starts an emulator on the given address with the given options.
    pub async fn start_on(
        addr: SocketAddr,
        config: EmulatorConfig,
        options: ServeOptions,
    ) -> Result<Self, EmulatorError> {
        check_config(&config)?;
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (listener, scheme, ca_pem) = if options.https {
            let tls = crate::tls::generate(addr.ip())?;
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.server_config);
            (
                AbortableListener::with_tls(listener, acceptor),
                "https",
                Some(tls.ca_pem),
            )
        } else {
            (AbortableListener::new(listener), "http", None)
        };
        let control_token = match options.control {
            ControlAccess::Token => Some(control_auth::generate_token()),
            ControlAccess::Open => None,
        };
        let shared = Arc::new(Shared::new(config, format!("{scheme}://{addr}")));
        let app = router(shared.clone(), control_token.as_deref());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(
                listener,
                app.into_make_service_with_connect_info::<ConnHandle>(),
            )
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "emulator server failed");
            }
        });
        tracing::info!(%addr, scheme, "salesforce emulator listening");
        Ok(Self {
            shared,
            addr,
            control_token,
            ca_pem,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT` (or `https://…`): the `instance_url` and the base of every route.
    pub fn base_url(&self) -> &str {
        &self.shared.base_url
    }

    /// The bearer token the control API (`/__emulator__/…`) requires; `None` when it is open.
    pub fn control_token(&self) -> Option<&str> {
        self.control_token.as_deref()
    }

    /// The PEM certificate of the CA that issued the emulator's server certificate (HTTPS only).
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The token endpoint URL (`{base_url}/services/oauth2/token`).
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.base_url())
    }

    /// The data API base for the latest version, e.g. `{base_url}/services/data/v68.0`.
    pub fn data_url(&self) -> String {
        let v = self.shared.org().config.latest_api_version;
        format!("{}/services/data/v{v}.0", self.base_url())
    }

    /// The listening address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The live configuration (switches changed at run time included).
    pub fn config(&self) -> EmulatorConfig {
        self.shared.org().config.clone()
    }

    /// All users, in creation order (the seeded integration user first).
    pub fn users(&self) -> Vec<UserRecord> {
        self.shared.org().directory.users().to_vec()
    }

    /// One user by 15- or 18-character id.
    pub fn user(&self, id: &str) -> Option<UserRecord> {
        self.shared.org().directory.get(id).cloned()
    }

    /// One user by Username (case-insensitive).
    pub fn user_by_username(&self, username: &str) -> Option<UserRecord> {
        let org = self.shared.org();
        let found = org
            .directory
            .users()
            .iter()
            .find(|u| u.username().eq_ignore_ascii_case(username))
            .cloned();
        found
    }

    /// Id (18 chars) of the integration user that tokens are issued for.
    pub fn integration_user_id(&self) -> String {
        self.shared.org().directory.integration_user_id.clone()
    }

    /// Licences not used by active users.
    pub fn licences_remaining(&self) -> u32 {
        self.shared.org().directory.licences_remaining()
    }

    /// A snapshot of the counters.
    pub fn counters(&self) -> Counters {
        self.shared.org().counters.clone()
    }

    /// The request log, oldest first.
    pub fn requests(&self) -> Vec<RequestLogEntry> {
        self.shared.org().log.entries()
    }

    /// Arms a fault; returns its id.
    pub fn arm_fault(&self, spec: FaultSpec) -> u64 {
        self.shared.org().faults.arm(spec)
    }

    /// Disarms one fault.
    pub fn disarm_fault(&self, id: u64) -> bool {
        self.shared.org().faults.disarm(id)
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.shared.org().faults.clear()
    }

    /// The armed faults with their `seen`/`fired` counts.
    pub fn faults(&self) -> Vec<ArmedFault> {
        self.shared.org().faults.list()
    }

    /// Issues a valid access token without going through OAuth.
    pub fn issue_token(&self) -> String {
        mint_token(&self.shared)
    }

    /// Expires (revokes) every access token; returns how many there were.
    pub fn expire_tokens(&self) -> usize {
        self.shared.org().sessions.expire_all()
    }

    /// Revokes one access token.
    pub fn revoke_token(&self, token: &str) -> bool {
        self.shared.org().sessions.revoke(token)
    }

    /// Current API usage and allocation.
    pub fn api_usage(&self) -> ApiUsage {
        self.shared.org().usage
    }

    /// Changes the API usage window (`max`, `used`, or `reset` to start a new window).
    pub fn set_limits(&self, update: LimitsUpdate) -> ApiUsage {
        control::apply_limits(&mut self.shared.org(), &update)
    }

    /// Starts a new API usage window (usage back to 0).
    pub fn reset_api_usage(&self) {
        self.shared.org().usage.used = 0;
    }

    /// Seeds profiles, other-org usernames, licences and users; returns created user ids.
    pub fn seed(&self, seed: Seed) -> Result<Vec<String>, ApiError> {
        control::apply_seed(&mut self.shared.org(), seed)
    }

    /// Changes user `id` outside the REST API (not counted), as `PATCH /__emulator__/users/{id}`
    /// does; returns the user's fields.
    pub fn edit_user(
        &self,
        id: &str,
        body: serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Value, ApiError> {
        control::apply_edit(&mut self.shared.org(), id, body)
    }

    /// Flips run-time switches.
    pub fn update_settings(&self, settings: Settings) {
        control::apply_settings(&mut self.shared.org(), &settings)
    }

    /// Resets the org to its start state (users, tokens, counters, faults, limits, log).
    pub fn reset(&self) {
        self.shared.reset()
    }

    /// Stops the server and waits for it to finish (at most five seconds).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                tracing::warn!("emulator did not stop within five seconds");
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
