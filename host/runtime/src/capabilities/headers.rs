//! Which request headers a connector may set, and which header names may carry a secret.

use provisioner_contract::HttpError;

/// Headers the host's HTTP client manages (framing and connection handling).
const FRAMING: &[&str] = &[
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
];

/// Standard request headers that describe the request or the client, never a credential.
const STANDARD: &[&str] = &[
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "date",
    "expect",
    "forwarded",
    "from",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "origin",
    "pragma",
    "range",
    "referer",
    "user-agent",
    "via",
];

/// Checks a header name the guest wants to send. Credential, cookie, host, proxy and framing
/// headers are refused: credentials are attached by the host.
pub(crate) fn check_header_name(name: &str) -> Result<(), HttpError> {
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(HttpError::InvalidRequest(format!(
            "invalid header name `{name}`"
        )));
    }
    let lower = name.to_ascii_lowercase();
    if matches!(lower.as_str(), "authorization" | "cookie") {
        return Err(HttpError::Denied(format!(
            "header `{name}` may not be set by a connector; name a credential and the host attaches it"
        )));
    }
    if lower == "host" || lower.starts_with("proxy-") {
        return Err(HttpError::Denied(format!(
            "header `{name}` may not be set by a connector"
        )));
    }
    if FRAMING.contains(&lower.as_str()) {
        return Err(HttpError::InvalidRequest(format!(
            "header `{name}` is managed by the host's HTTP client"
        )));
    }
    Ok(())
}

/// Checks a header name an operator declares as able to carry a secret (`x-api-key`, say).
/// `authorization` is always allowed and need not be declared; framing, content, cookie, host,
/// proxy and standard request headers never carry one.
pub(crate) fn check_credential_header_name(name: &str) -> Result<(), String> {
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("`{name}` is not a valid header name"));
    }
    let lower = name.to_ascii_lowercase();
    let refused = FRAMING.contains(&lower.as_str())
        || STANDARD.contains(&lower.as_str())
        || lower.starts_with("content-")
        || lower.starts_with("proxy-")
        || lower.starts_with("x-forwarded-")
        || matches!(lower.as_str(), "host" | "cookie" | "set-cookie");
    if refused {
        return Err(format!(
            "header `{name}` cannot carry a secret; declare a custom header such as `x-api-key`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_header_names() {
        for ok in ["x-api-key", "X-Auth-Token", "api-key"] {
            assert!(check_credential_header_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "content-type",
            "Content-Length",
            "cookie",
            "host",
            "user-agent",
            "x-forwarded-for",
            "bad name",
        ] {
            assert!(check_credential_header_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn guest_headers() {
        assert!(check_header_name("x-request-id").is_ok());
        assert!(matches!(
            check_header_name("Authorization"),
            Err(HttpError::Denied(_))
        ));
        assert!(matches!(
            check_header_name("transfer-encoding"),
            Err(HttpError::InvalidRequest(_))
        ));
    }
}
