//! [`ScimConfig`]: limits and settings of the SCIM endpoints, read by the HTTP layer and
//! advertised by the discovery documents. A leaf module, so both can depend on it.

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
    /// Most resources a list may read to evaluate a filter or sort the storage cannot answer
    /// from its indexes (`co`, `ne`, `not`, unindexed attributes); beyond it the request fails
    /// with 400 `tooMany`.
    pub max_filter_scan: usize,
    /// What a group write does with a member id that names no user or group of the tenant.
    pub unknown_members: UnknownMembers,
}

/// What a group write does with a member id that names no user or group of the tenant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownMembers {
    /// Leave the unknown member out (logged) and write the rest: clients that send a group
    /// and its members in one batch, or that race a member's deletion, do not lose the
    /// group's other changes. The response shows the members kept.
    #[default]
    Ignore,
    /// Refuse the write with 400 `invalidValue` naming the unknown ids.
    Reject,
}

impl Default for ScimConfig {
    fn default() -> Self {
        ScimConfig {
            max_body_bytes: 1024 * 1024,
            max_bulk_operations: 1000,
            default_page_size: 100,
            max_page_size: 1000,
            base_url: None,
            max_filter_scan: 100_000,
            unknown_members: UnknownMembers::default(),
        }
    }
}
