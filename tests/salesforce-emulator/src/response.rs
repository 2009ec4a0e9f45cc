//! Salesforce-shaped HTTP responses: JSON with the org's content type and the REST error envelope.

use axum::{
    body::Body,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{json, Value};

/// The content type Salesforce puts on JSON responses.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

/// Builds a JSON response with Salesforce's content type.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).expect("JSON values always serialise");
    let mut resp = Response::new(Body::from(bytes));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    resp
}

/// One REST API error: rendered as the single element of a JSON array
/// `[{"message","errorCode","fields"?}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Salesforce error code, e.g. `REQUIRED_FIELD_MISSING`.
    pub code: String,
    /// Human-readable message.
    pub message: String,
    /// Affected fields; `None` omits the key (session, limit and routing errors carry none).
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    /// An error without a `fields` key.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            fields: None,
        }
    }

    /// A 400 error with a `fields` list (record validation errors).
    pub fn field(code: &str, message: impl Into<String>, fields: &[&str]) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: code.to_string(),
            message: message.into(),
            fields: Some(fields.iter().map(|f| f.to_string()).collect()),
        }
    }

    /// Replaces the HTTP status.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// 401 INVALID_SESSION_ID "Session expired or invalid".
    pub fn invalid_session() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }

    /// 404 NOT_FOUND "The requested resource does not exist".
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    /// 405 METHOD_NOT_ALLOWED for `method`, listing the allowed methods.
    pub fn method_not_allowed(method: &str, allowed: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("HTTP Method '{method}' not allowed. Allowed are {allowed}"),
        )
    }

    /// 400 JSON_PARSER_ERROR with the given message.
    pub fn json_parser(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "JSON_PARSER_ERROR", message)
    }

    /// The JSON element of this error.
    pub fn to_json(&self) -> Value {
        let mut v = json!({ "message": self.message, "errorCode": self.code });
        if let Some(fields) = &self.fields {
            v["fields"] = json!(fields);
        }
        v
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        json_response(self.status, &json!([self.to_json()]))
    }
}

/// An OAuth token-endpoint error: `{"error","error_description"}`, always HTTP 400.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// The `error` value, e.g. `invalid_grant`.
    pub error: &'static str,
    /// The `error_description` value, e.g. `authentication failure`.
    pub description: &'static str,
}

impl OAuthError {
    /// invalid_grant / authentication failure.
    pub const AUTHENTICATION_FAILURE: Self = Self {
        error: "invalid_grant",
        description: "authentication failure",
    };
    /// invalid_client_id / client identifier invalid.
    pub const INVALID_CLIENT_ID: Self = Self {
        error: "invalid_client_id",
        description: "client identifier invalid",
    };
    /// invalid_client / invalid client credentials.
    pub const INVALID_CLIENT: Self = Self {
        error: "invalid_client",
        description: "invalid client credentials",
    };
    /// unsupported_grant_type / grant type not supported.
    pub const UNSUPPORTED_GRANT_TYPE: Self = Self {
        error: "unsupported_grant_type",
        description: "grant type not supported",
    };
    /// invalid_grant / request not supported on this domain.
    pub const NOT_SUPPORTED_ON_DOMAIN: Self = Self {
        error: "invalid_grant",
        description: "request not supported on this domain",
    };
    /// invalid_grant / invalid assertion (JWT unparsable or its signature does not verify).
    pub const INVALID_ASSERTION: Self = Self {
        error: "invalid_grant",
        description: "invalid assertion",
    };
    /// invalid_grant / Audience validation failed (JWT `aud` not accepted).
    pub const AUDIENCE_VALIDATION_FAILED: Self = Self {
        error: "invalid_grant",
        description: "Audience validation failed",
    };
    /// invalid_grant / expired authorization code (JWT `exp` passed).
    pub const EXPIRED_AUTHORIZATION_CODE: Self = Self {
        error: "invalid_grant",
        description: "expired authorization code",
    };
    /// invalid_grant / user hasn't approved this consumer (JWT `sub` not pre-authorised).
    pub const USER_NOT_APPROVED: Self = Self {
        error: "invalid_grant",
        description: "user hasn't approved this consumer",
    };
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "error": self.error, "error_description": self.description }),
        )
    }
}
