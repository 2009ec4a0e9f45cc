//! Who may use the control API: by default only a caller presenting the emulator's control token
//! (`Authorization: Bearer <token>`), a random value generated at start; in the explicit
//! [`ControlAccess::Open`] mode anyone who can reach the port.
//!
//! The control API hands out the org's credentials (`GET /__emulator__/info`) and access tokens
//! (`POST /__emulator__/tokens`), so it is not left open to every process on the machine.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, StatusCode},
    middleware::Next,
    response::Response,
};
use rand::{distributions::Alphanumeric, Rng};
use serde_json::json;

use crate::response::json_response;

/// Access to the control API.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ControlAccess {
    /// Every control route needs `Authorization: Bearer <control token>`.
    #[default]
    Token,
    /// No token: anyone who can reach the port may use the control API (tests that need it).
    Open,
}

/// A fresh random control token (40 alphanumeric characters).
pub fn generate_token() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(40)
        .map(char::from)
        .collect()
}

/// Middleware: passes requests carrying `Authorization: Bearer <token>`, answers 401 otherwise.
pub async fn require_token(State(token): State<Arc<str>>, req: Request, next: Next) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(given) if same(given.trim().as_bytes(), token.as_bytes()) => next.run(req).await,
        _ => {
            let mut response = json_response(
                StatusCode::UNAUTHORIZED,
                &json!({
                    "error": "unauthorized",
                    "message": "the control API needs `Authorization: Bearer <control token>`; \
                                the emulator prints its control token at start \
                                (`Emulator::control_token` when embedded)",
                }),
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"emulator-control\""),
            );
            response
        }
    }
}

/// Compares without stopping at the first differing byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_compared_exactly() {
        let (a, b) = (generate_token(), generate_token());
        assert_eq!(a.len(), 40);
        assert_ne!(a, b);
        assert!(same(a.as_bytes(), a.as_bytes()));
        assert!(!same(a.as_bytes(), b.as_bytes()));
        assert!(!same(a.as_bytes(), &a.as_bytes()[..39]));
    }
}
