//! The control API under `/__emulator__/`, used by tests and operators to inspect state, seed
//! data, arm faults, expire tokens and move the API-usage window. Who may call it is decided by
//! [`crate::control_auth`].

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post},
    Json, Router,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::config::Profile;
use crate::faults::FaultSpec;
use crate::oauth::TOKEN_PATH;
use crate::response::{json_response, ApiError};
use crate::state::{AppState, Org};
use crate::validation::{self, WriteMode};

/// Prefix of every control route.
pub const CONTROL_PREFIX: &str = "/__emulator__";

/// Reference data and users to add to the org (`POST /__emulator__/seed`). Absent keys are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Seed {
    /// Replaces the org's profiles.
    pub profiles: Option<Vec<Profile>>,
    /// Adds profiles.
    pub add_profiles: Vec<Profile>,
    /// Replaces the usernames taken in other orgs.
    pub other_org_usernames: Option<Vec<String>>,
    /// Adds usernames taken in other orgs.
    pub add_other_org_usernames: Vec<String>,
    /// Sets the number of licences.
    pub licences: Option<u32>,
    /// Users to create, as REST create bodies (validated like `POST /sobjects/User/`, not counted).
    pub users: Vec<Map<String, Value>>,
}

/// Run-time switches (`POST /__emulator__/settings`). Absent keys are left alone.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Blocks the username-password flow.
    pub password_flow_blocked: Option<bool>,
    /// Makes the token endpoint act as login/test.salesforce.com.
    pub login_host: Option<bool>,
    /// Whether the security token may be omitted.
    pub trusted_ip: Option<bool>,
    /// Sliding session timeout in seconds.
    pub token_lifetime_secs: Option<u64>,
    /// Default query batch size.
    pub query_batch_size: Option<usize>,
    /// Case-insensitive text equality.
    pub case_insensitive_text: Option<bool>,
    /// Accept numbers/booleans for text fields.
    pub coerce_scalars_to_text: Option<bool>,
    /// Auto-fill CommunityNickname.
    pub auto_community_nickname: Option<bool>,
    /// Status of DUPLICATE_USERNAME.
    pub duplicate_username_status: Option<u16>,
    /// Status of LICENSE_LIMIT_EXCEEDED.
    pub license_limit_status: Option<u16>,
}

/// A change to the API-usage window (`POST /__emulator__/limits`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LimitsUpdate {
    /// New allocation.
    pub max: Option<u64>,
    /// New usage count.
    pub used: Option<u64>,
    /// Starts a new window (usage 0).
    pub reset: bool,
}

/// Applies settings to a live org.
pub fn apply_settings(org: &mut Org, s: &Settings) {
    let c = &mut org.config;
    if let Some(v) = s.password_flow_blocked {
        c.password_flow_blocked = v;
    }
    if let Some(v) = s.login_host {
        c.login_host = v;
    }
    if let Some(v) = s.trusted_ip {
        c.trusted_ip = v;
    }
    if let Some(v) = s.token_lifetime_secs {
        c.token_lifetime = std::time::Duration::from_secs(v);
        org.sessions.lifetime = c.token_lifetime;
    }
    if let Some(v) = s.query_batch_size {
        c.query_batch_size = v.max(1);
    }
    if let Some(v) = s.case_insensitive_text {
        c.case_insensitive_text = v;
    }
    if let Some(v) = s.coerce_scalars_to_text {
        c.coerce_scalars_to_text = v;
    }
    if let Some(v) = s.auto_community_nickname {
        c.auto_community_nickname = v;
    }
    if let Some(v) = s.duplicate_username_status {
        c.duplicate_username_status = v;
    }
    if let Some(v) = s.license_limit_status {
        c.license_limit_status = v;
    }
}

/// Applies a seed; returns the ids of the users created. Stops at the first invalid user.
pub fn apply_seed(org: &mut Org, seed: Seed) -> Result<Vec<String>, ApiError> {
    let dir = &mut org.directory;
    dir.reseed(seed.profiles, seed.other_org_usernames, seed.licences);
    dir.profiles.extend(seed.add_profiles);
    dir.other_org_usernames.extend(seed.add_other_org_usernames);
    let config = org.config.clone();
    let mut created = Vec::new();
    for user in seed.users {
        let text = Value::Object(user.clone()).to_string();
        let changes = validation::to_changes(&text, user, WriteMode::Create, &config)?;
        created.push(org.directory.create(changes, &config)?);
    }
    Ok(created)
}

