//! Provisioning errors: constructors for each case, and THE mapping of HTTP statuses and
//! transport failures to cases that every SDK (Rust, JS, Python) and `provisioner connector
//! check` share.
//!
//! The host decides retries from the case, never from the message:
//!
//! | response | error |
//! |---|---|
//! | 400, 422 | `invalid-data` |
//! | 401, 403 | `auth-failed` |
//! | 404 | `not-found` |
//! | 409 | `conflict`, with the body's `"id"` as the existing remote id when present |
//! | 429 | `rate-limited`, `retry-after-ms` from `Retry-After` (seconds or HTTP-date) |
//! | 500..=599 | `transient`, outcome unknown when the request was a write |
//! | any other non-2xx | `permanent` |
//! | timeout | `transient`, outcome unknown when the request was a write |
//! | connection failed | `transient`, outcome unknown when it was sent and a write |
//! | response too large, denied, invalid request | `permanent` |
//! | token refused | `auth-failed` |
//!
//! A write is POST, PUT, PATCH or DELETE. Messages carry the status and at most
//! [`BODY_EXCERPT_BYTES`] of the body, and `http-status` is set.

use crate::{
    ConflictError, ErrorDetail, HttpError, Method, ProvisionError, RateLimitError, Response,
    TransientError,
};

/// The most bytes of a response body quoted in an error message.
pub const BODY_EXCERPT_BYTES: usize = 200;

/// An error detail with only a message.
pub fn detail(message: impl Into<String>) -> ErrorDetail {
    ErrorDetail {
        message: message.into(),
        target_code: None,
        fields: vec![],
        http_status: None,
    }
}

/// May succeed if retried; `outcome_unknown` when a write may have been applied remotely (the
/// host then resolves it with `lookup` before retrying).
pub fn transient(message: impl Into<String>, outcome_unknown: bool) -> ProvisionError {
    ProvisionError::Transient(TransientError {
        detail: detail(message),
        outcome_unknown,
    })
}

/// The target refuses work for a while; retry after `retry_after_ms` when it said.
pub fn rate_limited(message: impl Into<String>, retry_after_ms: Option<u64>) -> ProvisionError {
    ProvisionError::RateLimited(RateLimitError {
        detail: detail(message),
        retry_after_ms,
    })
}

/// A daily or periodic quota is spent; the host pauses the target until it resets.
pub fn quota_exhausted(message: impl Into<String>, retry_after_ms: Option<u64>) -> ProvisionError {
    ProvisionError::QuotaExhausted(RateLimitError {
        detail: detail(message),
        retry_after_ms,
    })
}

/// The target refused the credentials; the host pauses the target and tells an operator.
pub fn auth_failed(message: impl Into<String>) -> ProvisionError {
    ProvisionError::AuthFailed(detail(message))
}

/// The entity already exists remotely, as `existing_remote_id` when known.
pub fn conflict(message: impl Into<String>, existing_remote_id: Option<String>) -> ProvisionError {
    ProvisionError::Conflict(ConflictError {
        detail: detail(message),
        existing_remote_id,
    })
}

/// The target refused the data; fixing it and replaying may succeed.
pub fn invalid_data(message: impl Into<String>) -> ProvisionError {
    ProvisionError::InvalidData(detail(message))
}

/// The remote entity does not exist.
pub fn not_found(message: impl Into<String>) -> ProvisionError {
    ProvisionError::NotFound(detail(message))
}

/// The connector or target cannot do this; not a failure of the data.
pub fn unsupported(message: impl Into<String>) -> ProvisionError {
    ProvisionError::Unsupported(detail(message))
}

/// Any other failure that retrying cannot fix.
pub fn permanent(message: impl Into<String>) -> ProvisionError {
    ProvisionError::Permanent(detail(message))
}

/// Whether `method` writes: POST, PUT, PATCH and DELETE.
pub fn is_write(method: Method) -> bool {
    matches!(
        method,
        Method::Post | Method::Put | Method::Patch | Method::Delete
    )
}

/// The error for a non-2xx `response` to a `method` request, by the shared table above.
pub fn from_status(method: Method, response: &Response) -> ProvisionError {
    let status = response.status;
    let message = format!(
        "{} answered HTTP {status}{}",
        method_name(method),
        excerpt(&response.body)
    );
    let error = match status {
        400 | 422 => invalid_data(message),
        401 | 403 => auth_failed(message),
        404 => not_found(message),
        409 => conflict(message, id_in(&response.body)),
        429 => rate_limited(message, response.retry_after_ms()),
        500..=599 => transient(message, is_write(method)),
        _ => permanent(message),
    };
    error.with_status(status)
}

