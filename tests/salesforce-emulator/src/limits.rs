//! The daily API request allocation: counting calls, the `Sforce-Limit-Info` header and `/limits`.

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{json, Value};

use crate::response::ApiError;

/// Name of the usage header on REST responses.
pub const LIMIT_INFO_HEADER: &str = "Sforce-Limit-Info";
/// The same header name in the lower case `http` header names use.
pub const LIMIT_INFO_HEADER_LOWER: &str = "sforce-limit-info";

/// API usage in the current (resettable) window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ApiUsage {
    /// Calls counted in this window.
    pub used: u64,
    /// Allocation of the window.
    pub max: u64,
}

impl ApiUsage {
    /// A fresh window with the given allocation.
    pub fn new(max: u64) -> Self {
        Self { used: 0, max }
    }

    /// Counts one call, or refuses it with 403 REQUEST_LIMIT_EXCEEDED when the allocation is spent.
    pub fn consume(&mut self) -> Result<(), ApiError> {
        if self.used >= self.max {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
            ));
        }
        self.used += 1;
        Ok(())
    }

    /// The `Sforce-Limit-Info` header value.
    pub fn header_value(&self) -> String {
        format!("api-usage={}/{}", self.used, self.max)
    }

    /// The body of `GET /limits`.
    pub fn limits_body(&self) -> Value {
        let remaining = self.max.saturating_sub(self.used);
        json!({
            "DailyApiRequests": { "Max": self.max, "Remaining": remaining },
            "ConcurrentAsyncGetReportInstances": { "Max": 200, "Remaining": 200 },
            "DailyAsyncApexExecutions": { "Max": 250000, "Remaining": 250000 },
            "DailyBulkV2QueryJobs": { "Max": 10000, "Remaining": 10000 },
            "DataStorageMB": { "Max": 5, "Remaining": 5 },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_until_the_max() {
        let mut u = ApiUsage::new(2);
        u.consume().unwrap();
        u.consume().unwrap();
        assert_eq!(u.header_value(), "api-usage=2/2");
        let e = u.consume().unwrap_err();
        assert_eq!(e.status, StatusCode::FORBIDDEN);
        assert_eq!(e.code, "REQUEST_LIMIT_EXCEEDED");
        assert_eq!(u.limits_body()["DailyApiRequests"]["Remaining"], 0);
    }
}