/// Applies a limits update; returns the new usage.
pub fn apply_limits(org: &mut Org, u: &LimitsUpdate) -> crate::limits::ApiUsage {
    if u.reset {
        org.usage.used = 0;
    }
    if let Some(max) = u.max {
        org.usage.max = max;
    }
    if let Some(used) = u.used {
        org.usage.used = used;
    }
    org.usage
}

/// Parses an optional JSON body (an empty body is the type's default).
fn body<T: for<'de> Deserialize<'de> + Default>(bytes: &Bytes) -> Result<T, Box<Response>> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        Box::new(json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "error": e.to_string() }),
        ))
    })
}

/// The control router (mounted at the root; every path starts with [`CONTROL_PREFIX`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__emulator__/info", get(info))
        .route("/__emulator__/users", get(users))
        .route("/__emulator__/users/{id}", get(user).patch(edit_user))
        .route("/__emulator__/counters", get(counters))
        .route("/__emulator__/requests", get(requests))
        .route("/__emulator__/reset", post(reset))
        .route(
            "/__emulator__/faults",
            get(list_faults).post(arm_faults).delete(clear_faults),
        )
        .route("/__emulator__/faults/{id}", delete(disarm_fault))
        .route("/__emulator__/tokens", post(issue_token))
        .route("/__emulator__/tokens/expire", post(expire_tokens))
        .route("/__emulator__/limits", get(get_limits).post(set_limits))
        .route("/__emulator__/seed", post(seed))
        .route(
            "/__emulator__/settings",
            get(get_settings).post(set_settings),
        )
}

async fn info(State(app): State<AppState>) -> Response {
    let org = app.org();
    let c = &org.config;
    json_response(
        StatusCode::OK,
        &json!({
            "base_url": app.base_url,
            "token_url": format!("{}{TOKEN_PATH}", app.base_url),
            "org_id": c.org_id,
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "username": c.username,
            "password": c.password,
            "security_token": c.security_token,
            "integration_user_id": org.directory.integration_user_id,
            "latest_api_version": format!("{}.0", c.latest_api_version),
            "licences": org.directory.licences,
            "licences_remaining": org.directory.licences_remaining(),
        }),
    )
}

async fn users(State(app): State<AppState>) -> Response {
    let org = app.org();
    let all: Vec<Value> = org
        .directory
        .users()
        .iter()
        .map(|u| Value::Object(u.all_fields()))
        .collect();
    json_response(StatusCode::OK, &all)
}

async fn user(State(app): State<AppState>, Path(id): Path<String>) -> Response {
    let org = app.org();
    match org.directory.get(&id) {
        Some(u) => json_response(StatusCode::OK, &Value::Object(u.all_fields())),
        None => ApiError::not_found().into_response(),
    }
}

/// Changes a user behind the integration's back, as an administrator in the org would (drift
/// for a reconciliation to find): the body is a REST update body (`{"LastName": "Edited"}`,
/// `{"IsActive": false}`), validated like `PATCH /sobjects/User/{id}` but not counted as an
/// API call. Answers the user as `GET /__emulator__/users/{id}` does.
pub fn apply_edit(org: &mut Org, id: &str, body: Map<String, Value>) -> Result<Value, ApiError> {
    let text = Value::Object(body.clone()).to_string();
    crate::sobjects::update_record(org, id, &text, body)?;
    let user = org.directory.get(id).ok_or_else(ApiError::not_found)?;
    Ok(Value::Object(user.all_fields()))
}

async fn edit_user(State(app): State<AppState>, Path(id): Path<String>, bytes: Bytes) -> Response {
    let body: Map<String, Value> = match body(&bytes) {
        Ok(b) => b,
        Err(resp) => return *resp,
    };
    match apply_edit(&mut app.org(), &id, body) {
        Ok(user) => json_response(StatusCode::OK, &user),
        Err(e) => e.into_response(),
    }
}

