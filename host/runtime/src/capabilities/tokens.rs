//! OAuth access tokens, obtained, cached and attached by the host; never shown to a connector.
//!
//! Tokens are cached per (tenant, target, grant fingerprint); the fingerprint covers the grant
//! type, token URL, client id, user and a digest of the secrets used, so reconfiguring a secret
//! yields a fresh token. Only one token request per key is in flight: concurrent calls wait for it
//! (single flight). `invalidate-token` drops the cached token. The token request itself passes the
//! same egress allow-list as every other request and is reported to the observer as a
//! [`ExchangeKind::Token`] exchange with its secrets redacted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::egress::TargetEgress;
use super::origin::Origin;
use super::secrets::{InjectedHeader, SecretValue, TargetSecrets};
use provisioner_contract::{HttpError, OauthGrant, TokenError};

/// Tokens closer than this to their announced expiry are refreshed before use.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
/// Most characters of an unparsable token response quoted in the error.
const EXCERPT_CHARS: usize = 512;

/// Caches OAuth access tokens for every target of a runtime.
#[derive(Default)]
pub struct TokenManager {
    slots: Mutex<HashMap<TokenKey, Arc<Slot>>>,
    requests: AtomicU64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct TokenKey {
    tenant: String,
    target: String,
    fingerprint: String,
}

#[derive(Default)]
struct Slot {
    /// Held while a token request is in flight (single flight).
    fetch: tokio::sync::Mutex<()>,
    token: Mutex<Option<CachedToken>>,
}

/// A token as cached: the access token, the instance URL some endpoints return, its expiry.
#[derive(Clone, Debug)]
pub(crate) struct CachedToken {
    access_token: SecretValue,
    instance_url: Option<String>,
    expires_at: Option<Instant>,
}

impl CachedToken {
    fn fresh(&self) -> bool {
        self.expires_at
            .is_none_or(|at| Instant::now() + EXPIRY_MARGIN < at)
    }
}

impl TokenManager {
    /// An empty token cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one token request about to be sent.
    pub(crate) fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// How many token requests have been sent (successful or not) since creation.
    pub fn token_requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Drops every cached token of a target (e.g. when it is reconfigured or removed).
    pub fn forget_target(&self, tenant: &str, target: &str) {
        self.slots
            .lock()
            .unwrap()
            .retain(|key, _| !(key.tenant == tenant && key.target == target));
    }

    /// The `instance_url` the token endpoint returned with the current token of any grant of
    /// the target, if any (Salesforce names the org's API host this way).
    pub fn instance_url(&self, tenant: &str, target: &str) -> Option<String> {
        let slots = self.slots.lock().unwrap();
        slots
            .iter()
            .filter(|(key, _)| key.tenant == tenant && key.target == target)
            .find_map(|(_, slot)| slot.token.lock().unwrap().as_ref()?.instance_url.clone())
    }

    fn slot(&self, key: TokenKey) -> Arc<Slot> {
        self.slots.lock().unwrap().entry(key).or_default().clone()
    }

    /// The access token for `grant`: from the cache, or from `fetch` (the token request), run
    /// by one caller at a time per key while the others wait for its result.
    pub(crate) async fn access_token<F, Fut>(
        &self,
        egress: &TargetEgress,
        grant: &OauthGrant,
        fetch: F,
    ) -> Result<SecretValue, HttpError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<CachedToken, HttpError>>,
    {
        let key = key(egress, grant)?;
        let slot = self.slot(key);
        if let Some(token) = slot.token.lock().unwrap().as_ref().filter(|t| t.fresh()) {
            return Ok(token.access_token.clone());
        }
        let _in_flight = slot.fetch.lock().await;
        if let Some(token) = slot.token.lock().unwrap().as_ref().filter(|t| t.fresh()) {
            return Ok(token.access_token.clone());
        }
        let token = fetch().await?;
        let access_token = token.access_token.clone();
        *slot.token.lock().unwrap() = Some(token);
        Ok(access_token)
    }

    /// Implements `invalidate-token`.
    pub(crate) fn invalidate(&self, egress: &TargetEgress, grant: &OauthGrant) {
        let Ok(key) = key(egress, grant) else { return };
        if let Some(slot) = self.slots.lock().unwrap().get(&key) {
            slot.token.lock().unwrap().take();
        }
        tracing::debug!(tenant = %egress.tenant, target = %egress.target, "access token invalidated");
    }

