//! The admin REST API under `/admin/v1`, served on the SCIM listener with its own credentials.
//!
//! Each resource lives in its own module exporting `routes()`; [`api`] merges them (one line
//! per module) into an [`OpenApiRouter`], so the OpenAPI document ([`openapi`], served at
//! `GET /admin/v1/openapi.json` without authentication) is generated from the handlers and
//! lists every route by construction. Handlers authenticate through the [`Principal`]
//! extractor; tenant-scoped routes live under `/admin/v1/tenants/{tenant}` and answer 404
//! `tenant_not_found` for a tenant the caller may not see.

pub mod auth;
pub mod connectors;
pub mod error;
pub mod explain;
pub mod jobs;
pub mod log;
pub mod reconcile;
pub mod secrets;
pub mod targets;
pub mod tenants;
pub mod users;

use std::sync::{Arc, OnceLock};

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use provisioner_engine::Engine;

use crate::backend::EngineBackend;
use crate::registry::Registry;
use crate::secrets::Secrets;

pub use auth::{AdminCredentials, Principal};
pub use error::{ApiError, ApiResult, ErrorBody};

/// Where the admin API is mounted.
pub const PREFIX: &str = "/admin/v1";

/// What the admin handlers share.
#[derive(Clone)]
pub struct AdminState {
    /// The provisioning engine (store, outbox, replay, pause).
    pub engine: Engine,
    /// The connector registry (validation, egress, explain).
    pub registry: Registry,
    /// The SCIM backend: users and groups written through the admin API take the SCIM path.
    pub backend: Arc<EngineBackend>,
    /// The SCIM settings the SCIM API runs with (page sizes, group-member policy).
    pub scim: scim::ScimConfig,
    /// The admin credentials and console sessions.
    pub credentials: Arc<AdminCredentials>,
    /// The sealed target secrets.
    pub secrets: Secrets,
    /// The configured tenants.
    pub tenants: Arc<Vec<String>>,
    /// Whether clients reach the server over HTTPS (it serves TLS, or its `base_url` is
    /// `https://`): the console's session cookie is then `Secure`.
    pub secure_cookies: bool,
}

impl AdminState {
    /// Fails with 404 `tenant_not_found` unless `tenant` is configured and `principal` may
    /// see it.
    pub fn require_tenant(&self, principal: &Principal, tenant: &str) -> ApiResult<()> {
        principal.require_tenant(tenant)?;
        if self.tenants.iter().any(|t| t == tenant) {
            Ok(())
        } else {
            Err(auth::tenant_not_found(tenant))
        }
    }

    /// The stored target, or 404 `target_not_found`.
    pub async fn require_target(
        &self,
        tenant: &str,
        target: &str,
    ) -> ApiResult<provisioner_engine::store::TargetRecord> {
        self.engine
            .store()
            .target(tenant, target)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(
                    "target_not_found",
                    format!(
                        "tenant `{tenant}` has no target `{target}`; `GET /admin/v1/tenants/\
                         {tenant}/targets` lists its targets"
                    ),
                )
            })
    }
}

/// The document's fixed parts: title, version, security schemes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "provisioner admin API",
        description = "Operate the provisioning server: tenants, targets, connectors, secrets, \
                       jobs, dead letters, users and groups, reconciliation. Authenticate with HTTP Basic or a \
                       Bearer token from the server's [admin] section, or the console's session \
                       cookie."
    ),
    modifiers(&Security),
    components(schemas(ErrorBody))
)]
struct ApiInfo;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("basic", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("bearer", Vec::<String>::new()),
        ]);
    }
}

/// The generated OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "this document", content_type = "application/json")))]
async fn openapi_json() -> Json<&'static OpenApiDoc> {
    static DOC: OnceLock<OpenApiDoc> = OnceLock::new();
    Json(DOC.get_or_init(openapi))
}

/// Every admin route under [`PREFIX`], with its documentation.
pub fn api() -> OpenApiRouter<AdminState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .merge(auth::routes())
        .merge(connectors::routes())
        .merge(explain::routes())
        .merge(jobs::routes())
        .merge(log::routes())
        .merge(reconcile::routes())
        .merge(secrets::routes())
        .merge(targets::routes())
        .merge(tenants::routes())
        .merge(users::routes());
    OpenApiRouter::with_openapi(ApiInfo::openapi()).nest(PREFIX, v1)
}

/// The OpenAPI document of the admin API.
pub fn openapi() -> OpenApiDoc {
    api().into_openapi()
}

/// The OpenAPI document as the repository keeps it (`docs/openapi.json`): pretty JSON.
pub fn openapi_text() -> String {
    openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// The admin router, ready to merge beside the SCIM router.
pub fn router(state: AdminState) -> axum::Router {
    api()
        .split_for_parts()
        .0
        .route(&format!("{PREFIX}/{{*rest}}"), axum::routing::any(no_route))
        .with_state(state)
}

/// Any other path under [`PREFIX`]: a JSON 404, never the SCIM API's Basic challenge (which
/// would make a browser prompt for credentials in the middle of the console).
async fn no_route(uri: axum::http::Uri) -> error::ApiError {
    error::ApiError::not_found(
        "no_such_route",
        format!(
            "the admin API has no route {}; GET {PREFIX}/openapi.json lists every route",
            uri.path()
        ),
    )
}
