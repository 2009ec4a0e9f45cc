//! The HTTP surface: [`router`] mounts SCIM 2.0 at `/scim/v2/...` and WSO2's SCIM 1.x user
//! endpoint at `/wso2/scim/Users`, behind authentication, body-size and content-type checks.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::Value;

use crate::auth::{Authenticator, Credentials, Principal};
use crate::backend::ScimBackend;
use crate::bulk;
use crate::compat;
use crate::discovery;
use crate::error::{ScimError, ScimResult};
use crate::list::{ListQuery, Projection};
use crate::ops::{self, Ctx};
use crate::schema::{ResourceKind, SCIM_CONTENT_TYPE};

/// Limits and settings of the SCIM endpoints.
#[derive(Debug, Clone)]
pub struct ScimConfig {
    /// Largest accepted request body in bytes (413 beyond); also Bulk's `maxPayloadSize`.
    pub max_body_bytes: usize,
    /// Largest number of operations in one `/Bulk` request.
    pub max_bulk_operations: usize,
    /// Page size when a list request gives no `count`.
    pub default_page_size: usize,
    /// Upper bound on `count` (also the advertised `filter.maxResults`).
    pub max_page_size: usize,
    /// Public base URL of the SCIM 2 endpoints (`https://idp.example/scim/v2`); derived from the
    /// `Host` header when `None`.
    pub base_url: Option<String>,
}

impl Default for ScimConfig {
    fn default() -> Self {
        ScimConfig {
            max_body_bytes: 1024 * 1024,
            max_bulk_operations: 1000,
            default_page_size: 100,
            max_page_size: 1000,
            base_url: None,
        }
    }
}

/// Shared state of the SCIM routes.
struct AppState<B> {
    backend: Arc<B>,
    auth: Arc<dyn Authenticator>,
    config: ScimConfig,
}

impl<B> Clone for AppState<B> {
    fn clone(&self) -> Self {
        AppState {
            backend: self.backend.clone(),
            auth: self.auth.clone(),
            config: self.config.clone(),
        }
    }
}

type St<B> = State<AppState<B>>;
type Params = Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

/// Builds the SCIM router over a backend and an authenticator.
///
/// Every route requires authentication; the principal's tenant scopes every backend call.
pub fn router<B: ScimBackend>(
    backend: Arc<B>,
    auth: Arc<dyn Authenticator>,
    config: ScimConfig,
) -> Router {
    let state = AppState {
        backend,
        auth,
        config,
    };
    let v2 = Router::new()
        .route("/Users", get(list_users::<B>).post(create_user::<B>))
        .route("/Users/.search", post(search_users::<B>))
        .route(
            "/Users/{id}",
            get(get_user::<B>)
                .put(replace_user::<B>)
                .patch(patch_user::<B>)
                .delete(delete_user::<B>),
        )
        .route("/Groups", get(list_groups::<B>).post(create_group::<B>))
        .route("/Groups/.search", post(search_groups::<B>))
        .route(
            "/Groups/{id}",
            get(get_group::<B>)
                .put(replace_group::<B>)
                .patch(patch_group::<B>)
                .delete(delete_group::<B>),
        )
        .route("/.search", post(search_all::<B>))
        .route("/Bulk", post(bulk_handler::<B>))
        .route("/ServiceProviderConfig", get(spc::<B>))
        .route("/ResourceTypes", get(resource_types::<B>))
        .route("/ResourceTypes/{id}", get(resource_type::<B>))
        .route("/Schemas", get(schemas::<B>))
        .route("/Schemas/{id}", get(schema_by_id::<B>));
    let v1 = Router::new()
        .route("/Users", get(v1_list_users::<B>).post(v1_create_user::<B>))
        .route(
            "/Users/{id}",
            get(v1_get_user::<B>)
                .put(v1_replace_user::<B>)
                .delete(v1_delete_user::<B>),
        );
    Router::new()
        .nest("/scim/v2", v2)
        .nest("/wso2/scim", v1)
        .fallback(|| async { ScimError::not_found("no such endpoint") })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            authenticate::<B>,
        ))
        .with_state(state)
}