/// The error for a request that got no response, by the shared table above.
pub fn from_http_error(method: Method, error: &HttpError) -> ProvisionError {
    let name = method_name(method);
    match error {
        HttpError::Denied(why) => permanent(format!(
            "{name} was refused by the host's egress policy: {why}; the URL's origin must be one \
             the operator configured"
        )),
        HttpError::InvalidRequest(why) => permanent(format!("{name} request is malformed: {why}")),
        HttpError::Timeout => transient(
            format!("{name} got no complete response in time"),
            is_write(method),
        ),
        HttpError::ConnectionFailed(failure) => transient(
            format!("{name} failed to connect: {}", failure.message),
            failure.sent && is_write(method),
        ),
        HttpError::ResponseTooLarge(cap) => permanent(format!(
            "{name} response exceeded the host's cap of {cap} bytes"
        )),
        HttpError::TokenRefused(refused) => {
            let mut error = auth_failed(format!(
                "the token endpoint refused the grant: {} {}",
                refused.error, refused.description
            ))
            .with_target_code(&refused.error);
            error.detail_mut().http_status = refused.status;
            error
        }
    }
}

/// The upper-case name of `method`.
pub fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Head => "HEAD",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

/// `": <body>"` with at most [`BODY_EXCERPT_BYTES`] of the body (cut at a character
/// boundary), or nothing for an empty body.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    if text.len() <= BODY_EXCERPT_BYTES {
        return format!(": {text}");
    }
    let mut end = BODY_EXCERPT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(": {}...", &text[..end])
}

