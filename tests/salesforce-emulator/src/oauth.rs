//! The OAuth 2.0 token endpoint: password, client-credentials and JWT bearer ([`crate::jwt`])
//! grants with Salesforce's response shape, signature and error answers.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode, Uri},
    response::{IntoResponse, Response},
};
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use crate::faults::{CallInfo, Operation};
use crate::ids;
use crate::injection::run_with_fault;
use crate::jwt::{verify_assertion, JWT_BEARER_GRANT};
use crate::response::{json_response, OAuthError};
use crate::state::{AppState, Org};
use crate::time::now_ms;

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/services/oauth2/token";

/// Computes the token `signature`: base64 of HMAC-SHA256 keyed by the client secret over `id` + `issued_at`.
pub fn signature(client_secret: &str, id: &str, issued_at: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(id.as_bytes());
    mac.update(issued_at.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn collect_params(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> HashMap<String, String> {
    let mut params: HashMap<String, String> = HashMap::new();
    if let Some(q) = uri.query() {
        params.extend(url::form_urlencoded::parse(q.as_bytes()).into_owned());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded")
        || (content_type.is_empty() && !body.starts_with(b"{"));
    if is_form {
        params.extend(url::form_urlencoded::parse(body).into_owned());
    }
    params
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((decode(id), decode(secret)))
}

/// `POST /services/oauth2/token`.
pub async fn token_endpoint(
    State(app): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = collect_params(&uri, &headers, &body);
    let grant = params
        .get("grant_type")
        .cloned()
        .unwrap_or_else(|| "(missing)".into());
    let fault = {
        let mut org = app.org();
        let fault = org.faults.check(CallInfo {
            operation: Operation::Token,
            deactivation: false,
        });
        if fault.is_some() {
            org.counters.faults_fired += 1;
            org.counters.token(&grant, "fault");
        }
        fault
    };
    let run = async {
        let mut org = app.org();
        let outcome = grant_token(&mut org, &app.base_url, &params, &headers);
        let label = match &outcome {
            Ok(_) => "success",
            Err(e) => e.error,
        };
        org.counters.token(&grant, label);
        match outcome {
            Ok(resp) => resp,
            Err(e) => e.into_response(),
        }
    };
    run_with_fault(&app, fault, None, run).await
}

fn grant_token(
    org: &mut Org,
    base_url: &str,
    params: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<Response, OAuthError> {
    let grant = params.get("grant_type").map(String::as_str).unwrap_or("");
    if grant == JWT_BEARER_GRANT {
        let subject = verify_assertion(
            &org.config,
            base_url,
            params.get("assertion").map(String::as_str),
        )?;
        let user_id = if subject.eq_ignore_ascii_case(&org.config.username) {
            Some(org.directory.integration_user_id.clone())
        } else {
            org.directory
                .users()
                .iter()
                .find(|u| u.username().eq_ignore_ascii_case(&subject))
                .map(|u| u.id.clone())
        };
        let Some(user_id) = user_id else {
            return Err(OAuthError::AUTHENTICATION_FAILURE);
        };
        return issue(org, base_url, user_id, Some("id api"));
    }
    if grant != "password" && grant != "client_credentials" {
        return Err(OAuthError::UNSUPPORTED_GRANT_TYPE);
    }
    let basic = basic_credentials(headers);
    let client_id = params
        .get("client_id")
        .cloned()
        .or_else(|| basic.as_ref().map(|b| b.0.clone()));
    let client_secret = params
        .get("client_secret")
        .cloned()
        .or_else(|| basic.as_ref().map(|b| b.1.clone()));
    if client_id.as_deref() != Some(org.config.client_id.as_str()) {
        return Err(OAuthError::INVALID_CLIENT_ID);
    }
    if client_secret.as_deref() != Some(org.config.client_secret.as_str()) {
        return Err(OAuthError::INVALID_CLIENT);
    }
    let scope = if grant == "password" {
        if org.config.password_flow_blocked {
            return Err(OAuthError::AUTHENTICATION_FAILURE);
        }
        let username_ok = params
            .get("username")
            .is_some_and(|u| u.eq_ignore_ascii_case(&org.config.username));
        let password_ok = params.get("password").map(String::as_str)
            == Some(org.config.expected_password().as_str());
        if !username_ok || !password_ok {
            return Err(OAuthError::AUTHENTICATION_FAILURE);
        }
        None
    } else {
        if org.config.login_host {
            return Err(OAuthError::NOT_SUPPORTED_ON_DOMAIN);
        }
        Some("id api")
    };
    let user_id = org.directory.integration_user_id.clone();
    issue(org, base_url, user_id, scope)
}

/// Issues a session for `user_id` and renders the §1.3 token response; an inactive (or
/// missing) user record answers invalid_grant "authentication failure".
fn issue(
    org: &mut Org,
    base_url: &str,
    user_id: String,
    scope: Option<&str>,
) -> Result<Response, OAuthError> {
    let is_integration = user_id == org.directory.integration_user_id;
    if (org.config.seed_integration_user || !is_integration)
        && org.directory.get(&user_id).is_none_or(|u| !u.is_active())
    {
        return Err(OAuthError::AUTHENTICATION_FAILURE);
    }
    let org15 = org.config.org_id.clone();
    let Org { sessions, rng, .. } = org;
    let access_token = sessions.issue(&org15, &user_id, rng);
    let org18 = ids::to18(&org15).unwrap_or(org15);
    let id = format!("{base_url}/id/{org18}/{user_id}");
    let issued_at = now_ms().to_string();
    let mut body = json!({
        "access_token": access_token,
        "instance_url": base_url,
        "id": id,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature(&org.config.client_secret, &id, &issued_at),
    });
    if let Some(scope) = scope {
        body["scope"] = json!(scope);
    }
    let mut resp = json_response(StatusCode::OK, &body);
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache,must-revalidate,max-age=0,no-store,private"),
    );
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_base64() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog")
        let sig = signature("key", "The quick brown fox ", "jumps over the lazy dog");
        assert_eq!(sig, "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=");
    }
}