async fn authenticate<B: ScimBackend>(State(st): St<B>, mut req: Request, next: Next) -> Response {
    let creds = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(Credentials::from_header);
    let principal = match creds {
        Some(c) => st.auth.authenticate(&c).await,
        None => None,
    };
    match principal {
        Some(p) => {
            tracing::debug!(tenant = %p.tenant, subject = %p.subject, "scim request authenticated");
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        None => ScimError::unauthorized().into_response(),
    }
}

fn base_url(cfg: &ScimConfig, headers: &HeaderMap, suffix: &str) -> String {
    if let Some(b) = &cfg.base_url {
        return match suffix {
            "/scim/v2" => b.trim_end_matches('/').to_string(),
            _ => format!(
                "{}{suffix}",
                b.trim_end_matches('/').trim_end_matches("/scim/v2")
            ),
        };
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{suffix}")
}

fn ctx<B>(st: &AppState<B>, p: &Principal, headers: &HeaderMap) -> Ctx {
    Ctx {
        tenant: p.tenant.clone(),
        base: base_url(&st.config, headers, "/scim/v2"),
    }
}

/// Reads and parses a JSON request body, enforcing the size limit and content type.
pub(crate) async fn read_json(headers: &HeaderMap, body: Body, limit: usize) -> ScimResult<Value> {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let mime = ct
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if mime != "application/scim+json" && mime != "application/json" {
            return Err(ScimError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                None,
                format!("unsupported content type \"{mime}\"; use {SCIM_CONTENT_TYPE}"),
            ));
        }
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ScimError::payload_too_large(limit));
    }
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ScimError::payload_too_large(limit))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::invalid_syntax(format!("malformed JSON: {e}")))
}

/// A SCIM JSON response with optional `ETag` and `Location` headers.
fn scim_json(status: StatusCode, body: &Value, version: Option<&str>, location: bool) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_CONTENT_TYPE),
    );
    if let Some(v) = version.and_then(|v| HeaderValue::from_str(v).ok()) {
        h.insert(header::ETAG, v);
    }
    if location {
        if let Some(loc) = body
            .pointer("/meta/location")
            .and_then(Value::as_str)
            .and_then(|l| HeaderValue::from_str(l).ok())
        {
            h.insert(header::LOCATION, loc);
        }
    }
    resp
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn projection(params: &Params) -> ScimResult<Projection> {
    let q = params
        .as_ref()
        .map_err(|e| ScimError::invalid_syntax(e.body_text()))?;
    let get = |n: &str| {
        q.0.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
    };
    Projection::parse(get("attributes"), get("excludedAttributes"))
}

fn respond(r: ScimResult<Response>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// Renders one resource for a single-resource response, honouring `If-None-Match` on reads.
fn single(
    status: StatusCode,
    rendered: Value,
    version: &str,
    proj: &Projection,
    headers: Option<&HeaderMap>,
) -> Response {
    if let Some(inm) = headers.and_then(|h| header_str(h, header::IF_NONE_MATCH)) {
        if crate::resource::etag_matches(inm, version) {
            let mut r = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(v) = HeaderValue::from_str(version) {
                r.headers_mut().insert(header::ETAG, v);
            }
            return r;
        }
    }
    scim_json(
        status,
        &proj.apply(rendered),
        Some(version),
        status == StatusCode::CREATED,
    )
}

// ---- Users ----

async fn create_user<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let body = read_json(&headers, body, st.config.max_body_bytes).await?;
            let c = ctx(&st, &p, &headers);
            let u = ops::create_user(&*st.backend, &c, body).await?;
            Ok(single(
                StatusCode::CREATED,
                ops::render_user(&u, &c, &[]),
                &u.meta.version,
                &proj,
                None,
            ))
        }
        .await,
    )
}

async fn get_user<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    params: Params,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let c = ctx(&st, &p, &headers);
            let u = ops::get_user(&*st.backend, &c, &id).await?;
            let groups = st.backend.list_groups(&c.tenant).await?;
            Ok(single(
                StatusCode::OK,
                ops::render_user(&u, &c, &groups),
                &u.meta.version,
                &proj,
                Some(&headers),
            ))
        }
        .await,
    )
}

async fn replace_user<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let body = read_json(&headers, body, st.config.max_body_bytes).await?;
            let c = ctx(&st, &p, &headers);
            let im = header_str(&headers, header::IF_MATCH);
            let u = ops::replace_user(&*st.backend, &c, &id, body, im).await?;
            let groups = st.backend.list_groups(&c.tenant).await?;
            Ok(single(
                StatusCode::OK,
                ops::render_user(&u, &c, &groups),
                &u.meta.version,
                &proj,
                None,
            ))
        }
        .await,
    )
}

async fn patch_user<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let body = read_json(&headers, body, st.config.max_body_bytes).await?;
            let c = ctx(&st, &p, &headers);
            let im = header_str(&headers, header::IF_MATCH);
            let u = ops::patch_user(&*st.backend, &c, &id, body, im).await?;
            let groups = st.backend.list_groups(&c.tenant).await?;
            Ok(single(
                StatusCode::OK,
                ops::render_user(&u, &c, &groups),
                &u.meta.version,
                &proj,
                None,
            ))
        }
        .await,
    )
}

async fn delete_user<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let c = ctx(&st, &p, &headers);
            let im = header_str(&headers, header::IF_MATCH);
            ops::delete_user(&*st.backend, &c, &id, im).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

