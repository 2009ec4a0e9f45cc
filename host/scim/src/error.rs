//! SCIM error responses (RFC 7644 §3.12).
//!
//! Every failure leaving this crate over HTTP is a [`ScimError`] rendered as
//! `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"...","detail":"..."}`
//! with `status` as a string and the `application/scim+json` content type.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::schema::ERROR_URN;

/// The `scimType` detail codes of RFC 7644 §3.12 (table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    /// The filter syntax was invalid or the filter cannot be evaluated.
    InvalidFilter,
    /// The filter yields too many results to return.
    TooMany,
    /// One or more unique attribute values are already in use.
    Uniqueness,
    /// An attempt to modify an immutable or read-only attribute.
    Mutability,
    /// The request body structure was invalid or did not conform to the schema.
    InvalidSyntax,
    /// The PATCH path attribute was invalid or malformed.
    InvalidPath,
    /// The PATCH path did not yield an attribute that could be operated on.
    NoTarget,
    /// A required value was missing or the value was not compatible.
    InvalidValue,
    /// The SCIM protocol version is not supported.
    InvalidVers,
    /// The request cannot be completed because it would reveal sensitive data.
    Sensitive,
}

impl ScimType {
    /// The wire spelling of the code.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
        }
    }
}

/// A SCIM protocol error: an HTTP status, an optional `scimType` and a human-readable detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {detail}")]
pub struct ScimError {
    /// The HTTP status code.
    pub status: StatusCode,
    /// The SCIM detail code, when RFC 7644 defines one for the case.
    pub scim_type: Option<ScimType>,
    /// Human-readable explanation.
    pub detail: String,
}

impl ScimError {
    /// An error with an explicit status and optional `scimType`.
    pub fn new(status: StatusCode, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 with the given `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    /// 400 `invalidValue`.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    /// 400 `invalidSyntax`.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }

    /// 400 `invalidPath`.
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }

    /// 400 `noTarget`.
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::NoTarget, detail)
    }

    /// 400 `mutability`.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::Mutability, detail)
    }

    /// 404 for a resource that does not exist (in the caller's tenant).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some(ScimType::Uniqueness), detail)
    }

    /// 412: the `If-Match` version does not match the current one.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, None, detail)
    }

    /// 413: the request body exceeds the configured limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            format!("request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 401: missing or wrong credentials.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, None, "authentication required")
    }

    /// 500 for failures that are not the client's fault.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, None, detail)
    }

    /// The RFC 7644 §3.12 JSON body.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_URN],
            "status": self.status.as_u16().to_string(),
            "detail": self.detail,
        });
        if let Some(t) = self.scim_type {
            body["scimType"] = Value::String(t.as_str().to_string());
        }
        body
    }
}

impl IntoResponse for ScimError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, self.to_json().to_string()).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::schema::SCIM_CONTENT_TYPE),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"SCIM\", Bearer realm=\"SCIM\""),
            );
        }
        resp
    }
}

/// Result alias used across the crate.
pub type ScimResult<T> = Result<T, ScimError>;