    /// The target's cached tokens, for redaction.
    pub(crate) fn cached_tokens(&self, egress: &TargetEgress) -> Vec<SecretValue> {
        let slots = self.slots.lock().unwrap();
        slots
            .iter()
            .filter(|(key, _)| key.tenant == egress.tenant && key.target == egress.target)
            .filter_map(|(_, slot)| Some(slot.token.lock().unwrap().as_ref()?.access_token.clone()))
            .collect()
    }
}

/// The form body of a token request to `destination` (the token URL's origin), and the Basic
/// header when the grant asks for one. Each secret must be bound to `destination`.
pub(crate) fn token_form(
    secrets: &TargetSecrets,
    grant: &OauthGrant,
    destination: &Origin,
) -> Result<(String, Vec<InjectedHeader>), HttpError> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    let mut injected = Vec::new();
    match grant {
        OauthGrant::ClientCredentials(g) => {
            let secret = secrets.release(&g.client_secret, destination)?;
            form.append_pair("grant_type", "client_credentials");
            if g.use_basic_auth {
                // RFC 6749 2.3.1: both parts form-urlencoded before Basic encoding.
                let enc = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let pair = format!("{}:{}", enc(&g.client_id), enc(secret.expose()));
                injected.push(InjectedHeader {
                    name: "authorization".into(),
                    value: SecretValue::new(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(pair)
                    )),
                });
            } else {
                form.append_pair("client_id", &g.client_id);
                form.append_pair("client_secret", secret.expose());
            }
        }
        OauthGrant::Password(g) => {
            let secret = secrets.release(&g.client_secret, destination)?;
            let password = secrets.release(&g.password, destination)?;
            form.append_pair("grant_type", "password");
            form.append_pair("client_id", &g.client_id);
            form.append_pair("client_secret", secret.expose());
            form.append_pair("username", &g.username);
            form.append_pair("password", password.expose());
        }
        OauthGrant::JwtBearer(g) => {
            secrets.release(&g.private_key, destination)?;
            let assertion = jwt_assertion(secrets, g)?;
            form.append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
            form.append_pair("assertion", assertion.expose());
        }
    }
    Ok((form.finish(), injected))
}

/// The cache key of a grant for one target.
fn key(egress: &TargetEgress, grant: &OauthGrant) -> Result<TokenKey, HttpError> {
    let secrets = &egress.secrets;
    let mut digest = Sha256::new();
    let mut secret = |r: &provisioner_contract::SecretRef| -> Result<(), HttpError> {
        digest.update(r.key.as_bytes());
        digest.update([0]);
        digest.update(secrets.resolve(r)?.expose().as_bytes());
        digest.update([0]);
        Ok(())
    };
    let description = match grant {
        OauthGrant::ClientCredentials(g) => {
            secret(&g.client_secret)?;
            format!(
                "client_credentials|{}|{}|basic={}",
                g.token_url, g.client_id, g.use_basic_auth
            )
        }
        OauthGrant::Password(g) => {
            secret(&g.client_secret)?;
            secret(&g.password)?;
            format!("password|{}|{}|{}", g.token_url, g.client_id, g.username)
        }
        OauthGrant::JwtBearer(g) => {
            secret(&g.private_key)?;
            format!(
                "jwt-bearer|{}|{}|{}|{}",
                g.token_url, g.issuer, g.subject, g.audience
            )
        }
    };
    let secrets_digest = hex::encode(&digest.finalize()[..8]);
    Ok(TokenKey {
        tenant: egress.tenant.clone(),
        target: egress.target.clone(),
        fingerprint: format!("{description}|{secrets_digest}"),
    })
}

/// Signs an RFC 7523 assertion (RS256) with the grant's private key.
fn jwt_assertion(
    secrets: &TargetSecrets,
    grant: &provisioner_contract::JwtBearerGrant,
) -> Result<SecretValue, HttpError> {
    #[derive(serde::Serialize)]
    struct Claims<'a> {
        iss: &'a str,
        sub: &'a str,
        aud: &'a str,
        exp: u64,
        iat: u64,
    }
    let pem = secrets.resolve(&grant.private_key)?;
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.expose().as_bytes()).map_err(|e| {
        HttpError::InvalidRequest(format!(
            "jwt-bearer: secret `{}` is not a PEM-encoded RSA private key: {e}",
            grant.private_key.key
        ))
    })?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let lifetime = u64::from(grant.lifetime_seconds.clamp(1, 86_400));
    let claims = Claims {
        iss: &grant.issuer,
        sub: &grant.subject,
        aud: &grant.audience,
        exp: now + lifetime,
        iat: now,
    };
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &claims, &key)
        .map(SecretValue::new)
        .map_err(|e| HttpError::InvalidRequest(format!("jwt-bearer: signing failed: {e}")))
}