async fn list_users<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    params: Params,
    headers: HeaderMap,
) -> Response {
    list_kinds(st, p, params, headers, &[ResourceKind::User]).await
}

async fn list_groups<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    params: Params,
    headers: HeaderMap,
) -> Response {
    list_kinds(st, p, params, headers, &[ResourceKind::Group]).await
}

async fn list_kinds<B: ScimBackend>(
    st: AppState<B>,
    p: Principal,
    params: Params,
    headers: HeaderMap,
    kinds: &[ResourceKind],
) -> Response {
    respond(
        async {
            let q = params.map_err(|e| ScimError::invalid_syntax(e.body_text()))?;
            let query = ListQuery::from_params(&q.0)?;
            run_list(&st, &p, &headers, kinds, &query).await
        }
        .await,
    )
}

async fn run_list<B: ScimBackend>(
    st: &AppState<B>,
    p: &Principal,
    headers: &HeaderMap,
    kinds: &[ResourceKind],
    query: &ListQuery,
) -> ScimResult<Response> {
    let c = ctx(st, p, headers);
    let body = ops::list(
        &*st.backend,
        &c,
        kinds,
        query,
        st.config.default_page_size,
        st.config.max_page_size,
    )
    .await?;
    Ok(scim_json(StatusCode::OK, &body, None, false))
}

async fn search<B: ScimBackend>(
    st: AppState<B>,
    p: Principal,
    headers: HeaderMap,
    body: Body,
    kinds: &[ResourceKind],
) -> Response {
    respond(
        async {
            let body = read_json(&headers, body, st.config.max_body_bytes).await?;
            let query = ListQuery::from_search_body(&body)?;
            run_list(&st, &p, &headers, kinds, &query).await
        }
        .await,
    )
}

async fn search_users<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    search(st, p, headers, body, &[ResourceKind::User]).await
}

async fn search_groups<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    search(st, p, headers, body, &[ResourceKind::Group]).await
}

async fn search_all<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    search(
        st,
        p,
        headers,
        body,
        &[ResourceKind::User, ResourceKind::Group],
    )
    .await
}

// ---- Groups ----

async fn create_group<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let body = read_json(&headers, body, st.config.max_body_bytes).await?;
            let c = ctx(&st, &p, &headers);
            let g = ops::create_group(&*st.backend, &c, body).await?;
            Ok(single(
                StatusCode::CREATED,
                ops::render_group(&g, &c),
                &g.meta.version,
                &proj,
                None,
            ))
        }
        .await,
    )
}

async fn get_group<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    params: Params,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let c = ctx(&st, &p, &headers);
            let g = ops::get_group(&*st.backend, &c, &id).await?;
            Ok(single(
                StatusCode::OK,
                ops::render_group(&g, &c),
                &g.meta.version,
                &proj,
                Some(&headers),
            ))
        }
        .await,
    )
}

async fn replace_group<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let body = read_json(&headers, body, st.config.max_body_bytes).await?;
            let c = ctx(&st, &p, &headers);
            let im = header_str(&headers, header::IF_MATCH);
            let g = ops::replace_group(&*st.backend, &c, &id, body, im).await?;
            Ok(single(
                StatusCode::OK,
                ops::render_group(&g, &c),
                &g.meta.version,
                &proj,
                None,
            ))
        }
        .await,
    )
}

async fn patch_group<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    params: Params,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let body = read_json(&headers, body, st.config.max_body_bytes).await?;
            let c = ctx(&st, &p, &headers);
            let im = header_str(&headers, header::IF_MATCH);
            let g = ops::patch_group(&*st.backend, &c, &id, body, im).await?;
            Ok(single(
                StatusCode::OK,
                ops::render_group(&g, &c),
                &g.meta.version,
                &proj,
                None,
            ))
        }
        .await,
    )
}

async fn delete_group<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let c = ctx(&st, &p, &headers);
            let im = header_str(&headers, header::IF_MATCH);
            ops::delete_group(&*st.backend, &c, &id, im).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

// ---- Bulk ----

async fn bulk_handler<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    respond(
        async {
            let body = read_json(&headers, body, st.config.max_body_bytes).await?;
            let c = ctx(&st, &p, &headers);
            let out = bulk::run(&*st.backend, &c, body, st.config.max_bulk_operations).await?;
            Ok(scim_json(StatusCode::OK, &out, None, false))
        }
        .await,
    )
}

// ---- Discovery ----

async fn spc<B: ScimBackend>(State(st): St<B>, headers: HeaderMap) -> Response {
    let base = base_url(&st.config, &headers, "/scim/v2");
    scim_json(
        StatusCode::OK,
        &discovery::service_provider_config(&st.config, &base),
        None,
        false,
    )
}

