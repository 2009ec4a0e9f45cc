//! Which request headers a connector may set, and which only the host's credentials may.

use provisioner_contract::HttpError;

/// Checks a header name the guest wants to send. Credential headers (`for_credential`) may use
/// `authorization` and `cookie`; headers set directly by the guest may not.
pub(crate) fn check_header_name(name: &str, for_credential: bool) -> Result<(), HttpError> {
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(HttpError::InvalidRequest(format!(
            "invalid header name `{name}`"
        )));
    }
    let lower = name.to_ascii_lowercase();
    let credential_header = matches!(lower.as_str(), "authorization" | "cookie");
    if credential_header && !for_credential {
        return Err(HttpError::Denied(format!(
            "header `{name}` may not be set by a connector; name a credential and the host attaches it"
        )));
    }
    if lower == "host" || lower.starts_with("proxy-") {
        return Err(HttpError::Denied(format!(
            "header `{name}` may not be set by a connector"
        )));
    }
    if matches!(
        lower.as_str(),
        "content-length"
            | "transfer-encoding"
            | "connection"
            | "keep-alive"
            | "te"
            | "trailer"
            | "upgrade"
    ) {
        return Err(HttpError::InvalidRequest(format!(
            "header `{name}` is managed by the host's HTTP client"
        )));
    }
    Ok(())
}
