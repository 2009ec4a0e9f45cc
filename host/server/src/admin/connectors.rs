//! Connector components, server-wide (server administrators only): upload a component, list
//! the stored ones, read one's metadata. An uploaded component is compiled ahead (into the
//! runtime's cache) and stored by digest; a target uses it with `"connector": "sha256:<hex>"`,
//! and rolls back to an earlier one with `POST .../targets/{target}/rollback`.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use provisioner_engine::store::{StoredComponent, DIGEST_PREFIX};

use super::error::{ApiError, ApiResult, ErrorBody};
use super::{AdminState, Principal};

/// The largest component accepted, in bytes.
pub const MAX_COMPONENT_BYTES: usize = 64 * 1024 * 1024;

/// A stored connector component and what it says about itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConnectorView {
    /// `sha256:<hex>`: what a target's `connector` names.
    pub reference: String,
    /// Size in bytes.
    pub size: i64,
    /// When it was first stored, epoch ms.
    pub added_at: i64,
    /// Connector type id, e.g. `salesforce`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// The connector's own version.
    pub version: String,
    /// The contract version it implements.
    pub contract: String,
    /// Its configuration properties' keys.
    pub properties: Vec<String>,
}

async fn describe(state: &AdminState, stored: StoredComponent) -> ApiResult<ConnectorView> {
    let bytes = state
        .engine
        .store()
        .component_bytes(&stored.reference)
        .await?
        .ok_or_else(|| not_found(&stored.reference))?;
    let (connector, _) = state
        .registry
        .runtime()
        .load_bytes(bytes)
        .await
        .map_err(|e| ApiError::unprocessable(format!("the stored component does not load: {e}")))?;
    let meta = connector.metadata();
    Ok(ConnectorView {
        reference: stored.reference,
        size: stored.size,
        added_at: stored.added_at,
        id: meta.id.clone(),
        name: meta.name.clone(),
        version: meta.version.clone(),
        contract: connector.contract_version().to_string(),
        properties: meta.properties.iter().map(|p| p.key.clone()).collect(),
    })
}

fn not_found(reference: &str) -> ApiError {
    ApiError::not_found(
        "connector_not_found",
        format!("no stored component `{reference}`; `GET /admin/v1/connectors` lists them"),
    )
}

/// Uploads a component (`application/wasm`): it is loaded and compiled ahead, then stored by
/// digest. A component that does not load is refused with 422 and the reason.
#[utoipa::path(post, path = "/connectors", tag = "connectors",
    request_body(content = Vec<u8>, content_type = "application/wasm",
        description = "the component's bytes"),
    responses((status = 201, description = "created", body = ConnectorView), (status = 403, description = "only a server administrator may do this", body = ErrorBody),
        (status = 422, description = "refused: what is wrong and how to fix it", body = ErrorBody)))]
async fn upload(
    principal: Principal,
    State(state): State<AdminState>,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<ConnectorView>)> {
    principal.require_server_admin()?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty: send the component's bytes (`--data-binary @connector.wasm`)",
        ));
    }
    state
        .registry
        .runtime()
        .load_bytes(bytes.to_vec())
        .await
        .map_err(|e| ApiError::unprocessable(format!("the component does not load: {e}")))?;
    let stored = state.engine.store().put_component(&bytes).await?;
    Ok((StatusCode::CREATED, Json(describe(&state, stored).await?)))
}

/// The stored components, oldest first.
#[utoipa::path(get, path = "/connectors", tag = "connectors",
    responses((status = 200, description = "success", body = Vec<ConnectorView>), (status = 403, description = "only a server administrator may do this", body = ErrorBody)))]
async fn list(
    principal: Principal,
    State(state): State<AdminState>,
) -> ApiResult<Json<Vec<ConnectorView>>> {
    principal.require_server_admin()?;
    let mut views = Vec::new();
    for stored in state.engine.store().components().await? {
        views.push(describe(&state, stored).await?);
    }
    Ok(Json(views))
}

/// One stored component's metadata.
#[utoipa::path(get, path = "/connectors/{reference}", tag = "connectors",
    params(("reference" = String, Path, description = "`sha256:<hex>`")),
    responses((status = 200, description = "success", body = ConnectorView), (status = 403, description = "only a server administrator may do this", body = ErrorBody),
        (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn get_one(
    principal: Principal,
    State(state): State<AdminState>,
    Path(reference): Path<String>,
) -> ApiResult<Json<ConnectorView>> {
    principal.require_server_admin()?;
    let digest = reference.strip_prefix(DIGEST_PREFIX).unwrap_or(&reference);
    let stored = state
        .engine
        .store()
        .components()
        .await?
        .into_iter()
        .find(|c| c.reference[DIGEST_PREFIX.len()..] == *digest)
        .ok_or_else(|| not_found(&reference))?;
    Ok(Json(describe(&state, stored).await?))
}

/// The connectors routes.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(upload, list))
        .routes(routes!(get_one))
        .layer(DefaultBodyLimit::max(MAX_COMPONENT_BYTES))
}
