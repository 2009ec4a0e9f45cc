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
