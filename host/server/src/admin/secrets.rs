//! A target's stored secrets, write-only: `PUT` seals a value, `GET` lists keys and times
//! (never a value), `DELETE` removes one. A target uses a stored secret through a
//! `stored:<key>` reference in its `secret_refs` (see [`crate::secrets`]); writing or deleting
//! one makes the target's connector be prepared again, so its next call uses the new value.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ApiError, ApiResult, ErrorBody};
use super::{AdminState, Principal};
use crate::secrets::SecretsError;

/// A secret value to store.
#[derive(Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretWrite {
    /// The value; it is sealed at once and never returned.
    pub value: String,
}

/// A stored secret, without its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SecretEntry {
    /// The secret's key.
    pub key: String,
    /// When it was last written, epoch ms.
    pub updated_at: i64,
}

impl From<SecretsError> for ApiError {
    fn from(e: SecretsError) -> Self {
        match e {
            SecretsError::NoKey => {
                ApiError::new(StatusCode::CONFLICT, "no_secret_key", e.to_string())
            }
            SecretsError::Missing { .. } => ApiError::not_found("secret_not_found", e.to_string()),
            SecretsError::Store(store) => store.into(),
            other => ApiError::internal(other),
        }
    }
}

fn check_key(key: &str) -> ApiResult<()> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "secret key `{key}` is not valid: use 1 to 128 letters, digits, `-`, `_` or `.`"
        )))
    }
}

/// Seals and stores a secret of the target; the target's connector is prepared again.
#[utoipa::path(put, path = "/tenants/{tenant}/targets/{target}/secrets/{key}", tag = "secrets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name"),
        ("key" = String, Path, description = "secret key, e.g. sf-client-secret")),
    request_body = SecretWrite,
    responses((status = 204, description = "stored"), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody),
        (status = 409, description = "no key to seal with is configured", body = ErrorBody)))]
async fn put_secret(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target, key)): Path<(String, String, String)>,
    Json(body): Json<SecretWrite>,
) -> ApiResult<StatusCode> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    check_key(&key)?;
    state
        .secrets
        .put(&tenant, &target, &key, &body.value)
        .await?;
    state.registry.invalidate(&tenant, &target);
    Ok(StatusCode::NO_CONTENT)
}

/// The keys of the target's stored secrets and when each was written (never a value).
#[utoipa::path(get, path = "/tenants/{tenant}/targets/{target}/secrets", tag = "secrets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name")),
    responses((status = 200, description = "success", body = Vec<SecretEntry>), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn list_secrets(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target)): Path<(String, String)>,
) -> ApiResult<Json<Vec<SecretEntry>>> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    let entries = state.secrets.list(&tenant, &target).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|(key, updated_at)| SecretEntry { key, updated_at })
            .collect(),
    ))
}

/// Deletes a stored secret of the target; the target's connector is prepared again.
#[utoipa::path(delete, path = "/tenants/{tenant}/targets/{target}/secrets/{key}", tag = "secrets",
    params(("tenant" = String, Path, description = "tenant name"),
        ("target" = String, Path, description = "target name"),
        ("key" = String, Path, description = "secret key")),
    responses((status = 204, description = "deleted"), (status = 404, description = "no such tenant (or one the caller may not see), or no such resource", body = ErrorBody)))]
async fn delete_secret(
    principal: Principal,
    State(state): State<AdminState>,
    Path((tenant, target, key)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    state.require_tenant(&principal, &tenant)?;
    state.require_target(&tenant, &target).await?;
    if !state.secrets.delete(&tenant, &target, &key).await? {
        return Err(SecretsError::Missing {
            tenant,
            target,
            key,
        }
        .into());
    }
    state.registry.invalidate(&tenant, &target);
    Ok(StatusCode::NO_CONTENT)
}

/// The secrets routes.
pub fn routes() -> OpenApiRouter<AdminState> {
    OpenApiRouter::new()
        .routes(routes!(list_secrets))
        .routes(routes!(put_secret, delete_secret))
}
