//! Who calls the admin API: the [`Principal`] extractor, the admin credentials
//! ([`AdminCredentials`]) and the console's sessions (`POST|DELETE /session`, `GET /whoami`).
//!
//! Admin credentials are separate from SCIM ones: they come from the `[admin]` configuration
//! section and are checked by their own [`CredentialStore`] (argon2id passwords through a
//! bounded password gate, SHA-256 digests of bearer tokens, exactly as for SCIM), so a SCIM
//! credential never works here and an admin one never on SCIM. A principal either administers
//! one tenant or, without a tenant, the whole server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use scim::{AuthDecision, Authenticator, CredentialStore, Credentials, TenantId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult};
use super::AdminState;
use crate::config::{self, ConfigError, ServerConfig};

/// The console's session cookie.
pub const SESSION_COOKIE: &str = "provisioner_session";

/// How long a console session lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 60 * 60);

/// How the credential store marks a server administrator (tenant names are never empty).
const SERVER_SCOPE: &str = "";

/// An authenticated administrator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// User name or token label.
    pub username: String,
    /// The only tenant this principal sees; `None` for a server administrator.
    pub tenant: Option<String>,
}

impl Principal {
    /// Whether this principal administers the whole server.
    pub fn is_server_admin(&self) -> bool {
        self.tenant.is_none()
    }

    /// Whether this principal may see `tenant`.
    pub fn may_see(&self, tenant: &str) -> bool {
        self.tenant.as_deref().is_none_or(|own| own == tenant)
    }

    /// Fails with 404 `tenant_not_found` unless this principal may see `tenant` (another
    /// tenant's existence is never revealed).
    pub fn require_tenant(&self, tenant: &str) -> ApiResult<()> {
        if self.may_see(tenant) {
            Ok(())
        } else {
            Err(tenant_not_found(tenant))
        }
    }

    /// Fails with 403 unless this principal is a server administrator.
    pub fn require_server_admin(&self) -> ApiResult<()> {
        if self.is_server_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "only a server administrator (an [[admin.users]] or [[admin.tokens]] entry \
                 without `tenant`) may do this",
            ))
        }
    }
}

/// The 404 answered for a tenant that does not exist or that the caller may not see.
pub fn tenant_not_found(tenant: &str) -> ApiError {
    ApiError::not_found(
        "tenant_not_found",
        format!("no tenant `{tenant}`; `GET /admin/v1/tenants` lists the tenants you administer"),
    )
}

struct Session {
    principal: Principal,
    expires: Instant,
}

/// The admin credentials and the console's live sessions.
pub struct AdminCredentials {
    store: CredentialStore,
    sessions: Mutex<HashMap<String, Session>>,
}

impl AdminCredentials {
    /// The credentials of the `[admin]` section (plain passwords hashed with argon2id).
    pub fn from_config(config: &ServerConfig) -> Result<Self, ConfigError> {
        let store = CredentialStore::with_limits(config.auth.limits());
        let error = |key: String, message: String| ConfigError {
            file: "<configuration>".into(),
            key,
            position: None,
            message,
        };
        for (i, user) in config.admin.users.iter().enumerate() {
            let scope = scope_of(&user.tenant);
            match (&user.password, &user.password_hash) {
                (_, Some(hash)) => store.add_basic_hashed(scope, &user.username, hash),
                (Some(source), None) => {
                    let password = config::resolve_secret(source)
                        .map_err(|m| error(format!("admin.users[{i}].password"), m))?;
                    store.add_basic(scope, &user.username, password.expose());
                }
                (None, None) => {
                    return Err(error(
                        format!("admin.users[{i}].password"),
                        "give `password` or `password_hash`".into(),
                    ))
                }
            }
        }
        for (i, token) in config.admin.tokens.iter().enumerate() {
            let value = config::resolve_secret(&token.token)
                .map_err(|m| error(format!("admin.tokens[{i}].token"), m))?;
            store.add_bearer(scope_of(&token.tenant), &token.label, value.expose());
        }
        Ok(AdminCredentials {
            store,
            sessions: Mutex::new(HashMap::new()),
        })
    }

