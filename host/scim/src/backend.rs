//! The storage boundary: [`ScimBackend`], tenant-scoped and versioned.
//!
//! The crate validates every write completely before it calls the backend, and each backend call
//! is one atomic write, so nothing is ever half-written. Optimistic concurrency: every stored
//! resource carries `meta.version`; `replace_*`/`delete_*` take the version the caller read and
//! must fail with [`BackendError::PreconditionFailed`] if the stored one differs.

use std::future::Future;

use crate::error::ScimError;
use crate::resource::{GroupResource, UserResource};

/// The tenant a principal is bound to. Every backend call is scoped to one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(pub String);

impl TenantId {
    /// Builds a tenant id.
    pub fn new(id: impl Into<String>) -> Self {
        TenantId(id.into())
    }
}

impl std::fmt::Display for TenantId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Typed storage failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// No such resource in this tenant.
    #[error("resource not found")]
    NotFound,
    /// A uniqueness constraint (userName, group displayName) would be violated.
    #[error("uniqueness conflict: {0}")]
    Conflict(String),
    /// The stored version is not the expected one.
    #[error("version mismatch")]
    PreconditionFailed,
    /// Storage is unavailable or failed.
    #[error("storage failure: {0}")]
    Unavailable(String),
}

impl From<BackendError> for ScimError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::NotFound => ScimError::not_found("resource not found"),
            BackendError::Conflict(d) => ScimError::uniqueness(d),
            BackendError::PreconditionFailed => {
                ScimError::precondition_failed("the resource was modified: version does not match")
            }
            BackendError::Unavailable(d) => {
                tracing::error!(error = %d, "scim backend failure");
                ScimError::internal("storage failure")
            }
        }
    }
}

/// Result alias for backend calls.
pub type BackendResult<T> = Result<T, BackendError>;

/// Tenant-scoped storage for users and groups.
///
/// Contract:
/// - resources arrive complete (id, `meta` with `created`, `lastModified`, `version`), already
///   validated; store them as given;
/// - `userName` is unique case-insensitively per tenant, group `displayName` likewise
///   ([`BackendError::Conflict`]);
/// - `replace_*`/`delete_*` compare `expected_version` with the stored `meta.version` atomically;
/// - `delete_user` also removes the user from every group's `members` in the same transaction,
///   and `delete_group` removes the group from other groups' members;
/// - a resource of another tenant is [`BackendError::NotFound`].
pub trait ScimBackend: Send + Sync + 'static {
    /// Stores a new user.
    fn create_user(
        &self,
        tenant: &TenantId,
        user: UserResource,
    ) -> impl Future<Output = BackendResult<UserResource>> + Send;
    /// Reads one user.
    fn get_user(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> impl Future<Output = BackendResult<UserResource>> + Send;
    /// Replaces a user if its stored version equals `expected_version`.
    fn replace_user(
        &self,
        tenant: &TenantId,
        user: UserResource,
        expected_version: &str,
    ) -> impl Future<Output = BackendResult<UserResource>> + Send;
    /// Deletes a user if its stored version equals `expected_version` (`None`: any version).
    fn delete_user(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<&str>,
    ) -> impl Future<Output = BackendResult<()>> + Send;
    /// All users of the tenant, in creation order (filtering happens in this crate).
    fn list_users(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = BackendResult<Vec<UserResource>>> + Send;

    /// Stores a new group.
    fn create_group(
        &self,
        tenant: &TenantId,
        group: GroupResource,
    ) -> impl Future<Output = BackendResult<GroupResource>> + Send;
    /// Reads one group.
    fn get_group(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> impl Future<Output = BackendResult<GroupResource>> + Send;
    /// Replaces a group if its stored version equals `expected_version`.
    fn replace_group(
        &self,
        tenant: &TenantId,
        group: GroupResource,
        expected_version: &str,
    ) -> impl Future<Output = BackendResult<GroupResource>> + Send;
    /// Deletes a group if its stored version equals `expected_version` (`None`: any version).
    fn delete_group(
        &self,
        tenant: &TenantId,
        id: &str,
        expected_version: Option<&str>,
    ) -> impl Future<Output = BackendResult<()>> + Send;
    /// All groups of the tenant, in creation order.
    fn list_groups(
        &self,
        tenant: &TenantId,
    ) -> impl Future<Output = BackendResult<Vec<GroupResource>>> + Send;
}