async fn resource_types<B: ScimBackend>(State(st): St<B>, headers: HeaderMap) -> Response {
    let base = base_url(&st.config, &headers, "/scim/v2");
    let body = discovery::list_response(discovery::resource_types(&base));
    scim_json(StatusCode::OK, &body, None, false)
}

async fn resource_type<B: ScimBackend>(
    State(st): St<B>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&st.config, &headers, "/scim/v2");
    match discovery::resource_types(&base).into_iter().find(|r| {
        r["id"]
            .as_str()
            .is_some_and(|i| i.eq_ignore_ascii_case(&id))
    }) {
        Some(r) => scim_json(StatusCode::OK, &r, None, false),
        None => ScimError::not_found(format!("no resource type \"{id}\"")).into_response(),
    }
}

async fn schemas<B: ScimBackend>(State(st): St<B>, headers: HeaderMap) -> Response {
    let base = base_url(&st.config, &headers, "/scim/v2");
    let body = discovery::list_response(discovery::schemas(&base));
    scim_json(StatusCode::OK, &body, None, false)
}

async fn schema_by_id<B: ScimBackend>(
    State(st): St<B>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let base = base_url(&st.config, &headers, "/scim/v2");
    match discovery::schema_doc(&id, &base) {
        Some(s) => scim_json(StatusCode::OK, &s, None, false),
        None => ScimError::not_found(format!("no schema \"{id}\"")).into_response(),
    }
}

// ---- SCIM 1.x (WSO2 tutorial) ----

fn v1_error(e: ScimError) -> Response {
    let mut r = (e.status, compat::error_v1(&e).to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn v1_json(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, compat::user_to_v1(body.clone()).to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(loc) = body
        .pointer("/meta/location")
        .and_then(Value::as_str)
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        if status == StatusCode::CREATED {
            r.headers_mut().insert(header::LOCATION, loc);
        }
    }
    r
}

async fn v1_create_user<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let r: ScimResult<Response> = async {
        let body = read_json(&headers, body, st.config.max_body_bytes).await?;
        let c = ctx(&st, &p, &headers);
        let u = ops::create_user(&*st.backend, &c, compat::user_from_v1(body)).await?;
        Ok(v1_json(StatusCode::CREATED, &ops::render_user(&u, &c, &[])))
    }
    .await;
    r.unwrap_or_else(v1_error)
}

async fn v1_get_user<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let r: ScimResult<Response> = async {
        let c = ctx(&st, &p, &headers);
        let u = ops::get_user(&*st.backend, &c, &id).await?;
        let groups = st.backend.list_groups(&c.tenant).await?;
        Ok(v1_json(StatusCode::OK, &ops::render_user(&u, &c, &groups)))
    }
    .await;
    r.unwrap_or_else(v1_error)
}

async fn v1_replace_user<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let r: ScimResult<Response> = async {
        let body = read_json(&headers, body, st.config.max_body_bytes).await?;
        let c = ctx(&st, &p, &headers);
        let im = header_str(&headers, header::IF_MATCH);
        let u = ops::replace_user(&*st.backend, &c, &id, compat::user_from_v1(body), im).await?;
        let groups = st.backend.list_groups(&c.tenant).await?;
        Ok(v1_json(StatusCode::OK, &ops::render_user(&u, &c, &groups)))
    }
    .await;
    r.unwrap_or_else(v1_error)
}

async fn v1_delete_user<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let r: ScimResult<Response> = async {
        let c = ctx(&st, &p, &headers);
        ops::delete_user(&*st.backend, &c, &id, None).await?;
        Ok(StatusCode::OK.into_response())
    }
    .await;
    r.unwrap_or_else(v1_error)
}

async fn v1_list_users<B: ScimBackend>(
    State(st): St<B>,
    Extension(p): Extension<Principal>,
    params: Params,
    headers: HeaderMap,
) -> Response {
    let r: ScimResult<Response> = async {
        let q = params.map_err(|e| ScimError::invalid_syntax(e.body_text()))?;
        let query = ListQuery::from_params(&q.0)?;
        let c = ctx(&st, &p, &headers);
        let mut body = ops::list(
            &*st.backend,
            &c,
            &[ResourceKind::User],
            &query,
            st.config.default_page_size,
            st.config.max_page_size,
        )
        .await?;
        body["schemas"] = serde_json::json!([crate::schema::SCIM1_CORE_URN]);
        if let Some(Value::Array(items)) = body.get_mut("Resources") {
            for i in items.iter_mut() {
                *i = compat::user_to_v1(std::mem::take(i));
            }
        }
        let mut r = (StatusCode::OK, body.to_string()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Ok(r)
    }
    .await;
    r.unwrap_or_else(v1_error)
}