    /// Checks credentials presented from `client`.
    pub async fn decide(
        &self,
        credentials: &Credentials,
        client: Option<std::net::IpAddr>,
    ) -> ApiResult<Principal> {
        match self.store.decide(credentials, client).await {
            AuthDecision::Granted(p) => Ok(Principal {
                username: p.subject,
                tenant: (p.tenant.0 != SERVER_SCOPE).then_some(p.tenant.0),
            }),
            AuthDecision::Denied => Err(ApiError::unauthorized()),
            AuthDecision::Busy => Err(ApiError::busy()),
        }
    }

    /// Opens a console session for `principal`; returns its token.
    pub fn open_session(&self, principal: Principal) -> String {
        let token = random_token();
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        sessions.retain(|_, s| s.expires > now);
        sessions.insert(
            token.clone(),
            Session {
                principal,
                expires: now + SESSION_TTL,
            },
        );
        token
    }

    /// The principal of a live session.
    pub fn session(&self, token: &str) -> Option<Principal> {
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions
            .get(token)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.principal.clone())
    }

    /// Ends a session; returns whether it was live.
    pub fn close_session(&self, token: &str) -> bool {
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.remove(token).is_some()
    }
}

fn scope_of(tenant: &Option<String>) -> TenantId {
    TenantId::new(tenant.clone().unwrap_or_else(|| SERVER_SCOPE.into()))
}

fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The value of the session cookie, if the request carries one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

impl FromRequestParts<AdminState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AdminState) -> ApiResult<Self> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let credentials = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(Credentials::from_header);
        let principal = match credentials {
            Some(credentials) => {
                let client = parts
                    .extensions
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|info| info.0.ip());
                state.credentials.decide(&credentials, client).await?
            }
            None => session_cookie(&parts.headers)
                .and_then(|token| state.credentials.session(&token))
                .ok_or_else(ApiError::unauthorized)?,
        };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}

/// Who the caller is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// User name or token label.
    pub username: String,
    /// The only tenant the caller sees; null for a server administrator.
    pub tenant: Option<String>,
}

impl From<Principal> for WhoAmI {
    fn from(p: Principal) -> Self {
        WhoAmI {
            username: p.username,
            tenant: p.tenant,
        }
    }
}

/// A console login.
#[derive(Clone, Debug, Deserialize, ToSchema)]
pub struct Login {
    /// An `[[admin.users]]` user name.
    pub username: String,
    /// Its password.
    pub password: String,
}

/// The caller's identity.
#[utoipa::path(get, path = "/whoami", tag = "session",
    responses((status = 200, description = "success", body = WhoAmI), (status = 401, description = "no valid admin credentials", body = super::error::ErrorBody)))]
async fn whoami(principal: Principal) -> Json<WhoAmI> {
    Json(principal.into())
}

/// Logs in to the console: checks the user's password and sets the `provisioner_session`
/// cookie (HttpOnly, SameSite=Strict, 8 hours; Secure when the server is reached over HTTPS).
#[utoipa::path(post, path = "/session", tag = "session", request_body = Login,
    responses((status = 200, description = "success", body = WhoAmI), (status = 401, description = "no valid admin credentials", body = super::error::ErrorBody)))]
async fn login(
    State(state): State<AdminState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    Json(login): Json<Login>,
) -> ApiResult<Response> {
    let credentials = Credentials::Basic {
        username: login.username,
        password: login.password,
    };
    let principal = state
        .credentials
        .decide(&credentials, connect.map(|Extension(c)| c.0.ip()))
        .await?;
    let token = state.credentials.open_session(principal.clone());
    let cookie = session_cookie_header(&token, SESSION_TTL.as_secs(), state.secure_cookies);
    let mut response = Json(WhoAmI::from(principal)).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(response)
}

/// Logs out of the console: ends the session and clears the cookie.
#[utoipa::path(delete, path = "/session", tag = "session",
    responses((status = 204, description = "logged out")))]
async fn logout(State(state): State<AdminState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_cookie(&headers) {
        state.credentials.close_session(&token);
    }
    let cookie = session_cookie_header("", 0, state.secure_cookies);
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

/// The `Set-Cookie` value of a console session: `Secure` when the server is reached over HTTPS
/// (it serves TLS itself, or its `base_url` is `https://`), so the browser never sends the
/// session over plain HTTP.
fn session_cookie_header(token: &str, max_age_secs: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{secure}")
}

/// `GET /whoami`, `POST /session`, `DELETE /session`.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(whoami))
        .routes(routes!(login, logout))
}
