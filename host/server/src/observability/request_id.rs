//! Request ids: every request gets one, the client's `X-Request-Id` when it is a sane token,
//! else a generated one. The id is echoed in the response's `X-Request-Id`, recorded on the
//! request's tracing span (so every log line of the request carries it), available to handlers
//! as a [`RequestId`] extension, and stored on every job a change of the request queues (see
//! [`provisioner_engine::observe`]), so attempts and dispatcher log lines join to the request.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use provisioner_engine::observe;

/// The header that carries a request id, in and out.
pub static HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-given id that is kept; a longer one is replaced by a generated id.
pub const MAX_LEN: usize = 64;

/// The id of the request being served (a request extension).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Whether a client-given id is kept: 1 to [`MAX_LEN`] characters, each an ASCII letter,
/// digit or one of `-`, `_`, `.`, `:`, `/`, `+`, `=` (what UUIDs, trace ids and base64 ids use;
/// nothing that could break a log line or a header).
pub fn is_sane(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

/// A fresh id: 128 random bits in hex.
pub fn generate() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// The middleware: assigns the id, runs the request inside its span and scope, echoes the id
/// and logs the request's end (at `info`, with status and duration; never the query string,
/// which may hold user names).
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(&HEADER)
        .and_then(|value| value.to_str().ok())
        .filter(|value| is_sane(value))
        .map_or_else(generate, str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id,
        method = %request.method(), path = %request.uri().path());
    let started = Instant::now();
    let mut response = observe::with_request_id(id.clone(), next.run(request))
        .instrument(span.clone())
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER.clone(), value);
    }
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            duration_ms = started.elapsed().as_millis() as u64,
            "request served"
        );
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sane_ids_are_short_plain_tokens() {
        assert!(is_sane("abc"));
        assert!(is_sane("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(is_sane(&"a".repeat(MAX_LEN)));
        assert!(!is_sane(""));
        assert!(!is_sane(&"a".repeat(MAX_LEN + 1)));
        assert!(!is_sane("a b"));
        assert!(!is_sane("a\"b"));
        assert!(!is_sane("é"));
    }

    #[test]
    fn generated_ids_are_sane_and_differ() {
        let (a, b) = (generate(), generate());
        assert!(is_sane(&a) && a.len() == 32);
        assert_ne!(a, b);
    }
}