async fn counters(State(app): State<AppState>) -> Response {
    let org = app.org();
    let mut body = serde_json::to_value(&org.counters).expect("counters serialise");
    body["api_usage"] = json!(org.usage);
    body["licences_remaining"] = json!(org.directory.licences_remaining());
    body["live_tokens"] = json!(org.sessions.len());
    json_response(StatusCode::OK, &body)
}

async fn requests(State(app): State<AppState>) -> Response {
    json_response(StatusCode::OK, &app.org().log.entries())
}

async fn reset(State(app): State<AppState>) -> Response {
    app.reset();
    json_response(StatusCode::OK, &json!({ "reset": true }))
}

async fn list_faults(State(app): State<AppState>) -> Response {
    json_response(StatusCode::OK, &app.org().faults.list())
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<FaultSpec>),
    One(FaultSpec),
}

async fn arm_faults(State(app): State<AppState>, bytes: Bytes) -> Response {
    let specs = match serde_json::from_slice::<OneOrMany>(&bytes) {
        Ok(OneOrMany::One(s)) => vec![s],
        Ok(OneOrMany::Many(v)) => v,
        Err(e) => {
            return json_response(StatusCode::BAD_REQUEST, &json!({ "error": e.to_string() }));
        }
    };
    let mut org = app.org();
    let ids: Vec<u64> = specs.into_iter().map(|s| org.faults.arm(s)).collect();
    let body = if ids.len() == 1 {
        json!({ "id": ids[0], "ids": ids })
    } else {
        json!({ "ids": ids })
    };
    json_response(StatusCode::CREATED, &body)
}

async fn clear_faults(State(app): State<AppState>) -> Response {
    app.org().faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn disarm_fault(State(app): State<AppState>, Path(id): Path<u64>) -> Response {
    if app.org().faults.disarm(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        ApiError::not_found().into_response()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ExpireRequest {
    token: Option<String>,
}

async fn expire_tokens(State(app): State<AppState>, bytes: Bytes) -> Response {
    let req: ExpireRequest = match body(&bytes) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let mut org = app.org();
    let expired = match req.token {
        Some(t) => usize::from(org.sessions.revoke(&t)),
        None => org.sessions.expire_all(),
    };
    json_response(StatusCode::OK, &json!({ "expired": expired }))
}

async fn issue_token(State(app): State<AppState>) -> Response {
    let token = crate::server::mint_token(&app);
    json_response(
        StatusCode::CREATED,
        &json!({ "access_token": token, "instance_url": app.base_url, "token_type": "Bearer" }),
    )
}

async fn get_limits(State(app): State<AppState>) -> Response {
    json_response(StatusCode::OK, &app.org().usage)
}

async fn set_limits(State(app): State<AppState>, bytes: Bytes) -> Response {
    let update: LimitsUpdate = match body(&bytes) {
        Ok(u) => u,
        Err(resp) => return *resp,
    };
    let usage = apply_limits(&mut app.org(), &update);
    json_response(StatusCode::OK, &usage)
}

async fn seed(State(app): State<AppState>, Json(seed): Json<Seed>) -> Response {
    let mut org = app.org();
    match apply_seed(&mut org, seed) {
        Ok(ids) => json_response(
            StatusCode::OK,
            &json!({
                "created": ids,
                "licences": org.directory.licences,
                "licences_remaining": org.directory.licences_remaining(),
                "profiles": org.directory.profiles,
                "other_org_usernames": org.directory.other_org_usernames,
            }),
        ),
        Err(e) => e.into_response(),
    }
}

async fn get_settings(State(app): State<AppState>) -> Response {
    json_response(StatusCode::OK, &app.org().config)
}

async fn set_settings(State(app): State<AppState>, bytes: Bytes) -> Response {
    let settings: Settings = match body(&bytes) {
        Ok(s) => s,
        Err(resp) => return *resp,
    };
    let mut org = app.org();
    apply_settings(&mut org, &settings);
    json_response(StatusCode::OK, &org.config)
}
