//! The HTTP surface: [`router`] mounts SCIM 2.0 at `/scim/v2/...` and WSO2's SCIM 1.x user
//! endpoint at `/wso2/scim/Users`, behind authentication, body-size and content-type checks.
//!
//! The resource handlers (create, read, replace/patch, delete, list, search) are written once,
//! generic over [`ScimResourceKind`], and mounted for [`User`] and [`Group`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Extension, Router};
use serde_json::Value;

use crate::auth::{AuthDecision, Authenticator, Credentials, Principal};
use crate::backend::ScimBackend;
use crate::bulk;
use crate::compat;
use crate::config::ScimConfig;
use crate::discovery;
use crate::error::{ScimError, ScimResult};
use crate::kind::{Group, ScimResourceKind, User};
use crate::list::{ListQuery, Projection};
use crate::ops::{self, Ctx};
use crate::resource::{etag_matches, ScimResource};
use crate::schema::{ResourceKind, SCIM1_CORE_URN, SCIM_CONTENT_TYPE};

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
    let v2 = resource_routes::<B, Group>(resource_routes::<B, User>(Router::new()))
        .route("/.search", post(search_all::<B>))
        .route("/Bulk", post(bulk_handler::<B>))
        .route(
            "/ServiceProviderConfig",
            doc_route::<B>(discovery::service_provider_config),
        )
        .route(
            "/ResourceTypes",
            doc_route::<B>(|_, base| discovery::list_response(discovery::resource_types(base))),
        )
        .route(
            "/ResourceTypes/{id}",
            doc_by_id_route::<B>(discovery::resource_type_by_id, "resource type"),
        )
        .route(
            "/Schemas",
            doc_route::<B>(|_, base| discovery::list_response(discovery::schemas(base))),
        )
        .route(
            "/Schemas/{id}",
            doc_by_id_route::<B>(discovery::schema_doc, "schema"),
        );
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

/// Mounts the endpoints of one resource kind: `/{endpoint}`, `/{endpoint}/.search` and
/// `/{endpoint}/{id}`.
fn resource_routes<B: ScimBackend, K: ScimResourceKind>(
    r: Router<AppState<B>>,
) -> Router<AppState<B>> {
    let ep = K::KIND.endpoint();
    r.route(&format!("/{ep}"), get(list::<B, K>).post(create::<B, K>))
        .route(&format!("/{ep}/.search"), post(search::<B, K>))
        .route(
            &format!("/{ep}/{{id}}"),
            get(read::<B, K>)
                .put(update::<B, K>)
                .patch(update::<B, K>)
                .delete(delete::<B, K>),
        )
}