/// Interprets a token endpoint's answer.
/// Everything quoted from the answer is redacted of `redactions` (the target's secrets and the
/// credentials the request carried).
pub(crate) fn parse_token_response(
    status: u16,
    body: &[u8],
    redactions: &[SecretValue],
) -> Result<CachedToken, HttpError> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(|v| v.as_str())
    };
    let redact = |text: &str| super::secrets::redact_str(text, redactions);
    let refused = |error: &str, description: String| {
        HttpError::TokenRefused(TokenError {
            status: Some(status),
            error: redact(error),
            description: redact(&description),
        })
    };
    // Redact before cutting, so a cut cannot leave part of a secret behind.
    let excerpt = || {
        let text = redact(&String::from_utf8_lossy(body));
        let mut excerpt: String = text.chars().take(EXCERPT_CHARS).collect();
        if text.chars().count() > EXCERPT_CHARS {
            excerpt.push('…');
        }
        excerpt
    };
    if (200..300).contains(&status) {
        let Some(access_token) = field("access_token").filter(|t| !t.is_empty()) else {
            return Err(refused(
                "invalid_response",
                format!("token response has no access_token: {}", excerpt()),
            ));
        };
        let expires_in = json
            .as_ref()
            .and_then(|j| j.get("expires_in"))
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()));
        return Ok(CachedToken {
            access_token: SecretValue::new(access_token),
            instance_url: field("instance_url").map(str::to_string),
            expires_at: expires_in.map(|s| Instant::now() + Duration::from_secs(s)),
        });
    }
    match field("error") {
        Some(error) => Err(refused(
            error,
            field("error_description").unwrap_or_default().to_string(),
        )),
        None => Err(refused("invalid_response", excerpt())),
    }
}

/// Replaces the secret fields of a token request's form body, for the observer.
pub(crate) fn redact_form(body: &[u8]) -> Vec<u8> {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(body) {
        let secret = matches!(name.as_ref(), "client_secret" | "password" | "assertion");
        out.append_pair(
            &name,
            if secret {
                super::secrets::REDACTED
            } else {
                &value
            },
        );
    }
    out.finish().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_token_responses() {
        let secrets: Vec<SecretValue> = Vec::new();
        let ok = parse_token_response(
            200,
            br#"{"access_token":"t","instance_url":"https://x"}"#,
            &secrets,
        )
        .unwrap();
        assert_eq!(ok.access_token.expose(), "t");
        assert_eq!(ok.instance_url.as_deref(), Some("https://x"));
        let err = parse_token_response(
            400,
            br#"{"error":"invalid_grant","error_description":"bad"}"#,
            &secrets,
        );
        assert!(
            matches!(err, Err(HttpError::TokenRefused(TokenError { status: Some(400), ref error, .. })) if error == "invalid_grant")
        );
        let err = parse_token_response(200, b"<html>", &secrets);
        assert!(
            matches!(err, Err(HttpError::TokenRefused(TokenError { ref error, ref description, .. })) if error == "invalid_response" && description.contains("<html>"))
        );
    }

    #[test]
    fn token_error_excerpt_hides_the_basic_blob_it_was_sent() {
        let injected = [InjectedHeader {
            name: "authorization".into(),
            value: SecretValue::new("Basic Y2xpZW50OnNlY3JldC12YWx1ZQ=="),
        }];
        let redactions = super::super::secrets::credential_forms(&injected);
        let err = parse_token_response(
            502,
            b"upstream said: got Y2xpZW50OnNlY3JldC12YWx1ZQ== from you",
            &redactions,
        );
        let Err(HttpError::TokenRefused(TokenError { description, .. })) = err else {
            panic!("{err:?}")
        };
        assert!(!description.contains("Y2xpZW50"), "{description}");
        assert!(description.contains("[REDACTED]"), "{description}");
    }

    #[test]
    fn form_redaction_hides_secret_fields() {
        let out = redact_form(
            b"grant_type=password&client_id=c&client_secret=s&password=p%26q&username=u",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "grant_type=password&client_id=c&client_secret=%5BREDACTED%5D&password=%5BREDACTED%5D&username=u"
        );
    }
}
