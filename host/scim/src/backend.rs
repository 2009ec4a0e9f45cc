//! The storage boundary: [`ScimBackend`], tenant-scoped and versioned.
//!
//! The crate validates every write completely before it calls the backend, and each backend call
//! is one atomic write, so nothing is ever half-written. Optimistic concurrency: every stored
//! resource carries `meta.version`; `replace_*`/`delete_*` take the version the caller read and
//! must fail with [`BackendError::PreconditionFailed`] if the stored one differs.

use std::future::Future;

use crate::error::ScimError;
use crate::index::IndexedQuery;
use crate::resource::{GroupResource, ResourceRef, UserResource};

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

/// One page of resources and the number of matches in all pages.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<R> {
    /// Matches in all pages (`totalResults`).
    pub total: u64,
    /// This page, in order.
    pub resources: Vec<R>,
}

/// Whom a user's group memberships are read for: the user's id and one group it belongs to
/// (`value` and `display` set).
pub type Membership = (String, ResourceRef);

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
/// - a resource of another tenant is [`BackendError::NotFound`];
/// - `search_*` answer an [`IndexedQuery`] from indexes (`Ok(None)`: this backend has none, and
///   the caller scans instead); `scan_*` page through every resource by id. Neither may cost
///   more than what it returns plus an index walk.
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
    /// A page of users answering `query` from indexes; `None` when the backend has none.
    fn search_users(
        &self,
        tenant: &TenantId,
        query: &IndexedQuery,
    ) -> impl Future<Output = BackendResult<Option<Page<UserResource>>>> + Send;
    /// Up to `limit` users with ids after `after` (`None`: from the first), ordered by id.
    fn scan_users(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = BackendResult<Vec<UserResource>>> + Send;
    /// The groups each of `users` belongs to directly (users without groups are left out).
    fn memberships(
        &self,
        tenant: &TenantId,
        users: &[String],
    ) -> impl Future<Output = BackendResult<Vec<Membership>>> + Send;
    /// The existing users and groups among `ids`, as member references (`value`, `type` and
    /// `display` set); unknown ids are left out.
    fn member_refs(
        &self,
        tenant: &TenantId,
        ids: &[String],
    ) -> impl Future<Output = BackendResult<Vec<ResourceRef>>> + Send;

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
    /// A page of groups answering `query` from indexes; `None` when the backend has none.
    fn search_groups(
        &self,
        tenant: &TenantId,
        query: &IndexedQuery,
    ) -> impl Future<Output = BackendResult<Option<Page<GroupResource>>>> + Send;
    /// Up to `limit` groups with ids after `after` (`None`: from the first), ordered by id.
    fn scan_groups(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = BackendResult<Vec<GroupResource>>> + Send;
}