/// The `"id"` of a JSON object body, as text.
fn id_in(body: &[u8]) -> Option<String> {
    match serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("id")?
    {
        serde_json::Value::String(id) if !id.is_empty() => Some(id.clone()),
        serde_json::Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

impl ProvisionError {
    /// The case's name in the contract: `transient`, `rate-limited`, `quota-exhausted`,
    /// `auth-failed`, `conflict`, `invalid-data`, `not-found`, `unsupported` or `permanent`.
    pub fn case(&self) -> &'static str {
        match self {
            ProvisionError::Transient(_) => "transient",
            ProvisionError::RateLimited(_) => "rate-limited",
            ProvisionError::QuotaExhausted(_) => "quota-exhausted",
            ProvisionError::AuthFailed(_) => "auth-failed",
            ProvisionError::Conflict(_) => "conflict",
            ProvisionError::InvalidData(_) => "invalid-data",
            ProvisionError::NotFound(_) => "not-found",
            ProvisionError::Unsupported(_) => "unsupported",
            ProvisionError::Permanent(_) => "permanent",
        }
    }

    /// What the target said, whatever the case.
    pub fn detail(&self) -> &ErrorDetail {
        match self {
            ProvisionError::Transient(e) => &e.detail,
            ProvisionError::RateLimited(e) | ProvisionError::QuotaExhausted(e) => &e.detail,
            ProvisionError::Conflict(e) => &e.detail,
            ProvisionError::AuthFailed(d)
            | ProvisionError::InvalidData(d)
            | ProvisionError::NotFound(d)
            | ProvisionError::Unsupported(d)
            | ProvisionError::Permanent(d) => d,
        }
    }

    /// What the target said, to amend.
    pub fn detail_mut(&mut self) -> &mut ErrorDetail {
        match self {
            ProvisionError::Transient(e) => &mut e.detail,
            ProvisionError::RateLimited(e) | ProvisionError::QuotaExhausted(e) => &mut e.detail,
            ProvisionError::Conflict(e) => &mut e.detail,
            ProvisionError::AuthFailed(d)
            | ProvisionError::InvalidData(d)
            | ProvisionError::NotFound(d)
            | ProvisionError::Unsupported(d)
            | ProvisionError::Permanent(d) => d,
        }
    }

    /// Sets the HTTP status of the failing response.
    pub fn with_status(mut self, status: u16) -> Self {
        self.detail_mut().http_status = Some(status);
        self
    }

    /// Sets the target's own error code, e.g. `DUPLICATE_USERNAME`.
    pub fn with_target_code(mut self, code: &str) -> Self {
        self.detail_mut().target_code = Some(code.to_string());
        self
    }

    /// Sets the target fields involved.
    pub fn with_fields(mut self, fields: &[&str]) -> Self {
        self.detail_mut().fields = fields.iter().map(|f| f.to_string()).collect();
        self
    }

    /// Prefixes the message with `context`, e.g. the step that failed.
    pub fn context(mut self, context: &str) -> Self {
        let detail = self.detail_mut();
        detail.message = format!("{context}: {}", detail.message);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ConnectionFailure, TokenError};

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    fn case(error: &ProvisionError) -> &'static str {
        error.case()
    }

    fn outcome_unknown(error: &ProvisionError) -> bool {
        match error {
            ProvisionError::Transient(e) => e.outcome_unknown,
            other => panic!("expected transient, got {other:?}"),
        }
    }

    #[test]
    fn every_status_row_maps_to_its_case_with_the_status_set() {
        let rows = [
            (400, "invalid-data"),
            (422, "invalid-data"),
            (401, "auth-failed"),
            (403, "auth-failed"),
            (404, "not-found"),
            (409, "conflict"),
            (429, "rate-limited"),
            (500, "transient"),
            (503, "transient"),
            (599, "transient"),
            (300, "permanent"),
            (402, "permanent"),
            (410, "permanent"),
            (600, "permanent"),
        ];
        for (status, expected) in rows {
            let error = from_status(Method::Get, &response(status, ""));
            assert_eq!(case(&error), expected, "status {status}");
            assert_eq!(error.detail().http_status, Some(status));
            assert!(error.detail().message.contains(&format!("HTTP {status}")));
        }
    }

    #[test]
    fn server_errors_leave_the_outcome_unknown_only_for_writes() {
        for method in [Method::Post, Method::Put, Method::Patch, Method::Delete] {
            assert!(outcome_unknown(&from_status(method, &response(502, ""))));
        }
        for method in [Method::Get, Method::Head] {
            assert!(!outcome_unknown(&from_status(method, &response(500, ""))));
        }
    }

    #[test]
    fn conflict_carries_the_existing_id_from_the_body() {
        let with_id = from_status(Method::Post, &response(409, r#"{"id":"u-7"}"#));
        let numeric = from_status(Method::Post, &response(409, r#"{"id":12}"#));
        let without = from_status(Method::Post, &response(409, "duplicate"));
        let id = |e: ProvisionError| match e {
            ProvisionError::Conflict(c) => c.existing_remote_id,
            other => panic!("expected conflict, got {other:?}"),
        };
        assert_eq!(id(with_id).as_deref(), Some("u-7"));
        assert_eq!(id(numeric).as_deref(), Some("12"));
        assert_eq!(id(without), None);
    }

    #[test]
    fn rate_limits_read_retry_after() {
        let mut r = response(429, "");
        let hint = |r: &Response| match from_status(Method::Post, r) {
            ProvisionError::RateLimited(e) => e.retry_after_ms,
            other => panic!("expected rate-limited, got {other:?}"),
        };
        assert_eq!(hint(&r), None);
        r.headers.push(("Retry-After".into(), "7".into()));
        assert_eq!(hint(&r), Some(7000));
        r.headers[0].1 = "Thu, 01 Jan 1970 00:00:00 GMT".into();
        assert_eq!(hint(&r), Some(0), "a date in the past means now");
    }

    #[test]
    fn messages_quote_at_most_200_bytes_of_the_body() {
        let long = "é".repeat(500);
        let error = from_status(Method::Put, &response(400, &long));
        let message = &error.detail().message;
        assert!(message.starts_with("PUT answered HTTP 400: é"), "{message}");
        assert!(message.ends_with("..."));
        assert!(
            message.len() <= BODY_EXCERPT_BYTES + 40,
            "{}",
            message.len()
        );
        let short = from_status(Method::Get, &response(404, " gone \n"));
        assert_eq!(short.detail().message, "GET answered HTTP 404: gone");
    }

    #[test]
    fn transport_errors_map_by_the_shared_table() {
        let timeout = |m| from_http_error(m, &HttpError::Timeout);
        assert!(outcome_unknown(&timeout(Method::Post)));
        assert!(!outcome_unknown(&timeout(Method::Get)));

        let failed = |m, sent| {
            from_http_error(
                m,
                &HttpError::ConnectionFailed(ConnectionFailure {
                    message: "reset".into(),
                    sent,
                }),
            )
        };
        assert!(outcome_unknown(&failed(Method::Delete, true)));
        assert!(!outcome_unknown(&failed(Method::Delete, false)));
        assert!(!outcome_unknown(&failed(Method::Get, true)));
        assert!(failed(Method::Get, true).detail().message.contains("reset"));

        for error in [
            HttpError::ResponseTooLarge(1024),
            HttpError::Denied("origin not allowed".into()),
            HttpError::InvalidRequest("bad header".into()),
        ] {
            assert_eq!(case(&from_http_error(Method::Get, &error)), "permanent");
        }
        let refused = from_http_error(
            Method::Get,
            &HttpError::TokenRefused(TokenError {
                status: Some(400),
                error: "invalid_grant".into(),
                description: "bad secret".into(),
            }),
        );
        assert_eq!(case(&refused), "auth-failed");
        assert_eq!(
            refused.detail().target_code.as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(refused.detail().http_status, Some(400));
    }

    #[test]
    fn constructors_build_their_cases() {
        assert_eq!(case(&transient("x", false)), "transient");
        assert_eq!(case(&rate_limited("x", Some(5))), "rate-limited");
        assert_eq!(case(&quota_exhausted("x", None)), "quota-exhausted");
        assert_eq!(case(&auth_failed("x")), "auth-failed");
        assert_eq!(case(&conflict("x", None)), "conflict");
        assert_eq!(case(&invalid_data("x")), "invalid-data");
        assert_eq!(case(&not_found("x")), "not-found");
        assert_eq!(case(&unsupported("x")), "unsupported");
        let e = permanent("boom")
            .with_target_code("E1")
            .with_fields(&["email"])
            .context("creating user");
        assert_eq!(case(&e), "permanent");
        assert_eq!(e.detail().message, "creating user: boom");
        assert_eq!(e.detail().target_code.as_deref(), Some("E1"));
        assert_eq!(e.detail().fields, ["email"]);
    }
}
