//! The JWT bearer grant (`urn:ietf:params:oauth:grant-type:jwt-bearer`, RFC 7523): RS256
//! verification of the `assertion` against the connected app's configured public key, then the
//! `iss`, `aud`, `exp` and `sub` checks, each answered with Salesforce's error.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::config::EmulatorConfig;
use crate::response::OAuthError;
use crate::time::now_ms;

/// The `grant_type` of the JWT bearer flow.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How far in the past `exp` may lie (clock skew), in seconds.
pub const EXP_LEEWAY_SECS: u64 = 180;

/// Checks that a PEM public key can verify RS256 signatures.
pub fn parse_public_key(pem: &str) -> Result<DecodingKey, String> {
    DecodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|e| format!("jwt_public_key_pem is not a PEM-encoded RSA public key: {e}"))
}

/// Verifies an assertion; on success returns the username it authenticates (`sub`, or the
/// legacy `prn`).
///
/// Checks, in order: the assertion parses (else invalid_grant "invalid assertion"); `iss` is the
/// consumer key (else invalid_client_id); the RS256 signature verifies against
/// [`EmulatorConfig::jwt_public_key_pem`] (else "invalid assertion"; also when no key is
/// configured); `aud` is accepted (else "Audience validation failed"); `exp` is no more than
/// [`EXP_LEEWAY_SECS`] in the past (else "expired authorization code"); the user is approved
/// (else "user hasn't approved this consumer").
pub fn verify_assertion(
    config: &EmulatorConfig,
    base_url: &str,
    assertion: Option<&str>,
) -> Result<String, OAuthError> {
    let assertion = assertion.ok_or(OAuthError::INVALID_ASSERTION)?;
    let unverified = jsonwebtoken::dangerous::insecure_decode::<Map<String, Value>>(assertion)
        .map_err(|_| OAuthError::INVALID_ASSERTION)?;
    if unverified.claims.get("iss").and_then(Value::as_str) != Some(config.client_id.as_str()) {
        return Err(OAuthError::INVALID_CLIENT_ID);
    }
    let pem = config
        .jwt_public_key_pem
        .as_deref()
        .ok_or(OAuthError::INVALID_ASSERTION)?;
    let key = parse_public_key(pem).map_err(|_| OAuthError::INVALID_ASSERTION)?;
    // Only the signature (and the RS256 header) is checked here; the claims are checked below
    // so that each failure gets its own answer.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Map<String, Value>>(assertion, &key, &validation)
        .map_err(|_| OAuthError::INVALID_ASSERTION)?
        .claims;

    if !audience_ok(config, base_url, claims.get("aud")) {
        return Err(OAuthError::AUDIENCE_VALIDATION_FAILED);
    }
    let now_secs = now_ms() / 1000;
    let exp = claims.get("exp").and_then(|v| {
        v.as_u64()
            .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    });
    match exp {
        Some(exp) if exp.saturating_add(EXP_LEEWAY_SECS) > now_secs => {}
        _ => return Err(OAuthError::EXPIRED_AUTHORIZATION_CODE),
    }
    let subject = claims
        .get("sub")
        .or_else(|| claims.get("prn"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let approved = config
        .jwt_approved_users
        .iter()
        .any(|u| u.eq_ignore_ascii_case(subject));
    if subject.is_empty() || !approved {
        return Err(OAuthError::USER_NOT_APPROVED);
    }
    Ok(subject.to_string())
}

/// Whether `aud` (a string, or an array of which one entry must match) names an accepted
/// audience: one of [`EmulatorConfig::jwt_audiences`] or the emulator's own base URL. A trailing
/// slash is ignored.
fn audience_ok(config: &EmulatorConfig, base_url: &str, aud: Option<&Value>) -> bool {
    let norm = |s: &str| s.trim_end_matches('/').to_ascii_lowercase();
    let accepted = |a: &str| {
        let a = norm(a);
        a == norm(base_url) || config.jwt_audiences.iter().any(|x| norm(x) == a)
    };
    match aud {
        Some(Value::String(a)) => accepted(a),
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).any(accepted),
        _ => false,
    }
}