/// Authenticates every request. The peer address, when the server provides it (axum's
/// `into_make_service_with_connect_info::<SocketAddr>`), lets password checks back off per
/// client.
async fn authenticate<B: ScimBackend>(State(st): St<B>, mut req: Request, next: Next) -> Response {
    let creds = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(Credentials::from_header);
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let decision = match creds {
        Some(c) => st.auth.decide(&c, client).await,
        None => AuthDecision::Denied,
    };
    match decision {
        AuthDecision::Granted(p) => {
            tracing::debug!(tenant = %p.tenant, subject = %p.subject, "scim request authenticated");
            req.extensions_mut().insert(p);
            next.run(req).await
        }
        AuthDecision::Denied => ScimError::unauthorized().into_response(),
        AuthDecision::Busy => {
            let mut response = ScimError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "too many password checks are in progress; retry shortly, or authenticate \
                 with a bearer token",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// The public base URL of `suffix` (`/scim/v2` or `/wso2/scim`): the configured base URL, or
/// derived from the request's `Host` header.
pub fn base_url(cfg: &ScimConfig, headers: &HeaderMap, suffix: &str) -> String {
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

/// What every resource handler extracts: the shared state, the request context (the
/// authenticated principal's tenant, the base URL) and the request headers.
struct Call<B> {
    st: AppState<B>,
    ctx: Ctx,
    headers: HeaderMap,
}

impl<B: ScimBackend> FromRequestParts<AppState<B>> for Call<B> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &AppState<B>) -> Result<Self, Response> {
        let Extension(p) = Extension::<Principal>::from_request_parts(parts, st)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Call {
            st: st.clone(),
            ctx: Ctx {
                tenant: p.tenant,
                base: base_url(&st.config, &parts.headers, "/scim/v2"),
                unknown_members: st.config.unknown_members,
            },
            headers: parts.headers.clone(),
        })
    }
}

impl<B: ScimBackend> Call<B> {
    fn backend(&self) -> &B {
        &self.st.backend
    }

    /// The request body as JSON (size limit and content type enforced).
    async fn json(&self, body: Body) -> ScimResult<Value> {
        read_json(&self.headers, body, self.st.config.max_body_bytes).await
    }

    fn if_match(&self) -> Option<&str> {
        header_str(&self.headers, header::IF_MATCH)
    }

    /// Renders a stored resource, with what it refers to read from the backend.
    async fn render_stored<K: ScimResourceKind>(&self, r: &K::Resource) -> ScimResult<Value> {
        let rendered = K::render_stored(
            self.backend(),
            &self.ctx.tenant,
            &self.ctx.base,
            std::slice::from_ref(r),
        )
        .await?;
        rendered
            .into_iter()
            .next()
            .ok_or_else(|| ScimError::internal("rendering returned nothing"))
    }

    /// Runs a list/search over `kinds`; returns the ListResponse body.
    async fn list(&self, kinds: &[ResourceKind], query: &ListQuery) -> ScimResult<Value> {
        ops::list(self.backend(), &self.ctx, kinds, query, &self.st.config).await
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

fn list_query(params: Params) -> ScimResult<ListQuery> {
    let q = params.map_err(|e| ScimError::invalid_syntax(e.body_text()))?;
    ListQuery::from_params(&q.0)
}

fn respond(r: ScimResult<Response>) -> Response {
    r.unwrap_or_else(IntoResponse::into_response)
}

/// Renders one resource for a single-resource response, honouring `If-None-Match` on reads.
fn single(
    status: StatusCode,
    rendered: Value,
    stored: &impl ScimResource,
    proj: &Projection,
    headers: Option<&HeaderMap>,
) -> Response {
    let version = stored.meta().version.as_str();
    if let Some(inm) = headers.and_then(|h| header_str(h, header::IF_NONE_MATCH)) {
        if etag_matches(inm, version) {
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

// ---- Users and Groups ----

/// `POST /{endpoint}`.
async fn create<B: ScimBackend, K: ScimResourceKind>(
    call: Call<B>,
    params: Params,
    body: Body,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let body = call.json(body).await?;
            let r = ops::create::<B, K>(call.backend(), &call.ctx, body).await?;
            let rendered = K::render(&r, &call.ctx.base, &[]);
            Ok(single(StatusCode::CREATED, rendered, &r, &proj, None))
        }
        .await,
    )
}

/// `GET /{endpoint}/{id}`.
async fn read<B: ScimBackend, K: ScimResourceKind>(
    call: Call<B>,
    Path(id): Path<String>,
    params: Params,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let r = ops::get::<B, K>(call.backend(), &call.ctx, &id).await?;
            let rendered = call.render_stored::<K>(&r).await?;
            Ok(single(
                StatusCode::OK,
                rendered,
                &r,
                &proj,
                Some(&call.headers),
            ))
        }
        .await,
    )
}

/// `PUT` (replace) and `PATCH /{endpoint}/{id}`.
async fn update<B: ScimBackend, K: ScimResourceKind>(
    method: Method,
    call: Call<B>,
    Path(id): Path<String>,
    params: Params,
    body: Body,
) -> Response {
    respond(
        async {
            let proj = projection(&params)?;
            let body = call.json(body).await?;
            let (b, c, im) = (call.backend(), &call.ctx, call.if_match());
            let r = if method == Method::PATCH {
                ops::patch::<B, K>(b, c, &id, body, im).await?
            } else {
                ops::replace::<B, K>(b, c, &id, body, im).await?
            };
            let rendered = call.render_stored::<K>(&r).await?;
            Ok(single(StatusCode::OK, rendered, &r, &proj, None))
        }
        .await,
    )
}

/// `DELETE /{endpoint}/{id}`.
async fn delete<B: ScimBackend, K: ScimResourceKind>(
    call: Call<B>,
    Path(id): Path<String>,
) -> Response {
    respond(
        async {
            ops::delete::<B, K>(call.backend(), &call.ctx, &id, call.if_match()).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        .await,
    )
}

/// `GET /{endpoint}`.
async fn list<B: ScimBackend, K: ScimResourceKind>(call: Call<B>, params: Params) -> Response {
    respond(
        async {
            let body = call.list(&[K::KIND], &list_query(params)?).await?;
            Ok(scim_json(StatusCode::OK, &body, None, false))
        }
        .await,
    )
}

/// `POST /{endpoint}/.search`.
async fn search<B: ScimBackend, K: ScimResourceKind>(call: Call<B>, body: Body) -> Response {
    search_kinds(call, body, &[K::KIND]).await
}

/// `POST /.search` over both kinds.
async fn search_all<B: ScimBackend>(call: Call<B>, body: Body) -> Response {
    search_kinds(call, body, &[User::KIND, Group::KIND]).await
}

async fn search_kinds<B: ScimBackend>(
    call: Call<B>,
    body: Body,
    kinds: &[ResourceKind],
) -> Response {
    respond(
        async {
            let query = ListQuery::from_search_body(&call.json(body).await?)?;
            let body = call.list(kinds, &query).await?;
            Ok(scim_json(StatusCode::OK, &body, None, false))
        }
        .await,
    )
}

// ---- Bulk ----

async fn bulk_handler<B: ScimBackend>(call: Call<B>, body: Body) -> Response {
    respond(
        async {
            let body = call.json(body).await?;
            let max_ops = call.st.config.max_bulk_operations;
            let out = bulk::run(call.backend(), &call.ctx, body, max_ops).await?;
            Ok(scim_json(StatusCode::OK, &out, None, false))
        }
        .await,
    )
}

// ---- Discovery ----

/// Serves a discovery document built from the config and the SCIM 2 base URL.
fn doc_route<B: ScimBackend>(doc: fn(&ScimConfig, &str) -> Value) -> MethodRouter<AppState<B>> {
    get(move |State(st): St<B>, headers: HeaderMap| async move {
        let base = base_url(&st.config, &headers, "/scim/v2");
        scim_json(StatusCode::OK, &doc(&st.config, &base), None, false)
    })
}

/// Serves the discovery document `doc(id, base)`; 404 naming `what` when there is none.
fn doc_by_id_route<B: ScimBackend>(
    doc: fn(&str, &str) -> Option<Value>,
    what: &'static str,
) -> MethodRouter<AppState<B>> {
    get(
        move |State(st): St<B>, Path(id): Path<String>, headers: HeaderMap| async move {
            let base = base_url(&st.config, &headers, "/scim/v2");
            match doc(&id, &base) {
                Some(d) => scim_json(StatusCode::OK, &d, None, false),
                None => ScimError::not_found(format!("no {what} \"{id}\"")).into_response(),
            }
        },
    )
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

impl<B: ScimBackend> Call<B> {
    /// Base URL of the SCIM 1.x endpoint, under which its users are located.
    fn v1_base(&self) -> String {
        base_url(&self.st.config, &self.headers, "/wso2/scim")
    }

    /// A SCIM 1.x user response: the 1.x shape, located under the 1.x endpoint (`Location` on
    /// a creation).
    fn v1_json(&self, status: StatusCode, body: Value) -> Response {
        let body = compat::user_to_v1(body, &self.v1_base());
        let mut r = (status, body.to_string()).into_response();
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
}

fn v1_respond(r: ScimResult<Response>) -> Response {
    r.unwrap_or_else(v1_error)
}

async fn v1_create_user<B: ScimBackend>(call: Call<B>, body: Body) -> Response {
    v1_respond(
        async {
            let body = compat::user_from_v1(call.json(body).await?);
            let u = ops::create::<B, User>(call.backend(), &call.ctx, body).await?;
            let rendered = User::render(&u, &call.ctx.base, &[]);
            Ok(call.v1_json(StatusCode::CREATED, rendered))
        }
        .await,
    )
}

async fn v1_get_user<B: ScimBackend>(call: Call<B>, Path(id): Path<String>) -> Response {
    v1_respond(
        async {
            let u = ops::get::<B, User>(call.backend(), &call.ctx, &id).await?;
            Ok(call.v1_json(StatusCode::OK, call.render_stored::<User>(&u).await?))
        }
        .await,
    )
}

async fn v1_replace_user<B: ScimBackend>(
    call: Call<B>,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    v1_respond(
        async {
            let body = compat::user_from_v1(call.json(body).await?);
            let (b, c, im) = (call.backend(), &call.ctx, call.if_match());
            let u = ops::replace::<B, User>(b, c, &id, body, im).await?;
            Ok(call.v1_json(StatusCode::OK, call.render_stored::<User>(&u).await?))
        }
        .await,
    )
}

async fn v1_delete_user<B: ScimBackend>(call: Call<B>, Path(id): Path<String>) -> Response {
    v1_respond(
        async {
            ops::delete::<B, User>(call.backend(), &call.ctx, &id, None).await?;
            Ok(StatusCode::OK.into_response())
        }
        .await,
    )
}

async fn v1_list_users<B: ScimBackend>(call: Call<B>, params: Params) -> Response {
    v1_respond(
        async {
            let mut body = call.list(&[User::KIND], &list_query(params)?).await?;
            body["schemas"] = serde_json::json!([SCIM1_CORE_URN]);
            let v1_base = call.v1_base();
            if let Some(Value::Array(items)) = body.get_mut("Resources") {
                for i in items.iter_mut() {
                    *i = compat::user_to_v1(std::mem::take(i), &v1_base);
                }
            }
            let mut r = (StatusCode::OK, body.to_string()).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(r)
        }
        .await,
    )
}
