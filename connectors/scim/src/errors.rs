//! Failed responses as typed errors: the SDK's shared status mapping, refined by the SCIM
//! error body (RFC 7644 §3.12: `{"schemas": [...Error], "status", "scimType", "detail"}`),
//! whose `scimType` becomes the target code and whose `detail` the message.

use provisioner_sdk::error::{self, method_name, BODY_EXCERPT_BYTES};
use provisioner_sdk::serde_json::Value;
use provisioner_sdk::{Method, ProvisionError, Response};

/// The SCIM error message schema.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// `response` when it is 2xx, else its error.
pub fn ok(method: Method, response: Response) -> Result<Response, ProvisionError> {
    if response.is_success() {
        Ok(response)
    } else {
        Err(from_response(method, &response))
    }
}

/// The error for a non-2xx `response` to a `method` request.
pub fn from_response(method: Method, response: &Response) -> ProvisionError {
    let mut error = error::from_status(method, response);
    let Some((scim_type, detail)) = scim_error(&response.body) else {
        return error;
    };
    let kind = scim_type
        .as_deref()
        .map(|t| format!(" ({t})"))
        .unwrap_or_default();
    error.detail_mut().message = format!(
        "{} answered HTTP {}{kind}: {}",
        method_name(method),
        response.status,
        bounded(detail.as_deref().unwrap_or("no detail given"))
    );
    match scim_type {
        Some(code) => error.with_target_code(&code),
        None => error,
    }
}

/// `(scimType, detail)` of a SCIM error body; none when the body is not one.
fn scim_error(body: &[u8]) -> Option<(Option<String>, Option<String>)> {
    let body: Value = provisioner_sdk::serde_json::from_slice(body).ok()?;
    let is_error = body["schemas"]
        .as_array()
        .is_some_and(|s| s.iter().any(|s| s.as_str() == Some(ERROR_SCHEMA)));
    if !is_error {
        return None;
    }
    let text = |key: &str| {
        body[key]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Some((text("scimType"), text("detail")))
}

/// At most [`BODY_EXCERPT_BYTES`] of `text`, cut at a character boundary.
fn bounded(text: &str) -> String {
    if text.len() <= BODY_EXCERPT_BYTES {
        return text.to_string();
    }
    let mut end = BODY_EXCERPT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}
